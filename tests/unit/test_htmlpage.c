/* SPDX-License-Identifier: MIT */
/* test_htmlpage.c - saved HTML pages: charsets, fields by trust, the body */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "htmlpage.h"
#include "limits.h"

static struct sf_zone zone;
static struct sf_htmlpage_parser *parser;
static struct sf_errors warnings;
static struct sf_error error;

static const struct sf_htmlpage_opts opts = {
    .encoding = SF_ENC_AUTO,
    .default_category = "未分类",
    .site_host = "example.org",
};

static int
setup(void **state)
{
    if (!when_zone_init(&zone, "Asia/Shanghai"))
        return -1;
    parser = htmlpage_parser_new(&zone);
    return 0;
}

static int
teardown(void **state)
{
    htmlpage_parser_free(parser);
    errors_finish(&warnings);
    error_finish(&error);
    return 0;
}

static struct sf_record *
parse_with(const char *html, size_t len, const struct sf_htmlpage_opts *o)
{
    errors_clear(&warnings);
    error_finish(&error);
    return htmlpage_parse(parser, "p.html", html, len, o, &error, &warnings);
}

static struct sf_record *
parse(const char *html)
{
    return parse_with(html, strlen(html), &opts);
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

static void
time_is(const struct sf_time *t, const char *want)
{
    char buf[SF_RFC3339_LEN];
    assert_true(t->set);
    when_format_rfc3339(t, buf);
    assert_string_equal(buf, want);
}

#define JSONLD(x) "<script type=\"application/ld+json\">" x "</script>"
#define META(p, c) "<meta property=\"" p "\" content=\"" c "\">"

/* Each field from the most trusted place that has it. */
static const struct {
    const char *html;
    const char *title, *category, *published, *source, *via, *author, *url;
    unsigned line;
} field_cases[] = {
    /* 0: JSON-LD beats OpenGraph beats markup */
    {"<html><head>\n<title>页面标题_新华网</title>\n"
     META("og:title", "OG 标题") META("og:site_name", "新华网")
     META("article:published_time", "2024-03-05T09:00:00+08:00")
     META("article:section", "国内") META("og:url", "https://og.example/1")
     "<link rel=\"canonical\" href=\"https://canon.example/1\">\n"
     JSONLD("{\"@type\":\"NewsArticle\",\"headline\":\"LD 标题\",\"datePublished\":"
            "\"2024-03-05T02:00:00Z\",\"author\":{\"name\":\"张三\"},\"publisher\":{\"name\":"
            "\"新华通讯社\"},\"articleSection\":\"科技\"}")
     "</head><body><time datetime=\"2020-01-01\">x</time><p>正文</p></body></html>",
     "LD 标题", "科技", "2024-03-05T10:00:00+08:00", "新华网", "新华通讯社", "张三",
     "https://og.example/1", 4},
    /* 1: OpenGraph alone */
    {"<html><head>" META("og:title", "只有 OG") META("og:site_name", "央视网")
     META("article:published_time", "2024-03-05 10:20") META("article:section", "财经")
     META("og:url", "https://tv.example/a.shtml") "</head><body><p>正文</p></body></html>",
     "只有 OG", "财经", "2024-03-05T10:20:00+08:00", "央视网", NULL, NULL,
     "https://tv.example/a.shtml", 1},
    /* 2: markup alone: <title> without the site's name, <time>, canonical */
    {"<html><head><title>纯标记页面 - 某某日报</title>" META("og:site_name", "某某日报")
     "<link rel=\"alternate canonical\" href=\"http://paper.example/x?a=1&amp;b=2\">"
     "</head><body><article><header><time datetime=\"2024-03-05T08:00\">3月5日</time></header>"
     "<p>正文</p></article></body></html>",
     "纯标记页面", "未分类", "2024-03-05T08:00:00+08:00", "某某日报", NULL, NULL,
     "http://paper.example/x?a=1&b=2", 1},
    /* 3: the publisher is the source when the site has no name; meta author */
    {"<title>T</title><meta name=\"author\" content=\" 李四 \"><meta name=\"PubDate\" "
     "content=\"2024-03-05 10:00\">" JSONLD("{\"@type\":\"Article\",\"publisher\":\"日报社\"}"),
     "T", "未分类", "2024-03-05T10:00:00+08:00", "日报社", NULL, "李四", NULL, 1},
    /* 4: a <time> inside the article beats one in the page's header */
    {"<title>T</title><body><div class=top><time datetime=\"2024-03-06\">今天</time></div>"
     "<article><p><time>2024-03-05 07:00</time> 正文</p></article></body>",
     "T", "未分类", "2024-03-05T07:00:00+08:00", NULL, NULL, NULL, NULL, 1},
    /* 5: a <time> in navigation dates something else */
    {"<title>T</title><nav><time datetime=\"2024-03-06\">今天</time></nav>"
     "<meta name=\"publishdate\" content=\"2024-03-01\">",
     "T", "未分类", "2024-03-01T00:00:00+08:00", NULL, NULL, NULL, NULL, 1},
    /* 6: article:author that is a profile URL is not a name */
    {"<title>T</title>" META("article:author", "https://fb.example/someone")
     META("article:published_time", "2024-03-05"),
     "T", "未分类", "2024-03-05T00:00:00+08:00", NULL, NULL, NULL, NULL, 1},
    /* 7: the same site name is not a separate original publisher */
    {"<title>T</title>" META("og:site_name", "人民网")
     JSONLD("{\"@type\":\"NewsArticle\",\"publisher\":{\"name\":\"人民网\"},\"datePublished\":"
            "\"2024-03-05\"}"),
     "T", "未分类", "2024-03-05T00:00:00+08:00", "人民网", NULL, NULL, NULL, 1},
    /* 8: JSON-LD wrapped for old browsers; a JSON-LD url */
    {"<title>T</title><script type=\"application/ld+json\">\n<!--\n{\"@type\":\"NewsArticle\","
     "\"headline\":\"包起来的\",\"datePublished\":\"2024-03-05\",\"url\":\"https://ld.example/1\"}"
     "\n-->\n</script>",
     "包起来的", "未分类", "2024-03-05T00:00:00+08:00", NULL, NULL, NULL, "https://ld.example/1", 1},
    /* 9: markup inside a title is text */
    {"<title>A &lt;b&gt; &amp; “引号”\n  标题</title><meta name=pubdate content=2024-03-05>",
     "A <b> & “引号”标题", "未分类", "2024-03-05T00:00:00+08:00", NULL, NULL, NULL, NULL, 1},
    /* 10: the CMS tags of government sites, below OpenGraph */
    {"<title>页面_某市人民政府</title><meta name=\"ArticleTitle\" content=\"市政府常务会议召开\">"
     "<meta name=\"ColumnName\" content=\"政务要闻\"><meta name=\"SiteName\" content=\"某市人民政府\">"
     "<meta name=\"ContentSource\" content=\"某市日报\"><meta name=\"PubDate\" "
     "content=\"2024-04-12 09:30\">",
     "市政府常务会议召开", "政务要闻", "2024-04-12T09:30:00+08:00", "某市人民政府", "某市日报", NULL,
     NULL, 1},
    /* 11: ... and OpenGraph above them */
    {"<title>x</title><meta name=\"ArticleTitle\" content=\"CMS\">" META("og:title", "OG")
     "<meta name=\"ColumnName\" content=\"栏目\">" META("article:section", "频道")
     "<meta name=\"SiteName\" content=\"站\">" META("og:site_name", "网")
     "<meta name=\"ContentSource\" content=\"网\"><meta name=pubdate content=2024-04-12>",
     "OG", "频道", "2024-04-12T00:00:00+08:00", "网", NULL, NULL, NULL, 1},
};

static void
test_fields(void **state)
{
    for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0]; i++) {
        struct sf_record *r = parse(field_cases[i].html);
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        str_is(r->title, field_cases[i].title);
        str_is(r->category, field_cases[i].category);
        time_is(&r->published, field_cases[i].published);
        str_is(r->source, field_cases[i].source);
        str_is(r->via, field_cases[i].via);
        str_is(r->author, field_cases[i].author);
        str_is(r->url, field_cases[i].url);
        assert_false(r->captured_at.set);
        assert_null(r->captured_by);
        if (r->url)
            str_is(r->id, r->url);
        else
            assert_int_equal(strncmp(r->id, "tag:example.org,2024-0", 22), 0);
        assert_int_equal(r->line, field_cases[i].line);
        str_is(r->file, "p.html");
        if (warnings.n)
            fail_msg("case %zu: warning '%s'", i, warnings.v[0].msg);
        record_free(r);
    }
}

/* What turns into a warning, and what rejects the page. */
static void
test_warnings_and_rejections(void **state)
{
    static const struct {
        const char *html;
        size_t len;                 /* 0: strlen */
        const char *warning;        /* the first warning, when accepted */
        const char *error;          /* NULL: accepted */
    } cases[] = {
        {"<title>T</title>" META("article:modified_time", "2024-03-06"), 0,
         "warning: no publication date; using article:modified_time", NULL},
        {"<title>T</title>" META("article:published_time", "昨天")
         META("article:modified_time", "2024-03-06"), 0,
         "warning: article:published_time '昨天' is not a valid time", NULL},
        {"<title>T</title><meta name=pubdate content=2024-03-05>" META("og:url", "/news/1.html"),
         0, "warning: og:url '/news/1.html' is not an absolute http(s) URL; ignored", NULL},
        {"<title>T</title><meta name=pubdate content=2024-03-05>"
         JSONLD("{\"@type\":\"NewsArticle\",}"), 0,
         "warning: JSON-LD is not valid JSON (1:24: string or '}' expected near '}'); ignored",
         NULL},
        {"<title>T</title>", 0, NULL,
         "no date: no datePublished, article:published_time, <time> or pubdate"},
        {"<title>T</title><time datetime=\"soon\">soon</time>", 0, NULL,
         "no date: no datePublished, article:published_time, <time> or pubdate"},
        {"<html><body><p>正文</p><meta name=pubdate content=2024-03-05></body></html>", 0, NULL,
         "no title: no JSON-LD headline, og:title or <title>"},
        {"<title>  </title><meta name=pubdate content=2024-03-05>", 0, NULL,
         "no title: no JSON-LD headline, og:title or <title>"},
        {"", 0, NULL, "empty file"},
        {" \n\t\r\n \f", 0, NULL, "empty file"},
        {"\xef\xbb\xbf \n ", 0, NULL, "empty file"},
        {"<title>T</title>\n\0<p>", 18, NULL, "binary data (NUL byte)"},
        {"\xff\xfe\x00\xd8", 4, NULL, "not valid UTF-16LE, as its byte order mark says"},
        {"<title>\xff\xff</title>", 0, NULL, "neither UTF-8 nor GB18030"},
        {"<meta charset=big5><title>\xff\xff</title>", 0, NULL,
         "neither big5 (as declared) nor UTF-8 nor GB18030"},
        {"<meta charset=klingon><title>T</title><meta name=pubdate content=2024-03-05>", 0,
         "warning: unknown charset 'klingon'; read as UTF-8 or GB18030", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].html);
        struct sf_record *r = parse_with(cases[i].html, len, &opts);
        if (cases[i].error) {
            if (r)
                fail_msg("case %zu accepted", i);
            if (strcmp(error.msg, cases[i].error) != 0)
                fail_msg("case %zu: '%s'", i, error.msg);
            continue;
        }
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        if (warnings.n == 0 || strcmp(warnings.v[0].msg, cases[i].warning) != 0)
            fail_msg("case %zu: warning '%s'", i, warnings.n ? warnings.v[0].msg : "(none)");
        record_free(r);
    }
}

/* "<title>教育</title><meta name=pubdate content=2024-03-05><p>正文。</p>" in
 * GB18030, with the charset said in each way pages say it. */
#define GB_TITLE "<title>\xbd\xcc\xd3\xfd</title><meta name=pubdate content=2024-03-05>"
#define GB_BODY "<p>\xd5\xfd\xce\xc4\xa1\xa3</p>"

static void
test_charsets(void **state)
{
    static const struct {
        const char *html;
        size_t len;
        enum sf_encoding enc;
        const char *title, *body;   /* title NULL: rejected */
        const char *warning;
    } cases[] = {
        {"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\">" GB_TITLE GB_BODY,
         0, SF_ENC_AUTO, "教育", "正文。", NULL},
        {"<meta charset=\"gbk\">" GB_TITLE GB_BODY, 0, SF_ENC_AUTO, "教育", "正文。", NULL},
        {"<meta http-equiv=content-type content='text/html;charset=\"x-gbk\"'>" GB_TITLE GB_BODY, 0,
         SF_ENC_AUTO, "教育", "正文。", NULL},
        /* nothing declared: the capture fallback */
        {GB_TITLE GB_BODY, 0, SF_ENC_AUTO, "教育", "正文。", NULL},
        /* declared UTF-8 but GBK */
        {"<meta charset=utf-8>" GB_TITLE GB_BODY, 0, SF_ENC_AUTO, "教育", "正文。",
         "warning: declares charset utf-8 but is not; read as GB18030"},
        /* declared GBK but re-saved as UTF-8 */
        {"<meta charset=gbk><title>教育</title><meta name=pubdate content=2024-03-05><p>正文。</p>",
         0, SF_ENC_AUTO, "教育", "正文。", "warning: declares charset gbk but is not; read as UTF-8"},
        /* Big5, as Taiwan and Hong Kong sites write */
        {"<meta charset=big5><title>\xb1\xd0\xa8\x7c</title><meta name=pubdate content=2024-03-05>",
         0, SF_ENC_AUTO, "教育", NULL, NULL},
        /* the BOM beats the <meta> */
        {"\xef\xbb\xbf<meta charset=gbk><title>教育</title><meta name=pubdate content=2024-03-05>",
         0, SF_ENC_AUTO, "教育", NULL, NULL},
        {"\xff\xfe<\0t\0i\0t\0l\0e\0>\0\x59\x65\xb2\x80<\0/\0t\0i\0t\0l\0e\0>\0"
         "<\0t\0i\0m\0e\0>\0" "2\0" "0\0" "2\0" "4\0-\0" "0\0" "3\0-\0" "0\0" "5\0<\0/\0t\0i\0m\0e\0>\0",
         82, SF_ENC_AUTO, "教育", NULL, NULL},
        /* the configured encoding is obeyed */
        {GB_TITLE, 0, SF_ENC_GB18030, "教育", NULL, NULL},
        {GB_TITLE, 0, SF_ENC_UTF8, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_htmlpage_opts o = opts;
        o.encoding = cases[i].enc;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].html);
        struct sf_record *r = parse_with(cases[i].html, len, &o);
        if (!cases[i].title) {
            if (r)
                fail_msg("case %zu accepted", i);
            continue;
        }
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        str_is(r->title, cases[i].title);
        if (cases[i].body) {
            assert_int_equal(r->n_body, 1);
            str_is(r->body[0], cases[i].body);
        }
        if (cases[i].warning) {
            if (warnings.n == 0 || strcmp(warnings.v[0].msg, cases[i].warning) != 0)
                fail_msg("case %zu: warning '%s'", i, warnings.n ? warnings.v[0].msg : "(none)");
        } else if (warnings.n) {
            fail_msg("case %zu: warning '%s'", i, warnings.v[0].msg);
        }
        record_free(r);
    }
}

#define HEAD "<html><head><title>新闻标题</title><meta name=pubdate content=2024-03-05></head>"

/* The body: the article's block, its paragraphs, none of the page around. */
static void
test_body(void **state)
{
    static const struct {
        const char *html;
        const char *body[6];    /* NULL-terminated */
    } cases[] = {
        /* an <article>: header, figure, script, style, comments, nav, aside dropped */
        {HEAD "<body><nav><p>首页</p><p>新闻</p></nav><article><header><h1>新闻标题</h1>"
              "<p>来源：某报</p></header><p>　　第一段，\n    折行接着写。</p>"
              "<figure><img src=a.jpg><figcaption>图为现场</figcaption></figure>"
              "<script>document.write('x')</script><style>p{}</style><!-- 注释 -->"
              "<p>Second <b>bold</b>\n and <a href=#>link</a>.</p><aside><p>相关</p></aside>"
              "<footer><p>责任编辑：王五</p></footer></article></body></html>",
         {"第一段，折行接着写。", "Second bold and link.", NULL}},
        /* no <article>: the element whose own <p>s hold the most text */
        {HEAD "<body><div id=side><p>热点一</p><p>热点二</p></div><div id=detail>"
              "<p>正文第一段比较长的内容。</p><p>正文第二段也比较长的内容。</p></div>"
              "<div id=foot><p>版权所有</p></div></body></html>",
         {"正文第一段比较长的内容。", "正文第二段也比较长的内容。", NULL}},
        /* an <article> that is a teaser in a side column is not the article */
        {HEAD "<body><aside><article><p>别的文章</p></article></aside><div class=content>"
              "<p>真正的正文，比侧栏长得多的内容。</p></div><article><p>短</p></article></body>",
         {"真正的正文，比侧栏长得多的内容。", NULL}},
        /* itemprop=articleBody beats everything */
        {HEAD "<body><article><div class=info>2024-03-05 来源：某报</div><div "
              "itemprop=\"articleBody\"><p>只要这段。</p></div></article></body>",
         {"只要这段。", NULL}},
        /* <br>-separated paragraphs of old CMSs; the title repeated; hidden text */
        {HEAD "<body><div class=TRS_Editor>新闻标题<br>　　第一段。<br><br>　　第二段。"
              "<span hidden>隐藏</span><span aria-hidden=\"true\">也隐藏</span><br></div></body>",
         {"第一段。", "第二段。", NULL}},
        /* <main> when there are no <p>s at all */
        {HEAD "<body><div>页眉</div><main><div>甲段</div><div>乙段</div></main></body>",
         {"甲段", "乙段", NULL}},
        /* nothing but the head: no body, still a record */
        {HEAD "</html>", {NULL}},
        /* broken markup: unclosed, misnested, stray end tags */
        {HEAD "<body><div id=c><p>一<b>粗<i>斜</b>体</i><p>二</span></div></div><p>三",
         {"一粗斜体", "二", NULL}},
        {HEAD "<body><div id=c><p>一<b>粗<i>斜</b>体</i><p>二</span><p>三<table><td>格",
         {"一粗斜体", "二", "三", "格", NULL}},
        /* character references and control characters */
        {HEAD "<body><p>&lt;script&gt;alert(1)&lt;/script&gt; &#1;&#x7f;&#x85;x&nbsp;&nbsp;y</p>"
              "</body>",
         {"<script>alert(1)</script> x\xc2\xa0\xc2\xa0y", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_record *r = parse(cases[i].html);
        if (!r)
            fail_msg("case %zu rejected: %s", i, error.msg);
        size_t n = 0;
        while (cases[i].body[n])
            n++;
        if (r->n_body != n)
            fail_msg("case %zu: %zu paragraphs, first '%s'", i, r->n_body,
                     r->n_body ? r->body[0] : "");
        for (size_t k = 0; k < n; k++)
            if (strcmp(r->body[k], cases[i].body[k]) != 0)
                fail_msg("case %zu: paragraph %zu is '%s'", i, k, r->body[k]);
        record_free(r);
    }
}

/* Hostile pages: deep nesting (no recursion), huge paragraphs, many of
 * them. */
static void
test_hostile(void **state)
{
    size_t depth = 100000;
    size_t size = strlen(HEAD) + depth * 11 + 64;
    char *html = malloc(size);
    size_t o = (size_t)sprintf(html, "%s<body>", HEAD);
    for (size_t i = 0; i < depth; i++)
        o += (size_t)sprintf(html + o, "<div><p>x");
    struct sf_record *r = parse_with(html, o, &opts);
    if (!r)
        fail_msg("deep: %s", error.msg);
    str_is(r->title, "新闻标题");
    record_free(r);
    free(html);

    size = SF_MAX_LINE + 4096;
    html = malloc(size);
    o = (size_t)sprintf(html, "%s<body><p>", HEAD);
    while (o < size - 16)
        html[o++] = 'a';
    o += (size_t)sprintf(html + o, "</p>");
    r = parse_with(html, o, &opts);
    assert_non_null(r);
    assert_int_equal(r->n_body, 1);
    assert_true(strlen(r->body[0]) <= SF_MAX_LINE);
    assert_string_equal(warnings.v[0].msg, "warning: paragraph longer than 1048576 bytes; cut");
    record_free(r);
    free(html);

    size_t paras = SF_MAX_PARAGRAPHS + 10;
    html = malloc(strlen(HEAD) + paras * 8 + 64);
    o = (size_t)sprintf(html, "%s<body><div>", HEAD);
    for (size_t i = 0; i < paras; i++)
        o += (size_t)sprintf(html + o, "<p>p</p>");
    r = parse_with(html, o, &opts);
    assert_non_null(r);
    assert_int_equal(r->n_body, SF_MAX_PARAGRAPHS);
    assert_string_equal(warnings.v[0].msg, "warning: more than 10000 paragraphs; the rest dropped");
    record_free(r);
    free(html);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),   cmocka_unit_test(test_warnings_and_rejections),
        cmocka_unit_test(test_charsets), cmocka_unit_test(test_body),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
