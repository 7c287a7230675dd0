/* SPDX-License-Identifier: MIT */
/* build.h - one run: ingest, catalog, render every feed, write what changed */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "output.h"
#include "util.h"

struct sf_build_opts {
    const char *output_dir;     /* overrides output.dir when not NULL */
    bool dry_run;               /* compare and report, write nothing, notify no hub */
    bool no_push;               /* write the feeds, but notify no hub and queue nothing */
    enum sf_output_lock lock;
    unsigned jobs;              /* parsing and rendering threads; 0 or 1: the calling thread */
    bool no_manifest;           /* parse every capture; neither read nor write the manifest */
    bool rescan;                /* list every directory, trusting no settled one */
    int64_t started;            /* when the run began (seconds): the manifest's racy check */
};

/* How far a run has got, for a progress line. */
struct sf_build_progress {
    size_t files;           /* files read so far (parsed or known from the manifest) */
    size_t rejected;        /* inputs rejected so far */
    size_t feeds;           /* 0 while reading; then the feeds to write */
    size_t feeds_done;
};

/* How the run reports as it goes; main.c prints.  Any callback may be NULL. */
struct sf_build_report {
    void *ctx;
    /* a rejected input (warning false) or a warning */
    void (*problem)(void *ctx, const struct sf_error *e, bool warning);
    /* one written feed: its slug, title, item count, the feed files and
     * index.html that changed, and how many of its items' archive pages did */
    void (*feed)(void *ctx, const char *slug, const char *title, size_t n_items,
                 const char *const *changed, size_t n_changed, size_t n_pages);
    /* a WebSub hub accepted the news that topic changed */
    void (*notified)(void *ctx, const char *hub, const char *topic);
    /* after each file read and each feed written, on the calling thread;
     * cheap to call, so the callee decides when to show anything */
    void (*progress)(void *ctx, const struct sf_build_progress *p);
};

struct sf_build_result {
    size_t captures;        /* records read plus inputs rejected */
    size_t rejected;
    size_t warnings;
    size_t parsed;          /* files parsed */
    size_t reused;          /* files taken from the manifest unparsed */
    size_t refilled;        /* catalog entries read back from the manifest */
    size_t dirs_trusted;    /* directories taken from the dirs cache (settled_after) */
    size_t dirs_listed;     /* directories of such inputs listed and statted */
    size_t feeds;           /* feeds written, "all" included */
    bool unchanged;         /* nothing could have changed: no feed was looked at */
    size_t changed_feeds;   /* feeds with at least one changed file */
    char **changed;         /* paths (relative to the output) that changed */
    size_t n_changed;
    size_t notified;        /* WebSub notifications a hub accepted */
    size_t queued;          /* notifications left in the queue for the next run */
    /* one per notification still failing after its retries: path is the
     * hub, msg "TOPIC: why (queued for the next run)" */
    struct sf_errors push_failed;
};

enum sf_build_status {
    SF_BUILD_OK,
    SF_BUILD_PARTIAL,       /* written, but some input was rejected or a hub failed */
    SF_BUILD_FAILED,        /* nothing was written, or writing failed: err says why */
    SF_BUILD_BUSY,          /* another run holds the lock */
    SF_BUILD_STATUS_COUNT
};

/*
 * Runs one build of configuration c.  Fills res (free with
 * build_result_finish()); on SF_BUILD_FAILED and SF_BUILD_BUSY err says
 * why.  Files already in place are either left as they were or replaced
 * whole, whatever happens.  Once every changed file is in place, each
 * WebSub hub is told of each changed feed, with what the queue held
 * (unless dry_run or no_push); what still fails is queued again and
 * listed in res->push_failed (the status is then SF_BUILD_PARTIAL).
 */
enum sf_build_status build_run(const struct sf_config *c, const struct sf_build_opts *opts,
                               const struct sf_build_report *report,
                               struct sf_build_result *res, struct sf_error *err);

struct sf_ping_opts {
    const char *output_dir;     /* where the feeds are; NULL: output.dir */
    bool all;                   /* notify every feed in place, not only the queue */
};

/*
 * Sends the queued WebSub notifications (with all, also one per hub for
 * every feed file in the output directory) and queues again what still
 * fails.  Fills res like build_run() (notified, queued, push_failed);
 * SF_BUILD_PARTIAL when a notification failed, SF_BUILD_FAILED with err
 * set when there are no hubs or the queue cannot be read or written.
 */
enum sf_build_status build_ping(const struct sf_config *c, const struct sf_ping_opts *opts,
                                const struct sf_build_report *report,
                                struct sf_build_result *res, struct sf_error *err);

void build_result_finish(struct sf_build_result *res);
