/* SPDX-License-Identifier: MIT */
/* render.c - the table of feed formats and what every renderer shares */
#include "render.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlmemory.h>
#include <stdlib.h>
#include <string.h>

#include "render_xml.h"
#include "sf_version.h"
#include "text.h"
#include "url.h"

const struct sf_format render_formats[SF_FEED_COUNT] = {
    [SF_FEED_RSS] = {"rss", "rss.xml", "application/rss+xml", render_rss},
    [SF_FEED_ATOM] = {"atom", "atom.xml", "application/atom+xml", render_atom},
    [SF_FEED_JSON] = {"json", "feed.json", "application/feed+json", render_json},
};

const char render_generator_name[] = "snapfeed";
const char render_generator_version[] = SF_VERSION;
const char render_generator_uri[] = "https://snapfeed.invalid/";

/* ---- the writer ------------------------------------------------------- */

void
xw_begin(struct xw *x, bool document)
{
    x->failed = false;
    x->document = document;
    x->buf = xmlBufferCreate();
    x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
    if (!x->w) {
        x->failed = true;
        return;
    }
    if (document) {
        xmlTextWriterSetIndent(x->w, 1);
        xmlTextWriterSetIndentString(x->w, BAD_CAST "  ");
        x->failed = xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) < 0;
    }
}

void
xw_start(struct xw *x, const char *name)
{
    if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->failed = true;
}

void
xw_attr(struct xw *x, const char *name, const char *value)
{
    if (!x->failed && value &&
        xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = true;
}

void
xw_text(struct xw *x, const char *text)
{
    if (!x->failed && text && xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
        x->failed = true;
}

void
xw_end(struct xw *x)
{
    if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
        x->failed = true;
}

void
xw_el(struct xw *x, const char *name, const char *text)
{
    if (!text)
        return;
    xw_start(x, name);
    xw_text(x, text);
    xw_end(x);
}

bool
xw_finish(struct xw *x, struct sf_buf *out)
{
    if (x->w) {
        /* A fragment is only flushed: ending a document adds a newline. */
        if (!x->failed && (x->document ? xmlTextWriterEndDocument(x->w)
                                       : xmlTextWriterFlush(x->w)) < 0)
            x->failed = true;
        xmlFreeTextWriter(x->w);   /* flushes into buf */
    }
    bool ok = !x->failed && x->buf &&
              buf_append(out, xmlBufferContent(x->buf), (size_t)xmlBufferLength(x->buf));
    if (x->buf)
        xmlBufferFree(x->buf);
    x->w = NULL;
    x->buf = NULL;
    return ok;
}

void
xw_escape(const char *s, struct sf_buf *out)
{
    xmlChar *e = xmlEncodeSpecialChars(NULL, BAD_CAST s);
    if (!e)
        util_out_of_memory(0);   /* libxml2 fails only when out of memory */
    buf_append_str(out, (const char *)e);
    xmlFree(e);
}

void
render_init(void)
{
    xmlMemSetup(free, xmalloc, xrealloc, xstrdup);
    xmlInitParser();
    /* libxml2 2.9 grows buffers to the exact size asked for, one
     * reallocation per write: quadratic in the length of a feed whenever
     * the allocator has to move the block.  Doubling keeps it linear. */
    xmlSetBufferAllocationScheme(XML_BUFFER_ALLOC_DOUBLEIT);
}

/* ---- shared pieces ---------------------------------------------------- */

char *
render_url(const struct sf_config *c, const char *slug, const char *file)
{
    struct sf_buf b;
    buf_init(&b, 0);
    buf_append_str(&b, c->site.base_url);
    if (slug) {
        url_append_segment(&b, slug);
        buf_append_char(&b, '/');
    }
    if (file)
        url_append_segment(&b, file);
    return buf_steal(&b, NULL);
}

char *
render_item_page_url(const struct sf_config *c, const struct sf_render_item *it)
{
    return it->page && it->slug ? render_url(c, it->slug, it->page) : NULL;
}

char *
render_item_link(const struct sf_config *c, const struct sf_render_item *it)
{
    /* The article's own page is the link when there is one; the archive
     * page otherwise, so every item opens something in every reader. */
    return it->rec->url ? xstrdup(it->rec->url) : render_item_page_url(c, it);
}

void
render_page_name(uint64_t idhash, const char *id, bool wide, char buf[SF_PAGE_NAME_LEN])
{
    static const char hex[] = "0123456789abcdef";
    char *p = buf;
    uint64_t parts[2] = {idhash, wide ? hash_words(UINT64_C(0x736e617066656564), id, strlen(id))
                                      : 0};
    for (int k = 0; k < (wide ? 2 : 1); k++) {
        if (k)
            *p++ = '-';
        for (int i = 15; i >= 0; i--)
            *p++ = hex[(parts[k] >> (i * 4)) & 15];
    }
    memcpy(p, ".html", sizeof ".html");
}

void
render_feed_times(const struct sf_render_feed *f, struct sf_time *published,
                  struct sf_time *updated)
{
    *published = (struct sf_time){0};
    *updated = (struct sf_time){0};
    for (size_t i = 0; i < f->n_items; i++) {
        const struct sf_render_item *it = &f->items[i];
        if (!published->set || it->rec->published.t > published->t)
            *published = it->rec->published;
        if (!updated->set || it->updated.t > updated->t)
            *updated = it->updated;
    }
}

void
render_summary(const struct sf_record *r, struct sf_buf *out)
{
    /* The summary is the start of the body, paragraphs joined. */
    size_t start = out->len, chars = 0;
    for (size_t i = 0; i < r->n_body && chars <= SF_SUMMARY_CHARS; i++) {
        const char *p = r->body[i];
        if (out->len > start) {
            unsigned char last = (unsigned char)out->data[out->len - 1];
            if (!(last >= 0x80 && (unsigned char)p[0] >= 0x80))
                buf_append_char(out, ' ');
        }
        size_t n = strlen(p), keep = text_utf8_prefix(p, n, SF_SUMMARY_CHARS + 1);
        buf_append(out, p, keep);
        chars = text_utf8_count(out->data + start, out->len - start);
    }
    bool whole;
    size_t len = text_cut_sentence(out->data ? out->data + start : "", out->len - start,
                                   SF_SUMMARY_CHARS, &whole);
    out->len = start + len;
    if (out->data)
        out->data[out->len] = '\0';
    if (!whole && len)
        buf_append_str(out, "…");
}

/* One "label：value" piece of the attribution line. */
static void
attribution_part(struct xw *x, bool *first, const char *label, const char *value)
{
    if (!value)
        return;
    if (!*first)
        xw_text(x, " · ");
    *first = false;
    xw_text(x, label);
    xw_text(x, value);
}

void
render_content_html(const struct sf_record *r, struct sf_buf *out)
{
    struct xw x;
    xw_begin(&x, false);
    for (size_t i = 0; i < r->n_body; i++)
        xw_el(&x, "p", r->body[i]);

    char captured[SF_CN_LEN] = "";
    if (r->captured_at.set)
        when_format_cn(&r->captured_at, captured);
    xw_start(&x, "p");
    xw_start(&x, "small");
    bool first = true;
    attribution_part(&x, &first, "来源：", r->source);
    attribution_part(&x, &first, "本文转自：", r->via);
    attribution_part(&x, &first, "作者：", r->author);
    if (r->captured_by || r->captured_at.set) {
        char *snap = r->captured_by && r->captured_at.set
                         ? xasprintf("%s，%s", r->captured_by, captured)
                         : xstrdup(r->captured_by ? r->captured_by : captured);
        attribution_part(&x, &first, "快照：", snap);
        free(snap);
    }
    if (r->url) {
        if (!first)
            xw_text(&x, " · ");
        first = false;
        xw_text(&x, "原文：");
        xw_start(&x, "a");
        xw_attr(&x, "href", r->url);
        xw_text(&x, r->url);
        xw_end(&x);
    }
    if (first)
        xw_text(&x, "来源不详");
    xw_end(&x);
    xw_end(&x);
    xw_finish(&x, out);
}

void
render_text_make(const struct sf_record *r, struct sf_render_text *t)
{
    struct sf_buf b;
    buf_init(&b, 0);
    render_summary(r, &b);
    t->summary = xstrdup(b.len ? b.data : "");
    buf_clear(&b);
    xw_escape(t->summary, &b);
    t->summary_html = xstrdup(b.len ? b.data : "");
    buf_clear(&b);
    render_content_html(r, &b);
    t->content_html = xstrdup(b.len ? b.data : "");
    buf_finish(&b);
}

void
render_text_finish(struct sf_render_text *t)
{
    if (!t)
        return;
    free(t->summary);
    free(t->summary_html);
    free(t->content_html);
    *t = (struct sf_render_text){0};
}
