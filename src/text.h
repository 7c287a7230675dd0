/* SPDX-License-Identifier: MIT */
/* text.h - UTF-8 checks, GB18030 decoding, trimming and cleaning */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* How an input's bytes are to be read (inputs[].encoding); every parser
 * takes it. */
enum sf_encoding {
    SF_ENC_AUTO,      /* UTF-8, else GB18030 */
    SF_ENC_UTF8,
    SF_ENC_GB18030,
    SF_ENC_COUNT
};

/*
 * Returns true when s[0..n) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF).  Otherwise *bad (if not NULL) gets
 * the offset of the first byte that is not.  Cannot fail.
 */
bool text_utf8_valid(const char *s, size_t n, size_t *bad);

/*
 * One pass over s[0..n) that both validates UTF-8 (as text_utf8_valid)
 * and tells whether text_copy_clean(..., lines=true) would change it —
 * the two checks every capture needs, fused because they dominate parsing
 * time.  Returns false at the first invalid byte (*bad gets its offset).
 */
bool text_scan(const char *s, size_t n, size_t *bad, bool *dirty);

/* text_scan without the vector paths it uses where the CPU has them; all
 * must agree on every input (tests/unit/test_text.c compares them). */
bool text_scan_portable(const char *s, size_t n, size_t *bad, bool *dirty);
/* Test hook: the widest vector scan text_scan may use, in bytes (64:
 * AVX-512, the default; 32: AVX2; 16: SSSE3; 0: none), so each can be
 * compared on any CPU that has it. */
void text_scan_limit_width(unsigned bytes);

/*
 * Decodes GB18030 (a superset of GBK and GB2312) into UTF-8, appended to
 * out.  Returns false when the input is not GB18030 (*bad, if not NULL, is
 * then the offset of the first undecodable byte) or when out reaches its
 * limit; out is left with what was decoded so far.
 */
bool text_gb18030_to_utf8(const char *s, size_t n, struct sf_buf *out, size_t *bad);

/*
 * The same for any charset iconv knows by the name `charset` (callers
 * pass names from their own tables, never one read from input).  Returns
 * false when iconv does not know it, the input is not in it (*bad is then
 * the offset of the first undecodable byte) or out reaches its limit.
 */
bool text_decode(const char *charset, const char *s, size_t n, struct sf_buf *out, size_t *bad);

/* How text_clean_field() treats blanks. */
enum sf_clean {
    SF_CLEAN_TEXT,      /* runs of blanks are kept (titles, paragraphs) */
    SF_CLEAN_VALUE,     /* runs of blanks become one space (category, source, ...) */
    SF_CLEAN_HTML,      /* runs of HTML white space become one space; NBSP and
                         * U+3000 are text and kept */
    SF_CLEAN_COUNT
};

/*
 * Appends s[0..n) to out cleaned as docs/record.md's text rules say for
 * every string of a record: bytes that are not UTF-8 and the characters
 * XML forbids are dropped, a tab is a space, a line break (with the blanks
 * around it) is a wrap, joined with nothing between two non-ASCII
 * characters and with one space otherwise, and blanks are trimmed at both
 * ends.  Cleaning clean text changes nothing.  Returns the length appended
 * (0: the value is empty, hence absent); at out's limit the text is cut
 * at a character boundary and *cut (if not NULL) set.
 */
size_t text_clean_field(const char *s, size_t n, enum sf_clean how, struct sf_buf *out, bool *cut);

/* Moves *s and shrinks *n past ASCII blanks, CR, NBSP and U+3000 at both
 * ends.  Cannot fail. */
void text_trim(const char **s, size_t *n);

/* The length of s[0..n) cut to at most max bytes: at a character
 * boundary, then without the blanks text_trim() removes that the cut left
 * at the end.  s is trimmed valid UTF-8.  Cannot fail. */
size_t text_cut(const char *s, size_t n, size_t max);

/* True when the UTF-8 character at s (n bytes left) is a blank that
 * text_trim removes; *len gets its length.  Inline: the parser asks this
 * of nearly every byte of a meta line. */
static inline bool
text_is_blank_at(const char *str, size_t n, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r')) {
        *len = 1;
        return true;
    }
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0) {
        *len = 2;
        return true;
    }
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) {
        *len = 3;
        return true;
    }
    return false;
}

/*
 * Copies valid UTF-8 from src to dst (room for n bytes), dropping the
 * characters XML 1.0 forbids or discourages (C0 controls, DEL, C1 controls,
 * U+FFFE, U+FFFF) and turning tabs into spaces.  With lines, LF is kept,
 * CRLF becomes LF, and a CR elsewhere is dropped like other controls.
 * Returns the length written (at most n).  Cannot fail.
 */
size_t text_copy_clean(char *dst, const char *src, size_t n, bool lines);

/* True when text_copy_clean would change s. */
bool text_needs_clean(const char *s, size_t n, bool lines);

/* Number of UTF-8 characters in valid s[0..n). */
size_t text_utf8_count(const char *s, size_t n);

/* Byte length of the first max characters of valid UTF-8 s[0..n). */
size_t text_utf8_prefix(const char *s, size_t n, size_t max);

/*
 * Where to cut valid UTF-8 s[0..n) to keep at most max characters: just
 * after the last sentence end (。！？!?) within them when there is one,
 * else after max characters.  Returns the byte length; *whole is set to
 * true when nothing had to be cut.  Never cuts inside a character.
 */
size_t text_cut_sentence(const char *s, size_t n, size_t max, bool *whole);

/* The first occurrence of needle[0..m) in s[0..n), or NULL (memmem is not
 * POSIX). */
const char *text_find(const char *s, size_t n, const char *needle, size_t m);
