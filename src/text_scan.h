/* SPDX-License-Identifier: MIT */
/* text_scan.h - the vector scan of text.c, once per width; included only
 * there, after defining SCAN_KERNEL, SCAN_TARGET and the V_* operations */

/*
 * Validates s[0..n) as UTF-8 V_WIDTH bytes at a time and tells whether
 * text_copy_clean would remove anything (*dirty).  The last block is the
 * rest padded with spaces, and one more block of spaces when there is no
 * rest: a form cut short at the end meets a space and is TOO_SHORT, so no
 * separate end check is needed.
 */
__attribute__((target(SCAN_TARGET))) static bool
SCAN_KERNEL(const unsigned char *s, size_t n, bool *dirty)
{
    const V byte1_high = V_TABLE(t1h), byte1_low = V_TABLE(t1l), byte2_high = V_TABLE(t2h);
    V prev = V_ZERO(), error = V_ZERO(), ugly = V_ZERO();
    unsigned char tail[V_WIDTH];
    size_t i = 0;
    for (bool last = false; !last;) {
        V in;
        if (n - i >= V_WIDTH) {
            in = V_LOAD(s + i);
            i += V_WIDTH;
        } else {
            memset(tail, ' ', V_WIDTH);
            if (n > i)   /* s may be NULL when n is 0 */
                memcpy(tail, s + i, n - i);
            in = V_LOAD(tail);
            i = n;
            last = true;
        }
        V prev1 = V_BACK(in, prev, 1), prev2 = V_BACK(in, prev, 2), prev3 = V_BACK(in, prev, 3);
        V sc = V_AND(V_AND(V_SHUF(byte1_high, V_HIGH(prev1)),
                           V_SHUF(byte1_low, V_AND(prev1, V_BYTE(0x0F)))),
                     V_SHUF(byte2_high, V_HIGH(in)));
        /* a third byte (E0.. two back) or a fourth (F0.. three back): 0x80 */
        V must = V_AND(V_OR(V_SUBS(prev2, V_BYTE(0xE0 - 0x80)), V_SUBS(prev3, V_BYTE(0xF0 - 0x80))),
                       V_BYTE(0x80));
        error = V_OR(error, V_XOR(must, sc));

        /* what text_copy_clean removes: controls but LF, DEL, C1 controls
         * (C2 80..9F), U+FFFE and U+FFFF (EF BF BE..BF); exact once the
         * bytes are known to be valid */
        V ctrl = V_ANDNOT(V_EQ(in, V_BYTE('\n')), V_EQ(V_MAX(in, V_BYTE(0x1F)), V_BYTE(0x1F)));
        V del = V_EQ(in, V_BYTE(0x7F));
        V c1 = V_AND(V_EQ(prev1, V_BYTE(0xC2)), V_EQ(V_MIN(in, V_BYTE(0x9F)), in));
        V nonchar = V_AND(V_AND(V_EQ(prev2, V_BYTE(0xEF)), V_EQ(prev1, V_BYTE(0xBF))),
                          V_EQ(V_MAX(in, V_BYTE(0xBE)), in));
        ugly = V_OR(ugly, V_OR(V_OR(ctrl, del), V_OR(c1, nonchar)));
        prev = in;
    }
    if (V_ANY(error))
        return false;
    *dirty = V_ANY(ugly);
    return true;
}

#undef SCAN_KERNEL
#undef SCAN_TARGET
#undef V
#undef V_WIDTH
#undef V_LOAD
#undef V_TABLE
#undef V_BYTE
#undef V_ZERO
#undef V_AND
#undef V_OR
#undef V_XOR
#undef V_ANDNOT
#undef V_EQ
#undef V_MAX
#undef V_MIN
#undef V_SUBS
#undef V_SHUF
#undef V_HIGH
#undef V_BACK
#undef V_ANY
