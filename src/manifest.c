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

#define MAGIC "SFMANIF\n"
#define FORMAT 1u
#define HEADER_LEN (8 + 4 + 4 + 8 + 8 + 8 + 8)
#define MAX_RECORD (1u << 20)
#define NAME "manifest"
#define TMP_NAME ".manifest.tmp"
#define RACY_SECONDS 1

/* ---- the manifest ----------------------------------------------------- */

struct sf_manifest {
    char *dir;
    int dirfd;
    uint64_t settings;
    int64_t started;

    /* the old manifest, read as a stream */
    int in_fd;
    struct sf_buf in;           /* bytes read ahead */
    size_t in_pos;
    bool in_done;               /* exhausted, or unusable from here on */
    int64_t old_started;
    /* its current record, decoded */
    bool have;
    bool consumed;              /* handed out by the last lookup: advance first */
    uint32_t cur_input;
    struct stat cur_st;
    size_t cur_path;            /* offset in cur_strings */
    struct sf_buf cur_strings;
    struct sf_entry *cur_entries;
    size_t n_cur_entries, cap_cur_entries;
    struct sf_error *cur_problems;
    bool *cur_warning;
    size_t n_cur_problems, cap_cur_problems;
    uint64_t cur_sum;

    /* the new manifest */
    int out_fd;
    struct sf_buf out;
    bool write_failed;
    int write_errno;
    bool changed;
    uint64_t digest;
    size_t reused, added;
};

static void
clear_problems(struct sf_manifest *m)
{
    for (size_t i = 0; i < m->n_cur_problems; i++)
        error_finish(&m->cur_problems[i]);
    m->n_cur_problems = 0;
}

/* Reads until in holds at least n bytes from in_pos; false at the end. */
static bool
fill(struct sf_manifest *m, size_t n)
{
    if (m->in_pos > 0 && m->in_pos == m->in.len) {
        buf_clear(&m->in);
        m->in_pos = 0;
    } else if (m->in_pos > 65536) {
        memmove(m->in.data, m->in.data + m->in_pos, m->in.len - m->in_pos);
        m->in.len -= m->in_pos;
        m->in_pos = 0;
    }
    while (m->in.len - m->in_pos < n) {
        char *dst = buf_reserve(&m->in, 65536);
        ssize_t r = dst ? read(m->in_fd, dst, 65536) : -1;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        buf_commit(&m->in, (size_t)r);
    }
    return true;
}

/* Decodes the next record of the old manifest into cur_*; false at its end
 * or at damage (then the rest is not used). */
static bool
next_record(struct sf_manifest *m)
{
    m->have = false;
    if (m->in_done)
        return false;
    if (!fill(m, 4))
        goto done;
    struct sf_cursor lc = {(unsigned char *)m->in.data + m->in_pos,
                     (unsigned char *)m->in.data + m->in_pos + 4, false};
    uint32_t len = cursor_u32(&lc);
    if (len < 4 + 8 || len > MAX_RECORD || !fill(m, len))
        goto damaged;
    const unsigned char *rec = (unsigned char *)m->in.data + m->in_pos;
    struct sf_cursor sc = {rec + len - 8, rec + len, false};
    uint64_t sum = cursor_u64(&sc);
    if (hash_words(0, rec, len - 8) != sum)
        goto damaged;
    struct sf_cursor c = {rec + 4, rec + len - 8, false};
    m->cur_input = cursor_u32(&c);
    memset(&m->cur_st, 0, sizeof m->cur_st);
    m->cur_st.st_size = (off_t)cursor_u64(&c);
    int64_t mtime = (int64_t)cursor_u64(&c);
    m->cur_st.st_mtim.tv_sec = mtime / 1000000000;
    m->cur_st.st_mtim.tv_nsec = mtime % 1000000000;
    m->cur_st.st_ino = (ino_t)cursor_u64(&c);
    m->cur_st.st_dev = (dev_t)cursor_u64(&c);
    buf_clear(&m->cur_strings);
    m->cur_path = cursor_str(&c, &m->cur_strings);
    uint32_t n = cursor_u32(&c);
    if (n > MAX_RECORD / 16)
        goto damaged;
    if (n > m->cap_cur_entries) {
        m->cap_cur_entries = n;
        m->cur_entries = xreallocarray(m->cur_entries, n, sizeof *m->cur_entries);
    }
    m->n_cur_entries = n;
    for (uint32_t i = 0; i < n; i++) {
        catalog_entry_decode(&c, &m->cur_strings, &m->cur_entries[i]);
    }
    clear_problems(m);
    uint32_t np = cursor_u32(&c);
    if (np > MAX_RECORD / 16)
        goto damaged;
    if (np > m->cap_cur_problems) {
        m->cap_cur_problems = np;
        m->cur_problems = xreallocarray(m->cur_problems, np, sizeof *m->cur_problems);
        m->cur_warning = xreallocarray(m->cur_warning, np, sizeof *m->cur_warning);
    }
    struct sf_buf msg;
    buf_init(&msg, 0);
    for (uint32_t i = 0; i < np && !c.bad; i++) {
        m->cur_warning[i] = cursor_u8(&c);
        unsigned line = cursor_u32(&c), col = cursor_u32(&c);
        buf_clear(&msg);
        cursor_str(&c, &msg);
        m->cur_problems[i] = (struct sf_error){0};
        error_set(&m->cur_problems[i], m->cur_strings.data + m->cur_path, line, col, "%s",
                  msg.data);
        m->n_cur_problems++;
    }
    buf_finish(&msg);
    if (c.bad || c.p != c.end)
        goto damaged;
    /* strings are in place: turn offsets into pointers */
    for (uint32_t i = 0; i < n; i++) {
        struct sf_entry *e = &m->cur_entries[i];
        e->id = m->cur_strings.data + (uintptr_t)e->id;
        e->category = m->cur_strings.data + (uintptr_t)e->category;
        e->path = m->cur_strings.data + m->cur_path;
    }
    m->cur_sum = sum;
    m->in_pos += len;
    m->have = true;
    return true;
damaged:
    m->changed = true;
done:
    m->in_done = true;
    return false;
}

static void
flush_out(struct sf_manifest *m, bool all)
{
    if (m->out_fd < 0 || (!all && m->out.len < 65536))
        return;
    if (!m->write_failed && !file_write_all(m->out_fd, m->out.data ? m->out.data : "",
                                            m->out.len)) {
        m->write_failed = true;
        m->write_errno = errno;
    }
    buf_clear(&m->out);
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
        m->changed = true;
        return;
    }
    m->in_pos = HEADER_LEN;
    m->in_done = false;
    next_record(m);
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
    m->in_fd = m->out_fd = -1;
    buf_init(&m->in, MAX_RECORD + 131072);
    buf_init(&m->cur_strings, MAX_RECORD);
    buf_init(&m->out, 0);
    m->digest = SF_FNV_OFFSET;
    open_old(m, note);
    m->out_fd = openat(dirfd, TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                       0644);
    if (m->out_fd < 0) {
        error_set(err, state_dir, 0, 0, "cannot write %s: %s", TMP_NAME, strerror(errno));
        manifest_free(m);
        return NULL;
    }
    header(&m->out, settings, started);
    return m;
}

int
manifest_walk_cmp(uint32_t ia, const char *a, uint32_t ib, const char *b)
{
    if (ia != ib)
        return ia < ib ? -1 : 1;
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

static bool
same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ino == b->st_ino &&
           a->st_dev == b->st_dev;
}

bool
manifest_find(struct sf_manifest *m, uint32_t input, const char *path, const struct stat *st,
              struct sf_manifest_file *out)
{
    if (m->consumed) {
        m->consumed = false;
        next_record(m);
    }
    while (m->have) {
        int c = manifest_walk_cmp(m->cur_input, m->cur_strings.data + m->cur_path, input, path);
        if (c > 0)
            return false;   /* a new file */
        if (c < 0) {
            m->changed = true;   /* a file that is gone */
            next_record(m);
            continue;
        }
        /* A file changed in the same second as the last run started might
         * have changed again without its mtime showing it: parse it. */
        bool racy = st->st_mtim.tv_sec >= m->old_started - RACY_SECONDS;
        bool hit = !racy && same_stat(&m->cur_st, st);
        if (hit) {
            out->entries = m->cur_entries;
            out->n_entries = m->n_cur_entries;
            out->problems = m->cur_problems;
            out->warning = m->cur_warning;
            out->n_problems = m->n_cur_problems;
            /* borrowed until the next lookup, which advances */
            m->consumed = true;
            m->reused++;
            return true;
        }
        next_record(m);
        return false;
    }
    return false;
}

void
manifest_add(struct sf_manifest *m, uint32_t input, const char *path, const struct stat *st,
             const struct sf_entry *entries, size_t n_entries, const struct sf_error *problems,
             const bool *warning, size_t n_problems, bool reused)
{
    if (!reused)
        m->changed = true;
    size_t start = m->out.len;
    buf_put_u32(&m->out, 0);   /* length, patched below */
    buf_put_u32(&m->out, input);
    buf_put_u64(&m->out, (uint64_t)st->st_size);
    buf_put_u64(&m->out, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    buf_put_u64(&m->out, (uint64_t)st->st_ino);
    buf_put_u64(&m->out, (uint64_t)st->st_dev);
    buf_put_str(&m->out, path);
    buf_put_u32(&m->out, (uint32_t)n_entries);
    for (size_t i = 0; i < n_entries; i++) {
        catalog_entry_encode(&m->out, &entries[i]);
    }
    buf_put_u32(&m->out, (uint32_t)n_problems);
    for (size_t i = 0; i < n_problems; i++) {
        buf_put_u8(&m->out, warning[i]);
        buf_put_u32(&m->out, problems[i].line);
        buf_put_u32(&m->out, problems[i].col);
        buf_put_str(&m->out, problems[i].msg ? problems[i].msg : "");
    }
    size_t len = m->out.len - start + 8;
    if (len > MAX_RECORD) {
        /* too big to keep (a huge JSON Lines file): it is parsed every run */
        m->out.len = start;
        m->changed = true;
        return;
    }
    unsigned char l[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                          (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    memcpy(m->out.data + start, l, 4);
    uint64_t sum = hash_words(0, m->out.data + start, len - 8);
    buf_put_u64(&m->out, sum);
    m->digest = hash_words(m->digest, &sum, sizeof sum);
    m->added += !reused;
    flush_out(m, false);
}

bool
manifest_changed(const struct sf_manifest *m)
{
    return m->changed || (m->have && !m->consumed);
}

uint64_t
manifest_digest(const struct sf_manifest *m)
{
    return m->digest;
}

void
manifest_counts(const struct sf_manifest *m, size_t *reused, size_t *added)
{
    *reused = m->reused;
    *added = m->added;
}

bool
manifest_commit(struct sf_manifest *m, struct sf_error *err)
{
    /* records of the old manifest never looked up: files now gone */
    if (m->consumed) {
        m->consumed = false;
        next_record(m);
    }
    if (m->have)
        m->changed = true;
    if (!manifest_changed(m) && m->in_fd >= 0) {
        unlinkat(m->dirfd, TMP_NAME, 0);
        close(m->out_fd);
        m->out_fd = -1;
        return true;
    }
    flush_out(m, true);
    bool ok = !m->write_failed && fsync(m->out_fd) == 0;
    if (!ok && !m->write_errno)
        m->write_errno = errno;
    if (close(m->out_fd) != 0 && ok) {
        ok = false;
        m->write_errno = errno;
    }
    m->out_fd = -1;
    if (ok && renameat(m->dirfd, TMP_NAME, m->dirfd, NAME) != 0) {
        ok = false;
        m->write_errno = errno;
    }
    if (ok)
        fsync(m->dirfd);
    else {
        unlinkat(m->dirfd, TMP_NAME, 0);
        error_set(err, m->dir, 0, 0, "cannot write the manifest: %s", strerror(m->write_errno));
    }
    return ok;
}

void
manifest_free(struct sf_manifest *m)
{
    if (!m)
        return;
    if (m->out_fd >= 0) {
        close(m->out_fd);
        unlinkat(m->dirfd, TMP_NAME, 0);
    }
    if (m->in_fd >= 0)
        close(m->in_fd);
    close(m->dirfd);
    clear_problems(m);
    free(m->cur_problems);
    free(m->cur_warning);
    free(m->cur_entries);
    buf_finish(&m->cur_strings);
    buf_finish(&m->in);
    buf_finish(&m->out);
    free(m->dir);
    free(m);
}
