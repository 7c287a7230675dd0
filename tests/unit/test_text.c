/* SPDX-License-Identifier: MIT */
/* test_text.c - UTF-8 checks, GB18030, trimming, cleaning, cutting */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static const struct {
    const char *in;
    size_t len;     /* 0: strlen */
    bool valid;
    size_t bad;
} utf8_cases[] = {
    {"", 0, true, 0},
    {"plain ascii text, long enough to take the 8-byte path", 0, true, 0},
    {"教育 科技 😀", 0, true, 0},
    {"\xc2\xa0\xe3\x80\x80", 0, true, 0},
    {"abc\xff", 0, false, 3},
    {"\xc0\xaf", 0, false, 0},              /* overlong '/' */
    {"\xe0\x80\xaf", 0, false, 0},          /* overlong */
    {"ab\xed\xa0\x80", 0, false, 2},        /* surrogate */
    {"\xf4\x90\x80\x80", 0, false, 0},      /* above U+10FFFF */
    {"\xf5\x80\x80\x80", 0, false, 0},
    {"\xe6\x95", 0, false, 0},              /* cut short */
    {"12345678\xe6\x95\x99\xe8", 0, false, 11},
    {"\xe6\x95\x99\x80", 0, false, 3},      /* stray continuation */
};

static void
test_utf8(void **state)
{
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
        size_t n = utf8_cases[i].len ? utf8_cases[i].len : strlen(utf8_cases[i].in);
        size_t bad = 999;
        bool ok = text_utf8_valid(utf8_cases[i].in, n, &bad);
        if (ok != utf8_cases[i].valid)
            fail_msg("case %zu: valid=%d", i, ok);
        if (!ok && bad != utf8_cases[i].bad)
            fail_msg("case %zu: bad at %zu, want %zu", i, bad, utf8_cases[i].bad);
    }
}

/* text_scan agrees with the two checks it fuses, at every length and
 * alignment (the 8-byte fast path must not skip what the slow one sees). */
static void
scan_samples(void)
{
    /* No bytes at all may come as a NULL pointer (an empty file). */
    size_t bad0 = 99;
    bool dirty0 = true;
    assert_true(text_scan(NULL, 0, &bad0, &dirty0));
    assert_false(dirty0);
    static const char *const samples[] = {
        "plain ascii\nwith newlines\n", "教育新闻，全角标点。", "tab\there", "cr\r\nlf",
        "bell\x07", "del\x7f", "c1\xc2\x85", "nbsp\xc2\xa0ok", "fffe\xef\xbf\xbe",
        "fffd\xef\xbf\xbd", "😀 emoji", "bad\xff", "\xe6\x95", "\xed\xa0\x80",
        /* long CJK runs: the two-characters-per-load path */
        "教育新闻教育新闻教育新闻教育新闻", "教育新闻教育新闻\xe6\x95教育新闻",
        "教育新闻教育\xe6\x95\x41新闻教育", "教育新闻\xed\xa0\x80教育新闻教育新闻",
        "教育新闻教育新闻\xef\xbf\xbe教育新闻", "教育新闻，、。教育新闻\x01教育",
    };
    char buf[128];
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        for (size_t pad = 0; pad < 9; pad++) {
            memset(buf, 'a', pad);
            size_t n = pad + strlen(samples[i]);
            memcpy(buf + pad, samples[i], strlen(samples[i]));
            size_t bad1 = 0, bad2 = 0;
            bool dirty = false;
            bool v1 = text_scan(buf, n, &bad1, &dirty);
            bool dirty2 = false;
            bool v2 = text_scan_portable(buf, n, &bad2, &dirty2);
            assert_int_equal(v1, v2);
            if (!v1)
                assert_int_equal(bad1, bad2);
            else {
                assert_int_equal(dirty, dirty2);
                assert_int_equal(dirty, text_needs_clean(buf, n, true));
            }
        }
    }
}

/* The vector scan and the portable one agree on pseudo-random strings
 * built from the pieces that matter: every lead and continuation range,
 * the edges of each form, controls, DEL, C1, U+FFFE/FFFF, long CJK runs
 * crossing 16-byte blocks, and forms cut short at the end. */
static void
scan_random(void)
{
    static const char *const pieces[] = {
        "a", " ", "\n", "\t", "\r", "\x01", "\x1f", "\x7f", "教", "育", "，", "。", "\xe3\x80\x80",
        "\xc2\xa0", "\xc2\x85", "\xc2\x9f", "\xc2\xbf", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf", "\xef\xbc\x8c",
        "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "😀",
        /* each alone is invalid, or cuts a form short */
        "\x80", "\xbf", "\xc0", "\xc1\xbf", "\xc2", "\xe0\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
        "\xe6\x95", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8", "\xff",
        "\xf0\x90\x80",
    };
    const size_t n_pieces = sizeof pieces / sizeof pieces[0];
    const size_t n_valid = 28;  /* pieces[0..n_valid) are valid alone */
    uint64_t seed = 12345;
    char buf[256];
    for (int round = 0; round < 200000; round++) {
        size_t n = 0;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t count = (size_t)(seed >> 58);    /* 0..63 pieces */
        bool invalid_ok = (seed >> 20) % 4 == 0;
        for (size_t k = 0; k < count; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t pick = (size_t)(seed >> 33) % (invalid_ok ? n_pieces : n_valid);
            /* mostly CJK, as in the captures */
            if ((seed >> 12) % 3 == 0)
                pick = 8;
            size_t len = strlen(pieces[pick]);
            if (n + len > sizeof buf)
                break;
            memcpy(buf + n, pieces[pick], len);
            n += len;
        }
        size_t bad1 = 0, bad2 = 0;
        bool d1 = false, d2 = false;
        bool v1 = text_scan(buf, n, &bad1, &d1);
        bool v2 = text_scan_portable(buf, n, &bad2, &d2);
        if (v1 != v2 || (v1 && d1 != d2) || (!v1 && bad1 != bad2))
            fail_msg("round %d (%zu bytes): valid %d/%d dirty %d/%d bad %zu/%zu", round, n, v1, v2,
                     d1, d2, bad1, bad2);
        if (!invalid_ok && !v1)
            fail_msg("round %d: valid pieces judged invalid", round);
    }
}

static void
test_cut(void **state)
{
    static const struct {
        const char *in;
        size_t max, want;
    } cases[] = {
        {"abc", 5, 3},        {"abcdef", 3, 3},          {"ab cd", 3, 2},
        {"ab   cd", 4, 2},    {"教育新闻", 7, 6},        {"教育新闻", 6, 6},
        {"教育\xc2\xa0新闻", 8, 6}, {"教育\xe3\x80\x80新闻", 9, 6}, {"a\xe3\x80\x80", 2, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = text_cut(cases[i].in, strlen(cases[i].in), cases[i].max);
        if (got != cases[i].want)
            fail_msg("text_cut('%s', %zu) = %zu, want %zu", cases[i].in, cases[i].max, got,
                     cases[i].want);
    }
}

static void
test_gb18030(void **state)
{
    static const struct {
        const char *in, *out;   /* out NULL: not GB18030 */
    } cases[] = {
        {"\xbd\xcc\xd3\xfd", "教育"},                  /* GBK */
        {"\xbf\xc6\xbc\xbc abc", "科技 abc"},
        {"\x81\x30\x81\x30", "\xc2\x80"},               /* a four-byte GB18030 form */
        {"\x90\x30\x81\x30", "\xf0\x90\x80\x80"},       /* U+10000 */
        {"\xff\xff", NULL},
        {"\xbd", NULL},                                  /* cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        bool ok = text_gb18030_to_utf8(cases[i].in, strlen(cases[i].in), &b, NULL);
        if (!cases[i].out) {
            if (ok)
                fail_msg("case %zu should fail", i);
        } else {
            if (!ok)
                fail_msg("case %zu failed", i);
            assert_string_equal(b.data, cases[i].out);
        }
        buf_finish(&b);
    }
}

static void
test_trim_and_clean(void **state)
{
    static const struct {
        const char *in, *trimmed, *cleaned;
    } cases[] = {
        {"  abc  ", "abc", "  abc  "},
        {"\xc2\xa0\xe3\x80\x80正文\xe3\x80\x80\xc2\xa0\t", "正文", "\xc2\xa0\xe3\x80\x80正文\xe3\x80\x80\xc2\xa0 "},
        {"a\x01" "b\x08" "c\x7f" "d", "a\x01" "b\x08" "c\x7f" "d", "abcd"},
        {"x\xc2\x85y\xc2\x9fz\xc2\xa9", "x\xc2\x85y\xc2\x9fz\xc2\xa9", "xyz\xc2\xa9"},
        {"a\xef\xbf\xbe" "b\xef\xbf\xbf" "c\xef\xbf\xbd", "a\xef\xbf\xbe" "b\xef\xbf\xbf" "c\xef\xbf\xbd",
         "abc\xef\xbf\xbd"},
        {"a\tb", "a\tb", "a b"},
        {"", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s = cases[i].in;
        size_t n = strlen(s);
        text_trim(&s, &n);
        if (n != strlen(cases[i].trimmed) || memcmp(s, cases[i].trimmed, n) != 0)
            fail_msg("case %zu: trim gave '%.*s'", i, (int)n, s);
        char out[64];
        size_t m = text_copy_clean(out, cases[i].in, strlen(cases[i].in), false);
        out[m] = '\0';
        assert_string_equal(out, cases[i].cleaned);
        assert_int_equal(text_needs_clean(cases[i].in, strlen(cases[i].in), false),
                         strcmp(cases[i].in, cases[i].cleaned) != 0);
    }
    /* With lines: CRLF becomes LF, LF stays, a lone CR goes. */
    char out[32];
    const char *in = "a\r\nb\rc\nd";
    size_t m = text_copy_clean(out, in, strlen(in), true);
    out[m] = '\0';
    assert_string_equal(out, "a\nbc\nd");
    assert_false(text_needs_clean("a\nb", 3, true));
    assert_true(text_needs_clean("a\r\nb", 4, true));
}

/* Fields from JSON and HTML: the record's text rules, idempotent. */
static void
test_clean_field(void **state)
{
    static const struct {
        const char *in;
        enum sf_clean how;
        const char *out;
    } cases[] = {
        {"  标题  ", SF_CLEAN_TEXT, "标题"},
        {"\xc2\xa0\xe3\x80\x80正文\xe3\x80\x80", SF_CLEAN_TEXT, "正文"},
        {"a  b\xc2\xa0\xc2\xa0" "c", SF_CLEAN_TEXT, "a  b\xc2\xa0\xc2\xa0" "c"},   /* runs kept */
        {"a\tb", SF_CLEAN_TEXT, "a b"},
        {"第一行\n第二行", SF_CLEAN_TEXT, "第一行第二行"},            /* CJK wrap: joined */
        {"第一行 \r\n  第二行", SF_CLEAN_TEXT, "第一行第二行"},
        {"line one\nline two", SF_CLEAN_TEXT, "line one line two"},
        {"中文\nEnglish", SF_CLEAN_TEXT, "中文 English"},
        {"a\x01" "b\x7f" "c\xc2\x85" "d\xef\xbf\xbe", SF_CLEAN_TEXT, "abcd"},
        {"bad\xff\xfe utf8", SF_CLEAN_TEXT, "bad utf8"},
        {" \n\t ", SF_CLEAN_TEXT, ""},
        {"", SF_CLEAN_TEXT, ""},
        {"新华\xc2\xa0\xc2\xa0社 \t 稿", SF_CLEAN_VALUE, "新华 社 稿"},
        {"  a \n b  ", SF_CLEAN_VALUE, "a b"},
        {"  Hello,\n   <b>world</b>  ", SF_CLEAN_HTML, "Hello, <b>world</b>"},
        {"中国\n    经济", SF_CLEAN_HTML, "中国经济"},
        {"中国  经济", SF_CLEAN_HTML, "中国 经济"},
        {"\xc2\xa0\xc2\xa0" "a\xc2\xa0\xc2\xa0" "b\xc2\xa0", SF_CLEAN_HTML, "a\xc2\xa0\xc2\xa0" "b"},
        {"\xe3\x80\x80\xe3\x80\x80段落", SF_CLEAN_HTML, "段落"},
        {"a\fb", SF_CLEAN_HTML, "a b"},
        {"a\fb", SF_CLEAN_TEXT, "ab"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        buf_append_str(&b, "<");
        size_t n = text_clean_field(cases[i].in, strlen(cases[i].in), cases[i].how, &b, NULL);
        if (strcmp(b.data + 1, cases[i].out) != 0)
            fail_msg("case %zu: got '%s'", i, b.data + 1);
        assert_int_equal(n, strlen(cases[i].out));
        /* cleaning clean text changes nothing */
        struct sf_buf again;
        buf_init(&again, 0);
        text_clean_field(b.data + 1, b.len - 1, cases[i].how, &again, NULL);
        assert_string_equal(again.data ? again.data : "", cases[i].out);
        buf_finish(&again);
        buf_finish(&b);
    }
    /* At the buffer's limit: cut at a character, never inside one. */
    struct sf_buf b;
    buf_init(&b, 7);
    bool cut = false;
    size_t n = text_clean_field("教育新闻", strlen("教育新闻"), SF_CLEAN_TEXT, &b, &cut);
    assert_true(cut);
    assert_int_equal(n, 6);
    assert_string_equal(b.data, "教育");
    buf_finish(&b);
}

static void
test_decode(void **state)
{
    static const struct {
        const char *charset, *in;
        size_t len;
        const char *out;    /* NULL: fails */
    } cases[] = {
        {"GB18030", "\xbd\xcc\xd3\xfd", 4, "教育"},
        {"BIG5-HKSCS", "\xb1\xd0\xa8\x7c", 4, "教育"},
        {"UTF-16LE", "\x59\x65\xb2\x80", 4, "教育"},
        {"UTF-16BE", "\x65\x59\x80\xb2", 4, "教育"},
        {"WINDOWS-1252", "caf\xe9 \x93q\x94", 8, "café “q”"},
        {"UTF-16LE", "\x59", 1, NULL},
        {"NO-SUCH-CHARSET", "abc", 3, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_buf b;
        buf_init(&b, 0);
        bool ok = text_decode(cases[i].charset, cases[i].in, cases[i].len, &b, NULL);
        if (ok != (cases[i].out != NULL))
            fail_msg("case %zu: ok=%d", i, ok);
        if (ok)
            assert_string_equal(b.data, cases[i].out);
        buf_finish(&b);
    }
}

static void
test_cut_sentence(void **state)
{
    static const struct {
        const char *in;
        size_t max;
        const char *out;
        bool whole;
    } cases[] = {
        {"短句。", 10, "短句。", true},
        {"第一句。第二句很长很长很长", 8, "第一句。", false},
        {"第一句。第二句！第三句很长很长很长", 9, "第一句。第二句！", false},
        {"没有句号的一段很长很长的文字", 5, "没有句号的", false},
        {"Hello world. More text here", 8, "Hello wo", false},
        {"Really? Yes it is long", 10, "Really?", false},
        {"😀😀😀😀", 2, "😀😀", false},
        {"", 5, "", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool whole;
        size_t n = text_cut_sentence(cases[i].in, strlen(cases[i].in), cases[i].max, &whole);
        if (n != strlen(cases[i].out) || memcmp(cases[i].in, cases[i].out, n) != 0)
            fail_msg("case %zu: got '%.*s'", i, (int)n, cases[i].in);
        assert_int_equal(whole, cases[i].whole);
    }
    assert_int_equal(text_utf8_count("教育ab😀", strlen("教育ab😀")), 5);
    assert_int_equal(text_utf8_prefix("教育ab", strlen("教育ab"), 1), 3);
}

static void
test_find(void **state)
{
    const char *s = "以上内容为资讯信息快照,由td.fyun.cc爬虫进行采集";
    const char *p = text_find(s, strlen(s), "爬虫", strlen("爬虫"));
    assert_non_null(p);
    assert_int_equal(p - s, strstr(s, "爬虫") - s);
    assert_null(text_find(s, strlen(s), "没有", strlen("没有")));
    assert_null(text_find("ab", 2, "abc", 3));
    const char *aab = "aab";
    assert_ptr_equal(text_find(aab, 3, "ab", 2), aab + 1);
}

/* Each vector scan the CPU has, against the portable one. */
static void
test_scan(void **state)
{
    static const unsigned widths[] = {64, 32, 16};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        text_scan_limit_width(widths[i]);
        scan_samples();
        scan_random();
    }
    text_scan_limit_width(64);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),           cmocka_unit_test(test_scan),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_trim_and_clean), cmocka_unit_test(test_cut_sentence),
        cmocka_unit_test(test_find),           cmocka_unit_test(test_clean_field),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
