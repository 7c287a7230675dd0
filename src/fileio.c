/* SPDX-License-Identifier: MIT */
/* fileio.c - the few file operations several modules need, done once */
#define _GNU_SOURCE 1   /* copy_file_range() */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
file_mkdirs(const char *path, struct sf_error *err)
{
    char *p = xstrdup(path);
    bool ok = true;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                error_set(err, p, 0, 0, "cannot create directory: %s", strerror(errno));
                ok = false;
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return ok;
}

bool
file_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool
file_copy_range(int in, uint64_t from, uint64_t to, int out)
{
    while (from < to) {
        loff_t off = (loff_t)from;
        ssize_t n = copy_file_range(in, &off, out, NULL, (size_t)(to - from), 0);
        if (n <= 0)
            break;   /* not supported here, or a short file: the slow way */
        from += (uint64_t)n;
    }
    char *buf = from < to ? xmalloc(1u << 20) : NULL;
    bool ok = true;
    while (ok && from < to) {
        size_t want = to - from > (1u << 20) ? (1u << 20) : (size_t)(to - from);
        ssize_t got = pread(in, buf, want, (off_t)from);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;
            ok = false;
        } else {
            ok = file_write_all(out, buf, (size_t)got);
            from += (uint64_t)got;
        }
    }
    free(buf);
    return ok;
}

bool
writer_open(struct sf_writer *w, int dirfd, const char *spare, int old_fd)
{
    *w = (struct sf_writer){.dirfd = dirfd, .spare = spare, .old_fd = old_fd};
    buf_init(&w->buf, 0);
    /* written over, not truncated: see above */
    w->fd = openat(dirfd, spare, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (w->fd < 0)
        w->error = errno;
    return w->fd >= 0;
}

/* Copies the run kept so far. */
static void
flush_run(struct sf_writer *w)
{
    if (w->run_to > w->run_from && !w->error &&
        !file_copy_range(w->old_fd, w->run_from, w->run_to, w->fd))
        w->error = errno;   /* EIO for an old file cut short */
    w->run_from = w->run_to = 0;
}

struct sf_buf *
writer_buf(struct sf_writer *w)
{
    flush_run(w);
    return &w->buf;
}

void
writer_flush(struct sf_writer *w, bool all)
{
    if (!all && w->buf.len < 65536)
        return;
    if (w->buf.len && !w->error && !file_write_all(w->fd, w->buf.data, w->buf.len))
        w->error = errno;
    buf_clear(&w->buf);
}

void
writer_keep(struct sf_writer *w, uint64_t from, uint64_t to)
{
    if (w->run_to > w->run_from && w->run_to == from) {
        w->run_to = to;
        return;
    }
    flush_run(w);
    writer_flush(w, true);
    w->run_from = from;
    w->run_to = to;
}

/* Cuts spare fd to what was written and closes it (false, errno set). */
static bool
close_spare(int fd)
{
    off_t end = lseek(fd, 0, SEEK_CUR);
    bool ok = end >= 0 && ftruncate(fd, end) == 0;
    int e = errno;   /* the cut's failure, if any, is the one to report */
    if (close(fd) != 0 && ok)
        return false;
    errno = e;
    return ok;
}

bool
writer_commit(struct sf_writer *w, const char *name)
{
    flush_run(w);
    writer_flush(w, true);
    buf_finish(&w->buf);
    bool ok = !w->error && w->fd >= 0;
    if (w->fd >= 0 && !close_spare(w->fd) && ok) {
        ok = false;
        w->error = errno;
    }
    w->fd = -1;
    if (ok && !file_rename_state(w->dirfd, w->spare, name, true)) {
        ok = false;
        w->error = errno;
    }
    if (!ok) {
        unlinkat(w->dirfd, w->spare, 0);
        if (!w->error)
            w->error = EIO;
    }
    w->spare = NULL;
    return ok;
}

void
writer_discard(struct sf_writer *w)
{
    if (!w->spare)
        return;   /* never opened (a zeroed writer), or committed */
    if (w->fd >= 0) {
        close(w->fd);
        unlinkat(w->dirfd, w->spare, 0);
        w->fd = -1;
    }
    buf_finish(&w->buf);
    w->spare = NULL;
}

bool
file_rename_state(int dirfd, const char *tmp, const char *name, bool keep_old)
{
#ifdef RENAME_EXCHANGE
    if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
        if (!keep_old)
            unlinkat(dirfd, tmp, 0);   /* a leftover is written over next time */
        return true;
    }
    if (errno != ENOENT && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return false;
    /* no old file to swap with, or no exchange here */
#endif
    return renameat(dirfd, tmp, dirfd, name) == 0;
}

bool
file_replace(int dirfd, const char *name, const void *data, size_t n, bool durable,
             const char *display, struct sf_error *err)
{
    char *tmp = xasprintf(".%s.tmp", name);
    bool ok = false;
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || !file_write_all(fd, data, n) || (durable && fsync(fd) != 0)) {
        error_set(err, display, 0, 0, "cannot write: %s", strerror(errno));
        goto out;
    }
    int r = close(fd);
    fd = -1;
    if (r != 0) {
        error_set(err, display, 0, 0, "cannot write: %s", strerror(errno));
        goto out;
    }
    /* a file synced has nothing left for ext4 to start writing */
    if (durable ? renameat(dirfd, tmp, dirfd, name) != 0
                : !file_rename_state(dirfd, tmp, name, false)) {
        error_set(err, display, 0, 0, "cannot rename into place: %s", strerror(errno));
        goto out;
    }
    /* The rename is durable once the directory is. */
    if (durable && fsync(dirfd) != 0) {
        error_set(err, display, 0, 0, "cannot sync its directory: %s", strerror(errno));
        goto out;
    }
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    if (!ok)
        unlinkat(dirfd, tmp, 0);
    free(tmp);
    return ok;
}
