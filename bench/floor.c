/* SPDX-License-Identifier: MIT */
/* floor.c - read every regular file under a tree once: the benchmark's floor */

/*
 * Whatever snapfeed does with a corpus, it has to walk the tree and read
 * each capture at least once (on a cold build). This program does only
 * that - single-threaded, one reused buffer, no parsing - so the benchmark
 * can report snapfeed's time as a multiple of it.
 *
 * usage: floor [--stat [--threads N]] DIR
 * prints: files=N bytes=B dirs=D seconds=S
 *
 * With --stat each file is statted instead of read: the least a rerun
 * must do to notice what changed (bytes= then sums the sizes).  With
 * --threads N, N threads list and stat the directories, taking whole
 * directories from a shared stack and never waiting on each other
 * otherwise: the least a rerun on N CPUs can cost.
 */

/* d_type and the DT_* constants are not POSIX; they save a stat per entry,
 * which is what a careful walker does. (The project may define this too.) */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_BUF_SIZE (256u * 1024u)
#define FLOOR_PATH_MAX 4096u

struct stat_stack;

struct floor_walk {
    uint64_t files;
    uint64_t bytes;
    uint64_t dirs;
    unsigned errors;
    bool stat_only;             /* --stat */
    char *buf;                  /* reused for every read() */
    char path[FLOOR_PATH_MAX];  /* of the directory being read, for messages */
    size_t path_len;
    struct stat_stack *stack;   /* --threads: subdirectories go there, not walked here */
};

static void push_dir(struct stat_stack *s, const char *path, size_t len);

static void
report(struct floor_walk *w, const char *name, const char *what, int err)
{
    fprintf(stderr, "floor: %.*s/%s: %s: %s\n", (int)w->path_len, w->path, name, what,
            strerror(err));
    w->errors++;
}

/* Reads the file to its end; adds its size. */
static void
read_file(struct floor_walk *w, int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        report(w, name, "cannot open", errno);
        return;
    }
    for (;;) {
        ssize_t n = read(fd, w->buf, FLOOR_BUF_SIZE);
        if (n > 0) {
            w->bytes += (uint64_t)n;
            continue;
        }
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        report(w, name, "read failed", errno);
        break;
    }
    w->files++;
    close(fd);
}

/* Appends "/name" to w->path; false if it would not fit. */
static bool
path_push(struct floor_walk *w, const char *name, size_t *saved)
{
    size_t n = strlen(name);
    *saved = w->path_len;
    if (n + 2 > sizeof(w->path) - w->path_len)
        return false;
    w->path[w->path_len++] = '/';
    memcpy(w->path + w->path_len, name, n);
    w->path_len += n;
    return true;
}

/* Walks the directory open as fd (takes ownership of fd). */
static void
walk(struct floor_walk *w, int fd)
{
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        report(w, ".", "cannot read directory", errno);
        close(fd);
        return;
    }
    w->dirs++;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                report(w, ".", "cannot read directory", errno);
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;

        unsigned char type = de->d_type;
        if (type == DT_UNKNOWN) {
            /* Some file systems do not fill d_type. */
            struct stat st;
            if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                report(w, name, "cannot stat", errno);
                continue;
            }
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (type == DT_REG && w->stat_only) {
            struct stat st;
            if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                report(w, name, "cannot stat", errno);
                continue;
            }
            w->files++;
            w->bytes += (uint64_t)st.st_size;
        } else if (type == DT_REG) {
            read_file(w, dirfd(dir), name);
        } else if (type == DT_DIR && w->stack) {
            size_t saved;
            if (!path_push(w, name, &saved)) {
                report(w, name, "path too long", ENAMETOOLONG);
                continue;
            }
            push_dir(w->stack, w->path, w->path_len);
            w->path_len = saved;
        } else if (type == DT_DIR) {
            int sub = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                report(w, name, "cannot open directory", errno);
                continue;
            }
            size_t saved;
            if (!path_push(w, name, &saved)) {
                report(w, name, "path too long", ENAMETOOLONG);
                close(sub);
                continue;
            }
            walk(w, sub);
            w->path_len = saved;
        }
        /* Symbolic links, sockets, devices: not captures. */
    }
    closedir(dir);
}


/* ---- --stat --threads N --------------------------------------------- */

struct stat_stack {
    pthread_mutex_t mu;
    pthread_cond_t more;
    char **dirs;        /* paths of directories not read yet */
    size_t n, cap;
    unsigned busy;      /* threads reading a directory: they may push more */
    bool failed;        /* out of memory */
};

struct stat_worker {
    pthread_t thread;
    struct floor_walk w;    /* its counts; walk() pushes subdirectories */
};

/* Pushes the first len bytes of path for a thread to take. */
static void
push_dir(struct stat_stack *s, const char *path, size_t len)
{
    char *dir = strndup(path, len);
    pthread_mutex_lock(&s->mu);
    char **d = NULL;
    if (dir && s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        d = realloc(s->dirs, cap * sizeof *d);
        if (d) {
            s->dirs = d;
            s->cap = cap;
        }
    }
    if (dir && s->n < s->cap) {
        s->dirs[s->n++] = dir;
        pthread_cond_signal(&s->more);
    } else {
        free(dir);
        s->failed = true;
        pthread_cond_broadcast(&s->more);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *
stat_main(void *arg)
{
    struct stat_worker *k = arg;
    struct stat_stack *s = k->w.stack;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->n && s->busy && !s->failed)
            pthread_cond_wait(&s->more, &s->mu);
        if (!s->n || s->failed)
            break;  /* nothing left, and nobody who could add to it */
        char *dir = s->dirs[--s->n];
        s->busy++;
        pthread_mutex_unlock(&s->mu);
        size_t n = strlen(dir);
        memcpy(k->w.path, dir, n);  /* fits: pushed from such a buffer */
        k->w.path_len = n;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            report(&k->w, ".", "cannot open directory", errno);
        else
            walk(&k->w, fd);
        free(dir);
        pthread_mutex_lock(&s->mu);
        if (--s->busy == 0 && !s->n)
            pthread_cond_broadcast(&s->more);
    }
    pthread_cond_broadcast(&s->more);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* `floor --stat` on n threads over the tree at root. */
static bool
stat_parallel(struct floor_walk *w, const char *root, unsigned n)
{
    struct stat_stack s = {0};
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.more, NULL);
    push_dir(&s, root, strlen(root));
    struct stat_worker *workers = calloc(n, sizeof *workers);
    unsigned started = 0;
    for (unsigned i = 0; workers && !s.failed && i < n; i++) {
        workers[i].w = (struct floor_walk){.stat_only = true, .stack = &s};
        if (pthread_create(&workers[i].thread, NULL, stat_main, &workers[i]) != 0)
            break;
        started++;
    }
    if (started < n) {
        pthread_mutex_lock(&s.mu);
        s.failed = true;
        pthread_cond_broadcast(&s.more);
        pthread_mutex_unlock(&s.mu);
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        w->files += workers[i].w.files;
        w->bytes += workers[i].w.bytes;
        w->dirs += workers[i].w.dirs;
        w->errors += workers[i].w.errors;
    }
    if (s.failed)
        fputs("floor: cannot allocate memory or start a thread\n", stderr);
    for (size_t i = 0; i < s.n; i++)
        free(s.dirs[i]);
    free(s.dirs);
    free(workers);
    pthread_cond_destroy(&s.more);
    pthread_mutex_destroy(&s.mu);
    return !s.failed;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    struct floor_walk w = {0};
    int status = 1;

    unsigned threads = 1;
    if (argc >= 3 && strcmp(argv[1], "--stat") == 0) {
        w.stat_only = true;
        argv++;
        argc--;
        if (argc == 4 && strcmp(argv[1], "--threads") == 0) {
            char *end;
            unsigned long n = strtoul(argv[2], &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "floor: --threads: '%s' is not a number from 1 to 256\n", argv[2]);
                return 2;
            }
            threads = (unsigned)n;
            argv += 2;
            argc -= 2;
        }
    }
    if (argc != 2 || argv[1][0] == '-') {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fputs("usage: floor [--stat [--threads N]] DIR\n", help ? stdout : stderr);
        return help ? 0 : 2;
    }
    size_t root_len = strlen(argv[1]);
    if (root_len >= sizeof(w.path)) {
        fprintf(stderr, "floor: %s: path too long\n", argv[1]);
        return 1;
    }
    memcpy(w.path, argv[1], root_len);
    w.path_len = root_len;
    w.buf = malloc(FLOOR_BUF_SIZE);
    if (w.buf == NULL) {
        fputs("floor: cannot allocate memory\n", stderr);
        return 1;
    }

    double start = now_seconds();
    int fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "floor: %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    if (threads > 1) {
        close(fd);  /* the threads open it again, by its path */
        if (!stat_parallel(&w, argv[1], threads))
            goto out;
    } else {
        walk(&w, fd);
    }
    double elapsed = now_seconds() - start;

    printf("files=%" PRIu64 " bytes=%" PRIu64 " dirs=%" PRIu64 " seconds=%.3f\n", w.files,
           w.bytes, w.dirs, elapsed);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "floor: <stdout>: %s\n", strerror(errno));
        goto out;
    }
    status = w.errors == 0 ? 0 : 1;

out:
    free(w.buf);
    return status;
}
