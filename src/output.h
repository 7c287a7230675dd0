/* SPDX-License-Identifier: MIT */
/* output.h - the output directory: confined paths, write-if-changed, atomic commit, lock */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * Files are staged, then committed together: staging compares the
 * new bytes with the file in place and, only when they differ, writes them
 * to a temporary file beside it and syncs it; output_commit() renames each
 * over its target and syncs the directories.  A run killed at any moment leaves each file either as it was or
 * complete and new; stale temporaries are removed by the next run.  A file
 * whose bytes would not change is never touched, so its mtime (and web
 * servers' ETag and Last-Modified) stays.
 *
 * Paths are relative to the output directory, one or two components of
 * safe names ("all/rss.xml", "feeds.opml"), and opened relative to it
 * without following symbolic links, so nothing is ever written outside.
 */
struct sf_output;

enum sf_output_lock { SF_LOCK_TRY, SF_LOCK_WAIT, SF_LOCK_NONE };

/*
 * Opens (creating when missing) directory dir and takes its run lock
 * (.snapfeed.lock, an flock the kernel drops when the process dies, so a
 * killed run never leaves it stale).  With dry_run nothing is created or
 * written and no lock is taken.  Returns a new output (free with
 * output_close()) or NULL with err set; err->msg starts with "busy: " when
 * another run holds the lock.
 */
struct sf_output *output_open(const char *dir, enum sf_output_lock lock, bool dry_run,
                              struct sf_error *err);

/*
 * Files are staged in batches, so that threads can stage at once (each
 * into its own batch; the output and a batch may be used by one thread at
 * a time).  output_batch_join() appends the batch's files to the output's
 * list in their order and frees the batch: joining batches in a fixed
 * order keeps the staging order independent of thread timing.  Every
 * batch must be joined, after a failure too (its temporaries are removed
 * with the output's).
 */
struct sf_output_batch;
struct sf_output_batch *output_batch_new(struct sf_output *o);
/*
 * Stages path with data[0..len).  *changed (if not NULL) tells whether the
 * bytes differ from the file in place.  Returns false with err set when
 * the path is unsafe or cannot be written; nothing is renamed before
 * output_commit().
 */
bool output_batch_stage(struct sf_output_batch *b, const char *path, const void *data, size_t len,
                        bool *changed, struct sf_error *err);
void output_batch_join(struct sf_output_batch *b);

/* Renames every staged change into place.  On failure err is set and the
 * files not yet renamed stay as they were. */
bool output_commit(struct sf_output *o, struct sf_error *err);

/* The paths changed by the last commit (or, dry run, that would change),
 * in staging order; borrowed until output_close() or the next call of
 * this or output_staged(). */
size_t output_changed(struct sf_output *o, const char *const **paths);

/* Every path staged so far, committed or not, in staging order: what
 * output_commit() is about to change.  Borrowed like output_changed()'s
 * (the two share one view: each call ends the last one's). */
size_t output_staged(struct sf_output *o, const char *const **paths);

/* Size and mtime (ns) of path in the output directory, not following
 * links; false when it is missing or not a regular file. */
bool output_stat(struct sf_output *o, const char *path, int64_t *size, int64_t *mtime_ns);

/*
 * The feed files in place under directory dir: "SUB/NAME" for each
 * subdirectory SUB (a safe name, not a link) holding a regular file NAME
 * from names[0..n_names), sorted bytewise.  *paths is a new array of new
 * strings (free each, then the array); a missing dir holds none.  Returns
 * false with err set when dir cannot be read.
 */
bool output_list_feeds(const char *dir, const char *const *names, size_t n_names,
                       char ***paths, size_t *n_paths, struct sf_error *err);

/* Removes uncommitted temporaries, drops the lock, frees o.  NULL is fine. */
void output_close(struct sf_output *o);
