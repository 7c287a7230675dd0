/* SPDX-License-Identifier: MIT */
/* ingest.h - walk the inputs, read each file, hand its records on */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "config.h"
#include "record.h"
#include "util.h"
#include "when.h"

/* One file found by the walk. */
struct sf_file {
    const struct sf_input *input;
    int dirfd;              /* the directory holding it (valid during the callback), or
                             * -1: not opened yet, ask ingest_dirfd() */
    unsigned long dir;      /* numbers the directories of one walk from 1; 0: dirfd is AT_FDCWD */
    const char *name;       /* its name in dirfd */
    const char *path;       /* dirfd's path joined with name, for messages */
    struct stat st;         /* lstat of it */
    void *frame;            /* the walk's, for ingest_dirfd() */
};

/*
 * The descriptor of f's directory, opened on first use (valid during the
 * callback).  A directory whose listing came from the dirs cache is not
 * opened by the walk: most of them hold nothing to read.  -1 when it
 * cannot be opened or is no longer the directory the walk listed; the
 * caller then opens f by its path.
 */
int ingest_dirfd(const struct sf_file *f);

/*
 * Walks every input of c in a fixed order: inputs as configured, each
 * directory's entries sorted by their bytes, depth first, so the order
 * never depends on the file system.  Directories are walked without
 * recursion; a directory's names are statted by up to `threads` threads
 * at once; names starting with '.' are skipped; symbolic links are
 * followed only when the input says follow_symlinks (with loops detected),
 * since the files they lead to inside the root are walked anyway.  Calls
 * fn for each regular file matching the input's globs (a file named as an
 * input's path is taken whatever its name).
 *
 * With dirs (dirs.h; may be NULL), directories of inputs with settled_after
 * may be taken from its cache, and every one gone through whole is added
 * to it; the caller commits it.
 *
 * Returns false on an error that makes the set of captures unknowable —
 * an input that is missing, a directory that cannot be read — with err
 * set: building from a partial set would drop items from feeds.  fn
 * returning false stops the walk (then the result is true).
 */
typedef bool (*sf_file_fn)(void *ctx, const struct sf_file *f);
struct sf_dirs;
bool ingest_walk(const struct sf_config *c, unsigned threads, struct sf_dirs *dirs, sf_file_fn fn,
                 void *ctx, struct sf_error *err);

/* What a parsed file hands on: records (ownership passes to the callee)
 * and problems (rejections and warnings, borrowed for the call). */
struct sf_ingest_cb {
    void *ctx;
    void (*record)(void *ctx, struct sf_record *r);
    void (*problem)(void *ctx, const struct sf_error *e, bool warning);
};

/*
 * A reader: a reusable read buffer and one parser per format.  One per
 * thread.  Returns a new reader; free with ingest_reader_free().
 */
struct sf_ingest_reader;
struct sf_ingest_reader *ingest_reader_new(const struct sf_config *c, const struct sf_zone *z,
                                           bool skip_lists);
void ingest_reader_free(struct sf_ingest_reader *r);

/*
 * Reads file name in dirfd (or the path itself when dirfd is AT_FDCWD),
 * parses it with the parser of in->format and hands on its records.  st,
 * when not NULL, is the walk's stat of the file: its size sizes the read
 * (which then needs no fstat of its own).  Returns the number of records
 * handed on; a rejected file reports its reason through cb->problem and
 * returns 0.  A JSON Lines file is streamed: each line is a record or a
 * problem of its own, memory stays bounded by SF_MAX_JSONL_LINE whatever
 * the file's size, and each record carries the byte offset of its line
 * (sf_record.offset).
 */
size_t ingest_file(struct sf_ingest_reader *r, const struct sf_input *in, int dirfd,
                   const char *name, const char *path, const struct stat *st,
                   const struct sf_ingest_cb *cb);

/*
 * Reads one record again, as ingest_file() handed it on from path: for
 * JSON Lines only the line at byte offset (its number was line); for the
 * other formats the whole file.  What was found is handed on as by
 * ingest_file(), which returns the same.
 */
size_t ingest_record_at(struct sf_ingest_reader *r, const struct sf_input *in, const char *path,
                        uint64_t offset, unsigned line, const struct sf_ingest_cb *cb);
