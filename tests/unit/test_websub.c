/* SPDX-License-Identifier: MIT */
/* test_websub.c - the pure parts of WebSub: form bodies, the queue and its file, the budget */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "websub.h"

static void
test_form_body(void **state)
{
    static const struct {
        const char *topic, *body;
    } cases[] = {
        {"https://news.example.org/tech/rss.xml",
         "hub.mode=publish&hub.url=https%3A%2F%2Fnews.example.org%2Ftech%2Frss.xml"},
        {"http://a.example/x_y-z.~/feed.json",
         "hub.mode=publish&hub.url=http%3A%2F%2Fa.example%2Fx_y-z.~%2Ffeed.json"},
        /* what render_url() makes of a non-ASCII slug: its % is encoded again */
        {"https://n.example/%E4%BA%A4%E9%80%9A/atom.xml",
         "hub.mode=publish&hub.url=https%3A%2F%2Fn.example%2F%25E4%25BA%25A4%25E9%2580%259A%2Fatom.xml"},
        {"https://n.example/a?b=c&d=e+f#g",
         "hub.mode=publish&hub.url=https%3A%2F%2Fn.example%2Fa%3Fb%3Dc%26d%3De%2Bf%23g"},
        {"https://n.example/ sp\xe4", "hub.mode=publish&hub.url=https%3A%2F%2Fn.example%2F%20sp%E4"},
        {"", "hub.mode=publish&hub.url="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        assert_true(websub_form_body(cases[i].topic, &b));
        if (strcmp(b.data, cases[i].body) != 0)
            fail_msg("case %zu:\n got %s\nwant %s", i, b.data, cases[i].body);
        buf_finish(&b);
    }
    /* At its limit the buffer is left as it was. */
    struct sf_buf b;
    buf_init(&b, 30);
    buf_append_str(&b, "x");
    assert_false(websub_form_body("https://news.example.org/tech/rss.xml", &b));
    assert_int_equal(b.len, 1);
    assert_string_equal(b.data, "x");
    buf_finish(&b);
}

#define H1 "https://hub.example/"
#define H2 "http://127.0.0.1:8080/hub"
#define T1 "https://news.example.org/tech/rss.xml"
#define T2 "https://news.example.org/%E4%BA%A4%E9%80%9A/feed.json"

static const struct {
    const char *text;
    const char *entries;    /* "hub topic" per line, in order */
    size_t dropped;
    const char *first_problem;  /* NULL: none */
} parse_cases[] = {
    {"", "", 0, NULL},
    {"# only a comment\n\n", "", 0, NULL},
    {H1 "\t" T1 "\n", H1 " " T1 "\n", 0, NULL},
    {H1 "\t" T1, H1 " " T1 "\n", 0, NULL},     /* no final newline */
    {"# c\n" H1 "\t" T1 "\n" H2 "\t" T2 "\n" H1 "\t" T1 "\n",
     H1 " " T1 "\n" H2 " " T2 "\n", 0, NULL},   /* duplicates collapse */
    {H1 " " T1 "\n" H2 "\t" T2 "\n", H2 " " T2 "\n", 1,
     "q:1: warning: not a hub URL and a topic URL; dropped"},
    {"ftp://hub.example/\t" T1 "\n", "", 1,
     "q:1: warning: not a hub URL and a topic URL; dropped"},
    {H1 "\t" T1 "\tx\n", "", 1, "q:1: warning: not a hub URL and a topic URL; dropped"},
    {"\n\n" H1 "\t/relative\n", "", 1, "q:3: warning: not a hub URL and a topic URL; dropped"},
    {H1 "\t" T1 "\r\n", "", 1, "q:1: warning: not a hub URL and a topic URL; dropped"},
};

static void
test_queue_parse(void **state)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        struct sf_websub_queue q;
        struct sf_errors problems = {0};
        websub_queue_init(&q);
        size_t dropped = websub_queue_parse(&q, parse_cases[i].text, strlen(parse_cases[i].text),
                                            "q", &problems);
        struct sf_buf got;
        buf_init(&got, 0);
        for (size_t k = 0; k < q.n; k++)
            buf_printf(&got, "%s %s\n", q.v[k].hub, q.v[k].topic);
        if (strcmp(got.data ? got.data : "", parse_cases[i].entries) != 0)
            fail_msg("case %zu entries:\n got %s\nwant %s", i, got.data ? got.data : "",
                     parse_cases[i].entries);
        assert_int_equal(dropped, parse_cases[i].dropped);
        assert_int_equal(problems.n, parse_cases[i].dropped);
        if (parse_cases[i].first_problem) {
            char *msg = error_format(&problems.v[0]);
            assert_string_equal(msg, parse_cases[i].first_problem);
            free(msg);
        }
        buf_finish(&got);
        errors_finish(&problems);
        websub_queue_finish(&q);
    }
    /* A NUL inside a line does not smuggle a shorter URL through. */
    static const char nul[] = H1 "\t" T1 "\0junk\n";
    struct sf_websub_queue q;
    struct sf_errors problems = {0};
    websub_queue_init(&q);
    assert_int_equal(websub_queue_parse(&q, nul, sizeof nul - 1, "q", &problems), 1);
    assert_int_equal(q.n, 0);
    errors_finish(&problems);
    websub_queue_finish(&q);
}

static void
test_queue_round_trip(void **state)
{
    struct sf_websub_queue q, back;
    struct sf_errors problems = {0};
    websub_queue_init(&q);
    websub_queue_init(&back);
    /* enough to make the index grow several times */
    for (int i = 0; i < 500; i++) {
        char topic[128];
        snprintf(topic, sizeof topic, "https://news.example.org/f%d/rss.xml", i);
        assert_true(websub_queue_add(&q, i % 2 ? H1 : H2, topic));
        assert_false(websub_queue_add(&q, i % 2 ? H1 : H2, topic));
    }
    assert_int_equal(q.n, 500);
    struct sf_buf text;
    buf_init(&text, 0);
    assert_true(websub_queue_format(&q, &text));
    assert_int_equal(websub_queue_parse(&back, text.data, text.len, "q", &problems), 0);
    assert_int_equal(back.n, q.n);
    for (size_t i = 0; i < q.n; i++) {
        assert_string_equal(back.v[i].hub, q.v[i].hub);
        assert_string_equal(back.v[i].topic, q.v[i].topic);
    }
    /* one line per notification, after the comment */
    assert_non_null(strstr(text.data, "\n" H2 "\thttps://news.example.org/f0/rss.xml\n"));
    websub_queue_clear(&back);
    assert_int_equal(back.n, 0);
    assert_true(websub_queue_add(&back, H1, T1));
    buf_finish(&text);
    errors_finish(&problems);
    websub_queue_finish(&q);
    websub_queue_finish(&back);
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = calloc(1, 65536);
    size_t n = fread(s, 1, 65535, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void
test_state_file(void **state)
{
    char tmpl[] = "/tmp/sf-websub-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *dir = xasprintf("%s/deep/state", tmpl);
    char *file = xasprintf("%s/websub-queue", dir);
    struct sf_websub_queue q;
    struct sf_errors problems = {0};
    struct sf_error err = {0};
    websub_queue_init(&q);

    /* Missing directory and file: created, empty queue, nothing written. */
    struct sf_websub_state *s = websub_state_open(dir, 1000, &q, &problems, &err);
    assert_non_null(s);
    assert_int_equal(q.n, 0);
    assert_true(websub_state_save(s, &q, &err));
    assert_int_equal(access(file, F_OK), -1);
    websub_queue_add(&q, H1, T1);
    websub_queue_add(&q, H2, T2);
    assert_true(websub_state_save(s, &q, &err));
    websub_state_close(s);

    char *text = read_text(file);
    assert_non_null(text);
    assert_non_null(strstr(text, "\n" H1 "\t" T1 "\n" H2 "\t" T2 "\n"));
    free(text);
    struct stat st1, st2;
    assert_int_equal(stat(file, &st1), 0);

    /* Read back; saving the same queue leaves the file alone. */
    websub_queue_clear(&q);
    s = websub_state_open(dir, 1000, &q, &problems, &err);
    assert_non_null(s);
    /* While s holds the lock, another open waits, then gives up. */
    struct sf_websub_queue q2;
    websub_queue_init(&q2);
    assert_null(websub_state_open(dir, 100, &q2, &problems, &err));
    assert_non_null(strstr(err.msg, "busy: another snapfeed has held websub.lock"));
    assert_int_equal(q2.n, 0);
    websub_queue_finish(&q2);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.v[1].topic, T2);
    assert_true(websub_state_save(s, &q, &err));
    assert_int_equal(stat(file, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino);
    /* An empty queue removes the file; no temporary is left. */
    websub_queue_clear(&q);
    assert_true(websub_state_save(s, &q, &err));
    assert_int_equal(access(file, F_OK), -1);
    websub_state_close(s);
    char *tmp = xasprintf("%s/.websub-queue.tmp", dir);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(problems.n, 0);

    /* A queue that is not a regular file is an error, not an empty queue. */
    assert_int_equal(mkdir(file, 0755), 0);
    s = websub_state_open(dir, 1000, &q, &problems, &err);
    assert_null(s);
    assert_non_null(strstr(err.msg, "not a regular file"));
    rmdir(file);

    char *lock = xasprintf("%s/websub.lock", dir);
    unlink(lock);
    rmdir(dir);
    char *deep = xasprintf("%s/deep", tmpl);
    rmdir(deep);
    rmdir(tmpl);
    free(deep);
    free(lock);
    free(tmp);
    free(file);
    free(dir);
    error_finish(&err);
    errors_finish(&problems);
    websub_queue_finish(&q);
}

static void
test_budget(void **state)
{
    static const struct {
        unsigned k;
        long ms;
    } backoff[] = {{1, 500}, {2, 1000}, {3, 2000}, {4, 4000}, {5, 4000}, {10, 4000}};
    for (size_t i = 0; i < sizeof backoff / sizeof backoff[0]; i++)
        assert_int_equal(websub_backoff_ms(backoff[i].k), backoff[i].ms);

    static const struct {
        double timeout;
        unsigned retries;
        long ms;
    } budget[] = {
        {10, 2, 31500},     /* the defaults: 3 tries of 10 s, waits of 0.5 and 1 s */
        {1, 0, 1000},
        {1, 1, 2500},
        {0.2, 3, 4300},
        {2.5, 10, 2500 * 11 + 500 + 1000 + 2000 + 4000 * 7},
    };
    for (size_t i = 0; i < sizeof budget / sizeof budget[0]; i++) {
        struct sf_websub_opts o = {budget[i].timeout, budget[i].retries};
        assert_int_equal(websub_budget_ms(&o), budget[i].ms);
    }

    /* Nothing to send: nothing sent, at once. */
    struct sf_websub_queue q;
    websub_queue_init(&q);
    struct sf_websub_opts o = {1, 1};
    char **r = websub_send(&o, &q);
    assert_non_null(r);
    websub_results_free(r, 0);
    websub_queue_finish(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_body),   cmocka_unit_test(test_queue_parse),
        cmocka_unit_test(test_queue_round_trip), cmocka_unit_test(test_state_file),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
