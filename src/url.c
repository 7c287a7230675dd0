/* SPDX-License-Identifier: MIT */
/* url.c - the little URL handling snapfeed needs: checks, host, escaping */
#include "url.h"

#include <string.h>
#include <strings.h>

static const char hex[] = "0123456789ABCDEF";

static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Characters RFC 3986 allows raw in a URL besides unreserved ones. */
static bool
is_url_char(unsigned char c)
{
    return is_unreserved(c) || strchr(":/?#[]@!$&'()*+,;=%", c) != NULL;
}

static size_t
scheme_len(const char *s, size_t n)
{
    if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
        return 7;
    if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
        return 8;
    return 0;
}

bool
url_normalize(const char *s, size_t n, struct sf_buf *out)
{
    size_t sl = scheme_len(s, n);
    if (!sl)
        return false;
    /* The authority must hold a host: something before the first / ? #. */
    size_t i = sl;
    while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    const char *at = memchr(s + sl, '@', i - sl);
    size_t host_start = at ? (size_t)(at - s) + 1 : sl;
    if (host_start >= i || s[host_start] == ':')
        return false;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c <= 0x20 || c == 0x7F)
            return false;
    }
    size_t mark = out->len;
    for (size_t k = 0; k < sl; k++) {
        char c = s[k];
        if (!buf_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c))
            goto fail;
    }
    for (size_t k = sl; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        bool ok = is_url_char(c) ? buf_append_char(out, (char)c)
                                 : buf_append_char(out, '%') && buf_append_char(out, hex[c >> 4]) &&
                                       buf_append_char(out, hex[c & 15]);
        if (!ok)
            goto fail;
    }
    return true;
fail:
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return false;
}

bool
url_is_http(const char *s)
{
    struct sf_buf b;
    buf_init(&b, 0);
    bool ok = url_normalize(s, strlen(s), &b) && strcmp(b.data, s) == 0;
    buf_finish(&b);
    return ok;
}

bool
url_host(const char *s, struct sf_buf *out)
{
    size_t n = strlen(s), sl = scheme_len(s, n);
    if (!sl)
        return false;
    size_t end = sl;
    while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#')
        end++;
    size_t start = sl;
    for (size_t k = sl; k < end; k++)
        if (s[k] == '@')
            start = k + 1;
    size_t stop = start;
    if (stop < end && s[stop] == '[') {   /* IPv6 literal */
        while (stop < end && s[stop] != ']')
            stop++;
        if (stop < end)
            stop++;
    } else {
        while (stop < end && s[stop] != ':')
            stop++;
    }
    if (stop == start)
        return false;
    for (size_t k = start; k < stop; k++) {
        char c = s[k];
        if (!buf_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c))
            return false;
    }
    return true;
}

bool
url_is_hostname(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0, labels = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            labels++;
            label = 0;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && label > 0))
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && labels >= 2 && s[n - 1] != '-';
}

void
url_append_segment(struct sf_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_unreserved(c))
            buf_append_char(out, (char)c);
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}

bool
url_has_scheme(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':')
            return i + 1 < n;
        if (!is_unreserved(c) && c != '+')
            return false;
        if (c == '_' || c == '~')
            return false;
    }
    return false;
}

bool
url_escape(const char *s, size_t n, struct sf_buf *out)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        bool ok = is_url_char(c) ? buf_append_char(out, (char)c)
                                 : buf_append_char(out, '%') && buf_append_char(out, hex[c >> 4]) &&
                                       buf_append_char(out, hex[c & 15]);
        if (!ok)
            return false;
    }
    return true;
}
