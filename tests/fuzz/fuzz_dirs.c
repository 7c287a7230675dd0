/* SPDX-License-Identifier: MIT */
/* fuzz_dirs.c - the dirs cache: bytes of state/dirs -> a walk that trusts no damage */
#define _XOPEN_SOURCE 700     /* nftw() */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "dirs.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A small tree, made once, every file and directory long settled, and
 * the dirs file a walk over it writes (`good`).  Each input becomes the
 * next run's dirs file, one of three ways, by its first byte:
 *
 *   0: the input is the whole file;
 *   1: the input's bytes overwrite the good file at an offset (its next
 *      two bytes), checksums left as they were;
 *   2: the same, then every record's checksum and the index's made right
 *      again, so that the records' contents reach the decoder.
 *
 * Whatever the file, the walk must not crash, leak or read out of
 * bounds, every path it hands on must stay inside the tree, and the
 * dirs file it writes must be usable.  With the checksums not made right
 * (0 and 1), no damage may be trusted: the walk lists exactly the tree.
 */
static char root[96], state[96], dirs_path[112];
static struct sf_config *config;
static unsigned char *good;
static size_t good_len;

struct seen {
    char list[4096];
    size_t len;
    bool outside;
};

static bool
collect(void *ctx, const struct sf_file *f)
{
    struct seen *s = ctx;
    size_t n = strlen(f->path);
    if (strncmp(f->path, root, strlen(root)) != 0 || strstr(f->path, "/../") ||
        strstr(f->path, "/./") || strstr(f->path, "//"))
        s->outside = true;
    if (s->len + n + 1 < sizeof s->list) {
        memcpy(s->list + s->len, f->path, n);
        s->list[s->len + n] = '\n';
        s->len += n + 1;
    }
    return true;
}

static void
walk(unsigned threads, struct seen *s)
{
    memset(s, 0, sizeof *s);
    struct sf_dirs *d = dirs_open(state, config, (int64_t)time(NULL), false, NULL);
    if (!d)
        abort();
    struct sf_error err = {0};
    if (!ingest_walk(config, threads, d, collect, s, &err) || !dirs_commit(d, &err))
        abort();
    error_finish(&err);
    dirs_free(d);
}

static void
put(const char *rel, const char *text)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

static void
age(const char *rel)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    struct timeval old[2] = {{1704067200, 0}, {1704067200, 0}};
    if (utimes(path, old) != 0)
        abort();
}

static void
write_dirs(const void *p, size_t n)
{
    int fd = open(dirs_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0)
        abort();
}

static unsigned char *
read_dirs(size_t *n)
{
    FILE *f = fopen(dirs_path, "rb");
    if (!f)
        abort();
    unsigned char *b = malloc(1 << 16);
    *n = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

static struct seen truth;
static char top[32];

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path);
}

static void
cleanup(void)
{
    nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setup(void)
{
    snprintf(top, sizeof top, "/tmp/sf-fuzz-dirs-XXXXXX");
    if (!mkdtemp(top))
        abort();
    atexit(cleanup);
    snprintf(root, sizeof root, "%s/in", top);
    snprintf(state, sizeof state, "%s/state", top);
    snprintf(dirs_path, sizeof dirs_path, "%s/dirs", state);
    if (mkdir(root, 0755) != 0 || mkdir(state, 0755) != 0)
        abort();
    char sub[160];
    snprintf(sub, sizeof sub, "%s/a", root);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/a/b", root);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/c", root);
    mkdir(sub, 0755);
    const char *files[] = {"x.txt", "y.txt", "a/p.txt", "a/q.txt", "a/skip.dat", "a/b/r.txt",
                           "a/b/s.txt", "c/t.txt"};
    for (size_t i = 0; i < SF_ARRAY_LEN(files); i++) {
        put(files[i], "标题\n");
        age(files[i]);
    }
    age("a/b");
    age("a");
    age("c");
    age(".");
    char *yaml = NULL;
    size_t n = 0;
    FILE *y = open_memstream(&yaml, &n);
    fprintf(y, "site: {title: T, base_url: 'https://x.example/'}\n"
               "inputs: [{path: '%s', settled_after: 1h}]\n", root);
    fclose(y);
    struct sf_errors errs = {0};
    config = config_load_buffer(yaml, n, "/tmp/feeds.yaml", &errs);
    free(yaml);
    if (!config)
        abort();
    errors_finish(&errs);
    walk(1, &truth);    /* lists, and writes the good file */
    good = read_dirs(&good_len);
    struct seen again;
    walk(2, &again);    /* trusts it */
    if (again.len != truth.len || memcmp(again.list, truth.list, truth.len) != 0 ||
        truth.len == 0)
        abort();
}

/* Makes the checksums of f (laid out as the good file is) right again. */
static void
fix_sums(unsigned char *f, size_t n)
{
    uint64_t count = fuzz_get_le(good + good_len - 24, 8),
             at = fuzz_get_le(good + good_len - 16, 8);
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *e = good + at + i * 24;
        uint64_t off = fuzz_get_le(e + 8, 8), len = fuzz_get_le(e + 16, 8);
        if (off + len <= n && len >= 8)
            fuzz_put_le64(f + off + len - 8, sum64(0, f + off, len - 8));
    }
    if (at + count * 24 + 24 <= n)
        fuzz_put_le64(f + at + count * 24 + 16, sum64(0, f + at, count * 24 + 16));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!config)
        setup();
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    if (mode == 0) {
        write_dirs(data + 1, size - 1);
    } else {
        if (size < 3)
            return 0;
        size_t at = (size_t)(data[1] | data[2] << 8) % good_len, n = size - 3;
        unsigned char *f = malloc(good_len);
        memcpy(f, good, good_len);
        memcpy(f + at, data + 3, n < good_len - at ? n : good_len - at);
        if (mode == 2)
            fix_sums(f, good_len);
        write_dirs(f, good_len);
        free(f);
    }
    struct seen s;
    walk(1 + size % 2, &s);
    if (s.outside)
        abort();
    if (mode != 2 && (s.len != truth.len || memcmp(s.list, truth.list, truth.len) != 0))
        abort();
    write_dirs(good, good_len);     /* for the next input */
    return 0;
}
