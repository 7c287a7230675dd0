/* SPDX-License-Identifier: MIT */
/* util.h - allocation policy, growable buffers, hashing, errors */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define SF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SF_NORETURN __attribute__((noreturn))
#define SF_FALLTHROUGH __attribute__((fallthrough))
#define SF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* qsort() for arrays that may be empty: an empty one is often NULL, and
 * qsort's pointer must never be (UBSan says so; libc may rely on it). */
static inline void
sf_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(v, n, size, cmp);
}

/*
 * Out-of-memory policy: every allocation goes through these wrappers, which
 * print one line ("snapfeed: out of memory (N bytes)") and end the process
 * with status SF_OOM_STATUS.  Nothing that allocates returns NULL, so
 * callers never check.  Memory use is bounded by design (see
 * docs/design.md), so running out means the machine is in trouble, not that
 * one input was too big: inputs are refused by the limits in limits.h long
 * before that.  Ending there loses nothing already written: feeds are only
 * ever renamed into place whole, and the next run starts over.  libxml2
 * and jansson allocate through these wrappers too (render_init(),
 * record_init()); libyaml's and iconv's failures are routed to
 * util_out_of_memory().  The status is not abort()'s: a core dump of a
 * process that ran out of memory helps no one, and a crash stays
 * distinguishable from a machine short of memory.
 */
#define SF_OOM_STATUS 4
void *xmalloc(size_t n);
/* Prints the line and ends the process; for libraries that report an
 * allocation failure instead of calling our wrappers. */
SF_NORETURN void util_out_of_memory(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Like xrealloc for n * size, aborting on overflow. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string formatted like printf; free with free(). */
char *xasprintf(const char *fmt, ...) SF_PRINTF(1, 2);

/* Whether path is dir or below it, as written (no link resolved; dir's
 * trailing slashes do not count, and every absolute path is below "/"). */
bool path_inside(const char *path, const char *dir);

/* Test hook: when set, the allocation with this 1-based number fails. */
void util_fail_allocation_after(unsigned long n);

/*
 * A growable byte buffer.  It always has room for a terminating NUL, so
 * `data` can be used as a C string after any append.  `limit` bounds the
 * length: an append that would pass it fails (returns false) and leaves the
 * buffer as it was, so input can never make a buffer grow without end.
 */
struct sf_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
};

/* Initializes an empty buffer; limit 0 means SIZE_MAX / 2.  Cannot fail. */
void buf_init(struct sf_buf *b, size_t limit);
/* Frees the storage; the buffer can be initialized again. */
void buf_finish(struct sf_buf *b);
/* Empties the buffer and keeps its storage for reuse. */
void buf_clear(struct sf_buf *b);
bool buf_append(struct sf_buf *b, const void *p, size_t n);
bool buf_append_str(struct sf_buf *b, const char *s);
bool buf_append_char(struct sf_buf *b, char c);
bool buf_printf(struct sf_buf *b, const char *fmt, ...) SF_PRINTF(2, 3);
/* Makes room for n more bytes; returns a pointer to them, NULL at the limit.
 * Call buf_commit() with how many were written. */
char *buf_reserve(struct sf_buf *b, size_t n);
void buf_commit(struct sf_buf *b, size_t n);
/* Hands the storage to the caller (NUL-terminated) and empties the buffer. */
char *buf_steal(struct sf_buf *b, size_t *len);
/* Appends what is left of fd up to its end: 1 when all of it fit within
 * the limit (exactly at the limit included), 0 when there was more (what
 * fit stays), -1 on a read error, with errno set. */
int buf_read_fd(struct sf_buf *b, int fd);
/*
 * A read window over fd: makes n bytes available in b from *pos.  When b
 * has fewer, it drops the bytes before *pos (so pointers into b do not
 * survive the call) and reads 64 KiB at a time;
 * *base, when not NULL, is the file offset of b->data[0] and moves on by
 * what was dropped.  False at the end of the file, on a read error or at
 * b's limit.
 */
bool buf_window_need(struct sf_buf *b, size_t *pos, uint64_t *base, int fd, size_t n);

/*
 * Fixed-width little-endian encoding, for the files snapfeed writes for
 * itself (the manifest, the catalog's spill file).  Appends never fail
 * short of the buffer's limit; reads go through a bounded cursor that
 * marks itself bad on any overrun instead of reading past the end.
 */
void buf_put_u8(struct sf_buf *b, uint8_t v);
void buf_put_u32(struct sf_buf *b, uint32_t v);
void buf_put_u64(struct sf_buf *b, uint64_t v);
/* A string as its u32 length and bytes (no NUL). */
void buf_put_str(struct sf_buf *b, const char *s);

struct sf_cursor {
    const unsigned char *p, *end;
    bool bad;
};

/* Inline: a rerun decodes a few fields of every manifest record, and the
 * calls were a sixth of it. */

/* n raw bytes, or NULL (and c bad) when there are not that many. */
static inline const unsigned char *
cursor_bytes(struct sf_cursor *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return NULL;
    }
    const unsigned char *p = c->p;
    c->p += n;
    return p;
}

static inline uint8_t
cursor_u8(struct sf_cursor *c)
{
    const unsigned char *p = cursor_bytes(c, 1);
    return p ? p[0] : 0;
}

static inline uint32_t
cursor_u32(struct sf_cursor *c)
{
    const unsigned char *p = cursor_bytes(c, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
             : 0;
}

static inline uint64_t
cursor_u64(struct sf_cursor *c)
{
    const unsigned char *p = cursor_bytes(c, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A string written by buf_put_str(), appended NUL-terminated to out;
 * returns its offset in out.  One with a NUL inside marks c bad. */
size_t cursor_str(struct sf_cursor *c, struct sf_buf *out);

/* FNV-1a, 64 bit.  Stable across versions: tag: ids depend on it. */
#define SF_FNV_OFFSET UINT64_C(14695981039346656037)
uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n);

/*
 * A fast 64-bit hash, eight bytes at a time, for change detection over
 * whole article bodies (FNV's byte-at-a-time loop was a tenth of the
 * parse).  Chain calls by passing the last result as h.  Stable across
 * versions: the manifest stores its results.
 */
uint64_t hash_words(uint64_t h, const void *p, size_t n);

/*
 * The checksum of snapfeed's own state files (manifest, dirs, chosen):
 * four independent lanes of 16 bytes each, so that it runs at memory
 * speed rather than at one multiply chain's (hash_words() was a fifth of
 * a settled rerun, which checks 28 MB of records at 100k captures).  It
 * detects damage; it is not meant to resist a forger.  Chain calls by
 * passing the last result as h.  Changing it changes those formats.
 */
uint64_t sum64(uint64_t h, const void *p, size_t n);

/* sum64() over a stream of pieces, taken in blocks of SF_SUM_BLOCK bytes
 * whatever the pieces: cheap for many small records (a file of 90,000
 * 51-byte records paid sum64()'s set-up for each). */
#define SF_SUM_BLOCK 4096
struct sf_sum {
    uint64_t h;
    size_t n;
    unsigned char block[SF_SUM_BLOCK];
};
void sum_add(struct sf_sum *s, const void *p, size_t n);
uint64_t sum_end(const struct sf_sum *s);

/*
 * Runs fn(arg) on up to n threads, this one among them, and returns once
 * every one has returned.  fn takes work from arg until none is left, so
 * a thread that cannot be started is simply not needed.
 */
void run_threads(size_t n, void *(*fn)(void *), void *arg);

/*
 * An error or warning with its place.  Modules fill one in and never print
 * it; main.c and ingest.c print it once, as "snapfeed: path:line:col: msg".
 * line and col are 0 when they do not apply.
 */
struct sf_error {
    char *path;
    unsigned line;
    unsigned col;
    char *msg;
};

/* Sets err (if not NULL) to a new message, freeing what it held. */
void error_set(struct sf_error *err, const char *path, unsigned line, unsigned col,
               const char *fmt, ...) SF_PRINTF(5, 6);
void error_finish(struct sf_error *err);
/* Formats "path:line:col: msg" (parts that are unset left out) into a new
 * string; free with free(). */
char *error_format(const struct sf_error *err);

/* A list of errors/warnings, for modules that report several at once. */
struct sf_errors {
    struct sf_error *v;
    size_t n;
    size_t cap;
};

void errors_add(struct sf_errors *l, const char *path, unsigned line, unsigned col,
                const char *fmt, ...) SF_PRINTF(5, 6);
void errors_finish(struct sf_errors *l);
/* Empties the list, keeping its storage. */
void errors_clear(struct sf_errors *l);
