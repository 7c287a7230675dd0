/* SPDX-License-Identifier: MIT */
/* ingest.c - walk the inputs, read each file, hand its records on */
#define _GNU_SOURCE 1   /* getdents64() */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "capture.h"
#include "dirs.h"
#include "htmlpage.h"
#include "limits.h"

#define MAX_DIR_DEPTH 64    /* nested directories under one input */

/* ---- walking ---------------------------------------------------------- */

struct frame {
    int fd;             /* -1 until needed, for a listing from the dirs cache */
    const struct frame *parent;     /* whose fd opens this one's */
    char *path;
    char **names;       /* each its own allocation, freed as the walk passes it */
    char *block;        /* or all of them in this one */
    struct stat *st;    /* lstat of each name */
    int *st_errno;      /* 0, or why its lstat failed */
    unsigned char *chunk;   /* per STAT_CHUNK names: CHUNK_TODO, _TAKEN or _DONE */
    size_t n_chunks;
    size_t ready;       /* names the walk knows are statted (its own count) */
    size_t n, next;
    unsigned long serial;   /* sf_file.dir */
    dev_t dev;
    ino_t ino;
    bool recording;     /* its listing goes into the dirs cache */
    struct sf_dirs_rec rec;
};

/*
 * Statting every file is most of what a rerun over an unchanged archive
 * costs, and it is all kernel time that parallelizes.  A directory's
 * names are statted in chunks by a few threads while the walk goes
 * through them in order: the walk takes the chunk it needs itself unless
 * a thread has begun it, stats later chunks while that one is in
 * progress, and what it does with one chunk's files overlaps the
 * statting of the next.
 */
#define STAT_CHUNK 16
#define STAT_PARALLEL_MIN 32    /* fewer names: not worth waking anyone */

enum { CHUNK_TODO, CHUNK_TAKEN, CHUNK_DONE };

/*
 * With nothing of the current directory left to stat, a thread reads the
 * directory the walk will enter next (a later subdirectory of the one it
 * came from) whole: lists it, sorts it, stats every name.  The walk takes
 * that frame over when it gets there, in its own order; one the thread
 * could not read is read by the walk again, which then reports what went
 * wrong.  A prefetched directory holds a descriptor: only with room for
 * many (build.c's directory holds need the same).
 */
#define PREFETCH_SLOTS 8
#define PREFETCH_MIN_NOFILE 256
#define PREFETCH_MAX_NAMES 1024     /* a larger directory is the walk's, in chunks */

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY, SLOT_FAILED };

struct prefetch {
    struct frame f;
    struct stat st;     /* the directory's, from its parent */
    const struct frame *parent;
    size_t index;       /* of its name in parent */
    char *name;         /* a copy: the walk frees its names as it passes them */
    int state;
};

struct stat_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t *threads;
    size_t n_threads;
    bool quit;
    bool walk_waiting;  /* the walk waits for a chunk or a slot */
    struct frame *f;    /* the directory the threads take chunks of */
    size_t next;        /* its first chunk that may not be taken */
    bool prefetch;
    struct sf_dirs *dirs;       /* read by every thread; added to by the walk */
    uint32_t input;             /* the one being walked (its index) */
    struct frame *pf_parent;    /* whose later subdirectories come next */
    size_t pf_next;             /* its first name not yet looked at */
    struct prefetch slots[PREFETCH_SLOTS];
};

static void frame_finish(struct stat_pool *p, struct frame *f);
static bool frame_list(struct stat_pool *p, struct frame *f, const char *path,
                       const struct stat *st, size_t max_names, bool here, struct sf_error *err);
static char *join_path(const char *dir, const char *name);

static void
stat_range(struct frame *f, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        f->st_errno[i] = fstatat(f->fd, f->names[i], &f->st[i], AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                                         : errno;
}

static void
stat_chunk(struct frame *f, size_t c)
{
    size_t from = c * STAT_CHUNK, to = from + STAT_CHUNK < f->n ? from + STAT_CHUNK : f->n;
    stat_range(f, from, to);
}

/* Takes the next chunk nobody has taken of the pool's directory (mu held). */
static bool
take_chunk(struct stat_pool *p, struct frame **f, size_t *c)
{
    while (p->f && p->next < p->f->n_chunks) {
        size_t i = p->next++;
        if (p->f->chunk[i] == CHUNK_TODO) {
            p->f->chunk[i] = CHUNK_TAKEN;
            *f = p->f;
            *c = i;
            return true;
        }
    }
    return false;
}

/* Stats chunk c of f, taken by this thread (mu held on entry and exit),
 * and tells the walk if it waits. */
static void
run_chunk(struct stat_pool *p, struct frame *f, size_t c)
{
    pthread_mutex_unlock(&p->mu);
    stat_chunk(f, c);
    pthread_mutex_lock(&p->mu);
    f->chunk[c] = CHUNK_DONE;
    if (p->walk_waiting)
        pthread_cond_signal(&p->done);
}

/* The walk waits for a chunk another thread is statting (mu held). */
static void
wait_chunk(struct stat_pool *p)
{
    p->walk_waiting = true;
    pthread_cond_wait(&p->done, &p->mu);
    p->walk_waiting = false;
}

/* Whether name j of f is statted (mu held). */
static bool
statted(const struct frame *f, size_t j)
{
    return f->chunk && f->chunk[j / STAT_CHUNK] == CHUNK_DONE;
}

static struct prefetch *
slot_of(struct stat_pool *p, const struct frame *parent, size_t index)
{
    for (size_t i = 0; i < PREFETCH_SLOTS; i++)
        if (p->slots[i].state != SLOT_FREE && p->slots[i].parent == parent &&
            p->slots[i].index == index)
            return &p->slots[i];
    return NULL;
}

/* Claims the next subdirectory of pf_parent to read ahead, if a slot is
 * free (mu held). */
static struct prefetch *
take_prefetch(struct stat_pool *p)
{
    struct frame *d = p->pf_parent;
    if (!p->prefetch || !d)
        return NULL;
    struct prefetch *slot = NULL;
    for (size_t i = 0; i < PREFETCH_SLOTS && !slot; i++)
        if (p->slots[i].state == SLOT_FREE)
            slot = &p->slots[i];
    while (slot && p->pf_next < d->n && statted(d, p->pf_next)) {
        size_t j = p->pf_next++;
        if (d->st_errno[j] == 0 && S_ISDIR(d->st[j].st_mode) && !slot_of(p, d, j)) {
            *slot = (struct prefetch){.f = {.fd = -1, .dev = d->st[j].st_dev,
                                            .ino = d->st[j].st_ino},
                                      .st = d->st[j], .parent = d, .index = j,
                                      .name = xstrdup(d->names[j]), .state = SLOT_BUSY};
            return slot;
        }
    }
    return NULL;
}

/* Reads the directory of slot whole (mu held on entry and exit). */
static void
run_prefetch(struct stat_pool *p, struct prefetch *slot)
{
    pthread_mutex_unlock(&p->mu);
    struct sf_error ignored = {0};  /* the walk reads it again, and says */
    char *path = join_path(slot->parent->path, slot->name);
    /* opened from the parent (open until the slot is done with) as the
     * listing needs it */
    slot->f.parent = slot->parent;
    bool ok = frame_list(p, &slot->f, path, &slot->st, PREFETCH_MAX_NAMES, true, &ignored);
    free(path);
    error_finish(&ignored);
    pthread_mutex_lock(&p->mu);
    slot->state = ok ? SLOT_READY : SLOT_FAILED;
    if (p->walk_waiting)
        pthread_cond_signal(&p->done);
}

/* Empties a slot not taken over (mu held). */
static void
slot_free(struct prefetch *slot)
{
    if (slot->state == SLOT_READY || slot->state == SLOT_FAILED)
        frame_finish(NULL, &slot->f);
    free(slot->name);
    *slot = (struct prefetch){.state = SLOT_FREE};
}

/* Does one piece of the pool's work (mu held): a chunk to stat, else a
 * directory to read ahead; false if there is none. */
static bool
do_work(struct stat_pool *p)
{
    struct frame *f;
    size_t c;
    struct prefetch *slot;
    if (take_chunk(p, &f, &c))
        run_chunk(p, f, c);
    else if ((slot = take_prefetch(p)))
        run_prefetch(p, slot);
    else
        return false;
    return true;
}

static void *
stat_main(void *arg)
{
    struct stat_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->quit)
        if (!do_work(p))
            pthread_cond_wait(&p->go, &p->mu);
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
    struct rlimit nofile;
    p->prefetch = getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
                  nofile.rlim_cur >= PREFETCH_MIN_NOFILE;
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
        for (size_t i = 0; i < PREFETCH_SLOTS; i++)
            slot_free(&p->slots[i]);   /* none left after a whole walk */
        pthread_cond_destroy(&p->go);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->mu);
        free(p->threads);
    }
    *p = (struct stat_pool){0};
}

/* Points the pool's threads at f's chunks not yet taken. */
static void
stat_offer(struct stat_pool *p, struct frame *f)
{
    if (!p->n_threads || f->ready == f->n)
        return;
    pthread_mutex_lock(&p->mu);
    p->f = f;
    p->next = 0;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
}

static void
stat_alloc(struct frame *f)
{
    f->st = xreallocarray(NULL, f->n ? f->n : 1, sizeof *f->st);
    f->st_errno = xcalloc(f->n ? f->n : 1, sizeof *f->st_errno);
    f->n_chunks = (f->n + STAT_CHUNK - 1) / STAT_CHUNK;
    f->chunk = xcalloc(f->n_chunks ? f->n_chunks : 1, 1);
}

/* Stats every name of f on this thread. */
static void
stat_all(struct frame *f)
{
    stat_alloc(f);
    stat_range(f, 0, f->n);
    memset(f->chunk, CHUNK_DONE, f->n_chunks);
    f->ready = f->n;
}

/* Begins statting every name of f. */
static void
stat_start(struct stat_pool *p, struct frame *f)
{
    if (!p->n_threads || f->n < STAT_PARALLEL_MIN) {
        stat_all(f);
        return;
    }
    stat_alloc(f);
    stat_offer(p, f);
}

/* Returns once name k of f is statted: by this thread when no other has
 * begun its chunk. */
static void
stat_need(struct stat_pool *p, struct frame *f, size_t k)
{
    if (k < f->ready)
        return;
    size_t c = k / STAT_CHUNK;
    pthread_mutex_lock(&p->mu);
    if (f->chunk[c] == CHUNK_TODO) {
        f->chunk[c] = CHUNK_TAKEN;
        run_chunk(p, f, c);
    }
    /* in progress elsewhere: do other work meanwhile, rather than sleep */
    while (f->chunk[c] != CHUNK_DONE)
        if (!do_work(p))
            wait_chunk(p);
    pthread_mutex_unlock(&p->mu);
    f->ready = (c + 1) * STAT_CHUNK < f->n ? (c + 1) * STAT_CHUNK : f->n;
}

/* Takes f from the pool before it goes: waits for its chunks in progress
 * (a walk that stops early leaves some). */
static void
stat_forget(struct stat_pool *p, struct frame *f)
{
    if (!p || !p->n_threads || !f->chunk)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->f == f)
        p->f = NULL;
    for (size_t c = 0; c < f->n_chunks; c++)
        while (f->chunk[c] == CHUNK_TAKEN)
            wait_chunk(p);
    if (p->pf_parent == f)
        p->pf_parent = NULL;
    for (size_t i = 0; i < PREFETCH_SLOTS; i++) {
        struct prefetch *slot = &p->slots[i];
        while (slot->state == SLOT_BUSY && slot->parent == f)
            wait_chunk(p);
        if (slot->state != SLOT_FREE && slot->parent == f)
            slot_free(slot);
    }
    pthread_mutex_unlock(&p->mu);
}

/* The walk enters subdirectory k of f: takes it over into *into if it
 * was read ahead (true), and lets the threads read the ones after it. */
static bool
stat_enter(struct stat_pool *p, struct frame *f, size_t k, struct frame *into)
{
    /* Not below a listing from the dirs cache: its subdirectories are
     * mostly settled too, and take a lookup each, less than waking a
     * thread for it costs. */
    if (!p->n_threads || !p->prefetch || f->block)
        return false;
    bool taken = false;
    pthread_mutex_lock(&p->mu);
    struct prefetch *slot = slot_of(p, f, k);
    /* in progress elsewhere: do other work meanwhile, rather than sleep */
    while (slot && slot->state == SLOT_BUSY)
        if (!do_work(p))
            wait_chunk(p);
    if (slot && slot->state == SLOT_READY) {
        *into = slot->f;
        free(slot->name);
        *slot = (struct prefetch){.state = SLOT_FREE};
        taken = true;
    } else if (slot) {
        slot_free(slot);
    }
    if (p->pf_parent != f || p->pf_next <= k) {
        p->pf_parent = f;
        p->pf_next = k + 1;
    }
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    return taken;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
frame_finish(struct stat_pool *p, struct frame *f)
{
    stat_forget(p, f);
    dirs_rec_finish(&f->rec);
    for (size_t i = f->next; i < f->n && !f->block; i++)
        free(f->names[i]);
    free(f->block);
    free(f->names);
    free(f->st);
    free(f->st_errno);
    free(f->chunk);
    free(f->path);
    if (f->fd >= 0)
        close(f->fd);
}

/*
 * Reads the sorted entry names of directory fd into f (taking fd); false
 * past max_names.  With getdents64() rather than fdopendir() and readdir():
 * those added a dup, an fstat and two fcntl calls to every directory, five
 * of its nine system calls, and the 1k corpus has a directory for every
 * one or two captures.
 */
static bool
frame_read(struct frame *f, int fd, const char *path, size_t max_names, struct sf_error *err)
{
    f->fd = fd;
    size_t cap = 0;
    _Alignas(struct dirent64) char buf[32768];
    ssize_t len;
    while ((len = getdents64(fd, buf, sizeof buf)) > 0) {
        for (size_t off = 0; off < (size_t)len;) {
            const struct dirent64 *e = (const void *)(buf + off);
            off += e->d_reclen;
            if (e->d_name[0] == '.')
                continue;   /* ".", "..", and hidden files: editors' temporaries, our state */
            if (f->n == max_names)
                return false;
            if (f->n == cap) {
                cap = cap ? cap * 2 : 64;
                f->names = xreallocarray(f->names, cap, sizeof *f->names);
            }
            f->names[f->n++] = xstrdup(e->d_name);
        }
    }
    if (len < 0) {
        error_set(err, path, 0, 0, "cannot read directory: %s", strerror(errno));
        return false;
    }
    if (f->n > 1)
        sf_sort(f->names, f->n, sizeof *f->names, cmp_names);
    return true;
}

/* Opens directory f (path) from its parent, if not yet open: a directory
 * entered with its lstat from the parent, not followed (only inputs that
 * do not follow links defer it). */
static int
frame_fd(struct frame *f, const char *path)
{
    if (f->fd < 0 && f->parent) {
        const char *slash = strrchr(path, '/');
        f->fd = openat(f->parent->fd, slash ? slash + 1 : path,
                       O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    }
    return f->fd;
}

/* Takes f's listing from the dirs cache, if it may be: names and stats,
 * but for its subdirectories, statted here. */
static bool
frame_cached(struct stat_pool *p, struct frame *f, const char *path, const struct stat *st)
{
    struct sf_dirs_listing l;
    if (!dirs_lookup(p->dirs, p->input, path, st, &l))
        return false;
    for (size_t i = 0; i < l.n; i++)
        if (S_ISDIR(l.st[i].st_mode) &&
            (frame_fd(f, path) < 0 ||
             fstatat(f->fd, l.names[i], &l.st[i], AT_SYMLINK_NOFOLLOW) != 0)) {
            /* A subdirectory that will not stat in a directory whose own
             * stat says nothing in it changed: the record is not what it
             * claims (or lost a race).  The walk lists it instead. */
            dirs_listing_finish(&l);
            return false;
        }
    f->block = l.block;
    f->names = l.names;
    f->st = l.st;
    f->n = l.n;
    l.block = NULL;
    l.names = NULL;
    l.st = NULL;
    l.n = 0;
    f->st_errno = xcalloc(f->n ? f->n : 1, sizeof *f->st_errno);
    f->n_chunks = (f->n + STAT_CHUNK - 1) / STAT_CHUNK;
    f->chunk = xcalloc(f->n_chunks ? f->n_chunks : 1, 1);
    memset(f->chunk, CHUNK_DONE, f->n_chunks);
    f->ready = f->n;
    dirs_rec_keep(&f->rec, &l);
    dirs_listing_finish(&l);
    return true;
}

/*
 * Lists directory f (opening it if need be), whose stat is st: from the
 * dirs cache when it may be, else its sorted entry names (false past
 * max_names), statted here (`here`) or by the pool.
 */
static bool
frame_list(struct stat_pool *p, struct frame *f, const char *path, const struct stat *st,
           size_t max_names, bool here, struct sf_error *err)
{
    f->recording = dirs_wanted(p->dirs, p->input);
    if (f->recording)
        dirs_rec_begin(&f->rec, p->input, path, st);
    if (f->recording && frame_cached(p, f, path, st))
        return true;
    if (frame_fd(f, path) < 0) {
        error_set(err, path, 0, 0, "cannot open directory: %s", strerror(errno));
        return false;
    }
    if (!frame_read(f, f->fd, path, max_names, err))
        return false;
    if (here)
        stat_all(f);
    else
        stat_start(p, f);
    return true;
}

/* Opens directory path (fd, taken, or -1: opened from parent when its
 * listing needs it; st is its stat), reads its sorted entry names and
 * stats them. */
static bool
frame_open(struct frame *f, int fd, const struct frame *parent, char *path, const struct stat *st,
           struct stat_pool *pool, unsigned long *serial, struct sf_error *err)
{
    *f = (struct frame){.fd = fd, .parent = parent, .path = path, .serial = ++*serial,
                        .dev = st->st_dev, .ino = st->st_ino};
    return frame_list(pool, f, path, st, SIZE_MAX, false, err);
}

int
ingest_dirfd(const struct sf_file *file)
{
    struct frame *f = file->frame;
    if (file->dirfd != -1 || !f)
        return file->dirfd;
    if (f->fd < 0 && f->parent) {
        /* listed from the cache, with the lstat its parent took: it must
         * still be that directory */
        struct stat st;
        if (frame_fd(f, f->path) >= 0 &&
            (fstat(f->fd, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino)) {
            close(f->fd);
            f->fd = -1;
        }
        f->parent = NULL;   /* tried once */
    }
    return f->fd;
}

/*
 * Whether name matches one of the input's globs.  The usual glob, a star
 * and a literal suffix ("*.txt"), is matched by comparing the suffix:
 * fnmatch() was 2.5% of a settled rerun's walk.  That is what fnmatch()
 * says for it (with FNM_PERIOD, a leading dot is not matched by the
 * star), since snapfeed keeps the C locale's byte-wise matching.
 */
static bool
glob_match(const struct sf_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_globs; i++) {
        const char *g = in->globs[i];
        if (g[0] == '*' && !strpbrk(g + 1, "*?[\\")) {
            size_t n = strlen(name), k = strlen(g + 1);
            if (name[0] != '.' && n >= k && memcmp(name + n - k, g + 1, k) == 0)
                return true;
        } else if (fnmatch(g, name, FNM_PERIOD) == 0) {
            return true;
        }
    }
    return false;
}

static char *
join_path(const char *dir, const char *name)
{
    /* by hand: once per file walked, and printf was 5% of a rerun */
    size_t n = strlen(dir), k = strlen(name);
    bool slash = !n || dir[n - 1] != '/';
    char *p = xmalloc(n + slash + k + 1);
    memcpy(p, dir, n);
    if (slash)
        p[n] = '/';
    memcpy(p + n + slash, name, k + 1);
    return p;
}

static bool
walk_dir(const struct sf_input *in, int rootfd, const struct stat *root_st,
         struct stat_pool *pool, unsigned long *serial, sf_file_fn fn, void *ctx, bool *stop,
         struct sf_error *err)
{
    struct frame stack[MAX_DIR_DEPTH + 1];
    size_t depth = 0;
    bool ok = true;
    if (!frame_open(&stack[depth++], rootfd, NULL, xstrdup(in->path), root_st, pool, serial,
                    err)) {
        frame_finish(pool, &stack[0]);
        return false;
    }
    while (depth && ok && !*stop) {
        struct frame *f = &stack[depth - 1];
        if (f->next == f->n) {
            if (f->recording)
                dirs_add(pool->dirs, &f->rec);   /* gone through whole */
            frame_finish(pool, f);
            if (--depth)
                stat_offer(pool, &stack[depth - 1]);   /* what is left of the parent */
            continue;
        }
        size_t k = f->next++;
        stat_need(pool, f, k);
        char *name = f->names[k];
        char *path = join_path(f->path, name);
        struct sf_file file = {.input = in, .dirfd = f->fd, .dir = f->serial, .name = name,
                               .path = path, .st = f->st[k], .frame = f};
        if (f->recording)
            dirs_rec_entry(&f->rec, name, &f->st[k], f->st_errno[k]);
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
            /* first, so that no thread reads it ahead once passed */
            bool ahead = !S_ISLNK(f->st[k].st_mode) && stat_enter(pool, f, k, &stack[depth]);
            bool enter = true;
            for (size_t i = 0; i < depth; i++)
                if (stack[i].dev == file.st.st_dev && stack[i].ino == file.st.st_ino)
                    enter = false;  /* a link back up: a loop */
            if (enter && depth == MAX_DIR_DEPTH) {
                error_set(err, path, 0, 0, "directories nested deeper than %d levels",
                          MAX_DIR_DEPTH);
                ok = enter = false;
            }
            if (!enter) {
                if (ahead)
                    frame_finish(pool, &stack[depth]);
                goto next;
            }
            if (ahead) {
                stack[depth].parent = f;
                stack[depth].path = path;
                stack[depth].serial = ++*serial;
                depth++;
                path = NULL;
                goto next_nopath;
            }
            /* A directory the dirs cache may list is opened only if its
             * listing is not there or has subdirectories to stat: a
             * settled rerun enters a thousand directories it reads
             * nothing from.  One reached through a link is opened now,
             * following it. */
            int fd = -1;
            if (in->follow_symlinks || !dirs_wanted(pool->dirs, pool->input)) {
                fd = openat(f->fd, name,
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                (in->follow_symlinks ? 0 : O_NOFOLLOW));
                if (fd < 0) {
                    error_set(err, path, 0, 0, "cannot open directory: %s", strerror(errno));
                    ok = false;
                    goto next;
                }
            }
            if (!frame_open(&stack[depth], fd, f, path, &file.st, pool, serial, err)) {
                frame_finish(pool, &stack[depth]);
                ok = false;
                path = NULL;
                goto next_nopath;
            }
            depth++;
            path = NULL;   /* the frame owns it */
            goto next_nopath;
        }
        /* A FIFO, device or socket the glob matches is handed on too, to
         * be refused by name: skipped in silence, it would look like a
         * capture that was read and came to nothing. */
        if (glob_match(in, name))
            *stop = !fn(ctx, &file);
    next:
        free(path);
    next_nopath:
        if (!f->block)
            free(name);
    }
    while (depth)
        frame_finish(pool, &stack[--depth]);
    return ok;
}

bool
ingest_walk(const struct sf_config *c, unsigned threads, struct sf_dirs *dirs, sf_file_fn fn,
            void *ctx, struct sf_error *err)
{
    bool stop = false, ok = true;
    unsigned long serial = 0;
    struct stat_pool pool;
    stat_pool_start(&pool, threads);
    pool.dirs = dirs;
    for (size_t i = 0; i < c->n_inputs && !stop && ok; i++) {
        const struct sf_input *in = &c->inputs[i];
        pool.input = (uint32_t)i;   /* no thread reads ahead between inputs */
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
        ok = walk_dir(in, fd, &st, &pool, &serial, fn, ctx, &stop, err);
    }
    stat_pool_stop(&pool);
    return ok;
}

/* ---- reading ---------------------------------------------------------- */

struct sf_ingest_reader {
    const struct sf_config *config;
    struct sf_zone zone;        /* JSON Lines times; the parsers keep their own */
    struct sf_buf data;         /* a whole capture or page */
    struct sf_buf line;         /* JSON Lines: the unfinished line and what was read after it */
    struct sf_buf decoded;      /* a JSON line decoded from GB18030 */
    struct sf_capture_parser *capture;
    struct sf_htmlpage_parser *html;
    struct sf_errors warn;
    struct sf_error err;
    bool skip_lists;
};

struct sf_ingest_reader *
ingest_reader_new(const struct sf_config *c, const struct sf_zone *z, bool skip_lists)
{
    struct sf_ingest_reader *r = xcalloc(1, sizeof *r);
    r->config = c;
    when_zone_copy(&r->zone, z);
    buf_init(&r->data, SF_MAX_CAPTURE_SIZE + 1);
    /* a whole line, plus the chunk read after it */
    buf_init(&r->line, SF_MAX_JSONL_LINE + SF_JSONL_CHUNK);
    buf_init(&r->decoded, SF_MAX_JSONL_LINE / 2 * 3);
    r->capture = capture_parser_new(z);
    r->html = htmlpage_parser_new(z);
    r->skip_lists = skip_lists;
    return r;
}

void
ingest_reader_free(struct sf_ingest_reader *r)
{
    if (!r)
        return;
    buf_finish(&r->data);
    buf_finish(&r->line);
    buf_finish(&r->decoded);
    capture_parser_free(r->capture);
    htmlpage_parser_free(r->html);
    errors_finish(&r->warn);
    error_finish(&r->err);
    free(r);
}

/*
 * Links are followed only where the walk followed them: everywhere with
 * inputs[].follow_symlinks, else only the configured path itself (it was
 * chosen; an input without a path is `snapfeed parse FILE`'s).  The second pass opens files again by path, and a file swapped
 * for a link since the walk must not lead it out of the input.
 */
static bool
may_follow(const struct sf_input *in, const char *path)
{
    return in->follow_symlinks || !in->path || strcmp(path, in->path) == 0;
}

/*
 * Opens a regular file for reading, its stat in *st; -1 with err set
 * otherwise.  hint, when not NULL, is the walk's stat of it: a file that
 * is not regular is refused unopened; otherwise, unless links are
 * followed, opening without following links or blocking keeps a file
 * swapped since then harmless, and no fstat is needed.
 */
static int
open_regular(int dirfd, const char *name, const char *path, const struct stat *hint, bool follow,
             struct stat *st, struct sf_error *err)
{
    /* Not even opened: opening a device can have effects (a tape
     * rewinds), and a FIFO would be read as an empty capture. */
    if (hint && !S_ISREG(hint->st_mode)) {
        error_set(err, path, 0, 0, "not a regular file");
        return -1;
    }
    /* O_NONBLOCK: a FIFO swapped in since the walk must not hang the run. */
    int fd = openat(dirfd, name,
                    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        error_set(err, path, 0, 0, "cannot open: %s",
                  errno == ELOOP && !follow ? "it is a symbolic link" : strerror(errno));
        return -1;
    }
    if (hint && !follow) {
        *st = *hint;
    } else if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        error_set(err, path, 0, 0, "not a regular file");
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads a whole file of at most limit bytes into b. */
static bool
read_file(int dirfd, const char *name, const char *path, const struct stat *hint, bool follow,
          struct sf_buf *b, size_t limit, struct sf_error *err)
{
    buf_clear(b);
    struct stat st;
    int fd = open_regular(dirfd, name, path, hint, follow, &st, err);
    if (fd < 0)
        return false;
    bool ok = false;
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

/* ---- JSON Lines --------------------------------------------------------- */

static void
too_long(struct sf_ingest_reader *r, const char *path, unsigned lineno,
         const struct sf_ingest_cb *cb)
{
    error_set(&r->err, path, lineno, 0, "line longer than %u bytes; skipped", SF_MAX_JSONL_LINE);
    cb->problem(cb->ctx, &r->err, false);
}

/*
 * One line of a JSON Lines file, starting at byte off: blank lines are
 * skipped, anything else is a record or costs only itself.
 */
static size_t
jsonl_line(struct sf_ingest_reader *r, const struct sf_input *in, const char *path, const char *s,
           size_t n, unsigned lineno, uint64_t off, const struct sf_ingest_cb *cb)
{
    if (off == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    size_t i = 0, bad = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    if (i == n)
        return 0;
    if (in->encoding == SF_ENC_GB18030 ||
        (in->encoding == SF_ENC_AUTO && !text_utf8_valid(s, n, &bad))) {
        /* JSON is UTF-8, but the crawlers that write GB18030 captures
         * write their JSON in it too; each line is judged alone. */
        buf_clear(&r->decoded);
        size_t bad_gb = 0;
        if (!text_gb18030_to_utf8(s, n, &r->decoded, &bad_gb)) {
            bool gb = in->encoding == SF_ENC_GB18030;
            size_t at = gb ? bad_gb : bad;
            error_set(&r->err, path, lineno, (unsigned)text_utf8_count(s, at) + 1, "%s",
                      gb ? "not valid GB18030" : "neither UTF-8 nor GB18030");
            cb->problem(cb->ctx, &r->err, false);
            return 0;
        }
        s = r->decoded.data;
        n = r->decoded.len;
    }
    struct sf_json_opts o = {
        .zone = &r->zone,
        .default_category = in->category,
        .site_host = r->config->site.host,
        .skip_lists = r->skip_lists,
    };
    struct sf_record *rec = record_from_json(s, n, &o, path, lineno, &r->err, &r->warn);
    report_warnings(r, cb);
    if (!rec) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    rec->offset = off;
    cb->record(cb->ctx, rec);
    return 1;
}

/*
 * Streams a JSON Lines file: read in chunks, each line handed to
 * jsonl_line() as soon as it is complete.  Only the unfinished line is
 * kept, and a line that grows past SF_MAX_JSONL_LINE is dropped as it is
 * read, so memory stays bounded by the line limit, however large the file.
 */
static size_t
ingest_jsonl(struct sf_ingest_reader *r, const struct sf_input *in, int dirfd, const char *name,
             const char *path, const struct stat *hint, const struct sf_ingest_cb *cb)
{
    size_t count = 0;
    struct stat st;
    int fd = open_regular(dirfd, name, path, hint, may_follow(in, path), &st, &r->err);
    if (fd < 0) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    struct sf_buf *b = &r->line;
    buf_clear(b);
    uint64_t base = 0;      /* the file offset of b->data[0] */
    size_t start = 0;       /* where the unfinished line starts in b */
    unsigned lineno = 1;
    bool skipping = false;  /* inside a line past the limit, dropped as it comes */
    for (;;) {
        /* Cannot fail: b never holds more than a line and a chunk. */
        char *dst = buf_reserve(b, SF_JSONL_CHUNK);
        ssize_t got = dst ? read(fd, dst, SF_JSONL_CHUNK) : -1;
        if (got < 0) {
            if (dst && errno == EINTR)
                continue;
            error_set(&r->err, path, lineno, 0, "cannot read: %s",
                      dst ? strerror(errno) : "line too long");
            cb->problem(cb->ctx, &r->err, false);
            break;
        }
        if (got == 0) {
            /* the last line may lack its newline */
            if (skipping || b->len - start > SF_MAX_JSONL_LINE)
                too_long(r, path, lineno, cb);
            else if (b->len > start)
                count += jsonl_line(r, in, path, b->data + start, b->len - start, lineno,
                                    base + start, cb);
            break;
        }
        size_t scan = b->len;
        buf_commit(b, (size_t)got);
        const char *nl;
        while ((nl = memchr(b->data + scan, '\n', b->len - scan)) != NULL) {
            size_t end = (size_t)(nl - b->data);
            if (skipping || end - start > SF_MAX_JSONL_LINE) {
                too_long(r, path, lineno, cb);
                skipping = false;
            } else {
                count += jsonl_line(r, in, path, b->data + start, end - start, lineno,
                                    base + start, cb);
            }
            lineno++;
            start = scan = end + 1;
        }
        size_t rest = b->len - start;
        if (skipping || rest > SF_MAX_JSONL_LINE) {
            skipping = true;
            base += b->len;
            b->len = start = 0;
        } else if (start) {
            memmove(b->data, b->data + start, rest);
            base += start;
            b->len = rest;
            start = 0;
        }
    }
    close(fd);
    return count;
}

/* Reads again the one line of a JSON Lines file at byte off. */
static size_t
jsonl_at(struct sf_ingest_reader *r, const struct sf_input *in, const char *path, uint64_t off,
         unsigned lineno, const struct sf_ingest_cb *cb)
{
    size_t count = 0;
    struct stat st;
    int fd = open_regular(AT_FDCWD, path, path, NULL, may_follow(in, path), &st, &r->err);
    if (fd < 0) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    struct sf_buf *b = &r->line;
    buf_clear(b);
    const char *nl = NULL;
    while (!nl) {
        char *dst = b->len <= SF_MAX_JSONL_LINE ? buf_reserve(b, SF_JSONL_CHUNK) : NULL;
        if (!dst) {
            too_long(r, path, lineno, cb);
            goto out;
        }
        ssize_t got = pread(fd, dst, SF_JSONL_CHUNK, (off_t)(off + b->len));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            error_set(&r->err, path, lineno, 0, "cannot read: %s", strerror(errno));
            cb->problem(cb->ctx, &r->err, false);
            goto out;
        }
        if (got == 0)
            break;
        size_t scan = b->len;
        buf_commit(b, (size_t)got);
        nl = memchr(b->data + scan, '\n', b->len - scan);
    }
    size_t n = nl ? (size_t)(nl - b->data) : b->len;
    if (n > SF_MAX_JSONL_LINE)
        too_long(r, path, lineno, cb);
    else
        count = jsonl_line(r, in, path, b->data ? b->data : "", n, lineno, off, cb);
out:
    close(fd);
    return count;
}

/* ---- dispatch ---------------------------------------------------------- */

size_t
ingest_file(struct sf_ingest_reader *r, const struct sf_input *in, int dirfd, const char *name,
            const char *path, const struct stat *st, const struct sf_ingest_cb *cb)
{
    if (in->format == SF_INPUT_JSONL)
        return ingest_jsonl(r, in, dirfd, name, path, st, cb);
    if (!read_file(dirfd, name, path, st, may_follow(in, path), &r->data, SF_MAX_CAPTURE_SIZE,
                   &r->err)) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    const char *data = r->data.data ? r->data.data : "";
    struct sf_record *rec = NULL;
    if (in->format == SF_INPUT_HTML) {
        struct sf_htmlpage_opts opts = {
            .encoding = in->encoding,
            .default_category = in->category,
            .site_host = r->config->site.host,
        };
        rec = htmlpage_parse(r->html, path, data, r->data.len, &opts, &r->err, &r->warn);
    } else {
        struct sf_capture_opts opts = {
            .encoding = in->encoding,
            .default_category = in->category,
            .site_host = r->config->site.host,
            .skip_lists = r->skip_lists,
        };
        rec = capture_parse(r->capture, path, data, r->data.len, &opts, &r->err, &r->warn);
    }
    report_warnings(r, cb);
    if (!rec) {
        cb->problem(cb->ctx, &r->err, false);
        return 0;
    }
    cb->record(cb->ctx, rec);
    return 1;
}

size_t
ingest_record_at(struct sf_ingest_reader *r, const struct sf_input *in, const char *path,
                 uint64_t offset, unsigned line, const struct sf_ingest_cb *cb)
{
    if (in->format == SF_INPUT_JSONL)
        return jsonl_at(r, in, path, offset, line, cb);
    return ingest_file(r, in, AT_FDCWD, path, path, NULL, cb);
}
