/* SPDX-License-Identifier: MIT */
/* fuzz_jsonl.c - JSON Lines records: bytes -> record or error */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Each line of the input is one record, as ingest splits a file; the
 * record must hold the record rules, and read back from its own JSON
 * as the same record.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sf_zone zone;
    static bool ready;
    if (!ready) {
        if (!when_zone_init(&zone, "Asia/Shanghai"))
            abort();
        ready = true;
    }
    struct sf_json_opts o = {
        .zone = &zone,
        .default_category = "未分类",
        .site_host = "example.org",
        .skip_lists = size % 2,
    };
    const char *p = (const char *)data, *end = p + size;
    for (unsigned line = 1;; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        struct sf_error err = {0};
        struct sf_errors warn = {0};
        struct sf_record *r = record_from_json(p, (size_t)(e - p), &o, "fuzz.jsonl", line, &err,
                                               &warn);
        if (r) {
            fuzz_check_record(r);
            if (r->line != line)
                abort();
            fuzz_check_time(&zone, &r->published);
            if (r->captured_at.set)
                fuzz_check_time(&zone, &r->captured_at);
            if (!o.skip_lists)
                fuzz_check_round_trip(r, &zone, o.default_category, o.site_host);
            record_free(r);
        } else if (!err.msg || warn.n) {
            abort();   /* a refused line says why, and only that */
        }
        error_finish(&err);
        errors_finish(&warn);
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}
