/* SPDX-License-Identifier: MIT */
/* faultlib.c - an LD_PRELOAD library that makes snapfeed's I/O fail on cue
 *
 * The end-to-end fault tests (tests/e2e/test_faults.py) need faults at an
 * exact point of a run, the same point every time: a SIGKILL just before
 * the k-th rename, write or fsync, a capture that vanishes just before it
 * is opened, a disk that fills up under one directory.  A timer or a
 * watcher on the output directory could not hit those points reliably,
 * and a hook compiled into snapfeed would make the tested binary differ
 * from the shipped one; a preloaded library wraps the libc calls instead.
 *
 * Everything is set through the environment:
 *
 *   SF_FAULT_KILL=CALL:K[,CALL:K...]  raise SIGKILL just before the K-th
 *                                     (from 1) call of CALL: rename (any of
 *                                     rename, renameat, renameat2), write,
 *                                     fsync, connect, dlopen
 *   SF_FAULT_COUNT=FILE               at exit, write "CALL N" lines to FILE,
 *                                     and "fds N": descriptors still open
 *   SF_FAULT_VANISH=NAME:K            unlink NAME just before the K-th open
 *                                     of a path whose last part is NAME
 *   SF_FAULT_SWAP=NAME:K:TARGET       replace NAME by a symbolic link to
 *                                     TARGET just before its K-th open
 *   SF_FAULT_ERRNO=NAME:ERR           every open of NAME fails with ERR
 *                                     (EACCES, EIO or ENOENT)
 *   SF_FAULT_ENOSPC=SUBSTRING         write and fsync fail with ENOSPC on
 *                                     files whose path contains SUBSTRING
 *   SF_FAULT_DLOPEN=NAME              dlopen of a library whose last part
 *                                     is NAME fails, as if not installed
 *   SF_FAULT_NO_EXCHANGE=1            renameat2 with RENAME_EXCHANGE fails
 *                                     with EINVAL, as on a file system
 *                                     that cannot swap two names
 *
 * Counting is atomic: snapfeed's parsing threads read, they never write,
 * rename or fsync, so the order of those calls is the same on every run.
 * (connect is counted for every socket, the first one being the first
 * WebSub request: snapfeed opens no other.)
 */
/* open and open64 are both defined here: no redirection of one to the other */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum call {
    CALL_RENAME, CALL_WRITE, CALL_FSYNC, CALL_OPEN, CALL_CONNECT, CALL_DLOPEN, CALL_COUNT
};

static const char *const call_names[CALL_COUNT] = {
    [CALL_RENAME] = "rename",
    [CALL_WRITE] = "write",
    [CALL_FSYNC] = "fsync",
    [CALL_OPEN] = "open",
    [CALL_CONNECT] = "connect",
    [CALL_DLOPEN] = "dlopen",
};

static atomic_ulong counts[CALL_COUNT];

/* Counts one call of kind c and dies if SF_FAULT_KILL names this one. */
static void
count(enum call c)
{
    unsigned long n = atomic_fetch_add(&counts[c], 1) + 1;
    const char *spec = getenv("SF_FAULT_KILL");
    size_t len = strlen(call_names[c]);
    for (const char *p = spec; p && *p;) {
        if (strncmp(p, call_names[c], len) == 0 && p[len] == ':' &&
            strtoul(p + len + 1, NULL, 10) == n)
            raise(SIGKILL);
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
}

/* Whether the file open as fd has a path containing SF_FAULT_ENOSPC. */
static bool
full(int fd)
{
    const char *sub = getenv("SF_FAULT_ENOSPC");
    if (!sub || !*sub)
        return false;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return false;
    path[n] = '\0';
    return strstr(path, sub) != NULL;
}

static const char *
last_part(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Splits "NAME:VALUE" from variable var; false when unset or NAME is not
 * path's last part. */
static bool
named(const char *var, const char *path, const char **value)
{
    const char *spec = getenv(var);
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    if (!colon)
        return false;
    const char *base = last_part(path);
    if (strlen(base) != (size_t)(colon - spec) || strncmp(base, spec, (size_t)(colon - spec)))
        return false;
    *value = colon + 1;
    return true;
}

/* Before an open of path (relative to dirfd): the faults it may meet.
 * Returns 0, or the errno the open must fail with. */
static int
before_open(int dirfd, const char *path)
{
    const char *v;
    if (named("SF_FAULT_VANISH", path, &v)) {
        static atomic_ulong opens;
        if (atomic_fetch_add(&opens, 1) + 1 == strtoul(v, NULL, 10))
            unlinkat(dirfd, path, 0);
    }
    const char *swap = getenv("SF_FAULT_SWAP");
    const char *c1 = swap ? strchr(swap, ':') : NULL;
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    const char *base = last_part(path);
    if (c2 && strlen(base) == (size_t)(c1 - swap) && strncmp(base, swap, (size_t)(c1 - swap)) == 0) {
        static atomic_ulong swaps;
        if (atomic_fetch_add(&swaps, 1) + 1 == strtoul(c1 + 1, NULL, 10)) {
            unlinkat(dirfd, path, 0);
            symlinkat(c2 + 1, dirfd, path);
        }
    }
    if (named("SF_FAULT_ERRNO", path, &v)) {
        if (strcmp(v, "EACCES") == 0)
            return EACCES;
        if (strcmp(v, "EIO") == 0)
            return EIO;
        if (strcmp(v, "ENOENT") == 0)
            return ENOENT;
    }
    return 0;
}

/* The next definition of name; through a union, as ISO C has no cast
 * from an object pointer to a function pointer. */
#define REAL(name, type) \
    static type *real_##name; \
    if (!real_##name) { \
        union { void *p; type *f; } u_ = {.p = dlsym(RTLD_NEXT, #name)}; \
        real_##name = u_.f; \
    }

typedef int rename_fn(const char *, const char *);
typedef int renameat_fn(int, const char *, int, const char *);
typedef int renameat2_fn(int, const char *, int, const char *, unsigned);
typedef ssize_t write_fn(int, const void *, size_t);
typedef int fsync_fn(int);
/* glibc's own spelling: with _GNU_SOURCE the address is a transparent union */
typedef int connect_fn(int, __CONST_SOCKADDR_ARG, socklen_t);
typedef int open_fn(const char *, int, ...);
typedef int openat_fn(int, const char *, int, ...);
typedef void *dlopen_fn(const char *, int);

int
rename(const char *a, const char *b)
{
    REAL(rename, rename_fn);
    count(CALL_RENAME);
    return real_rename(a, b);
}

int
renameat(int da, const char *a, int db, const char *b)
{
    REAL(renameat, renameat_fn);
    count(CALL_RENAME);
    return real_renameat(da, a, db, b);
}

int
renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
    REAL(renameat2, renameat2_fn);
    count(CALL_RENAME);
    if ((flags & RENAME_EXCHANGE) && getenv("SF_FAULT_NO_EXCHANGE")) {
        errno = EINVAL;
        return -1;
    }
    return real_renameat2(da, a, db, b, flags);
}

ssize_t
write(int fd, const void *p, size_t n)
{
    REAL(write, write_fn);
    count(CALL_WRITE);
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, p, n);
}

int
fsync(int fd)
{
    REAL(fsync, fsync_fn);
    count(CALL_FSYNC);
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_fsync(fd);
}

/* A connection to a WebSub hub: libcurl calls connect() through libc. */
int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    REAL(connect, connect_fn);
    count(CALL_CONNECT);
    return real_connect(fd, addr, len);
}

/* libcurl, which snapfeed opens only when it has notifications to send.
 * A library that is "not installed" is looked for where none is, so that
 * dlerror() says what it would say. */
void *
dlopen(const char *file, int flags)
{
    REAL(dlopen, dlopen_fn);
    count(CALL_DLOPEN);
    const char *missing = getenv("SF_FAULT_DLOPEN");
    char path[PATH_MAX];
    if (file && missing && *missing && strcmp(last_part(file), missing) == 0) {
        snprintf(path, sizeof path, "/nonexistent/%s", missing);
        file = path;
    }
    return real_dlopen(file, flags);
}

/* The open calls, as snapfeed may be built with 64-bit file offsets
 * (open64) or not (open). */
#define OPEN_AT(fn, dirfd_expr, ...) \
    { \
        mode_t mode = 0; \
        if (flags & (O_CREAT | O_TMPFILE)) { \
            va_list ap; \
            va_start(ap, flags); \
            mode = (mode_t)va_arg(ap, int); \
            va_end(ap); \
        } \
        atomic_fetch_add(&counts[CALL_OPEN], 1); \
        int e = before_open(dirfd_expr, path); \
        if (e) { \
            errno = e; \
            return -1; \
        } \
        return fn(__VA_ARGS__, mode); \
    }

int
open(const char *path, int flags, ...)
{
    REAL(open, open_fn);
    OPEN_AT(real_open, AT_FDCWD, path, flags)
}

int
open64(const char *path, int flags, ...)
{
    REAL(open64, open_fn);
    OPEN_AT(real_open64, AT_FDCWD, path, flags)
}

int
openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat, openat_fn);
    OPEN_AT(real_openat, dirfd, dirfd, path, flags)
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
    REAL(openat64, openat_fn);
    OPEN_AT(real_openat64, dirfd, dirfd, path, flags)
}

/* Descriptors open now, not counting the one this opens to list them. */
static long
open_fds(void)
{
    int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    long n = 0;
    char buf[4096];
    long got;
    while ((got = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got;) {
            /* struct linux_dirent64: ino, off, reclen, type, name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            if (name[0] != '.' && strtol(name, NULL, 10) != dir)
                n++;
            off += reclen;
        }
    }
    syscall(SYS_close, dir);
    return n;
}

/* The counts, for a test to choose its K from a whole run's, and the
 * descriptors a run left open. */
__attribute__((destructor)) static void
report(void)
{
    const char *file = getenv("SF_FAULT_COUNT");
    if (!file || !*file)
        return;
    char text[256];
    int len = 0;
    for (int c = 0; c < CALL_COUNT; c++)
        len += snprintf(text + len, sizeof text - (size_t)len, "%s %lu\n", call_names[c],
                        (unsigned long)atomic_load(&counts[c]));
    len += snprintf(text + len, sizeof text - (size_t)len, "fds %ld\n", open_fds());
    /* straight to the kernel: our own write() would count itself */
    int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                          0644);
    if (fd >= 0) {
        syscall(SYS_write, fd, text, (size_t)len);
        syscall(SYS_close, fd);
    }
}
