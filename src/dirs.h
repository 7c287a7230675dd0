/* SPDX-License-Identifier: MIT */
/* dirs.h - the listings of settled directories, so a rerun need not stat their files */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "config.h"
#include "util.h"

/*
 * Statting every capture is most of what a rerun over an unchanged archive
 * costs.  For an input with settled_after, the state directory's `dirs`
 * file keeps, for each directory the walk went through whole, its own stat
 * and its entries' names and stats.  A later walk takes a directory's
 * listing from there instead of listing and statting it when:
 *
 *   - the directory's stat is the same (dev, inode, mtime, ctime): no name
 *     in it was added, removed or renamed since;
 *   - it was settled when it was recorded: no entry in it (and not the
 *     directory) had been modified for settled_after, so nothing was still
 *     being written; and
 *   - it was recorded less than settled_after ago (between half of that and
 *     all of it, spread by path so that a run re-checks a slice of the
 *     archive, not all of it at once).
 *
 * Subdirectories are statted live, so a change below is always seen.
 * What this cannot see is a file rewritten in place, keeping its name, in
 * a directory that was settled: it is seen when the directory is next
 * recorded, within settled_after.  That is the price, and why it is an
 * input's choice.  The file is a cache and never the last word: the
 * manifest still compares every file's stat, a damaged or foreign file is
 * ignored whole and each record carries a checksum, and without it the
 * walk stats everything, as it does for inputs without settled_after.
 */
struct sf_dirs;

/*
 * Opens state_dir/dirs for a run that started at `now` (seconds); rescan
 * ignores the old file (every directory is listed and recorded again).
 * NULL when no input has settled_after.  A missing, damaged or foreign old
 * file is not an error: *note (if not NULL) may then say what was wrong.
 */
struct sf_dirs *dirs_open(const char *state_dir, const struct sf_config *c, int64_t now,
                          bool rescan, char **note);

/* Whether input `input` (its index) is one whose directories are recorded. */
bool dirs_wanted(const struct sf_dirs *d, uint32_t input);

/* A listing from the cache: names sorted as the walk sorts them, and the
 * lstat of each, with only type, dev, inode, size and mtime filled in
 * (directories: only the type; the walk stats them). */
struct sf_dirs_listing {
    char *block;                /* holds every name */
    char **names;
    struct stat *st;
    size_t n;
    struct sf_buf raw;          /* the record, for dirs_rec_keep() */
    uint64_t offset;            /* of the record in the old file */
};

/*
 * Whether directory path of input `input`, whose stat is st, may be taken
 * from the cache.  If out is not NULL, fills it (free with
 * dirs_listing_finish()).  Safe to call from several threads at once.
 */
bool dirs_lookup(const struct sf_dirs *d, uint32_t input, const char *path, const struct stat *st,
                 struct sf_dirs_listing *out);
void dirs_listing_finish(struct sf_dirs_listing *l);

/* A directory's new record, built as the walk goes through it. */
struct sf_dirs_rec {
    struct sf_buf b;
    uint32_t input;
    uint64_t key;       /* of input and path, for the index */
    uint32_t n;
    int64_t newest;     /* latest mtime, seconds */
    bool bad;           /* a name could not be statted, or too many */
    bool kept;          /* b is the old record, unchanged */
    uint64_t old_offset;
};

void dirs_rec_begin(struct sf_dirs_rec *r, uint32_t input, const char *path, const struct stat *st);
/* An entry, in the walk's order: its lstat, or err when that failed. */
void dirs_rec_entry(struct sf_dirs_rec *r, const char *name, const struct stat *st, int err);
/* The listing was taken from the cache: the record stays as it was. */
void dirs_rec_keep(struct sf_dirs_rec *r, struct sf_dirs_listing *l);
void dirs_rec_finish(struct sf_dirs_rec *r);

/* Adds a directory the walk went through whole (empties r). */
void dirs_add(struct sf_dirs *d, struct sf_dirs_rec *r);

/* Counts for `build -v`: directories taken from the cache, and listed. */
void dirs_counts(const struct sf_dirs *d, size_t *trusted, size_t *listed);

/*
 * Replaces the old file with what was added, after a walk that went
 * through every input: nothing is written when that is the old file.
 * Not synced: a file lost or torn in a crash is ignored, and the next walk
 * stats everything.  False (with err set) when it could not be written.
 */
bool dirs_commit(struct sf_dirs *d, struct sf_error *err);
void dirs_free(struct sf_dirs *d);
