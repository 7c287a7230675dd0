/* SPDX-License-Identifier: MIT */
/* test_manifest.c - walk order, round trip, damage */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest.h"

/* The order the walk visits paths in: component by component. */
static void
test_walk_order(void **state)
{
    static const struct {
        uint32_t ia;
        const char *a;
        uint32_t ib;
        const char *b;
        int want;   /* sign */
    } cases[] = {
        {0, "d/a/x.txt", 0, "d/a-b.txt", -1},   /* '/' before '-' */
        {0, "d/a.txt", 0, "d/a/x.txt", 1},      /* "a.txt" after dir "a" */
        {0, "d/a", 0, "d/a/x", -1},
        {0, "d/b.txt", 0, "d/b.txt", 0},
        {0, "d/2024/01/02/1.txt", 0, "d/2024/01/10/1.txt", -1},
        {1, "a", 0, "z", 1},                    /* inputs in order first */
        {0, "d/\xe6\x95\x99.txt", 0, "d/z.txt", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int c = manifest_walk_cmp(cases[i].ia, cases[i].a, cases[i].ib, cases[i].b);
        int sign = (c > 0) - (c < 0);
        if (sign != cases[i].want)
            fail_msg("case %zu: %d", i, c);
        int back = manifest_walk_cmp(cases[i].ib, cases[i].b, cases[i].ia, cases[i].a);
        assert_int_equal((back > 0) - (back < 0), -sign);
    }
}

static char dir[] = "/tmp/sf-test-manifest-XXXXXX";

static struct stat
fake_stat(off_t size, time_t mtime, ino_t ino)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_size = size;
    st.st_mtim.tv_sec = mtime;
    st.st_mtim.tv_nsec = 123;
    st.st_ino = ino;
    st.st_dev = 7;
    return st;
}

static void
write_manifest(int64_t started)
{
    struct sf_error err = {0};
    struct sf_manifest *m = manifest_open(dir, 42, started, NULL, &err);
    assert_non_null(m);
    for (int i = 0; i < 100; i++) {
        char path[64], id[64];
        snprintf(path, sizeof path, "in/%03d.txt", i);
        snprintf(id, sizeof id, "tag:example.org,2024-01-01:%016x", i);
        struct sf_entry e = {
            .idhash = (uint64_t)i * 7919,
            .content = (uint64_t)i * 104729,
            .published = {1700000000 + i, 28800, true},
            .captured_at = {1700003600 + i, 28800, i % 2 == 0},
            .id = id,
            .category = i % 3 ? "教育" : "科技",
        };
        struct sf_error prob = {.path = path, .line = 3, .msg = (char *)"warning: something"};
        bool warn = true;
        struct stat st = fake_stat(1000 + i, 1600000000, (ino_t)i + 1);
        bool reused = false;
        manifest_add(m, 0, path, &st, &e, 1, &prob, &warn, i % 10 == 0, &reused, NULL, NULL);
    }
    manifest_end_walk(m, NULL, NULL);
    assert_true(manifest_changed(m));
    assert_true(manifest_commit(m, &err));
    manifest_free(m);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return d;
}

struct replayed {
    size_t n;
    uint32_t last_seq;
    bool in_order;
};

static void
count_replay(void *ctx, const struct sf_entry *e)
{
    struct replayed *r = ctx;
    if (r->n && e->seq != r->last_seq + 1)
        r->in_order = false;
    r->last_seq = e->seq;
    r->n++;
}

/* A rerun: every file a hit, in order.  With change_at >= 0, file
 * change_at changed (parsed again, different size).  Returns how many
 * adds were held back; *replayed counts what came back through fn. */
static size_t
rerun(int change_at, struct replayed *replayed, bool *changed)
{
    struct sf_error err = {0};
    struct sf_manifest *m = manifest_open(dir, 42, 1700000100, NULL, &err);
    assert_non_null(m);
    size_t held = 0;
    for (int i = 0; i < 100; i++) {
        char path[64];
        snprintf(path, sizeof path, "in/%03d.txt", i);
        struct stat st = fake_stat(1000 + i + (i == change_at), 1600000000, (ino_t)i + 1);
        struct sf_manifest_file mf;
        bool hit = manifest_find(m, 0, path, &st, &mf);
        assert_int_equal(hit, i != change_at);
        char id[64];
        snprintf(id, sizeof id, "tag:example.org,2024-01-01:%016x", i);
        struct sf_entry e = {
            .idhash = (uint64_t)i * 7919, .content = (uint64_t)i * 104729,
            .published = {1700000000 + i, 28800, true},
            .captured_at = {1700003600 + i, 28800, i % 2 == 0},
            .id = id, .category = i % 3 ? "教育" : "科技",
        };
        struct sf_error prob = {.path = path, .line = 3, .msg = (char *)"warning: something"};
        bool warn = true;
        held += manifest_add(m, 0, path, &st, hit ? mf.entries : &e, 1, &prob, &warn, i % 10 == 0,
                             &hit, count_replay, replayed);
    }
    *changed = manifest_end_walk(m, count_replay, replayed);
    assert_true(manifest_commit(m, &err));
    manifest_free(m);
    return held;
}

/* A rerun that finds no change holds everything back and writes nothing;
 * a change replays exactly the files before it, and the new manifest is
 * byte for byte what writing it whole gives. */
static void
test_lazy(void **state)
{
    write_manifest(1700000000);
    char path[512];
    snprintf(path, sizeof path, "%s/manifest", dir);
    size_t len0, len1;
    char *before = slurp(path, &len0);
    struct stat st0, st1;
    stat(path, &st0);

    struct replayed rp = {.in_order = true};
    bool changed;
    assert_int_equal(rerun(-1, &rp, &changed), 100);
    assert_false(changed);
    assert_int_equal(rp.n, 0);
    stat(path, &st1);
    assert_int_equal(st0.st_ino, st1.st_ino);   /* not rewritten */

    rp = (struct replayed){.in_order = true};
    assert_int_equal(rerun(60, &rp, &changed), 60);
    assert_true(changed);
    assert_int_equal(rp.n, 60);   /* files 0..59, in walk order from seq 0 */
    assert_true(rp.in_order);
    assert_int_equal(rp.last_seq, 59);
    char *after = slurp(path, &len1);
    /* equal to a manifest written whole, but for file 60's size */
    assert_int_equal(len0, len1);
    size_t diffs = 0;
    for (size_t i = 48; i < len0; i++)   /* past the header (its start time differs) */
        diffs += before[i] != after[i];
    assert_true(diffs > 0 && diffs <= 16);   /* one size field and one checksum */
    free(before);
    free(after);
}

static void
test_round_trip(void **state)
{
    assert_non_null(mkdtemp(dir));
    write_manifest(1700000000);
    struct sf_error err = {0};
    struct sf_manifest *m = manifest_open(dir, 42, 1700000100, NULL, &err);
    assert_non_null(m);
    size_t hits = 0;
    for (int i = 0; i < 100; i++) {
        char path[64];
        snprintf(path, sizeof path, "in/%03d.txt", i);
        /* every third file changed size: a miss */
        struct stat st = fake_stat(1000 + i + (i % 3 == 1), 1600000000, (ino_t)i + 1);
        struct sf_manifest_file mf;
        bool hit = manifest_find(m, 0, path, &st, &mf);
        assert_int_equal(hit, i % 3 != 1);
        if (hit) {
            hits++;
            assert_int_equal(mf.n_entries, 1);
            assert_int_equal(mf.entries[0].idhash, (uint64_t)i * 7919);
            assert_int_equal(mf.entries[0].published.t, 1700000000 + i);
            assert_int_equal(mf.entries[0].captured_at.set, i % 2 == 0);
            assert_string_equal(mf.entries[0].category, i % 3 ? "教育" : "科技");
            assert_string_equal(mf.entries[0].path, path);
            assert_int_equal(mf.n_problems, i % 10 == 0);
            if (mf.n_problems)
                assert_string_equal(mf.problems[0].msg, "warning: something");
        }
    }
    assert_int_equal(hits, 67);
    manifest_free(m);
    /* other settings: nothing is used, and *note says why */
    char *note = NULL;
    m = manifest_open(dir, 43, 1700000100, &note, &err);
    assert_non_null(note);
    struct stat st = fake_stat(1000, 1600000000, 1);
    struct sf_manifest_file mf;
    assert_false(manifest_find(m, 0, "in/000.txt", &st, &mf));
    free(note);
    manifest_free(m);
}

/* A damaged record ends the use of the old manifest there: earlier
 * records still hit, later ones are parsed again. */
static void
test_damage(void **state)
{
    write_manifest(1700000000);
    char path[512];
    snprintf(path, sizeof path, "%s/manifest", dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(0x42 ^ fgetc(f), f);
    fclose(f);
    struct sf_error err = {0};
    struct sf_manifest *m = manifest_open(dir, 42, 1700000100, NULL, &err);
    size_t hits = 0;
    bool missed = false;
    for (int i = 0; i < 100; i++) {
        char p[64];
        snprintf(p, sizeof p, "in/%03d.txt", i);
        struct stat st = fake_stat(1000 + i, 1600000000, (ino_t)i + 1);
        struct sf_manifest_file mf;
        bool hit = manifest_find(m, 0, p, &st, &mf);
        if (!hit)
            missed = true;
        else
            assert_false(missed);   /* never a hit after the damage */
        hits += hit;
    }
    assert_true(hits > 10 && hits < 90);
    manifest_free(m);
}

/* Files modified within a second of the last run's start are not trusted. */
static void
test_racy(void **state)
{
    write_manifest(1600000000);   /* the run started as the files were written */
    struct sf_error err = {0};
    struct sf_manifest *m = manifest_open(dir, 42, 1700000000, NULL, &err);
    struct stat st = fake_stat(1000, 1600000000, 1);
    struct sf_manifest_file mf;
    assert_false(manifest_find(m, 0, "in/000.txt", &st, &mf));
    manifest_free(m);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The state files' checksum: every single-bit flip, every byte count and
 * every lane's bytes change it, and chaining depends on the order. */
static void
test_sum64(void **state)
{
    (void)state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= 200; n += (n < 70 ? 1 : 13)) {
        uint64_t want = sum64(0, data, n);
        assert_true(sum64(0, data, n) == want);
        assert_true(sum64(1, data, n) != want);
        if (n < sizeof data)
            assert_true(sum64(0, data, n + 1) != want);
        for (size_t bit = 0; bit < 8 * n; bit++) {
            data[bit / 8] ^= (unsigned char)(1u << bit % 8);
            assert_true(sum64(0, data, n) != want);
            data[bit / 8] ^= (unsigned char)(1u << bit % 8);
        }
    }
    /* zero bytes count too: a zeroed page is the commonest damage */
    unsigned char zeros[64] = {0};
    assert_true(sum64(0, zeros, 32) != sum64(0, zeros, 33));
    uint64_t ab = sum64(sum64(0, "a", 1), "b", 1), ba = sum64(sum64(0, "b", 1), "a", 1);
    assert_true(ab != ba);
    assert_true(sum64(0, NULL, 0) == sum64(0, "", 0));
}

/* A streamed sum is the same however the bytes are cut into pieces, and
 * differs when they differ. */
static void
test_sum_stream(void **state)
{
    (void)state;
    static unsigned char data[3 * SF_SUM_BLOCK + 123];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 7));
    static struct sf_sum whole;
    whole = (struct sf_sum){0};
    sum_add(&whole, data, sizeof data);
    uint64_t want = sum_end(&whole);
    const size_t cuts[] = {1, 7, 51, 64, 4095, 4096, 4097, 9000};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        static struct sf_sum s;
        s = (struct sf_sum){0};
        for (size_t at = 0; at < sizeof data; at += cuts[c])
            sum_add(&s, data + at, sizeof data - at < cuts[c] ? sizeof data - at : cuts[c]);
        assert_true(sum_end(&s) == want);
    }
    data[SF_SUM_BLOCK + 5] ^= 1;
    static struct sf_sum other;
    other = (struct sf_sum){0};
    sum_add(&other, data, sizeof data);
    assert_true(sum_end(&other) != want);
}

/* The state files' read window hands out every byte in order, whatever
 * the sizes asked for, keeps the file offset of its start, stays within
 * its limit and says no at the end of the file. */
static void
test_window(void **state)
{
    (void)state;
    char path[] = "/tmp/sf-test-window-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    enum { SIZE = 300001, MOST = 5000 };
    static unsigned char data[SIZE];
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 7 % 251);
    assert_true(write(fd, data, SIZE) == SIZE);
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    struct sf_buf b;
    buf_init(&b, MOST + 65536);
    size_t pos = 0;
    uint64_t base = 0, at = 0, seed = 1;
    while (at < SIZE) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t n = 1 + (size_t)(seed >> 33) % MOST;
        if (n > SIZE - at)
            n = SIZE - at;
        assert_true(buf_window_need(&b, &pos, &base, fd, n));
        assert_true(base + pos == at);
        assert_true(b.len - pos >= n);
        assert_memory_equal(b.data + pos, data + at, n);
        pos += n;
        at += n;
    }
    assert_false(buf_window_need(&b, &pos, &base, fd, 1));
    assert_true(base + pos == SIZE);
    buf_finish(&b);
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_order), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage), cmocka_unit_test(test_lazy),
        cmocka_unit_test(test_racy), cmocka_unit_test(test_sum64),
        cmocka_unit_test(test_sum_stream), cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
