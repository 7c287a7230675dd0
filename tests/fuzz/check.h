/* SPDX-License-Identifier: MIT */
/* check.h - the invariants every fuzz target checks, shared between them */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "when.h"

/*
 * Each check abort()s on a violation, so that libFuzzer (and the replay
 * main under the test suite) report the input that caused it.  These are
 * the promises of docs/record.md and of the renderers, stated as code.
 */

/* A record string: NULL only when !required; else non-empty, valid UTF-8,
 * free of the characters XML forbids, no tab or line break, trimmed. */
void fuzz_check_text(const char *s, bool required);

/* An id: non-empty printable ASCII without blanks. */
void fuzz_check_id(const char *id);

/* Every field of a record, its lists included (docs/record.md). */
void fuzz_check_record(const struct sf_record *r);

/* The record printed as JSON and read back as a JSON Lines record is the
 * same record: same id, content, times and lists (what makes `parse`
 * output a faithful input). */
void fuzz_check_round_trip(const struct sf_record *r, struct sf_zone *zone,
                           const char *default_category, const char *site_host);

/* A time a record carries: set, and shown as RFC 3339 that when_parse()
 * reads back to the same instant. */
void fuzz_check_time(struct sf_zone *zone, const struct sf_time *t);

/* s[0..n) is valid UTF-8 with only characters XML 1.0 allows (tab, LF and
 * CR are the only controls) and none it discourages (DEL, C1, U+FFFE/F). */
void fuzz_check_xml_chars(const char *s, size_t n);

/* A rendered XML document (RSS, Atom, OPML): the characters above, well
 * formed to libxml2 with no DTD, and every element that carries HTML
 * (description, content, summary, content:encoded) safe as HTML. */
void fuzz_check_xml(const char *s, size_t n);

/* Rendered HTML (a page, or the HTML inside a feed): the characters
 * above, and nothing live when libxml2's HTML parser reads it: no script,
 * no style element beyond the page's own, no on* attribute, no link or
 * source whose URL is not http(s) or relative. */
void fuzz_check_html(const char *s, size_t n);

/* A rendered JSON Feed: the JSON library reads it back as an object
 * without duplicate keys, every string holding only the characters
 * above, and content_html safe as HTML. */
void fuzz_check_json(const char *s, size_t n);

/* Little-endian fields of the state files, for the targets that splice
 * bytes into a good file and make its checksums right again. */
uint64_t fuzz_get_le(const unsigned char *p, int width);
void fuzz_put_le64(unsigned char *p, uint64_t v);
