/* SPDX-License-Identifier: MIT */
/* websub.c - WebSub publishing: tell hubs which topics changed, queue what failed */
#include "websub.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"

#include "limits.h"
#include "sf_version.h"
#include "url.h"

/*
 * The only module that speaks HTTP, and it does so through libcurl alone.
 * Hubs fetch a topic the moment they hear of it, so build.c calls in here
 * only after every changed file is in place.  A hub that is down must cost
 * the run little and lose nothing: every request has a timeout, retries
 * are few, the whole send has a budget (websub_budget_ms()), and what did
 * not get through goes back to the queue for the next run.
 */

#define QUEUE_NAME "websub-queue"
#define LOCK_NAME "websub.lock"

enum {
    MAX_RUNNING = 16,       /* requests in flight at once, over all hubs */
    MAX_PER_HUB = 4,        /* ... and to one hub: a hung hub cannot hold every slot */
    MAX_REDIRS = 5,
    BACKOFF_FIRST_MS = 500,
    BACKOFF_MAX_MS = 4000,
    SLACK_MS = 250,         /* scheduling jitter allowed on top of the budget */
    GRACE_MS = 2000,        /* past the budget, stop waiting for libcurl at all */
};

/*
 * libcurl is opened when there is something to send, not linked: it and
 * the TLS, Kerberos and LDAP libraries it needs are 30 of the process's 41
 * shared objects and about 10 ms of its start here, which every cron run
 * would pay and few runs need.  The calls keep the types of the header
 * pkg-config names.  The ABI has been libcurl.so.4 since 7.16 (2006).
 */
#define LIBCURL_SONAME "libcurl.so.4"

#define CURL_FUNCTIONS(X) \
    X(global_init) X(global_cleanup) X(easy_strerror) \
    X(easy_init) X(easy_cleanup) X(easy_setopt) X(easy_getinfo) \
    X(multi_init) X(multi_cleanup) X(multi_setopt) X(multi_add_handle) \
    X(multi_remove_handle) X(multi_perform) X(multi_info_read) X(multi_timeout) \
    X(multi_poll) X(slist_append) X(slist_free_all)

/* Member names lack the curl_ prefix, as the header makes some of those
 * names function-like macros. */
static struct {
#define X(f) __typeof__(curl_##f) *(f);   /* (f): a declarator, parenthesized for clang-tidy */
    CURL_FUNCTIONS(X)
#undef X
} lc;

/* Loads libcurl once per process; NULL when it is there, else why not. */
static const char *
curl_load(void)
{
    static bool tried;
    static char why[256];
    if (tried)
        return why[0] ? why : NULL;
    tried = true;
    void *h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();   /* names the file */
        snprintf(why, sizeof why, "%s", e ? e : "cannot load " LIBCURL_SONAME);
        return why;
    }
    /* POSIX lets dlsym's object pointer hold a function's address; ISO C
     * has no conversion between the two, hence memcpy. */
    _Static_assert(sizeof(void *) == sizeof lc.easy_init, "function pointers fit void *");
    void *p;
#define X(f) \
    if (!(p = dlsym(h, "curl_" #f))) { \
        snprintf(why, sizeof why, "%s has no curl_" #f, LIBCURL_SONAME); \
        return why; \
    } \
    memcpy(&lc.f, &p, sizeof p);
    CURL_FUNCTIONS(X)
#undef X
    return NULL;   /* h stays open: libcurl's TLS libraries are not made to be unloaded */
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the queue --------------------------------------------------------- */

void
websub_queue_init(struct sf_websub_queue *q)
{
    *q = (struct sf_websub_queue){0};
}

void
websub_queue_clear(struct sf_websub_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].hub);
        free(q->v[i].topic);
    }
    q->n = 0;
    if (q->slots)
        memset(q->slots, 0, q->n_slots * sizeof *q->slots);
}

void
websub_queue_finish(struct sf_websub_queue *q)
{
    websub_queue_clear(q);
    free(q->v);
    free(q->slots);
    *q = (struct sf_websub_queue){0};
}

static size_t *
find_slot(const struct sf_websub_queue *q, const char *hub, const char *topic)
{
    uint64_t h = hash_fnv1a(SF_FNV_OFFSET, hub, strlen(hub));
    h = hash_fnv1a(h, "\t", 1);
    h = hash_fnv1a(h, topic, strlen(topic));
    size_t mask = q->n_slots - 1, i = (size_t)h & mask;
    while (q->slots[i]) {
        const struct sf_notice *n = &q->v[q->slots[i] - 1];
        if (strcmp(n->hub, hub) == 0 && strcmp(n->topic, topic) == 0)
            break;
        i = (i + 1) & mask;
    }
    return &q->slots[i];
}

bool
websub_queue_add(struct sf_websub_queue *q, const char *hub, const char *topic)
{
    /* Kept at most half full, so probes stay short. */
    if ((q->n + 1) * 2 > q->n_slots) {
        size_t n = q->n_slots ? q->n_slots * 2 : 64;
        free(q->slots);
        q->slots = xcalloc(n, sizeof *q->slots);
        q->n_slots = n;
        for (size_t k = 0; k < q->n; k++)
            *find_slot(q, q->v[k].hub, q->v[k].topic) = k + 1;
    }
    size_t *slot = find_slot(q, hub, topic);
    if (*slot)
        return false;
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->v = xreallocarray(q->v, q->cap, sizeof *q->v);
    }
    q->v[q->n] = (struct sf_notice){xstrdup(hub), xstrdup(topic)};
    *slot = ++q->n;
    return true;
}

size_t
websub_queue_parse(struct sf_websub_queue *q, const char *data, size_t len, const char *path,
                   struct sf_errors *problems)
{
    size_t dropped = 0;
    unsigned line = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        line++;
        if (n && p[0] != '#') {
            const char *tab = memchr(p, '\t', n);
            char *hub = tab ? xstrndup(p, (size_t)(tab - p)) : NULL;
            char *topic = tab ? xstrndup(tab + 1, (size_t)(e - tab - 1)) : NULL;
            /* A NUL would hide the rest of the line from the checks. */
            if (!tab || memchr(p, '\0', n) || !url_is_http(hub) || !url_is_http(topic)) {
                errors_add(problems, path, line, 0,
                           "warning: not a hub URL and a topic URL; dropped");
                dropped++;
            } else {
                websub_queue_add(q, hub, topic);
            }
            free(hub);
            free(topic);
        }
        p = nl ? nl + 1 : end;
    }
    return dropped;
}

bool
websub_queue_format(const struct sf_websub_queue *q, struct sf_buf *out)
{
    size_t start = out->len;
    bool ok = buf_append_str(out, "# snapfeed: WebSub notifications no hub has accepted yet "
                                  "(hub, tab, topic);\n# sent again by the next `snapfeed "
                                  "build` and by `snapfeed ping`.\n");
    for (size_t i = 0; i < q->n && ok; i++)
        ok = buf_printf(out, "%s\t%s\n", q->v[i].hub, q->v[i].topic);
    if (!ok) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return ok;
}

bool
websub_form_body(const char *topic, struct sf_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = out->len;
    bool ok = buf_append_str(out, "hub.mode=publish&hub.url=");
    for (const unsigned char *p = (const unsigned char *)topic; *p && ok; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            ok = buf_append_char(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ok = buf_append(out, e, sizeof e);
        }
    }
    if (!ok) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return ok;
}

/* ---- the state file ---------------------------------------------------- */

struct sf_websub_state {
    char *dir;
    char *path;         /* DIR/websub-queue, for messages */
    int fd;             /* the directory */
    int lock_fd;
    struct sf_buf loaded;   /* the file's bytes as read, to skip rewriting them */
    bool existed;
};

/* Reads the queue file into s->loaded; a missing file is an empty queue. */
static bool
read_queue(struct sf_websub_state *s, struct sf_error *err)
{
    int fd = openat(s->fd, QUEUE_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        error_set(err, s->path, 0, 0, "cannot open: %s", strerror(errno));
        return false;
    }
    bool ok = false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error_set(err, s->path, 0, 0, "not a regular file");
        goto out;
    }
    int r = buf_read_fd(&s->loaded, fd);
    if (r < 0) {
        error_set(err, s->path, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (r == 0) {
        error_set(err, s->path, 0, 0, "larger than the %u MiB limit of the queue",
                  SF_MAX_QUEUE_SIZE >> 20);
        goto out;
    }
    s->existed = true;
    ok = true;
out:
    close(fd);
    return ok;
}

struct sf_websub_state *
websub_state_open(const char *dir, long wait_ms, struct sf_websub_queue *q,
                  struct sf_errors *problems, struct sf_error *err)
{
    struct sf_websub_state *s = xcalloc(1, sizeof *s);
    s->dir = xstrdup(dir);
    s->path = xasprintf("%s/%s", dir, QUEUE_NAME);
    s->fd = s->lock_fd = -1;
    buf_init(&s->loaded, SF_MAX_QUEUE_SIZE);
    if (!file_mkdirs(dir, err))
        goto fail;
    s->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->fd < 0) {
        error_set(err, dir, 0, 0, "cannot open state directory: %s", strerror(errno));
        goto fail;
    }
    s->lock_fd = openat(s->fd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        error_set(err, dir, 0, 0, "cannot create %s: %s", LOCK_NAME, strerror(errno));
        goto fail;
    }
    /* Whoever holds it is bounded by websub_budget_ms(), so waiting about
     * that long is enough; a holder stuck past it must not hang us too. */
    int64_t give_up = now_ms() + wait_ms;
    while (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            error_set(err, dir, 0, 0, "cannot lock %s: %s", LOCK_NAME, strerror(errno));
            goto fail;
        }
        if (now_ms() >= give_up) {
            error_set(err, dir, 0, 0, "busy: another snapfeed has held %s for over %ld s",
                      LOCK_NAME, (wait_ms + 999) / 1000);
            goto fail;
        }
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    if (!read_queue(s, err))
        goto fail;
    websub_queue_parse(q, s->loaded.data ? s->loaded.data : "", s->loaded.len, s->path,
                       problems);
    return s;
fail:
    websub_state_close(s);
    return NULL;
}

bool
websub_state_save(struct sf_websub_state *s, const struct sf_websub_queue *q,
                  struct sf_error *err)
{
    struct sf_buf b;
    buf_init(&b, SF_MAX_QUEUE_SIZE);
    bool ok = false;
    if (q->n == 0) {
        if (!s->existed) {
            ok = true;
            goto out;
        }
        if (unlinkat(s->fd, QUEUE_NAME, 0) != 0 && errno != ENOENT) {
            error_set(err, s->path, 0, 0, "cannot remove: %s", strerror(errno));
            goto out;
        }
        /* The removal is durable once the directory is. */
        if (fsync(s->fd) != 0) {
            error_set(err, s->dir, 0, 0, "cannot sync: %s", strerror(errno));
            goto out;
        }
    } else {
        if (!websub_queue_format(q, &b)) {
            error_set(err, s->path, 0, 0, "the queue would pass its %u MiB limit",
                      SF_MAX_QUEUE_SIZE >> 20);
            goto out;
        }
        bool same = s->existed && b.len == s->loaded.len &&
                    memcmp(b.data, s->loaded.data ? s->loaded.data : "", b.len) == 0;
        if (!same && !file_replace(s->fd, QUEUE_NAME, b.data, b.len, true, s->path, err))
            goto out;
    }
    s->existed = q->n > 0;
    buf_clear(&s->loaded);
    if (q->n)
        buf_append(&s->loaded, b.data, b.len);
    ok = true;
out:
    buf_finish(&b);
    return ok;
}

void
websub_state_close(struct sf_websub_state *s)
{
    if (!s)
        return;
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    if (s->fd >= 0)
        close(s->fd);
    buf_finish(&s->loaded);
    free(s->dir);
    free(s->path);
    free(s);
}

/* ---- sending ----------------------------------------------------------- */

long
websub_backoff_ms(unsigned k)
{
    long ms = BACKOFF_FIRST_MS;
    for (unsigned i = 1; i < k && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static long
timeout_ms(const struct sf_websub_opts *o)
{
    double ms = o->timeout * 1000.0;
    return ms < 1 ? 1 : ms > 3600000 ? 3600000 : (long)ms;
}

long
websub_budget_ms(const struct sf_websub_opts *o)
{
    long ms = timeout_ms(o) * ((long)o->retries + 1);
    for (unsigned k = 1; k <= o->retries; k++)
        ms += websub_backoff_ms(k);
    return ms;
}

struct job {
    size_t hub;             /* index in sender.hubs */
    unsigned attempts;      /* started so far */
    int64_t ready_at;       /* when it may start (monotonic ms) */
    CURL *easy;             /* while running */
    char *error;            /* the outcome: NULL when accepted */
    char errbuf[CURL_ERROR_SIZE];
};

struct hub {
    const char *url;
    size_t *heap;           /* jobs waiting to start, earliest ready_at first */
    size_t n_heap;
    unsigned running;
    char *down;             /* why it is taken to be down, or NULL */
};

struct sender {
    const struct sf_websub_opts *o;
    const struct sf_websub_queue *q;
    CURLM *multi;
    struct curl_slist *headers;
    struct job *jobs;
    struct hub *hubs;
    size_t n_hubs;
    unsigned running;
    long timeout;           /* ms, per request */
    int64_t deadline;       /* no attempt may end later */
    struct sf_buf body;
};

/* Heap order: earlier ready_at first, then queue order, so first tries
 * go out in the order the notifications were queued. */
static bool
before(const struct sender *s, size_t a, size_t b)
{
    if (s->jobs[a].ready_at != s->jobs[b].ready_at)
        return s->jobs[a].ready_at < s->jobs[b].ready_at;
    return a < b;
}

static void
heap_push(struct sender *s, struct hub *h, size_t job)
{
    size_t i = h->n_heap++;
    h->heap[i] = job;
    while (i > 0 && before(s, h->heap[i], h->heap[(i - 1) / 2])) {
        size_t p = (i - 1) / 2, t = h->heap[i];
        h->heap[i] = h->heap[p];
        h->heap[p] = t;
        i = p;
    }
}

static size_t
heap_pop(struct sender *s, struct hub *h)
{
    size_t top = h->heap[0];
    h->heap[0] = h->heap[--h->n_heap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n_heap && before(s, h->heap[l], h->heap[m]))
            m = l;
        if (r < h->n_heap && before(s, h->heap[r], h->heap[m]))
            m = r;
        if (m == i)
            break;
        size_t t = h->heap[i];
        h->heap[i] = h->heap[m];
        h->heap[m] = t;
        i = m;
    }
    return top;
}

static size_t
discard(char *data, size_t size, size_t n, void *ctx)
{
    return size * n;   /* a hub's answer says nothing its status does not */
}

/* Replaces the outcome of job j: each attempt's failure overwrites the
 * last, so a notification that fails for good reports its latest cause. */
static void
settle(struct job *j, char *error)
{
    free(j->error);
    j->error = error;
}

static bool
start(struct sender *s, size_t ji)
{
    struct job *j = &s->jobs[ji];
    const struct sf_notice *n = &s->q->v[ji];
    buf_clear(&s->body);
    CURL *e = lc.easy_init();
    if (!e || !websub_form_body(n->topic, &s->body)) {
        settle(j, xstrdup("cannot start the request (out of memory)"));
        lc.easy_cleanup(e);
        return false;
    }
    j->errbuf[0] = '\0';
    /* Connecting gets half the time: a hub that accepts connections but
     * never answers is told apart from one that is unreachable. */
    int64_t left = s->deadline - now_ms();
    long t = left < s->timeout ? (long)(left > 1 ? left : 1) : s->timeout;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) \
    do { \
        if (rc == CURLE_OK) \
            rc = lc.easy_setopt(e, opt, val); \
    } while (0)
    SET(CURLOPT_PRIVATE, (void *)j);
    SET(CURLOPT_ERRORBUFFER, j->errbuf);
    SET(CURLOPT_URL, n->hub);
    SET(CURLOPT_POSTFIELDSIZE, (long)s->body.len);
    SET(CURLOPT_COPYPOSTFIELDS, s->body.data);
    SET(CURLOPT_HTTPHEADER, s->headers);
    SET(CURLOPT_USERAGENT, "snapfeed/" SF_VERSION);
    SET(CURLOPT_WRITEFUNCTION, discard);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, t);
    SET(CURLOPT_CONNECTTIMEOUT_MS, t / 2 > 0 ? t / 2 : 1L);
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
    /* A hub that moved still gets a POST, as curl would otherwise turn
     * it into a GET after a 301 or 302. */
    SET(CURLOPT_POSTREDIR, (long)(CURL_REDIR_POST_301 | CURL_REDIR_POST_302));
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
    if (rc != CURLE_OK || lc.multi_add_handle(s->multi, e) != CURLM_OK) {
        settle(j, xasprintf("cannot start the request: %s",
                            rc != CURLE_OK ? lc.easy_strerror(rc) : "curl_multi_add_handle"));
        lc.easy_cleanup(e);
        return false;
    }
    j->easy = e;
    j->attempts++;
    s->hubs[j->hub].running++;
    s->running++;
    return true;
}

/* Fails every job still waiting for hub h with why (or its own last error). */
static void
fail_waiting(struct sender *s, struct hub *h, const char *why)
{
    while (h->n_heap) {
        struct job *j = &s->jobs[heap_pop(s, h)];
        if (!j->error)
            settle(j, xstrdup(why));
    }
}

/* The least time left before the deadline worth starting an attempt
 * with: a quarter of the timeout, at least 100 ms, at most the timeout. */
static int64_t
min_attempt_ms(const struct sender *s)
{
    int64_t q = s->timeout / 4;
    return q < 100 ? (s->timeout < 100 ? s->timeout : 100) : q;
}

/* Starts what may start now: per hub, its earliest ready jobs, while
 * slots are free.  Jobs whose next attempt could not end within the
 * budget, and those of a hub that is down, fail at once. */
static void
start_ready(struct sender *s, int64_t now)
{
    bool started = true;
    while (started && s->running < MAX_RUNNING) {
        started = false;
        for (size_t i = 0; i < s->n_hubs && s->running < MAX_RUNNING; i++) {
            struct hub *h = &s->hubs[i];
            if (!h->n_heap)
                continue;
            if (h->down) {
                char *why = xasprintf("not tried, as the hub failed: %s", h->down);
                fail_waiting(s, h, why);
                free(why);
                continue;
            }
            /* An attempt may start while it has a fair share of a
             * request's time left before the deadline; it gets what is
             * left, at most the timeout (start()).  Demanding the whole
             * timeout would let only the first MAX_PER_HUB of a hub's
             * notifications start when retries is 0. */
            int64_t ready = s->jobs[h->heap[0]].ready_at;
            if ((ready > now ? ready : now) + min_attempt_ms(s) > s->deadline) {
                fail_waiting(s, h, "not sent: this run's time for notifications ran out");
                continue;
            }
            if (h->running >= MAX_PER_HUB || ready > now)
                continue;
            if (start(s, heap_pop(s, h)))
                started = true;
        }
    }
}

/* When the next waiting job may start, if one could start then: a job
 * held back by a limit waits for a transfer to end instead. */
static int64_t
next_ready(const struct sender *s)
{
    int64_t next = INT64_MAX;
    if (s->running >= MAX_RUNNING)
        return next;
    for (size_t h = 0; h < s->n_hubs; h++)
        if (s->hubs[h].n_heap && s->hubs[h].running < MAX_PER_HUB &&
            s->jobs[s->hubs[h].heap[0]].ready_at < next)
            next = s->jobs[s->hubs[h].heap[0]].ready_at;
    return next;
}

/* A finished attempt: success, a retry later, or a final failure. */
static void
finish(struct sender *s, CURL *e, CURLcode res, int64_t now)
{
    char *priv = NULL;
    lc.easy_getinfo(e, CURLINFO_PRIVATE, &priv);
    struct job *j = (struct job *)(void *)priv;
    long code = 0;
    lc.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    lc.multi_remove_handle(s->multi, e);
    lc.easy_cleanup(e);
    j->easy = NULL;
    struct hub *h = &s->hubs[j->hub];
    h->running--;
    s->running--;
    if (res == CURLE_OK && code >= 200 && code <= 299) {
        settle(j, NULL);
        return;
    }
    bool transport = res != CURLE_OK;
    settle(j, transport ? xstrdup(j->errbuf[0] ? j->errbuf : lc.easy_strerror(res))
                        : xasprintf("HTTP %ld", code));
    /* Other client errors mean the hub refuses this request as it is:
     * asking again within seconds changes nothing (the next run will). */
    bool may_pass = transport || code >= 500 || code == 408 || code == 429;
    if (may_pass && j->attempts <= s->o->retries && !h->down) {
        j->ready_at = now + websub_backoff_ms(j->attempts);
        heap_push(s, h, (size_t)(j - s->jobs));
    } else if (transport && !h->down) {
        h->down = xstrdup(j->error);
    }
}

char **
websub_send(const struct sf_websub_opts *o, const struct sf_websub_queue *q)
{
    char **results = xcalloc(q->n ? q->n : 1, sizeof *results);
    if (!q->n)
        return results;
    struct sender s = {.o = o, .q = q, .timeout = timeout_ms(o)};
    buf_init(&s.body, 0);
    s.jobs = xcalloc(q->n, sizeof *s.jobs);
    s.hubs = xcalloc(q->n, sizeof *s.hubs);
    for (size_t i = 0; i < q->n; i++) {
        size_t h = 0;
        while (h < s.n_hubs && strcmp(s.hubs[h].url, q->v[i].hub) != 0)
            h++;
        if (h == s.n_hubs)
            s.hubs[s.n_hubs++].url = q->v[i].hub;
        s.jobs[i].hub = h;
    }
    for (size_t h = 0; h < s.n_hubs; h++)
        s.hubs[h].heap = xcalloc(q->n, sizeof *s.hubs[h].heap);

    CURLcode gc = CURLE_FAILED_INIT;
    const char *trouble = curl_load();
    if (trouble)
        goto out;
    gc = lc.global_init(CURL_GLOBAL_DEFAULT);
    if (gc != CURLE_OK) {
        trouble = lc.easy_strerror(gc);
        goto out;
    }
    s.multi = lc.multi_init();
    /* The body is form-encoded; "Expect:" keeps curl from waiting for a
     * 100 Continue that some hubs never send. */
    struct curl_slist *h1 = lc.slist_append(NULL,
                                              "Content-Type: application/x-www-form-urlencoded");
    struct curl_slist *h2 = h1 ? lc.slist_append(h1, "Expect:") : NULL;
    s.headers = h2 ? h2 : h1;
    if (!s.multi || !h2) {
        trouble = "cannot start libcurl (out of memory)";
        goto out;
    }
    lc.multi_setopt(s.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)MAX_RUNNING);
    lc.multi_setopt(s.multi, CURLMOPT_MAXCONNECTS, (long)MAX_RUNNING);

    s.deadline = now_ms() + websub_budget_ms(o) + SLACK_MS;
    for (size_t i = 0; i < q->n; i++)
        heap_push(&s, &s.hubs[s.jobs[i].hub], i);

    for (;;) {
        int64_t now = now_ms();
        start_ready(&s, now);
        bool waiting = false;
        for (size_t h = 0; h < s.n_hubs; h++)
            waiting |= s.hubs[h].n_heap > 0;
        if (!s.running && !waiting)
            break;
        if (now > s.deadline + GRACE_MS)
            break;   /* libcurl's own timeouts should have ended each attempt by now */
        int still;
        lc.multi_perform(s.multi, &still);
        bool finished = false;
        CURLMsg *m;
        int left;
        while ((m = lc.multi_info_read(s.multi, &left)) != NULL)
            if (m->msg == CURLMSG_DONE) {
                finish(&s, m->easy_handle, m->data.result, now_ms());
                finished = true;
            }
        if (finished)
            continue;
        /* Sleep until a socket is ready, a backoff ends or, at most, a
         * second (libcurl's own timers shorten this further). */
        int64_t wait = 1000, next = next_ready(&s);
        if (next != INT64_MAX && next - now < wait)
            wait = next - now > 0 ? next - now : 0;
        if (s.running) {
            long ct = -1;
            if (lc.multi_timeout(s.multi, &ct) == CURLM_OK && ct >= 0 && ct < wait)
                wait = ct;
            lc.multi_poll(s.multi, NULL, 0, (int)wait, NULL);
        } else if (wait > 0) {
            nanosleep(&(struct timespec){(time_t)(wait / 1000), (long)(wait % 1000) * 1000000},
                      NULL);
        }
    }
out:
    for (size_t i = 0; i < q->n; i++) {
        struct job *j = &s.jobs[i];
        if (j->easy) {
            lc.multi_remove_handle(s.multi, j->easy);
            lc.easy_cleanup(j->easy);
            settle(j, xstrdup("no answer before this run's time for notifications ran out"));
        } else if (trouble) {
            settle(j, xasprintf("not sent: %s", trouble));
        } else if (!j->attempts && !j->error) {
            settle(j, xstrdup("not sent: this run's time for notifications ran out"));
        }
        results[i] = j->error;
        j->error = NULL;
    }
    for (size_t h = 0; h < s.n_hubs; h++) {
        free(s.hubs[h].heap);
        free(s.hubs[h].down);
    }
    if (s.multi)
        lc.multi_cleanup(s.multi);
    if (s.headers)
        lc.slist_free_all(s.headers);
    if (gc == CURLE_OK)
        lc.global_cleanup();
    free(s.jobs);
    free(s.hubs);
    buf_finish(&s.body);
    return results;
}

void
websub_results_free(char **results, size_t n)
{
    if (!results)
        return;
    for (size_t i = 0; i < n; i++)
        free(results[i]);
    free(results);
}
