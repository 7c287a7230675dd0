/* SPDX-License-Identifier: MIT */
/* url.h - the little URL handling snapfeed needs: checks, host, escaping */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * Checks that s[0..n) is an absolute http or https URL with a host and no
 * blanks or control characters, and appends its ASCII form to out: the
 * scheme lower-cased, bytes >= 0x80 and characters that URLs may not hold
 * raw percent-encoded.  Returns false (out unchanged) otherwise.
 */
bool url_normalize(const char *s, size_t n, struct sf_buf *out);

/* True when s is an absolute http(s) URL that url_normalize() leaves as it is. */
bool url_is_http(const char *s);

/* Appends the host of absolute URL s (lower-cased, no port or user) to
 * out; false when there is none. */
bool url_host(const char *s, struct sf_buf *out);

/* True when s[0..n) is a DNS name: dot-separated labels of letters, digits
 * and hyphens, at least two labels, at most 253 bytes. */
bool url_is_hostname(const char *s, size_t n);

/* Appends s percent-encoded as one path segment (RFC 3986 unreserved
 * characters stay; everything else, UTF-8 bytes included, is %XX). */
void url_append_segment(struct sf_buf *out, const char *s);

/* True when s[0..n) starts as an absolute URI does (RFC 3986 3.1): a
 * letter, then letters, digits, '+', '-' or '.', then ':' and something
 * after it.  Feed ids must be such URIs (Atom's atom:id is an IRI). */
bool url_has_scheme(const char *s, size_t n);

/* Appends s[0..n) with every byte a URL may not hold raw (bytes >= 0x80,
 * blanks, controls, quotes, ...) percent-encoded, and the rest as it is:
 * how an id read from JSON is made ASCII.  Returns false at out's limit. */
bool url_escape(const char *s, size_t n, struct sf_buf *out);
