/* SPDX-License-Identifier: MIT */
/* output.c - the output directory: confined paths, write-if-changed, atomic commit, lock */
/* sync_file_range(), Linux's way to start writing a file back early */
#define _GNU_SOURCE 1
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

#include "limits.h"

#define LOCK_NAME ".snapfeed.lock"
#define TMP_SUFFIX ".snapfeed-tmp"

struct staged {
    char *path;     /* relative to the output directory */
    char *dir;      /* its directory part, "" for the top */
    char *name;     /* its file name */
    char *tmp;      /* the temporary's name, in the same directory */
};

struct staged_list {
    struct staged *v;
    size_t n, cap;
};

struct sf_output {
    char *root;
    int fd;         /* the output directory */
    int lock_fd;
    bool dry_run;
    struct staged_list list;
    size_t committed;   /* staged entries renamed into place */
    const char **changed_view;
};

static bool
safe_name(const char *s, size_t n)
{
    if (n == 0 || n > 255 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '/' || s[i] == '\\')
            return false;
    return true;
}

/* Removes temporaries a killed run left in directory fd (and its subdirectories). */
static void
remove_stale(int fd, int depth)
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct dirent *e;
    size_t sl = strlen(TMP_SUFFIX);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' && n > sl && strcmp(e->d_name + n - sl, TMP_SUFFIX) == 0) {
            unlinkat(fd, e->d_name, 0);
        } else if (depth == 0 && e->d_name[0] != '.' && e->d_type == DT_DIR) {
            int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                remove_stale(sub, 1);
                close(sub);
            }
        }
    }
    closedir(d);
}

struct sf_output *
output_open(const char *dir, enum sf_output_lock lock, bool dry_run, struct sf_error *err)
{
    struct sf_output *o = xcalloc(1, sizeof *o);
    o->root = xstrdup(dir);
    o->fd = o->lock_fd = -1;
    o->dry_run = dry_run;
    if (!dry_run && !file_mkdirs(dir, err))
        goto fail;
    /* The configured directory itself may be a link: it was chosen. */
    o->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->fd < 0) {
        if (dry_run && errno == ENOENT)
            return o;   /* nothing there yet: everything would change */
        error_set(err, dir, 0, 0, "cannot open output directory: %s", strerror(errno));
        goto fail;
    }
    if (dry_run || lock == SF_LOCK_NONE)
        return o;
    o->lock_fd = openat(o->fd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (o->lock_fd < 0) {
        error_set(err, dir, 0, 0, "cannot create %s: %s", LOCK_NAME, strerror(errno));
        goto fail;
    }
    while (flock(o->lock_fd, lock == SF_LOCK_WAIT ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            error_set(err, dir, 0, 0,
                      "busy: another snapfeed is building here (use --wait to wait for it)");
        else
            error_set(err, dir, 0, 0, "cannot lock: %s", strerror(errno));
        goto fail;
    }
    remove_stale(o->fd, 0);
    return o;
fail:
    output_close(o);
    return NULL;
}

/* Splits "a/b" into a safe directory and name; "b" has directory "". */
static bool
split_path(const char *path, char **dir, char **name)
{
    const char *slash = strchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash && (!safe_name(path, (size_t)(slash - path)) || strchr(base, '/')))
        return false;
    if (!safe_name(base, strlen(base)))
        return false;
    *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
    *name = xstrdup(base);
    return true;
}

/* Opens (creating when asked) subdirectory dir of the output, never
 * through a link.  "" is the output directory itself (a new fd). */
static int
open_subdir(struct sf_output *o, const char *dir, bool create, struct sf_error *err)
{
    if (!*dir)
        return dup(o->fd);
    if (create && mkdirat(o->fd, dir, 0755) != 0 && errno != EEXIST) {
        error_set(err, o->root, 0, 0, "cannot create directory %s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = openat(o->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (create || errno != ENOENT))
        error_set(err, o->root, 0, 0, "cannot open directory %s: %s", dir,
                  errno == ELOOP || errno == ENOTDIR ? "it is a link or not a directory"
                                                     : strerror(errno));
    return fd;
}

/* Whether the file in place holds exactly data[0..len); old is scratch. */
static bool
same_bytes(int dfd, const char *name, const void *data, size_t len, struct sf_buf *old)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st;
    bool same = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len) {
        buf_clear(old);
        char *dst = buf_reserve(old, len + 1);
        size_t got = 0;
        while (dst && got <= len) {
            ssize_t r = read(fd, dst + got, len + 1 - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        same = dst && got == len && memcmp(dst, data, len) == 0;
    }
    close(fd);
    return same;
}

static void
list_push(struct staged_list *l, struct staged s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = s;
}

static void
staged_finish(struct staged *s)
{
    free(s->path);
    free(s->dir);
    free(s->name);
    free(s->tmp);
}

struct sf_output_batch {
    struct sf_output *o;
    struct staged_list list;
    struct sf_buf old;          /* the file in place, for comparing */
};

struct sf_output_batch *
output_batch_new(struct sf_output *o)
{
    struct sf_output_batch *b = xcalloc(1, sizeof *b);
    b->o = o;
    buf_init(&b->old, 0);
    return b;
}

/* Reads only what output_open() set in the output, so threads may stage
 * into batches of their own at once. */
bool
output_batch_stage(struct sf_output_batch *b, const char *path, const void *data, size_t len,
                   bool *changed, struct sf_error *err)
{
    struct sf_output *o = b->o;
    struct staged s = {0};
    bool ok = false;
    int dfd = -1, fd = -1;
    if (changed)
        *changed = false;
    if (!split_path(path, &s.dir, &s.name)) {
        error_set(err, o->root, 0, 0, "refusing to write unsafe path '%s'", path);
        return false;
    }
    s.path = xstrdup(path);
    if (o->fd >= 0) {
        dfd = open_subdir(o, s.dir, !o->dry_run, err);
        if (dfd < 0 && (!o->dry_run || errno != ENOENT))
            goto out;
    }
    if (dfd >= 0 && same_bytes(dfd, s.name, data, len, &b->old)) {
        ok = true;
        goto out;
    }
    if (changed)
        *changed = true;
    if (!o->dry_run) {
        s.tmp = xasprintf(".%s%s", s.name, TMP_SUFFIX);
        unlinkat(dfd, s.tmp, 0);
        fd = openat(dfd, s.tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        /* Synced in output_commit(), all together (sync_staged). */
        if (fd < 0 || !file_write_all(fd, data, len)) {
            error_set(err, o->root, 0, 0, "cannot write %s: %s", path, strerror(errno));
            if (fd >= 0)
                unlinkat(dfd, s.tmp, 0);
            goto out;
        }
#ifdef SYNC_FILE_RANGE_WRITE
        /* Start the write-back now, so that the blocks of every staged file
         * are allocated before the first fsync commits the journal: the
         * fsyncs after it then find nothing left to do.  A hint only. */
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
        if (close(fd) != 0) {
            fd = -1;
            error_set(err, o->root, 0, 0, "cannot write %s: %s", path, strerror(errno));
            unlinkat(dfd, s.tmp, 0);
            goto out;
        }
        fd = -1;
    }
    list_push(&b->list, s);
    s = (struct staged){0};
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    staged_finish(&s);
    return ok;
}

void
output_batch_join(struct sf_output_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->list.n; i++)
        list_push(&b->o->list, b->list.v[i]);
    free(b->list.v);
    buf_finish(&b->old);
    free(b);
}

/*
 * Syncing the staged files.  Each fsync waits for a journal commit and a
 * cache flush of the disk (about 3 ms on the benchmark's virtual disk,
 * most of a 1,000-capture build when done one after another); waiters
 * that arrive together share one commit.  So a few threads, which only
 * wait, sync them at once.
 */
#define SYNC_THREADS 16

struct sync_pool {
    struct sf_output *o;
    pthread_mutex_t mu;
    size_t next, end;
    size_t failed;      /* lowest index that failed, or end */
    int failed_errno;
};

static bool
sync_one(struct sf_output *o, const struct staged *s, int *e)
{
    int dfd = open_subdir(o, s->dir, false, NULL);
    if (dfd < 0) {
        *e = errno;
        return false;
    }
    int fd = openat(dfd, s->tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;
    *e = errno;
    if (fd >= 0)
        close(fd);
    close(dfd);
    return ok;
}

static void *
sync_main(void *arg)
{
    struct sync_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (p->next < p->end && p->failed == p->end) {
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        int e = 0;
        bool ok = sync_one(p->o, &p->o->list.v[i], &e);
        pthread_mutex_lock(&p->mu);
        if (!ok && i < p->failed) {
            p->failed = i;
            p->failed_errno = e;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Syncs the staged files not yet committed; on failure says which (the
 * first in staging order, whatever the threads did). */
static bool
sync_staged(struct sf_output *o, struct sf_error *err)
{
    struct sync_pool p = {.o = o, .next = o->committed, .end = o->list.n, .failed = o->list.n};
    pthread_mutex_init(&p.mu, NULL);
    size_t want = o->list.n - o->committed;
    run_threads(want > SYNC_THREADS ? SYNC_THREADS : want, sync_main, &p);
    pthread_mutex_destroy(&p.mu);
    if (p.failed != o->list.n) {
        error_set(err, o->root, 0, 0, "cannot write %s: %s", o->list.v[p.failed].path,
                  strerror(p.failed_errno));
        return false;
    }
    return true;
}

bool
output_commit(struct sf_output *o, struct sf_error *err)
{
    if (o->dry_run || o->committed == o->list.n)
        return true;
    /* Every temporary is synced before the first rename: none replaces a
     * good file before its bytes are on disk.  fsync each file rather than
     * syncfs() the whole file system: the captures beside them may hold
     * far more unwritten data. */
    if (!sync_staged(o, err))
        return false;
    for (; o->committed < o->list.n; o->committed++) {
        struct staged *s = &o->list.v[o->committed];
        int dfd = open_subdir(o, s->dir, false, err);
        if (dfd < 0)
            return false;
        int r = renameat(dfd, s->tmp, dfd, s->name);
        int e = errno;
        close(dfd);
        if (r != 0) {
            error_set(err, o->root, 0, 0, "cannot rename %s into place: %s", s->path,
                      strerror(e));
            return false;
        }
    }
    /* The renames themselves are durable once their directories are. */
    bool ok = true;
    for (size_t i = 0; i < o->list.n && ok; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(o->list.v[j].dir, o->list.v[i].dir) == 0;
        if (seen)
            continue;
        int dfd = open_subdir(o, o->list.v[i].dir, false, err);
        ok = dfd >= 0 && fsync(dfd) == 0;
        if (dfd >= 0 && !ok)
            error_set(err, o->root, 0, 0, "cannot sync %s: %s", o->list.v[i].dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
    }
    return ok;
}

/* The first n staged paths, as a view borrowed until the next call. */
static size_t
staged_view(struct sf_output *o, size_t n, const char *const **paths)
{
    static const char *const none[1] = {NULL};
    if (!n) {
        *paths = none;
        return 0;
    }
    /* staged entries start with their path */
    const char **v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = o->list.v[i].path;
    free(o->changed_view);
    o->changed_view = v;
    *paths = v;
    return n;
}

size_t
output_changed(struct sf_output *o, const char *const **paths)
{
    return staged_view(o, o->dry_run ? o->list.n : o->committed, paths);
}

size_t
output_staged(struct sf_output *o, const char *const **paths)
{
    return staged_view(o, o->list.n, paths);
}

bool
output_stat(struct sf_output *o, const char *path, int64_t *size, int64_t *mtime_ns)
{
    struct stat st;
    if (o->fd < 0 || fstatat(o->fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
        return false;
    *size = (int64_t)st.st_size;
    *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return true;
}

void
output_close(struct sf_output *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->list.n; i++) {
        struct staged *s = &o->list.v[i];
        if (i >= o->committed && s->tmp && o->fd >= 0) {
            int dfd = open_subdir(o, s->dir, false, NULL);
            if (dfd >= 0) {
                unlinkat(dfd, s->tmp, 0);
                close(dfd);
            }
        }
        staged_finish(s);
    }
    free(o->list.v);
    free(o->changed_view);
    if (o->lock_fd >= 0)
        close(o->lock_fd);
    if (o->fd >= 0)
        close(o->fd);
    free(o->root);
    free(o);
}

static int
compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool
output_list_feeds(const char *dir, const char *const *names, size_t n_names, char ***paths,
                  size_t *n_paths, struct sf_error *err)
{
    *paths = NULL;
    *n_paths = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        error_set(err, dir, 0, 0, "cannot open output directory: %s", strerror(errno));
        return false;
    }
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        error_set(err, dir, 0, 0, "cannot read output directory: %s", strerror(errno));
        if (dfd >= 0)
            close(dfd);
        close(fd);
        return false;
    }
    char **v = NULL;
    size_t n = 0, cap = 0, dirs = 0;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!safe_name(e->d_name, strlen(e->d_name)))
            continue;
        int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;   /* a file, a link, or gone */
        /* Bounded like a build: no more feeds than a run may write. */
        if (++dirs > SF_MAX_FEEDS + 1) {
            close(sub);
            error_set(err, dir, 0, 0, "more than %d feed directories", SF_MAX_FEEDS + 1);
            ok = false;
            break;
        }
        for (size_t k = 0; k < n_names; k++) {
            struct stat st;
            if (fstatat(sub, names[k], &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = xreallocarray(v, cap, sizeof *v);
            }
            v[n++] = xasprintf("%s/%s", e->d_name, names[k]);
        }
        close(sub);
    }
    closedir(d);
    close(fd);
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return false;
    }
    if (n)
        sf_sort(v, n, sizeof *v, compare_paths);
    *paths = v;
    *n_paths = n;
    return true;
}
