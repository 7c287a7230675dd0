/* SPDX-License-Identifier: MIT */
/* test_ingest.c - JSON Lines streamed from files: lines, offsets, re-reads */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "ingest.h"
#include "limits.h"

static struct sf_zone zone;
static struct sf_config *config;
static char dir[] = "/tmp/test_ingest.XXXXXX";

/* What a read handed on. */
struct got {
    struct sf_record *recs[64];
    size_t n;
    char problems[16][160];
    size_t n_problems;
};

static void
got_record(void *ctx, struct sf_record *r)
{
    struct got *g = ctx;
    if (g->n < 64)
        g->recs[g->n++] = r;
    else
        record_free(r);
}

static void
got_problem(void *ctx, const struct sf_error *e, bool warning)
{
    struct got *g = ctx;
    if (warning || g->n_problems == 16)
        return;
    char *s = error_format(e);
    snprintf(g->problems[g->n_problems++], sizeof g->problems[0], "%s", s);
    free(s);
}

static void
got_finish(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        record_free(g->recs[i]);
    *g = (struct got){0};
}

static int
setup(void **state)
{
    if (!when_zone_init(&zone, "Asia/Shanghai") || !mkdtemp(dir))
        return -1;
    config = config_default();
    return 0;
}

static int
teardown(void **state)
{
    config_free(config);
    rmdir(dir);
    return 0;
}

static char *
write_file(const char *name, const char *data, size_t len)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

#define REC(t) "{\"title\":\"" t "\",\"category\":\"c\",\"published\":\"2024-01-02 03:04\"}"

/* Lines, blank lines, CRLF, a BOM, bad lines, GB18030, no final newline:
 * each record knows its line and byte offset, and can be read again
 * alone from them. */
static void
test_lines_and_offsets(void **state)
{
    static const char data[] =
        "\xef\xbb\xbf" REC("一") "\n"       /* line 1, after a BOM */
        "\n"                                /* 2: blank, skipped */
        "   \t\r\n"                         /* 3: blank with CR */
        REC("二") "\r\n"                    /* 4: CRLF */
        "{\"title\":2}\n"                   /* 5: wrong type */
        "not json\n"                        /* 6 */
        "{\"title\":\"\xc8\xfd\",\"category\":\"c\",\"published\":\"2024-01-02\"}\n" /* 7: GB18030 三 */
        "{\"title\":\"\xff\xff\"}\n"        /* 8: neither */
        REC("四");                          /* 9: no newline at the end */
    char *path = write_file("a.jsonl", data, sizeof data - 1);
    struct sf_input in = {.format = SF_INPUT_JSONL, .encoding = SF_ENC_AUTO, .category = (char *)"未分类"};
    struct sf_ingest_reader *r = ingest_reader_new(config, &zone, false);
    struct got g = {0};
    struct sf_ingest_cb cb = {&g, got_record, got_problem};

    assert_int_equal(ingest_file(r, &in, AT_FDCWD, path, path, NULL, &cb), 4);
    static const struct {
        const char *title;
        unsigned line;
    } want[] = {{"一", 1}, {"二", 4}, {"三", 7}, {"四", 9}};
    assert_int_equal(g.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(g.recs[i]->title, want[i].title);
        assert_int_equal(g.recs[i]->line, want[i].line);
        assert_string_equal(g.recs[i]->file, path);
    }
    assert_int_equal(g.recs[0]->offset, 0);
    assert_int_equal(g.recs[1]->offset, strstr(data, REC("二")) - data);
    assert_int_equal(g.recs[3]->offset, strstr(data, REC("四")) - data);
    assert_int_equal(g.n_problems, 3);
    char *want_err[3] = {
        xasprintf("%s:5: title must be a string, not a number", path),
        xasprintf("%s:6:3: not valid JSON: invalid token near 'not'", path),
        xasprintf("%s:8:11: neither UTF-8 nor GB18030", path),
    };
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(g.problems[i], want_err[i]);
        free(want_err[i]);
    }

    /* Read again by offset: the same record, nothing else. */
    for (size_t i = 0; i < 4; i++) {
        struct got again = {0};
        struct sf_ingest_cb cb2 = {&again, got_record, got_problem};
        assert_int_equal(ingest_record_at(r, &in, path, g.recs[i]->offset, g.recs[i]->line, &cb2),
                         1);
        char *a = record_to_json(g.recs[i]), *b = record_to_json(again.recs[0]);
        assert_string_equal(a, b);
        assert_int_equal(again.recs[0]->offset, g.recs[i]->offset);
        free(a);
        free(b);
        got_finish(&again);
    }
    /* An offset past the end, or at a bad line: nothing, or its problem. */
    struct got none = {0};
    struct sf_ingest_cb cb3 = {&none, got_record, got_problem};
    assert_int_equal(ingest_record_at(r, &in, path, sizeof data + 10, 3, &cb3), 0);
    assert_int_equal(none.n_problems, 0);
    assert_int_equal(ingest_record_at(r, &in, path, (uint64_t)(strstr(data, "not json") - data), 6,
                                      &cb3),
                     0);
    assert_int_equal(none.n_problems, 1);

    got_finish(&g);
    ingest_reader_free(r);
    unlink(path);
    free(path);
}

/* Lines longer than a read chunk, and one longer than the line limit:
 * that one costs itself only, and memory stays bounded by the limit. */
static void
test_long_lines(void **state)
{
    size_t body = SF_JSONL_CHUNK * 3 + 17;
    size_t huge = SF_MAX_JSONL_LINE + 10;
    size_t cap = huge + body + 1024;
    char *data = malloc(cap);
    size_t o = 0;
    o += (size_t)sprintf(data + o, REC("前") "\n");
    size_t long_off = o;
    o += (size_t)sprintf(data + o, "{\"title\":\"长\",\"category\":\"c\",\"published\":\"2024-01-02\","
                                   "\"body\":[\"");
    memset(data + o, 'x', body);
    o += body;
    o += (size_t)sprintf(data + o, "\"]}\n");
    size_t huge_off = o;
    memset(data + o, ' ', huge);   /* blank, but too long to look at */
    o += huge;
    data[o++] = '\n';
    size_t after = o;
    o += (size_t)sprintf(data + o, REC("后") "\n");
    char *path = write_file("long.jsonl", data, o);

    struct sf_input in = {.format = SF_INPUT_JSONL, .encoding = SF_ENC_UTF8, .category = (char *)"c"};
    struct sf_ingest_reader *r = ingest_reader_new(config, &zone, true);
    struct got g = {0};
    struct sf_ingest_cb cb = {&g, got_record, got_problem};
    assert_int_equal(ingest_file(r, &in, AT_FDCWD, path, path, NULL, &cb), 3);
    assert_string_equal(g.recs[1]->title, "长");
    assert_int_equal(g.recs[1]->offset, long_off);
    assert_int_equal(strlen(g.recs[1]->body[0]), body);
    assert_string_equal(g.recs[2]->title, "后");
    assert_int_equal(g.recs[2]->line, 4);
    assert_int_equal(g.recs[2]->offset, after);
    assert_int_equal(g.n_problems, 1);
    char *want = xasprintf("%s:3: line longer than %u bytes; skipped", path, SF_MAX_JSONL_LINE);
    assert_string_equal(g.problems[0], want);
    free(want);

    struct got again = {0};
    struct sf_ingest_cb cb2 = {&again, got_record, got_problem};
    assert_int_equal(ingest_record_at(r, &in, path, long_off, 2, &cb2), 1);
    assert_int_equal(strlen(again.recs[0]->body[0]), body);
    got_finish(&again);
    assert_int_equal(ingest_record_at(r, &in, path, huge_off, 3, &cb2), 0);
    assert_int_equal(again.n_problems, 1);
    got_finish(&again);

    got_finish(&g);
    ingest_reader_free(r);
    unlink(path);
    free(path);
    free(data);
}

/* The format decides the parser; a page read through ingest is a record. */
static void
test_formats(void **state)
{
    static const char page[] = "<title>页面</title><meta name=pubdate content=2024-03-05><p>文</p>";
    char *path = write_file("p.html", page, sizeof page - 1);
    struct sf_input in = {.format = SF_INPUT_HTML, .encoding = SF_ENC_AUTO, .category = (char *)"网页"};
    struct sf_ingest_reader *r = ingest_reader_new(config, &zone, true);
    struct got g = {0};
    struct sf_ingest_cb cb = {&g, got_record, got_problem};
    assert_int_equal(ingest_record_at(r, &in, path, 0, 1, &cb), 1);
    assert_string_equal(g.recs[0]->title, "页面");
    assert_string_equal(g.recs[0]->category, "网页");
    got_finish(&g);

    /* the same bytes read as JSON Lines: one bad line */
    in.format = SF_INPUT_JSONL;
    assert_int_equal(ingest_file(r, &in, AT_FDCWD, path, path, NULL, &cb), 0);
    assert_int_equal(g.n_problems, 1);
    got_finish(&g);

    /* a missing file: one problem */
    assert_int_equal(ingest_record_at(r, &in, "/nonexistent/x.jsonl", 0, 1, &cb), 0);
    assert_string_equal(g.problems[0], "/nonexistent/x.jsonl: cannot open: No such file or directory");
    got_finish(&g);
    ingest_reader_free(r);
    unlink(path);
    free(path);
}

/* What a walk handed on, in order. */
struct walked {
    char paths[800][96];
    ino_t ino[800];
    off_t size[800];
    size_t n, stop_at;
};

static bool
walk_one(void *ctx, const struct sf_file *f)
{
    struct walked *w = ctx;
    if (w->n < 800) {
        snprintf(w->paths[w->n], sizeof w->paths[0], "%s", f->path);
        w->ino[w->n] = f->st.st_ino;
        w->size[w->n] = f->st.st_size;
    }
    w->n++;
    return w->n != w->stop_at;
}

/* The walk's stat threads never change what it hands on: files and
 * subdirectories interleaved (the parent's chunks are left to finish
 * after a child), directories under and over the parallel threshold, and
 * a walk stopped in the middle of a directory. */
static void
test_walk_threads(void **state)
{
    char *root = xasprintf("%s/walk", dir);
    assert_int_equal(mkdir(root, 0755), 0);
    size_t files = 0;
    for (int i = 0; i < 90; i++) {
        char *p = xasprintf("%s/f%02d.txt", root, i);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fprintf(f, "%*s", i + 1, "x");   /* size i + 1: tells the stats apart */
        fclose(f);
        free(p);
        files++;
        if (i % 30 == 7) {   /* a subdirectory sorted among the files */
            char *d = xasprintf("%s/f%02d.sub", root, i);
            assert_int_equal(mkdir(d, 0755), 0);
            for (int k = 0; k < (i == 7 ? 40 : 5); k++) {
                char *q = xasprintf("%s/g%02d.txt", d, k);
                FILE *g = fopen(q, "w");
                assert_non_null(g);
                fprintf(g, "%*s", 200 + k, "y");
                fclose(g);
                free(q);
                files++;
            }
            free(d);
        }
    }
    char glob[] = "*.txt";
    char *globs[] = {glob};
    struct sf_input in = {.path = root, .globs = globs, .n_globs = 1};
    struct sf_config c = *config;
    c.inputs = &in;
    c.n_inputs = 1;
    static struct walked one, many;
    struct sf_error err = {0};
    one = (struct walked){0};
    assert_true(ingest_walk(&c, 1, NULL, walk_one, &one, &err));
    assert_int_equal(one.n, files);
    for (size_t i = 0; i < one.n; i++) {
        struct stat st;
        assert_int_equal(lstat(one.paths[i], &st), 0);
        assert_int_equal(st.st_ino, one.ino[i]);
        assert_int_equal(st.st_size, one.size[i]);
        if (i)
            assert_true(strcmp(one.paths[i - 1], one.paths[i]) < 0);
    }
    for (unsigned threads = 2; threads <= 8; threads *= 2) {
        many = (struct walked){0};
        assert_true(ingest_walk(&c, threads, NULL, walk_one, &many, &err));
        assert_int_equal(many.n, one.n);
        for (size_t i = 0; i < one.n; i++) {
            assert_string_equal(many.paths[i], one.paths[i]);
            assert_int_equal(many.ino[i], one.ino[i]);
            assert_int_equal(many.size[i], one.size[i]);
        }
        /* stopped in the middle of a directory whose chunks are in flight */
        for (size_t stop = 1; stop < files; stop += 13) {
            many = (struct walked){.stop_at = stop};
            assert_true(ingest_walk(&c, threads, NULL, walk_one, &many, &err));
            assert_int_equal(many.n, stop);
            for (size_t i = 0; i < stop; i++)
                assert_int_equal(many.ino[i], one.ino[i]);
        }
    }
    error_finish(&err);
    for (size_t i = 0; i < one.n; i++)
        unlink(one.paths[i]);
    for (int i = 7; i < 90; i += 30) {
        char *d = xasprintf("%s/f%02d.sub", root, i);
        rmdir(d);
        free(d);
    }
    rmdir(root);
    free(root);
}

/* The walk matches globs as fnmatch(FNM_PERIOD) does, the literal-suffix
 * ones ("*.txt") by comparing the suffix. */
static void
test_globs(void **state)
{
    char *root = xasprintf("%s/globs", dir);
    assert_int_equal(mkdir(root, 0755), 0);
    static const char *const names[] = {
        "a.txt", "b.TXT", "c.txt.bak", "txt", ".txt", "d.tx", "e.md", "f.txt", "x",
        "\xe6\x95\x99\xe8\x82\xb2.txt", "bad-\xff.txt", "[.txt",
    };
    size_t n_names = sizeof names / sizeof *names;
    for (size_t i = 0; i < n_names; i++) {
        char *p = xasprintf("%s/%s", root, names[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fclose(f);
        free(p);
    }
    const char *const globs[] = {"*.txt", "*", "*txt", "a*.txt", "*[.]txt", "*.tx?", "*\\.txt",
                                 "[.txt"};
    for (size_t g = 0; g < sizeof globs / sizeof *globs; g++) {
        char *pattern = xstrdup(globs[g]);
        struct sf_input in = {.path = root, .globs = &pattern, .n_globs = 1};
        struct sf_config c = *config;
        c.inputs = &in;
        c.n_inputs = 1;
        static struct walked w;
        w = (struct walked){0};
        struct sf_error err = {0};
        assert_true(ingest_walk(&c, 1, NULL, walk_one, &w, &err));
        size_t want = 0;
        for (size_t i = 0; i < n_names; i++) {
            if (names[i][0] == '.')
                continue;   /* the walk skips hidden names */
            bool match = fnmatch(globs[g], names[i], FNM_PERIOD) == 0;
            bool seen = false;
            for (size_t k = 0; k < w.n; k++) {
                const char *slash = strrchr(w.paths[k], '/');
                seen |= strcmp(slash + 1, names[i]) == 0;
            }
            if (match != seen)
                fail_msg("glob %s, name %s: fnmatch %d, walk %d", globs[g], names[i], match, seen);
            want += match;
        }
        assert_int_equal(w.n, want);
        free(pattern);
    }
    for (size_t i = 0; i < n_names; i++) {
        char *p = xasprintf("%s/%s", root, names[i]);
        unlink(p);
        free(p);
    }
    rmdir(root);
    free(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_offsets),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_walk_threads),
        cmocka_unit_test(test_globs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
