/* SPDX-License-Identifier: MIT */
/* test_record.c - records read back from JSON, and the JSON-LD of pages */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "limits.h"
#include "record.h"

static struct sf_zone zone;
static struct sf_errors warnings;
static struct sf_error error;

static int
setup(void **state)
{
    return when_zone_init(&zone, "Asia/Shanghai") ? 0 : -1;
}

static int
teardown(void **state)
{
    errors_finish(&warnings);
    error_finish(&error);
    return 0;
}

static struct sf_record *
from_json_opts(const char *json, bool skip_lists)
{
    struct sf_json_opts o = {
        .zone = &zone,
        .default_category = "未分类",
        .site_host = "example.org",
        .skip_lists = skip_lists,
    };
    errors_clear(&warnings);
    error_finish(&error);
    return record_from_json(json, strlen(json), &o, "in.jsonl", 7, &error, &warnings);
}

static struct sf_record *
from_json(const char *json)
{
    return from_json_opts(json, false);
}

static void
time_is(const struct sf_time *t, const char *want)
{
    char buf[SF_RFC3339_LEN];
    if (!want) {
        assert_false(t->set);
        return;
    }
    assert_true(t->set);
    when_format_rfc3339(t, buf);
    assert_string_equal(buf, want);
}

static void
str_is(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

/* A whole record, every field, as `snapfeed parse` prints it: read back
 * and printed again, it is the same bytes. */
static void
test_round_trip(void **state)
{
    static const char *const lines[] = {
        "{\"title\":\"“东迁西归”倡议发布:呼吁更多力量加入 助推职教东西部协作\",\"category\":\"教育\","
        "\"published\":\"2023-10-27T20:28:00+08:00\",\"source\":\"每日看点快看\",\"via\":"
        "\"中国新闻网\",\"author\":\"张三\",\"url\":null,\"captured_at\":"
        "\"2023-10-28T00:45:01+08:00\",\"captured_by\":\"td.fyun.cc\",\"body\":[\"第一段。\","
        "\"第二段 with  two spaces\"],\"related\":[{\"title\":null,\"snippet\":\"...片段\","
        "\"published\":\"2023-10-09T20:00:00+08:00\"},{\"title\":\"标题\",\"snippet\":\"片段\","
        "\"published\":null}],\"listing\":[{\"category\":\"教育\",\"title\":\"甲\","
        "\"summary\":null,\"published\":\"2023-10-27T08:00:00+08:00\"}],\"id\":"
        "\"tag:td.fyun.cc,2023-10-27:0123456789abcdef\",\"file\":\"in.jsonl\",\"line\":7}",
        "{\"title\":\"T\",\"category\":\"科技\",\"published\":\"2024-01-01T00:00:00+08:00\","
        "\"source\":null,\"via\":null,\"author\":null,\"url\":\"https://a.example/%E6%95%99\","
        "\"captured_at\":null,\"captured_by\":null,\"body\":[],\"related\":[],\"listing\":[],"
        "\"id\":\"https://a.example/%E6%95%99\",\"file\":\"in.jsonl\",\"line\":7}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct sf_record *r = from_json(lines[i]);
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        assert_int_equal(warnings.n, 0);
        char *again = record_to_json(r);
        assert_string_equal(again, lines[i]);
        free(again);
        record_free(r);
    }
}

/* Every way a value can have the wrong type: the line is refused with a
 * message naming the field; nothing else. */
static void
test_types(void **state)
{
    static const struct {
        const char *json;
        const char *msg;
        unsigned col;
    } cases[] = {
        {"{\"title\":1,\"published\":\"2024-01-01\"}", "title must be a string, not a number", 0},
        {"{\"title\":[\"a\"],\"published\":\"2024-01-01\"}", "title must be a string, not an array", 0},
        {"{\"title\":\"t\",\"published\":20240101}", "published must be a string, not a number", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"category\":{}}",
         "category must be a string, not an object", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"source\":true}",
         "source must be a string, not a boolean", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"captured_at\":1}",
         "captured_at must be a string, not a number", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"body\":\"text\"}",
         "body must be an array, not a string", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"body\":[\"a\",null]}",
         "body[1] must be a string, not null", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"related\":[1]}",
         "related[0] must be an object, not a number", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"related\":[{\"snippet\":2}]}",
         "related[0].snippet must be a string, not a number", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"listing\":[{\"title\":\"a\","
         "\"published\":false}]}",
         "listing[0].published must be a string, not a boolean", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"id\":5}", "id must be a string, not a number", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"file\":5}",
         "file must be a string, not a number", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"line\":\"5\"}",
         "line must be an integer, not a string", 0},
        {"{\"title\":\"t\",\"published\":\"2024-01-01\",\"line\":1.5}",
         "line must be an integer, not a number", 0},
        {"{\"published\":\"2024-01-01\"}", "title is missing or empty", 0},
        {"{\"title\":\" \\t\\u3000 \",\"published\":\"2024-01-01\"}", "title is missing or empty", 0},
        {"{\"title\":null,\"published\":\"2024-01-01\"}", "title is missing or empty", 0},
        {"{\"title\":\"t\"}", "no published or captured_at to date it by", 0},
        {"{\"title\":\"t\",\"published\":\"2023-02-30\"}",
         "published '2023-02-30' is not a valid time, and no captured_at to date it by", 0},
        {"[]", "not a JSON object but an array", 0},
        {"\"title\"", "not a JSON object but a string", 0},
        {"{\"title\":\"t\",}", "not valid JSON: string or '}' expected near '}'", 14},
        {"{\"title\":\"t\"", "not valid JSON: '}' expected near end of file", 12},
        {"{\"title\":\"t\",\"title\":\"u\",\"published\":\"2024-01-01\"}",
         "not valid JSON: duplicate object key near '\"title\"'", 20},
        {"{\"title\":\"a\\u0000b\",\"published\":\"2024-01-01\"}",
         "not valid JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'", 19},
        {"{\"title\":\"\\ud800\",\"published\":\"2024-01-01\"}",
         "not valid JSON: invalid Unicode '\\uD800' near '\"\\ud800\"'", 17},
        {"{\"title\":\"\x01\"}", "not valid JSON: control character 0x1 near '\"'", 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_record *r = from_json(cases[i].json);
        if (r)
            fail_msg("case %zu accepted", i);
        if (strcmp(error.msg, cases[i].msg) != 0)
            fail_msg("case %zu: '%s'", i, error.msg);
        assert_string_equal(error.path, "in.jsonl");
        assert_int_equal(error.line, 7);
        if (error.col != cases[i].col)
            fail_msg("case %zu: column %u", i, error.col);
        assert_int_equal(warnings.n, 0);   /* a refused line says only why */
    }
}

/* Values that are refused alone, with a warning; unknown fields; zones. */
static void
test_values(void **state)
{
    static const struct {
        const char *json;
        const char *field, *value;  /* what to check: a string field, or "published" etc. */
        const char *warning;        /* the first warning, or NULL for none */
    } cases[] = {
        {"{\"title\":\"t\",\"published\":\"2024-01-02 03:04\",\"category\":\"c\"}", "published",
         "2024-01-02T03:04:00+08:00", NULL},
        {"{\"title\":\"t\",\"published\":\"2024年1月2日 3:04\",\"category\":\"c\"}", "published",
         "2024-01-02T03:04:00+08:00", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-01T19:04:00Z\",\"category\":\"c\"}", "published",
         "2024-01-02T03:04:00+08:00", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02T03:04:00.123+08:00\",\"category\":\"c\"}",
         "published", "2024-01-02T03:04:00+08:00", NULL},
        {"{\"title\":\"t\",\"captured_at\":\"2024-01-03 00:00:00\",\"category\":\"c\"}", "published",
         "2024-01-03T00:00:00+08:00", "warning: no published; using captured_at"},
        {"{\"title\":\"t\",\"published\":\"yesterday\",\"captured_at\":\"2024-01-03\","
         "\"category\":\"c\"}",
         "published", "2024-01-03T00:00:00+08:00",
         "warning: published 'yesterday' is not a valid time; using captured_at"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"captured_at\":\"soon\",\"category\":\"c\"}",
         "captured_at", NULL, "warning: captured_at 'soon' is not a valid time"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\"}", "category", "未分类",
         "warning: no category; using '未分类'"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"  \"}", "category", "未分类",
         "warning: no category; using '未分类'"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"a\\u00a0\\u00a0b\\tc\"}",
         "category", "a b c", NULL},
        {"{\"title\":\"a\\tb\\u0001c\\u0085d\",\"published\":\"2024-01-02\",\"category\":\"c\"}",
         "title", "a bcd", NULL},
        {"{\"title\":\"第一行\\n第二行\",\"published\":\"2024-01-02\",\"category\":\"c\"}", "title",
         "第一行第二行", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"url\":\"/a/b\"}", "url",
         NULL, "warning: url '/a/b' is not an absolute http(s) URL; ignored"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"url\":"
         "\"HTTPS://a.example/教育\"}",
         "url", "https://a.example/%E6%95%99%E8%82%B2", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"url\":"
         "\"https://a.example/x\"}",
         "id", "https://a.example/x", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"id\":"
         "\"tag:a.example,2024:编号 1\"}",
         "id", "tag:a.example,2024:%E7%BC%96%E5%8F%B7%201", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"id\":\"编号 1\"}", "id",
         "tag:example.org,2024-01-02:021de9574832dd9f",
         "warning: id '编号 1' is not an absolute URI; derived one"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"captured_by\":"
         "\"TD.Fyun.CC\"}",
         "captured_by", "td.fyun.cc", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"captured_by\":"
         "\"not a host\"}",
         "captured_by", NULL, "warning: captured_by 'not a host' is not a host name; ignored"},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"surprise\":[1,{}],"
         "\"file\":\"elsewhere.txt\",\"line\":99}",
         "file", "in.jsonl", NULL},
        {"{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\",\"source\":"
         "\"\\u001b[31m红\\u001b[0m\"}",
         "source", "[31m红[0m", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_record *r = from_json(cases[i].json);
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        const char *f = cases[i].field;
        if (strcmp(f, "published") == 0)
            time_is(&r->published, cases[i].value);
        else if (strcmp(f, "captured_at") == 0)
            time_is(&r->captured_at, cases[i].value);
        else {
            const char *got = strcmp(f, "title") == 0      ? r->title
                              : strcmp(f, "category") == 0 ? r->category
                              : strcmp(f, "source") == 0   ? r->source
                              : strcmp(f, "url") == 0      ? r->url
                              : strcmp(f, "id") == 0       ? r->id
                              : strcmp(f, "file") == 0     ? r->file
                                                           : r->captured_by;
            str_is(got, cases[i].value);
        }
        if (cases[i].warning) {
            if (warnings.n == 0)
                fail_msg("case %zu: no warning", i);
            assert_string_equal(warnings.v[0].msg, cases[i].warning);
            assert_int_equal(warnings.v[0].line, 7);
        } else if (warnings.n) {
            fail_msg("case %zu: warning '%s'", i, warnings.v[0].msg);
        }
        assert_int_equal(r->line, 7);
        record_free(r);
    }
}

/* Without an id the record gets the one a capture would: the same rule. */
static void
test_derived_id(void **state)
{
    struct sf_record *a = from_json("{\"title\":\"标题\",\"published\":\"2023-10-27 20:28:00\","
                                    "\"source\":\"新华网\",\"category\":\"c\"}");
    struct sf_record *b = from_json("{\"title\":\"标题\",\"published\":\"2023-10-27T12:28:00Z\","
                                    "\"source\":\"新华网\",\"category\":\"c\",\"id\":\"  \"}");
    struct sf_record *c = from_json("{\"title\":\"标题\",\"published\":\"2023-10-27 20:28:00\","
                                    "\"source\":\"新华网\",\"category\":\"c\",\"captured_by\":"
                                    "\"td.fyun.cc\"}");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(strncmp(a->id, "tag:example.org,2023-10-27:", 27), 0);
    assert_string_equal(a->id, b->id);
    assert_int_equal(strncmp(c->id, "tag:td.fyun.cc,2023-10-27:", 26), 0);
    assert_string_equal(a->id + 27, c->id + 26);
    record_free(a);
    record_free(b);
    record_free(c);
}

static void
test_lists(void **state)
{
    const char *json = "{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"c\","
                       "\"body\":[\"一\",\"  \",\"二\"],"
                       "\"related\":[{\"snippet\":\"s\"},{\"title\":\"no snippet\"},"
                       "{\"snippet\":\"s2\",\"published\":\"bad\"}],"
                       "\"listing\":[{\"title\":\"a\",\"published\":\"2024-01-01 08:00\"},"
                       "{\"title\":\"b\"},{\"category\":\"x\",\"title\":\"c\","
                       "\"published\":\"2024-01-01\"}]}";
    struct sf_record *r = from_json(json);
    assert_non_null(r);
    assert_int_equal(r->n_body, 2);
    str_is(r->body[1], "二");
    assert_int_equal(r->n_related, 2);
    assert_false(r->related[1].published.set);
    assert_int_equal(r->n_listing, 2);
    str_is(r->listing[0].category, "c");   /* the record's, when an entry names none */
    str_is(r->listing[1].category, "x");
    assert_int_equal(warnings.n, 1);
    assert_string_equal(warnings.v[0].msg,
                        "warning: related[2].published 'bad' is not a valid time");
    record_free(r);

    /* A build leaves the lists out, but still refuses what parse refuses. */
    r = from_json_opts(json, true);
    assert_non_null(r);
    assert_int_equal(r->n_related, 0);
    assert_int_equal(r->n_listing, 0);
    record_free(r);
    assert_null(from_json_opts("{\"title\":\"t\",\"published\":\"2024-01-02\",\"related\":{}}",
                               true));
    assert_string_equal(error.msg, "related must be an array, not an object");
}

static void
test_limits(void **state)
{
    /* a 300-byte category is cut at a character boundary */
    char json[2048] = "{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":\"";
    for (int i = 0; i < 100; i++)
        strcat(json, "教");
    strcat(json, "\"}");
    struct sf_record *r = from_json(json);
    assert_non_null(r);
    assert_int_equal(strlen(r->category), 255);
    assert_string_equal(warnings.v[0].msg, "warning: category longer than 256 bytes; cut");
    record_free(r);

    /* more paragraphs than kept: the rest dropped, with one warning */
    size_t n = SF_MAX_PARAGRAPHS + 5;
    char *big = malloc(n * 4 + 128);
    size_t o = (size_t)sprintf(big, "{\"title\":\"t\",\"published\":\"2024-01-02\",\"category\":"
                                    "\"c\",\"body\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(big + o, "%s\"p\"", i ? "," : "");
    strcpy(big + o, "]}");
    r = from_json(big);
    assert_non_null(r);
    assert_int_equal(r->n_body, SF_MAX_PARAGRAPHS);
    assert_int_equal(warnings.n, 1);
    record_free(r);
    free(big);
}

/* Garbage never crashes and never gives a record without a title. */
static void
test_garbage(void **state)
{
    static const char *const cases[] = {
        "", " ", "{", "}", "null", "{\"title\":", "{\"title\":\"\\u", "\xff\xfe", "{}{}",
        "{\"title\":\"t\",\"published\":\"2024-01-02\"} trailing",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_record *r = from_json(cases[i]);
        if (r)
            fail_msg("case %zu accepted", i);
        assert_non_null(error.msg);
    }
}

/* ---- JSON-LD -------------------------------------------------------------- */

static void
test_jsonld(void **state)
{
    static const struct {
        const char *json;
        const char *headline, *published, *modified, *author, *publisher, *section, *url;
    } cases[] = {
        {"{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\"headline\":\"标题\","
         "\"datePublished\":\"2024-03-05T10:00:00+08:00\",\"dateModified\":\"2024-03-06\","
         "\"author\":{\"@type\":\"Person\",\"name\":\"张三\"},\"publisher\":{\"@type\":"
         "\"Organization\",\"name\":\"新华社\"},\"articleSection\":\"科技\",\"url\":"
         "\"https://a.example/1\"}",
         "标题", "2024-03-05T10:00:00+08:00", "2024-03-06", "张三", "新华社", "科技",
         "https://a.example/1"},
        /* authors as a list, section as a list, page as mainEntityOfPage */
        {"{\"@type\":\"Article\",\"headline\":\"h\",\"author\":[{\"name\":\"甲\"},\"乙\",{},"
         "{\"name\":\"丙\"}],\"articleSection\":[\"财经\",\"股市\"],\"publisher\":\"某报\","
         "\"mainEntityOfPage\":{\"@type\":\"WebPage\",\"@id\":\"https://a.example/2\"}}",
         "h", NULL, NULL, "甲、乙、丙", "某报", "财经", "https://a.example/2"},
        /* @graph with a WebPage first and the type as a list */
        {"{\"@graph\":[{\"@type\":\"WebPage\",\"name\":\"page\"},{\"@type\":[\"Thing\","
         "\"ReportageNewsArticle\"],\"headline\":\"graph\"}]}",
         "graph", NULL, NULL, NULL, NULL, NULL, NULL},
        /* an array of objects; a full type IRI */
        {"[{\"@type\":\"BreadcrumbList\"},{\"@type\":\"http://schema.org/BlogPosting\","
         "\"name\":\"named\",\"mainEntityOfPage\":\"https://a.example/3\"}]",
         "named", NULL, NULL, NULL, NULL, NULL, "https://a.example/3"},
        /* the article as the mainEntity of a page */
        {"{\"@type\":\"WebPage\",\"mainEntity\":{\"@type\":\"NewsArticle\",\"headline\":\"inner\"}}",
         "inner", NULL, NULL, NULL, NULL, NULL, NULL},
        /* not an article: nothing taken */
        {"{\"@type\":\"Organization\",\"name\":\"org\"}", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
        /* wrong types are ignored, not taken */
        {"{\"@type\":\"NewsArticle\",\"headline\":7,\"datePublished\":[],\"author\":{\"name\":1}}",
         NULL, NULL, NULL, NULL, NULL, NULL, NULL},
        /* nesting deeper than any layout in use is not searched */
        {"[[[[[{\"@type\":\"NewsArticle\",\"headline\":\"deep\"}]]]]]", NULL, NULL, NULL, NULL, NULL,
         NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_jsonld ld = {0};
        struct sf_error err = {0};
        if (!record_jsonld_article(cases[i].json, strlen(cases[i].json), &ld, &err))
            fail_msg("case %zu: %s", i, err.msg);
        str_is(ld.headline, cases[i].headline);
        str_is(ld.published, cases[i].published);
        str_is(ld.modified, cases[i].modified);
        str_is(ld.author, cases[i].author);
        str_is(ld.publisher, cases[i].publisher);
        str_is(ld.section, cases[i].section);
        str_is(ld.url, cases[i].url);
        record_jsonld_finish(&ld);
        record_jsonld_finish(&ld);   /* twice is fine */
    }

    /* Fields already found are kept: the first script wins. */
    struct sf_jsonld ld = {0};
    struct sf_error err = {0};
    static const char first[] = "{\"@type\":\"NewsArticle\",\"headline\":\"first\"}";
    static const char second[] =
        "{\"@type\":\"NewsArticle\",\"headline\":\"second\",\"articleSection\":\"s\"}";
    assert_true(record_jsonld_article(first, strlen(first), &ld, &err));
    assert_true(record_jsonld_article(second, strlen(second), &ld, &err));
    str_is(ld.headline, "first");
    str_is(ld.section, "s");
    record_jsonld_finish(&ld);

    /* Not JSON: false, with where and why. */
    static const char bad[] = "{\"@type\":\n\"NewsArticle\",}";
    assert_false(record_jsonld_article(bad, strlen(bad), &ld, &err));
    assert_int_equal(err.line, 2);
    assert_string_equal(err.msg, "string or '}' expected near '}'");
    error_finish(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_types),
        cmocka_unit_test(test_values),     cmocka_unit_test(test_derived_id),
        cmocka_unit_test(test_lists),      cmocka_unit_test(test_limits),
        cmocka_unit_test(test_garbage),    cmocka_unit_test(test_jsonld),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
