/* SPDX-License-Identifier: MIT */
/* fuzz_text.c - text normalization: UTF-8 checks, decoding, cleaning, cutting */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s[0..n) is valid UTF-8 that text_copy_clean(lines) would not change. */
static void
check_clean(const char *s, size_t n, bool lines)
{
    if (!text_utf8_valid(s, n, NULL) || text_needs_clean(s, n, lines))
        abort();
}

/* What text_clean_field() promises: record text (check.c), idempotent,
 * and cut only at a character boundary when the buffer is full. */
static void
check_field(const char *s, size_t n, enum sf_clean how, size_t limit)
{
    struct sf_buf out, again;
    buf_init(&out, limit);
    buf_init(&again, 0);
    bool cut = false;
    size_t len = text_clean_field(s, n, how, &out, &cut);
    if (len != out.len || (len && strlen(out.data) != len) || (!cut && limit && len > limit))
        abort();
    if (len) {
        fuzz_check_text(out.data, true);
        if (text_clean_field(out.data, len, how, &again, NULL) != len ||
            memcmp(again.data, out.data, len) != 0)
            abort();
    }
    buf_finish(&out);
    buf_finish(&again);
}

/*
 * The input is text as any parser may meet it: the checks that are
 * fused for speed agree with the plain ones, decoding yields UTF-8,
 * cleaning yields record text and is idempotent, cutting keeps whole
 * characters.  The last byte (when there is one) picks a limit for the
 * cleaned text, so that cuts at the limit are tried too.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t bad1 = SIZE_MAX;
    bool dirty = false;
    bool valid = text_scan_portable(s, size, &bad1, &dirty);
    if ((!valid && bad1 >= size) || (valid && dirty != text_needs_clean(s, size, true)))
        abort();
    /* every vector scan (of those the CPU has) says the same */
    static const unsigned widths[] = {64, 32, 16};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        size_t bad2 = SIZE_MAX;
        bool dirty2 = false;
        text_scan_limit_width(widths[i]);
        if (text_scan(s, size, &bad2, &dirty2) != valid || (!valid && bad1 != bad2) ||
            (valid && dirty2 != dirty))
            abort();
    }
    text_scan_limit_width(64);
    if (text_utf8_valid(s, size, NULL) != valid)
        abort();

    if (valid) {
        char *dst = malloc(size ? size : 1);
        if (!dst)
            abort();
        for (int lines = 0; lines < 2; lines++) {
            size_t n = text_copy_clean(dst, s, size, lines);
            if (n > size)
                abort();
            check_clean(dst, n, lines);
            if (text_copy_clean(dst, dst, n, lines) != n)
                abort();   /* cleaning clean text changes nothing */
        }
        free(dst);

        size_t count = text_utf8_count(s, size);
        for (size_t max = 0; max < 4; max++) {
            size_t want = max * count / 3;
            size_t p = text_utf8_prefix(s, size, want);
            if (p > size || !text_utf8_valid(s, p, NULL) || text_utf8_count(s, p) != want)
                abort();
            bool whole;
            size_t c = text_cut_sentence(s, size, want, &whole);
            if (c > p || !text_utf8_valid(s, c, NULL) || whole != (p == size) ||
                (whole && c != size))
                abort();
        }

        const char *t = s;
        size_t tn = size;
        text_trim(&t, &tn);
        if (t < s || t + tn > s + size || !text_utf8_valid(t, tn, NULL))
            abort();
    }

    struct sf_buf out;
    buf_init(&out, 0);
    size_t badg = SIZE_MAX;
    if (text_gb18030_to_utf8(s, size, &out, &badg)) {
        if (!text_utf8_valid(out.data ? out.data : "", out.len, NULL))
            abort();
    } else if (badg > size) {
        abort();
    }
    buf_clear(&out);
    if (text_decode("BIG5-HKSCS", s, size, &out, NULL) &&
        !text_utf8_valid(out.data ? out.data : "", out.len, NULL))
        abort();
    buf_finish(&out);

    size_t limit = size ? data[size - 1] % 64 : 0;
    for (int how = 0; how < SF_CLEAN_COUNT; how++) {
        check_field(s, size, (enum sf_clean)how, 0);
        if (limit)
            check_field(s, size, (enum sf_clean)how, limit);
    }
    return 0;
}
