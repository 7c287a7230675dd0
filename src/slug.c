/* SPDX-License-Identifier: MIT */
/* slug.c - safe, stable directory names for categories */
#include "slug.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "text.h"
#include "util.h"

/* Decodes the UTF-8 character at s; returns its length (valid input). */
static size_t
decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xE0) {
        *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if (s[0] < 0xF0) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
          (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    return 4;
}

/* Non-ASCII characters a slug may hold: letters and digits of any script,
 * roughly: everything but blanks, punctuation, symbols blocks and format
 * characters (bidi overrides, zero-width ones). */
static bool
wide_ok(uint32_t cp)
{
    static const struct {
        uint32_t lo, hi;
    } excluded[] = {
        {0x0080, 0x00BF},   /* C1 controls, Latin-1 punctuation and symbols */
        {0x00D7, 0x00D7},   {0x00F7, 0x00F7},
        {0x2000, 0x2BFF},   /* punctuation, symbols, arrows, shapes */
        {0x2E00, 0x2E7F},   /* supplemental punctuation */
        {0x3000, 0x303F},   /* CJK symbols and punctuation */
        {0xD800, 0xF8FF},   /* surrogates, private use */
        {0xFE00, 0xFE6F},   /* variation selectors, vertical and small forms */
        {0xFEFF, 0xFEFF},
        {0xFF00, 0xFF0F},   /* full-width punctuation */
        {0xFF1A, 0xFF20},   {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
        {0xFFF0, 0xFFFF},
        {0x1F000, 0x1FAFF}, /* emoji and other pictographs */
        {0xE0000, 0x10FFFF},
    };
    for (size_t i = 0; i < SF_ARRAY_LEN(excluded); i++)
        if (cp >= excluded[i].lo && cp <= excluded[i].hi)
            return false;
    return true;
}

static bool
ascii_ok(unsigned char c, bool upper)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           (upper && c >= 'A' && c <= 'Z');
}

bool
slug_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SF_MAX_SLUG || s[0] == '-' || strcmp(s, "all") == 0 ||
        !text_utf8_valid(s, n, NULL))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = decode(p + i, &cp);
        if (cp < 0x80 ? !ascii_ok((unsigned char)cp, true) : !wide_ok(cp))
            return false;
        i += len;
    }
    return true;
}

char *
slug_derive(const char *category, bool wide)
{
    size_t n = strlen(category);
    if (!wide && slug_valid(category))
        return xstrdup(category);
    struct sf_buf b;
    buf_init(&b, 0);
    const unsigned char *p = (const unsigned char *)category;
    bool valid = text_utf8_valid(category, n, NULL);
    for (size_t i = 0; i < n && b.len < 47;) {
        uint32_t cp = p[i];
        size_t len = valid ? decode(p + i, &cp) : 1;
        if (cp < 0x80 && ascii_ok((unsigned char)cp, true) && cp != '-')
            buf_append_char(&b, (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp));
        else if (cp >= 0x80 && valid && wide_ok(cp) && b.len + len <= 47)
            buf_append(&b, p + i, len);
        else if (b.len && b.data[b.len - 1] != '-')
            buf_append_char(&b, '-');
        else if (cp >= 0x80 && valid && wide_ok(cp))
            break;  /* no room for this character */
        i += len;
    }
    while (b.len && b.data[b.len - 1] == '-')
        b.len--;
    uint64_t h = hash_fnv1a(SF_FNV_OFFSET, category, n);
    char tail[20];
    if (wide)
        snprintf(tail, sizeof tail, "%016llx", (unsigned long long)h);
    else
        snprintf(tail, sizeof tail, "%08llx", (unsigned long long)(h >> 32));
    if (b.len)
        buf_append_char(&b, '-');
    buf_append_str(&b, tail);
    return buf_steal(&b, NULL);
}
