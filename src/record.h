/* SPDX-License-Identifier: MIT */
/* record.h - the parsed article: the contract between parsers and renderers */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "when.h"

/*
 * struct sf_record is documented field by field in docs/record.md.  In
 * short: every string is valid UTF-8 without XML-illegal characters,
 * trimmed, never empty (absent is NULL); times carry the configured zone's
 * offset.  All strings and arrays live in the record's own arena and are
 * freed together by record_free(): they are borrowed by whoever reads the
 * record, valid until then.
 */
struct sf_related {
    const char *title;      /* may be NULL */
    const char *snippet;
    struct sf_time published;   /* may be unset */
};

struct sf_listing {
    const char *category;
    const char *title;
    const char *summary;    /* may be NULL */
    struct sf_time published;
};

struct sf_record {
    const char *title;
    const char *category;
    struct sf_time published;
    const char *source;         /* 来源: the outlet it came through */
    const char *via;            /* 本文转自: the original publisher */
    const char *author;
    const char *url;            /* absolute http(s), ASCII */
    struct sf_time captured_at;
    const char *captured_by;    /* host of the capturing site */
    const char **body;
    size_t n_body;
    struct sf_related *related;
    size_t n_related;
    struct sf_listing *listing;
    size_t n_listing;
    const char *id;
    const char *file;
    unsigned line;
    /* Not in the JSON: where the record's line starts in file (JSON
     * Lines), so that a build can read it again alone; 0 otherwise. */
    uint64_t offset;

    /* Private: the arena the strings above live in. */
    struct sf_arena_chunk *arena;
};

/* Returns a new, empty record; free with record_free(). */
struct sf_record *record_new(void);

/* Makes jansson allocate through util.h's wrappers, so its running out of
 * memory follows the program's policy.  Call at the start of the program,
 * before any thread; cannot fail. */
void record_init(void);
/* Frees r and everything it holds.  NULL is fine. */
void record_free(struct sf_record *r);

/* Copies s[0..n) into r's arena as a NUL-terminated string.  Returns it,
 * valid until record_free(r). */
const char *record_strdup(struct sf_record *r, const char *s, size_t n);
/* Room for size bytes in r's arena, zeroed, aligned for any field type. */
void *record_alloc(struct sf_record *r, size_t size);

/*
 * Fills in r->id when it is not set: the url, else the tag: URI of
 * docs/record.md.  site_host is the host of site.base_url, or NULL.
 * Cannot fail: every record reaching it has a title and a published time.
 */
void record_derive_id(struct sf_record *r, const char *site_host);

/* A 64-bit digest of the article's content: what a reader sees change
 * (title, category, published, source, via, author, url, body).  The
 * capture time and the related lists do not count. */
uint64_t record_content_hash(const struct sf_record *r);

/*
 * The record as one line of JSON (no newline), in the field order of
 * docs/record.md; the JSON library does all escaping.  Returns a new
 * string; free with free().
 */
char *record_to_json(const struct sf_record *r);

/* How to read a record from JSON (the `format: jsonl` input). */
struct sf_json_opts {
    struct sf_zone *zone;           /* for times without an offset; its cache is used */
    const char *default_category;   /* when the object names none */
    const char *site_host;          /* tag: authority when it has no id; may be NULL */
    bool skip_lists;                /* leave related/listing out (build needs neither) */
};

/*
 * Reads a record back from one JSON object as record_to_json() writes it
 * (one line of a `format: jsonl` input; docs/record.md says how each field
 * is read).  json[0..len) is read as UTF-8 (the JSON library refuses
 * anything else).  Unknown fields are ignored;
 * `file` and `line` are checked but not taken: the record's are path and
 * line.  A value of the wrong type, a missing title, or no time to date it
 * by fails with err set (err->col is the column, in characters, where the
 * JSON library gives one).  Times without an offset take o->zone, and
 * every time is shown in it; text gets the same cleaning as captures; an
 * id is made ASCII, and derived (record_derive_id()) when absent.
 * Warnings (a field refused, a fallback taken) go to warn, only when the
 * record is accepted: a refused line says just why.  Returns a new
 * record (free with record_free()) or NULL.  A pure function of its
 * input: never reads outside json, never aborts on any input.
 */
struct sf_record *record_from_json(const char *json, size_t len, const struct sf_json_opts *o,
                                   const char *path, unsigned line, struct sf_error *err,
                                   struct sf_errors *warn);

/*
 * What the JSON-LD of a saved page says about its article: the first
 * schema.org Article (NewsArticle, BlogPosting, ...) found at the top
 * level, in a top-level array, in "@graph", or as a "mainEntity".
 * Strings are as the page gives them (not cleaned), new, freed by
 * record_jsonld_finish(); NULL when absent.  An author list is joined
 * with "、".  (Here because the JSON library is confined to this file.)
 */
struct sf_jsonld {
    char *headline;
    char *published;    /* datePublished */
    char *modified;     /* dateModified */
    char *author;       /* author: a name, a Person/Organization, or a list */
    char *publisher;    /* publisher: a name or an Organization */
    char *section;      /* articleSection: the first when a list */
    char *url;          /* url, else mainEntityOfPage (a URL or its @id) */
};

/*
 * Reads the text of one <script type="application/ld+json">.  Fields out
 * has already are kept (the first article found wins, field by field).
 * Returns false when the text is not JSON (err then holds the reason and
 * err->line/col where in the text), true otherwise, article or not.
 */
bool record_jsonld_article(const char *json, size_t len, struct sf_jsonld *out,
                           struct sf_error *err);
void record_jsonld_finish(struct sf_jsonld *ld);
