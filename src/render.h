/* SPDX-License-Identifier: MIT */
/* render.h - the table of feed formats and what every renderer shares */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "record.h"
#include "util.h"
#include "when.h"

/*
 * What every format shows of a record's text, made once by
 * render_text_make() for the three formats and the pages of a feed
 * (rendering an item's content for each was most of rendering).
 */
struct sf_render_text {
    char *summary;          /* render_summary(); "" when it has no body */
    char *summary_html;     /* the summary escaped, as HTML text */
    char *content_html;     /* render_content_html() */
};

void render_text_make(const struct sf_record *r, struct sf_render_text *t);
void render_text_finish(struct sf_render_text *t);

/* One item of a feed: the record and its text, when it last changed, its
 * category's slug, and the file name of its archive page in that slug's
 * directory (NULL when pages are off or the item has none). */
struct sf_render_item {
    const struct sf_record *rec;
    const struct sf_render_text *text;
    struct sf_time updated;
    const char *slug;
    const char *page;
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

/*
 * Sets libxml2 up once, before any thread uses it: its allocations go
 * through util.h's wrappers (one out-of-memory policy for the program),
 * its buffers grow by doubling (linear writes), and its parser is
 * initialised here because libxml2 2.9's lazy
 * initialisation is not safe from several threads at once.  Call at the
 * start of the program; cannot fail.
 */
void render_init(void);

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

/* The item's link: its original URL, else the absolute URL of its archive
 * page, else NULL.  Returns a new string (free with free()) or NULL. */
char *render_item_link(const struct sf_config *c, const struct sf_render_item *it);

/* The absolute URL of the item's archive page, or NULL when it has none.
 * Returns a new string; free with free(). */
char *render_item_page_url(const struct sf_config *c, const struct sf_render_item *it);

/*
 * The file name of the archive page of the item with this id: sixteen hex
 * digits of FNV-1a of the id (idhash), ".html" — stable across runs and
 * versions, so links to it keep working.  With wide, a second hash of the
 * id is appended, for the rare id whose first name is taken in its
 * directory.  Cannot fail.
 */
#define SF_PAGE_NAME_LEN 40
void render_page_name(uint64_t idhash, const char *id, bool wide, char buf[SF_PAGE_NAME_LEN]);

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
void render_content_html(const struct sf_record *r, struct sf_buf *out);

/* ---- pages (render_html.c) ------------------------------------------ */

/*
 * The browsable site: HTML5 built as a libxml2 tree and serialized by its
 * HTML writer, so every text and attribute is escaped by the library.
 * Links between pages are relative (the site works from any host, or
 * from the file system); feed links inside feeds stay absolute.
 */

/* A feed as the front page lists it: no record is needed. */
struct sf_page_feed {
    const char *slug;
    const char *title;
    const char *description;
    const char *category;       /* NULL for "all" */
    size_t n_items;
    struct sf_time newest;      /* newest publication; unset when empty */
};

/* The front page (index.html at the output root): every feed with its
 * item count, newest date and subscribe links, the OPML list, and
 * autodiscovery links.  Returns false only when out reaches its limit. */
bool render_page_index(const struct sf_config *c, const struct sf_page_feed *feeds, size_t n,
                       struct sf_buf *out);

/* A feed's page (SLUG/index.html): its items newest first, with the
 * feed's subscribe links. */
bool render_page_feed(const struct sf_render_feed *f, struct sf_buf *out);

/* An item's archive page (SLUG/PAGE, SLUG its category's): the full text
 * with complete attribution.  f is the item's category feed. */
bool render_page_item(const struct sf_render_feed *f, const struct sf_render_item *it,
                      struct sf_buf *out);

/* The one stylesheet every page links to, written as style.css. */
extern const char render_page_css[];
#define SF_PAGE_CSS "style.css"
#define SF_PAGE_INDEX "index.html"

/* "snapfeed VERSION" and the project's URL, for generator elements. */
extern const char render_generator_name[];
extern const char render_generator_version[];
extern const char render_generator_uri[];
