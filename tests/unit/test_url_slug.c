/* SPDX-License-Identifier: MIT */
/* test_url_slug.c - URL checks and escaping, slugs, paths inside directories */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "limits.h"
#include "slug.h"
#include "url.h"
#include "util.h"

static void
test_url_normalize(void **state)
{
    static const struct {
        const char *in, *out;   /* out NULL: refused */
    } cases[] = {
        {"https://example.org/a/b.html", "https://example.org/a/b.html"},
        {"HTTP://Example.org/x?y=1#z", "http://Example.org/x?y=1#z"},
        {"https://example.org/新闻/教育.html", "https://example.org/%E6%96%B0%E9%97%BB/%E6%95%99%E8%82%B2.html"},
        {"https://example.org/a\"b<c>", "https://example.org/a%22b%3Cc%3E"},
        {"https://user@host.example/", "https://user@host.example/"},
        {"ftp://example.org/file", NULL},
        {"/relative/path.html", NULL},
        {"https://", NULL},
        {"https:///path", NULL},
        {"https://exa mple.org/", NULL},
        {"https://example.org/\x01", NULL},
        {"javascript:alert(1)", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        bool ok = url_normalize(cases[i].in, strlen(cases[i].in), &b);
        if (!cases[i].out) {
            if (ok)
                fail_msg("case %zu '%s' should be refused", i, cases[i].in);
        } else {
            if (!ok)
                fail_msg("case %zu '%s' refused", i, cases[i].in);
            assert_string_equal(b.data, cases[i].out);
        }
        buf_finish(&b);
    }
}

static void
test_url_host(void **state)
{
    static const struct {
        const char *in, *host;
    } cases[] = {
        {"https://Example.ORG/news/", "example.org"},
        {"http://a.example:8080/x", "a.example"},
        {"https://u:p@b.example/", "b.example"},
        {"https://[::1]:80/", "[::1]"},
        {"ftp://x.example/", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        bool ok = url_host(cases[i].in, &b);
        if (!cases[i].host)
            assert_false(ok);
        else {
            assert_true(ok);
            assert_string_equal(b.data, cases[i].host);
        }
        buf_finish(&b);
    }
}

static void
test_has_scheme(void **state)
{
    static const struct {
        const char *in;
        bool ok;
    } cases[] = {
        {"tag:a.example,2024:x", true}, {"https://a.example/", true}, {"urn:isbn:1", true},
        {"x+y-z.w:1", true},            {"tag:", false},              {":x", false},
        {"1tag:x", false},              {"编号 1", false},            {"a_b:x", false},
        {"a b:x", false},               {"abc", false},               {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (url_has_scheme(cases[i].in, strlen(cases[i].in)) != cases[i].ok)
            fail_msg("has_scheme '%s'", cases[i].in);
}

static void
test_hostname(void **state)
{
    static const struct {
        const char *in;
        bool ok;
    } cases[] = {
        {"td.fyun.cc", true},   {"a-b.example", true}, {"localhost", false},
        {"本站", false},        {"a..b", false},       {"-a.example", false},
        {"a-.example", false},  {"a.example.", false}, {"a b.example", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (url_is_hostname(cases[i].in, strlen(cases[i].in)) != cases[i].ok)
            fail_msg("hostname '%s'", cases[i].in);
}

static void
test_segment(void **state)
{
    struct sf_buf b;
    buf_init(&b, 0);
    url_append_segment(&b, "教育");
    buf_append_char(&b, '|');
    url_append_segment(&b, "a b/c.d-e_f~");
    assert_string_equal(b.data, "%E6%95%99%E8%82%B2|a%20b%2Fc.d-e_f~");
    buf_finish(&b);
}

/* Ids read from JSON are made ASCII; what URLs may hold stays as it is. */
static void
test_escape(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"tag:td.fyun.cc,2023-10-27:0123456789abcdef", "tag:td.fyun.cc,2023-10-27:0123456789abcdef"},
        {"https://a.example/教育?q=1#x", "https://a.example/%E6%95%99%E8%82%B2?q=1#x"},
        {"id with \"quotes\" <x>", "id%20with%20%22quotes%22%20%3Cx%3E"},
        {"50%", "50%"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        assert_true(url_escape(cases[i].in, strlen(cases[i].in), &b));
        assert_string_equal(b.data ? b.data : "", cases[i].out);
        buf_finish(&b);
    }
    struct sf_buf small;
    buf_init(&small, 4);
    assert_false(url_escape("教", strlen("教"), &small));
    buf_finish(&small);
}

static void
test_slugs(void **state)
{
    static const struct {
        const char *category;
        const char *slug;   /* exact, or a prefix when prefix is set */
        bool prefix;
    } cases[] = {
        {"教育", "教育", false},
        {"科技", "科技", false},
        {"tech", "tech", false},
        {"sports_2024", "sports_2024", false},
        {"Tech News", "tech-news-", true},
        {"../../etc", "etc-", true},
        {"a/b", "a-b-", true},
        {".hidden", "hidden-", true},
        {"all", "all-", true},
        {"财经·金融", "财经-金融-", true},
        {"教育 新闻", "教育-新闻-", true},
        {"😀", "", true},
        {"-lead", "lead-", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = slug_derive(cases[i].category, false);
        if (cases[i].prefix ? strncmp(s, cases[i].slug, strlen(cases[i].slug)) != 0
                            : strcmp(s, cases[i].slug) != 0)
            fail_msg("case %zu '%s' -> '%s'", i, cases[i].category, s);
        if (!slug_valid(s))
            fail_msg("case %zu: derived slug '%s' is not valid", i, s);
        free(s);
    }
    /* Lossy names stay distinct, and stable. */
    char *a = slug_derive("Tech News", false), *b = slug_derive("tech news", false);
    char *c = slug_derive("Tech News", false);
    assert_string_not_equal(a, b);
    assert_string_equal(a, c);
    free(a);
    free(b);
    free(c);
    /* Long names are bounded, even in the wide form. */
    char longname[1024];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char *l = slug_derive(longname, true);
    assert_true(strlen(l) <= SF_MAX_SLUG);
    assert_true(slug_valid(l));
    free(l);
    char longcn[3 * 300 + 1] = "";
    for (int i = 0; i < 300; i++)
        strcat(longcn, "长");
    l = slug_derive(longcn, false);
    assert_true(strlen(l) <= SF_MAX_SLUG);
    assert_true(slug_valid(l));
    free(l);
}

static void
test_slug_valid(void **state)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"education", true}, {"教育", true},    {"a-b_c", true},  {"", false},
        {"all", false},      {"a/b", false},    {"..", false},    {".x", false},
        {"a b", false},      {"-x", false},     {"a\x01", false}, {"a.b", false},
        {"教育。", false},   {"\xe2\x80\xae" "x", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (slug_valid(cases[i].s) != cases[i].ok)
            fail_msg("slug '%s' should be %s", cases[i].s, cases[i].ok ? "valid" : "invalid");
}

static void
test_path_inside(void **state)
{
    static const struct {
        const char *path, *dir;
        bool inside;
    } cases[] = {
        {"/a/b", "/a/b", true},    {"/a/b/c", "/a/b", true},  {"/a/b/c", "/a/b/", true},
        {"/a/b/c", "/a/b//", true}, {"/a/bc", "/a/b", false}, {"/a", "/a/b", false},
        {"/x", "/", true},         {"/", "/", true},          {"a/b", "a", true},
        {"ab", "a", false},        {"b/a", "a", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (path_inside(cases[i].path, cases[i].dir) != cases[i].inside)
            fail_msg("'%s' should %sbe inside '%s'", cases[i].path, cases[i].inside ? "" : "not ",
                     cases[i].dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_normalize), cmocka_unit_test(test_url_host),
        cmocka_unit_test(test_hostname),      cmocka_unit_test(test_segment),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_has_scheme),
        cmocka_unit_test(test_slugs),         cmocka_unit_test(test_slug_valid),
        cmocka_unit_test(test_path_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
