/* SPDX-License-Identifier: MIT */
/* fuzz_capture.c - text captures: bytes -> record or error, in every encoding */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEFAULT_CATEGORY "未分类"
#define SITE_HOST "example.org"

/*
 * The input is parsed as a capture in each encoding mode (auto, utf-8,
 * gb18030), so that a corpus file is a valid input as it is and every
 * mode sees every mutation.  An accepted record must keep docs/record.md
 * and read back from its own JSON; a refused one says why.  Parsing again
 * without the lists must decide alike and give the same article.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sf_zone zone;
    static struct sf_capture_parser *parser;
    if (!parser) {
        if (!when_zone_init(&zone, "Asia/Shanghai"))
            abort();
        parser = capture_parser_new(&zone);
    }
    for (int enc = 0; enc < SF_ENC_COUNT; enc++) {
        struct sf_capture_opts o = {
            .encoding = (enum sf_encoding)enc,
            .default_category = DEFAULT_CATEGORY,
            .site_host = SITE_HOST,
        };
        struct sf_error err = {0};
        struct sf_errors warn = {0};
        struct sf_record *r =
            capture_parse(parser, "fuzz.txt", (const char *)data, size, &o, &err, &warn);
        o.skip_lists = true;
        struct sf_error err2 = {0};
        struct sf_errors warn2 = {0};
        struct sf_record *lean =
            capture_parse(parser, "fuzz.txt", (const char *)data, size, &o, &err2, &warn2);
        if (r) {
            fuzz_check_record(r);
            fuzz_check_time(&zone, &r->published);
            if (r->captured_at.set)
                fuzz_check_time(&zone, &r->captured_at);
            fuzz_check_round_trip(r, &zone, DEFAULT_CATEGORY, SITE_HOST);
            if (!lean || lean->n_related || lean->n_listing || strcmp(lean->id, r->id) != 0 ||
                record_content_hash(lean) != record_content_hash(r))
                abort();
        } else if (!err.msg || lean) {
            abort();
        }
        record_free(r);
        record_free(lean);
        error_finish(&err);
        errors_finish(&warn);
        error_finish(&err2);
        errors_finish(&warn2);
    }
    return 0;
}
