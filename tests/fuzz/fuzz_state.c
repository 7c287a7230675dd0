/* SPDX-License-Identifier: MIT */
/* fuzz_state.c - damaged manifest, chosen or outputs files -> a build that trusts none of it */
#define _XOPEN_SOURCE 700     /* nftw() */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "check.h"
#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A small archive, every capture long settled, and two builds of it,
 * each with its own state and output directories and each followed by a
 * change:
 *
 *   - A, built before one more capture came: the next run finds only a
 *     new file, so it takes the manifest's unchanged records without
 *     their entries, merges the new capture into `chosen` and skips the
 *     feeds `outputs` says are intact;
 *   - B, built with one capture more, since removed: the next run fills
 *     the catalog from every other record's entries in the manifest.  B
 *     also reads a JSON Lines file, whose records are found again by
 *     their offset in it (and which keeps a run off the chosen merge).
 *
 * What each build left in its two directories is kept (`pristine`), and
 * the truth is what the next run does from there: its status, counts and
 * the files it changes, and a digest of every output file after it.
 * Each input puts both directories back as they were, damages one state
 * file of A or B (the first byte / 9 % 2), the file by the same byte % 3
 * (manifest, chosen, outputs), one of three ways (/ 3 % 3):
 *
 *   0: the input is the whole file;
 *   1: the input's bytes overwrite the good file at an offset (its next
 *      two bytes), checksums left as they were;
 *   2: the same, then the file's checksums made right again, so that the
 *      damaged contents reach the decoders;
 *
 * and runs the build.  Whatever the file, it must not crash, leak or read
 * out of bounds.  With the checksums not made right (0 and 1) no damage
 * may be trusted: the run must come to the truth, byte for byte, whichever
 * path it then takes.
 */
enum { MANIFEST, CHOSEN, OUTPUTS, N_FILES };
static const char *const names[N_FILES] = {"manifest", "chosen", "outputs"};
#define MANIFEST_HEADER 48      /* src/manifest.c, HEADER_LEN */

/* A directory's files, to put back as they were, mtimes included (the
 * outputs file trusts a feed whose files keep their size and mtime). */
struct snapshot {
    size_t n;
    char *rel[64];
    unsigned char *data[64];
    size_t len[64];
    struct timespec mtime[64];
};

struct outcome {
    enum sf_build_status status;
    size_t captures, rejected;
    char changed[4096];     /* the files changed, sorted, a line each */
    uint64_t digest;        /* of every output file's name and bytes, after */
};

/* A build of the archive, and what it left. */
struct scene {
    char state[64], out[64];
    struct sf_config *config;
    struct snapshot state_snap, out_snap;
    unsigned char *good[N_FILES];
    size_t good_len[N_FILES];
    struct outcome truth;
};

static char top[32], root[64];
static struct scene scenes[2];

static void
path_of(char *buf, size_t n, const char *dir, const char *rel)
{
    if ((size_t)snprintf(buf, n, "%s/%s", dir, rel) >= n)
        abort();
}

static void
write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0)
        abort();
}

static unsigned char *
read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        abort();
    long len = ftell(f);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    rewind(f);
    if (len < 0 || !b || fread(b, 1, (size_t)len, f) != (size_t)len)
        abort();
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* A capture in the archive, with a modification time long past (a file
 * changed within a second of a run is parsed again: not what is tested). */
static void
put(const char *rel, const char *title, const char *category, const char *published,
    const char *captured, const char *url)
{
    char path[160], text[1024];
    path_of(path, sizeof path, root, rel);
    int n = snprintf(text, sizeof text,
                     "%s\n\n类别:%s 发布时间:%s 来源:城市早知道\n\n本文转自:江南日报\n\n"
                     "%s的正文,第一段。\n\n快照生成时间:%s\n\n信息原文地址:%s\n",
                     title, category, published, title, captured, url);
    if (n < 0 || (size_t)n >= sizeof text)
        abort();
    write_file(path, text, (size_t)n);
    struct timeval old[2] = {{1704067200, 0}, {1704067200, 0}};
    if (utimes(path, old) != 0)
        abort();
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- directories --------------------------------------------------------- */

static struct snapshot *walking;
static const char *walking_dir;

static int
take_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type != FTW_F)
        return 0;
    struct snapshot *s = walking;
    if (s->n == SF_ARRAY_LEN(s->rel))
        abort();
    s->rel[s->n] = strdup(path + strlen(walking_dir) + 1);
    s->data[s->n] = read_file(path, &s->len[s->n]);
    s->mtime[s->n] = st->st_mtim;
    s->n++;
    return 0;
}

static void
snapshot_swap(struct snapshot *s, size_t a, size_t b)
{
    char *rel = s->rel[a];
    unsigned char *data = s->data[a];
    size_t len = s->len[a];
    struct timespec mtime = s->mtime[a];
    s->rel[a] = s->rel[b], s->data[a] = s->data[b], s->len[a] = s->len[b];
    s->mtime[a] = s->mtime[b];
    s->rel[b] = rel, s->data[b] = data, s->len[b] = len, s->mtime[b] = mtime;
}

/* Every file below dir, sorted by name. */
static void
snapshot_take(struct snapshot *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    walking = s;
    walking_dir = dir;
    if (nftw(dir, take_one, 16, FTW_PHYS) != 0)
        abort();
    walking = NULL;
    for (size_t i = 1; i < s->n; i++)   /* insertion sort: a few dozen */
        for (size_t j = i; j > 0 && strcmp(s->rel[j - 1], s->rel[j]) > 0; j--)
            snapshot_swap(s, j - 1, j);
}

static void
snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rel[i]);
        free(s->data[i]);
    }
    s->n = 0;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return ftw->level ? remove(path) : 0;
}

static void
mkdirs(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
}

/* Makes dir hold exactly the files of s, with their mtimes. */
static void
snapshot_restore(const struct snapshot *s, const char *dir)
{
    if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        abort();
    for (size_t i = 0; i < s->n; i++) {
        char path[256];
        path_of(path, sizeof path, dir, s->rel[i]);
        mkdirs(path);
        write_file(path, s->data[i], s->len[i]);
        struct timespec t[2] = {s->mtime[i], s->mtime[i]};
        if (utimensat(AT_FDCWD, path, t, 0) != 0)
            abort();
    }
}

/* A digest of every file below dir: names and bytes, in name order. */
static uint64_t
tree_digest(const char *dir)
{
    struct snapshot s;
    snapshot_take(&s, dir);
    uint64_t h = 0;
    for (size_t i = 0; i < s.n; i++) {
        h = hash_words(h, s.rel[i], strlen(s.rel[i]) + 1);
        h = hash_words(h, s.data[i], s.len[i]);
    }
    snapshot_free(&s);
    return h;
}

static void
cleanup(void)
{
    nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(top);
}

/* ---- runs ---------------------------------------------------------------- */

static void
run(const struct scene *sc, unsigned jobs, struct outcome *o)
{
    struct sf_build_opts opts = {.no_push = true, .lock = SF_LOCK_TRY, .jobs = jobs,
                                 .started = (int64_t)time(NULL)};
    struct sf_build_result res = {0};
    struct sf_error err = {0};
    memset(o, 0, sizeof *o);
    o->status = build_run(sc->config, &opts, NULL, &res, &err);
    o->captures = res.captures;
    o->rejected = res.rejected;
    qsort(res.changed, res.n_changed, sizeof *res.changed, cmp_str);
    size_t len = 0;
    for (size_t i = 0; i < res.n_changed; i++) {
        size_t n = strlen(res.changed[i]);
        if (len + n + 1 >= sizeof o->changed)
            abort();
        memcpy(o->changed + len, res.changed[i], n);
        o->changed[len + n] = '\n';
        len += n + 1;
    }
    o->digest = tree_digest(sc->out);
    build_result_finish(&res);
    error_finish(&err);
}

static void
restore(const struct scene *sc)
{
    snapshot_restore(&sc->state_snap, sc->state);
    snapshot_restore(&sc->out_snap, sc->out);
}

/* Builds the archive as it is now into a new scene, keeping what it left. */
static void
scene_build(struct scene *sc, const char *name, const char *more_inputs)
{
    char dir[64];
    path_of(dir, sizeof dir, top, name);
    if (mkdir(dir, 0755) != 0)
        abort();
    path_of(sc->state, sizeof sc->state, dir, "state");
    path_of(sc->out, sizeof sc->out, dir, "out");
    char *yaml = NULL;
    size_t n = 0;
    FILE *y = open_memstream(&yaml, &n);
    fprintf(y, "site: {title: T, base_url: 'https://news.example.org/'}\n"
               "inputs: [{path: '%s'}%s]\n"
               "output: {dir: '%s', state_dir: '%s'}\n", root, more_inputs, sc->out, sc->state);
    fclose(y);
    struct sf_errors errs = {0};
    sc->config = config_load_buffer(yaml, n, "/tmp/feeds.yaml", &errs);
    free(yaml);
    if (!sc->config)
        abort();
    errors_finish(&errs);
    struct outcome first;
    run(sc, 1, &first);
    if (first.status != SF_BUILD_PARTIAL || first.rejected != 1)
        abort();
    snapshot_take(&sc->state_snap, sc->state);
    snapshot_take(&sc->out_snap, sc->out);
    for (int i = 0; i < N_FILES; i++) {
        char p[160];
        path_of(p, sizeof p, sc->state, names[i]);
        /* no chosen with a JSON Lines input: only whole bytes go there */
        if (i != CHOSEN || access(p, F_OK) == 0)
            sc->good[i] = read_file(p, &sc->good_len[i]);
    }
    if (sc->good_len[MANIFEST] <= MANIFEST_HEADER || !sc->good_len[OUTPUTS] ||
        (sc->good[CHOSEN] && sc->good_len[CHOSEN] < 9))
        abort();
}

static void
setup(void)
{
    snprintf(top, sizeof top, "/tmp/sf-fuzz-state-XXXXXX");
    if (!mkdtemp(top))
        abort();
    atexit(cleanup);
    path_of(root, sizeof root, top, "in");
    char sub[160];
    if (mkdir(root, 0755) != 0)
        abort();
    path_of(sub, sizeof sub, root, "a");
    mkdir(sub, 0755);
    path_of(sub, sizeof sub, root, "b");
    mkdir(sub, 0755);
    /* two captures of one article (the later wins), two categories, a
     * capture with no link, and one rejected */
    put("a/1.txt", "青山区试点科学营", "教育", "2024-03-18 19:42:00", "2024-03-19 02:10:37",
        "https://news.example.org/edu/1.html");
    put("a/2.txt", "青山区试点科学营(更新)", "教育", "2024-03-18 19:42:00",
        "2024-03-20 08:00:00", "https://news.example.org/edu/1.html");
    put("a/3.txt", "东湖中学举办科技节", "教育", "2024-03-15 10:00:00", "2024-03-16 18:20:00",
        "https://news.example.org/edu/2.html");
    put("b/4.txt", "新型电池研发进展", "科技", "2024-03-10 09:00:00", "2024-03-11 01:00:00",
        "https://news.example.org/tech/1.html");
    put("b/5.txt", "无人机送货试点", "科技", "2024-03-12 09:00:00", "2024-03-13 01:00:00", "");
    path_of(sub, sizeof sub, root, "b/bad.txt");
    write_file(sub, "只有标题\n", strlen("只有标题\n"));

    scene_build(&scenes[0], "a", "");
    put("a/6.txt", "区图书馆开设编程课", "教育", "2024-03-21 09:00:00", "2024-03-21 12:00:00",
        "https://news.example.org/edu/3.html");
    put("b/7.txt", "智能手表新品发布", "科技", "2024-03-22 09:00:00", "2024-03-22 12:00:00",
        "https://news.example.org/tech/2.html");
    char jl[64], jl_input[128];
    path_of(jl, sizeof jl, top, "jl");
    if (mkdir(jl, 0755) != 0)
        abort();
    path_of(sub, sizeof sub, jl, "records.jsonl");
    const char *lines =
        "{\"title\":\"湿地公园候鸟数量创新高\",\"category\":\"本地\","
        "\"published\":\"2024-01-15T09:30:00+08:00\",\"body\":[\"第一段。\"]}\n"
        "{\"title\":\"老街改造完工\",\"category\":\"本地\",\"published\":\"2024-01-16 10:00\","
        "\"url\":\"https://news.example.org/local/2.html\"}\n";
    write_file(sub, lines, strlen(lines));
    struct timeval old[2] = {{1704067200, 0}, {1704067200, 0}};
    if (utimes(sub, old) != 0)
        abort();
    snprintf(jl_input, sizeof jl_input, ", {path: '%s', format: jsonl}", jl);
    scene_build(&scenes[1], "b", jl_input);
    path_of(sub, sizeof sub, root, "b/7.txt");
    if (unlink(sub) != 0)
        abort();
    if (!scenes[0].good[CHOSEN] || scenes[1].good[CHOSEN])
        abort();    /* A merges into chosen; B, with JSON Lines, has none */
    for (int i = 0; i < 2; i++) {
        run(&scenes[i], 1, &scenes[i].truth);
        if (scenes[i].truth.status != SF_BUILD_PARTIAL || !scenes[i].truth.changed[0])
            abort();
    }
}

/* ---- damage ---------------------------------------------------------------- */

/* Makes the checksums of file `which` (f, laid out as the good file is)
 * right again, by the formats of src/manifest.c, chosen.c and state.c. */
static void
fix_sums(const struct scene *sc, int which, unsigned char *f, size_t n)
{
    const unsigned char *g = sc->good[which];
    if (which == MANIFEST) {
        fuzz_put_le64(f + MANIFEST_HEADER - 8, hash_words(0, f, MANIFEST_HEADER - 8));
        for (size_t at = MANIFEST_HEADER; at + 4 <= n;) {
            size_t len = (size_t)fuzz_get_le(g + at, 4);
            if (len < 12 || at + len > n)
                break;
            fuzz_put_le64(f + at + len - 8, sum64(0, f + at, len - 8));
            at += len;
        }
    } else if (which == CHOSEN) {
        struct sf_sum *s = calloc(1, sizeof *s);
        sum_add(s, f, n - 9);
        fuzz_put_le64(f + n - 8, sum_end(s));
        free(s);
    } else {
        /* the last line: "sum " and 16 hex digits, of every byte before it */
        size_t at = n - 1;
        while (at && g[at - 1] != '\n')
            at--;
        if (n - at == 21 && memcmp(g + at, "sum ", 4) == 0) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016" PRIx64, hash_words(0, f, at));
            memcpy(f + at + 4, hex, 16);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!scenes[0].config)
        setup();
    if (size < 1)
        return 0;
    struct scene *sc = &scenes[data[0] / 9 % 2];
    int which = data[0] % N_FILES, mode = data[0] / N_FILES % 3;
    restore(sc);
    char path[160];
    path_of(path, sizeof path, sc->state, names[which]);
    if (mode == 0) {
        write_file(path, data + 1, size - 1);
    } else {
        if (size < 3 || !sc->good[which])
            return 0;
        size_t len = sc->good_len[which], at = (size_t)(data[1] | data[2] << 8) % len,
               n = size - 3;
        unsigned char *f = malloc(len);
        memcpy(f, sc->good[which], len);
        memcpy(f + at, data + 3, n < len - at ? n : len - at);
        if (mode == 2)
            fix_sums(sc, which, f, len);
        write_file(path, f, len);
        free(f);
    }
    struct outcome o;
    run(sc, 1 + size % 2, &o);
    const struct outcome *t = &sc->truth;
    if (mode != 2 && (o.status != t->status || o.captures != t->captures ||
                      o.rejected != t->rejected || strcmp(o.changed, t->changed) != 0 ||
                      o.digest != t->digest))
        abort();
    return 0;
}
