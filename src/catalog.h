/* SPDX-License-Identifier: MIT */
/* catalog.h - dedupe by id, categories and slugs, newest-N per feed */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "when.h"

/*
 * What the catalog keeps of one record: enough to tell captures of the same
 * article apart, to choose the newest items of each feed, and to read the
 * chosen ones again.  The body is not kept: memory grows with the number
 * of captures only by this summary (docs/design.md, "Memory").
 */
struct sf_entry {
    uint64_t idhash;            /* FNV-1a of id */
    uint64_t content;           /* record_content_hash() */
    struct sf_time captured_at; /* may be unset */
    struct sf_time published;
    uint32_t seq;               /* order found by the walk: later wins ties */
    uint32_t line;              /* the record's line (JSON Lines) */
    uint64_t offset;            /* the record's byte offset in its file (JSON Lines) */
    uint32_t input;             /* index of its input in the configuration */
    const char *id;
    const char *category;
    const char *path;
    /* Set only for an item already chosen by an earlier run (an
     * incremental run, src/chosen.c): its `updated`, used as given. */
    struct sf_time updated;
};

/* Capture order, for qsort() of struct sf_entry: by id (hash, then the
 * id), then older capture first (an unknown time counts as the oldest),
 * then file order, then line: the last of an id's run is its winner.
 * The full build and the incremental merge (chosen.c) must agree. */
int catalog_cmp_capture(const void *a, const void *b);

/* Feed order: true when a goes before b (newer first; the same instant,
 * the smaller id first). */
bool catalog_entry_newer(const struct sf_entry *a, const struct sf_entry *b);

/* A chosen item: the winning capture of its id and when its content last changed. */
struct sf_item_ref {
    const struct sf_entry *entry;
    struct sf_time updated;
    const char *slug;           /* of the item's category */
};

/* A feed to write: one per category with items, plus "all". */
struct sf_feed_sel {
    const char *slug;
    const char *title;
    const char *description;
    const char *category;       /* NULL for "all" */
    struct sf_item_ref *items;  /* newest first */
    size_t n_items;
};

/*
 * An entry's fields as bytes (all but seq, input and path, which say where
 * the entry was found rather than what it is): the manifest stores
 * entries this way.  Decoding leaves id and category as offsets into
 * strings (cast to pointers): the caller rebases them once strings stops
 * growing.  A short or damaged input marks c bad.
 */
void catalog_entry_encode(struct sf_buf *b, const struct sf_entry *e);
/* The fewest bytes an encoded entry takes (both strings empty): what bounds
 * an entry count read before the entries are. */
#define SF_ENTRY_MIN_LEN (8 + 8 + 8 + 4 + 1 + 8 + 4 + 4 + 8 + 4 + 4)
void catalog_entry_decode(struct sf_cursor *c, struct sf_buf *strings, struct sf_entry *e);

struct sf_catalog;

/*
 * Returns a new, empty catalog for configuration c (borrowed until
 * catalog_free()).  Past a few MiB of entries it spills them to an
 * unlinked temporary file in spill_dir (the state directory, or the
 * system's temporary directory when that cannot be used), so its memory
 * stays flat however many captures there are.
 */
struct sf_catalog *catalog_new(const struct sf_config *c, const char *spill_dir);
void catalog_free(struct sf_catalog *cat);

/*
 * Adds one record's entry; the strings are copied.  Returns false (and
 * keeps nothing) when the entry would make more than SF_MAX_FEEDS
 * categories.  A failure to spill is not reported here: the entries then
 * stay in memory, and catalog_select() still works.
 */
bool catalog_add(struct sf_catalog *cat, const struct sf_entry *e);

/* Sets the batch size past which entries are spilled (tests use a tiny
 * one to spill often).  0 restores the default. */
void catalog_set_batch_limit(struct sf_catalog *cat, size_t bytes);

/* Number of entries added. */
size_t catalog_count(const struct sf_catalog *cat);

/*
 * Collapses captures of the same id (the newest capture, by captured_at
 * then walk order, file then line, wins; `updated` is the capture time of
 * its content's first appearance when the content changed, else the
 * publication time)
 * and chooses each feed's newest max_items items, by published, ties
 * broken by id.  Feeds come "all" first, then the categories feeds.yaml
 * lists (in its order), then the others by name.  *feeds (*n_feeds of
 * them) is valid until catalog_free().  Fails, with err set, only when the
 * spill file cannot be read back.  Call once.
 */
bool catalog_select(struct sf_catalog *cat, const struct sf_feed_sel **feeds, size_t *n_feeds,
                    struct sf_error *err);

/*
 * What choosing learned of one article (one id), for an incremental run
 * to merge later captures into: the winning capture's time and content,
 * and the capture time of the last change of content (unset when none).
 */
struct sf_catalog_id {
    uint64_t idhash;
    uint64_t idhash2;           /* a second hash of the id: two ids, one idhash */
    uint64_t content;
    struct sf_time captured_at;
    struct sf_time last_change;
};
typedef void (*sf_catalog_id_fn)(void *ctx, const struct sf_catalog_id *id);

/* Has catalog_select() hand every article to fn, in increasing idhash. */
void catalog_set_id_sink(struct sf_catalog *cat, sf_catalog_id_fn fn, void *ctx);

/* The second id hash of sf_catalog_id. */
uint64_t catalog_idhash2(const char *id);

/* After catalog_select(): whether every category with items got a feed
 * (a slug) and none was refused for too many categories. */
bool catalog_complete(const struct sf_catalog *cat);

/* The slug chosen for category (after catalog_select()), or NULL. */
const char *catalog_slug(const struct sf_catalog *cat, const char *category);
