/* SPDX-License-Identifier: MIT */
/* render_rss.c - a feed as RSS 2.0 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "render_xml.h"

/*
 * Attribution uses Dublin Core, because RSS's own <author> must be an
 * e-mail address and <source> the URL of another RSS feed, neither of
 * which a capture has: dc:creator is the author, dc:publisher the original
 * publisher (本文转自), dc:source the outlet it came through (来源),
 * dc:contributor the capturing site.
 */

static void
item(struct xw *x, const struct sf_render_feed *f, const struct sf_render_item *it,
     struct sf_buf *scratch)
{
    const struct sf_record *r = it->rec;
    char date[SF_RFC822_LEN];
    char *link = render_item_link(f->config, it);
    xw_start(x, "item");
    xw_el(x, "title", r->title);
    xw_el(x, "link", link);
    xw_start(x, "guid");
    /* The id is a URL people can open only when it is the article's own. */
    xw_attr(x, "isPermaLink", r->url && strcmp(r->id, r->url) == 0 ? "true" : "false");
    xw_text(x, r->id);
    xw_end(x);
    when_format_rfc822(&r->published, date);
    xw_el(x, "pubDate", date);
    xw_el(x, "category", r->category);
    xw_el(x, "dc:creator", r->author);
    xw_el(x, "dc:publisher", r->via);
    xw_el(x, "dc:source", r->source);
    xw_el(x, "dc:contributor", r->captured_by);
    /* description is HTML by convention: the plain-text summary (or, with
     * no body, the title) is escaped once more so readers show it as text. */
    if (*it->text->summary) {
        xw_el(x, "description", it->text->summary_html);
    } else {
        buf_clear(scratch);
        xw_escape(r->title, scratch);
        xw_el(x, "description", scratch->data);
    }
    xw_el(x, "content:encoded", it->text->content_html);
    xw_end(x);
    free(link);
}

bool
render_rss(const struct sf_render_feed *f, struct sf_buf *out)
{
    const struct sf_config *c = f->config;
    struct xw x;
    struct sf_buf scratch;
    buf_init(&scratch, 0);
    char *self = render_url(c, f->slug, render_formats[SF_FEED_RSS].file);
    char *home = render_url(c, f->slug, NULL);
    struct sf_time newest, updated;
    render_feed_times(f, &newest, &updated);

    xw_begin(&x, true);
    xw_start(&x, "rss");
    xw_attr(&x, "version", "2.0");
    xw_attr(&x, "xmlns:atom", "http://www.w3.org/2005/Atom");
    xw_attr(&x, "xmlns:content", "http://purl.org/rss/1.0/modules/content/");
    xw_attr(&x, "xmlns:dc", "http://purl.org/dc/elements/1.1/");
    xw_start(&x, "channel");
    xw_el(&x, "title", f->title);
    xw_el(&x, "link", home);
    /* HTML by convention here too, and it holds a capture's category when
     * feeds[] lists none: escaped once more, as an item's is. */
    if (f->description) {
        xw_escape(f->description, &scratch);
        xw_el(&x, "description", scratch.data ? scratch.data : "");
    }
    xw_el(&x, "language", c->site.language);
    if (newest.set) {
        char date[SF_RFC822_LEN];
        when_format_rfc822(&newest, date);
        xw_el(&x, "lastBuildDate", date);
    }
    char *generator = xasprintf("%s %s", render_generator_name, render_generator_version);
    xw_el(&x, "generator", generator);
    free(generator);
    xw_start(&x, "atom:link");
    xw_attr(&x, "rel", "self");
    xw_attr(&x, "type", render_formats[SF_FEED_RSS].content_type);
    xw_attr(&x, "href", self);
    xw_end(&x);
    /* WebSub discovery: the self link above is the topic hubs are told of. */
    for (size_t i = 0; i < c->websub.n_hubs; i++) {
        xw_start(&x, "atom:link");
        xw_attr(&x, "rel", "hub");
        xw_attr(&x, "href", c->websub.hubs[i]);
        xw_end(&x);
    }
    for (size_t i = 0; i < f->n_items; i++)
        item(&x, f, &f->items[i], &scratch);
    xw_end(&x);
    xw_end(&x);
    bool ok = xw_finish(&x, out);
    buf_finish(&scratch);
    free(self);
    free(home);
    return ok;
}
