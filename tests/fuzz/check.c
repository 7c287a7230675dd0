/* SPDX-License-Identifier: MIT */
/* check.c - the invariants every fuzz target checks, shared between them */
#include "check.h"

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"
#include "url.h"

/* libxml2 takes a length as an int.  (<limits.h> is src/limits.h here.) */
#define XML_MAX_LEN 0x7FFFFFFF

void
fuzz_check_text(const char *s, bool required)
{
    if (!s) {
        if (required)
            abort();
        return;
    }
    size_t n = strlen(s);
    if (n == 0 || !text_utf8_valid(s, n, NULL) || text_needs_clean(s, n, false))
        abort();
    const char *t = s;
    size_t tn = n;
    text_trim(&t, &tn);
    if (t != s || tn != n)
        abort();
}

void
fuzz_check_id(const char *id)
{
    if (!id || !*id)
        abort();
    for (const char *c = id; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F)
            abort();
}

void
fuzz_check_time(struct sf_zone *zone, const struct sf_time *t)
{
    if (!t->set)
        abort();
    char buf[SF_RFC3339_LEN];
    when_format_rfc3339(t, buf);
    struct sf_time back;
    if (strlen(buf) != SF_RFC3339_LEN - 1 || !when_parse(zone, buf, strlen(buf), &back) ||
        back.t != t->t)
        abort();
}

void
fuzz_check_record(const struct sf_record *r)
{
    fuzz_check_text(r->title, true);
    fuzz_check_text(r->category, true);
    fuzz_check_text(r->source, false);
    fuzz_check_text(r->via, false);
    fuzz_check_text(r->author, false);
    fuzz_check_text(r->captured_by, false);
    if (strlen(r->category) > 256)
        abort();
    if (r->url && !url_is_http(r->url))
        abort();
    if (r->captured_by && !url_is_hostname(r->captured_by, strlen(r->captured_by)))
        abort();
    if (!r->published.set || !r->file)
        abort();
    fuzz_check_id(r->id);
    if (r->n_body && !r->body)
        abort();
    for (size_t i = 0; i < r->n_body; i++)
        fuzz_check_text(r->body[i], true);
    for (size_t i = 0; i < r->n_related; i++) {
        fuzz_check_text(r->related[i].title, false);
        fuzz_check_text(r->related[i].snippet, true);
    }
    for (size_t i = 0; i < r->n_listing; i++) {
        fuzz_check_text(r->listing[i].category, true);
        fuzz_check_text(r->listing[i].title, true);
        fuzz_check_text(r->listing[i].summary, false);
        if (!r->listing[i].published.set)
            abort();
    }
}

static bool
same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool
same_time(const struct sf_time *a, const struct sf_time *b)
{
    return a->set == b->set && (!a->set || (a->t == b->t && a->off == b->off));
}

void
fuzz_check_round_trip(const struct sf_record *r, struct sf_zone *zone,
                      const char *default_category, const char *site_host)
{
    char *json = record_to_json(r);
    if (!json)
        abort();
    struct sf_json_opts o = {
        .zone = zone,
        .default_category = default_category,
        .site_host = site_host,
    };
    struct sf_error err = {0};
    struct sf_errors warn = {0};
    struct sf_record *back =
        record_from_json(json, strlen(json), &o, r->file, r->line, &err, &warn);
    if (!back)
        abort();
    if (!same_str(back->id, r->id) || record_content_hash(back) != record_content_hash(r) ||
        !same_time(&back->published, &r->published) ||
        !same_time(&back->captured_at, &r->captured_at) ||
        !same_str(back->captured_by, r->captured_by) || back->n_body != r->n_body ||
        back->n_related != r->n_related || back->n_listing != r->n_listing)
        abort();
    for (size_t i = 0; i < r->n_related; i++)
        if (!same_str(back->related[i].title, r->related[i].title) ||
            !same_str(back->related[i].snippet, r->related[i].snippet) ||
            !same_time(&back->related[i].published, &r->related[i].published))
            abort();
    for (size_t i = 0; i < r->n_listing; i++)
        if (!same_str(back->listing[i].category, r->listing[i].category) ||
            !same_str(back->listing[i].title, r->listing[i].title) ||
            !same_str(back->listing[i].summary, r->listing[i].summary) ||
            !same_time(&back->listing[i].published, &r->listing[i].published))
            abort();
    record_free(back);
    error_finish(&err);
    errors_finish(&warn);
    free(json);
}

void
fuzz_check_xml_chars(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!text_utf8_valid(str, n, NULL))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
            abort();
        if (c == 0xC2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            abort();
        if (c == 0xEF && i + 2 < n && s[i + 1] == 0xBF && s[i + 2] >= 0xBE)
            abort();
    }
}

/* libxml2 reports problems on stderr by default; a fuzz target judges by
 * results, and a million lines of noise would hide a real report. */
static void
quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void
quiet_libxml(void)
{
    static bool done;
    if (!done) {
        xmlSetGenericErrorFunc(NULL, quiet);
        done = true;
    }
}

/* The next node of a depth-first walk of the tree under root, without
 * recursion (input chooses the depth of a parsed HTML tree). */
static xmlNodePtr
next_node(xmlNodePtr n, xmlNodePtr root)
{
    if (n->children)
        return n->children;
    while (n && n != root && !n->next)
        n = n->parent;
    return n && n != root ? n->next : NULL;
}

static bool
has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* A URL in an attribute: absolute http(s), a fragment, or a relative
 * path (no scheme before the first '/', '?' or '#'). */
static bool
url_safe(const char *u)
{
    while (*u == ' ' || *u == '\t' || *u == '\n' || *u == '\r' || *u == '\f')
        u++;
    if (has_prefix_ci(u, "http://") || has_prefix_ci(u, "https://"))
        return true;
    size_t i = strcspn(u, ":/?#");
    return u[i] != ':';
}

void
fuzz_check_html(const char *s, size_t n)
{
    fuzz_check_xml_chars(s, n);
    quiet_libxml();
    if (n > XML_MAX_LEN)
        abort();
    htmlDocPtr doc = htmlReadMemory(s, (int)n, "fuzz.html", "UTF-8",
                                    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    if (!doc) {
        if (n == 0)
            return;
        abort();
    }
    xmlNodePtr root = (xmlNodePtr)doc;
    int styles = 0;
    for (xmlNodePtr x = root->children; x; x = next_node(x, root)) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)x->name;
        if (strcasecmp(name, "script") == 0 || strcasecmp(name, "iframe") == 0 ||
            strcasecmp(name, "object") == 0 || strcasecmp(name, "embed") == 0 ||
            (strcasecmp(name, "style") == 0 && ++styles > 1))
            abort();
        for (xmlAttrPtr a = x->properties; a; a = a->next) {
            const char *an = (const char *)a->name;
            if (has_prefix_ci(an, "on"))
                abort();
            if (strcasecmp(an, "href") == 0 || strcasecmp(an, "src") == 0) {
                xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
                bool ok = !v || url_safe((const char *)v);
                xmlFree(v);
                if (!ok)
                    abort();
            }
        }
    }
    xmlFreeDoc(doc);
}

void
fuzz_check_xml(const char *s, size_t n)
{
    fuzz_check_xml_chars(s, n);
    quiet_libxml();
    if (n > XML_MAX_LEN)
        abort();
    xmlDocPtr doc = xmlReadMemory(s, (int)n, "fuzz.xml", "UTF-8", XML_PARSE_NONET);
    if (!doc || !xmlDocGetRootElement(doc) || doc->intSubset || doc->extSubset)
        abort();
    xmlNodePtr root = (xmlNodePtr)doc;
    for (xmlNodePtr x = root->children; x; x = next_node(x, root)) {
        if (x->type == XML_ENTITY_REF_NODE || x->type == XML_PI_NODE)
            abort();
        if (x->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)x->name;
        if (strcmp(name, "description") == 0 || strcmp(name, "content") == 0 ||
            strcmp(name, "summary") == 0 || strcmp(name, "encoded") == 0) {
            xmlChar *v = xmlNodeGetContent(x);
            if (v)
                fuzz_check_html((const char *)v, strlen((const char *)v));
            xmlFree(v);
        }
    }
    xmlFreeDoc(doc);
}

void
fuzz_check_json(const char *s, size_t n)
{
    fuzz_check_xml_chars(s, n);
    json_error_t e;
    json_t *root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(root))
        abort();
    /* A walk with an explicit stack: the renderer's nesting is fixed, but
     * the check should not trust it. */
    size_t cap = 64, top = 0;
    json_t **stack = malloc(cap * sizeof *stack);
    if (!stack)
        abort();
    stack[top++] = root;
    while (top) {
        json_t *v = stack[--top];
        if (json_is_string(v)) {
            fuzz_check_xml_chars(json_string_value(v), json_string_length(v));
            if (strlen(json_string_value(v)) != json_string_length(v))
                abort();   /* an escaped NUL */
            continue;
        }
        size_t more = json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
        if (top + more > cap) {
            cap = (top + more) * 2;
            stack = realloc(stack, cap * sizeof *stack);
            if (!stack)
                abort();
        }
        if (json_is_object(v)) {
            const char *key;
            json_t *kid;
            json_object_foreach(v, key, kid) {
                fuzz_check_xml_chars(key, strlen(key));
                if (strcmp(key, "content_html") == 0 && json_is_string(kid))
                    fuzz_check_html(json_string_value(kid), json_string_length(kid));
                stack[top++] = kid;
            }
        } else if (json_is_array(v)) {
            size_t i;
            json_t *kid;
            json_array_foreach(v, i, kid) stack[top++] = kid;
        }
    }
    free(stack);
    json_decref(root);
}

uint64_t
fuzz_get_le(const unsigned char *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void
fuzz_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
