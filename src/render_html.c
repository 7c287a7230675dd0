/* SPDX-License-Identifier: MIT */
/* render_html.c - the browsable pages: the front page, a page per feed, an archive page per item */
#include "render.h"

#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/*
 * Each page is a libxml2 document tree, serialized by libxml2's HTML
 * writer: it escapes every text and attribute value and knows HTML's void
 * elements, so nothing captured can become markup, and no tag is written
 * by hand.  The output buffer has no encoder, so UTF-8 goes out as it is
 * (not as character references) and the pages stay readable as source.
 *
 * Pages link to each other and to the feeds by relative URLs ("../style.css",
 * "education/index.html"): the site then works from any host name, behind
 * a proxy, or opened from the file system, where a link to a directory
 * would show a listing, hence the explicit index.html.
 */

/* The labels a reader sees.  The captures are Chinese news, so the pages
 * speak Chinese whatever site.language says about the feeds. */
#define L_ALL "全部文章"
#define L_ITEMS "篇"
#define L_NEWEST "最新："
#define L_SUBSCRIBE "订阅："
#define L_OPML "全部订阅源（OPML，可导入阅读器）"
#define L_HOME "首页"
#define L_SOURCE "来源"
#define L_VIA "本文转自"
#define L_AUTHOR "作者"
#define L_CAPTURED "快照"
#define L_ORIGINAL "原文"
#define L_UNKNOWN "不详"
#define L_NO_BODY "（快照未包含正文）"
#define L_ARCHIVE "存档"
#define L_EMPTY "暂无文章。"
#define L_GENERATED "由 snapfeed 生成"

/* Subscribe links, in the order of enum sf_feed_format. */
static const char *const format_labels[SF_FEED_COUNT] = {
    [SF_FEED_RSS] = "RSS",
    [SF_FEED_ATOM] = "Atom",
    [SF_FEED_JSON] = "JSON Feed",
};

/* libxml2 returns NULL only when out of memory: that is fatal here, as
 * for every allocation (util.h). */
static xmlNodePtr
must(xmlNodePtr n)
{
    if (!n)
        util_out_of_memory(0);
    return n;
}

/* A child element, with text when text is not NULL (escaped on output). */
static xmlNodePtr
el(xmlNodePtr parent, const char *name, const char *text)
{
    return must(xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text));
}

static void
attr(xmlNodePtr n, const char *name, const char *value)
{
    if (value && !xmlNewProp(n, BAD_CAST name, BAD_CAST value))
        util_out_of_memory(0);
}

/* Appends text to n (escaped on output). */
static void
text(xmlNodePtr n, const char *s)
{
    if (s)
        xmlNodeAddContent(n, BAD_CAST s);
}

/*
 * A sectioning element (header, main, article, nav, footer).  libxml2's
 * HTML writer knows HTML 4's elements only, and lays out the source of
 * those alone; newlines around these keep the source readable.
 */
static xmlNodePtr
block(xmlNodePtr parent, const char *name)
{
    xmlNodePtr n = el(parent, name, "\n");
    text(parent, "\n");
    return n;
}

/* <a href="href">label</a> */
static xmlNodePtr
link_to(xmlNodePtr parent, const char *href, const char *label)
{
    xmlNodePtr a = el(parent, "a", label);
    attr(a, "href", href);
    return a;
}

/* A relative URL: root ("" or "../"), then slug/ when set, then file,
 * each percent-encoded as one segment.  Returns a new string. */
static char *
rel(const char *root, const char *slug, const char *file)
{
    struct sf_buf b;
    buf_init(&b, 0);
    buf_append_str(&b, root);
    if (slug) {
        url_append_segment(&b, slug);
        buf_append_char(&b, '/');
    }
    if (file)
        url_append_segment(&b, file);
    return buf_steal(&b, NULL);
}

/* <time datetime="RFC 3339">2023年10月27日 20:28</time> */
static void
time_el(xmlNodePtr parent, const struct sf_time *t)
{
    char iso[SF_RFC3339_LEN], cn[SF_CN_LEN];
    when_format_rfc3339(t, iso);
    when_format_cn(t, cn);
    xmlNodePtr n = el(parent, "time", cn);
    attr(n, "datetime", iso);
}

/* One page under construction. */
struct page {
    xmlDocPtr doc;
    xmlNodePtr head;
    xmlNodePtr body;
    const char *root;       /* the way back to the output root: "" or "../" */
};

static void
page_begin(struct page *p, const struct sf_config *c, const char *root, const char *title,
           const char *description)
{
    p->root = root;
    p->doc = htmlNewDocNoDtD(NULL, NULL);
    if (!p->doc || !xmlCreateIntSubset(p->doc, BAD_CAST "html", NULL, NULL))
        util_out_of_memory(0);
    xmlNodePtr html = must(xmlNewDocNode(p->doc, NULL, BAD_CAST "html", NULL));
    xmlDocSetRootElement(p->doc, html);
    attr(html, "lang", c->site.language);
    p->head = el(html, "head", NULL);
    attr(el(p->head, "meta", NULL), "charset", "utf-8");
    xmlNodePtr vp = el(p->head, "meta", NULL);
    attr(vp, "name", "viewport");
    attr(vp, "content", "width=device-width, initial-scale=1");
    el(p->head, "title", title);
    if (description) {
        xmlNodePtr d = el(p->head, "meta", NULL);
        attr(d, "name", "description");
        attr(d, "content", description);
    }
    xmlNodePtr g = el(p->head, "meta", NULL);
    attr(g, "name", "generator");
    char *gen = xasprintf("%s %s", render_generator_name, render_generator_version);
    attr(g, "content", gen);
    free(gen);
    char *css = rel(root, NULL, SF_PAGE_CSS);
    xmlNodePtr l = el(p->head, "link", NULL);
    attr(l, "rel", "stylesheet");
    attr(l, "href", css);
    free(css);
    p->body = el(html, "body", NULL);
}

/* Feed autodiscovery: <link rel="alternate" type="application/rss+xml">
 * and the others, so that a feed reader given the page's URL finds the
 * feeds.  With one_format only the first format written, as the front
 * page lists every feed and a reader should offer each once. */
static void
page_alternates(struct page *p, const struct sf_config *c, const char *slug, const char *title,
                bool one_format)
{
    for (size_t k = 0, n = 0; k < SF_FEED_COUNT && !(one_format && n); k++) {
        if (!c->output.formats[k])
            continue;
        n++;
        /* slug NULL: the feed of this page's own directory */
        char *href = rel(slug ? p->root : "", slug, render_formats[k].file);
        char *t = xasprintf("%s (%s)", title, format_labels[k]);
        xmlNodePtr l = el(p->head, "link", NULL);
        attr(l, "rel", "alternate");
        attr(l, "type", render_formats[k].content_type);
        attr(l, "title", t);
        attr(l, "href", href);
        free(t);
        free(href);
    }
}

/* "订阅：RSS · Atom · JSON Feed", one link per format written. */
static void
subscribe_links(xmlNodePtr parent, const struct sf_config *c, const char *root,
                const char *slug)
{
    xmlNodePtr p = el(parent, "p", L_SUBSCRIBE);
    attr(p, "class", "subscribe");
    bool first = true;
    for (size_t k = 0; k < SF_FEED_COUNT; k++) {
        if (!c->output.formats[k])
            continue;
        if (!first)
            text(p, " · ");
        first = false;
        char *href = rel(root, slug, render_formats[k].file);
        xmlNodePtr a = link_to(p, href, format_labels[k]);
        attr(a, "type", render_formats[k].content_type);
        free(href);
    }
}

static void
page_footer(struct page *p)
{
    xmlNodePtr f = block(p->body, "footer");
    xmlNodePtr small = el(f, "p", NULL);
    attr(small, "class", "generator");
    text(small, L_GENERATED);
}

/* Serializes the page, appends it to out, frees the tree. */
static bool
page_finish(struct page *p, struct sf_buf *out)
{
    xmlOutputBufferPtr ob = xmlAllocOutputBuffer(NULL);
    if (!ob)
        util_out_of_memory(0);
    htmlDocContentDumpFormatOutput(ob, p->doc, NULL, 1);
    bool ok = xmlOutputBufferFlush(ob) >= 0 &&
              buf_append(out, xmlOutputBufferGetContent(ob), xmlOutputBufferGetSize(ob));
    xmlOutputBufferClose(ob);
    xmlFreeDoc(p->doc);
    p->doc = NULL;
    return ok;
}

/* The header every page starts with; below the front page, it begins
 * with a trail (*nav) back to the site's front page. */
static xmlNodePtr
page_header(struct page *p, const struct sf_config *c, xmlNodePtr *nav)
{
    xmlNodePtr h = block(p->body, "header");
    if (nav) {
        *nav = el(h, "nav", NULL);
        text(h, "\n");
        char *href = rel(p->root, NULL, SF_PAGE_INDEX);
        link_to(*nav, href, c->site.title);
        free(href);
    }
    return h;
}

/* ---- the front page --------------------------------------------------- */

bool
render_page_index(const struct sf_config *c, const struct sf_page_feed *feeds, size_t n,
                  struct sf_buf *out)
{
    struct page p;
    page_begin(&p, c, "", c->site.title, c->site.description);
    for (size_t i = 0; i < n; i++)
        page_alternates(&p, c, feeds[i].slug, feeds[i].title, true);
    xmlNodePtr h = page_header(&p, c, NULL);
    el(h, "h1", c->site.title);
    if (c->site.description && strcmp(c->site.description, c->site.title) != 0)
        el(h, "p", c->site.description);

    xmlNodePtr main = block(p.body, "main");
    if (!n)
        el(main, "p", L_EMPTY);
    xmlNodePtr list = n ? el(main, "ul", NULL) : NULL;
    if (list)
        attr(list, "class", "feeds");
    for (size_t i = 0; i < n; i++) {
        const struct sf_page_feed *f = &feeds[i];
        xmlNodePtr li = el(list, "li", NULL);
        xmlNodePtr h2 = el(li, "h2", NULL);
        char *href = rel("", f->slug, SF_PAGE_INDEX);
        link_to(h2, href, f->category ? f->category : L_ALL);
        free(href);
        if (f->category && strcmp(f->title, f->category) != 0)
            el(li, "p", f->title);
        xmlNodePtr meta = el(li, "p", NULL);
        attr(meta, "class", "meta");
        char *count = xasprintf("%zu %s", f->n_items, L_ITEMS);
        text(meta, count);
        free(count);
        if (f->newest.set) {
            text(meta, " · " L_NEWEST);
            time_el(meta, &f->newest);
        }
        subscribe_links(li, c, "", f->slug);
    }
    xmlNodePtr opml = el(main, "p", NULL);
    attr(opml, "class", "opml");
    link_to(opml, "feeds.opml", L_OPML);
    page_footer(&p);
    return page_finish(&p, out);
}

/* ---- a feed's page ---------------------------------------------------- */

/* The attribution of an item in one line: 来源 and 本文转自 when known. */
static void
source_line(xmlNodePtr parent, const struct sf_record *r)
{
    if (r->source) {
        text(parent, " · " L_SOURCE "：");
        text(parent, r->source);
    }
    if (r->via && (!r->source || strcmp(r->via, r->source) != 0)) {
        text(parent, " · " L_VIA "：");
        text(parent, r->via);
    }
}

bool
render_page_feed(const struct sf_render_feed *f, struct sf_buf *out)
{
    const struct sf_config *c = f->config;
    struct page p;
    page_begin(&p, c, "../", f->title, f->description);
    page_alternates(&p, c, NULL, f->title, false);
    xmlNodePtr nav;
    xmlNodePtr h = page_header(&p, c, &nav);
    el(h, "h1", f->title);
    if (f->description && strcmp(f->description, f->title) != 0)
        el(h, "p", f->description);
    subscribe_links(h, c, "", NULL);

    xmlNodePtr main = block(p.body, "main");
    if (!f->n_items)
        el(main, "p", L_EMPTY);
    for (size_t i = 0; i < f->n_items; i++) {
        const struct sf_render_item *it = &f->items[i];
        const struct sf_record *r = it->rec;
        xmlNodePtr art = block(main, "article");
        xmlNodePtr h2 = el(art, "h2", NULL);
        /* The archive page here, else the original. */
        char *href = it->page ? strcmp(it->slug, f->slug) == 0 ? rel("", NULL, it->page)
                                                                 : rel("../", it->slug, it->page)
                              : r->url ? xstrdup(r->url) : NULL;
        if (href)
            link_to(h2, href, r->title);
        else
            text(h2, r->title);
        free(href);
        xmlNodePtr meta = el(art, "p", NULL);
        attr(meta, "class", "meta");
        time_el(meta, &r->published);
        if (!f->category) {
            text(meta, " · ");
            text(meta, r->category);
        }
        source_line(meta, r);
        if (*it->text->summary)
            el(art, "p", it->text->summary);
        if (r->url && it->page) {
            xmlNodePtr more = el(art, "p", NULL);
            attr(more, "class", "links");
            link_to(more, r->url, L_ORIGINAL);
        }
    }
    page_footer(&p);
    return page_finish(&p, out);
}

/* ---- an item's archive page ------------------------------------------- */

/* <dt>label</dt><dd>value</dd>, value "不详" when unknown; returns the dd. */
static xmlNodePtr
fact(xmlNodePtr dl, const char *label, const char *value)
{
    el(dl, "dt", label);
    return el(dl, "dd", value ? value : L_UNKNOWN);
}

/* <dt>label</dt><dd><a href="href">shown</a></dd> */
static void
fact_link(xmlNodePtr dl, const char *label, const char *href, const char *shown)
{
    el(dl, "dt", label);
    link_to(el(dl, "dd", NULL), href, shown);
}

bool
render_page_item(const struct sf_render_feed *f, const struct sf_render_item *it,
                 struct sf_buf *out)
{
    const struct sf_config *c = f->config;
    const struct sf_record *r = it->rec;
    struct page p;
    struct sf_buf b;
    buf_init(&b, 0);
    /* The summary is the page's description, for search engines and link
     * previews. */
    char *title = xasprintf("%s - %s", r->title, f->title);
    page_begin(&p, c, "../", title, *it->text->summary ? it->text->summary : NULL);
    free(title);
    page_alternates(&p, c, NULL, f->title, false);
    xmlNodePtr nav;
    page_header(&p, c, &nav);
    text(nav, " › ");
    link_to(nav, SF_PAGE_INDEX, f->title);

    xmlNodePtr main = block(p.body, "main");
    xmlNodePtr art = block(main, "article");
    el(art, "h1", r->title);
    xmlNodePtr meta = el(art, "p", NULL);
    attr(meta, "class", "meta");
    time_el(meta, &r->published);
    text(meta, " · ");
    text(meta, r->category);
    source_line(meta, r);
    for (size_t i = 0; i < r->n_body; i++)
        el(art, "p", r->body[i]);
    if (!r->n_body)
        el(art, "p", L_NO_BODY);

    /* Where it came from, in full: the outlet, the original publisher,
     * the author, who captured it and when, and the original. */
    xmlNodePtr foot = block(art, "footer");
    xmlNodePtr dl = el(foot, "dl", NULL);
    attr(dl, "class", "attribution");
    fact(dl, L_SOURCE, r->source);
    fact(dl, L_VIA, r->via);
    if (r->author)
        fact(dl, L_AUTHOR, r->author);
    if (r->captured_by || r->captured_at.set) {
        el(dl, "dt", L_CAPTURED);
        xmlNodePtr dd = el(dl, "dd", r->captured_by);
        if (r->captured_at.set) {
            if (r->captured_by)
                text(dd, "，");
            time_el(dd, &r->captured_at);
        }
    }
    if (r->url)
        fact_link(dl, L_ORIGINAL, r->url, r->url);
    char *self = render_item_page_url(c, it);
    if (self)
        fact_link(dl, L_ARCHIVE, it->page, self);
    free(self);
    xmlNodePtr more = block(main, "nav");
    attr(more, "class", "feed");
    subscribe_links(more, c, "", NULL);
    page_footer(&p);
    buf_finish(&b);
    return page_finish(&p, out);
}

/* ---- the stylesheet --------------------------------------------------- */

/*
 * Small on purpose: one column that fits a phone, the system's CJK fonts
 * (PingFang, Noto/Source Han, YaHei, WenQuanYi) before any Latin
 * fallback, line spacing for Chinese text, and a dark palette when the
 * reader's system asks for one.  No script anywhere.
 */
const char render_page_css[] =
    "/* style.css - written by snapfeed; rewritten by every build */\n"
    ":root {\n"
    "  color-scheme: light dark;\n"
    "  --fg: #1d1d1f; --bg: #fbfbf8; --muted: #5f6368; --link: #0b57d0;\n"
    "  --visited: #6f3fa8; --rule: #dcdcd6; --card: #ffffff;\n"
    "}\n"
    "@media (prefers-color-scheme: dark) {\n"
    "  :root {\n"
    "    --fg: #e7e7e4; --bg: #141414; --muted: #a3a3a0; --link: #8ab4f8;\n"
    "    --visited: #c58af9; --rule: #3a3a38; --card: #1d1d1c;\n"
    "  }\n"
    "}\n"
    "html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }\n"
    "body {\n"
    "  margin: 0 auto; max-width: 44rem; padding: 1rem 1.1rem 2rem;\n"
    "  font-family: system-ui, -apple-system, \"PingFang SC\", \"Hiragino Sans GB\",\n"
    "    \"Noto Sans CJK SC\", \"Source Han Sans SC\", \"Microsoft YaHei\",\n"
    "    \"WenQuanYi Micro Hei\", \"WenQuanYi Zen Hei\", sans-serif;\n"
    "  font-size: 1.0625rem; line-height: 1.75; color: var(--fg); background: var(--bg);\n"
    "  overflow-wrap: anywhere;\n"
    "}\n"
    "a { color: var(--link); text-underline-offset: 0.15em; }\n"
    "a:visited { color: var(--visited); }\n"
    "header nav, .meta, .subscribe, .links, .opml, footer { color: var(--muted); "
    "font-size: 0.9rem; }\n"
    "header { border-bottom: 1px solid var(--rule); margin-bottom: 1rem; }\n"
    "h1 { font-size: 1.6rem; line-height: 1.35; margin: 0.4rem 0; }\n"
    "h2 { font-size: 1.2rem; line-height: 1.4; margin: 0 0 0.2rem; }\n"
    "p { margin: 0.5rem 0; }\n"
    "article > p:not([class]) { text-align: justify; }\n"
    "main > article { padding: 0.8rem 0; border-bottom: 1px solid var(--rule); }\n"
    "ul.feeds { list-style: none; padding: 0; margin: 0; }\n"
    "ul.feeds > li { background: var(--card); border: 1px solid var(--rule);\n"
    "  border-radius: 0.5rem; padding: 0.7rem 0.9rem; margin: 0 0 0.8rem; }\n"
    "ul.feeds > li p { margin: 0.2rem 0; }\n"
    "dl.attribution { display: grid; grid-template-columns: max-content 1fr;\n"
    "  gap: 0.2rem 0.8rem; margin: 1.5rem 0 0; padding-top: 0.8rem;\n"
    "  border-top: 1px solid var(--rule); color: var(--muted); font-size: 0.9rem; }\n"
    "dl.attribution dt { font-weight: 600; }\n"
    "dl.attribution dd { margin: 0; }\n"
    "footer { margin-top: 2rem; }\n";
