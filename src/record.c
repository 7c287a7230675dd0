/* SPDX-License-Identifier: MIT */
/* record.c - the record: arena, id derivation, record <-> JSON */
#include "record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "text.h"
#include "url.h"

void
record_init(void)
{
    json_set_alloc_funcs(xmalloc, free);
}

/* Strings of one record are many and small; one arena per record makes
 * parsing cheap and freeing a single walk. */
struct sf_arena_chunk {
    struct sf_arena_chunk *next;
    size_t used, size;
    alignas(max_align_t) char data[];
};

#define ARENA_FIRST 8192

struct sf_record *
record_new(void)
{
    return xcalloc(1, sizeof(struct sf_record));
}

void
record_free(struct sf_record *r)
{
    if (!r)
        return;
    struct sf_arena_chunk *c = r->arena;
    while (c) {
        struct sf_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(r);
}

void *
record_alloc(struct sf_record *r, size_t size)
{
    size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    struct sf_arena_chunk *c = r->arena;
    if (!c || c->size - c->used < size) {
        size_t want = c ? c->size * 2 : ARENA_FIRST;
        if (want < size)
            want = size;
        struct sf_arena_chunk *n = xmalloc(sizeof *n + want);
        n->used = 0;
        n->size = want;
        n->next = c;
        r->arena = c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

const char *
record_strdup(struct sf_record *r, const char *s, size_t n)
{
    char *d = record_alloc(r, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static uint64_t
hash_field(uint64_t h, const char *s)
{
    static const char sep = '\x1f';
    if (s)
        h = hash_fnv1a(h, s, strlen(s));
    return hash_fnv1a(h, &sep, 1);
}

void
record_derive_id(struct sf_record *r, const char *site_host)
{
    if (r->id)
        return;
    if (r->url) {
        r->id = r->url;
        return;
    }
    char published[SF_RFC3339_LEN], date[11];
    when_format_rfc3339(&r->published, published);
    when_format_date(&r->published, date);
    uint64_t h = hash_field(SF_FNV_OFFSET, r->title);
    h = hash_field(h, published);
    h = hash_fnv1a(h, r->source ? r->source : "", r->source ? strlen(r->source) : 0);
    const char *host = r->captured_by ? r->captured_by : site_host ? site_host : "snapfeed.invalid";
    char *id = xasprintf("tag:%s,%s:%016llx", host, date, (unsigned long long)h);
    r->id = record_strdup(r, id, strlen(id));
    free(id);
}

uint64_t
record_content_hash(const struct sf_record *r)
{
    char published[SF_RFC3339_LEN];
    when_format_rfc3339(&r->published, published);
    uint64_t h = 0;
    const char *fields[] = {r->title, r->category, published, r->source,
                            r->via,   r->author,   r->url};
    /* A field's length goes into the hash with it, so "ab"+"c" != "a"+"bc";
     * an absent field hashes apart from an empty one. */
    for (size_t i = 0; i < SF_ARRAY_LEN(fields); i++)
        h = fields[i] ? hash_words(h, fields[i], strlen(fields[i])) : hash_words(h ^ 1, "", 0);
    for (size_t i = 0; i < r->n_body; i++)
        h = hash_words(h, r->body[i], strlen(r->body[i]));
    return h;
}

/* ---- record -> JSON ---------------------------------------------------- */

/* The fields in the order docs/record.md lists them: the JSON both ways. */
enum jfield {
    J_TITLE, J_CATEGORY, J_PUBLISHED, J_SOURCE, J_VIA, J_AUTHOR, J_URL, J_CAPTURED_AT,
    J_CAPTURED_BY, J_BODY, J_RELATED, J_LISTING, J_ID, J_FILE, J_LINE, J_COUNT
};

static const char *const field_names[J_COUNT] = {
    [J_TITLE] = "title",       [J_CATEGORY] = "category",       [J_PUBLISHED] = "published",
    [J_SOURCE] = "source",     [J_VIA] = "via",                 [J_AUTHOR] = "author",
    [J_URL] = "url",           [J_CAPTURED_AT] = "captured_at", [J_CAPTURED_BY] = "captured_by",
    [J_BODY] = "body",         [J_RELATED] = "related",         [J_LISTING] = "listing",
    [J_ID] = "id",             [J_FILE] = "file",               [J_LINE] = "line",
};

static json_t *
json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
json_time(const struct sf_time *t)
{
    if (!t->set)
        return json_null();
    char buf[SF_RFC3339_LEN];
    when_format_rfc3339(t, buf);
    return json_string(buf);
}

char *
record_to_json(const struct sf_record *r)
{
    json_t *o = json_object();
    json_object_set_new(o, field_names[J_TITLE], json_str(r->title));
    json_object_set_new(o, field_names[J_CATEGORY], json_str(r->category));
    json_object_set_new(o, field_names[J_PUBLISHED], json_time(&r->published));
    json_object_set_new(o, field_names[J_SOURCE], json_str(r->source));
    json_object_set_new(o, field_names[J_VIA], json_str(r->via));
    json_object_set_new(o, field_names[J_AUTHOR], json_str(r->author));
    json_object_set_new(o, field_names[J_URL], json_str(r->url));
    json_object_set_new(o, field_names[J_CAPTURED_AT], json_time(&r->captured_at));
    json_object_set_new(o, field_names[J_CAPTURED_BY], json_str(r->captured_by));
    json_t *body = json_array();
    for (size_t i = 0; i < r->n_body; i++)
        json_array_append_new(body, json_string(r->body[i]));
    json_object_set_new(o, field_names[J_BODY], body);
    json_t *related = json_array();
    for (size_t i = 0; i < r->n_related; i++) {
        const struct sf_related *e = &r->related[i];
        json_t *j = json_object();
        json_object_set_new(j, "title", json_str(e->title));
        json_object_set_new(j, "snippet", json_str(e->snippet));
        json_object_set_new(j, "published", json_time(&e->published));
        json_array_append_new(related, j);
    }
    json_object_set_new(o, field_names[J_RELATED], related);
    json_t *listing = json_array();
    for (size_t i = 0; i < r->n_listing; i++) {
        const struct sf_listing *e = &r->listing[i];
        json_t *j = json_object();
        json_object_set_new(j, "category", json_str(e->category));
        json_object_set_new(j, "title", json_str(e->title));
        json_object_set_new(j, "summary", json_str(e->summary));
        json_object_set_new(j, "published", json_time(&e->published));
        json_array_append_new(listing, j);
    }
    json_object_set_new(o, field_names[J_LISTING], listing);
    json_object_set_new(o, field_names[J_ID], json_str(r->id));
    json_object_set_new(o, field_names[J_FILE], json_str(r->file));
    json_object_set_new(o, field_names[J_LINE], json_integer(r->line));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        util_out_of_memory(0);   /* jansson fails only when out of memory */
    return s;
}

/* ---- JSON -> record ---------------------------------------------------- */

/* What reading one object needs: where it came from, the record being
 * filled, and a scratch buffer for cleaning. */
struct jctx {
    const struct sf_json_opts *o;
    const char *path;
    unsigned line;
    struct sf_record *r;
    struct sf_error *err;
    struct sf_errors *warn;
    struct sf_buf b;
    struct sf_buf quoted;
};

static const char *
type_name(const json_t *v)
{
    static const char *const names[] = {
        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",  [JSON_STRING] = "a string",
        [JSON_INTEGER] = "a number", [JSON_REAL] = "a number",   [JSON_TRUE] = "a boolean",
        [JSON_FALSE] = "a boolean",  [JSON_NULL] = "null",
    };
    size_t t = (size_t)json_typeof(v);
    return t < SF_ARRAY_LEN(names) && names[t] ? names[t] : "something else";
}

/* A value from the input, made safe to show in a message: cleaned (no
 * control characters reach a terminal) and cut short.  Valid until the
 * next call. */
static const char *
quote(struct jctx *c, const char *s, size_t n)
{
    buf_clear(&c->quoted);
    bool cut;
    text_clean_field(s, n, SF_CLEAN_VALUE, &c->quoted, &cut);
    if (cut) {
        c->quoted.limit = SIZE_MAX / 2;
        buf_append_str(&c->quoted, "...");
        c->quoted.limit = 120;
    }
    return c->quoted.data ? c->quoted.data : "";
}

/* The string v holds: *s NULL when v is absent or null; false (err set)
 * when v is of another type.  what names the value in the message. */
static bool
get_string(struct jctx *c, const json_t *v, const char *what, const char **s, size_t *n)
{
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        error_set(c->err, c->path, c->line, 0, "%s must be a string, not %s", what,
                  type_name(v));
        return false;
    }
    *s = json_string_value(v);
    *n = json_string_length(v);
    return true;
}

/* Cleans s[0..n) into the record; NULL when nothing is left. */
static const char *
store_text(struct jctx *c, const char *s, size_t n, enum sf_clean how)
{
    if (!s)
        return NULL;
    buf_clear(&c->b);
    size_t len = text_clean_field(s, n, how, &c->b, NULL);
    return len ? record_strdup(c->r, c->b.data, len) : NULL;
}

static bool
text_member(struct jctx *c, const json_t *o, const char *name, const char *what,
            enum sf_clean how, const char **out)
{
    const char *s;
    size_t n;
    if (!get_string(c, json_object_get(o, name), what, &s, &n))
        return false;
    *out = store_text(c, s, n, how);
    return true;
}

/*
 * A time member: unset when absent or null, or (with a warning ending in
 * fallback) when it is not a time.  Every time is shown in the zone.
 */
static bool
time_member(struct jctx *c, const json_t *o, const char *name, const char *what,
            const char *fallback, struct sf_time *t)
{
    const char *s;
    size_t n;
    *t = (struct sf_time){0};
    if (!get_string(c, json_object_get(o, name), what, &s, &n))
        return false;
    if (!s)
        return true;
    if (when_parse(c->o->zone, s, n, t))
        when_localize(c->o->zone, t);
    else if (c->warn)
        errors_add(c->warn, c->path, c->line, 0, "warning: %s '%s' is not a valid time%s", what,
                   quote(c, s, n), fallback);
    return true;
}

/* The array member name, or NULL (absent or null); false when it is not
 * an array. */
static bool
get_array(struct jctx *c, const json_t *o, const char *name, json_t **out)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_array(v)) {
        error_set(c->err, c->path, c->line, 0, "%s must be an array, not %s", name,
                  type_name(v));
        return false;
    }
    *out = v;
    return true;
}

static void
warn_dropped(struct jctx *c, const char *name, size_t max)
{
    if (c->warn)
        errors_add(c->warn, c->path, c->line, 0, "warning: more than %zu %s entries; the rest "
                   "dropped", max, name);
}

static bool
read_body(struct jctx *c, const json_t *o)
{
    json_t *a;
    if (!get_array(c, o, field_names[J_BODY], &a))
        return false;
    size_t n = a ? json_array_size(a) : 0, kept = 0;
    bool full = false;
    struct sf_record *r = c->r;
    if (n)
        r->body = record_alloc(r, (n < SF_MAX_PARAGRAPHS ? n : SF_MAX_PARAGRAPHS) *
                                        sizeof *r->body);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e)) {
            error_set(c->err, c->path, c->line, 0, "body[%zu] must be a string, not %s", i,
                      type_name(e));
            return false;
        }
        if (full)
            continue;   /* still checked */
        const char *p = store_text(c, json_string_value(e), json_string_length(e), SF_CLEAN_TEXT);
        if (p && kept == SF_MAX_PARAGRAPHS) {
            warn_dropped(c, "body", SF_MAX_PARAGRAPHS);
            full = true;
        } else if (p) {
            r->body[kept++] = p;
        }
    }
    r->n_body = kept;
    return true;
}

/* The i-th element of list name, which must be an object. */
static json_t *
list_object(struct jctx *c, json_t *a, const char *name, size_t i)
{
    json_t *e = json_array_get(a, i);
    if (!json_is_object(e)) {
        error_set(c->err, c->path, c->line, 0, "%s[%zu] must be an object, not %s", name, i,
                  type_name(e));
        return NULL;
    }
    return e;
}

/*
 * related and listing are checked whatever skip_lists says, so a line
 * `parse` refuses is refused by `build` too.  Entries missing what a
 * capture's never lack (a snippet; a title and a time) are dropped, as the
 * capture parser drops unfinished ones.
 */
static bool
read_related(struct jctx *c, const json_t *o)
{
    json_t *a;
    char what[64];
    if (!get_array(c, o, field_names[J_RELATED], &a))
        return false;
    size_t n = a ? json_array_size(a) : 0;
    struct sf_record *r = c->r;
    bool keep = !c->o->skip_lists;
    if (n && keep)
        r->related = record_alloc(r, (n < SF_MAX_RELATED ? n : SF_MAX_RELATED) *
                                        sizeof *r->related);
    for (size_t i = 0; i < n; i++) {
        json_t *e = list_object(c, a, "related", i);
        struct sf_related x;
        if (!e)
            return false;
        snprintf(what, sizeof what, "related[%zu].title", i);
        if (!text_member(c, e, "title", what, SF_CLEAN_TEXT, &x.title))
            return false;
        snprintf(what, sizeof what, "related[%zu].snippet", i);
        if (!text_member(c, e, "snippet", what, SF_CLEAN_TEXT, &x.snippet))
            return false;
        snprintf(what, sizeof what, "related[%zu].published", i);
        if (!time_member(c, e, "published", what, "", &x.published))
            return false;
        if (!keep || !x.snippet)
            continue;
        if (r->n_related == SF_MAX_RELATED) {
            if (keep) {
                warn_dropped(c, "related", SF_MAX_RELATED);
                keep = false;
            }
            continue;
        }
        r->related[r->n_related++] = x;
    }
    return true;
}

static bool
read_listing(struct jctx *c, const json_t *o)
{
    json_t *a;
    char what[64];
    if (!get_array(c, o, field_names[J_LISTING], &a))
        return false;
    size_t n = a ? json_array_size(a) : 0;
    struct sf_record *r = c->r;
    bool keep = !c->o->skip_lists;
    if (n && keep)
        r->listing = record_alloc(r, (n < SF_MAX_LISTING ? n : SF_MAX_LISTING) *
                                        sizeof *r->listing);
    for (size_t i = 0; i < n; i++) {
        json_t *e = list_object(c, a, "listing", i);
        struct sf_listing x;
        if (!e)
            return false;
        snprintf(what, sizeof what, "listing[%zu].category", i);
        if (!text_member(c, e, "category", what, SF_CLEAN_VALUE, &x.category))
            return false;
        snprintf(what, sizeof what, "listing[%zu].title", i);
        if (!text_member(c, e, "title", what, SF_CLEAN_TEXT, &x.title))
            return false;
        snprintf(what, sizeof what, "listing[%zu].summary", i);
        if (!text_member(c, e, "summary", what, SF_CLEAN_TEXT, &x.summary))
            return false;
        snprintf(what, sizeof what, "listing[%zu].published", i);
        if (!time_member(c, e, "published", what, "", &x.published))
            return false;
        if (!keep || !x.title || !x.published.set)
            continue;
        if (r->n_listing == SF_MAX_LISTING) {
            if (keep) {
                warn_dropped(c, "listing", SF_MAX_LISTING);
                keep = false;
            }
            continue;
        }
        if (!x.category)
            x.category = r->category;
        r->listing[r->n_listing++] = x;
    }
    return true;
}

/* Everything but title, times and lists. */
static bool
read_strings(struct jctx *c, const json_t *o)
{
    struct sf_record *r = c->r;
    const char *s;
    size_t n;

    if (!text_member(c, o, field_names[J_CATEGORY], field_names[J_CATEGORY], SF_CLEAN_VALUE,
                     &r->category))
        return false;
    if (r->category && strlen(r->category) > SF_MAX_CATEGORY) {
        char *cat = (char *)r->category;
        cat[text_cut(cat, strlen(cat), SF_MAX_CATEGORY)] = '\0';
        if (c->warn)
            errors_add(c->warn, c->path, c->line, 0, "warning: category longer than %d bytes; cut",
                       SF_MAX_CATEGORY);
    }
    if (!r->category) {
        r->category = record_strdup(r, c->o->default_category, strlen(c->o->default_category));
        if (c->warn)
            errors_add(c->warn, c->path, c->line, 0, "warning: no category; using '%s'",
                       c->o->default_category);
    }
    if (!text_member(c, o, field_names[J_SOURCE], field_names[J_SOURCE], SF_CLEAN_VALUE,
                     &r->source) ||
        !text_member(c, o, field_names[J_VIA], field_names[J_VIA], SF_CLEAN_VALUE, &r->via) ||
        !text_member(c, o, field_names[J_AUTHOR], field_names[J_AUTHOR], SF_CLEAN_VALUE,
                     &r->author))
        return false;

    const char *url;
    if (!text_member(c, o, field_names[J_URL], field_names[J_URL], SF_CLEAN_TEXT, &url))
        return false;
    if (url) {
        buf_clear(&c->b);
        if (url_normalize(url, strlen(url), &c->b))
            r->url = record_strdup(r, c->b.data, c->b.len);
        else if (c->warn)
            errors_add(c->warn, c->path, c->line, 0,
                       "warning: url '%s' is not an absolute http(s) URL; ignored",
                       quote(c, url, strlen(url)));
    }

    const char *by;
    if (!text_member(c, o, field_names[J_CAPTURED_BY], field_names[J_CAPTURED_BY],
                     SF_CLEAN_VALUE, &by))
        return false;
    if (by) {
        if (url_is_hostname(by, strlen(by))) {
            char *h = (char *)by;
            for (char *q = h; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q - 'A' + 'a');
            r->captured_by = h;
        } else if (c->warn) {
            errors_add(c->warn, c->path, c->line, 0,
                       "warning: captured_by '%s' is not a host name; ignored",
                       quote(c, by, strlen(by)));
        }
    }

    /* An id given is kept (it is what earlier builds knew the item by),
     * made ASCII like a url. */
    if (!get_string(c, json_object_get(o, field_names[J_ID]), field_names[J_ID], &s, &n))
        return false;
    if (s) {
        buf_clear(&c->b);
        size_t len = text_clean_field(s, n, SF_CLEAN_VALUE, &c->b, NULL);
        struct sf_buf esc;
        buf_init(&esc, 0);
        if (len && url_escape(c->b.data, len, &esc)) {
            if (url_has_scheme(esc.data, esc.len))
                r->id = record_strdup(r, esc.data, esc.len);
            else if (c->warn)
                /* Readers and validators take atom:id and guid as URIs;
                 * a bare key would be invalid there. */
                errors_add(c->warn, c->path, c->line, 0,
                           "warning: id '%s' is not an absolute URI; derived one",
                           quote(c, c->b.data, len));
        }
        buf_finish(&esc);
    }

    /* Where the object says it was read from is not where this record is:
     * checked, not taken. */
    if (!get_string(c, json_object_get(o, field_names[J_FILE]), field_names[J_FILE], &s, &n))
        return false;
    json_t *line = json_object_get(o, field_names[J_LINE]);
    if (line && !json_is_null(line) && !json_is_integer(line)) {
        error_set(c->err, c->path, c->line, 0, "line must be an integer, not %s",
                  type_name(line));
        return false;
    }
    return true;
}

struct sf_record *
record_from_json(const char *json, size_t len, const struct sf_json_opts *o, const char *path,
                 unsigned line, struct sf_error *err, struct sf_errors *warn)
{
    struct jctx c = {.o = o, .path = path, .line = line, .err = err, .warn = warn};
    size_t n_warn = warn ? warn->n : 0;   /* a line refused says only why */
    buf_init(&c.b, 0);
    buf_init(&c.quoted, 120);
    json_error_t je;
    bool ok = false;
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        error_set(err, path, line, je.column > 0 ? (unsigned)je.column : 0,
                  "not valid JSON: %s", quote(&c, je.text, strlen(je.text)));
        goto out;
    }
    if (!json_is_object(root)) {
        error_set(err, path, line, 0, "not a JSON object but %s", type_name(root));
        goto out;
    }
    c.r = record_new();
    struct sf_record *r = c.r;
    if (!text_member(&c, root, field_names[J_TITLE], field_names[J_TITLE], SF_CLEAN_TEXT,
                     &r->title))
        goto out;
    if (!r->title) {
        error_set(err, path, line, 0, "title is missing or empty");
        goto out;
    }
    /* Like a capture: no publication time means the capture time. */
    if (!time_member(&c, root, field_names[J_CAPTURED_AT], field_names[J_CAPTURED_AT], "",
                     &r->captured_at))
        goto out;
    const json_t *pub = json_object_get(root, field_names[J_PUBLISHED]);
    if (!time_member(&c, root, field_names[J_PUBLISHED], field_names[J_PUBLISHED],
                     r->captured_at.set ? "; using captured_at" : "", &r->published))
        goto out;
    if (!r->published.set) {
        if (!r->captured_at.set && json_is_string(pub)) {
            error_set(err, path, line, 0, "published '%s' is not a valid time, and no "
                      "captured_at to date it by", quote(&c, json_string_value(pub),
                                                         json_string_length(pub)));
            goto out;
        }
        if (!r->captured_at.set) {
            error_set(err, path, line, 0, "no published or captured_at to date it by");
            goto out;
        }
        if ((!pub || json_is_null(pub)) && warn)
            errors_add(warn, path, line, 0, "warning: no published; using captured_at");
        r->published = r->captured_at;
    }
    if (!read_strings(&c, root) || !read_body(&c, root) || !read_related(&c, root) ||
        !read_listing(&c, root))
        goto out;
    r->file = record_strdup(r, path, strlen(path));
    r->line = line;
    record_derive_id(r, o->site_host);
    ok = true;
out:
    json_decref(root);
    buf_finish(&c.b);
    buf_finish(&c.quoted);
    if (!ok) {
        while (warn && warn->n > n_warn)
            error_finish(&warn->v[--warn->n]);
        record_free(c.r);
        return NULL;
    }
    return c.r;
}

/* ---- JSON-LD ----------------------------------------------------------- */

/* schema.org types that are an article, sorted for bsearch. */
static const char *const article_types[] = {
    "AnalysisNewsArticle", "Article", "BackgroundNewsArticle", "BlogPosting",
    "LiveBlogPosting", "NewsArticle", "OpinionNewsArticle", "ReportageNewsArticle",
    "ReviewNewsArticle",
};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
is_article_type(const char *t)
{
    /* "http://schema.org/NewsArticle" and "schema:NewsArticle" too */
    const char *slash = strrchr(t, '/'), *colon = strrchr(t, ':');
    if (slash && (!colon || slash > colon))
        t = slash + 1;
    else if (colon)
        t = colon + 1;
    return bsearch(&t, article_types, SF_ARRAY_LEN(article_types), sizeof *article_types,
                   cmp_str) != NULL;
}

static bool
is_article(const json_t *o)
{
    const json_t *t = json_object_get(o, "@type");
    if (json_is_string(t))
        return is_article_type(json_string_value(t));
    for (size_t i = 0; i < json_array_size(t); i++) {
        const json_t *e = json_array_get(t, i);
        if (json_is_string(e) && is_article_type(json_string_value(e)))
            return true;
    }
    return false;
}

static void
take_string(char **dst, const json_t *v)
{
    if (!*dst && json_is_string(v) && json_string_length(v))
        *dst = xstrndup(json_string_value(v), json_string_length(v));
}

/* A name: a string, or an object's "name". */
static const json_t *
name_of(const json_t *v)
{
    return json_is_object(v) ? json_object_get(v, "name") : v;
}

static void
take_article(struct sf_jsonld *out, const json_t *o)
{
    take_string(&out->headline, json_object_get(o, "headline"));
    take_string(&out->headline, json_object_get(o, "name"));
    take_string(&out->published, json_object_get(o, "datePublished"));
    take_string(&out->modified, json_object_get(o, "dateModified"));
    take_string(&out->publisher, name_of(json_object_get(o, "publisher")));
    take_string(&out->url, json_object_get(o, "url"));
    const json_t *m = json_object_get(o, "mainEntityOfPage");
    take_string(&out->url, json_is_object(m) ? json_object_get(m, "@id") : m);
    const json_t *sec = json_object_get(o, "articleSection");
    take_string(&out->section, json_is_array(sec) ? json_array_get(sec, 0) : sec);

    const json_t *a = json_object_get(o, "author");
    if (!out->author && json_is_array(a)) {
        struct sf_buf b;
        buf_init(&b, 0);
        for (size_t i = 0; i < json_array_size(a); i++) {
            const json_t *n = name_of(json_array_get(a, i));
            if (!json_is_string(n) || !json_string_length(n))
                continue;
            if (b.len)
                buf_append_str(&b, "、");
            buf_append(&b, json_string_value(n), json_string_length(n));
        }
        if (b.len)
            out->author = buf_steal(&b, NULL);
        buf_finish(&b);
    } else {
        take_string(&out->author, name_of(a));
    }
}

/*
 * Looks for articles in v: v itself, the elements of an array, an
 * object's "@graph" and "mainEntity".  depth bounds the walk (no recursion
 * on input-controlled depth: three levels cover every layout in use).
 */
static void
find_articles(struct sf_jsonld *out, const json_t *v, int depth)
{
    if (depth > 3)
        return;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            find_articles(out, json_array_get(v, i), depth + 1);
        return;
    }
    if (!json_is_object(v))
        return;
    if (is_article(v))
        take_article(out, v);
    find_articles(out, json_object_get(v, "@graph"), depth + 1);
    find_articles(out, json_object_get(v, "mainEntity"), depth + 1);
}

bool
record_jsonld_article(const char *json, size_t len, struct sf_jsonld *out, struct sf_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &je);
    if (!root) {
        struct sf_buf b;
        buf_init(&b, 120);
        text_clean_field(je.text, strlen(je.text), SF_CLEAN_VALUE, &b, NULL);
        error_set(err, NULL, je.line > 0 ? (unsigned)je.line : 0,
                  je.column > 0 ? (unsigned)je.column : 0, "%s", b.data ? b.data : "");
        buf_finish(&b);
        return false;
    }
    find_articles(out, root, 0);
    json_decref(root);
    return true;
}

void
record_jsonld_finish(struct sf_jsonld *ld)
{
    char **fields[] = {&ld->headline, &ld->published, &ld->modified, &ld->author,
                       &ld->publisher, &ld->section,  &ld->url};
    for (size_t i = 0; i < SF_ARRAY_LEN(fields); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}
