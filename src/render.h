/* SPDX-License-Identifier: MIT */
/* render.h - the table of feed formats and what every renderer shares */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "record.h"
#include "util.h"
#include "when.h"

/* One item of a feed: the record, when it last changed, its category's slug. */
struct sf_render_item {
    const struct sf_record *rec;
    struct sf_time updated;
    const char *slug;
};

/* One feed to render.  Everything is borrowed for the call. */
struct sf_render_feed {
    const struct sf_config *config;
    const char *slug;           /* "all" for the combined feed */
    const char *title;
    const char *description;
    const char *category;       /* NULL for "all" */
    const struct sf_render_item *items;   /* newest first */
    size_t n_items;
};

/*
 * A renderer turns a feed into bytes appended to out; it never opens a
 * file or socket.  Returns false only when out reaches its limit.
 */
typedef bool (*sf_render_fn)(const struct sf_render_feed *f, struct sf_buf *out);

struct sf_format {
    const char *name;           /* as in output.formats */
    const char *file;           /* the file name in a feed's directory */
    const char *content_type;
    sf_render_fn render;
};

/* The formats, indexed by enum sf_feed_format. */
extern const struct sf_format render_formats[SF_FEED_COUNT];

bool render_rss(const struct sf_render_feed *f, struct sf_buf *out);
bool render_atom(const struct sf_render_feed *f, struct sf_buf *out);
bool render_json(const struct sf_render_feed *f, struct sf_buf *out);

/* The OPML list of feeds (each feed's formats as outlines). */
bool render_opml(const struct sf_config *c, const struct sf_render_feed *feeds, size_t n,
                 struct sf_buf *out);

/* ---- shared by the renderers ---------------------------------------- */

/* Absolute URL of file in a feed's directory (file NULL: the directory),
 * percent-encoded ASCII.  Returns a new string; free with free(). */
char *render_url(const struct sf_config *c, const char *slug, const char *file);

/* The item's link: its original URL, or NULL when it has none. */
const char *render_item_link(const struct sf_render_item *it);

/* Newest publication and update times over the feed's items (unset when
 * there are none). */
void render_feed_times(const struct sf_render_feed *f, struct sf_time *published,
                       struct sf_time *updated);

/* A plain-text summary of at most SF_SUMMARY_CHARS characters, cut at a
 * sentence end when one falls within them ("…" marks a cut). */
#define SF_SUMMARY_CHARS 200
void render_summary(const struct sf_record *r, struct sf_buf *out);

/* The item's full text as HTML paragraphs, ending in one attribution line
 * (source, original publisher, author, capturing site and time, original
 * link).  Written through libxml2, so captured markup is text, never live. */
void render_content_html(const struct sf_render_item *it, struct sf_buf *out);

/* "snapfeed VERSION" and the project's URL, for generator elements. */
extern const char render_generator_name[];
extern const char render_generator_version[];
extern const char render_generator_uri[];
