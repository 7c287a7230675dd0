/* SPDX-License-Identifier: MIT */
/* ingest.c - walk the inputs, read each file, hand its records on */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "limits.h"

#define MAX_DIR_DEPTH 64    /* nested directories under one input */

/* ---- walking ---------------------------------------------------------- */

struct frame {
    int fd;
    char *path;
    char **names;
    struct stat *st;    /* lstat of each name */
    int *st_errno;      /* 0, or why its lstat failed */
    size_t n, next;
    dev_t dev;
    ino_t ino;
};

/*
 * Statting every file is most of what a rerun over an unchanged archive
 * costs, and it is all kernel time that parallelizes: a directory's names
 * are statted by a few threads at once, in chunks, before the walk goes
 * through them in order.
 */
#define STAT_CHUNK 16
#define STAT_PARALLEL_MIN 32    /* fewer names: not worth waking anyone */

struct stat_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t *threads;
    size_t n_threads;
    unsigned long generation;
    bool quit;
    /* the current directory */
    struct frame *f;
    size_t next;        /* next name to take */
    size_t pending;     /* names not yet statted */
};

static void
stat_range(struct frame *f, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        f->st_errno[i] = fstatat(f->fd, f->names[i], &f->st[i], AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                                         : errno;
}

/* Takes chunks of the current directory until none are left (mu held on
 * entry and exit). */
static void
stat_chunks(struct stat_pool *p)
{
    while (p->f && p->next < p->f->n) {
        size_t from = p->next, to = from + STAT_CHUNK < p->f->n ? from + STAT_CHUNK : p->f->n;
        p->next = to;
        struct frame *f = p->f;
        pthread_mutex_unlock(&p->mu);
        stat_range(f, from, to);
        pthread_mutex_lock(&p->mu);
        p->pending -= to - from;
        if (!p->pending)
            pthread_cond_signal(&p->done);
    }
}

static void *
stat_main(void *arg)
{
    struct stat_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        seen = p->generation;
        stat_chunks(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void
stat_pool_start(struct stat_pool *p, unsigned threads)
{
    *p = (struct stat_pool){0};
    if (threads <= 1)
        return;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = xcalloc(threads - 1, sizeof *p->threads);
    for (unsigned i = 0; i + 1 < threads; i++)
        if (pthread_create(&p->threads[p->n_threads], NULL, stat_main, p) == 0)
            p->n_threads++;
}

static void
stat_pool_stop(struct stat_pool *p)
{
    if (p->threads) {
        pthread_mutex_lock(&p->mu);
        p->quit = true;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < p->n_threads; i++)
            pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->go);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->mu);
        free(p->threads);
    }
    *p = (struct stat_pool){0};
}

/* lstat of every name of f, on the pool's threads and this one. */
static void
stat_all(struct stat_pool *p, struct frame *f)
{
    f->st = xreallocarray(NULL, f->n ? f->n : 1, sizeof *f->st);
    f->st_errno = xcalloc(f->n ? f->n : 1, sizeof *f->st_errno);
    if (!p->n_threads || f->n < STAT_PARALLEL_MIN) {
        stat_range(f, 0, f->n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->f = f;
    p->next = 0;
    p->pending = f->n;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    stat_chunks(p);
    while (p->pending)
        pthread_cond_wait(&p->done, &p->mu);
    p->f = NULL;
    pthread_mutex_unlock(&p->mu);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
frame_finish(struct frame *f)
{
    for (size_t i = f->next; i < f->n; i++)
        free(f->names[i]);
    free(f->names);
    free(f->st);
    free(f->st_errno);
    free(f->path);
    if (f->fd >= 0)
        close(f->fd);
}

/* Opens directory fd (taking it), reads its sorted entry names and
 * stats them. */
static bool
frame_open(struct frame *f, int fd, char *path, struct stat_pool *pool, struct sf_error *err)
{
    *f = (struct frame){.fd = fd, .path = path};
    struct stat st;
    if (fstat(fd, &st) != 0) {
        error_set(err, path, 0, 0, "cannot stat: %s", strerror(errno));
        return false;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        error_set(err, path, 0, 0, "cannot read directory: %s", strerror(errno));
        return false;
    }
    size_t cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;   /* ".", "..", and hidden files: editors' temporaries, our state */
        if (f->n == cap) {
            cap = cap ? cap * 2 : 64;
            f->names = xreallocarray(f->names, cap, sizeof *f->names);
        }
        f->names[f->n++] = xstrdup(e->d_name);
        errno = 0;
    }
    bool ok = errno == 0;
    if (!ok)
        error_set(err, path, 0, 0, "cannot read directory: %s", strerror(errno));
    closedir(d);
    if (f->n > 1)
        qsort(f->names, f->n, sizeof *f->names, cmp_names);
    if (ok)
        stat_all(pool, f);
    return ok;
}

static bool
glob_match(const struct sf_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_globs; i++)
        if (fnmatch(in->globs[i], name, FNM_PERIOD) == 0)
            return true;
    return false;
}

static char *
join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    return n && dir[n - 1] == '/' ? xasprintf("%s%s", dir, name) : xasprintf("%s/%s", dir, name);
}

static bool
walk_dir(const struct sf_input *in, int rootfd, struct stat_pool *pool, sf_file_fn fn, void *ctx,
         bool *stop, struct sf_error *err)
{
    struct frame stack[MAX_DIR_DEPTH + 1];
    size_t depth = 0;
    bool ok = true;
    if (!frame_open(&stack[depth++], rootfd, xstrdup(in->path), pool, err)) {
        frame_finish(&stack[0]);
        return false;
    }
    while (depth && ok && !*stop) {
        struct frame *f = &stack[depth - 1];
        if (f->next == f->n) {
            frame_finish(f);
            depth--;
            continue;
        }
        size_t k = f->next++;
        char *name = f->names[k];
        char *path = join_path(f->path, name);
        struct sf_file file = {.input = in, .dirfd = f->fd, .name = name, .path = path,
                               .st = f->st[k]};
        if (f->st_errno[k]) {
            /* Gone since the listing (a crawler moving files): not an error. */
            if (f->st_errno[k] != ENOENT) {
                error_set(err, path, 0, 0, "cannot stat: %s", strerror(f->st_errno[k]));
                ok = false;
            }
            goto next;
        }
        if (S_ISLNK(file.st.st_mode)) {
            if (!in->follow_symlinks || fstatat(f->fd, name, &file.st, 0) != 0)
                goto next;
        }
        if (S_ISDIR(file.st.st_mode)) {
            for (size_t i = 0; i < depth; i++)
                if (stack[i].dev == file.st.st_dev && stack[i].ino == file.st.st_ino)
                    goto next;  /* a link back up: a loop */
            if (depth == MAX_DIR_DEPTH) {
                error_set(err, path, 0, 0, "directories nested deeper than %d levels",
                          MAX_DIR_DEPTH);
                ok = false;
                goto next;
            }
            int fd = openat(f->fd, name,
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                (in->follow_symlinks ? 0 : O_NOFOLLOW));
            if (fd < 0) {
                error_set(err, path, 0, 0, "cannot open directory: %s", strerror(errno));
                ok = false;
                goto next;
            }
            if (!frame_open(&stack[depth], fd, path, pool, err)) {
                frame_finish(&stack[depth]);
                ok = false;
                path = NULL;
                goto next_nopath;
            }
            depth++;
            path = NULL;   /* the frame owns it */
            goto next_nopath;
        }
        if (S_ISREG(file.st.st_mode) && glob_match(in, name))
            *stop = !fn(ctx, &file);
    next:
        free(path);
    next_nopath:
        free(name);
    }
    while (depth)
        frame_finish(&stack[--depth]);
    return ok;
}

bool
ingest_walk(const struct sf_config *c, unsigned threads, sf_file_fn fn, void *ctx,
            struct sf_error *err)
{
    bool stop = false, ok = true;
    struct stat_pool pool;
    stat_pool_start(&pool, threads);
    for (size_t i = 0; i < c->n_inputs && !stop && ok; i++) {
        const struct sf_input *in = &c->inputs[i];
        struct stat st;
        /* The configured path itself may be a link: it was chosen. */
        if (stat(in->path, &st) != 0) {
            error_set(err, in->path, 0, 0, "input not found: %s", strerror(errno));
            ok = false;
            break;
        }
        if (S_ISREG(st.st_mode)) {
            struct sf_file file = {.input = in, .dirfd = AT_FDCWD, .name = in->path,
                                   .path = in->path, .st = st};
            stop = !fn(ctx, &file);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            error_set(err, in->path, 0, 0, "input is neither a file nor a directory");
            ok = false;
            break;
        }
        int fd = open(in->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            error_set(err, in->path, 0, 0, "cannot open directory: %s", strerror(errno));
            ok = false;
            break;
        }
        ok = walk_dir(in, fd, &pool, fn, ctx, &stop, err);
    }
    stat_pool_stop(&pool);
    return ok;
}

/* ---- reading ---------------------------------------------------------- */

struct sf_ingest_reader {
    const struct sf_config *config;
    struct sf_buf data;
    struct sf_capture_parser *capture;
    struct sf_errors warn;
    struct sf_error err;
    bool skip_lists;
};

struct sf_ingest_reader *
ingest_reader_new(const struct sf_config *c, const struct sf_zone *z, bool skip_lists)
{
    struct sf_ingest_reader *r = xcalloc(1, sizeof *r);
    r->config = c;
    buf_init(&r->data, SF_MAX_CAPTURE_SIZE + 1);
    r->capture = capture_parser_new(z);
    r->skip_lists = skip_lists;
    return r;
}

void
ingest_reader_free(struct sf_ingest_reader *r)
{
    if (!r)
        return;
    buf_finish(&r->data);
    capture_parser_free(r->capture);
    errors_finish(&r->warn);
    error_finish(&r->err);
    free(r);
}

/* Reads a whole file of at most limit bytes into b. */
static bool
read_file(int dirfd, const char *name, const char *path, const struct stat *hint,
          struct sf_buf *b, size_t limit, struct sf_error *err)
{
    buf_clear(b);
    int fd = openat(dirfd, name,
                    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (hint ? O_NOFOLLOW : 0));
    if (fd < 0) {
        error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return false;
    }
    bool ok = false;
    struct stat st;
    /* The walk's stat said a regular file; opening without following
     * links or blocking keeps a file swapped since then harmless. */
    if (hint)
        st = *hint;
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error_set(err, path, 0, 0, "not a regular file");
        goto out;
    }
    if ((uintmax_t)st.st_size > limit) {
        error_set(err, path, 0, 0, "larger than the %zu MiB capture limit", limit >> 20);
        goto out;
    }
    /* Ask for one byte more than the file holds: a regular file's read
     * comes up short only at its end, so one call usually reads it all. */
    size_t expect = (size_t)st.st_size;
    for (;;) {
        size_t want = expect + 1 - (b->len < expect ? b->len : expect);
        if (want < 65536 && b->len >= expect)
            want = 65536;
        if (want > limit + 1 - b->len)
            want = limit + 1 - b->len;
        char *dst = buf_reserve(b, want);
        ssize_t n = dst ? read(fd, dst, want) : -1;
        if (n < 0) {
            if (dst && errno == EINTR)
                continue;
            if (!dst)
                error_set(err, path, 0, 0, "larger than the %zu MiB capture limit", limit >> 20);
            else
                error_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
            goto out;
        }
        buf_commit(b, (size_t)n);
        if (b->len > limit) {
            /* it grew while we read it */
            error_set(err, path, 0, 0, "larger than the %zu MiB capture limit", limit >> 20);
            goto out;
        }
        if (n == 0 || (size_t)n < want)
            break;
    }
    ok = true;
out:
    close(fd);
    return ok;
}

static void
report_warnings(struct sf_ingest_reader *r, const struct sf_ingest_cb *cb)
{
    for (size_t i = 0; i < r->warn.n; i++)
        cb->problem(cb->ctx, &r->warn.v[i], true);
    errors_clear(&r->warn);
}

size_t
ingest_file(struct sf_ingest_reader *r, const struct sf_input *in, int dirfd, const char *name,
            const char *path, const struct stat *st, const struct sf_ingest_cb *cb)
{
    size_t n = 0;
    if (!read_file(dirfd, name, path, st, &r->data, SF_MAX_CAPTURE_SIZE, &r->err)) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    const char *data = r->data.data ? r->data.data : "";
    struct sf_capture_opts opts = {
        .encoding = in->encoding,
        .default_category = in->category,
        .site_host = r->config->site.host,
        .skip_lists = r->skip_lists,
    };
    struct sf_record *rec = capture_parse(r->capture, path, data, r->data.len, &opts, &r->err,
                                          &r->warn);
    report_warnings(r, cb);
    if (!rec) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    cb->record(cb->ctx, rec);
    n++;
    return n;
}
