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
 *
 * Reruns cost only what changed.  While every file so far is an unchanged
 * hit, in the old order, the manifest only notes how far the old file still
 * holds: nothing is written, and the caller does not feed the catalog.  At
 * the first change the old records up to there are copied into the new
 * manifest and replayed to the caller (so the catalog catches up), and
 * everything after is written as it comes.  A run that finds no change
 * writes nothing at all.
 */
struct sf_manifest;

/* One file's record, as read back: borrowed until the next lookup. */
struct sf_manifest_file {
    const struct sf_entry *entries;     /* seq and input are left to the caller */
    size_t n_entries;
    bool held;          /* deferred (manifest_set_defer()): entries is NULL, the
                         * manifest keeps them; n_entries says how many */
    const struct sf_error *problems;
    const bool *warning;
    size_t n_problems;
};

/* Receives the entries of records replayed from the old manifest, with
 * seq (the record's place in the walk), input and path set. */
typedef void (*sf_manifest_replay_fn)(void *ctx, const struct sf_entry *e);

/*
 * Opens the manifest in state_dir (creating the directory): the old one for
 * reading when it exists and its header matches settings (a hash of what
 * parsing depends on).  started is when this run began (seconds), for the
 * racy check.  Returns NULL with err set when the state directory cannot be
 * used; a missing, stale or damaged old manifest is not an error (*note, if
 * not NULL, then says what was wrong with it).
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

/*
 * Appends a file's record to the new manifest, in walk order (the order of
 * the lookups); *reused says it came from manifest_find().  A file
 * manifest_find() had but sent to be parsed again because its stat cannot
 * be trusted (changed within a second of the last run's start) and whose
 * record comes out byte for byte the same is unchanged after all: *reused
 * is then set (the manifest is still written again, with this run's start).
 * Returns true when the record was taken as unchanged and nothing is to
 * be done with its entries yet (they will be replayed through fn if a
 * change comes); false when the caller must use them now.  At the first
 * change, fn gets every entry held back so far.
 */
bool manifest_add(struct sf_manifest *m, uint32_t input, const char *path, const struct stat *st,
                  const struct sf_entry *entries, size_t n_entries,
                  const struct sf_error *problems, const bool *warning, size_t n_problems,
                  bool *reused, sf_manifest_replay_fn fn, void *ctx);

/*
 * Instead of manifest_add() for a file parsed whose record is not kept:
 * a JSON Lines file so large that its entries are handed on in parts as
 * it is read (and too large for a record anyway).  The new manifest
 * differs, the file is parsed again next run, and fn gets every entry held
 * back so far, as at any change: call it before handing on the first part.
 */
void manifest_skip(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx);

/* After the walk: files of the old manifest that are gone are a change
 * too (replayed through fn as above).  Returns manifest_changed(). */
bool manifest_end_walk(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx);

/* True when the new manifest differs from the old one (a file was parsed,
 * added or removed, or the old one could not be used). */
bool manifest_changed(const struct sf_manifest *m);

/* Hands every entry still held back to fn (a run that found no change but
 * needs the catalog after all: its output was damaged).  Returns false
 * when the old manifest could not be read again. */
bool manifest_replay(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx);

/*
 * For an incremental run (src/chosen.c).  With defer set (before the
 * walk), a change no longer replays the old records to the caller: the
 * caller keeps entries of reused files to itself, and either merges the
 * new files into what the last run chose, or, when that cannot be done,
 * gets every entry from manifest_replay_all() after manifest_commit().
 */
void manifest_set_defer(struct sf_manifest *m);

/* Records in the new manifest so far (a file's place among them). */
uint32_t manifest_records(const struct sf_manifest *m);

/* After the walk: true when the only changes were files added (every old
 * record was read whole and still matches); *old_digest is the old
 * manifest's digest (what manifest_digest() said in the run that wrote it). */
bool manifest_additions_only(const struct sf_manifest *m, uint64_t *old_digest);

/* Hands every entry of the new manifest to fn, in walk order, seq being
 * 2k + 1 for the k-th record (even numbers are left for files without
 * a record).  After manifest_commit(). */
bool manifest_replay_all(struct sf_manifest *m, sf_manifest_replay_fn fn, void *ctx);

/* A digest of the new manifest's records: equal digests, equal catalogs. */
uint64_t manifest_digest(const struct sf_manifest *m);

/* Writes the new manifest in place of the old (temp, rename; not synced) when
 * it changed.  Returns false with err set on a write failure. */
bool manifest_commit(struct sf_manifest *m, struct sf_error *err);

/* Removes the manifest from the state directory (committed or old): the
 * next run reads every capture. */
void manifest_discard(struct sf_manifest *m);

/* Discards the new manifest if not committed, frees m.  NULL is fine. */
void manifest_free(struct sf_manifest *m);

/* Compares two walk positions (input, path): paths compare component by
 * component, as the walk visits them.  <0, 0, >0. */
int manifest_walk_cmp(uint32_t ia, const char *a, uint32_t ib, const char *b);
