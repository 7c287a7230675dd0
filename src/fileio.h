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
 * Puts tmp in place of name in dirfd, as rename() does, for snapfeed's
 * own state files.  Where it can (Linux, most file systems), it swaps the
 * two and then removes the old one from under tmp's name: ext4 starts
 * writing out a file's every page when a plain rename makes it replace
 * another (auto_da_alloc, a guard for programs that do not fsync), which
 * was a tenth of a rerun that rewrites a 23 MB manifest.  False with errno
 * set when tmp could not take name's place.
 */
bool file_rename_state(int dirfd, const char *tmp, const char *name);

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
