/* SPDX-License-Identifier: MIT */
/* manifest.h - what the last run learned of each capture, so a rerun parses only what changed */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "catalog.h"
#include "util.h"

/*
 * The manifest is a file in the state directory listing, for every capture
 * of the last run in walk order, its path, size, mtime (ns), inode and
 * device, and what the catalog needs of its records (struct sf_entry) and
 * the problems it had.  A rerun walks in the same order and reads the old
 * manifest alongside as a stream: a file whose stat still matches is taken
 * from the manifest instead of being parsed.  Memory stays constant: only
 * the current record of each side is held.
 *
 * It is never trusted blindly.  The header carries a format version, the
 * program's version and a hash of every setting that changes what parsing
 * yields; each record carries its own checksum and bounded lengths.  A
 * mismatch or a damaged record makes the rest of the old manifest unused
 * (those files are parsed), and the new manifest is written whole.  Files
 * modified within a second of the last run's start are parsed again, since
 * their mtime cannot tell a later change apart ("racy" entries).
 */
struct sf_manifest;

/* One file's record, as read back: borrowed until the next lookup. */
struct sf_manifest_file {
    const struct sf_entry *entries;     /* seq and input are left to the caller */
    size_t n_entries;
    const struct sf_error *problems;
    const bool *warning;
    size_t n_problems;
};

/*
 * Opens the manifest in state_dir (creating the directory): the old one for
 * reading when it exists and its header matches settings (a hash of what
 * parsing depends on), and a new one to write.  started is when this run
 * began (seconds), for the racy check.  Returns NULL with err set when the
 * state directory cannot be used; a missing, stale or damaged old manifest
 * is not an error (*note, if not NULL, then says what was wrong with it).
 */
struct sf_manifest *manifest_open(const char *state_dir, uint64_t settings, int64_t started,
                                  char **note, struct sf_error *err);

/*
 * Looks up file path of input `input` with stat st.  Files must be looked
 * up in walk order.  Returns true when the old manifest has it with the
 * same stat, filling *out.
 */
bool manifest_find(struct sf_manifest *m, uint32_t input, const char *path,
                   const struct stat *st, struct sf_manifest_file *out);

/* Appends a file's record to the new manifest, in walk order; reused
 * says it came from manifest_find() (anything else changes the manifest). */
void manifest_add(struct sf_manifest *m, uint32_t input, const char *path, const struct stat *st,
                  const struct sf_entry *entries, size_t n_entries,
                  const struct sf_error *problems, const bool *warning, size_t n_problems,
                  bool reused);

/* True when the new manifest differs from the old one (a file was parsed,
 * added or removed, or the old one could not be used). */
bool manifest_changed(const struct sf_manifest *m);

/* A digest of the new manifest's records: equal digests, equal catalogs. */
uint64_t manifest_digest(const struct sf_manifest *m);

/* How many files were taken from the old manifest and how many parsed. */
void manifest_counts(const struct sf_manifest *m, size_t *reused, size_t *added);

/* Writes the new manifest in place of the old (temp, fsync, rename) when
 * it changed.  Returns false with err set on a write failure. */
bool manifest_commit(struct sf_manifest *m, struct sf_error *err);

/* Discards the new manifest if not committed, frees m.  NULL is fine. */
void manifest_free(struct sf_manifest *m);

/* Compares two walk positions (input, path): paths compare component by
 * component, as the walk visits them.  <0, 0, >0. */
int manifest_walk_cmp(uint32_t ia, const char *a, uint32_t ib, const char *b);
