/* SPDX-License-Identifier: MIT */
/* test_capture.c - the capture parser: meta lines, sections, ids, rejections */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "text.h"

#define NBSP "\xc2\xa0"
#define IDSP "\xe3\x80\x80"

static struct sf_zone zone;
static struct sf_capture_parser *parser;
static struct sf_errors warnings;
static struct sf_error error;

static const struct sf_capture_opts opts = {
    .encoding = SF_ENC_AUTO,
    .default_category = "未分类",
    .site_host = "example.org",
};

static int
setup(void **state)
{
    if (!when_zone_init(&zone, "Asia/Shanghai"))
        return -1;
    parser = capture_parser_new(&zone);
    return 0;
}

static int
teardown(void **state)
{
    capture_parser_free(parser);
    errors_finish(&warnings);
    error_finish(&error);
    return 0;
}

static struct sf_record *
parse_with(const char *text, size_t len, const struct sf_capture_opts *o)
{
    errors_clear(&warnings);
    error_finish(&error);
    return capture_parse(parser, "t.txt", text, len, o, &error, &warnings);
}

static struct sf_record *
parse(const char *text)
{
    return parse_with(text, strlen(text), &opts);
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

/* Meta lines in every separator and colon form, fields in any order. */
static const struct {
    const char *meta;
    const char *category, *published, *source, *author;
} meta_cases[] = {
    {"类别:教育" NBSP "发布时间:2023-10-27 20:28:00" NBSP "来源:每日看点快看",
     "教育", "2023-10-27T20:28:00+08:00", "每日看点快看", NULL},
    {"类别:教育 发布时间:2023-10-27 20:28:00 来源:每日看点快看",
     "教育", "2023-10-27T20:28:00+08:00", "每日看点快看", NULL},
    {"类别：科技" IDSP "发布时间：2023/10/27 20:28:00" IDSP "来源：新华网",
     "科技", "2023-10-27T20:28:00+08:00", "新华网", NULL},
    {"来源:人民网\t类别:体育\t发布时间:2024年3月5日 8:05",
     "体育", "2024-03-05T08:05:00+08:00", "人民网", NULL},
    {"发布时间:2023-10-27 20:28 类别:财经 作者:张三 来源:财新",
     "财经", "2023-10-27T20:28:00+08:00", "财新", "张三"},
    {"类别:文化 编辑:李四 发布时间:2023-10-27 20:28:00",
     "文化", "2023-10-27T20:28:00+08:00", NULL, "李四"},
    {"类别:文化 编辑:李四 作者:王五 发布时间:2023-10-27 20:28:00",
     "文化", "2023-10-27T20:28:00+08:00", NULL, "王五"},
    {"类别:健康 点击:123 责任编辑:赵六 发布时间:2023-10-27 20:28:00 来源:健康报 社",
     "健康", "2023-10-27T20:28:00+08:00", "健康报 社", NULL},
    {"类别: 教育  发布时间: 2023-10-27 20:28:00  来源: https://news.example/a",
     "教育", "2023-10-27T20:28:00+08:00", "https://news.example/a", NULL},
    {NBSP "类别:教育" NBSP NBSP "发布时间:2023-10-27 20:28:00" NBSP, "教育",
     "2023-10-27T20:28:00+08:00", NULL, NULL},
};

static void
test_meta_lines(void **state)
{
    for (size_t i = 0; i < sizeof meta_cases / sizeof meta_cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "标题\n\n%s\n\n正文。\n\n快照生成时间:2023-10-28 00:45:01\n",
                 meta_cases[i].meta);
        struct sf_record *r = parse(text);
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        str_is(r->category, meta_cases[i].category);
        time_is(&r->published, meta_cases[i].published);
        str_is(r->source, meta_cases[i].source);
        str_is(r->author, meta_cases[i].author);
        assert_int_equal(r->n_body, 1);
        assert_string_equal(r->body[0], "正文。");
        record_free(r);
    }
}

static void
test_sections(void **state)
{
    const char *text =
        "\xef\xbb\xbf• 我的订阅\r\n  • 科技\r\n\r\n新型电池研发取得进展  \r\n\r\n"
        "发布时间:2024-05-01 09:30:00" NBSP "来源:科技日报\r\n\r\n转自:新华社\r\n\r\n"
        IDSP IDSP "第一段第一行\r\n第一段第二行\r\n\r\n"
        "新型电池研发取得进展\r\n\r\n实验室一角。记者 王某 摄\r\n\r\n"
        "English line one\r\nline two\r\n\r\n"
        "以上内容为资讯信息快照,由Snap.Example.NET爬虫进行采集并收录,本站未对信息做任何修改,信息内容不代表本站立场。\r\n\r\n"
        "快照生成时间:2024-05-02 10:00:00\r\n\r\n"
        "本站信息快照查询为非营利公共服务,如有侵权请联系我们进行删除。\r\n\r\n"
        "信息原文地址:https://news.example/科技/1.html\r\n\r\n"
        "...片段一\r\n2024-04-01 10:00:00\r\n标题二\r\n片段二\r\n2024-04-02 10:00:00\r\n"
        "标题三\r\n片段三甲\r\n片段三乙\r\n2024-04-03 10:00\r\n"
        "没有时间的行\r\n"
        "更多关于科　 技的资讯:\r\n甲标题\r\n甲摘要\r\n2024-05-01 08:00:00\r\n"
        "乙标题\r\n2024-02-30 08:00:00\r\n"
        "丙标题\r\n丙摘要\r\n2024-05-01 07:00:00\r\n丁标题\r\n丁摘要";
    struct sf_record *r = parse(text);
    assert_non_null(r);
    str_is(r->title, "新型电池研发取得进展");
    assert_int_equal(r->line, 4);
    str_is(r->category, "科技");   /* from the last breadcrumb */
    time_is(&r->published, "2024-05-01T09:30:00+08:00");
    str_is(r->source, "科技日报");
    str_is(r->via, "新华社");
    time_is(&r->captured_at, "2024-05-02T10:00:00+08:00");
    str_is(r->captured_by, "snap.example.net");
    str_is(r->url, "https://news.example/%E7%A7%91%E6%8A%80/1.html");
    str_is(r->id, r->url);
    assert_int_equal(r->n_body, 2);
    str_is(r->body[0], "第一段第一行第一段第二行");
    str_is(r->body[1], "English line one line two");
    assert_int_equal(r->n_related, 3);
    assert_null(r->related[0].title);
    str_is(r->related[0].snippet, "...片段一");
    str_is(r->related[1].title, "标题二");
    str_is(r->related[2].snippet, "片段三甲片段三乙");
    time_is(&r->related[2].published, "2024-04-03T10:00:00+08:00");
    assert_int_equal(r->n_listing, 2);   /* the impossible date and the unfinished one drop */
    str_is(r->listing[0].category, "科 技");   /* blanks squeezed, as in meta values */
    str_is(r->listing[0].title, "甲标题");
    str_is(r->listing[0].summary, "甲摘要");
    str_is(r->listing[1].title, "丙标题");
    assert_int_equal(warnings.n, 0);
    record_free(r);
}

static void
test_fallbacks_and_warnings(void **state)
{
    static const struct {
        const char *text;
        const char *published, *category;
        const char *warning;   /* the first warning, or NULL */
    } cases[] = {
        {"标题\n类别:教育\n\n快照生成时间:2023-10-28 00:45:01\n", "2023-10-28T00:45:01+08:00",
         "教育", "warning: no 发布时间; using 快照生成时间"},
        {"标题\n类别:教育 发布时间:2023-02-30 10:00:00\n\n快照生成时间:2023-10-28 00:45:01\n",
         "2023-10-28T00:45:01+08:00", "教育",
         "warning: 发布时间 '2023-02-30 10:00:00' is not a valid time; using 快照生成时间"},
        {"标题\n发布时间:2023-10-27 10:00:00\n", "2023-10-27T10:00:00+08:00", "未分类",
         "warning: no 类别; using '未分类'"},
        {"标题\n类别:教育 发布时间:2023-10-27 10:00:00\n\n信息原文地址:/a/b.html\n",
         "2023-10-27T10:00:00+08:00", "教育",
         "warning: 信息原文地址 '/a/b.html' is not an absolute http(s) URL; ignored"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_record *r = parse(cases[i].text);
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        time_is(&r->published, cases[i].published);
        str_is(r->category, cases[i].category);
        if (cases[i].warning) {
            assert_true(warnings.n >= 1);
            assert_string_equal(warnings.v[0].msg, cases[i].warning);
        }
        record_free(r);
    }
}

static void
test_rejections(void **state)
{
    static const struct {
        const char *text;
        size_t len;
        const char *msg;
        unsigned line;
    } cases[] = {
        {"", 0, "empty file", 0},
        {"\xef\xbb\xbf  \n\n" IDSP "\n", 0, "empty file", 0},
        {"标题\n\x00\x01", 8, "binary data (NUL byte)", 2},
        {"标题\n第二行\n\xff\xfe\xff\n", 0, "neither UTF-8 nor GB18030", 3},
        {"• 我的订阅\n• 教育\n", 0, "no title", 0},
        {"类别:教育 发布时间:2023-10-27 10:00:00\n正文\n", 0, "no title", 0},
        {"标题\n类别:教育\n正文\n", 0, "no 发布时间 or 快照生成时间 to date it by", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        struct sf_record *r = parse_with(cases[i].text, len, &opts);
        if (r)
            fail_msg("case %zu accepted", i);
        assert_string_equal(error.msg, cases[i].msg);
        assert_int_equal(error.line, cases[i].line);
        assert_string_equal(error.path, "t.txt");
    }
}

static void
test_gb18030(void **state)
{
    /* "标题\n类别:教育 发布时间:2023-10-27 20:28:00\n\n正文。\n" in GB18030 */
    static const char gb[] = "\xb1\xea\xcc\xe2\n\xc0\xe0\xb1\xf0:\xbd\xcc\xd3\xfd "
                             "\xb7\xa2\xb2\xbc\xca\xb1\xbc\xe4:2023-10-27 20:28:00\n\n"
                             "\xd5\xfd\xce\xc4\xa1\xa3\n";
    struct sf_record *r = parse(gb);
    assert_non_null(r);
    str_is(r->title, "标题");
    str_is(r->category, "教育");
    str_is(r->body[0], "正文。");
    record_free(r);

    struct sf_capture_opts utf8_only = opts;
    utf8_only.encoding = SF_ENC_UTF8;
    assert_null(parse_with(gb, strlen(gb), &utf8_only));
    assert_string_equal(error.msg, "not valid UTF-8");

    struct sf_capture_opts gb_only = opts;
    gb_only.encoding = SF_ENC_GB18030;
    r = parse_with(gb, strlen(gb), &gb_only);
    assert_non_null(r);
    str_is(r->title, "标题");
    record_free(r);
}

/* The id does not change between captures of one article, and changes when
 * the article does. */
static void
test_id_stability(void **state)
{
#define ID_FMT                                                                             \
    "标题%s\n类别:教育 发布时间:2023-10-27 20:28:00 来源:%s\n\n正文%s\n\n"                   \
    "以上内容为资讯信息快照,由td.fyun.cc爬虫进行采集\n"                                      \
    "快照生成时间:%s\n\n信息原文地址:%s\n"
    static const struct {
        const char *title, *source, *body, *captured, *url;
        int same_as;   /* index of a case with the same id, or -1 */
    } cases[] = {
        {"", "新华网", "一", "2023-10-28 00:45:01", "", -1},
        {"", "新华网", "改过的正文", "2023-10-29 08:00:00", "", 0},   /* re-capture */
        {"", "人民网", "一", "2023-10-28 00:45:01", "", -2},
        {"二", "新华网", "一", "2023-10-28 00:45:01", "", -2},
        {"", "新华网", "一", "2023-10-28 00:45:01", "https://a.example/1", -2},
        {"三", "别处", "二", "2024-01-01 00:00:00", "https://a.example/1", 4},
    };
    char *ids[sizeof cases / sizeof cases[0]];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, ID_FMT, cases[i].title, cases[i].source, cases[i].body,
                 cases[i].captured, cases[i].url);
        struct sf_record *r = parse(text);
        assert_non_null(r);
        ids[i] = strdup(r->id);
        record_free(r);
        if (cases[i].same_as >= 0)
            assert_string_equal(ids[i], ids[cases[i].same_as]);
        else
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(ids[i], ids[j]);
    }
    assert_string_equal(ids[4], "https://a.example/1");
    assert_int_equal(strncmp(ids[0], "tag:td.fyun.cc,2023-10-27:", 26), 0);
    assert_int_equal(strlen(ids[0]), 26 + 16);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        free(ids[i]);

    /* Without a crawler host, the site's host is the tag authority. */
    struct sf_record *r = parse("标题\n类别:教育 发布时间:2023-10-27 20:28:00\n");
    assert_non_null(r);
    assert_int_equal(strncmp(r->id, "tag:example.org,2023-10-27:", 27), 0);
    record_free(r);
}

/* Characters XML cannot hold never reach a record. */
static void
test_hostile_text(void **state)
{
    struct sf_record *r = parse("A\x01 & <b> \x7f" "标题\xc2\x85\n类别:a/../b\x08 发布时间:2023-10-27 20:28:00\n\n"
                                "<script>alert(1)</script>\x1b[31m\n");
    assert_non_null(r);
    assert_string_equal(r->title, "A & <b> 标题");
    assert_string_equal(r->category, "a/../b");
    assert_string_equal(r->body[0], "<script>alert(1)</script>[31m");
    record_free(r);
}

/* A 2 MB single line: parsed (or refused) in one linear pass. */
static void
test_long_line(void **state)
{
    size_t n = 2u << 20;
    char *big = malloc(n + 64);
    memcpy(big, "标题\n类别:教育 发布时间:2023-10-27 20:28:00\n", strlen("标题\n类别:教育 发布时间:2023-10-27 20:28:00\n"));
    size_t off = strlen("标题\n类别:教育 发布时间:2023-10-27 20:28:00\n");
    static const char unit[] = ":•";   /* 4 bytes */
    n -= (n - off) % 4;
    for (size_t i = off; i < n; i++)
        big[i] = unit[(i - off) % 4];
    struct sf_record *r = parse_with(big, n, &opts);
    assert_non_null(r);
    assert_int_equal(r->n_body, 1);
    assert_true(strlen(r->body[0]) <= (1u << 20));
    assert_true(text_utf8_valid(r->body[0], strlen(r->body[0]), NULL));
    record_free(r);
    free(big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_lines),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_fallbacks_and_warnings),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_id_stability),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_long_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
