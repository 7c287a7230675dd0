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
 * snapfeed's own state files (manifest, dirs, chosen) are written into a
 * spare file beside them, which holds the version before the last, and
 * then swapped with it.  file_open_spare() opens the spare to be written
 * over from the start, not truncated: a rerun that changes one record of
 * a 23 MB manifest rewrites pages that are already there instead of
 * freeing 23 MB and allocating 23 MB again.  file_commit_spare() cuts it
 * to what was written.  The price is the spare's room on disk.
 */
int file_open_spare(int dirfd, const char *spare);

/*
 * Ends the writing of spare file fd (which may be -1): cuts and closes it,
 * and swaps it into name's place (file_rename_state(), keeping the old
 * as the spare).  *error is the errno of an earlier write failure, or 0;
 * on any failure the spare is removed, *error set and false returned.
 */
bool file_commit_spare(int dirfd, int fd, const char *spare, const char *name, int *error);

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
