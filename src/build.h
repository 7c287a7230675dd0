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
    bool dry_run;               /* compare and report, write nothing */
    enum sf_output_lock lock;
    unsigned jobs;              /* parsing threads; 0 or 1: parse on the calling thread */
    bool no_manifest;           /* parse every capture; neither read nor write the manifest */
    int64_t started;            /* when the run began (seconds): the manifest's racy check */
};

/* How the run reports as it goes; main.c prints.  Any callback may be NULL. */
struct sf_build_report {
    void *ctx;
    /* a rejected input (warning false) or a warning */
    void (*problem)(void *ctx, const struct sf_error *e, bool warning);
    /* one written feed: its slug, title, item count and the files that changed */
    void (*feed)(void *ctx, const char *slug, const char *title, size_t n_items,
                 const char *const *changed, size_t n_changed);
};

struct sf_build_result {
    size_t captures;        /* records read plus inputs rejected */
    size_t rejected;
    size_t warnings;
    size_t parsed;          /* files parsed */
    size_t reused;          /* files taken from the manifest unparsed */
    size_t feeds;           /* feeds written, "all" included */
    bool unchanged;         /* nothing could have changed: no feed was looked at */
    size_t changed_feeds;   /* feeds with at least one changed file */
    char **changed;         /* paths (relative to the output) that changed */
    size_t n_changed;
};

enum sf_build_status {
    SF_BUILD_OK,
    SF_BUILD_PARTIAL,       /* written, but some input was rejected */
    SF_BUILD_FAILED,        /* nothing was written, or writing failed: err says why */
    SF_BUILD_BUSY,          /* another run holds the lock */
    SF_BUILD_STATUS_COUNT
};

/*
 * Runs one build of configuration c.  Fills res (free with
 * build_result_finish()); on SF_BUILD_FAILED and SF_BUILD_BUSY err says
 * why.  Files already in place are either left as they were or replaced
 * whole, whatever happens.
 */
enum sf_build_status build_run(const struct sf_config *c, const struct sf_build_opts *opts,
                               const struct sf_build_report *report,
                               struct sf_build_result *res, struct sf_error *err);

void build_result_finish(struct sf_build_result *res);
