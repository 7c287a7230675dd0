/* SPDX-License-Identifier: MIT */
/* htmlpage.h - read a saved HTML article page into a struct sf_record */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "text.h"
#include "when.h"

/* How to read pages; the same for every file of one input. */
struct sf_htmlpage_opts {
    enum sf_encoding encoding;      /* auto: the page's BOM or <meta>, then UTF-8, then GB18030 */
    const char *default_category;   /* when the page names no section */
    const char *site_host;          /* tag: authority when the page has no URL; may be NULL */
};

/*
 * A parser: scratch buffers and a zone cache reused from page to page.
 * One per thread.  Returns a new parser; free with htmlpage_parser_free().
 */
struct sf_htmlpage_parser;
struct sf_htmlpage_parser *htmlpage_parser_new(const struct sf_zone *zone);
void htmlpage_parser_free(struct sf_htmlpage_parser *p);

/*
 * Parses the saved page in data[0..len), read from path, as docs/record.md
 * ("Saved HTML pages") describes: libxml2's HTML parser, with no network
 * and no entities beyond HTML's own, recovering from broken markup.
 * Returns a new record (free with record_free()), its id derived; or NULL
 * with err set to the reason the page is rejected (no title, no date,
 * undecodable, too large).  Warnings are appended to warn.  Never reads
 * outside data, never aborts on any input.
 */
struct sf_record *htmlpage_parse(struct sf_htmlpage_parser *p, const char *path,
                                 const char *data, size_t len,
                                 const struct sf_htmlpage_opts *opts, struct sf_error *err,
                                 struct sf_errors *warn);
