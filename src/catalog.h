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
};

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

struct sf_catalog;

/* Returns a new, empty catalog for configuration c (borrowed until
 * catalog_free()). */
struct sf_catalog *catalog_new(const struct sf_config *c);
void catalog_free(struct sf_catalog *cat);

/*
 * Adds one record's entry; the strings are copied.  Returns false (and
 * keeps nothing) when the entry would make more than SF_MAX_FEEDS
 * categories.
 */
bool catalog_add(struct sf_catalog *cat, const struct sf_entry *e);

/* Number of entries added. */
size_t catalog_count(const struct sf_catalog *cat);

/*
 * Collapses captures of the same id (the newest capture, by captured_at
 * then walk order, wins; `updated` is the capture time of its content's
 * first appearance when the content changed, else the publication time)
 * and chooses each feed's newest max_items items, by published, ties
 * broken by id.  Feeds come "all" first, then the categories feeds.yaml
 * lists (in its order), then the others by name.  Returns the number of
 * feeds; *feeds is valid until catalog_free().  Call once.
 */
size_t catalog_select(struct sf_catalog *cat, const struct sf_feed_sel **feeds);

/* The slug chosen for category (after catalog_select()), or NULL. */
const char *catalog_slug(const struct sf_catalog *cat, const char *category);
