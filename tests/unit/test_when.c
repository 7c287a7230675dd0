/* SPDX-License-Identifier: MIT */
/* test_when.c - date forms, zones, impossible dates, formatting */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "when.h"

static const struct {
    const char *zone;
    const char *in;
    const char *rfc3339;   /* NULL: must be refused */
} local_cases[] = {
    {"Asia/Shanghai", "2023-10-27 20:28:00", "2023-10-27T20:28:00+08:00"},
    {"Asia/Shanghai", "2023-10-27 20:28", "2023-10-27T20:28:00+08:00"},
    {"Asia/Shanghai", "2023/10/27 20:28:05", "2023-10-27T20:28:05+08:00"},
    {"Asia/Shanghai", "2023/10/27 20:28", "2023-10-27T20:28:00+08:00"},
    {"Asia/Shanghai", "2023年10月27日 20:28", "2023-10-27T20:28:00+08:00"},
    {"Asia/Shanghai", "2023年10月27日20:28", "2023-10-27T20:28:00+08:00"},
    {"Asia/Shanghai", "2023年10月27日 20:28:09", "2023-10-27T20:28:09+08:00"},
    {"Asia/Shanghai", "2024年3月5日 8:05", "2024-03-05T08:05:00+08:00"},
    {"Asia/Shanghai", "2024-3-5 8:05", "2024-03-05T08:05:00+08:00"},
    {"Asia/Shanghai", "2023-10-27", "2023-10-27T00:00:00+08:00"},
    {"Asia/Shanghai", "2023年10月27日", "2023-10-27T00:00:00+08:00"},
    {"Asia/Shanghai", "\xc2\xa0" "2023-10-27 20:28:00\xe3\x80\x80", "2023-10-27T20:28:00+08:00"},
    {"Asia/Shanghai", "2024-02-29 12:00:00", "2024-02-29T12:00:00+08:00"},
    {"Asia/Shanghai", "2000-02-29 12:00:00", "2000-02-29T12:00:00+08:00"},
    {"Asia/Shanghai", "1900-01-01 00:00:00", "1900-01-01T00:00:17+08:06"},  /* LMT +08:05:43 */
    /* The zone comes from the tz database, not a constant. */
    {"UTC", "2023-10-27 20:28:00", "2023-10-27T20:28:00+00:00"},
    {"Asia/Kolkata", "2023-10-27 20:28:00", "2023-10-27T20:28:00+05:30"},
    {"America/New_York", "2023-07-01 12:00:00", "2023-07-01T12:00:00-04:00"},
    {"America/New_York", "2023-12-01 12:00:00", "2023-12-01T12:00:00-05:00"},
    {"Europe/Berlin", "2023-03-26 01:59:59", "2023-03-26T01:59:59+01:00"},
    {"Europe/Berlin", "2023-03-26 03:00:00", "2023-03-26T03:00:00+02:00"},
    {"Asia/Shanghai", "1988-07-01 12:00:00", "1988-07-01T12:00:00+09:00"},  /* China had DST */
    /* Impossible values are refused, never rolled over. */
    {"Asia/Shanghai", "2023-02-30 10:00:00", NULL},
    {"Asia/Shanghai", "2023-02-29 10:00:00", NULL},
    {"Asia/Shanghai", "1900-02-29 10:00:00", NULL},
    {"Asia/Shanghai", "2024-01-15 25:61:00", NULL},
    {"Asia/Shanghai", "2024-01-15 24:00:00", NULL},
    {"Asia/Shanghai", "2024-01-15 23:60:00", NULL},
    {"Asia/Shanghai", "2024-01-15 23:59:60", NULL},
    {"Asia/Shanghai", "2024-13-01 10:00:00", NULL},
    {"Asia/Shanghai", "2024-00-10 10:00:00", NULL},
    {"Asia/Shanghai", "2024-04-31", NULL},
    {"Asia/Shanghai", "1899-12-31 10:00:00", NULL},
    /* LMT -03:30:52 shown as -03:31 would be 1899-12-31T23:59:52 (fuzz_when) */
    {"America/St_Johns", "1900-01-01 00:00:00", NULL},
    {"America/St_Johns", "1900-01-01 00:00:08", "1900-01-01T00:00:00-03:31"},
    {"Asia/Shanghai", "2024-01-15 10:00:00 extra", NULL},
    {"Asia/Shanghai", "2024-01/15 10:00", NULL},
    {"Asia/Shanghai", "2024年01-15 10:00", NULL},
    {"Asia/Shanghai", "20240115 10:00", NULL},
    {"Asia/Shanghai", "2024-01-15 10", NULL},
    {"Asia/Shanghai", "2024-01-15T10:00:00", NULL},  /* T is RFC 3339 only */
    {"Asia/Shanghai", "", NULL},
    {"Asia/Shanghai", "昨天 10:00", NULL},
};

static void
test_local_forms(void **state)
{
    for (size_t i = 0; i < sizeof local_cases / sizeof local_cases[0]; i++) {
        struct sf_zone z;
        assert_true(when_zone_init(&z, local_cases[i].zone));
        struct sf_time t = {0};
        const char *in = local_cases[i].in;
        bool ok = when_parse_local(&z, in, strlen(in), &t);
        if (!local_cases[i].rfc3339) {
            if (ok)
                fail_msg("case %zu '%s' should be refused", i, in);
            continue;
        }
        if (!ok)
            fail_msg("case %zu '%s' refused", i, in);
        char buf[SF_RFC3339_LEN];
        when_format_rfc3339(&t, buf);
        if (strcmp(buf, local_cases[i].rfc3339) != 0)
            fail_msg("case %zu '%s': got %s, want %s", i, in, buf, local_cases[i].rfc3339);
    }
}

static const struct {
    const char *in;
    int64_t t;         /* the instant, whatever the zone */
    const char *out;   /* as formatted back in Asia/Shanghai; NULL: refused */
} rfc3339_cases[] = {
    {"2023-10-27T20:28:00+08:00", 1698409680, "2023-10-27T20:28:00+08:00"},
    {"2023-10-27T12:28:00Z", 1698409680, "2023-10-27T12:28:00+00:00"},
    {"2023-10-27T12:28:00.123Z", 1698409680, "2023-10-27T12:28:00+00:00"},
    {"2023-10-27T07:28:00-05:00", 1698409680, "2023-10-27T07:28:00-05:00"},
    {"2023-10-27 20:28:00+08:00", 1698409680, "2023-10-27T20:28:00+08:00"},
    {"2023-10-27 20:28:00", 1698409680, "2023-10-27T20:28:00+08:00"},  /* no offset: the zone */
    {"2023-10-27T20:28:00+24:00", 0, NULL},
    {"2023-10-27T20:28:00+08", 0, NULL},
    {"2023-02-30T20:28:00+08:00", 0, NULL},
    /* Shown in Asia/Shanghai these would be the years 10000 and 1899,
     * printed as "0000-..." or refused when read back (fuzz_when). */
    {"9999-12-31T23:59:59-12:00", 0, NULL},
    {"1900-01-01T00:00:00+23:59", 0, NULL},
    {"9999-12-31T15:59:59Z", 253402271999, "9999-12-31T15:59:59+00:00"},
};

static void
test_rfc3339(void **state)
{
    struct sf_zone z;
    assert_true(when_zone_init(&z, "Asia/Shanghai"));
    for (size_t i = 0; i < sizeof rfc3339_cases / sizeof rfc3339_cases[0]; i++) {
        struct sf_time t = {0};
        const char *in = rfc3339_cases[i].in;
        bool ok = when_parse(&z, in, strlen(in), &t);
        if (!rfc3339_cases[i].out) {
            if (ok)
                fail_msg("case %zu '%s' should be refused", i, in);
            continue;
        }
        if (!ok)
            fail_msg("case %zu '%s' refused", i, in);
        assert_int_equal(t.t, rfc3339_cases[i].t);
        char buf[SF_RFC3339_LEN];
        when_format_rfc3339(&t, buf);
        assert_string_equal(buf, rfc3339_cases[i].out);
    }
}

static void
test_formats(void **state)
{
    struct sf_zone z;
    assert_true(when_zone_init(&z, "Asia/Shanghai"));
    static const struct {
        const char *in, *rfc822, *cn, *date;
    } cases[] = {
        {"2023-10-27 20:28:00", "Fri, 27 Oct 2023 20:28:00 +0800", "2023年10月27日 20:28",
         "2023-10-27"},
        {"2024-03-05 08:05:09", "Tue, 05 Mar 2024 08:05:09 +0800", "2024年3月5日 08:05",
         "2024-03-05"},
        {"2024-01-01 00:00:00", "Mon, 01 Jan 2024 00:00:00 +0800", "2024年1月1日 00:00",
         "2024-01-01"},
        {"1970-01-01 08:00:00", "Thu, 01 Jan 1970 08:00:00 +0800", "1970年1月1日 08:00",
         "1970-01-01"},
        {"1969-12-31 07:59:59", "Wed, 31 Dec 1969 07:59:59 +0800", "1969年12月31日 07:59",
         "1969-12-31"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_time t;
        assert_true(when_parse_local(&z, cases[i].in, strlen(cases[i].in), &t));
        char a[SF_RFC822_LEN], b[SF_CN_LEN], c[11];
        when_format_rfc822(&t, a);
        when_format_cn(&t, b);
        when_format_date(&t, c);
        assert_string_equal(a, cases[i].rfc822);
        assert_string_equal(b, cases[i].cn);
        assert_string_equal(c, cases[i].date);
    }
}

static void
test_zone_names(void **state)
{
    static const struct {
        const char *name;
        bool valid;
    } cases[] = {
        {"Asia/Shanghai", true},  {"UTC", true},          {"Europe/Paris", true},
        {"Asia/Chongqing", true}, {"Mars/Olympus", false}, {"", false},
        {"/etc/passwd", false},   {"../../etc/passwd", false}, {"Asia/../UTC", false},
        {"zone.tab", false},      {"Asia/Shang hai", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (when_zone_valid(cases[i].name) != cases[i].valid)
            fail_msg("zone '%s' should be %s", cases[i].name,
                     cases[i].valid ? "valid" : "invalid");
}

static void
test_looks_like_date(void **state)
{
    static const struct {
        const char *s;
        bool date;
    } cases[] = {
        {"2023-10-09 20:00:00", true},
        {"2023-02-30 20:00:00", true},   /* syntax only */
        {"2023年10月9日 20:00", true},
        {"2023-10-09", false},           /* related-list stamps carry a clock */
        {"...2023-10-09 20:00:00 something", false},
        {"2023年是个好年 10:00", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (when_looks_like_date(cases[i].s, strlen(cases[i].s)) != cases[i].date)
            fail_msg("'%s'", cases[i].s);
}

/* Times with an offset of their own are shown in the configured zone. */
static void
test_localize(void **state)
{
    static const struct {
        const char *zone, *in, *out;
    } cases[] = {
        {"Asia/Shanghai", "2024-03-05T02:00:00Z", "2024-03-05T10:00:00+08:00"},
        {"Asia/Shanghai", "2024-03-05T10:00:00+08:00", "2024-03-05T10:00:00+08:00"},
        {"Asia/Shanghai", "2024-03-04T21:00:00-05:00", "2024-03-05T10:00:00+08:00"},
        {"Asia/Shanghai", "2024-03-05 10:00", "2024-03-05T10:00:00+08:00"},
        {"Europe/Paris", "2024-07-01T12:00:00Z", "2024-07-01T14:00:00+02:00"},
        {"Europe/Paris", "2024-01-01T12:00:00Z", "2024-01-01T13:00:00+01:00"},
        {"UTC", "2024-03-05T10:00:00+08:00", "2024-03-05T02:00:00+00:00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_zone z;
        struct sf_time t;
        char buf[SF_RFC3339_LEN];
        assert_true(when_zone_init(&z, cases[i].zone));
        assert_true(when_parse(&z, cases[i].in, strlen(cases[i].in), &t));
        when_localize(&z, &t);
        when_format_rfc3339(&t, buf);
        if (strcmp(buf, cases[i].out) != 0)
            fail_msg("case %zu: %s", i, buf);
    }
    struct sf_zone z;
    struct sf_time unset = {0};
    assert_true(when_zone_init(&z, "Asia/Shanghai"));
    when_localize(&z, &unset);
    assert_false(unset.set);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_forms),  cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_formats),      cmocka_unit_test(test_zone_names),
        cmocka_unit_test(test_looks_like_date), cmocka_unit_test(test_localize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
