/* SPDX-License-Identifier: MIT */
/* util.c - allocation policy, growable buffers, hashing, errors */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long fail_after;   /* test hook; 0 = never */
static unsigned long alloc_count;

void
util_fail_allocation_after(unsigned long n)
{
    fail_after = n;
    alloc_count = 0;
}

void
util_out_of_memory(size_t n)
{
    /* No stdio: it may need memory itself.  _exit, not exit: atexit
     * handlers and stdio flushes might allocate, and other threads may be
     * mid-way through anything. */
    char msg[64];
    int len = snprintf(msg, sizeof msg, "snapfeed: out of memory (%zu bytes)\n", n);
    if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
        /* nothing left to report to */
    }
    _exit(SF_OOM_STATUS);
}

static bool
injected_failure(void)
{
    return fail_after != 0 && ++alloc_count >= fail_after;
}

void *
xmalloc(size_t n)
{
    void *p = injected_failure() ? NULL : malloc(n ? n : 1);
    if (!p)
        util_out_of_memory(n);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = injected_failure() ? NULL : calloc(n ? n : 1, size ? size : 1);
    if (!p)
        util_out_of_memory(n * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = injected_failure() ? NULL : realloc(p, n ? n : 1);
    if (!q)
        util_out_of_memory(n);
    return q;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        util_out_of_memory(SIZE_MAX);
    return xrealloc(p, n * size);
}

char *
xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

SF_PRINTF(1, 0) static char *
xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *s = xmalloc((size_t)n + 1);
    if (vsnprintf(s, (size_t)n + 1, fmt, ap) < 0)
        s[0] = '\0';
    return s;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

bool
path_inside(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 &&
           (path[n] == '\0' || path[n] == '/' || dir[n - 1] == '/');
}

void
buf_init(struct sf_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : SIZE_MAX / 2;
}

void
buf_finish(struct sf_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
buf_clear(struct sf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *
buf_reserve(struct sf_buf *b, size_t n)
{
    if (n > b->limit || b->len > b->limit - n)
        return NULL;
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
        b->data[b->len] = '\0';
    }
    return b->data + b->len;
}

void
buf_commit(struct sf_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

int
buf_read_fd(struct sf_buf *b, int fd)
{
    for (;;) {
        size_t room = b->limit - b->len, want = room < 65536 ? room : 65536;
        char probe = 0;
        /* At the limit one byte more is asked for, into a probe: the end of
         * the file there is a file exactly at the limit. */
        char *dst = want ? buf_reserve(b, want) : &probe;
        ssize_t r = read(fd, dst, want ? want : 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 1;
        if (!want)
            return 0;
        buf_commit(b, (size_t)r);
    }
}

bool
buf_window_need(struct sf_buf *b, size_t *pos, uint64_t *base, int fd, size_t n)
{
    if (b->len - *pos >= n)
        return true;
    /* only now, with less than n bytes left to move (the whole window
     * moved at every 64 KiB had been 8% of a settled rerun) */
    if (*pos > 0) {
        memmove(b->data, b->data + *pos, b->len - *pos);
        if (base)
            *base += *pos;
        b->len -= *pos;
        *pos = 0;
    }
    while (b->len - *pos < n) {
        char *dst = buf_reserve(b, 65536);
        ssize_t r = dst ? read(fd, dst, 65536) : -1;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        buf_commit(b, (size_t)r);
    }
    return true;
}

bool
buf_append(struct sf_buf *b, const void *p, size_t n)
{
    char *dst = buf_reserve(b, n);
    if (!dst)
        return false;
    if (n)
        memcpy(dst, p, n);
    buf_commit(b, n);
    return true;
}

bool
buf_append_str(struct sf_buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool
buf_append_char(struct sf_buf *b, char c)
{
    return buf_append(b, &c, 1);
}

bool
buf_printf(struct sf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    bool ok = buf_append_str(b, s);
    free(s);
    return ok;
}

char *
buf_steal(struct sf_buf *b, size_t *len)
{
    if (!b->data)
        buf_reserve(b, 0);
    char *s = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void
buf_put_u8(struct sf_buf *b, uint8_t v)
{
    buf_append(b, &v, 1);
}

void
buf_put_u32(struct sf_buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    buf_append(b, c, 4);
}

void
buf_put_u64(struct sf_buf *b, uint64_t v)
{
    buf_put_u32(b, (uint32_t)v);
    buf_put_u32(b, (uint32_t)(v >> 32));
}

void
buf_put_str(struct sf_buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_put_u32(b, (uint32_t)n);
    buf_append(b, s, n);
}

size_t
cursor_str(struct sf_cursor *c, struct sf_buf *out)
{
    uint32_t n = cursor_u32(c);
    const unsigned char *p = cursor_bytes(c, n);
    size_t off = out->len;
    if (!p || memchr(p, '\0', n)) {
        c->bad = true;
        n = 0;   /* an empty string in its place */
    }
    char *dst = buf_reserve(out, (size_t)n + 1);
    if (!dst) {
        c->bad = true;   /* out's limit: no string to point at */
        return off;
    }
    if (n)
        memcpy(dst, p, n);
    dst[n] = '\0';
    buf_commit(out, (size_t)n + 1);
    return off;
}

uint64_t
hash_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static inline uint64_t
mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xD6E8FEB86659FD93);
    x ^= x >> 32;
    return x;
}

uint64_t
hash_words(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    h ^= (uint64_t)n * UINT64_C(0x9E3779B97F4A7C15);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ mix64(w * UINT64_C(0xBF58476D1CE4E5B9))) * UINT64_C(0x94D049BB133111EB);
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ mix64(w * UINT64_C(0xBF58476D1CE4E5B9) + n)) * UINT64_C(0x94D049BB133111EB);
    return mix64(h);
}

static inline uint64_t
load64(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* The 128-bit product folded to 64 bits. */
__extension__ typedef unsigned __int128 sf_u128;

static inline uint64_t
fold_mul(uint64_t a, uint64_t b)
{
    sf_u128 r = (sf_u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static const uint64_t sum_keys[6] = {
    UINT64_C(0xdccdb506bec318e7), UINT64_C(0xfeefdd2c7cf9b98d), UINT64_C(0x45c6fe2740fe4c31),
    UINT64_C(0x96847ef72bd45225), UINT64_C(0x869a56cd115d91d1), UINT64_C(0x4a07a46b49ef1027),
};

/* One 16-byte step of a lane.  The lane is added back, so that a word
 * that zeroes the product cannot wipe out what came before. */
static inline uint64_t
sum_step(uint64_t v, const unsigned char *s, uint64_t key)
{
    return fold_mul(load64(s) ^ v, load64(s + 8) ^ key) + v;
}

uint64_t
sum64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t v[4];
    for (int i = 0; i < 4; i++)
        v[i] = h ^ sum_keys[i];
    size_t left = n;
    while (left >= 64) {
        for (int i = 0; i < 4; i++)
            v[i] = sum_step(v[i], s + 16 * i, sum_keys[i]);
        s += 64;
        left -= 64;
    }
    while (left >= 16) {
        v[0] = sum_step(v[0], s, sum_keys[0]);
        s += 16;
        left -= 16;
    }
    unsigned char tail[16] = {0};
    if (left)
        memcpy(tail, s, left);
    v[1] = sum_step(v[1], tail, sum_keys[1] ^ left);
    uint64_t r = fold_mul(v[0] ^ sum_keys[4], v[1] ^ (uint64_t)n) ^
                 fold_mul(v[2] ^ sum_keys[5], v[3] ^ sum_keys[0]);
    return mix64(r);
}

void
sum_add(struct sf_sum *s, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n) {
        if (!s->n && n >= SF_SUM_BLOCK) {
            s->h = sum64(s->h, c, SF_SUM_BLOCK);
            c += SF_SUM_BLOCK;
            n -= SF_SUM_BLOCK;
            continue;
        }
        size_t k = SF_SUM_BLOCK - s->n < n ? SF_SUM_BLOCK - s->n : n;
        memcpy(s->block + s->n, c, k);
        s->n += k;
        c += k;
        n -= k;
        if (s->n == SF_SUM_BLOCK) {
            s->h = sum64(s->h, s->block, SF_SUM_BLOCK);
            s->n = 0;
        }
    }
}

uint64_t
sum_end(const struct sf_sum *s)
{
    return sum64(s->h, s->block, s->n);
}

SF_PRINTF(5, 0) static void
error_vset(struct sf_error *err, const char *path, unsigned line, unsigned col,
           const char *fmt, va_list ap)
{
    free(err->path);
    free(err->msg);
    err->path = path ? xstrdup(path) : NULL;
    err->line = line;
    err->col = col;
    err->msg = xvasprintf(fmt, ap);
}

void
error_set(struct sf_error *err, const char *path, unsigned line, unsigned col,
          const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, path, line, col, fmt, ap);
    va_end(ap);
}

void
error_finish(struct sf_error *err)
{
    if (!err)
        return;
    free(err->path);
    free(err->msg);
    err->path = err->msg = NULL;
    err->line = err->col = 0;
}

char *
error_format(const struct sf_error *err)
{
    const char *msg = err->msg ? err->msg : "unknown error";
    if (!err->path)
        return xstrdup(msg);
    if (err->line && err->col)
        return xasprintf("%s:%u:%u: %s", err->path, err->line, err->col, msg);
    if (err->line)
        return xasprintf("%s:%u: %s", err->path, err->line, msg);
    return xasprintf("%s: %s", err->path, msg);
}

void
errors_add(struct sf_errors *l, const char *path, unsigned line, unsigned col,
           const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
    }
    struct sf_error *e = &l->v[l->n++];
    *e = (struct sf_error){0};
    va_list ap;
    va_start(ap, fmt);
    error_vset(e, path, line, col, fmt, ap);
    va_end(ap);
}

void
errors_clear(struct sf_errors *l)
{
    for (size_t i = 0; i < l->n; i++)
        error_finish(&l->v[i]);
    l->n = 0;
}

void
errors_finish(struct sf_errors *l)
{
    errors_clear(l);
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

void
run_threads(size_t n, void *(*fn)(void *), void *arg)
{
    pthread_t *threads = xcalloc(n ? n : 1, sizeof *threads);
    size_t started = 0;
    /* this thread takes part; one that cannot start is not needed */
    while (started + 1 < n && pthread_create(&threads[started], NULL, fn, arg) == 0)
        started++;
    fn(arg);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
}
