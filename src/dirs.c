/* SPDX-License-Identifier: MIT */
/* dirs.c - the listings of settled directories, so a rerun need not stat their files */
#include "dirs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "sf_version.h"

/*
 * The file: a header, the records in the order the walk finished their
 * directories, an index, and a trailer.
 *
 *     header:  "SFDIRS\n\0", u32 format, u32 header length, u64 settings,
 *              u64 program version hash, u64 checksum
 *     record:  u32 length (of the whole record), u32 input, u32 n, u32 0,
 *              u64 dev, u64 inode, u64 mtime_ns, u64 ctime_ns (the
 *              directory's), u64 trusted until (seconds; 0: never),
 *              str path, n entries (u32 mode, u64 dev, u64 inode, u64 size,
 *              u64 mtime_ns, str name), u64 checksum of the bytes before it
 *     index:   per record, sorted by key: u64 key (a hash of input and
 *              path), u64 offset, u64 length
 *     trailer: u64 records, u64 index offset, u64 checksum of the index
 *              and the two numbers before it
 *
 * Only the index is read whole (24 bytes a directory); a record is read
 * with one pread when the walk gets to its directory.
 */
#define MAGIC "SFDIRS\n"    /* and its NUL: 8 bytes */
#define FORMAT 2u
#define HEADER_LEN (8 + 4 + 4 + 8 + 8 + 8)
#define FIXED_LEN (4 * 4 + 5 * 8)
#define TRAILER_LEN 24
#define INDEX_ENTRY 24
#define MAX_RECORD (16u << 20)
#define MAX_DIRS (1u << 22)     /* 96 MiB of index: past that, a walk lists everything */
#define NAME "dirs"
#define TMP_NAME ".dirs.spare"   /* struct sf_writer */

struct index_entry {
    uint64_t key, offset, len;
};

struct sf_dirs {
    const struct sf_config *config;
    int64_t now;
    uint64_t settings;
    int dirfd;
    char *dir;

    int in_fd;                  /* -1: no old file to use */
    struct index_entry *old;
    size_t n_old;

    /* the new file: while `lazy`, its records are the old file's first
     * ones, as they are there, and nothing has been written */
    bool lazy;
    struct sf_writer out;       /* not open (zeroed) while lazy */
    uint64_t out_len;           /* bytes of records in the new file so far */
    struct index_entry *index;
    size_t n_index, cap_index;
    size_t trusted, listed;
};

static uint64_t
dir_key(uint32_t input, const char *path)
{
    return hash_words(hash_words(SF_FNV_OFFSET, &input, sizeof input), path, strlen(path));
}

static uint64_t
ns_of(struct timespec t)
{
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void
header(struct sf_buf *b, uint64_t settings)
{
    buf_append(b, MAGIC, 8);
    buf_put_u32(b, FORMAT);
    buf_put_u32(b, HEADER_LEN);
    buf_put_u64(b, settings);
    buf_put_u64(b, hash_fnv1a(SF_FNV_OFFSET, SF_VERSION, strlen(SF_VERSION)));
    buf_put_u64(b, hash_words(0, b->data + b->len - (HEADER_LEN - 8), HEADER_LEN - 8));
}

/* What the records depend on: the inputs, where they are, and how long
 * each trusts a directory. */
static uint64_t
dirs_settings(const struct sf_config *c)
{
    uint64_t h = hash_words(SF_FNV_OFFSET, "dirs", 4);
    for (size_t i = 0; i < c->n_inputs; i++) {
        const struct sf_input *in = &c->inputs[i];
        uint32_t nums[3] = {(uint32_t)i, in->settled_after, in->follow_symlinks};
        h = hash_words(h, nums, sizeof nums);
        h = hash_words(h, in->path, strlen(in->path) + 1);
    }
    return h;
}

static bool
pread_all(int fd, void *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t got = pread(fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        p = (char *)p + got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return true;
}

static int
cmp_index(const void *a, const void *b)
{
    const struct index_entry *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Reads the old file's index; false when the file cannot be used. */
static bool
open_old(struct sf_dirs *d)
{
    struct stat st;
    unsigned char head[HEADER_LEN], tail[TRAILER_LEN];
    if (fstat(d->in_fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < HEADER_LEN + TRAILER_LEN ||
        !pread_all(d->in_fd, head, HEADER_LEN, 0) ||
        !pread_all(d->in_fd, tail, TRAILER_LEN, (uint64_t)st.st_size - TRAILER_LEN))
        return false;
    struct sf_buf want;
    buf_init(&want, 0);
    header(&want, d->settings);
    bool ok = memcmp(head, want.data, HEADER_LEN) == 0;
    buf_finish(&want);
    struct sf_cursor c = {tail, tail + TRAILER_LEN, false};
    uint64_t n = cursor_u64(&c), at = cursor_u64(&c), sum = cursor_u64(&c);
    uint64_t end = (uint64_t)st.st_size - TRAILER_LEN;
    if (!ok || n > MAX_DIRS || at < HEADER_LEN || at > end || end - at != n * INDEX_ENTRY)
        return false;
    unsigned char *raw = xmalloc(n * INDEX_ENTRY + 16);
    ok = pread_all(d->in_fd, raw, n * INDEX_ENTRY + 16, at);
    if (ok)
        ok = sum64(0, raw, n * INDEX_ENTRY + 16) == sum;
    d->old = xcalloc(n ? n : 1, sizeof *d->old);
    c = (struct sf_cursor){raw, raw + n * INDEX_ENTRY, false};
    for (size_t i = 0; ok && i < n; i++) {
        struct index_entry *e = &d->old[i];
        e->key = cursor_u64(&c);
        e->offset = cursor_u64(&c);
        e->len = cursor_u64(&c);
        ok = e->offset >= HEADER_LEN && e->len >= FIXED_LEN + 4 + 8 && e->len <= MAX_RECORD &&
             e->offset <= at && at - e->offset >= e->len && (i == 0 || e[-1].key <= e->key);
    }
    free(raw);
    d->n_old = ok ? n : 0;
    return ok;
}

struct sf_dirs *
dirs_open(const char *state_dir, const struct sf_config *c, int64_t now, bool rescan, char **note)
{
    bool any = false;
    for (size_t i = 0; i < c->n_inputs; i++)
        any = any || c->inputs[i].settled_after;
    if (!any || !state_dir)
        return NULL;
    struct sf_error err = {0};
    if (!file_mkdirs(state_dir, &err)) {
        if (note)
            *note = error_format(&err);
        error_finish(&err);
        return NULL;
    }
    int dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        if (note)
            *note = xasprintf("cannot open %s: %s", state_dir, strerror(errno));
        return NULL;
    }
    struct sf_dirs *d = xcalloc(1, sizeof *d);
    d->config = c;
    d->now = now;
    d->settings = dirs_settings(c);
    d->dirfd = dirfd;
    d->dir = xstrdup(state_dir);
    d->in_fd = rescan ? -1 : openat(dirfd, NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (d->in_fd >= 0 && !open_old(d)) {
        if (note)
            *note = xasprintf("%s/%s is from another version or other settings, or damaged; "
                              "listing every directory again", state_dir, NAME);
        close(d->in_fd);
        d->in_fd = -1;
        free(d->old);
        d->old = NULL;
        d->n_old = 0;
    }
    d->lazy = d->in_fd >= 0;
    return d;
}

/* ---- looking up ------------------------------------------------------- */

bool
dirs_wanted(const struct sf_dirs *d, uint32_t input)
{
    return d && d->config->inputs[input].settled_after;
}

/* The names go into one block, the size of the record at most: a rerun
 * decodes every directory, and a malloc and free per name was a tenth of
 * it. */
static bool
decode_listing(struct sf_cursor *c, uint32_t n, uint64_t dir_dev, struct sf_dirs_listing *out)
{
    size_t room = (size_t)(c->end - c->p), used = 0;
    if (n > room / (4 + 4 * 8 + 4 + 1))
        return false;   /* more entries than the bytes could hold */
    out->block = xmalloc(room);
    out->names = xcalloc(n ? n : 1, sizeof *out->names);
    out->st = xcalloc(n ? n : 1, sizeof *out->st);
    for (uint32_t i = 0; i < n && !c->bad; i++) {
        struct stat *st = &out->st[i];
        st->st_mode = cursor_u32(c);
        st->st_dev = (dev_t)cursor_u64(c);
        st->st_ino = (ino_t)cursor_u64(c);
        st->st_size = (off_t)cursor_u64(c);
        uint64_t mtime = cursor_u64(c);
        st->st_mtim.tv_sec = (time_t)(mtime / 1000000000u);
        st->st_mtim.tv_nsec = (long)(mtime % 1000000000u);
        st->st_nlink = 1;
        if (S_ISDIR(st->st_mode))
            st->st_dev = (dev_t)dir_dev;
        uint32_t len = cursor_u32(c);
        const unsigned char *p = cursor_bytes(c, len);
        /* as frame_read() would have listed them, or it is no listing */
        if (!p || !len || *p == '.' || memchr(p, '/', len) || memchr(p, 0, len) ||
            room - used < len + 1) {
            c->bad = true;
            break;
        }
        char *name = out->block + used;
        memcpy(name, p, len);
        name[len] = 0;
        used += len + 1;
        if (i && strcmp(out->names[i - 1], name) >= 0) {
            c->bad = true;
            break;
        }
        out->names[i] = name;
        out->n = i + 1;
    }
    return !c->bad && out->n == n;
}

void
dirs_listing_finish(struct sf_dirs_listing *l)
{
    free(l->block);
    free(l->names);
    free(l->st);
    buf_finish(&l->raw);
    *l = (struct sf_dirs_listing){0};
}

/* Reads and checks one record against the directory; true when it may
 * be trusted. */
static bool
try_record(const struct sf_dirs *d, const struct index_entry *e, uint32_t input, const char *path,
           const struct stat *st, struct sf_dirs_listing *out)
{
    struct sf_buf raw;
    buf_init(&raw, 0);
    unsigned char *p = (unsigned char *)buf_reserve(&raw, e->len);
    bool ok = pread_all(d->in_fd, p, e->len, e->offset);
    struct sf_cursor c = {p, p + e->len - 8, false};
    if (ok) {
        struct sf_cursor sum = {p + e->len - 8, p + e->len, false};
        ok = cursor_u64(&sum) == sum64(0, p, e->len - 8);
    }
    uint32_t n = 0;
    uint64_t dev = 0;
    if (ok) {
        uint32_t len = cursor_u32(&c), in = cursor_u32(&c);
        n = cursor_u32(&c);
        cursor_u32(&c);
        dev = cursor_u64(&c);
        uint64_t ino = cursor_u64(&c), mtime = cursor_u64(&c), ctime = cursor_u64(&c);
        uint64_t until = cursor_u64(&c);
        ok = len == e->len && in == input && dev == (uint64_t)st->st_dev &&
             ino == (uint64_t)st->st_ino && mtime == ns_of(st->st_mtim) &&
             ctime == ns_of(st->st_ctim) && until && (int64_t)until > d->now;
    }
    if (ok) {
        size_t len = strlen(path);
        const unsigned char *name = cursor_u32(&c) == len ? cursor_bytes(&c, len) : NULL;
        ok = name && memcmp(name, path, len) == 0;
    }
    if (ok && out) {
        *out = (struct sf_dirs_listing){0};
        ok = decode_listing(&c, n, dev, out) && c.p == c.end;
        if (ok) {
            buf_commit(&raw, e->len);
            out->raw = raw;
            out->offset = e->offset;
            return true;
        }
        dirs_listing_finish(out);
    }
    buf_finish(&raw);
    return ok;
}

bool
dirs_lookup(const struct sf_dirs *d, uint32_t input, const char *path, const struct stat *st,
            struct sf_dirs_listing *out)
{
    if (!dirs_wanted(d, input) || d->in_fd < 0)
        return false;
    uint64_t key = dir_key(input, path);
    size_t lo = 0, hi = d->n_old;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->old[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < d->n_old && d->old[lo].key == key; lo++)
        if (try_record(d, &d->old[lo], input, path, st, out))
            return true;
    return false;
}

/* ---- recording -------------------------------------------------------- */

void
dirs_rec_begin(struct sf_dirs_rec *r, uint32_t input, const char *path, const struct stat *st)
{
    buf_init(&r->b, MAX_RECORD);
    r->input = input;
    r->key = dir_key(input, path);
    r->n = 0;
    r->bad = r->kept = false;
    r->newest = st->st_mtim.tv_sec;
    buf_put_u32(&r->b, 0);      /* length, then n and until: set by dirs_add() */
    buf_put_u32(&r->b, input);
    buf_put_u32(&r->b, 0);
    buf_put_u32(&r->b, 0);
    buf_put_u64(&r->b, (uint64_t)st->st_dev);
    buf_put_u64(&r->b, (uint64_t)st->st_ino);
    buf_put_u64(&r->b, ns_of(st->st_mtim));
    buf_put_u64(&r->b, ns_of(st->st_ctim));
    buf_put_u64(&r->b, 0);
    buf_put_str(&r->b, path);
}

void
dirs_rec_entry(struct sf_dirs_rec *r, const char *name, const struct stat *st, int err)
{
    if (r->bad || r->kept)
        return;
    size_t before = r->b.len;
    bool dir = !err && S_ISDIR(st->st_mode);
    buf_put_u32(&r->b, err ? 0 : (uint32_t)st->st_mode);
    buf_put_u64(&r->b, dir || err ? 0 : (uint64_t)st->st_dev);
    buf_put_u64(&r->b, dir || err ? 0 : (uint64_t)st->st_ino);
    buf_put_u64(&r->b, dir || err ? 0 : (uint64_t)st->st_size);
    buf_put_u64(&r->b, dir || err ? 0 : ns_of(st->st_mtim));
    buf_put_str(&r->b, name);
    /* A name that vanished (or will not stat) makes the listing unknown;
     * one past the limit, the record too big to keep. */
    if (err || r->b.len - before != 4 + 4 * 8 + 4 + strlen(name)) {
        r->bad = true;
        return;
    }
    if (!dir && st->st_mtim.tv_sec > r->newest)
        r->newest = st->st_mtim.tv_sec;
    r->n++;
}

void
dirs_rec_keep(struct sf_dirs_rec *r, struct sf_dirs_listing *l)
{
    buf_finish(&r->b);
    r->b = l->raw;
    l->raw = (struct sf_buf){0};
    r->old_offset = l->offset;
    r->kept = true;
    r->bad = false;
}

void
dirs_rec_finish(struct sf_dirs_rec *r)
{
    buf_finish(&r->b);
    *r = (struct sf_dirs_rec){0};
}

static void
put_at(struct sf_buf *b, size_t at, uint64_t v, size_t width)
{
    for (size_t i = 0; i < width; i++)
        b->data[at + i] = (char)(v >> (8 * i));
}

/* Appends a record: a kept one as a range of the old file (they come in
 * runs, and a run is copied at once rather than read and written). */
static void
put_record(struct sf_dirs *d, const struct sf_dirs_rec *r)
{
    if (r->kept) {
        writer_keep(&d->out, r->old_offset, r->old_offset + r->b.len);
        return;
    }
    buf_append(writer_buf(&d->out), r->b.data, r->b.len);
    writer_flush(&d->out, false);
}

/* The new file differs from the old one: writes what it has so far,
 * the old records kept up to here, as they are. */
static void
leave_lazy(struct sf_dirs *d)
{
    d->lazy = false;
    if (!writer_open(&d->out, d->dirfd, TMP_NAME, d->in_fd))
        return;
    header(writer_buf(&d->out), d->settings);
    if (d->out_len)
        writer_keep(&d->out, HEADER_LEN, HEADER_LEN + d->out_len);
}

/* Whether the old file has r's bytes at offset: a directory listed again
 * (one never settled, say) often comes out the same. */
static bool
same_as_old(const struct sf_dirs *d, const struct sf_dirs_rec *r, uint64_t offset)
{
    unsigned char *old = xmalloc(r->b.len);
    bool same = pread_all(d->in_fd, old, r->b.len, offset) &&
                memcmp(old, r->b.data, r->b.len) == 0;
    free(old);
    return same;
}

void
dirs_add(struct sf_dirs *d, struct sf_dirs_rec *r)
{
    if (!d || r->bad || !r->b.len || d->n_index >= MAX_DIRS) {
        dirs_rec_finish(r);
        return;
    }
    if (!r->kept) {
        uint64_t settled_after = d->config->inputs[r->input].settled_after;
        size_t before = r->b.len;
        buf_put_u64(&r->b, 0);      /* the checksum's place; fails at the limit */
        if (r->b.len != before + 8) {
            dirs_rec_finish(r);
            return;
        }
        put_at(&r->b, 0, r->b.len, 4);
        put_at(&r->b, 8, r->n, 4);
        /* Nothing changed for settled_after: trusted for half of that and
         * up to all of it, by path, so that re-checks come a slice at a
         * time.  Else it is listed again at every run. */
        uint64_t until = 0;
        if (r->newest + (int64_t)settled_after <= d->now) {
            uint64_t half = settled_after / 2, spread = settled_after - half;
            until = (uint64_t)d->now + half + r->key % spread;
        }
        put_at(&r->b, FIXED_LEN - 8, until, 8);
        put_at(&r->b, r->b.len - 8, sum64(0, r->b.data, r->b.len - 8), 8);
        d->listed++;
    } else {
        d->trusted++;
    }
    uint64_t offset = HEADER_LEN + d->out_len;
    bool kept = r->kept ? r->old_offset == offset : d->lazy && same_as_old(d, r, offset);
    if (d->lazy ? !kept : !d->out.spare)
        leave_lazy(d);
    if (!d->lazy)
        put_record(d, r);
    d->out_len += r->b.len;
    if (d->n_index == d->cap_index) {
        d->cap_index = d->cap_index ? d->cap_index * 2 : 256;
        d->index = xreallocarray(d->index, d->cap_index, sizeof *d->index);
    }
    d->index[d->n_index++] = (struct index_entry){r->key, offset, r->b.len};
    dirs_rec_finish(r);
}

void
dirs_counts(const struct sf_dirs *d, size_t *trusted, size_t *listed)
{
    *trusted = d ? d->trusted : 0;
    *listed = d ? d->listed : 0;
}

bool
dirs_commit(struct sf_dirs *d, struct sf_error *err)
{
    if (!d)
        return true;
    if (d->lazy && d->n_index == d->n_old)
        return true;    /* the old file, record for record */
    if (d->lazy || !d->out.spare)
        leave_lazy(d);  /* directories went (the same records, fewer), or none was added */
    sf_sort(d->index, d->n_index, sizeof *d->index, cmp_index);
    uint64_t at = HEADER_LEN + d->out_len;
    struct sf_buf *b = writer_buf(&d->out);
    size_t from = b->len;
    for (size_t i = 0; i < d->n_index; i++) {
        buf_put_u64(b, d->index[i].key);
        buf_put_u64(b, d->index[i].offset);
        buf_put_u64(b, d->index[i].len);
    }
    buf_put_u64(b, d->n_index);
    buf_put_u64(b, at);
    buf_put_u64(b, sum64(0, b->data + from, b->len - from));
    bool ok = writer_commit(&d->out, NAME);
    if (!ok)
        error_set(err, d->dir, 0, 0, "cannot write %s: %s", NAME, strerror(d->out.error));
    return ok;
}

void
dirs_free(struct sf_dirs *d)
{
    if (!d)
        return;
    writer_discard(&d->out);
    if (d->in_fd >= 0)
        close(d->in_fd);
    close(d->dirfd);
    free(d->old);
    free(d->index);
    free(d->dir);
    free(d);
}
