/* SPDX-License-Identifier: MIT */
/* render_atom.c - a feed as Atom 1.0 (RFC 4287) */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "render_xml.h"
#include "url.h"

/*
 * Attribution: the entry's author is its author when the capture names
 * one, else its original publisher, else its source; the original
 * publisher and the capturing site are contributors; the outlet it came
 * through is the entry's atom:source, dated by the capture.
 */

static void
person(struct xw *x, const char *element, const char *name)
{
    if (!name)
        return;
    xw_start(x, element);
    xw_el(x, "name", name);
    xw_end(x);
}

static void
time_el(struct xw *x, const char *name, const struct sf_time *t)
{
    char buf[SF_RFC3339_LEN];
    when_format_rfc3339(t, buf);
    xw_el(x, name, buf);
}

/* atom:source needs an id: a tag: URI naming the outlet on the item's host. */
static char *
source_id(const struct sf_render_feed *f, const struct sf_record *r)
{
    char date[11];
    when_format_date(&r->published, date);
    struct sf_buf b;
    buf_init(&b, 0);
    buf_printf(&b, "tag:%s,%s:source/",
               r->captured_by ? r->captured_by
                              : f->config->site.host ? f->config->site.host : "snapfeed.invalid",
               date);
    url_append_segment(&b, r->source);
    return buf_steal(&b, NULL);
}

static void
entry(struct xw *x, const struct sf_render_feed *f, const struct sf_render_item *it)
{
    const struct sf_record *r = it->rec;
    char *link = render_item_link(f->config, it);
    char *page = render_item_page_url(f->config, it);
    xw_start(x, "entry");
    xw_el(x, "id", r->id);
    xw_el(x, "title", r->title);
    time_el(x, "published", &r->published);
    time_el(x, "updated", &it->updated);
    const char *author = r->author ? r->author : r->via ? r->via : r->source;
    person(x, "author", author ? author : f->config->site.author);
    if (r->via && r->via != author)
        person(x, "contributor", r->via);
    person(x, "contributor", r->captured_by);
    xw_start(x, "category");
    xw_attr(x, "term", r->category);
    xw_attr(x, "label", r->category);
    xw_end(x);
    if (link) {
        xw_start(x, "link");
        xw_attr(x, "rel", "alternate");
        xw_attr(x, "type", "text/html");
        xw_attr(x, "href", link);
        xw_end(x);
    }
    /* An item with an original URL links there; its archived copy here is
     * a related page, for when the original is gone. */
    if (page && link && strcmp(page, link) != 0) {
        xw_start(x, "link");
        xw_attr(x, "rel", "related");
        xw_attr(x, "type", "text/html");
        xw_attr(x, "href", page);
        xw_end(x);
    }
    if (*it->text->summary) {
        /* As html, escaped: captured text that looks like markup is then
         * plainly text to every reader (and to the validator). */
        xw_start(x, "summary");
        xw_attr(x, "type", "html");
        xw_text(x, it->text->summary_html);
        xw_end(x);
    }
    xw_start(x, "content");
    xw_attr(x, "type", "html");
    xw_text(x, it->text->content_html);
    xw_end(x);
    if (r->source) {
        char *id = source_id(f, r);
        xw_start(x, "source");
        xw_el(x, "id", id);
        xw_el(x, "title", r->source);
        time_el(x, "updated", r->captured_at.set ? &r->captured_at : &r->published);
        xw_end(x);
        free(id);
    }
    xw_end(x);
    free(page);
    free(link);
}

bool
render_atom(const struct sf_render_feed *f, struct sf_buf *out)
{
    const struct sf_config *c = f->config;
    struct xw x;
    char *self = render_url(c, f->slug, render_formats[SF_FEED_ATOM].file);
    char *home = render_url(c, f->slug, NULL);
    struct sf_time newest, updated;
    render_feed_times(f, &newest, &updated);

    xw_begin(&x, true);
    xw_start(&x, "feed");
    xw_attr(&x, "xmlns", "http://www.w3.org/2005/Atom");
    xw_attr(&x, "xml:lang", c->site.language);
    /* The feed's own URL is its id: stable, unique, and ASCII. */
    xw_el(&x, "id", self);
    xw_el(&x, "title", f->title);
    xw_el(&x, "subtitle", f->description);
    if (updated.set)
        time_el(&x, "updated", &updated);
    xw_start(&x, "link");
    xw_attr(&x, "rel", "self");
    xw_attr(&x, "type", render_formats[SF_FEED_ATOM].content_type);
    xw_attr(&x, "href", self);
    xw_end(&x);
    /* WebSub discovery: the self link above is the topic hubs are told of. */
    for (size_t i = 0; i < c->websub.n_hubs; i++) {
        xw_start(&x, "link");
        xw_attr(&x, "rel", "hub");
        xw_attr(&x, "href", c->websub.hubs[i]);
        xw_end(&x);
    }
    xw_start(&x, "link");
    xw_attr(&x, "rel", "alternate");
    xw_attr(&x, "type", "text/html");
    xw_attr(&x, "href", home);
    xw_end(&x);
    person(&x, "author", c->site.author);
    xw_start(&x, "generator");
    xw_attr(&x, "uri", render_generator_uri);
    xw_attr(&x, "version", render_generator_version);
    xw_text(&x, render_generator_name);
    xw_end(&x);
    for (size_t i = 0; i < f->n_items; i++)
        entry(&x, f, &f->items[i]);
    xw_end(&x);
    bool ok = xw_finish(&x, out);
    free(self);
    free(home);
    return ok;
}
