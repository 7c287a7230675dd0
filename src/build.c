/* SPDX-License-Identifier: MIT */
/* build.c - one run: ingest, catalog, render every feed, write what changed */
#include "build.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "catalog.h"
#include "dirs.h"
#include "chosen.h"
#include "ingest.h"
#include "limits.h"
#include "manifest.h"
#include "record.h"
#include "render.h"
#include "sf_version.h"
#include "state.h"
#include "websub.h"
#include "when.h"

/*
 * The run has two passes over the captures.  The first reads every one
 * and keeps only its catalog entry (ids, times, category: no text); the
 * catalog then picks each feed's items; the second reads again just the
 * files of those items (of a JSON Lines file, just the item's line, found
 * by its byte offset), whose records the renderers need whole.  So
 * memory holds the entries plus the few hundred records shown, however
 * large the archive (docs/design.md, "Memory").
 */

/*
 * Pass one runs on several threads: the walk (main thread) hands files to
 * workers, each with its own reader, and collects their results strictly
 * in walk order, so the catalog, the messages and everything after see the
 * same sequence whatever the threads' timing.  At most `window` files are
 * in flight, which bounds the memory the results hold.
 */

#define WORKER_BATCH 8   /* files a worker takes at once */
/* Entries of one JSON Lines file handed on at a time (see hand_on_part()). */
#define STREAM_BATCH 16384

/* What parsing one file gave: its entries and its problems. */
struct result {
    struct sf_entry *entries;
    size_t n_entries, cap_entries;  /* kept from file to file */
    size_t n_held;              /* entries more, that the manifest keeps (deferred) */
    struct sf_errors problems;
    bool *warning;              /* per problem */
    size_t n_rejected;
    struct sf_buf strings;      /* the entries' id, category and path */
    struct stat st;             /* of the file, as walked */
    bool reused;                /* taken from the manifest */
    uint32_t input;
    uint32_t seq;
    uintptr_t path;             /* offset in strings */
    bool ready;
    bool stream;                /* hand entries on in parts as they come (main thread) */
    bool streamed;              /* some were: the manifest keeps no record of it */
};

struct job {
    uint32_t seq;
    uint32_t input;
    int dirfd;          /* a directory held for it (struct dir_hold), or AT_FDCWD */
    const char *name;   /* in dirfd: the tail of path, or path itself */
    char *path;
};

/*
 * A worker opens its file relative to the directory the walk found it in:
 * by the whole path, the kernel would look up every directory above it
 * again, which was a tenth of a cold build's kernel time.  The walk closes
 * a directory when it leaves it, so a directory with files in flight is
 * held open by a descriptor of its own until the last of them is
 * committed.  A few holds are enough (a day's directory has dozens of
 * files, the files in flight are a few hundred): past MAX_DIR_HOLDS, and
 * under a descriptor limit so low that holds could starve the opens of
 * the captures themselves, files are opened by the whole path.
 */
#define MAX_DIR_HOLDS 16
#define DIR_HOLDS_MIN_NOFILE 256
struct dir_hold {
    unsigned long dir;  /* sf_file.dir */
    int fd;
    uint32_t last_seq;  /* the newest job it was handed to */
};

struct run;
struct push;

struct worker {
    struct run *run;
    pthread_t thread;
    struct sf_ingest_reader *reader;
    struct result *current;     /* being filled by the callbacks */
};

struct run {
    const struct sf_config *config;
    const struct sf_build_report *report;
    struct sf_build_result *res;
    struct sf_ingest_reader *reader;    /* the main thread's */
    struct sf_catalog *catalog;
    struct sf_manifest *manifest;       /* NULL: parse everything */
    struct sf_dirs *dirs_cache;         /* NULL: stat every file */
    unsigned jobs;                      /* threads to parse and render with */
    uint32_t seq;                       /* files handed out */
    uint32_t committed;                 /* files committed */
    bool too_many;
    size_t reused, parsed;              /* files taken from the manifest, files parsed */
    struct push *push;                  /* NULL: no notification is sent or queued */
    size_t refilled;                    /* entries the catalog got from the manifest */

    /* an incremental run (src/chosen.c): the manifest keeps the entries of
     * reused files to itself, those of new files wait in fresh */
    bool defer;
    struct sf_entry *fresh;
    size_t n_fresh;
    bool unrecorded;                    /* a file too big for a manifest record */
    struct sf_chosen *chosen;           /* what the last run chose, merged */
    struct sf_chosen_out *chosen_out;   /* what this run chooses */

    /* the pool; all below under mu */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct worker *workers;
    size_t n_workers;
    struct job *queue;                  /* jobs not yet taken, FIFO */
    size_t q_head, q_len;
    struct result *slots;               /* results by seq % window */
    size_t window;
    struct dir_hold *dirs;              /* oldest first, a ring of d_cap (main thread) */
    size_t d_head, d_len, d_cap;
    bool closing;
    size_t idle;                        /* workers waiting for work */
    bool main_waiting;                  /* the main thread waits for ... */
    uint32_t waiting_for;               /* ... the result of this file */

    /* pass two: the record wanted and what was found */
    const struct sf_entry *want;
    struct sf_record *found;
};

static void
report_progress(struct run *r, size_t feeds_done, size_t feeds)
{
    if (r->report && r->report->progress) {
        struct sf_build_progress p = {r->committed, r->res->rejected, feeds, feeds_done};
        r->report->progress(r->report->ctx, &p);
    }
}

static void
report_problem(struct run *r, const struct sf_error *e, bool warning)
{
    if (warning)
        r->res->warnings++;
    else
        r->res->rejected++;
    if (r->report && r->report->problem)
        r->report->problem(r->report->ctx, e, warning);
}

/* ---- pass one: entries ------------------------------------------------ */

static void
result_clear(struct result *res)
{
    res->n_entries = res->n_held = 0;
    errors_clear(&res->problems);
    res->n_rejected = 0;
    buf_clear(&res->strings);
    res->ready = false;
    res->stream = res->streamed = false;
}

static void
result_finish(struct result *res)
{
    free(res->entries);
    errors_finish(&res->problems);
    free(res->warning);
    buf_finish(&res->strings);
}

/* Room for n entries (a realloc per file was 5% of a settled rerun). */
static void
result_room(struct result *res, size_t n)
{
    if (n <= res->cap_entries)
        return;
    res->cap_entries = n < 2 * res->cap_entries ? 2 * res->cap_entries : n;
    res->entries = xreallocarray(res->entries, res->cap_entries, sizeof *res->entries);
}

/* Strings go in the result's buffer; entries point at them by offset until
 * commit (the buffer may move as it grows). */
static uintptr_t
result_str(struct result *res, const char *s)
{
    uintptr_t off = res->strings.len;
    buf_append(&res->strings, s, strlen(s) + 1);
    return off;
}

static void hand_on_part(struct run *r, struct result *res);

static void
scan_record(void *ctx, struct sf_record *rec)
{
    struct worker *w = ctx;
    struct result *res = w->current;
    if (res->stream && res->n_entries == STREAM_BATCH)
        hand_on_part(w->run, res);
    result_room(res, res->n_entries + 1);
    res->entries[res->n_entries++] = (struct sf_entry){
        .idhash = hash_fnv1a(SF_FNV_OFFSET, rec->id, strlen(rec->id)),
        .content = record_content_hash(rec),
        .captured_at = rec->captured_at,
        .published = rec->published,
        .seq = res->seq,
        .line = rec->line,
        .offset = rec->offset,
        .input = res->input,
        .id = (const char *)result_str(res, rec->id),
        .category = (const char *)result_str(res, rec->category),
        .path = (const char *)res->path,
    };
    record_free(rec);
}

static void
scan_problem(void *ctx, const struct sf_error *e, bool warning)
{
    struct worker *w = ctx;
    struct result *res = w->current;
    errors_add(&res->problems, e->path, e->line, e->col, "%s", e->msg);
    res->warning = xreallocarray(res->warning, res->problems.n, sizeof *res->warning);
    res->warning[res->problems.n - 1] = warning;
    res->n_rejected += !warning;
}

static void
scan_job(struct worker *w, const struct job *job, struct result *res)
{
    struct sf_ingest_cb cb = {w, scan_record, scan_problem};
    w->current = res;
    res->seq = job->seq;
    res->input = job->input;
    ingest_file(w->reader, &w->run->config->inputs[job->input], job->dirfd, job->name, job->path,
                &res->st, &cb);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    struct job batch[WORKER_BATCH];
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->q_len && !r->closing) {
            r->idle++;
            pthread_cond_wait(&r->work, &r->mu);
            r->idle--;
        }
        if (!r->q_len)
            break;
        /* Several files per trip through the lock: fewer wake-ups and
         * context switches, which were a tenth of a run. */
        size_t n = r->q_len < WORKER_BATCH ? r->q_len : WORKER_BATCH;
        for (size_t i = 0; i < n; i++) {
            batch[i] = r->queue[r->q_head];
            r->q_head = (r->q_head + 1) % r->window;
        }
        r->q_len -= n;
        pthread_mutex_unlock(&r->mu);
        for (size_t i = 0; i < n; i++) {
            scan_job(w, &batch[i], &r->slots[batch[i].seq % r->window]);
            free(batch[i].path);
        }
        pthread_mutex_lock(&r->mu);
        bool wanted = false;
        for (size_t i = 0; i < n; i++) {
            r->slots[batch[i].seq % r->window].ready = true;
            wanted |= batch[i].seq == r->waiting_for;
        }
        /* Wake the main thread only for the result it waits for. */
        if (r->main_waiting && wanted)
            pthread_cond_signal(&r->done);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void
add_entry(struct run *r, const struct sf_entry *e)
{
    if (!catalog_add(r->catalog, e)) {
        struct sf_error err = {0};
        error_set(&err, e->path, 0, 0, "more than %d categories; '%s' is left out",
                  SF_MAX_FEEDS, e->category);
        report_problem(r, &err, false);
        error_finish(&err);
    }
}

/* Entries the manifest held back while nothing had changed, handed over
 * at the first change (or when the catalog is needed after all). */
static void
replay_entry(void *ctx, const struct sf_entry *e)
{
    struct run *r = ctx;
    r->refilled++;
    add_entry(r, e);
}

/* Reports a result's problems and rebases its entries' strings. */
static void
result_report(struct run *r, struct result *res)
{
    for (size_t i = 0; i < res->problems.n; i++)
        report_problem(r, &res->problems.v[i], res->warning[i]);
    r->res->captures += res->n_entries + res->n_held + res->n_rejected;
    for (size_t i = 0; i < res->n_entries; i++) {
        struct sf_entry *e = &res->entries[i];
        e->id = res->strings.data + (uintptr_t)e->id;
        e->category = res->strings.data + (uintptr_t)e->category;
        e->path = res->strings.data + (uintptr_t)e->path;
    }
}

/* Hands the result of one file to the manifest, the catalog and the
 * report, in walk order. */
static void
commit_deferred(struct run *r, struct result *res)
{
    uint32_t before = manifest_records(r->manifest);
    manifest_add(r->manifest, res->input, res->strings.data + res->path, &res->st, res->entries,
                 res->n_entries, res->problems.v, res->warning, res->problems.n, &res->reused,
                 NULL, NULL);
    bool recorded = manifest_records(r->manifest) > before;
    if (res->reused && recorded)
        return;   /* the manifest has them, for manifest_replay_all() */
    for (size_t i = 0; i < res->n_entries; i++) {
        struct sf_entry e = res->entries[i];
        if (!recorded) {
            /* between the records' seqs (2k + 1), as the walk found it */
            e.seq = 2 * before;
            r->unrecorded = true;
            add_entry(r, &e);
            continue;
        }
        e.seq = 2 * before + 1;
        e.id = xstrdup(e.id);
        e.category = xstrdup(e.category);
        e.path = xstrdup(e.path);
        r->fresh = xreallocarray(r->fresh, r->n_fresh + 1, sizeof *r->fresh);
        r->fresh[r->n_fresh++] = e;
    }
}

static void
commit(struct run *r, struct result *res)
{
    result_report(r, res);
    if (r->defer) {
        commit_deferred(r, res);
        result_clear(res);
        return;
    }
    /* While nothing has changed the manifest keeps the entries back: a
     * rerun that finds no change never fills the catalog. */
    bool held = r->manifest && !res->streamed &&
                manifest_add(r->manifest, res->input, res->strings.data + res->path, &res->st,
                             res->entries, res->n_entries, res->problems.v, res->warning,
                             res->problems.n, &res->reused, replay_entry, r);
    for (size_t i = 0; i < res->n_entries && !held; i++)
        add_entry(r, &res->entries[i]);
    result_clear(res);
}

/*
 * A JSON Lines file of millions of records would otherwise sit whole in
 * one result: past STREAM_BATCH entries, those so far go to the catalog
 * (which spills) and the report at once, so memory stays flat.  Only on
 * the main thread, with everything before the file committed: the catalog
 * still sees walk order.  Such a file is too big for a manifest record
 * anyway; it is parsed on every run.
 */
static void
hand_on_part(struct run *r, struct result *res)
{
    if (!res->streamed && r->manifest)
        manifest_skip(r->manifest, replay_entry, r);
    res->streamed = true;
    result_report(r, res);
    for (size_t i = 0; i < res->n_entries; i++)
        add_entry(r, &res->entries[i]);
    char *path = xstrdup(res->strings.data + res->path);
    res->n_entries = 0;
    errors_clear(&res->problems);
    res->n_rejected = 0;
    buf_clear(&res->strings);
    res->path = result_str(res, path);
    free(path);
}

/* The descriptor job seq of f opens its file with: f's directory, held. */
static int
hold_dir(struct run *r, const struct sf_file *f, uint32_t seq)
{
    if (!f->dir || !r->d_cap)
        return AT_FDCWD;
    size_t newest = (r->d_head + r->d_len - 1) % r->d_cap;
    if (!r->d_len || r->dirs[newest].dir != f->dir) {
        if (r->d_len == r->d_cap)
            return AT_FDCWD;    /* every hold has files in flight */
        int dirfd = ingest_dirfd(f);
        int fd = dirfd < 0 ? -1 : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return AT_FDCWD;
        newest = (r->d_head + r->d_len++) % r->d_cap;
        r->dirs[newest] = (struct dir_hold){.dir = f->dir, .fd = fd};
    }
    r->dirs[newest].last_seq = seq;
    return r->dirs[newest].fd;
}

/* Closes the directories whose jobs are all committed but the newest,
 * which more files may follow into; with all, every one. */
static void
release_dirs(struct run *r, bool all)
{
    while (r->d_len && (all || (r->d_len > 1 && r->dirs[r->d_head].last_seq < r->committed))) {
        close(r->dirs[r->d_head].fd);
        r->d_head = (r->d_head + 1) % r->d_cap;
        r->d_len--;
    }
}

/* Commits results in order while the next one is ready; with wait, waits
 * until everything handed out is committed. */
static void
commit_ready(struct run *r, bool wait)
{
    for (;;) {
        struct result *res = &r->slots[r->committed % r->window];
        pthread_mutex_lock(&r->mu);
        while (wait && r->committed < r->seq && !res->ready) {
            r->main_waiting = true;
            r->waiting_for = r->committed;
            pthread_cond_wait(&r->done, &r->mu);
            r->main_waiting = false;
        }
        bool ready = r->committed < r->seq && res->ready;
        pthread_mutex_unlock(&r->mu);
        if (!ready)
            return;
        commit(r, res);
        r->committed++;
        release_dirs(r, false);
        report_progress(r, 0, 0);
    }
}

/* A file the manifest knows: its result is ready without parsing. */
static void
reuse(struct result *res, const struct sf_manifest_file *mf)
{
    res->n_held = mf->held ? mf->n_entries : 0;
    res->n_entries = mf->held ? 0 : mf->n_entries;
    result_room(res, res->n_entries);
    for (size_t i = 0; i < res->n_entries; i++) {
        res->entries[i] = mf->entries[i];
        /* its place in this walk, as a parsed file's: captures of one id
         * with no capture time (saved pages) are told apart by it */
        res->entries[i].seq = res->seq;
        res->entries[i].id = (const char *)result_str(res, mf->entries[i].id);
        res->entries[i].category = (const char *)result_str(res, mf->entries[i].category);
        res->entries[i].path = (const char *)res->path;
    }
    for (size_t i = 0; i < mf->n_problems; i++) {
        const struct sf_error *e = &mf->problems[i];
        errors_add(&res->problems, e->path, e->line, e->col, "%s", e->msg);
        res->warning = xreallocarray(res->warning, res->problems.n, sizeof *res->warning);
        res->warning[res->problems.n - 1] = mf->warning[i];
        res->n_rejected += !mf->warning[i];
    }
}

static bool
scan_file(void *ctx, const struct sf_file *f)
{
    struct run *r = ctx;
    /* Files in flight count as one capture each: the limit holds before
     * they are committed, so the refusal comes early, not after an OOM. */
    if (r->res->captures + (r->seq - r->committed) >= r->config->limits.max_captures) {
        r->too_many = true;
        return false;
    }
    struct job job = {
        .seq = r->seq,
        .input = (uint32_t)(f->input - r->config->inputs),
    };
    /* a full window: wait for the oldest file to be committed */
    while (r->n_workers && r->seq - r->committed >= r->window) {
        struct result *oldest = &r->slots[r->committed % r->window];
        pthread_mutex_lock(&r->mu);
        while (!oldest->ready) {
            r->main_waiting = true;
            r->waiting_for = r->committed;
            pthread_cond_wait(&r->done, &r->mu);
            r->main_waiting = false;
        }
        pthread_mutex_unlock(&r->mu);
        commit_ready(r, false);
    }
    struct result *res = &r->slots[job.seq % r->window];
    res->st = f->st;
    res->input = job.input;
    res->seq = job.seq;
    res->path = result_str(res, f->path);
    struct sf_manifest_file mf;
    bool hit = r->manifest && manifest_find(r->manifest, job.input, f->path, &f->st, &mf);
    bool jsonl = f->input->format == SF_INPUT_JSONL;
    if (hit || !r->n_workers || jsonl) {
        res->reused = hit;
        if (hit) {
            reuse(res, &mf);
            r->reused++;
        } else {
            /* One job: no threads, no copies.  A JSON Lines file is read
             * here, after everything before it is committed, so that its
             * entries can be handed on in parts. */
            if (r->n_workers)
                commit_ready(r, true);
            struct worker self = {.run = r, .reader = r->reader};
            job.dirfd = ingest_dirfd(f);
            job.name = f->name;
            if (job.dirfd == -1) {
                job.dirfd = AT_FDCWD;
                job.name = f->path;
            }
            job.path = (char *)f->path;
            res->stream = jsonl;
            scan_job(&self, &job, res);
            r->parsed++;
        }
        if (r->n_workers && r->committed != r->seq) {
            pthread_mutex_lock(&r->mu);
            res->ready = true;
            r->seq++;
            pthread_mutex_unlock(&r->mu);
            commit_ready(r, false);
        } else {
            /* Nothing in flight (always so without workers, and for most
             * files of a rerun): committed here, with no lock.  seq and
             * committed are this thread's alone; no worker holds a slot. */
            r->seq++;
            commit(r, res);
            r->committed++;
            if (r->n_workers)
                release_dirs(r, false);
            report_progress(r, 0, 0);
        }
        return true;
    }
    job.path = xstrdup(f->path);
    job.dirfd = hold_dir(r, f, job.seq);
    job.name = job.dirfd == AT_FDCWD ? job.path : job.path + strlen(f->path) - strlen(f->name);
    res->reused = false;
    r->parsed++;
    pthread_mutex_lock(&r->mu);
    r->queue[(r->q_head + r->q_len) % r->window] = job;
    r->q_len++;
    r->seq++;
    if (r->idle)
        pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->mu);
    commit_ready(r, false);
    return true;
}

static void
pool_start(struct run *r, const struct sf_zone *zone, unsigned jobs)
{
    r->window = jobs > 1 ? 64 * jobs : 1;
    r->slots = xcalloc(r->window, sizeof *r->slots);
    for (size_t i = 0; i < r->window; i++)
        buf_init(&r->slots[i].strings, 0);
    if (jobs <= 1)
        return;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->done, NULL);
    r->queue = xcalloc(r->window, sizeof *r->queue);
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur >= DIR_HOLDS_MIN_NOFILE)
        r->d_cap = MAX_DIR_HOLDS;
    r->dirs = xcalloc(r->d_cap ? r->d_cap : 1, sizeof *r->dirs);
    r->workers = xcalloc(jobs, sizeof *r->workers);
    for (size_t i = 0; i < jobs; i++) {
        struct worker *w = &r->workers[r->n_workers];
        w->run = r;
        w->reader = ingest_reader_new(r->config, zone, true);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            ingest_reader_free(w->reader);
            break;   /* fewer threads, same results */
        }
        r->n_workers++;
    }
    if (!r->n_workers) {
        r->window = 1;
        pthread_cond_destroy(&r->work);
        pthread_cond_destroy(&r->done);
        pthread_mutex_destroy(&r->mu);
    }
}

/* Waits for the workers to finish what was handed out, then stops them. */
static void
pool_stop(struct run *r)
{
    if (r->n_workers) {
        commit_ready(r, true);
        pthread_mutex_lock(&r->mu);
        r->closing = true;
        pthread_cond_broadcast(&r->work);
        pthread_mutex_unlock(&r->mu);
        for (size_t i = 0; i < r->n_workers; i++) {
            pthread_join(r->workers[i].thread, NULL);
            ingest_reader_free(r->workers[i].reader);
        }
        for (size_t i = 0; i < r->q_len; i++)
            free(r->queue[(r->q_head + i) % r->window].path);
        release_dirs(r, true);
        pthread_cond_destroy(&r->work);
        pthread_cond_destroy(&r->done);
        pthread_mutex_destroy(&r->mu);
        r->n_workers = 0;
    }
    free(r->workers);
    free(r->queue);
    free(r->dirs);
    r->workers = NULL;
    r->queue = NULL;
    r->dirs = NULL;
    for (size_t i = 0; i < r->window; i++)
        result_finish(&r->slots[i]);
    free(r->slots);
    r->slots = NULL;
}

/* ---- pass two: the records shown -------------------------------------- */

static void
fetch_record(void *ctx, struct sf_record *rec)
{
    struct run *r = ctx;
    if (!r->found && strcmp(rec->id, r->want->id) == 0 &&
        record_content_hash(rec) == r->want->content)
        r->found = rec;
    else
        record_free(rec);
}

static void
fetch_problem(void *ctx, const struct sf_error *e, bool warning)
{
    /* reported in pass one */
}

static struct sf_record *
fetch(struct run *r, const struct sf_entry *e)
{
    struct sf_ingest_cb cb = {r, fetch_record, fetch_problem};
    r->want = e;
    r->found = NULL;
    ingest_record_at(r->reader, &r->config->inputs[e->input], e->path, e->offset, e->line, &cb);
    if (!r->found) {
        struct sf_error err = {0};
        error_set(&err, e->path, 0, 0, "warning: changed while being read; left out until the "
                                      "next run");
        report_problem(r, &err, true);
        error_finish(&err);
    }
    return r->found;
}

/* Records of the chosen entries, found by article id. */
struct shown {
    const struct sf_entry **keys;
    struct sf_record **recs;
    size_t cap;
};

static size_t
shown_slot(const struct shown *s, const struct sf_entry *e)
{
    /* By article, not by entry: each feed holds its own copy of an entry,
     * and an item of a category is shown in "all" too. */
    size_t i = (size_t)e->idhash & (s->cap - 1);
    while (s->keys[i] && (s->keys[i]->idhash != e->idhash || strcmp(s->keys[i]->id, e->id) != 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* ---- WebSub ----------------------------------------------------------- */

/* The topic of output path "SLUG/FILE" when FILE is a feed format written
 * (a new string, free with free()); NULL for anything else (feeds.opml). */
static char *
topic_of(const struct sf_config *c, const char *path)
{
    const char *slash = strchr(path, '/');
    if (!slash)
        return NULL;
    for (size_t k = 0; k < SF_FEED_COUNT; k++)
        if (c->output.formats[k] && strcmp(slash + 1, render_formats[k].file) == 0) {
            char *slug = xstrndup(path, (size_t)(slash - path));
            /* the very function the renderers made the self links with */
            char *topic = render_url(c, slug, render_formats[k].file);
            free(slug);
            return topic;
        }
    return NULL;
}

static bool
hub_configured(const struct sf_config *c, const char *hub)
{
    for (size_t i = 0; i < c->websub.n_hubs; i++)
        if (strcmp(c->websub.hubs[i], hub) == 0)
            return true;
    return false;
}

static void
push_warning(const struct sf_build_report *report, struct sf_build_result *res,
             const struct sf_error *e)
{
    res->warnings++;
    if (report && report->problem)
        report->problem(report->ctx, e, true);
}

/*
 * A run's notifications, in steps around the commit, so that a run killed
 * at any moment loses none: before the first rename, push_journal() adds
 * to the queue on disk every (hub, topic) the commit is about to change;
 * after the commit, push_send() sends the queue and keeps only what a hub
 * did not accept.  A kill in between leaves the notifications queued, and
 * the next run (or `snapfeed ping`) sends them, even though it finds the
 * files unchanged.  The queue's lock is held from the first step to the
 * last, so a run beside this one neither sends the same queue nor loses
 * its own.  Failing to read or write the queue never stops a feed from
 * being written or a notification from being sent: it is remembered and
 * reported by push_send().
 */
struct push {
    const struct sf_config *c;
    const struct sf_build_report *report;
    struct sf_build_result *res;
    struct sf_websub_opts opts;
    struct sf_websub_state *st;     /* NULL until opened, or when that failed */
    struct sf_websub_queue queued;  /* what the queue held, for hubs still configured */
    bool opened;
    struct sf_error err;            /* the first failure of the queue, if any */
};

static void
push_init(struct push *p, const struct sf_config *c, const struct sf_build_report *report,
          struct sf_build_result *res)
{
    *p = (struct push){.c = c, .report = report, .res = res,
                       .opts = {c->websub.timeout, c->websub.retries}};
    websub_queue_init(&p->queued);
}

static void
push_finish(struct push *p)
{
    websub_state_close(p->st);
    websub_queue_finish(&p->queued);
    error_finish(&p->err);
}

/* Takes the queue's lock and reads it, once; warnings go to the report. */
static void
push_open(struct push *p)
{
    if (p->opened)
        return;
    p->opened = true;
    const struct sf_config *c = p->c;
    struct sf_websub_queue all;
    struct sf_errors problems = {0};
    websub_queue_init(&all);
    /* Another run holds the queue for at most its own send. */
    long wait_ms = websub_budget_ms(&p->opts) + 10000;
    p->st = websub_state_open(c->output.state_dir, wait_ms, &all, &problems, &p->err);
    for (size_t i = 0; i < problems.n; i++)
        push_warning(p->report, p->res, &problems.v[i]);

    /* A hub taken out of feeds.yaml is not pinged again from the queue. */
    for (size_t i = 0; i < all.n; i++) {
        const struct sf_notice *n = &all.v[i];
        if (hub_configured(c, n->hub)) {
            websub_queue_add(&p->queued, n->hub, n->topic);
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(all.v[k].hub, n->hub) == 0;
        if (!seen) {
            struct sf_error w = {0};
            error_set(&w, c->output.state_dir, 0, 0,
                      "warning: %s is no longer in websub.hubs; its queued notifications "
                      "are dropped",
                      n->hub);
            push_warning(p->report, p->res, &w);
            error_finish(&w);
        }
    }
    errors_finish(&problems);
    websub_queue_finish(&all);
}

/* Appends to q what the queue held, then every hub with every topic among
 * paths (output paths; those that are no feed are skipped). */
static void
push_gather(const struct push *p, const char *const *paths, size_t n_paths,
            struct sf_websub_queue *q)
{
    for (size_t i = 0; i < p->queued.n; i++)
        websub_queue_add(q, p->queued.v[i].hub, p->queued.v[i].topic);
    for (size_t i = 0; i < n_paths; i++) {
        char *topic = topic_of(p->c, paths[i]);
        for (size_t h = 0; topic && h < p->c->websub.n_hubs; h++)
            websub_queue_add(q, p->c->websub.hubs[h], topic);
        free(topic);
    }
}

/*
 * Before the commit: durably queues every notification for the feeds among
 * paths (what output_commit() is about to rename).  A queue that would not
 * change is not written, so a run that changes no feed writes nothing here.
 */
static void
push_journal(struct push *p, const char *const *paths, size_t n_paths)
{
    if (!p->c->websub.n_hubs)
        return;
    push_open(p);
    struct sf_websub_queue q;
    websub_queue_init(&q);
    push_gather(p, paths, n_paths, &q);
    struct sf_error e = {0};
    if (q.n > p->queued.n && p->st && !websub_state_save(p->st, &q, &e) && !p->err.msg) {
        p->err = e;
        e = (struct sf_error){0};
    }
    error_finish(&e);
    websub_queue_finish(&q);
}

/*
 * After the commit: tells every hub of the topics among paths (the files
 * renamed into place), together with what the queue held, and writes back
 * what still fails: a notification leaves the queue only when a hub
 * accepted it.  What push_journal() queued for a file that was not renamed
 * after all (a commit that failed half way) is dropped again.  Returns
 * false with err set when the queue could not be read or written, now or
 * before the commit; the notifications are sent all the same.
 */
static bool
push_send(struct push *p, const char *const *paths, size_t n_paths, struct sf_error *err)
{
    const struct sf_config *c = p->c;
    struct sf_build_result *res = p->res;
    if (!c->websub.n_hubs)
        return true;
    push_open(p);
    struct sf_websub_queue q, left;
    websub_queue_init(&q);
    websub_queue_init(&left);
    push_gather(p, paths, n_paths, &q);

    char **results = websub_send(&p->opts, &q);
    for (size_t i = 0; i < q.n; i++) {
        if (results[i])
            websub_queue_add(&left, q.v[i].hub, q.v[i].topic);
        else {
            res->notified++;
            if (p->report && p->report->notified)
                p->report->notified(p->report->ctx, q.v[i].hub, q.v[i].topic);
        }
    }
    struct sf_error e = {0};
    bool saved = p->st && websub_state_save(p->st, &left, &e);
    if (!saved && !p->err.msg) {
        p->err = e;
        e = (struct sf_error){0};
    }
    error_finish(&e);
    res->queued = saved ? left.n : 0;
    for (size_t i = 0; i < q.n; i++)
        if (results[i])
            errors_add(&res->push_failed, q.v[i].hub, 0, 0, "%s: %s (%s)", q.v[i].topic,
                       results[i], saved ? "queued for the next run" : "could not be queued");
    websub_results_free(results, q.n);
    websub_queue_finish(&q);
    websub_queue_finish(&left);
    if (p->err.msg)
        error_set(err, p->err.path, p->err.line, p->err.col, "%s", p->err.msg);
    return !p->err.msg;
}

enum sf_build_status
build_ping(const struct sf_config *c, const struct sf_ping_opts *opts,
           const struct sf_build_report *report, struct sf_build_result *res,
           struct sf_error *err)
{
    *res = (struct sf_build_result){0};
    if (!c->websub.n_hubs) {
        error_set(err, c->path, 0, 0, "no hub to notify: websub.hubs is empty");
        return SF_BUILD_FAILED;
    }
    char **paths = NULL;
    size_t n = 0;
    if (opts->all) {
        const char *names[SF_FEED_COUNT];
        size_t n_names = 0;
        for (size_t k = 0; k < SF_FEED_COUNT; k++)
            if (c->output.formats[k])
                names[n_names++] = render_formats[k].file;
        if (!output_list_feeds(opts->output_dir ? opts->output_dir : c->output.dir, names,
                               n_names, &paths, &n, err))
            return SF_BUILD_FAILED;
    }
    struct push p;
    push_init(&p, c, report, res);
    bool ok = push_send(&p, (const char *const *)paths, n, err);
    push_finish(&p);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return !ok ? SF_BUILD_FAILED : res->push_failed.n ? SF_BUILD_PARTIAL : SF_BUILD_OK;
}

/* ---- rendering -------------------------------------------------------- */

static bool
stage(struct sf_output_batch *out, const char *slug, const char *file, const struct sf_buf *b,
      bool *changed, struct sf_error *err)
{
    char *path = slug ? xasprintf("%s/%s", slug, file) : xstrdup(file);
    bool ok = output_batch_stage(out, path, b->data ? b->data : "", b->len, changed, err);
    free(path);
    return ok;
}

/* A hash of every setting that changes what parsing yields: a manifest
 * made under other settings is not used. */
static uint64_t
parse_settings(const struct sf_config *c)
{
    struct sf_buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%s\x1f%s\x1f%zu", c->site.timezone, c->site.host ? c->site.host : "",
               c->n_inputs);
    for (size_t i = 0; i < c->n_inputs; i++) {
        const struct sf_input *in = &c->inputs[i];
        buf_printf(&b, "\x1e%s\x1f%d\x1f%d\x1f%s\x1f%d", in->path, (int)in->format,
                   (int)in->encoding, in->category, in->follow_symlinks);
        for (size_t k = 0; k < in->n_globs; k++)
            buf_printf(&b, "\x1f%s", in->globs[k]);
    }
    uint64_t h = hash_words(0, b.data, b.len);
    buf_finish(&b);
    return h;
}

/* A hash of every setting that changes which items are chosen or how any
 * file is rendered. */
static uint64_t
render_settings(const struct sf_config *c)
{
    struct sf_buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%u\x1f%d", SF_VERSION, c->site.title,
               c->site.base_url, c->site.language, c->site.description, c->site.author,
               c->output.max_items, c->output.pages);
    for (size_t k = 0; k < SF_FEED_COUNT; k++)
        buf_append_char(&b, c->output.formats[k] ? '1' : '0');
    for (size_t i = 0; i < c->n_feeds; i++) {
        const struct sf_feed_conf *f = &c->feeds[i];
        buf_printf(&b, "\x1e%s\x1f%s\x1f%s\x1f%s", f->category ? f->category : "",
                   f->slug ? f->slug : "", f->title ? f->title : "",
                   f->description ? f->description : "");
    }
    for (size_t i = 0; i < c->websub.n_hubs; i++)
        buf_printf(&b, "\x1d%s", c->websub.hubs[i]);
    uint64_t h = hash_words(0, b.data, b.len);
    buf_finish(&b);
    return h;
}

/* What one feed is rendered from (its feed files, its page and its
 * items' archive pages): equal digests, equal files.  pages[i] is the
 * archive page of item i ("" for none). */
static uint64_t
feed_digest(uint64_t settings, const struct sf_feed_sel *f, char (*pages)[SF_PAGE_NAME_LEN])
{
    uint64_t h = hash_words(settings, f->slug, strlen(f->slug));
    const char *texts[] = {f->title, f->description, f->category ? f->category : ""};
    for (size_t i = 0; i < SF_ARRAY_LEN(texts); i++)
        h = hash_words(h, texts[i], strlen(texts[i]));
    for (size_t i = 0; i < f->n_items; i++) {
        const struct sf_item_ref *it = &f->items[i];
        const struct sf_entry *e = it->entry;
        /* The capture (its time and file, and line: a JSON Lines file
         * holds many) counts too: the attribution names the capturing
         * site and time, which a re-capture with the same content changes. */
        int64_t v[] = {(int64_t)e->idhash, (int64_t)e->content, it->updated.t, it->updated.off,
                       e->published.t, e->published.off, e->captured_at.t, e->captured_at.set,
                       e->line};
        h = hash_words(h, v, sizeof v);
        h = hash_words(h, e->path, strlen(e->path));
        h = hash_words(h, it->slug ? it->slug : "", it->slug ? strlen(it->slug) : 0);
        h = hash_words(h, pages[i], strlen(pages[i]));
    }
    return h ? h : 1;
}

/* The files of the ":pages" unit. */
static const char *const index_files[] = {SF_PAGE_INDEX, SF_PAGE_CSS};

/* What the front page is rendered from: each feed's name, titles, item
 * count and newest date, no record. */
static uint64_t
index_digest(uint64_t settings, const struct sf_feed_sel *feeds, size_t n)
{
    uint64_t h = hash_words(settings, SF_PAGE_INDEX, strlen(SF_PAGE_INDEX));
    h = hash_words(h, render_page_css, strlen(render_page_css));
    for (size_t f = 0; f < n; f++) {
        const char *texts[] = {feeds[f].slug, feeds[f].title, feeds[f].description,
                               feeds[f].category ? feeds[f].category : ""};
        for (size_t i = 0; i < SF_ARRAY_LEN(texts); i++)
            h = hash_words(h, texts[i], strlen(texts[i]) + 1);
        const struct sf_time *t = feeds[f].n_items ? &feeds[f].items[0].entry->published : NULL;
        int64_t v[] = {(int64_t)feeds[f].n_items, t ? t->t : 0, t ? t->off : 0};
        h = hash_words(h, v, sizeof v);
    }
    return h ? h : 1;
}

/* Whether every file of files[0..n) is still exactly as the last run
 * wrote it (the same size and mtime). */
static bool
files_intact(struct sf_output *out, const struct sf_state_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t size, mtime;
        if (!output_stat(out, files[i].path, &size, &mtime) || size != files[i].size ||
            mtime != files[i].mtime_ns)
            return false;
    }
    return true;
}

/* Whether unit can be skipped: rendered from the same digest last time,
 * with the same number of files, all intact (a unit's file names follow
 * from what its digest covers). */
static bool
unit_intact(struct sf_output *out, const struct sf_state *old, const char *unit,
            uint64_t digest, size_t n_files)
{
    const struct sf_state_file *files;
    size_t n;
    return digest && state_unit(old, unit, &files, &n) == digest && n == n_files &&
           files_intact(out, files, n);
}

/* Records unit and its files' stats (as they are now) in the next state. */
static void
record_unit(struct sf_output *out, struct sf_state *next, const char *unit, uint64_t digest,
            const char *title, size_t n_items, const char *slug, const char *const *names,
            size_t n)
{
    state_add_unit(next, unit, digest, title, n_items);
    for (size_t i = 0; i < n; i++) {
        char *path = slug ? xasprintf("%s/%s", slug, names[i]) : xstrdup(names[i]);
        int64_t size = -1, mtime = -1;
        output_stat(out, path, &size, &mtime);
        state_add_file(next, path, size, mtime);
        free(path);
    }
}

/* Reads, once each, the records shown by the feeds not skipped. */
static void
fetch_shown(struct run *r, const struct sf_feed_sel *feeds, size_t n_feeds, const bool *skip,
            struct shown *shown)
{
    size_t n_refs = 0;
    for (size_t f = 0; f < n_feeds; f++)
        n_refs += feeds[f].n_items;
    shown->cap = 16;
    while (shown->cap < n_refs * 2)
        shown->cap *= 2;
    shown->keys = xcalloc(shown->cap, sizeof *shown->keys);
    shown->recs = xcalloc(shown->cap, sizeof *shown->recs);
    for (size_t f = 0; f < n_feeds; f++)
        for (size_t i = 0; i < feeds[f].n_items && !skip[f]; i++) {
            const struct sf_entry *e = feeds[f].items[i].entry;
            size_t k = shown_slot(shown, e);
            if (!shown->keys[k]) {
                shown->keys[k] = e;
                shown->recs[k] = fetch(r, e);
            }
        }
}

/* ---- archive pages ---------------------------------------------------- */

/*
 * Every item shown gets one archive page, in its own category's
 * directory (never in all/, whose items all appear in their categories'
 * feeds too: an item among the newest N overall is among the newest N of
 * its category).  Pages are named from the id (render_page_name()); two
 * ids of one category whose names collide are told apart by the wide
 * form, the id that sorts first keeping the short one, and an id whose
 * wide form collides too gets no page (its links fall back to its URL).
 * Names are kept per feed item, in one array: names[off[f] + i].
 */
struct pages {
    char (*names)[SF_PAGE_NAME_LEN];
    size_t *off;            /* per feed: where its items' names start */
};

static int
cmp_refs_by_hash(const void *pa, const void *pb)
{
    const struct sf_item_ref *a = *(const struct sf_item_ref *const *)pa;
    const struct sf_item_ref *b = *(const struct sf_item_ref *const *)pb;
    if (a->entry->idhash != b->entry->idhash)
        return a->entry->idhash < b->entry->idhash ? -1 : 1;
    return strcmp(a->entry->id, b->entry->id);
}

/* Names the pages of one category feed's items; by is scratch for
 * n_items pointers. */
static void
name_category_pages(const struct sf_feed_sel *f, char (*names)[SF_PAGE_NAME_LEN],
                    const struct sf_item_ref **by)
{
    for (size_t i = 0; i < f->n_items; i++)
        by[i] = &f->items[i];
    sf_sort(by, f->n_items, sizeof *by, cmp_refs_by_hash);
    for (size_t i = 0; i < f->n_items;) {
        size_t j = i + 1;
        while (j < f->n_items && by[j]->entry->idhash == by[i]->entry->idhash)
            j++;
        for (size_t k = i; k < j; k++) {
            char *name = names[by[k] - f->items];
            const struct sf_entry *e = by[k]->entry;
            render_page_name(e->idhash, e->id, k > i, name);
            for (size_t m = i + 1; m < k && name[0]; m++)
                if (strcmp(names[by[m] - f->items], name) == 0)
                    name[0] = '\0';
        }
        i = j;
    }
}

/* Names every item's page (all empty when output.pages is off). */
static void
pages_assign(const struct sf_config *c, const struct sf_feed_sel *feeds, size_t n_feeds,
             struct pages *pg)
{
    size_t n_refs = 0, max_items = 1;
    pg->off = xcalloc(n_feeds + 1, sizeof *pg->off);
    for (size_t f = 0; f < n_feeds; f++) {
        pg->off[f] = n_refs;
        n_refs += feeds[f].n_items;
        if (feeds[f].n_items > max_items)
            max_items = feeds[f].n_items;
    }
    pg->off[n_feeds] = n_refs;
    pg->names = xcalloc(n_refs ? n_refs : 1, sizeof *pg->names);
    if (!c->output.pages)
        return;
    const struct sf_item_ref **by = xcalloc(max_items, sizeof *by);
    for (size_t f = 0; f < n_feeds; f++)
        if (feeds[f].category)
            name_category_pages(&feeds[f], pg->names + pg->off[f], by);
    free(by);

    /* all/: each item's page is the one its category gave it, found by
     * id (each feed holds its own copy of an entry). */
    size_t cap = 16;
    while (cap < n_refs * 2)
        cap *= 2;
    const struct sf_entry **keys = xcalloc(cap, sizeof *keys);
    const char **name_of = xcalloc(cap, sizeof *name_of);
    for (int pass = 0; pass < 2; pass++)   /* the categories' names, then all/'s */
        for (size_t f = 0; f < n_feeds; f++) {
            bool is_all = !feeds[f].category;
            if (is_all != (pass == 1))
                continue;
            for (size_t i = 0; i < feeds[f].n_items; i++) {
                const struct sf_entry *e = feeds[f].items[i].entry;
                size_t k = (size_t)(e->idhash * 0x9E3779B97F4A7C15u) & (cap - 1);
                while (keys[k] && (keys[k]->idhash != e->idhash || strcmp(keys[k]->id, e->id)))
                    k = (k + 1) & (cap - 1);
                if (pass == 0) {
                    keys[k] = e;
                    name_of[k] = pg->names[pg->off[f] + i];
                } else if (keys[k]) {
                    memcpy(pg->names[pg->off[f] + i], name_of[k], SF_PAGE_NAME_LEN);
                }
            }
        }
    free(keys);
    free(name_of);
}

static void
pages_finish(struct pages *pg)
{
    free(pg->names);
    free(pg->off);
}

/* The files of feed f's unit: its feed formats, then (with pages) its
 * index.html and its items' archive pages.  *names is a new array of
 * borrowed strings (free the array only). */
static size_t
unit_files(const struct sf_config *c, const struct sf_feed_sel *f,
           char (*pages)[SF_PAGE_NAME_LEN], const char ***names)
{
    const char **v = xcalloc(SF_FEED_COUNT + 1 + f->n_items, sizeof *v);
    size_t n = 0;
    for (size_t k = 0; k < SF_FEED_COUNT; k++)
        if (c->output.formats[k])
            v[n++] = render_formats[k].file;
    if (c->output.pages) {
        v[n++] = SF_PAGE_INDEX;
        for (size_t i = 0; i < f->n_items && f->category; i++)
            if (pages[i][0])
                v[n++] = pages[i];
    }
    *names = v;
    return n;
}

/* Stages the files of one feed that may have changed: each format, and
 * with pages its index.html and its items' archive pages.  changed (room
 * for SF_FEED_COUNT + 1) gets the feed files and index.html that changed,
 * *n_pages the number of archive pages that did. */
static bool
write_feed(struct sf_output_batch *out, const struct sf_render_feed *rf, struct sf_buf *b,
           const char **changed, size_t *n_changed, size_t *n_pages, struct sf_error *err)
{
    const struct sf_config *c = rf->config;
    bool ch;
    *n_changed = *n_pages = 0;
    for (size_t k = 0; k < SF_FEED_COUNT; k++) {
        if (!c->output.formats[k])
            continue;
        buf_clear(b);
        if (!render_formats[k].render(rf, b)) {
            error_set(err, rf->slug, 0, 0, "cannot render the %s feed", render_formats[k].name);
            return false;
        }
        if (!stage(out, rf->slug, render_formats[k].file, b, &ch, err))
            return false;
        if (ch)
            changed[(*n_changed)++] = render_formats[k].file;
    }
    if (!c->output.pages)
        return true;
    buf_clear(b);
    if (!render_page_feed(rf, b)) {
        error_set(err, rf->slug, 0, 0, "cannot render the feed's page");
        return false;
    }
    if (!stage(out, rf->slug, SF_PAGE_INDEX, b, &ch, err))
        return false;
    if (ch)
        changed[(*n_changed)++] = SF_PAGE_INDEX;
    for (size_t i = 0; i < rf->n_items && rf->category; i++) {
        const struct sf_render_item *it = &rf->items[i];
        if (!it->page)
            continue;
        buf_clear(b);
        if (!render_page_item(rf, it, b)) {
            error_set(err, rf->slug, 0, 0, "cannot render the page of %s", it->rec->id);
            return false;
        }
        if (!stage(out, rf->slug, it->page, b, &ch, err))
            return false;
        *n_pages += ch;
    }
    return true;
}

/* Stages the front page and the stylesheet, unless the last run left
 * them as they must be; *digest is what they are rendered from. */
static bool
write_index(struct sf_output *out, struct sf_output_batch *batch, const struct sf_state *old,
            uint64_t settings, const struct sf_config *c, const struct sf_feed_sel *feeds,
            size_t n_feeds, struct sf_buf *b, uint64_t *digest, struct sf_error *err)
{
    *digest = index_digest(settings, feeds, n_feeds);
    if (unit_intact(out, old, ":pages", *digest, SF_ARRAY_LEN(index_files)))
        return true;
    struct sf_page_feed *pf = xcalloc(n_feeds ? n_feeds : 1, sizeof *pf);
    for (size_t f = 0; f < n_feeds; f++)
        pf[f] = (struct sf_page_feed){
            .slug = feeds[f].slug,
            .title = feeds[f].title,
            .description = feeds[f].description,
            .category = feeds[f].category,
            .n_items = feeds[f].n_items,
            .newest = feeds[f].n_items ? feeds[f].items[0].entry->published
                                       : (struct sf_time){0},
        };
    buf_clear(b);
    bool ok = render_page_index(c, pf, n_feeds, b);
    free(pf);
    if (!ok) {
        error_set(err, SF_PAGE_INDEX, 0, 0, "cannot render the front page");
        return false;
    }
    return stage(batch, NULL, SF_PAGE_INDEX, b, NULL, err) &&
           output_batch_stage(batch, SF_PAGE_CSS, render_page_css, strlen(render_page_css), NULL,
                              err);
}

/*
 * Rendering and staging, one feed at a time on each of a few threads:
 * feeds share nothing but the records they read, and each stages into a
 * batch of its own, joined in feed order afterwards, so what is written
 * and reported is the same with any number of threads.  A feed's items'
 * texts are made once for its three formats and pages, and freed with it:
 * only the feeds in progress hold them.
 */
struct feed_work {
    const struct sf_render_feed *rf;    /* NULL: the feed is intact, skipped */
    struct sf_render_item *items;       /* rf's, to point at their texts */
    struct sf_output_batch *batch;
    const char *changed[SF_FEED_COUNT + 1];
    size_t n_changed, n_pages;
    bool ok;
    struct sf_error err;
};

struct feed_pool {
    struct feed_work *work;
    size_t n, next;
    pthread_mutex_t mu;
};

static void *
feed_main(void *arg)
{
    struct feed_pool *p = arg;
    struct sf_buf b;
    buf_init(&b, 0);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t f = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->mu);
        if (f == p->n)
            break;
        struct feed_work *w = &p->work[f];
        if (!w->rf) {
            w->ok = true;
            continue;
        }
        size_t n = w->rf->n_items;
        struct sf_render_text *texts = xcalloc(n ? n : 1, sizeof *texts);
        for (size_t i = 0; i < n; i++) {
            render_text_make(w->items[i].rec, &texts[i]);
            w->items[i].text = &texts[i];
        }
        w->ok = write_feed(w->batch, w->rf, &b, w->changed, &w->n_changed, &w->n_pages, &w->err);
        for (size_t i = 0; i < n; i++) {
            w->items[i].text = NULL;
            render_text_finish(&texts[i]);
        }
        free(texts);
    }
    buf_finish(&b);
    return NULL;
}

static void
write_feeds_on_threads(struct feed_work *work, size_t n, unsigned jobs)
{
    struct feed_pool p = {.work = work, .n = n};
    size_t busy = 0;
    for (size_t f = 0; f < n; f++)
        busy += work[f].rf != NULL;
    pthread_mutex_init(&p.mu, NULL);
    run_threads(jobs < busy ? jobs : busy, feed_main, &p);
    pthread_mutex_destroy(&p.mu);
}

/* ---- the second half of a run ---------------------------------------- */

/* The second half of a run: choose each feed's items, and for the feeds
 * that may have changed read their records, render, stage; commit. */
static bool
write_feeds(struct run *r, struct sf_output *out, const struct sf_state *old,
            struct sf_state *next, uint64_t settings, struct sf_error *err)
{
    const struct sf_config *c = r->config;
    const struct sf_build_report *report = r->report;
    struct sf_build_result *res = r->res;

    const struct sf_feed_sel *feeds;
    size_t n_feeds;
    if (!catalog_select(r->catalog, &feeds, &n_feeds, err))
        return false;
    if (r->chosen_out)
        chosen_out_feeds(r->chosen_out, feeds, n_feeds);
    struct pages pg;
    pages_assign(c, feeds, n_feeds, &pg);
    uint64_t *digests = xcalloc(n_feeds + 1, sizeof *digests);
    bool *skip = xcalloc(n_feeds + 1, sizeof *skip);
    size_t n_refs = pg.off[n_feeds];
    for (size_t f = 0; f < n_feeds; f++) {
        const char **names;
        size_t n_names = unit_files(c, &feeds[f], pg.names + pg.off[f], &names);
        digests[f] = feed_digest(settings, &feeds[f], pg.names + pg.off[f]);
        skip[f] = unit_intact(out, old, feeds[f].slug, digests[f], n_names);
        free(names);
    }
    struct shown shown = {0};
    fetch_shown(r, feeds, n_feeds, skip, &shown);

    struct sf_render_feed *rfeeds = xcalloc(n_feeds ? n_feeds : 1, sizeof *rfeeds);
    struct sf_render_item *ritems = xcalloc(n_refs ? n_refs : 1, sizeof *ritems);
    struct sf_buf b;
    buf_init(&b, 0);
    bool ok = false;
    size_t used = 0;
    for (size_t f = 0; f < n_feeds; f++) {
        struct sf_render_feed *rf = &rfeeds[f];
        *rf = (struct sf_render_feed){
            .config = c,
            .slug = feeds[f].slug,
            .title = feeds[f].title,
            .description = feeds[f].description,
            .category = feeds[f].category,
            .items = ritems + used,
        };
        for (size_t i = 0; i < feeds[f].n_items && !skip[f]; i++) {
            const struct sf_item_ref *it = &feeds[f].items[i];
            struct sf_record *rec = shown.recs[shown_slot(&shown, it->entry)];
            const char *page = pg.names[pg.off[f] + i];
            if (rec)
                ritems[used + rf->n_items++] =
                    (struct sf_render_item){rec, NULL, it->updated, it->slug, *page ? page : NULL};
        }
        used += rf->n_items;
        /* A record that could not be read leaves its feed short: render it
         * again next time. */
        if (!skip[f] && rf->n_items != feeds[f].n_items)
            digests[f] = 0;
    }

    struct feed_work *work = xcalloc(n_feeds ? n_feeds : 1, sizeof *work);
    for (size_t f = 0; f < n_feeds; f++) {
        work[f].rf = skip[f] ? NULL : &rfeeds[f];
        work[f].items = ritems + (rfeeds[f].items - ritems);   /* the same, writable */
        work[f].batch = output_batch_new(out);
    }
    write_feeds_on_threads(work, n_feeds, r->jobs);
    bool feeds_ok = true;
    for (size_t f = 0; f < n_feeds; f++) {
        struct feed_work *w = &work[f];
        output_batch_join(w->batch);
        if (feeds_ok && !w->ok) {
            feeds_ok = false;
            error_set(err, w->err.path, w->err.line, w->err.col, "%s", w->err.msg);
        }
        error_finish(&w->err);
        if (!feeds_ok)
            continue;
        res->feeds++;
        res->changed_feeds += w->n_changed + w->n_pages > 0;
        report_progress(r, f + 1, n_feeds);
        if (report && report->feed)
            report->feed(report->ctx, feeds[f].slug, feeds[f].title, feeds[f].n_items,
                         w->changed, w->n_changed, w->n_pages);
    }
    free(work);
    if (!feeds_ok)
        goto out;
    struct sf_output_batch *top = output_batch_new(out);
    uint64_t pages_digest = 0;
    bool top_ok = !c->output.pages ||
                  write_index(out, top, old, settings, c, feeds, n_feeds, &b, &pages_digest, err);

    /* The list of feeds depends on their names and titles only. */
    uint64_t opml_digest = hash_words(settings, "opml", 4);
    for (size_t f = 0; f < n_feeds; f++) {
        opml_digest = hash_words(opml_digest, feeds[f].slug, strlen(feeds[f].slug) + 1);
        opml_digest = hash_words(opml_digest, feeds[f].title, strlen(feeds[f].title) + 1);
    }
    const char *opml = "feeds.opml";
    if (top_ok && !unit_intact(out, old, ":opml", opml_digest, 1)) {
        buf_clear(&b);
        top_ok = render_opml(c, rfeeds, n_feeds, &b) && stage(top, NULL, opml, &b, NULL, err);
    }
    output_batch_join(top);
    if (!top_ok)
        goto out;
    /* Before the first rename: a run killed after it and before the hubs
     * accepted the notifications must leave them queued, as the next run
     * will find these files unchanged. */
    if (r->push) {
        const char *const *staged;
        size_t n_staged = output_staged(out, &staged);
        push_journal(r->push, staged, n_staged);
    }
    if (!output_commit(out, err))
        goto out;

    for (size_t f = 0; f < n_feeds; f++) {
        const char **names;
        size_t n_names = unit_files(c, &feeds[f], pg.names + pg.off[f], &names);
        record_unit(out, next, feeds[f].slug, digests[f], feeds[f].title, feeds[f].n_items,
                    feeds[f].slug, names, n_names);
        free(names);
    }
    record_unit(out, next, ":opml", opml_digest, "-", 0, NULL, &opml, 1);
    if (c->output.pages)
        record_unit(out, next, ":pages", pages_digest, "-", 0, NULL, index_files,
                    SF_ARRAY_LEN(index_files));
    ok = true;
out:
    for (size_t i = 0; i < shown.cap; i++)
        record_free(shown.recs[i]);
    free(shown.keys);
    free(shown.recs);
    free(rfeeds);
    free(ritems);
    free(digests);
    free(skip);
    pages_finish(&pg);
    buf_finish(&b);
    return ok;
}

/* What the `chosen` file depends on: every setting of parsing, choosing
 * and rendering, and the program's version (in render_settings()). */
static uint64_t
chosen_settings(const struct sf_config *c)
{
    uint64_t v[] = {parse_settings(c), render_settings(c)};
    return hash_words(0, v, sizeof v);
}

static int
cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/* Whether an item of `chosen` names one of the inputs and a file below
 * it, as every item the walk found does: its checksum catches damage,
 * not a file written wrong, and the item is read again by that name. */
static bool
item_in_inputs(const struct sf_config *c, const struct sf_entry *e)
{
    return e->input < c->n_inputs && path_inside(e->path, c->inputs[e->input].path);
}

/*
 * A run whose only changes are new files: their entries merged into what
 * the last run chose become the catalog, instead of every record of the
 * manifest.  False when that cannot be done with certainty (then the
 * caller takes the full path).
 */
static bool
merge_chosen(struct run *r)
{
    const struct sf_config *c = r->config;
    uint64_t old_digest;
    if (r->unrecorded || !manifest_additions_only(r->manifest, &old_digest))
        return false;
    uint64_t *want = xcalloc(r->n_fresh ? r->n_fresh : 1, sizeof *want);
    for (size_t i = 0; i < r->n_fresh; i++)
        want[i] = r->fresh[i].idhash;
    sf_sort(want, r->n_fresh, sizeof *want, cmp_u64);
    r->chosen = chosen_load(c->output.state_dir, chosen_settings(c), old_digest, want,
                            r->n_fresh);
    free(want);
    if (!r->chosen)
        return false;
    const struct sf_entry *items = NULL;
    size_t n = 0;
    bool ok = chosen_merge(r->chosen, r->fresh, r->n_fresh, c->output.max_items);
    if (ok)
        n = chosen_items(r->chosen, &items);
    /* (so many items might be too many categories: the full path says
     * which are refused, as a fresh run does) */
    ok = ok && n + r->n_fresh < SF_MAX_FEEDS;
    for (size_t i = 0; ok && i < n; i++)
        ok = item_in_inputs(c, &items[i]);
    if (!ok) {
        chosen_free(r->chosen);
        r->chosen = NULL;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        add_entry(r, &items[i]);
    return true;
}

static bool
has_jsonl(const struct sf_config *c)
{
    for (size_t i = 0; i < c->n_inputs; i++)
        if (c->inputs[i].format == SF_INPUT_JSONL)
            return true;
    return false;
}

/* Opens the manifest; without one the run is slower, never wrong. */
static void
open_manifest(struct run *r, const struct sf_build_opts *opts)
{
    const struct sf_config *c = r->config;
    char *note = NULL;
    struct sf_error merr = {0};
    r->manifest = manifest_open(c->output.state_dir, parse_settings(c), opts->started, &note,
                                &merr);
    if (!r->manifest) {
        char *m = error_format(&merr);
        error_set(&merr, NULL, 0, 0, "warning: %s; reading every capture", m);
        report_problem(r, &merr, true);
        free(m);
    } else if (note) {
        error_set(&merr, NULL, 0, 0, "warning: %s", note);
        report_problem(r, &merr, true);
    }
    free(note);
    error_finish(&merr);
}

/* Opens the dirs cache, for inputs with settled_after. */
static void
open_dirs(struct run *r, const struct sf_build_opts *opts)
{
    char *note = NULL;
    r->dirs_cache = dirs_open(r->config->output.state_dir, r->config, opts->started,
                              opts->rescan, &note);
    if (note) {
        struct sf_error w = {0};
        error_set(&w, NULL, 0, 0, "warning: %s", note);
        report_problem(r, &w, true);
        error_finish(&w);
        free(note);
    }
}

/* A cache not written costs the next run time, not correctness: a warning. */
static void
commit_dirs(struct run *r)
{
    struct sf_error w = {0};
    if (!dirs_commit(r->dirs_cache, &w)) {
        char *m = error_format(&w);
        error_set(&w, NULL, 0, 0, "warning: %s; the next run lists every directory", m);
        report_problem(r, &w, true);
        free(m);
    }
    error_finish(&w);
}

/* One build; *unreadable is set when the manifest, trusted by the walk,
 * could not be read back (and has been removed). */
static enum sf_build_status
build_attempt(const struct sf_config *c, const struct sf_build_opts *opts,
              const struct sf_build_report *report, struct sf_build_result *res,
              struct sf_error *err, bool *unreadable)
{
    enum sf_build_status status = SF_BUILD_FAILED;
    struct run r = {.config = c, .report = report, .res = res,
                    .jobs = opts->jobs ? opts->jobs : 1};
    struct sf_output *out = NULL;
    struct sf_state *old = NULL, *next = NULL;
    *res = (struct sf_build_result){0};
    struct push push;
    push_init(&push, c, report, res);
    if (!opts->dry_run && !opts->no_push)
        r.push = &push;

    struct sf_zone zone;
    if (!when_zone_init(&zone, c->site.timezone)) {
        error_set(err, c->path, 0, 0, "unknown timezone '%s'", c->site.timezone);
        goto out;
    }
    const char *dir = opts->output_dir ? opts->output_dir : c->output.dir;
    out = output_open(dir, opts->lock, opts->dry_run, err);
    if (!out) {
        if (err && err->msg && strncmp(err->msg, "busy: ", 6) == 0)
            status = SF_BUILD_BUSY;
        goto out;
    }

    r.reader = ingest_reader_new(c, &zone, true);
    r.catalog = catalog_new(c, c->output.state_dir);
    if (!opts->dry_run && !opts->no_manifest)
        open_manifest(&r, opts);
    /* Only with a manifest: what the dirs cache saves is statting files
     * that the manifest then finds unchanged. */
    if (r.manifest)
        open_dirs(&r, opts);
    /* Deferred only with an old manifest to compare with, and without
     * JSON Lines (whose big files have no record, see hand_on_part()). */
    r.defer = r.manifest && !manifest_changed(r.manifest) && !has_jsonl(c);
    if (r.defer)
        manifest_set_defer(r.manifest);
    pool_start(&r, &zone, opts->jobs);
    /* Threads to stat with: only when most files should come from the
     * manifest, where statting is the run.  With every file to parse the
     * workers have the CPUs, and extra statting threads only took turns
     * with them (a cold build of 100k was 5-9% slower with them). */
    unsigned stat_threads = r.manifest && !manifest_changed(r.manifest) ? r.jobs : 1;
    bool walked = ingest_walk(c, stat_threads, r.dirs_cache, scan_file, &r, err);
    pool_stop(&r);
    if (!walked)
        goto out;
    dirs_counts(r.dirs_cache, &res->dirs_trusted, &res->dirs_listed);
    if (!r.too_many)
        commit_dirs(&r);
    /* A JSON Lines file is one file but many captures: counted once committed. */
    if (r.too_many || res->captures > c->limits.max_captures) {
        error_set(err, c->path, 0, 0,
                  "more than %u captures in one run (limits.max_captures); refusing to build",
                  c->limits.max_captures);
        goto out;
    }
    res->parsed = r.parsed;
    res->reused = r.reused;
    if (r.manifest) {
        manifest_end_walk(r.manifest, replay_entry, &r);
        if (!manifest_commit(r.manifest, err))
            goto out;
    }
    if (r.defer && manifest_changed(r.manifest) && !merge_chosen(&r) &&
        !manifest_replay_all(r.manifest, replay_entry, &r)) {
        manifest_discard(r.manifest);
        *unreadable = true;
        goto out;
    }

    /* With the same captures, settings and program as the last run, and
     * its files as it left them, there is nothing to do. */
    uint64_t settings = render_settings(c);
    uint64_t run_key = 0;
    if (r.manifest) {
        uint64_t digest = manifest_digest(r.manifest);
        run_key = hash_words(settings, &digest, sizeof digest);
        old = state_load(c->output.state_dir);
    } else {
        old = state_new(0);
    }
    const struct sf_state_file *files;
    size_t n_files = state_files(old, &files);
    if (run_key && state_run_key(old) == run_key && n_files && files_intact(out, files, n_files)) {
        res->unchanged = true;   /* nothing to write; only the queue is sent */
        for (size_t i = 0; i < state_units(old); i++) {
            const char *name, *title;
            size_t n_items;
            state_unit_info(old, i, &name, &title, &n_items);
            if (name[0] == ':')
                continue;   /* not a feed */
            res->feeds++;
            if (report && report->feed)
                report->feed(report->ctx, name, title, n_items, NULL, 0, 0);
        }
    }
    bool wrote = true;
    if (!res->unchanged && r.manifest && !manifest_changed(r.manifest) &&
        !manifest_replay(r.manifest, replay_entry, &r)) {
        /* nothing changed, but the output needs writing: the catalog is
         * filled from the manifest's entries, which the walk did not read */
        manifest_discard(r.manifest);
        *unreadable = true;
        goto out;
    }
    if (!res->unchanged) {
        if (r.manifest && !has_jsonl(c)) {
            r.chosen_out = chosen_out_new(c->output.state_dir, chosen_settings(c),
                                          manifest_digest(r.manifest));
            if (r.chosen_out && r.chosen && !chosen_out_merged_ids(r.chosen_out, r.chosen)) {
                chosen_out_abandon(r.chosen_out);
                r.chosen_out = NULL;
            } else if (r.chosen_out && !r.chosen) {
                catalog_set_id_sink(r.catalog, chosen_out_id, r.chosen_out);
            }
        }
        next = state_new(run_key);
        wrote = write_feeds(&r, out, old, next, settings, err);
        /* Before the output state: a run stopped in between is no
         * unchanged run, and writes this file again. */
        if (wrote && r.chosen_out && catalog_complete(r.catalog))
            chosen_out_commit(r.chosen_out);
        else
            chosen_out_abandon(r.chosen_out);
        r.chosen_out = NULL;
        wrote = wrote && (!r.manifest || state_save(next, c->output.state_dir, err));
    }
    res->refilled = r.refilled;

    const char *const *paths;
    res->n_changed = output_changed(out, &paths);
    res->changed = xcalloc(res->n_changed ? res->n_changed : 1, sizeof *res->changed);
    for (size_t i = 0; i < res->n_changed; i++)
        res->changed[i] = xstrdup(paths[i]);
    /* Only now, with every changed file renamed into place: a hub fetches
     * the topic the moment it hears of it.  Files renamed before a failure
     * are announced too: the next run would find them unchanged (and the
     * queue holds them already, in case this run dies before the send). */
    if (r.push) {
        struct sf_error perr = {0};
        bool pushed = push_send(r.push, (const char *const *)res->changed, res->n_changed,
                                wrote ? err : &perr);
        if (!wrote && !pushed && report && report->problem)
            report->problem(report->ctx, &perr, false);
        error_finish(&perr);
        if (!pushed && wrote)
            goto out;
    }
    if (!wrote)
        goto out;
    status = res->rejected || res->push_failed.n ? SF_BUILD_PARTIAL : SF_BUILD_OK;
out:
    push_finish(&push);
    state_free(old);
    state_free(next);
    chosen_out_abandon(r.chosen_out);
    chosen_free(r.chosen);
    for (size_t i = 0; i < r.n_fresh; i++) {
        free((char *)r.fresh[i].id);
        free((char *)r.fresh[i].category);
        free((char *)r.fresh[i].path);
    }
    free(r.fresh);
    catalog_free(r.catalog);
    manifest_free(r.manifest);
    dirs_free(r.dirs_cache);
    ingest_reader_free(r.reader);
    output_close(out);
    return status;
}

enum sf_build_status
build_run(const struct sf_config *c, const struct sf_build_opts *opts,
          const struct sf_build_report *report, struct sf_build_result *res,
          struct sf_error *err)
{
    bool unreadable = false;
    enum sf_build_status status = build_attempt(c, opts, report, res, err, &unreadable);
    if (!unreadable)
        return status;
    /* Records whose checksums hold but whose entries do not decode: only a
     * forged or miswritten manifest has them, and a walk that does not
     * decode an unchanged file's entries cannot see it.  Nothing has been
     * written yet; without the manifest, the build reads every capture. */
    struct sf_error warn = {0};
    error_set(&warn, c->output.state_dir, 0, 0,
              "warning: the manifest's entries cannot be read back; reading every capture again");
    push_warning(report, res, &warn);
    error_finish(&warn);
    build_result_finish(res);
    return build_attempt(c, opts, report, res, err, &unreadable);
}

void
build_result_finish(struct sf_build_result *res)
{
    for (size_t i = 0; i < res->n_changed; i++)
        free(res->changed[i]);
    free(res->changed);
    res->changed = NULL;
    res->n_changed = 0;
    errors_finish(&res->push_failed);
}
