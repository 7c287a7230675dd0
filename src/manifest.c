/* SPDX-License-Identifier: MIT */
/* manifest.c - what the last run learned of each capture, so a rerun parses only what changed */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "sf_version.h"

/*
 * The file: a header, then one record per file in walk order:
 *
 *     u32 length (of the whole record), u32 input, u64 size, u64 mtime_ns,
 *     u64 inode, u64 device, str path, u32 n, n problems (u8 warning,
 *     u32 line, u32 col, str message), u32 n, n entries
 *     (catalog_entry_encode), u64 checksum of all the bytes before it
 *
 * Numbers little-endian, strings as u32 length + bytes.  The entries come
 * last: a lookup that only needs to know the file is unchanged (while the
 * manifest holds the entries back) checks the record and stops before them.
 */
#define MAGIC "SFMANIF\n"
#define FORMAT 4u
#define HEADER_LEN (8 + 4 + 4 + 8 + 8 + 8 + 8)
#define MAX_RECORD (1u << 20)
#define NAME "manifest"
#define TMP_NAME ".manifest.spare"   /* struct sf_writer */
#define RACY_SECONDS 1

/* One decoded record. */
struct record {
    uint32_t input;
    struct stat st;
    size_t path;                /* offset in strings */
    struct sf_buf strings;
    struct sf_entry *entries;
    size_t n_entries, cap_entries;
    struct sf_error *problems;
    bool *warning;
    size_t n_problems, cap_problems;
    uint64_t sum;
    struct sf_cursor rest;      /* the entries, when decoded without them */
    uint32_t n_held;            /* how many */
};

/* A hit handed out by manifest_find(), not yet added; or a record of a
 * file whose stat could not be trusted (racy), to compare with what
 * parsing it again gives. */
struct hit {
    uint64_t start, end;        /* its bytes in the old file */
    uint64_t sum;
    uint64_t racy_path;         /* racy: a hash of the input and path; 0: a hit */
};

struct sf_manifest {
    char *dir;
    int dirfd;
    uint64_t settings;
    int64_t started;

    /* the old manifest, read as a stream */
    int in_fd;
    struct sf_buf in;           /* bytes read ahead */
    size_t in_pos;
    uint64_t in_base;           /* file offset of in.data[0] */
    bool in_done;               /* exhausted, or unusable from here on */
    int64_t old_started;
    bool have;                  /* cur holds a record */
    bool consumed;              /* cur was handed out by the last lookup: advance first */
    struct record cur;
    uint64_t cur_start, cur_end;

    /* hits in the order they will be added */
    struct hit *hits;
    size_t hit_head, n_hits, cap_hits;

    /* while lazy, the new manifest is the old one's first prefix_end bytes */
    bool lazy;
    uint64_t prefix_end;
    bool changed;

    /* for an incremental run (manifest_set_defer()) */
    bool defer;                 /* the prefix is copied as bytes, replayed to no one */
    bool not_additive;          /* a file changed or went, or the old file was damaged */
    bool old_whole;             /* the old file was read to its very end */
    uint64_t old_digest;        /* of the old file's records read so far */
    uint32_t n_records;         /* records in the new manifest so far */

    /* the new manifest, once it differs (zeroed before) */
    struct sf_writer out;
    uint64_t digest;
};

/* ---- records ---------------------------------------------------------- */

static void
record_finish(struct record *r)
{
    for (size_t i = 0; i < r->n_problems; i++)
        error_finish(&r->problems[i]);
    free(r->problems);
    free(r->warning);
    free(r->entries);
    buf_finish(&r->strings);
}

/* Decodes the n entries at c into r (its strings in place); false when
 * damaged.  n is decode_record()'s count, which fits the bytes at c. */
static bool
decode_entries(struct sf_cursor *c, uint32_t n, struct record *r)
{
    if (n > r->cap_entries) {
        r->cap_entries = n;
        r->entries = xreallocarray(r->entries, n, sizeof *r->entries);
    }
    r->n_entries = n;
    for (uint32_t i = 0; i < n; i++)
        catalog_entry_decode(c, &r->strings, &r->entries[i]);
    if (c->bad || c->p != c->end)
        return false;
    /* the strings are in place: offsets become pointers */
    for (uint32_t i = 0; i < n; i++) {
        struct sf_entry *e = &r->entries[i];
        e->id = r->strings.data + (uintptr_t)e->id;
        e->category = r->strings.data + (uintptr_t)e->category;
        e->path = r->strings.data + r->path;
        e->input = r->input;
    }
    return true;
}

/* Decodes (and checks) the record in rec[0..len); false when damaged.
 * Without entries, r->rest and r->n_held say where they are, for
 * decode_entries() while rec stays where it is. */
static bool
decode_record(const unsigned char *rec, size_t len, struct record *r, bool entries)
{
    if (len < 4 + 8)
        return false;
    struct sf_cursor sc = {rec + len - 8, rec + len, false};
    r->sum = cursor_u64(&sc);
    if (sum64(0, rec, len - 8) != r->sum)
        return false;
    struct sf_cursor c = {rec + 4, rec + len - 8, false};
    r->input = cursor_u32(&c);
    memset(&r->st, 0, sizeof r->st);
    r->st.st_size = (off_t)cursor_u64(&c);
    uint64_t mtime = cursor_u64(&c);
    r->st.st_mtim.tv_sec = (time_t)(mtime / 1000000000u);
    r->st.st_mtim.tv_nsec = (long)(mtime % 1000000000u);
    r->st.st_ino = (ino_t)cursor_u64(&c);
    r->st.st_dev = (dev_t)cursor_u64(&c);
    buf_clear(&r->strings);
    r->path = cursor_str(&c, &r->strings);
    for (size_t i = 0; i < r->n_problems; i++)
        error_finish(&r->problems[i]);
    r->n_problems = 0;
    uint32_t np = cursor_u32(&c);
    if (np > MAX_RECORD / 16)
        return false;
    if (np > r->cap_problems) {
        r->cap_problems = np;
        r->problems = xreallocarray(r->problems, np, sizeof *r->problems);
        r->warning = xreallocarray(r->warning, np, sizeof *r->warning);
    }
    for (uint32_t i = 0; i < np && !c.bad; i++) {
        r->warning[i] = cursor_u8(&c);
        unsigned line = cursor_u32(&c), col = cursor_u32(&c);
        size_t off = cursor_str(&c, &r->strings);
        r->problems[i] = (struct sf_error){0};
        error_set(&r->problems[i], r->strings.data + r->path, line, col, "%s",
                  r->strings.data + off);
        r->n_problems++;
    }
    uint32_t n = cursor_u32(&c);
    /* a lookup trusts the count without decoding the entries (it counts
     * captures): it must at least fit the bytes there are */
    if (c.bad || n > (size_t)(c.end - c.p) / SF_ENTRY_MIN_LEN)
        return false;
    r->n_entries = 0;
    r->n_held = n;
    r->rest = c;
    return !entries || decode_entries(&c, n, r);
}

static uint32_t
record_len(const unsigned char *p)
{
    struct sf_cursor c = {p, p + 4, false};
    return cursor_u32(&c);
}

/* ---- the old manifest ------------------------------------------------- */

/* Reads until in holds at least n bytes from in_pos; false at the end. */
static bool
fill(struct sf_manifest *m, size_t n)
{
    return buf_window_need(&m->in, &m->in_pos, &m->in_base, m->in_fd, n);
}

/* Decodes the next record of the old manifest into cur; false at its end
 * or at damage (then the rest is not used). */
static bool
next_record(struct sf_manifest *m)
{
    m->have = false;
    if (m->in_done)
        return false;
    if (!fill(m, 4)) {
        m->in_done = true;
        m->old_whole = m->in.len == m->in_pos;
        return false;
    }
    uint32_t len = record_len((unsigned char *)m->in.data + m->in_pos);
    if (len > MAX_RECORD || !fill(m, len) ||
        !decode_record((unsigned char *)m->in.data + m->in_pos, len, &m->cur, false)) {
        m->changed = true;   /* damaged: what follows is parsed again */
        m->not_additive = true;
        m->in_done = true;
        return false;
    }
    m->cur_start = m->in_base + m->in_pos;
    m->cur_end = m->cur_start + len;
    m->in_pos += len;
    m->have = true;
    m->old_digest = hash_words(m->old_digest, &m->cur.sum, sizeof m->cur.sum);
    return true;
}

static void
header(struct sf_buf *b, uint64_t settings, int64_t started)
{
    buf_append(b, MAGIC, 8);
    buf_put_u32(b, FORMAT);
    buf_put_u32(b, HEADER_LEN);
    buf_put_u64(b, settings);
    buf_put_u64(b, hash_fnv1a(SF_FNV_OFFSET, SF_VERSION, strlen(SF_VERSION)));
    buf_put_u64(b, (uint64_t)started);
    buf_put_u64(b, hash_words(0, b->data + b->len - (HEADER_LEN - 8), HEADER_LEN - 8));
}

/* Opens the old manifest; says in *note why it cannot be used. */
static void
open_old(struct sf_manifest *m, char **note)
{
    m->in_done = true;
    m->in_fd = openat(m->dirfd, NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (m->in_fd < 0) {
        if (errno != ENOENT && note)
            *note = xasprintf("cannot read %s/%s: %s", m->dir, NAME, strerror(errno));
        return;
    }
    struct sf_buf want;
    buf_init(&want, 0);
    header(&want, m->settings, 0);
    bool ok = fill(m, HEADER_LEN);
    /* everything but the start time and its checksum must match */
    if (ok && memcmp(m->in.data, want.data, HEADER_LEN - 16) != 0)
        ok = false;
    if (ok) {
        struct sf_cursor c = {(unsigned char *)m->in.data + HEADER_LEN - 16,
                              (unsigned char *)m->in.data + HEADER_LEN, false};
        m->old_started = (int64_t)cursor_u64(&c);
        ok = cursor_u64(&c) == hash_words(0, m->in.data, HEADER_LEN - 8);
    }
    buf_finish(&want);
    if (!ok) {
        if (note)
            *note = xasprintf("%s/%s is from another version or other settings, or damaged; "
                              "reading every capture again", m->dir, NAME);
        return;
    }
    m->in_pos = HEADER_LEN;
    m->in_done = false;
    m->lazy = true;
    m->prefix_end = HEADER_LEN;
    next_record(m);
}

/* ---- the new manifest ------------------------------------------------- */

static bool
open_out(struct sf_manifest *m)
{
    if (!writer_open(&m->out, m->dirfd, TMP_NAME, m->in_fd))
        return false;
    header(writer_buf(&m->out), m->settings, m->started);
    return true;
}

/*
 * Reads the old file's records in [from, to) again, in order: appends
 * their bytes to the new manifest when copy is set, and hands their
 * entries to fn (seq counting the records from 0, which is their place in
 * the walk: the prefix is every file walked so far).
 */
static bool
replay_fd(struct sf_manifest *m, int fd, uint64_t from, uint64_t to, bool copy, bool odd,
          sf_manifest_replay_fn fn, void *ctx)
{
    struct sf_buf raw;
    buf_init(&raw, 0);
    struct record r = {0};
    buf_init(&r.strings, 0);
    uint32_t seq = 0;
    bool ok = true;
    uint64_t pos = from;
    while (pos < to && ok) {
        /* a chunk of whole records */
        size_t want = to - pos > (4u << 20) ? (4u << 20) : (size_t)(to - pos);
        if (want < MAX_RECORD && to - pos > want)
            want = MAX_RECORD;
        buf_clear(&raw);
        char *dst = buf_reserve(&raw, want);
        ssize_t got = dst ? pread(fd, dst, want, (off_t)pos) : -1;
        if (got <= 0) {
            ok = false;
            break;
        }
        buf_commit(&raw, (size_t)got);
        size_t k = 0;
        while (k + 4 <= raw.len && pos + k < to) {
            uint32_t len = record_len((unsigned char *)raw.data + k);
            if (len < 12 || len > MAX_RECORD) {
                ok = false;
                break;
            }
            if (k + len > raw.len)
                break;   /* the rest of it comes with the next chunk */
            const unsigned char *rec = (unsigned char *)raw.data + k;
            if (!decode_record(rec, len, &r, true)) {
                ok = false;
                break;
            }
            if (copy) {
                buf_append(writer_buf(&m->out), rec, len);
                writer_flush(&m->out, false);
            }
            for (size_t i = 0; fn && i < r.n_entries; i++) {
                r.entries[i].seq = odd ? 2 * seq + 1 : seq;
                fn(ctx, &r.entries[i]);
            }
            seq++;
            k += len;
        }
        if (!k)
            ok = false;   /* not even one record fits: damaged */
        pos += k;
    }
    record_finish(&r);
    buf_finish(&raw);
    return ok;
}

static bool
replay(struct sf_manifest *m, uint64_t from, uint64_t to, bool copy, sf_manifest_replay_fn fn,
       void *ctx)
{
    return replay_fd(m, m->in_fd, from, to, copy, false, fn, ctx);
}

/* The first change: the new manifest becomes the old prefix plus what
 * follows, and the caller gets the prefix's entries. */
static void
materialize(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx)
{
    if (!m->lazy)
        return;
    m->lazy = false;
    m->changed = true;
    if (!open_out(m))
        return;
    if (m->defer) {
        /* copied as bytes with what follows it unchanged */
        writer_keep(&m->out, HEADER_LEN, m->prefix_end);
    } else if (!replay(m, HEADER_LEN, m->prefix_end, true, fn, ctx) && !m->out.error) {
        /* it read well a moment ago: the machine is failing */
        m->out.error = EIO;
    }
}

struct sf_manifest *
manifest_open(const char *state_dir, uint64_t settings, int64_t started, char **note,
              struct sf_error *err)
{
    if (note)
        *note = NULL;
    if (!file_mkdirs(state_dir, err))
        return NULL;
    int dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        error_set(err, state_dir, 0, 0, "cannot open the state directory: %s", strerror(errno));
        return NULL;
    }
    struct sf_manifest *m = xcalloc(1, sizeof *m);
    m->dir = xstrdup(state_dir);
    m->dirfd = dirfd;
    m->settings = settings;
    m->started = started;
    m->in_fd = -1;
    buf_init(&m->in, MAX_RECORD + 131072);
    buf_init(&m->cur.strings, MAX_RECORD);
    m->digest = m->old_digest = SF_FNV_OFFSET;
    open_old(m, note);
    if (!m->lazy) {
        /* nothing usable to compare with: the manifest is new */
        m->changed = true;
        if (!open_out(m)) {
            error_set(err, state_dir, 0, 0, "cannot write %s: %s", TMP_NAME,
                      strerror(m->out.error));
            manifest_free(m);
            return NULL;
        }
    }
    return m;
}

int
manifest_walk_cmp(uint32_t ia, const char *a, uint32_t ib, const char *b)
{
    if (ia != ib)
        return ia < ib ? -1 : 1;
    /* Most lookups are of the same path: strcmp() says so at word speed
     * (the loop below was a sixth of a settled rerun's instructions). */
    if (strcmp(a, b) == 0)
        return 0;
    /* '/' sorts before every other byte: a directory's files come before
     * a sibling whose name extends the directory's ("a/x" < "a-b"). */
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (;; p++, q++) {
        unsigned x = *p == '/' ? 1 : *p, y = *q == '/' ? 1 : *q;
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            return 0;
    }
}

/* Never 0, which marks a hit. */
static uint64_t
path_key(uint32_t input, const char *path)
{
    return hash_words(input, path, strlen(path)) | 1;
}

static void
push_hit(struct sf_manifest *m, struct hit h)
{
    if (m->n_hits == m->cap_hits) {
        /* grow the ring, unrolling it */
        size_t cap = m->cap_hits ? m->cap_hits * 2 : 256;
        struct hit *v = xcalloc(cap, sizeof *v);
        for (size_t i = 0; i < m->n_hits; i++)
            v[i] = m->hits[(m->hit_head + i) % m->cap_hits];
        free(m->hits);
        m->hits = v;
        m->cap_hits = cap;
        m->hit_head = 0;
    }
    m->hits[(m->hit_head + m->n_hits++) % m->cap_hits] = h;
}

static struct hit
pop_hit(struct sf_manifest *m)
{
    struct hit h = m->hits[m->hit_head];
    m->hit_head = (m->hit_head + 1) % m->cap_hits;
    m->n_hits--;
    return h;
}

/* Drops racy records at the head whose files were not added as parsed
 * (a JSON Lines file handed on in parts): they changed, as far as the
 * manifest can tell. */
static void
drop_racy(struct sf_manifest *m)
{
    while (m->n_hits && m->hits[m->hit_head].racy_path) {
        pop_hit(m);
        m->not_additive = true;
    }
}

static bool
same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ino == b->st_ino &&
           a->st_dev == b->st_dev;
}

static void
advance(struct sf_manifest *m)
{
    if (m->consumed) {
        m->consumed = false;
        next_record(m);
    }
}

bool
manifest_find(struct sf_manifest *m, uint32_t input, const char *path, const struct stat *st,
              struct sf_manifest_file *out)
{
    advance(m);
    while (m->have) {
        int c = manifest_walk_cmp(m->cur.input, m->cur.strings.data + m->cur.path, input, path);
        if (c > 0)
            return false;   /* a new file */
        if (c < 0) {
            m->changed = true;   /* a file that is gone */
            m->not_additive = true;
            next_record(m);
            continue;
        }
        /* A file changed in the same second as the last run started might
         * have changed again without its mtime showing it: parse it.  If
         * its record comes out the same, it is as good as unchanged
         * (manifest_add()). */
        if (!same_stat(&m->cur.st, st)) {
            m->not_additive = true;
            next_record(m);
            return false;
        }
        if (st->st_mtim.tv_sec >= m->old_started - RACY_SECONDS) {
            push_hit(m, (struct hit){m->cur_start, m->cur_end, m->cur.sum,
                                     path_key(input, path)});
            next_record(m);
            return false;
        }
        /* Deferred, the manifest keeps the entries of an unchanged file
         * (manifest_add() takes its bytes as they are): only their count
         * is needed now. */
        out->held = m->defer;
        if (!out->held && !decode_entries(&m->cur.rest, m->cur.n_held, &m->cur)) {
            m->changed = true;   /* damaged after all: parsed again, like what follows */
            m->not_additive = true;
            m->in_done = true;
            m->have = false;
            return false;
        }
        out->entries = out->held ? NULL : m->cur.entries;
        out->n_entries = m->cur.n_held;
        out->problems = m->cur.problems;
        out->warning = m->cur.warning;
        out->n_problems = m->cur.n_problems;
        push_hit(m, (struct hit){m->cur_start, m->cur_end, m->cur.sum, 0});
        m->consumed = true;   /* borrowed until the next lookup, which advances */
        return true;
    }
    return false;
}

/* The encoded record of a file parsed again for being racy, compared with
 * its old record: the same bytes make it a hit, the old bytes copied. */
static bool
same_as_racy(struct sf_manifest *m, const struct hit *racy, size_t start)
{
    const struct sf_buf *b = &m->out.buf;
    size_t len = b->len - start;
    return len == racy->end - racy->start && sum64(0, b->data + start, len - 8) == racy->sum;
}

bool
manifest_add(struct sf_manifest *m, uint32_t input, const char *path, const struct stat *st,
             const struct sf_entry *entries, size_t n_entries, const struct sf_error *problems,
             const bool *warning, size_t n_problems, bool *reused_io, sf_manifest_replay_fn fn,
             void *ctx)
{
    bool reused = *reused_io;
    struct hit hit = {0}, racy = {0};
    bool have_hit = false;
    if (reused)
        drop_racy(m);
    else if (m->n_hits && m->hits[m->hit_head].racy_path == path_key(input, path))
        racy = pop_hit(m);
    if (reused && m->n_hits) {
        have_hit = true;
        hit = pop_hit(m);
    }
    if (m->lazy && reused && hit.start == m->prefix_end) {
        /* the old file still holds it, right where it goes */
        m->prefix_end = hit.end;
        m->digest = hash_words(m->digest, &hit.sum, sizeof hit.sum);
        m->n_records++;
        return true;
    }
    materialize(m, fn, ctx);
    if (have_hit && m->out.fd >= 0) {
        /* an unchanged record: its bytes, copied with its neighbours */
        writer_keep(&m->out, hit.start, hit.end);
        m->digest = hash_words(m->digest, &hit.sum, sizeof hit.sum);
        m->n_records++;
        return false;
    }
    struct sf_buf *b = writer_buf(&m->out);
    if (!reused)
        m->changed = true;
    size_t start = b->len;
    buf_put_u32(b, 0);   /* the length, patched below */
    buf_put_u32(b, input);
    buf_put_u64(b, (uint64_t)st->st_size);
    buf_put_u64(b, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    buf_put_u64(b, (uint64_t)st->st_ino);
    buf_put_u64(b, (uint64_t)st->st_dev);
    buf_put_str(b, path);
    buf_put_u32(b, (uint32_t)n_problems);
    for (size_t i = 0; i < n_problems; i++) {
        buf_put_u8(b, warning[i]);
        buf_put_u32(b, problems[i].line);
        buf_put_u32(b, problems[i].col);
        buf_put_str(b, problems[i].msg ? problems[i].msg : "");
    }
    buf_put_u32(b, (uint32_t)n_entries);
    for (size_t i = 0; i < n_entries; i++)
        catalog_entry_encode(b, &entries[i]);
    size_t len = b->len - start + 8;
    if (len > MAX_RECORD) {
        /* too big to keep (a huge JSON Lines file): parsed on every run */
        b->len = start;
        if (racy.racy_path)
            m->not_additive = true;
        return false;
    }
    unsigned char l[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                          (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    memcpy(b->data + start, l, 4);
    uint64_t sum = sum64(0, b->data + start, len - 8);
    buf_put_u64(b, sum);
    if (racy.racy_path) {
        if (same_as_racy(m, &racy, start))
            *reused_io = true;   /* what the last run read: for the caller, unchanged */
        else
            m->not_additive = true;
    }
    m->digest = hash_words(m->digest, &sum, sizeof sum);
    m->n_records++;
    writer_flush(&m->out, false);
    return false;
}

void
manifest_skip(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx)
{
    /* what manifest_add() does with a record too big to keep */
    drop_racy(m);
    materialize(m, fn, ctx);
    m->changed = true;
    m->not_additive = true;
}

bool
manifest_end_walk(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx)
{
    advance(m);
    drop_racy(m);
    /* records left in the old file, or skipped ones: files now gone */
    if (m->have)
        m->not_additive = true;
    if (m->have || m->changed)
        materialize(m, fn, ctx);
    return !m->lazy;
}

bool
manifest_changed(const struct sf_manifest *m)
{
    return !m->lazy;
}

bool
manifest_replay(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx)
{
    return !m->lazy || replay(m, HEADER_LEN, m->prefix_end, false, fn, ctx);
}

void
manifest_set_defer(struct sf_manifest *m)
{
    m->defer = true;
}

uint32_t
manifest_records(const struct sf_manifest *m)
{
    return m->n_records;
}

bool
manifest_additions_only(const struct sf_manifest *m, uint64_t *old_digest)
{
    *old_digest = m->old_digest;
    return m->old_whole && !m->not_additive && !m->out.error;
}

bool
manifest_replay_all(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx)
{
    if (m->lazy)
        return replay_fd(m, m->in_fd, HEADER_LEN, m->prefix_end, false, true, fn, ctx);
    int fd = openat(m->dirfd, NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 &&
              replay_fd(m, fd, HEADER_LEN, (uint64_t)st.st_size, false, true, fn, ctx);
    close(fd);
    return ok;
}

uint64_t
manifest_digest(const struct sf_manifest *m)
{
    return m->digest;
}

void
manifest_discard(struct sf_manifest *m)
{
    if (unlinkat(m->dirfd, NAME, 0) == 0)
        fsync(m->dirfd);
}

bool
manifest_commit(struct sf_manifest *m, struct sf_error *err)
{
    if (m->lazy)
        return true;   /* the old manifest is the new one */
    /*
     * Not synced: the manifest is a cache.  A crash that loses or tears it
     * costs the next run a full parse, never a wrong feed: every record is
     * checksummed, and the output state and `chosen` are keyed to the
     * digest of the manifest they were written with.  The fsync was 26 ms
     * of a 100k run that adds one capture (the whole file is rewritten).
     */
    bool ok = writer_commit(&m->out, NAME);
    if (!ok)
        error_set(err, m->dir, 0, 0, "cannot write the manifest: %s", strerror(m->out.error));
    return ok;
}

void
manifest_free(struct sf_manifest *m)
{
    if (!m)
        return;
    writer_discard(&m->out);
    if (m->in_fd >= 0)
        close(m->in_fd);
    close(m->dirfd);
    record_finish(&m->cur);
    free(m->hits);
    buf_finish(&m->in);
    free(m->dir);
    free(m);
}
