/* SPDX-License-Identifier: MIT */
/* record.c - the record: arena, id derivation, record <-> JSON */
#include "record.h"

#include <jansson.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

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
    json_object_set_new(o, "title", json_str(r->title));
    json_object_set_new(o, "category", json_str(r->category));
    json_object_set_new(o, "published", json_time(&r->published));
    json_object_set_new(o, "source", json_str(r->source));
    json_object_set_new(o, "via", json_str(r->via));
    json_object_set_new(o, "author", json_str(r->author));
    json_object_set_new(o, "url", json_str(r->url));
    json_object_set_new(o, "captured_at", json_time(&r->captured_at));
    json_object_set_new(o, "captured_by", json_str(r->captured_by));
    json_t *body = json_array();
    for (size_t i = 0; i < r->n_body; i++)
        json_array_append_new(body, json_string(r->body[i]));
    json_object_set_new(o, "body", body);
    json_t *related = json_array();
    for (size_t i = 0; i < r->n_related; i++) {
        const struct sf_related *e = &r->related[i];
        json_t *j = json_object();
        json_object_set_new(j, "title", json_str(e->title));
        json_object_set_new(j, "snippet", json_str(e->snippet));
        json_object_set_new(j, "published", json_time(&e->published));
        json_array_append_new(related, j);
    }
    json_object_set_new(o, "related", related);
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
    json_object_set_new(o, "listing", listing);
    json_object_set_new(o, "id", json_str(r->id));
    json_object_set_new(o, "file", json_str(r->file));
    json_object_set_new(o, "line", json_integer(r->line));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        abort();   /* jansson fails only when out of memory */
    return s;
}
