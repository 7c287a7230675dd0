/* SPDX-License-Identifier: MIT */
/* when.c - capture date forms, IANA zones, RFC 3339 / RFC 822 formatting */
#include "when.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

/* Broken-down local time as read from a capture. */
struct fields {
    int y, mo, d, h, mi, s;
    bool has_off;
    int off;   /* seconds east, when has_off */
};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *yp, int *mp, int *dp)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp5 = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp5 + 2) / 5 + 1);
    int m = (int)(mp5 < 10 ? mp5 + 3 : mp5 - 9);
    *yp = (int)(yoe + era * 400 + (m <= 2));
    *mp = m;
    *dp = d;
}

static bool
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

static bool
fields_valid(const struct fields *f)
{
    return f->y >= 1900 && f->y <= 9999 && f->mo >= 1 && f->mo <= 12 && f->d >= 1 &&
           f->d <= days_in_month(f->y, f->mo) && f->h <= 23 && f->mi <= 59 && f->s <= 59;
}

/* A cursor over the text being parsed. */
struct cur {
    const char *s;
    size_t n;
};

static bool
take_str(struct cur *c, const char *lit)
{
    size_t len = strlen(lit);
    if (c->n < len || memcmp(c->s, lit, len) != 0)
        return false;
    c->s += len;
    c->n -= len;
    return true;
}

/* Reads min..max ASCII digits. */
static bool
take_num(struct cur *c, size_t min, size_t max, int *out)
{
    size_t i = 0;
    int v = 0;
    while (i < max && i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
        v = v * 10 + (c->s[i++] - '0');
    if (i < min)
        return false;
    c->s += i;
    c->n -= i;
    *out = v;
    return true;
}

static void
skip_blanks(struct cur *c)
{
    size_t len;
    while (c->n && text_is_blank_at(c->s, c->n, &len)) {
        c->s += len;
        c->n -= len;
    }
}

/*
 * The time part: "HH:MM" or "HH:MM:SS", hour with one or two digits.
 * Absent time means midnight.
 */
static bool
take_clock(struct cur *c, struct fields *f)
{
    f->h = f->mi = f->s = 0;
    if (!c->n)
        return true;
    if (!take_num(c, 1, 2, &f->h) || !take_str(c, ":") || !take_num(c, 2, 2, &f->mi))
        return false;
    if (take_str(c, ":")) {
        if (!take_num(c, 2, 2, &f->s))
            return false;
        /* RFC 3339 fractions: accepted, dropped. */
        if (c->n && c->s[0] == '.') {
            c->s++;
            c->n--;
            int frac;
            if (!take_num(c, 1, 9, &frac))
                return false;
        }
    }
    return true;
}

/* An RFC 3339 offset: "Z" or "+HH:MM" / "-HH:MM" (also "+HHMM"). */
static bool
take_offset(struct cur *c, struct fields *f)
{
    if (take_str(c, "Z") || take_str(c, "z")) {
        f->has_off = true;
        f->off = 0;
        return true;
    }
    if (!c->n || (c->s[0] != '+' && c->s[0] != '-'))
        return true;
    int sign = c->s[0] == '-' ? -1 : 1, oh, om;
    c->s++;
    c->n--;
    if (!take_num(c, 2, 2, &oh))
        return false;
    take_str(c, ":");
    if (!take_num(c, 2, 2, &om) || oh > 23 || om > 59)
        return false;
    f->has_off = true;
    f->off = sign * (oh * 3600 + om * 60);
    return true;
}

/*
 * Syntax of every accepted form; fills f, checks nothing about the
 * calendar.  rfc3339 admits "T" between date and time and an offset.
 */
static bool
parse_fields(const char *s, size_t n, bool rfc3339, struct fields *f)
{
    struct cur c = {s, n};
    *f = (struct fields){0};
    text_trim(&c.s, &c.n);
    if (!take_num(&c, 4, 4, &f->y))
        return false;
    if (take_str(&c, "年")) {
        if (!take_num(&c, 1, 2, &f->mo) || !take_str(&c, "月") || !take_num(&c, 1, 2, &f->d) ||
            !take_str(&c, "日"))
            return false;
    } else {
        const char *sep = take_str(&c, "-") ? "-" : take_str(&c, "/") ? "/" : NULL;
        if (!sep || !take_num(&c, 1, 2, &f->mo) || !take_str(&c, sep) ||
            !take_num(&c, 1, 2, &f->d))
            return false;
    }
    if (!(rfc3339 && (take_str(&c, "T") || take_str(&c, "t"))))
        skip_blanks(&c);
    if (!take_clock(&c, f))
        return false;
    if (rfc3339 && !take_offset(&c, f))
        return false;
    return c.n == 0;
}

bool
when_looks_like_date(const char *s, size_t n)
{
    struct fields f;
    /* A bare year-month-day line is a date too, but related-list stamps
     * always carry a clock; requiring the colon keeps "2023-10-27" body
     * lines out. */
    return n >= 10 && n <= 40 && memchr(s, ':', n) && parse_fields(s, n, false, &f);
}

bool
when_zone_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof ((struct sf_zone *)0)->name || name[0] == '/' ||
        strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    int r = snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    if (r < 0 || (size_t)r >= sizeof path)
        return false;
    /* Zone files are often links to one another; the name cannot leave the
     * database (no "..", not absolute), so following them is safe. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char magic[4];
    bool ok = read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

bool
when_zone_init(struct sf_zone *z, const char *name)
{
    if (!when_zone_valid(name))
        return false;
    memset(z, 0, sizeof *z);
    memcpy(z->name, name, strlen(name) + 1);
    setenv("TZ", name, 1);
    tzset();
    return true;
}

void
when_zone_copy(struct sf_zone *dst, const struct sf_zone *src)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->name, src->name, sizeof dst->name);
}

/* Local time in the process zone to an instant, through mktime(), cached
 * by the hour: offsets change on hour boundaries in every zone in use. */
static bool
local_to_time(struct sf_zone *z, const struct fields *f, struct sf_time *out)
{
    int64_t key = (((int64_t)f->y * 16 + f->mo) * 32 + f->d) * 32 + f->h + 1;
    size_t slot = (size_t)(key % SF_ZONE_CACHE);
    if (z->cache[slot].key != key) {
        struct tm tm = {
            .tm_year = f->y - 1900, .tm_mon = f->mo - 1, .tm_mday = f->d,
            .tm_hour = f->h, .tm_isdst = -1,
        };
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return false;
        z->cache[slot].key = key;
        z->cache[slot].t = t;
        z->cache[slot].off = (int32_t)tm.tm_gmtoff;
    }
    out->t = z->cache[slot].t + f->mi * 60 + f->s;
    out->off = z->cache[slot].off;
    out->set = true;
    return true;
}

static bool shown_in_range(const struct sf_time *t);

/*
 * The instant of f.  Times are shown in the zone, not as written, so a
 * time is refused whose year, shown there, leaves 1900-9999: with an
 * offset of its own (9999-12-31T23:59:59-12:00 is 10000 in Asia/Shanghai)
 * or through the rounding of an LMT offset to whole minutes (1900-01-01
 * 00:00 in America/St_Johns shows as 1899-12-31T23:59:52-03:31).  Either
 * would print a year that cannot be read back, or four digits of five.
 * out is written only on success.
 */
static bool
fields_to_time(struct sf_zone *z, const struct fields *f, struct sf_time *out)
{
    struct sf_time t, shown;
    if (!fields_valid(f))
        return false;
    if (!f->has_off) {
        if (!local_to_time(z, f, &t))
            return false;
        shown = t;
    } else {
        int64_t days = days_from_civil(f->y, f->mo, f->d);
        t = (struct sf_time){days * 86400 + f->h * 3600 + f->mi * 60 + f->s - f->off, f->off, true};
        shown = t;
        when_localize(z, &shown);
    }
    if (!shown_in_range(&shown))
        return false;
    *out = t;   /* untouched on failure: callers keep what they had */
    return true;
}

bool
when_parse_local(struct sf_zone *z, const char *s, size_t n, struct sf_time *out)
{
    struct fields f;
    return parse_fields(s, n, false, &f) && fields_to_time(z, &f, out);
}

bool
when_parse(struct sf_zone *z, const char *s, size_t n, struct sf_time *out)
{
    struct fields f;
    return parse_fields(s, n, true, &f) && fields_to_time(z, &f, out);
}

void
when_localize(struct sf_zone *z, struct sf_time *t)
{
    if (!t->set)
        return;
    /* The zone is the process's (when_zone_init() set TZ), like mktime()'s
     * in local_to_time(). */
    time_t tt = (time_t)t->t;
    struct tm tm;
    if (localtime_r(&tt, &tm))
        t->off = (int32_t)tm.tm_gmtoff;
}

bool
when_plausible(const struct sf_time *t)
{
    const int64_t first = INT64_C(-2208988800) - 86400;    /* 1900-01-01, less a day */
    const int64_t last = INT64_C(253402300799) + 86400;    /* 9999-12-31, and a day */
    return t->off > -86400 && t->off < 86400 && t->t >= first && t->t <= last;
}

/* The local calendar fields of t, with the offset rounded to whole minutes
 * (historical offsets like LMT +08:05:43 cannot be written in RFC 3339);
 * the local time is shifted with it, so the instant stays exact. */
struct local {
    int y, mo, d, h, mi, s, wday;
    int off_min;
};

static void
to_local(const struct sf_time *t, struct local *l)
{
    int off = t->off;
    l->off_min = (off >= 0 ? off + 30 : off - 30) / 60;
    int64_t local = t->t + (int64_t)l->off_min * 60;
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int64_t secs = local - days * 86400;
    civil_from_days(days, &l->y, &l->mo, &l->d);
    l->h = (int)(secs / 3600);
    l->mi = (int)(secs / 60 % 60);
    l->s = (int)(secs % 60);
    l->wday = (int)((days % 7 + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
}

static bool
shown_in_range(const struct sf_time *t)
{
    struct local l;
    to_local(t, &l);
    return l.y >= 1900 && l.y <= 9999;
}

/* Writers of fixed-width numbers: the formatters run for every date of
 * every feed, and snprintf() cannot prove to the compiler that they fit. */
static char *
put_num(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

static char *
put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *
put_offset(char *p, int off_min, bool colon)
{
    int a = off_min < 0 ? -off_min : off_min;
    *p++ = off_min < 0 ? '-' : '+';
    p = put_num(p, a / 60 % 100, 2);
    if (colon)
        *p++ = ':';
    return put_num(p, a % 60, 2);
}

void
when_format_rfc3339(const struct sf_time *t, char buf[SF_RFC3339_LEN])
{
    struct local l;
    to_local(t, &l);
    char *p = put_num(buf, l.y, 4);
    *p++ = '-';
    p = put_num(p, l.mo, 2);
    *p++ = '-';
    p = put_num(p, l.d, 2);
    *p++ = 'T';
    p = put_num(p, l.h, 2);
    *p++ = ':';
    p = put_num(p, l.mi, 2);
    *p++ = ':';
    p = put_num(p, l.s, 2);
    p = put_offset(p, l.off_min, true);
    *p = '\0';
}

void
when_format_rfc822(const struct sf_time *t, char buf[SF_RFC822_LEN])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct local l;
    to_local(t, &l);
    char *p = put_str(buf, days[l.wday]);
    p = put_str(p, ", ");
    p = put_num(p, l.d, 2);
    *p++ = ' ';
    p = put_str(p, months[l.mo - 1]);
    *p++ = ' ';
    p = put_num(p, l.y, 4);
    *p++ = ' ';
    p = put_num(p, l.h, 2);
    *p++ = ':';
    p = put_num(p, l.mi, 2);
    *p++ = ':';
    p = put_num(p, l.s, 2);
    *p++ = ' ';
    p = put_offset(p, l.off_min, false);
    *p = '\0';
}

void
when_format_cn(const struct sf_time *t, char buf[SF_CN_LEN])
{
    struct local l;
    to_local(t, &l);
    char *p = put_num(buf, l.y, 4);
    p = put_str(p, "年");
    p = put_num(p, l.mo, l.mo >= 10 ? 2 : 1);
    p = put_str(p, "月");
    p = put_num(p, l.d, l.d >= 10 ? 2 : 1);
    p = put_str(p, "日 ");
    p = put_num(p, l.h, 2);
    *p++ = ':';
    p = put_num(p, l.mi, 2);
    *p = '\0';
}

void
when_format_date(const struct sf_time *t, char buf[11])
{
    struct local l;
    to_local(t, &l);
    char *p = put_num(buf, l.y, 4);
    *p++ = '-';
    p = put_num(p, l.mo, 2);
    *p++ = '-';
    p = put_num(p, l.d, 2);
    *p = '\0';
}

int
when_cmp(const struct sf_time *a, const struct sf_time *b)
{
    return (a->t > b->t) - (a->t < b->t);
}
