/* SPDX-License-Identifier: MIT */
/* catalog.c - dedupe by id, categories and slugs, newest-N per feed */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "slug.h"
#include "util.h"

/* Strings live in chunks that never move. */
struct pool_chunk {
    struct pool_chunk *next;
    size_t used, size;
    char data[];
};

struct category {
    char *name;
    char *slug;
    char *title;
    char *description;
    int conf_index;             /* position in feeds.yaml, -1 when not listed */
    struct sf_item_ref *heap;   /* the newest items so far; the worst on top */
    size_t n;
};

struct sf_catalog {
    const struct sf_config *config;
    struct sf_entry *entries;
    size_t n, cap;
    struct pool_chunk *pool;
    struct category *cats;
    size_t n_cats, cap_cats;
    size_t *cat_index;          /* open-addressing table of category indexes + 1 */
    size_t index_cap;
    struct category all;
    struct sf_feed_sel *feeds;
    size_t n_feeds;
};

static const char *
pool_dup(struct sf_catalog *cat, const char *s)
{
    size_t n = strlen(s) + 1;
    struct pool_chunk *c = cat->pool;
    if (!c || c->size - c->used < n) {
        size_t size = n > 65536 ? n : 65536;
        c = xmalloc(sizeof *c + size);
        c->next = cat->pool;
        c->used = 0;
        c->size = size;
        cat->pool = c;
    }
    char *d = c->data + c->used;
    memcpy(d, s, n);
    c->used += n;
    return d;
}

struct sf_catalog *
catalog_new(const struct sf_config *c)
{
    struct sf_catalog *cat = xcalloc(1, sizeof *cat);
    cat->config = c;
    cat->index_cap = 64;
    cat->cat_index = xcalloc(cat->index_cap, sizeof *cat->cat_index);
    return cat;
}

static void
category_finish(struct category *c)
{
    free(c->name);
    free(c->slug);
    free(c->title);
    free(c->description);
    free(c->heap);
}

void
catalog_free(struct sf_catalog *cat)
{
    if (!cat)
        return;
    free(cat->entries);
    for (struct pool_chunk *c = cat->pool, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    for (size_t i = 0; i < cat->n_cats; i++)
        category_finish(&cat->cats[i]);
    free(cat->cats);
    free(cat->cat_index);
    category_finish(&cat->all);
    free(cat->feeds);
    free(cat);
}

static uint64_t
str_hash(const char *s)
{
    return hash_fnv1a(SF_FNV_OFFSET, s, strlen(s));
}

/* The index of category name, added when missing; SIZE_MAX when full. */
static size_t
category_of(struct sf_catalog *cat, const char *name)
{
    size_t mask = cat->index_cap - 1, i = (size_t)str_hash(name) & mask;
    while (cat->cat_index[i]) {
        size_t k = cat->cat_index[i] - 1;
        if (strcmp(cat->cats[k].name, name) == 0)
            return k;
        i = (i + 1) & mask;
    }
    if (cat->n_cats >= SF_MAX_FEEDS)
        return SIZE_MAX;
    if (cat->n_cats == cat->cap_cats) {
        cat->cap_cats = cat->cap_cats ? cat->cap_cats * 2 : 16;
        cat->cats = xreallocarray(cat->cats, cat->cap_cats, sizeof *cat->cats);
    }
    size_t k = cat->n_cats++;
    cat->cats[k] = (struct category){.name = xstrdup(name), .conf_index = -1};
    cat->cat_index[i] = k + 1;
    if (cat->n_cats * 2 > cat->index_cap) {
        /* grow and rehash */
        size_t cap = cat->index_cap * 2;
        size_t *idx = xcalloc(cap, sizeof *idx);
        for (size_t j = 0; j < cat->n_cats; j++) {
            size_t p = (size_t)str_hash(cat->cats[j].name) & (cap - 1);
            while (idx[p])
                p = (p + 1) & (cap - 1);
            idx[p] = j + 1;
        }
        free(cat->cat_index);
        cat->cat_index = idx;
        cat->index_cap = cap;
    }
    return k;
}

bool
catalog_add(struct sf_catalog *cat, const struct sf_entry *e)
{
    if (category_of(cat, e->category) == SIZE_MAX)
        return false;
    if (cat->n == cat->cap) {
        cat->cap = cat->cap ? cat->cap * 2 : 1024;
        cat->entries = xreallocarray(cat->entries, cat->cap, sizeof *cat->entries);
    }
    struct sf_entry *d = &cat->entries[cat->n++];
    *d = *e;
    d->id = pool_dup(cat, e->id);
    d->category = cat->cats[category_of(cat, e->category)].name;
    d->path = pool_dup(cat, e->path);
    return true;
}

size_t
catalog_count(const struct sf_catalog *cat)
{
    return cat->n;
}

/* Captures of one article together, oldest capture first. */
static int
cmp_capture(const void *pa, const void *pb)
{
    const struct sf_entry *a = pa, *b = pb;
    if (a->idhash != b->idhash)
        return a->idhash < b->idhash ? -1 : 1;
    int c = strcmp(a->id, b->id);   /* two ids, one hash: still two articles */
    if (c)
        return c;
    /* an unknown capture time counts as the oldest */
    int64_t ta = a->captured_at.set ? a->captured_at.t : INT64_MIN;
    int64_t tb = b->captured_at.set ? b->captured_at.t : INT64_MIN;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Feed order: newer first; same instant, smaller id first.  Returns true
 * when a goes before b. */
static bool
newer(const struct sf_item_ref *a, const struct sf_item_ref *b)
{
    if (a->entry->published.t != b->entry->published.t)
        return a->entry->published.t > b->entry->published.t;
    return strcmp(a->entry->id, b->entry->id) < 0;
}

/* A bounded heap of the max newest items; the root is the one to drop next. */
static void
heap_push(struct category *c, size_t max, const struct sf_item_ref *it)
{
    struct sf_item_ref *h = c->heap;
    if (c->n == max) {
        if (!newer(it, &h[0]))
            return;
        /* replace the root and sift it down */
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, w = i;
            const struct sf_item_ref *wv = it;
            if (l < c->n && newer(wv, &h[l])) {
                w = l;
                wv = &h[l];
            }
            if (r < c->n && newer(wv, &h[r]))
                w = r;
            if (w == i)
                break;
            h[i] = h[w];
            i = w;
        }
        h[i] = *it;
        return;
    }
    if (!h)
        c->heap = h = xreallocarray(NULL, max, sizeof *h);
    size_t i = c->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!newer(&h[p], it))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = *it;
}

static int
cmp_items(const void *pa, const void *pb)
{
    const struct sf_item_ref *a = pa, *b = pb;
    return newer(a, b) ? -1 : newer(b, a) ? 1 : 0;
}

static int
cmp_category_order(const void *pa, const void *pb)
{
    const struct category *a = *(struct category *const *)pa, *b = *(struct category *const *)pb;
    if ((a->conf_index >= 0) != (b->conf_index >= 0))
        return a->conf_index >= 0 ? -1 : 1;
    if (a->conf_index >= 0)
        return a->conf_index - b->conf_index;
    return strcmp(a->name, b->name);
}

/* Slugs: the configured one, else derived; a derived one that collides
 * with a slug already taken gets the wide hash form. */
static void
assign_slugs(struct sf_catalog *cat, struct category **order, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct category *c = order[i];
        const struct sf_feed_conf *fc = config_feed(cat->config, c->name);
        if (fc && fc->slug)
            c->slug = xstrdup(fc->slug);
    }
    for (size_t i = 0; i < n; i++) {
        struct category *c = order[i];
        if (c->slug)
            continue;
        for (int wide = 0; wide < 2 && !c->slug; wide++) {
            char *s = slug_derive(c->name, wide);
            bool taken = strcmp(s, "all") == 0;
            for (size_t j = 0; j < n && !taken; j++)
                taken = order[j] != c && order[j]->slug && strcmp(order[j]->slug, s) == 0;
            if (taken)
                free(s);
            else
                c->slug = s;
        }
    }
}

size_t
catalog_select(struct sf_catalog *cat, const struct sf_feed_sel **feeds)
{
    const struct sf_config *cfg = cat->config;
    size_t max = cfg->output.max_items;
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        size_t k = cfg->feeds[i].category ? category_of(cat, cfg->feeds[i].category) : SIZE_MAX;
        if (k != SIZE_MAX)
            cat->cats[k].conf_index = (int)i;
    }

    qsort(cat->entries, cat->n, sizeof *cat->entries, cmp_capture);
    for (size_t i = 0; i < cat->n;) {
        size_t j = i + 1;
        while (j < cat->n && cat->entries[j].idhash == cat->entries[i].idhash &&
               strcmp(cat->entries[j].id, cat->entries[i].id) == 0)
            j++;
        /* entries[i..j) are one article's captures, oldest first */
        const struct sf_entry *win = &cat->entries[j - 1];
        struct sf_time updated = win->published;
        for (size_t k = i + 1; k < j; k++) {
            const struct sf_time *c = &cat->entries[k].captured_at;
            if (cat->entries[k].content != cat->entries[k - 1].content && c->set &&
                c->t > win->published.t)
                updated = *c;
        }
        struct sf_item_ref it = {.entry = win, .updated = updated};
        heap_push(&cat->cats[category_of(cat, win->category)], max, &it);
        heap_push(&cat->all, max, &it);
        i = j;
    }

    struct category **order = xcalloc(cat->n_cats + 1, sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < cat->n_cats; i++)
        if (cat->cats[i].n)
            order[n++] = &cat->cats[i];
    qsort(order, n, sizeof *order, cmp_category_order);
    assign_slugs(cat, order, n);

    cat->feeds = xcalloc(n + 1, sizeof *cat->feeds);
    if (cat->all.n) {
        cat->all.slug = xstrdup("all");
        cat->all.title = xstrdup(cfg->site.title);
        cat->all.description = xstrdup(cfg->site.description);
        order[n++] = &cat->all;
        /* "all" goes first */
        memmove(order + 1, order, (n - 1) * sizeof *order);
        order[0] = &cat->all;
    }
    for (size_t i = 0; i < n; i++) {
        struct category *c = order[i];
        if (c != &cat->all) {
            const struct sf_feed_conf *fc = config_feed(cfg, c->name);
            c->title = fc && fc->title ? xstrdup(fc->title)
                                       : xasprintf("%s - %s", c->name, cfg->site.title);
            c->description = fc && fc->description
                                 ? xstrdup(fc->description)
                                 : xasprintf("%s: %s", cfg->site.title, c->name);
        }
        if (!c->slug)
            continue;   /* no slug could be made distinct: not written */
        qsort(c->heap, c->n, sizeof *c->heap, cmp_items);
        cat->feeds[cat->n_feeds++] = (struct sf_feed_sel){
            .slug = c->slug,
            .title = c->title,
            .description = c->description,
            .category = c == &cat->all ? NULL : c->name,
            .items = c->heap,
            .n_items = c->n,
        };
    }
    free(order);
    /* Each item learns its category's slug (the "all" feed links across). */
    for (size_t f = 0; f < cat->n_feeds; f++)
        for (size_t i = 0; i < cat->feeds[f].n_items; i++) {
            struct sf_item_ref *it = &cat->feeds[f].items[i];
            it->slug = catalog_slug(cat, it->entry->category);
        }
    *feeds = cat->feeds;
    return cat->n_feeds;
}

const char *
catalog_slug(const struct sf_catalog *cat, const char *name)
{
    size_t mask = cat->index_cap - 1, i = (size_t)str_hash(name) & mask;
    while (cat->cat_index[i]) {
        size_t k = cat->cat_index[i] - 1;
        if (strcmp(cat->cats[k].name, name) == 0)
            return cat->cats[k].slug;
        i = (i + 1) & mask;
    }
    return NULL;
}
