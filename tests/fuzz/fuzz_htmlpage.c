/* SPDX-License-Identifier: MIT */
/* fuzz_htmlpage.c - saved HTML pages: bytes -> record or error */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htmlpage.h"
#include "text.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
 * The page in every encoding mode (the size picks one, so a corpus file
 * is a valid input as it is); the record must hold the record rules.
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
        check_text(r->title, true);
        check_text(r->category, true);
        check_text(r->source, false);
        check_text(r->via, false);
        check_text(r->author, false);
        for (size_t i = 0; i < r->n_body; i++)
            check_text(r->body[i], true);
        if (!r->published.set || !r->id || (r->url && !url_is_http(r->url)))
            abort();
        free(record_to_json(r));
        record_free(r);
    } else if (!err.msg) {
        abort();
    }
    error_finish(&err);
    errors_finish(&warn);
    return 0;
}
