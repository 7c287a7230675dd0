/* SPDX-License-Identifier: MIT */
/* fuzz_htmlpage.c - saved HTML pages: bytes -> record or error */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "htmlpage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The page in every encoding mode (the size picks one, so a corpus file
 * is a valid input as it is); the record must hold the record rules and
 * read back from its own JSON as the same record.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sf_zone zone;
    static struct sf_htmlpage_parser *parser;
    if (!parser) {
        if (!when_zone_init(&zone, "Asia/Shanghai"))
            abort();
        parser = htmlpage_parser_new(&zone);
    }
    struct sf_htmlpage_opts o = {
        .encoding = (enum sf_encoding)(size % SF_ENC_COUNT),
        .default_category = "未分类",
        .site_host = "example.org",
    };
    struct sf_error err = {0};
    struct sf_errors warn = {0};
    struct sf_record *r =
        htmlpage_parse(parser, "fuzz.html", (const char *)data, size, &o, &err, &warn);
    if (r) {
        fuzz_check_record(r);
        fuzz_check_time(&zone, &r->published);
        if (r->captured_at.set)
            fuzz_check_time(&zone, &r->captured_at);
        fuzz_check_round_trip(r, &zone, o.default_category, o.site_host);
        record_free(r);
    } else if (!err.msg) {
        abort();
    }
    error_finish(&err);
    errors_finish(&warn);
    return 0;
}
