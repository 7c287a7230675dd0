/* SPDX-License-Identifier: MIT */
/* fuzz_when.c - the date forms: bytes -> time or refusal, and back */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"
#include "when.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Zones with odd offsets and transitions: half hours, DST gaps in
 * history, a zone of its own that is not whole hours before 1900. */
static const char *const zones[] = {"Asia/Shanghai", "UTC", "America/St_Johns",
                                    "Australia/Lord_Howe"};

/*
 * The input is one date (the zone chosen by its length, so corpus files
 * are inputs as they are).  Every form accepted as a capture's local date
 * is accepted by the RFC 3339 reader too, to the same instant; every time
 * read formats to text that reads back to it; the formatters stay ASCII
 * (the Chinese form UTF-8) within their buffers.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sf_zone zone[SF_ARRAY_LEN(zones)];
    static bool ready;
    if (!ready) {
        /* One process zone at a time: a zone object only caches. */
        for (size_t i = 0; i < SF_ARRAY_LEN(zones); i++)
            if (!when_zone_valid(zones[i]))
                abort();
        ready = true;
    }
    size_t k = size % SF_ARRAY_LEN(zones);
    static size_t current = SIZE_MAX;
    if (current != k) {
        if (!when_zone_init(&zone[k], zones[k]))
            abort();
        current = k;
    }
    struct sf_zone *z = &zone[k];
    const char *s = (const char *)data;

    struct sf_time local = {0}, any = {0};
    bool is_local = when_parse_local(z, s, size, &local);
    bool is_any = when_parse(z, s, size, &any);
    bool looks = when_looks_like_date(s, size);
    if (is_local && (!is_any || any.t != local.t || any.off != local.off))
        abort();
    if (is_local && size >= 10 && size <= 40 && memchr(s, ':', size) && !looks)
        abort();
    if (!is_any)
        return 0;
    if (is_local)
        fuzz_check_time(z, &local);
    struct sf_time shown = any;
    when_localize(z, &shown);
    if (shown.t != any.t)
        abort();
    fuzz_check_time(z, &any);
    fuzz_check_time(z, &shown);

    char rfc822[SF_RFC822_LEN], cn[SF_CN_LEN], date[11];
    when_format_rfc822(&shown, rfc822);
    when_format_cn(&shown, cn);
    when_format_date(&shown, date);
    if (strlen(rfc822) != SF_RFC822_LEN - 1 || strlen(date) != 10)
        abort();
    for (const char *c = rfc822; *c; c++)
        if (*c < 0x20 || *c >= 0x7F)
            abort();
    if (!text_utf8_valid(cn, strlen(cn), NULL))
        abort();
    /* The Chinese form is a capture date form (only in syntax: the hour
     * that repeats when clocks go back is ambiguous, and an LMT offset
     * shown to the minute can move 1900-01-01 00:00 into 1899). */
    if (!when_looks_like_date(cn, strlen(cn)))
        abort();
    return 0;
}
