/* SPDX-License-Identifier: MIT */
/* text.c - UTF-8 checks, GB18030 decoding, trimming and cleaning */
#include "text.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SF_NO_VECTOR_SCAN)
/* -DSF_NO_VECTOR_SCAN builds the portable scan only (to compare them) */
#include <immintrin.h>
#define SF_SCAN_VECTOR 1
#endif

bool
text_utf8_valid(const char *s, size_t n, size_t *bad)
{
    bool dirty;
    return text_scan(s, n, bad, &dirty);
}

/* SWAR: true when some byte of w is below 0x20 or is 0x7F, or has its
 * high bit set.  The word then needs a byte-by-byte look. */
static inline bool
word_needs_look(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t below20 = (w - 0x20 * ones) & ~w;
    uint64_t is7f = ((w ^ (0x7F * ones)) - ones) & ~(w ^ (0x7F * ones));
    return ((below20 | is7f) & high) || (w & high);
}

bool
text_scan_portable(const char *str, size_t n, size_t *bad, bool *dirty)
{
    const unsigned char *s = (const unsigned char *)str;
    bool d = false;
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!word_needs_look(w)) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            d |= (c < 0x20 && c != '\n') || c == 0x7F;
            i++;
            continue;
        }
        /* Chinese text is runs of three-byte sequences (U+1000-U+CFFF lead
         * bytes E1-EC need no range check beyond the continuation bytes):
         * a tight loop over the run. */
        if (c - 0xE1u <= 0x0Bu) {
            size_t j = i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* Two characters per load: both lead bytes 1110xxxx, all four
             * continuation bytes 10xxxxxx, then the lead range. */
            const uint64_t mask = UINT64_C(0xC0C0F0C0C0F0), want = UINT64_C(0x8080E08080E0);
            while (n - j >= 8) {
                uint64_t w;
                memcpy(&w, s + j, 8);
                if ((w & mask) != want || (w & 0xFF) - 0xE1u > 0x0Bu ||
                    ((w >> 24) & 0xFF) - 0xE1u > 0x0Bu)
                    break;
                j += 6;
            }
#endif
            while (n - j >= 3 && s[j] - 0xE1u <= 0x0Bu &&
                   ((s[j + 1] ^ 0x80u) | (s[j + 2] ^ 0x80u)) < 0x40u)
                j += 3;
            if (j != i) {
                i = j;
                continue;
            }
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            goto invalid;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            goto invalid;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                goto invalid;
        if ((c == 0xC2 && s[i + 1] <= 0x9F) ||
            (c == 0xEF && s[i + 1] == 0xBF && s[i + 2] >= 0xBE))
            d = true;   /* C1 control, U+FFFE or U+FFFF */
        i += len;
    }
    *dirty = d;
    return true;
invalid:
    if (bad)
        *bad = i;
    *dirty = d;
    return false;
}

#ifdef SF_SCAN_VECTOR
/*
 * The same checks 64 bytes at a time with AVX-512 (BW), 32 with AVX2, or 16
 * with SSSE3 (pshufb).
 * Validation classifies each byte by the high nibble of the byte before
 * it, the low nibble of the byte before it and its own high nibble: three
 * table look-ups whose AND is non-zero exactly where two adjacent bytes
 * cannot follow each other in UTF-8 (the method of Keiser and Lemire,
 * "Validating UTF-8 in less than one instruction per byte", 2021); the
 * third and fourth bytes of longer forms are checked against the lead two
 * and three bytes back.  Returns false when the bytes are not valid, with
 * nothing else said: the caller then asks the portable scan where.
 */

/* why two bytes cannot be adjacent; each table entry is the set of
 * reasons its nibble takes part in */
enum {
    TOO_SHORT = 1 << 0,     /* lead, then no continuation */
    TOO_LONG = 1 << 1,      /* ASCII, then a continuation */
    OVERLONG_3 = 1 << 2,    /* E0 80..9F */
    TOO_LARGE = 1 << 3,     /* F4 90..BF, F5..FF */
    SURROGATE = 1 << 4,     /* ED A0..BF */
    OVERLONG_2 = 1 << 5,    /* C0, C1 */
    TOO_LARGE_1000 = 1 << 6,/* F5..FF 80..8F */
    OVERLONG_4 = 1 << 6,    /* F0 80..8F */
    TWO_CONTS = 1 << 7,     /* two continuations: an error unless a longer form needs them */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

static const unsigned char t1h[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
    TOO_SHORT | OVERLONG_2, TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE,
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
};
static const unsigned char t1l[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
    CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
};
static const unsigned char t2h[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
};

/* The kernel, once per vector width: src/text_scan.h reads V_* macros. */
#define SCAN_KERNEL scan_ssse3
#define SCAN_TARGET "ssse3"
#define V __m128i
#define V_WIDTH 16
#define V_LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define V_TABLE(t) V_LOAD(t)
#define V_BYTE(c) _mm_set1_epi8((char)(c))
#define V_ZERO() _mm_setzero_si128()
#define V_AND _mm_and_si128
#define V_OR _mm_or_si128
#define V_XOR _mm_xor_si128
#define V_ANDNOT _mm_andnot_si128
#define V_EQ _mm_cmpeq_epi8
#define V_MAX _mm_max_epu8
#define V_MIN _mm_min_epu8
#define V_SUBS _mm_subs_epu8
#define V_SHUF _mm_shuffle_epi8
#define V_HIGH(x) _mm_and_si128(_mm_srli_epi16(x, 4), V_BYTE(0x0F))
/* the input shifted by k bytes, with the last k of prev in front */
#define V_BACK(in, prev, k) _mm_alignr_epi8(in, prev, 16 - (k))
#define V_ANY(x) (_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) != 0xFFFF)
#include "text_scan.h"

#define SCAN_KERNEL scan_avx2
#define SCAN_TARGET "avx2"
#define V __m256i
#define V_WIDTH 32
#define V_LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define V_TABLE(t) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(t)))
#define V_BYTE(c) _mm256_set1_epi8((char)(c))
#define V_ZERO() _mm256_setzero_si256()
#define V_AND _mm256_and_si256
#define V_OR _mm256_or_si256
#define V_XOR _mm256_xor_si256
#define V_ANDNOT _mm256_andnot_si256
#define V_EQ _mm256_cmpeq_epi8
#define V_MAX _mm256_max_epu8
#define V_MIN _mm256_min_epu8
#define V_SUBS _mm256_subs_epu8
#define V_SHUF _mm256_shuffle_epi8   /* within each 16-byte lane: the tables are in both */
#define V_HIGH(x) _mm256_and_si256(_mm256_srli_epi16(x, 4), V_BYTE(0x0F))
/* alignr works within lanes: first line up prev's high lane below in's low one */
#define V_BACK(in, prev, k) \
    _mm256_alignr_epi8(in, _mm256_permute2x128_si256(prev, in, 0x21), 16 - (k))
#define V_ANY(x) (!_mm256_testz_si256(x, x))
#include "text_scan.h"

#define SCAN_KERNEL scan_avx512
#define SCAN_TARGET "avx512f,avx512bw"
#define V __m512i
#define V_WIDTH 64
#define V_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define V_TABLE(t) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(t)))
#define V_BYTE(c) _mm512_set1_epi8((char)(c))
#define V_ZERO() _mm512_setzero_si512()
#define V_AND _mm512_and_si512
#define V_OR _mm512_or_si512
#define V_XOR _mm512_xor_si512
#define V_ANDNOT _mm512_andnot_si512
/* comparisons give masks here: turned back into bytes of 00 or FF */
#define V_EQ(a, b) _mm512_movm_epi8(_mm512_cmpeq_epi8_mask(a, b))
#define V_MAX _mm512_max_epu8
#define V_MIN _mm512_min_epu8
#define V_SUBS _mm512_subs_epu8
#define V_SHUF _mm512_shuffle_epi8   /* within each 16-byte lane, as AVX2's */
#define V_HIGH(x) _mm512_and_si512(_mm512_srli_epi16(x, 4), V_BYTE(0x0F))
/* as AVX2's: line up the 16 bytes below each lane of in (prev's top lane
 * below in's first), then shift within lanes */
#define V_BACK(in, prev, k) _mm512_alignr_epi8(in, _mm512_alignr_epi64(in, prev, 6), 16 - (k))
#define V_ANY(x) (_mm512_test_epi8_mask(x, x) != 0)
#include "text_scan.h"
#endif

static unsigned scan_width = 64;

void
text_scan_limit_width(unsigned bytes)
{
    scan_width = bytes;
}

bool
text_scan(const char *str, size_t n, size_t *bad, bool *dirty)
{
#ifdef SF_SCAN_VECTOR
    if (scan_width >= 64 && __builtin_cpu_supports("avx512bw")) {
        if (scan_avx512((const unsigned char *)str, n, dirty))
            return true;
    } else if (scan_width >= 32 && __builtin_cpu_supports("avx2")) {
        if (scan_avx2((const unsigned char *)str, n, dirty))
            return true;
    } else if (scan_width >= 16 && __builtin_cpu_supports("ssse3")) {
        if (scan_ssse3((const unsigned char *)str, n, dirty))
            return true;
    }
#endif
    /* or invalid: the portable scan says where (and what it saw before) */
    return text_scan_portable(str, n, bad, dirty);
}

size_t
text_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    n = max;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    const char *t = s;
    text_trim(&t, &n);   /* t stays s: the start was trimmed already */
    return n;
}

bool
text_gb18030_to_utf8(const char *s, size_t n, struct sf_buf *out, size_t *bad)
{
    return text_decode("GB18030", s, n, out, bad);
}

bool
text_decode(const char *charset, const char *s, size_t n, struct sf_buf *out, size_t *bad)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1 && errno == ENOMEM)
        util_out_of_memory(0);   /* not the input's fault (util.h) */
    if (cd == (iconv_t)-1) {
        if (bad)
            *bad = 0;
        return false;
    }
    bool ok = true;
    char *in = (char *)s;
    size_t inleft = n;
    while (inleft > 0) {
        /* Characters grow by at most 3x in UTF-8 (a 1-byte Latin-1 or 2-byte
         * UTF-16 unit -> up to 3 bytes; GB18030: 4 -> 4, 2 -> 3). */
        size_t want = inleft < 4096 ? inleft * 3 + 8 : 12288;
        char *dst = buf_reserve(out, want);
        if (!dst) {
            ok = false;
            break;
        }
        char *o = dst;
        size_t outleft = want;
        size_t r = iconv(cd, &in, &inleft, &o, &outleft);
        buf_commit(out, (size_t)(o - dst));
        if (r == (size_t)-1 && errno != E2BIG) {
            ok = false;
            break;
        }
    }
    if (!ok && bad)
        *bad = (size_t)(in - s);
    iconv_close(cd);
    /* iconv may pass through code points UTF-8 cannot hold; never trust it. */
    return ok && text_utf8_valid(out->data ? out->data : "", out->len, NULL);
}

void
text_trim(const char **sp, size_t *np)
{
    const unsigned char *s = (const unsigned char *)*sp;
    size_t n = *np, len;
    while (n && text_is_blank_at((const char *)s, n, &len)) {
        s += len;
        n -= len;
    }
    for (;;) {
        if (n >= 1 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n -= 1;
        else if (n >= 2 && s[n - 2] == 0xC2 && s[n - 1] == 0xA0)
            n -= 2;
        else if (n >= 3 && s[n - 3] == 0xE3 && s[n - 2] == 0x80 && s[n - 1] == 0x80)
            n -= 3;
        else
            break;
    }
    *sp = (const char *)s;
    *np = n;
}

/* Length of a character to drop at s, 0 if it is kept. */
static size_t
illegal_at(const unsigned char *s, size_t n)
{
    if (s[0] < 0x20 || s[0] == 0x7F)
        return 1;
    if (s[0] == 0xC2 && n >= 2 && s[1] >= 0x80 && s[1] <= 0x9F)
        return 2;
    if (s[0] == 0xEF && n >= 3 && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
        return 3;
    return 0;
}

bool
text_needs_clean(const char *str, size_t n, bool lines)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c == '\n' && lines)
            continue;
        if (c < 0x20 || c == 0x7F || ((c == 0xC2 || c == 0xEF) && illegal_at(s + i, n - i)))
            return true;
    }
    return false;
}

size_t
text_copy_clean(char *dst, const char *str, size_t n, bool lines)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c == '\t') {
            dst[o++] = ' ';
            i++;
            continue;
        }
        if (lines && c == '\n') {
            /* Lines end in LF or CRLF; a CR elsewhere is a control like any other. */
            dst[o++] = '\n';
            i++;
            continue;
        }
        if (lines && c == '\r' && i + 1 < n && s[i + 1] == '\n') {
            i++;   /* CRLF: the LF ends the line */
            continue;
        }
        if (c < 0x20 || c == 0x7F || c == 0xC2 || c == 0xEF) {
            size_t drop = illegal_at(s + i, n - i);
            if (drop) {
                i += drop;
                continue;
            }
        }
        dst[o++] = (char)c;
        i++;
    }
    return o;
}

size_t
text_utf8_count(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (s[i] & 0xC0) != 0x80;
    return count;
}

size_t
text_utf8_prefix(const char *str, size_t n, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t chars = 0, i = 0;
    for (; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            if (chars == max)
                break;
            chars++;
        }
    }
    return i;
}

size_t
text_cut_sentence(const char *s, size_t n, size_t max, bool *whole)
{
    size_t limit = text_utf8_prefix(s, n, max);
    *whole = limit == n;
    if (*whole)
        return n;
    static const char *const ends[] = {"。", "！", "？", "!", "?"};
    size_t best = 0;
    for (size_t i = 0; i < limit; i++) {
        for (size_t k = 0; k < SF_ARRAY_LEN(ends); k++) {
            size_t len = strlen(ends[k]);
            if (i + len <= limit && memcmp(s + i, ends[k], len) == 0 && i + len > best)
                best = i + len;
        }
    }
    return best ? best : limit;
}

const char *
text_find(const char *s, size_t n, const char *needle, size_t m)
{
    if (m == 0)
        return s;
    const char *end = s + n;
    while ((size_t)(end - s) >= m) {
        const char *p = memchr(s, needle[0], (size_t)(end - s) - m + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
        s = p + 1;
    }
    return NULL;
}

/* Length of the valid UTF-8 character at s (n bytes left), 0 if there is none. */
static size_t
char_len(const unsigned char *s, size_t n, bool valid)
{
    size_t len = s[0] < 0x80                  ? 1
                 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (valid)
        return len;   /* the whole text was checked once */
    if (!len || len > n || (len > 1 && !text_utf8_valid((const char *)s, len, NULL)))
        return 0;
    return len;
}

enum char_kind { CK_TEXT, CK_BLANK, CK_BREAK, CK_DROP };

static enum char_kind
char_kind(const unsigned char *s, size_t len, enum sf_clean how)
{
    size_t blank;
    if (len == 1) {
        unsigned c = s[0];
        if (c == '\n' || c == '\r')
            return CK_BREAK;
        if (c == ' ' || c == '\t' || (c == '\f' && how == SF_CLEAN_HTML))
            return CK_BLANK;
        return c < 0x20 || c == 0x7F ? CK_DROP : CK_TEXT;
    }
    if (illegal_at(s, len))
        return CK_DROP;
    /* In HTML only ASCII white space collapses: &nbsp; is meant. */
    if (how != SF_CLEAN_HTML && text_is_blank_at((const char *)s, len, &blank))
        return CK_BLANK;
    return CK_TEXT;
}

size_t
text_clean_field(const char *str, size_t n, enum sf_clean how, struct sf_buf *out, bool *cut)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t mark = out->len, i = 0, len;
    bool full = false, valid = text_utf8_valid(str, n, NULL);
    while (i < n && !full) {
        if (!(len = char_len(s + i, n - i, valid))) {
            i++;   /* not UTF-8: dropped like a control */
            continue;
        }
        enum char_kind k = char_kind(s + i, len, how);
        if (k == CK_DROP) {
            i += len;
            continue;
        }
        if (k == CK_TEXT) {
            full = !buf_append(out, s + i, len);
            i += len;
            continue;
        }
        /* A run of blanks and line breaks, up to the next character kept. */
        size_t start = i;
        bool wrap = false;
        while (i < n) {
            if (!(len = char_len(s + i, n - i, valid))) {
                i++;
                continue;
            }
            k = char_kind(s + i, len, how);
            if (k == CK_TEXT)
                break;
            wrap |= k == CK_BREAK;
            i += len;
        }
        if (out->len == mark || i >= n)
            continue;   /* leading or trailing: trimmed */
        bool wide_before = (unsigned char)out->data[out->len - 1] >= 0x80;
        bool wide_after = s[i] >= 0x80;
        if (wrap) {
            /* CJK text has no spaces: a wrap between two such characters
             * joins them; anywhere else it was a space. */
            if (!(wide_before && wide_after))
                full = !buf_append_char(out, ' ');
        } else if (how == SF_CLEAN_TEXT) {
            for (size_t j = start; j < i && !full;) {
                if (!(len = char_len(s + j, i - j, valid))) {
                    j++;
                    continue;
                }
                if (char_kind(s + j, len, how) == CK_BLANK)
                    full = s[j] == '\t' ? !buf_append_char(out, ' ') : !buf_append(out, s + j, len);
                j += len;
            }
        } else {
            full = !buf_append_char(out, ' ');
        }
    }
    if (cut)
        *cut = full;
    /* Trailing blanks that a cut or HTML's kept NBSP left, and leading
     * NBSP/U+3000 in HTML mode. */
    const char *t = out->data ? out->data + mark : "";
    size_t tn = out->len - mark;
    text_trim(&t, &tn);
    if (tn && t != out->data + mark)
        memmove(out->data + mark, t, tn);
    out->len = mark + tn;
    if (out->data)
        out->data[out->len] = '\0';
    return tn;
}
