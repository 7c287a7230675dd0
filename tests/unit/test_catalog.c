/* SPDX-License-Identifier: MIT */
/* test_catalog.c - dedupe, newest-N, updated, slugs; spilled or not, the same */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "config.h"

static struct sf_config *
config(unsigned max_items)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "site: {title: T, base_url: 'https://example.org/'}\n"
             "inputs: [{path: in}]\noutput: {max_items: %u}\n"
             "feeds: [{category: 教育, slug: edu, title: 教育新闻}, {category: tech, slug: x}]\n",
             max_items);
    struct sf_errors errs = {0};
    struct sf_config *c = config_load_buffer(yaml, strlen(yaml), "feeds.yaml", &errs);
    assert_non_null(c);
    errors_finish(&errs);
    return c;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A deterministic stream of entries: articles captured one to four times,
 * some re-captures changing content, category or publication time, many
 * publication-time ties. */
static size_t
entries(struct sf_entry **out, char ***strings)
{
    static const char *const cats[] = {"教育", "tech", "财经", "../../etc", "a/b", "Tech News"};
    size_t n = 0, cap = 0;
    char **strs = NULL;
    size_t n_strs = 0;
    uint32_t seq = 0;
    for (int article = 0; article < 3000; article++) {
        int captures = 1 + (int)(next() % 4);
        int64_t published = 1600000000 + (int64_t)(next() % 500) * 3600;   /* ties */
        uint64_t content = next();
        const char *cat = cats[next() % 6];
        char id[64];
        snprintf(id, sizeof id, "tag:example.org,2020-01-01:%016llx",
                 (unsigned long long)(article * 2654435761u));
        for (int k = 0; k < captures; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                *out = realloc(*out, cap * sizeof **out);
            }
            if (k && next() % 3 == 0)
                content = next();
            if (k && next() % 10 == 0)
                cat = cats[next() % 6];
            if (k && next() % 10 == 0)
                published += 60;
            char path[64];
            snprintf(path, sizeof path, "in/%05u.txt", seq);
            strs = realloc(strs, (n_strs + 2) * sizeof *strs);
            strs[n_strs++] = strdup(id);
            strs[n_strs++] = strdup(path);
            (*out)[n++] = (struct sf_entry){
                .idhash = hash_fnv1a(SF_FNV_OFFSET, id, strlen(id)),
                .content = content,
                .captured_at = {published + 3600 * (k + 1) + (int64_t)(next() % 50), 28800,
                                next() % 20 != 0},
                .published = {published, 28800, true},
                .seq = seq++,
                .id = strs[n_strs - 2],
                .category = cat,
                .path = strs[n_strs - 1],
            };
        }
    }
    *strings = strs;
    return n;
}

/* The selection as text, to compare two catalogs exactly. */
static char *
describe(struct sf_catalog *cat)
{
    const struct sf_feed_sel *feeds;
    size_t n;
    struct sf_error err = {0};
    assert_true(catalog_select(cat, &feeds, &n, &err));
    struct sf_buf b;
    buf_init(&b, 0);
    for (size_t f = 0; f < n; f++) {
        buf_printf(&b, "%s|%s|%s|%zu\n", feeds[f].slug, feeds[f].title,
                   feeds[f].category ? feeds[f].category : "-", feeds[f].n_items);
        for (size_t i = 0; i < feeds[f].n_items; i++) {
            const struct sf_item_ref *it = &feeds[f].items[i];
            buf_printf(&b, " %s %s %lld %lld %s %u\n", it->entry->id, it->entry->path,
                       (long long)it->entry->published.t, (long long)it->updated.t, it->slug,
                       it->entry->seq);
        }
    }
    return buf_steal(&b, NULL);
}

static void
test_spilled_equals_in_memory(void **state)
{
    struct sf_entry *v = NULL;
    char **strs = NULL;
    size_t n = entries(&v, &strs);
    struct sf_config *c = config(20);
    struct sf_catalog *mem = catalog_new(c, "/tmp"), *spilled = catalog_new(c, "/tmp");
    catalog_set_batch_limit(spilled, 256 * 1024);   /* a spill every few hundred entries */
    /* the spilled one also sees the entries in another order */
    for (size_t i = 0; i < n; i++) {
        assert_true(catalog_add(mem, &v[i]));
        assert_true(catalog_add(spilled, &v[(i * 7919) % n]));
    }
    assert_int_equal(catalog_count(spilled), n);
    assert_true(n > 5000);
    char *a = describe(mem), *b = describe(spilled);
    assert_string_equal(a, b);
    /* the configured feeds come right after "all", with their slugs */
    assert_int_equal(strncmp(a, "all|T|-|20\n", 11), 0);
    assert_non_null(strstr(a, "\nedu|教育新闻|教育|20\n"));
    free(a);
    free(b);
    catalog_free(mem);
    catalog_free(spilled);
    for (size_t i = 0; i < 2 * n; i++)
        free(strs[i]);
    free(strs);
    free(v);
    config_free(c);
}

/* The rules, on a few hand-made captures. */
static void
test_rules(void **state)
{
    struct sf_config *c = config(2);
    struct sf_catalog *cat = catalog_new(c, NULL);
    struct sf_entry e[] = {
        /* A: captured twice, content changed at the second capture */
        {.idhash = 1, .content = 10, .captured_at = {2000, 0, true}, .published = {1000, 0, true},
         .seq = 1, .id = "A", .category = "教育", .path = "a1"},
        {.idhash = 1, .content = 11, .captured_at = {3000, 0, true}, .published = {1000, 0, true},
         .seq = 2, .id = "A", .category = "教育", .path = "a2"},
        /* B: captured twice, content unchanged: updated stays published */
        {.idhash = 2, .content = 20, .captured_at = {2000, 0, true}, .published = {1500, 0, true},
         .seq = 3, .id = "B", .category = "教育", .path = "b1"},
        {.idhash = 2, .content = 20, .captured_at = {4000, 0, true}, .published = {1500, 0, true},
         .seq = 4, .id = "B", .category = "教育", .path = "b2"},
        /* C: same instant as B; id order breaks the tie; pushes A out */
        {.idhash = 3, .content = 30, .captured_at = {2000, 0, true}, .published = {1500, 0, true},
         .seq = 5, .id = "C", .category = "教育", .path = "c"},
        /* D: newest capture moved it to another category */
        {.idhash = 4, .content = 40, .captured_at = {2000, 0, true}, .published = {900, 0, true},
         .seq = 6, .id = "D", .category = "教育", .path = "d1"},
        {.idhash = 4, .content = 41, .captured_at = {2500, 0, true}, .published = {900, 0, true},
         .seq = 7, .id = "D", .category = "tech", .path = "d2"},
        /* E: two captures at one time: the later file wins */
        {.idhash = 5, .content = 50, .captured_at = {2000, 0, true}, .published = {800, 0, true},
         .seq = 8, .id = "E", .category = "tech", .path = "e1"},
        {.idhash = 5, .content = 51, .captured_at = {2000, 0, true}, .published = {800, 0, true},
         .seq = 9, .id = "E", .category = "tech", .path = "e2"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        assert_true(catalog_add(cat, &e[i]));
    char *d = describe(cat);
    assert_string_equal(d, "all|T|-|2\n"
                           " B b2 1500 1500 edu 4\n"
                           " C c 1500 1500 edu 5\n"
                           "edu|教育新闻|教育|2\n"
                           " B b2 1500 1500 edu 4\n"
                           " C c 1500 1500 edu 5\n"
                           "x|tech - T|tech|2\n"
                           " D d2 900 2500 x 7\n"
                           " E e2 800 2000 x 9\n");
    free(d);
    catalog_free(cat);
    config_free(c);
}

/* SF_ENTRY_MIN_LEN bounds entry counts read from the manifest: it must be
 * what the shortest entry encodes to, and decode back from. */
static void
test_entry_min_len(void **state)
{
    (void)state;
    struct sf_entry e = {.idhash = 1, .id = "", .category = ""};
    struct sf_buf b;
    buf_init(&b, 0);
    catalog_entry_encode(&b, &e);
    assert_int_equal(b.len, SF_ENTRY_MIN_LEN);
    struct sf_buf strings;
    buf_init(&strings, 0);
    struct sf_cursor c = {(unsigned char *)b.data, (unsigned char *)b.data + b.len, false};
    struct sf_entry back;
    catalog_entry_decode(&c, &strings, &back);
    assert_false(c.bad);
    assert_ptr_equal(c.p, c.end);
    c = (struct sf_cursor){(unsigned char *)b.data, (unsigned char *)b.data + b.len - 1, false};
    catalog_entry_decode(&c, &strings, &back);
    assert_true(c.bad);
    buf_finish(&strings);
    buf_finish(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_spilled_equals_in_memory),
        cmocka_unit_test(test_entry_min_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
