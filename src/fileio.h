/* SPDX-License-Identifier: MIT */
/* fileio.h - the few file operations several modules need, done once */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* mkdir -p.  On failure err names the directory that could not be made. */
bool file_mkdirs(const char *path, struct sf_error *err);

/* Writes all of p[0..n) to fd, retrying short writes and EINTR; false (with
 * errno set) on an error. */
bool file_write_all(int fd, const void *p, size_t n);

/*
 * Replaces file name in directory dirfd with data[0..n), so that a reader
 * or a crash sees the old file or the new one, never a part: a temporary
 * beside it (".NAME.tmp", never following a link), fsync, rename, fsync of
 * the directory.  display names the file in err.
 */
bool file_replace(int dirfd, const char *name, const void *data, size_t n, const char *display,
                  struct sf_error *err);
