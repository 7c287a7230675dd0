/* SPDX-License-Identifier: MIT */
/* when.h - capture date forms, IANA zones, RFC 3339 / RFC 822 formatting */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* An instant and the UTC offset it is shown with.  set is false when the
 * time is absent. */
struct sf_time {
    int64_t t;      /* seconds since 1970-01-01T00:00:00Z */
    int32_t off;    /* seconds east of UTC */
    bool set;
};

/*
 * The configured zone.  snapfeed shows every time in one zone, taken from
 * the system's tz database through libc: when_zone_init() points TZ at it,
 * so only one zone can be in use in a process at a time.  Conversions are
 * cached per zone object (one per parsing thread), because mktime() is slow
 * and a capture holds dozens of timestamps.
 */
#define SF_ZONE_CACHE 64
struct sf_zone {
    char name[64];
    struct {
        int64_t key;    /* (y, m, d, h) packed; 0 = empty */
        int64_t t;      /* the instant of HH:00:00 local */
        int32_t off;
    } cache[SF_ZONE_CACHE];
};

/* True when name is a zone of the system's tz database (a TZif file under
 * /usr/share/zoneinfo or $TZDIR); never a path. */
bool when_zone_valid(const char *name);

/* Selects zone name for the process and initializes z.  Returns false (and
 * changes nothing) when the zone is unknown. */
bool when_zone_init(struct sf_zone *z, const char *name);

/* A copy of z for another thread, sharing the process zone, empty cache. */
void when_zone_copy(struct sf_zone *dst, const struct sf_zone *src);

/*
 * Parses one of the capture date forms (docs/record.md) in s[0..n), the
 * whole of it, as a local time in zone z.  Returns false when s is not a
 * date of those forms or not a real calendar time.
 */
bool when_parse_local(struct sf_zone *z, const char *s, size_t n, struct sf_time *out);

/* True when s[0..n) looks like a date line of the capture forms (used to
 * find the ends of related-list groups); cheaper than parsing. */
bool when_looks_like_date(const char *s, size_t n);

/*
 * Parses RFC 3339 ("2023-10-27T20:28:00+08:00", "...Z", fractional seconds
 * dropped).  Without an offset, the local forms are tried in zone z.
 */
bool when_parse(struct sf_zone *z, const char *s, size_t n, struct sf_time *out);

/*
 * Shows t (when set) in the configured zone: the same instant, with the
 * zone's offset for it, as every time of a record carries (docs/record.md).
 * For times that came with an offset of their own (RFC 3339 in JSON Lines
 * and HTML pages).  Cannot fail.
 */
void when_localize(struct sf_zone *z, struct sf_time *t);

/*
 * Whether t, set or not, is within what parsing can give: an offset of
 * less than a day, an instant within a day of 1900-9999 UTC.  For times
 * read back from the state files, whose checksums catch damage but not
 * a record that was wrong when written: the formatters' arithmetic is
 * only safe in that range.
 */
bool when_plausible(const struct sf_time *t);

/* Buffers for the formatters; the results are NUL-terminated ASCII. */
#define SF_RFC3339_LEN 26   /* 2023-10-27T20:28:00+08:00 */
#define SF_RFC822_LEN 32    /* Fri, 27 Oct 2023 20:28:00 +0800 */
#define SF_CN_LEN 40        /* 2023年10月27日 20:28 */

void when_format_rfc3339(const struct sf_time *t, char buf[SF_RFC3339_LEN]);
void when_format_rfc822(const struct sf_time *t, char buf[SF_RFC822_LEN]);
/* The way Chinese readers expect it: "2023年10月27日 20:28" (UTF-8). */
void when_format_cn(const struct sf_time *t, char buf[SF_CN_LEN]);
/* The local calendar date, "2023-10-27". */
void when_format_date(const struct sf_time *t, char buf[11]);

/* Orders two set times by instant: <0, 0, >0. */
int when_cmp(const struct sf_time *a, const struct sf_time *b);
