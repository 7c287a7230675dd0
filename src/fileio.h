/* SPDX-License-Identifier: MIT */
/* fileio.h - the few file operations several modules need, done once */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* mkdir -p.  On failure err names the directory that could not be made. */
bool file_mkdirs(const char *path, struct sf_error *err);

/* Writes all of p[0..n) to fd, retrying short writes and EINTR; false (with
 * errno set) on an error. */
bool file_write_all(int fd, const void *p, size_t n);

/* Appends bytes [from, to) of file in to out at its current offset: in
 * the kernel where it can (copy_file_range), else through memory.  False
 * (errno set, or EIO for a file shorter than to) on a failure. */
bool file_copy_range(int in, uint64_t from, uint64_t to, int out);

/*
 * snapfeed's own state files (manifest, dirs, chosen) are written by a
 * struct sf_writer into a spare file beside them, which holds the version
 * before the last, and then swapped with it.  The spare is written over
 * from the start, not truncated: a rerun that changes one record of a 23
 * MB manifest rewrites pages that are already there instead of freeing 23
 * MB and allocating 23 MB again; the commit cuts it to what was written.
 * The price is the spare's room on disk.
 *
 * New bytes go into buf (writer_buf()); bytes the old file already has
 * are kept as a run of it (writer_keep()), copied in the kernel when the
 * next new bytes come or at the commit.  The first failure is kept in
 * error, and everything after it is skipped.
 */
struct sf_writer {
    int dirfd;
    const char *spare;          /* its name in dirfd; NULL before writer_open()
                                 * and after the commit or discard */
    int fd;                     /* the spare, -1 if it would not open */
    int old_fd;                 /* the file kept runs are copied from */
    struct sf_buf buf;          /* new bytes not yet written */
    uint64_t run_from, run_to;  /* old bytes kept, not yet copied */
    int error;                  /* errno of the first failure, 0 if none */
};

/* Opens spare in dirfd for w; old_fd (or -1) is what runs come from. */
bool writer_open(struct sf_writer *w, int dirfd, const char *spare, int old_fd);

/* Where the next new bytes go, after the run kept so far. */
struct sf_buf *writer_buf(struct sf_writer *w);

/* Writes buf out once it holds 64 KiB, or whatever it holds with all. */
void writer_flush(struct sf_writer *w, bool all);

/* Appends the old file's bytes [from, to): one run with the last when
 * they follow it. */
void writer_keep(struct sf_writer *w, uint64_t from, uint64_t to);

/*
 * Writes what is left, cuts and closes the spare, and swaps it into
 * name's place (file_rename_state(), keeping the old as the spare).  On
 * any failure the spare is removed and false returned with w->error set.
 * w is finished either way (w->error stays).
 */
bool writer_commit(struct sf_writer *w, const char *name);

/* Drops what w wrote (a spare left open is removed) and finishes it; a
 * zeroed writer, or one committed, is left alone. */
void writer_discard(struct sf_writer *w);

/*
 * Puts tmp in place of name in dirfd, as rename() does.  Where it can
 * (Linux, most file systems), it swaps the two: ext4 starts writing out a
 * file's every page when a plain rename makes it replace another
 * (auto_da_alloc, a guard for programs that do not fsync), which was a
 * tenth of a rerun that rewrites a 23 MB manifest.  The old file is then
 * left under tmp's name when keep_old (a spare), else removed.  Readers
 * see the old file or the new, never neither.  False with errno set when
 * tmp could not take name's place.
 */
bool file_rename_state(int dirfd, const char *tmp, const char *name, bool keep_old);

/*
 * Replaces file name in directory dirfd with data[0..n), so that a reader
 * sees the old file or the new one, never a part: a temporary beside it
 * (".NAME.tmp", never following a link), then a rename.  With durable, a
 * crash does too: fsync before the rename, and of the directory after.
 * Without, a crash may leave either file, or a torn or empty one: for
 * caches that check themselves (an fsync also commits the journal, and so
 * waits for every other file written before it).  display names the file
 * in err.
 */
bool file_replace(int dirfd, const char *name, const void *data, size_t n, bool durable,
                  const char *display, struct sf_error *err);
