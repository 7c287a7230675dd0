/* SPDX-License-Identifier: MIT */
/* chosen.h - what the last run chose, so a run that only adds captures merges them in */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "util.h"

/*
 * The file `chosen` in the state directory keeps, from the last run that
 * chose items, every category feed's items (whole catalog entries, with
 * their `updated`) and, per article, what merging a later capture needs
 * (struct sf_catalog_id), sorted by id hash.  A run whose only changes
 * are new files merges their entries into that instead of filling the
 * catalog from every manifest record (docs/design.md, "Reruns").
 *
 * It is never trusted blindly: its header carries a format version, a
 * hash of the settings (with the program's version) and the digest of the
 * manifest written beside it; every record is covered by a checksum at
 * its end.  Anything that does not match, and any merge whose result is
 * not certain (a new capture older than the article's winner, or one that
 * pushes an item out of a full feed) makes the caller take the full path.
 */
struct sf_chosen;

/*
 * Loads the file in state_dir when it matches settings and digest (the
 * old manifest's), looking up the articles of the idhashes in want
 * (sorted).  NULL when missing, stale or damaged.
 */
struct sf_chosen *chosen_load(const char *state_dir, uint64_t settings, uint64_t digest,
                              const uint64_t *want, size_t n_want);
void chosen_free(struct sf_chosen *ch);

/*
 * Merges new entries (of files added since; in any order) into the
 * items.  Returns false when the result would not be certain: then ch
 * must not be used for this run.
 */
bool chosen_merge(struct sf_chosen *ch, struct sf_entry *fresh, size_t n, size_t max_items);

/* The items after the merge, with `updated` set, for catalog_add(). */
size_t chosen_items(const struct sf_chosen *ch, const struct sf_entry **items);

/* Writing the next file: ids in idhash order (chosen_out_id(), or all of
 * them from the merge with chosen_out_merged_ids()), then the feeds. */
struct sf_chosen_out;
struct sf_chosen_out *chosen_out_new(const char *state_dir, uint64_t settings, uint64_t digest);
void chosen_out_id(void *out, const struct sf_catalog_id *id);
bool chosen_out_merged_ids(struct sf_chosen_out *o, const struct sf_chosen *ch);
void chosen_out_feeds(struct sf_chosen_out *o, const struct sf_feed_sel *feeds, size_t n);
/* Renames the file into place; on any failure removes the old one too
 * (the next run then takes the full path).  Frees o. */
void chosen_out_commit(struct sf_chosen_out *o);
/* Discards the next file and removes the old one.  Frees o; NULL is fine. */
void chosen_out_abandon(struct sf_chosen_out *o);
