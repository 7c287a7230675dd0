/* SPDX-License-Identifier: MIT */
/* fuzz_jsonl.c - JSON Lines records: bytes -> record or error */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What every record read from any bytes must be (docs/record.md). */
static void
check_text(const char *s, bool required)
{
    if (!s) {
        if (required)
            abort();
        return;
    }
    size_t n = strlen(s);
    if (n == 0 || !text_utf8_valid(s, n, NULL) || text_needs_clean(s, n, false))
        abort();
}

/*
 * Each line of the input is one record, as ingest splits a file; the
 * record must hold the record rules, and print back as JSON.
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
            check_text(r->title, true);
            check_text(r->category, true);
            check_text(r->source, false);
            check_text(r->author, false);
            for (size_t i = 0; i < r->n_body; i++)
                check_text(r->body[i], true);
            if (!r->published.set || !r->id || r->line != line)
                abort();
            for (const char *c = r->id; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F)
                    abort();
            free(record_to_json(r));
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
