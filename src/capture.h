/* SPDX-License-Identifier: MIT */
/* capture.h - parse one capture file into a struct sf_record */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "text.h"
#include "when.h"

/* How to read captures; the same for every file of one input. */
struct sf_capture_opts {
    enum sf_encoding encoding;
    const char *default_category;   /* when neither 类别 nor a breadcrumb gives one */
    const char *site_host;          /* tag: authority when the capture names no crawler */
    bool skip_lists;                /* leave related/listing out (build needs neither) */
};

/*
 * A parser: reusable buffers and a zone cache, so that parsing many files
 * allocates little.  One per thread.  Returns a new parser; free with
 * capture_parser_free().
 */
struct sf_capture_parser;
struct sf_capture_parser *capture_parser_new(const struct sf_zone *zone);
void capture_parser_free(struct sf_capture_parser *p);

/*
 * Parses the capture in data[0..len), read from path, as
 * ../shared/spec/capture-format.md and docs/record.md describe.  Returns a
 * new record (free with record_free()), its id derived; or NULL with err
 * set to the reason the file is rejected.  Warnings (a field that was
 * refused, a fallback taken) are appended to warn, accepted or not.
 * Never reads outside data, never aborts on any input.
 */
struct sf_record *capture_parse(struct sf_capture_parser *p, const char *path, const char *data,
                                size_t len, const struct sf_capture_opts *opts,
                                struct sf_error *err, struct sf_errors *warn);
