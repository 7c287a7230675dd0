/* SPDX-License-Identifier: MIT */
/* render_json.c - a feed as JSON Feed 1.1 */
#include "render.h"

#include <jansson.h>
#include <stdlib.h>

/*
 * JSON Feed has no field for where an article came from, so beside the
 * authors entry the full attribution goes into an "_snapfeed" extension
 * object, as the spec provides for.
 */

static void
set_str(json_t *o, const char *key, const char *value)
{
    if (value)
        json_object_set_new(o, key, json_string(value));
}

static void
set_time(json_t *o, const char *key, const struct sf_time *t)
{
    if (!t->set)
        return;
    char buf[SF_RFC3339_LEN];
    when_format_rfc3339(t, buf);
    json_object_set_new(o, key, json_string(buf));
}

static json_t *
author(const char *name)
{
    json_t *a = json_array(), *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_array_append_new(a, o);
    return a;
}

static json_t *
item(const struct sf_render_feed *f, const struct sf_render_item *it)
{
    const struct sf_record *r = it->rec;
    json_t *o = json_object();
    set_str(o, "id", r->id);
    char *link = render_item_link(f->config, it);
    char *page = render_item_page_url(f->config, it);
    set_str(o, "url", link);
    set_str(o, "title", r->title);
    set_str(o, "content_html", it->text->content_html);
    if (*it->text->summary)
        set_str(o, "summary", it->text->summary);
    set_time(o, "date_published", &r->published);
    set_time(o, "date_modified", &it->updated);
    const char *name = r->author ? r->author : r->via ? r->via : r->source;
    json_object_set_new(o, "authors", author(name ? name : f->config->site.author));
    json_t *tags = json_array();
    json_array_append_new(tags, json_string(r->category));
    json_object_set_new(o, "tags", tags);
    json_t *ext = json_object();
    set_str(ext, "source", r->source);
    set_str(ext, "via", r->via);
    set_str(ext, "author", r->author);
    set_str(ext, "captured_by", r->captured_by);
    set_time(ext, "captured_at", &r->captured_at);
    set_str(ext, "original_url", r->url);
    set_str(ext, "archive_url", page);
    json_object_set_new(o, "_snapfeed", ext);
    free(page);
    free(link);
    return o;
}

bool
render_json(const struct sf_render_feed *f, struct sf_buf *out)
{
    const struct sf_config *c = f->config;
    char *self = render_url(c, f->slug, render_formats[SF_FEED_JSON].file);
    char *home = render_url(c, f->slug, NULL);

    json_t *o = json_object();
    set_str(o, "version", "https://jsonfeed.org/version/1.1");
    set_str(o, "title", f->title);
    set_str(o, "home_page_url", home);
    set_str(o, "feed_url", self);
    set_str(o, "description", f->description);
    set_str(o, "language", c->site.language);
    json_object_set_new(o, "authors", author(c->site.author));
    /* WebSub discovery: feed_url above is the topic hubs are told of. */
    if (c->websub.n_hubs) {
        json_t *hubs = json_array();
        for (size_t i = 0; i < c->websub.n_hubs; i++) {
            json_t *h = json_object();
            set_str(h, "type", "WebSub");
            set_str(h, "url", c->websub.hubs[i]);
            json_array_append_new(hubs, h);
        }
        json_object_set_new(o, "hubs", hubs);
    }
    json_t *items = json_array();
    for (size_t i = 0; i < f->n_items; i++)
        json_array_append_new(items, item(f, &f->items[i]));
    json_object_set_new(o, "items", items);

    char *s = json_dumps(o, JSON_INDENT(2));
    bool ok = s && buf_append_str(out, s) && buf_append_char(out, '\n');
    free(s);
    json_decref(o);
    free(self);
    free(home);
    return ok;
}
