/* SPDX-License-Identifier: MIT */
/* limits.h - every bound snapfeed puts on its input, in one place */
#pragma once

/*
 * Each limit is documented in feeds.yaml(5) and docs/reliability.md; the
 * ones under `limits:` in feeds.yaml can be changed there.  Hitting one
 * costs the offending input (or its excess), never the run.
 */
#define SF_MAX_CAPTURE_SIZE (16u << 20)   /* bytes of one capture file */
#define SF_MAX_LINE (1u << 20)            /* bytes of one line; longer is cut */
/* bytes of one JSON Lines record; a longer line is refused alone.  Twice
 * the capture limit: `snapfeed parse` prints any accepted capture within
 * it (JSON escaping at most doubles the text). */
#define SF_MAX_JSONL_LINE (SF_MAX_CAPTURE_SIZE * 2u)
#define SF_JSONL_CHUNK (64u << 10)        /* bytes read at a time from a JSON Lines file */
#define SF_MAX_PARAGRAPHS 10000           /* body paragraphs kept per record */
#define SF_MAX_RELATED 1000               /* related entries kept per record */
#define SF_MAX_LISTING 1000               /* listing entries kept per record */
#define SF_MAX_CATEGORY 256               /* bytes of a category name */
#define SF_MAX_SLUG 64                    /* bytes of a feed's directory name */
#define SF_MAX_META_SEARCH 32             /* lines after the title searched for the meta line */
#define SF_MAX_URL 4096u                  /* bytes of site.base_url or a hub, percent-encoded */
#define SF_MAX_CONFIG_SIZE (1u << 20)     /* bytes of feeds.yaml */
#define SF_MAX_CONFIG_DEPTH 16            /* nesting of feeds.yaml */
#define SF_MAX_CONFIG_NODES 100000        /* scalars, maps and lists in feeds.yaml */
#define SF_MAX_CAPTURES 10000000          /* captures per run */
#define SF_MAX_FEEDS 10000                /* categories per run */
#define SF_MAX_ITEMS 10000                /* output.max_items */
#define SF_MAX_QUEUE_SIZE (64u << 20)     /* bytes of the WebSub queue file */
