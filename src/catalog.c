/* SPDX-License-Identifier: MIT */
/* catalog.c - dedupe by id, categories and slugs, newest-N per feed */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "limits.h"
#include "slug.h"
#include "util.h"

/*
 * Memory.  Entries arrive in batches held in memory; past BATCH_BYTES a
 * batch is written to an unlinked temporary file, partitioned into
 * N_BUCKETS buckets by the top bits of the id hash.  All captures of one
 * article share an id, so they share a bucket: choosing the items then
 * loads one bucket at a time (every batch's part of it), collapses
 * re-captures there and offers each winner to the feeds' bounded heaps,
 * which keep their own copies of the few entries they hold.  What stays in
 * memory is one batch, one bucket and the heaps, however large the
 * archive: at a million captures a bucket is about 4,000 entries.
 */
#define BATCH_BYTES (4u << 20)
#define N_BUCKETS 256

static size_t
bucket_of(uint64_t idhash)
{
    return (size_t)(idhash >> 56);
}

/* Strings of a batch live in chunks that never move. */
struct pool_chunk {
    struct pool_chunk *next;
    size_t used, size;
    char data[];
};

/* An entry a heap holds, with its own copy of id and path. */
struct held {
    struct sf_entry e;
    struct sf_time updated;
    char *strings;
};

struct category {
    char *name;
    char *slug;
    char *title;
    char *description;
    int conf_index;             /* position in feeds.yaml, -1 when not listed */
    struct held *heap;          /* the newest items so far; the one to drop on top */
    size_t n;
    struct sf_item_ref *items;  /* after catalog_select(), newest first */
};

/* Where each bucket of one spilled batch lies in the spill file. */
struct run {
    uint64_t off[N_BUCKETS + 1];
};

struct sf_catalog {
    const struct sf_config *config;
    /* the batch in memory */
    struct sf_entry *entries;
    size_t n, cap;
    struct pool_chunk *pool;
    size_t batch_bytes, batch_limit;    /* bytes the batch uses; the most it may */
    size_t total;
    struct sf_buf spill_buf;    /* a batch encoded, reused batch to batch */
    /* the spill file */
    char *spill_dir;
    int spill_fd;
    uint64_t spill_end;
    bool spill_failed;          /* then every batch stays in memory */
    struct run *runs;
    size_t n_runs;
    /* categories, interned */
    struct category *cats;
    size_t n_cats, cap_cats;
    size_t *cat_index;          /* open-addressing table of category indexes + 1 */
    size_t index_cap;
    struct category all;
    struct sf_feed_sel *feeds;
    size_t n_feeds;
    bool refused;               /* a category was refused: too many */
    sf_catalog_id_fn id_fn;
    void *id_ctx;
};

/* ---- entries as bytes ------------------------------------------------- */

void
catalog_entry_encode(struct sf_buf *b, const struct sf_entry *e)
{
    buf_put_u64(b, e->idhash);
    buf_put_u64(b, e->content);
    buf_put_u64(b, (uint64_t)e->captured_at.t);
    buf_put_u32(b, (uint32_t)e->captured_at.off);
    buf_put_u8(b, e->captured_at.set);
    buf_put_u64(b, (uint64_t)e->published.t);
    buf_put_u32(b, (uint32_t)e->published.off);
    buf_put_u32(b, e->line);
    buf_put_u64(b, e->offset);
    buf_put_str(b, e->id);
    buf_put_str(b, e->category);
}

void
catalog_entry_decode(struct sf_cursor *c, struct sf_buf *strings, struct sf_entry *e)
{
    *e = (struct sf_entry){0};
    e->idhash = cursor_u64(c);
    e->content = cursor_u64(c);
    e->captured_at.t = (int64_t)cursor_u64(c);
    e->captured_at.off = (int32_t)cursor_u32(c);
    e->captured_at.set = cursor_u8(c);
    e->published.t = (int64_t)cursor_u64(c);
    e->published.off = (int32_t)cursor_u32(c);
    e->published.set = true;
    e->line = cursor_u32(c);
    e->offset = cursor_u64(c);
    e->id = (const char *)(uintptr_t)cursor_str(c, strings);
    e->category = (const char *)(uintptr_t)cursor_str(c, strings);
    if (!when_plausible(&e->captured_at) || !when_plausible(&e->published))
        c->bad = true;
}

/* ---- the batch -------------------------------------------------------- */

static const char *
pool_dup(struct sf_catalog *cat, const char *s)
{
    size_t n = strlen(s) + 1;
    struct pool_chunk *c = cat->pool;
    if (!c || c->size - c->used < n) {
        size_t size = n > 65536 ? n : 65536;
        c = xmalloc(sizeof *c + size);
        c->next = cat->pool;
        c->used = 0;
        c->size = size;
        cat->pool = c;
    }
    cat->batch_bytes += n;
    char *d = c->data + c->used;
    memcpy(d, s, n);
    c->used += n;
    return d;
}

static void
pool_free(struct sf_catalog *cat)
{
    for (struct pool_chunk *c = cat->pool, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    cat->pool = NULL;
}

/* Empties the pool for the next batch, keeping its newest chunk. */
static void
pool_reset(struct sf_catalog *cat)
{
    struct pool_chunk *keep = cat->pool;
    if (!keep)
        return;
    cat->pool = keep->next;
    pool_free(cat);
    keep->next = NULL;
    keep->used = 0;
    cat->pool = keep;
}

struct sf_catalog *
catalog_new(const struct sf_config *c, const char *spill_dir)
{
    struct sf_catalog *cat = xcalloc(1, sizeof *cat);
    cat->config = c;
    cat->spill_fd = -1;
    cat->spill_dir = xstrdup(spill_dir ? spill_dir : "");
    buf_init(&cat->spill_buf, 0);
    cat->index_cap = 64;
    cat->cat_index = xcalloc(cat->index_cap, sizeof *cat->cat_index);
    cat->all.conf_index = -1;
    cat->batch_limit = BATCH_BYTES;
    return cat;
}

void
catalog_set_batch_limit(struct sf_catalog *cat, size_t bytes)
{
    cat->batch_limit = bytes ? bytes : BATCH_BYTES;
}

static void
category_finish(struct category *c)
{
    free(c->name);
    free(c->slug);
    free(c->title);
    free(c->description);
    for (size_t i = 0; i < c->n; i++)
        free(c->heap[i].strings);
    free(c->heap);
    free(c->items);
}

void
catalog_free(struct sf_catalog *cat)
{
    if (!cat)
        return;
    free(cat->entries);
    pool_free(cat);
    if (cat->spill_fd >= 0)
        close(cat->spill_fd);
    free(cat->spill_dir);
    buf_finish(&cat->spill_buf);
    free(cat->runs);
    for (size_t i = 0; i < cat->n_cats; i++)
        category_finish(&cat->cats[i]);
    free(cat->cats);
    free(cat->cat_index);
    category_finish(&cat->all);
    free(cat->feeds);
    free(cat);
}

static uint64_t
str_hash(const char *s)
{
    return hash_fnv1a(SF_FNV_OFFSET, s, strlen(s));
}

/* The index of category name, added when missing; SIZE_MAX when full. */
static size_t
category_of(struct sf_catalog *cat, const char *name)
{
    size_t mask = cat->index_cap - 1, i = (size_t)str_hash(name) & mask;
    while (cat->cat_index[i]) {
        size_t k = cat->cat_index[i] - 1;
        if (strcmp(cat->cats[k].name, name) == 0)
            return k;
        i = (i + 1) & mask;
    }
    if (cat->n_cats >= SF_MAX_FEEDS)
        return SIZE_MAX;
    if (cat->n_cats == cat->cap_cats) {
        cat->cap_cats = cat->cap_cats ? cat->cap_cats * 2 : 16;
        cat->cats = xreallocarray(cat->cats, cat->cap_cats, sizeof *cat->cats);
    }
    size_t k = cat->n_cats++;
    cat->cats[k] = (struct category){.name = xstrdup(name), .conf_index = -1};
    cat->cat_index[i] = k + 1;
    if (cat->n_cats * 2 > cat->index_cap) {
        /* grow and rehash */
        size_t cap = cat->index_cap * 2;
        size_t *idx = xcalloc(cap, sizeof *idx);
        for (size_t j = 0; j < cat->n_cats; j++) {
            size_t p = (size_t)str_hash(cat->cats[j].name) & (cap - 1);
            while (idx[p])
                p = (p + 1) & (cap - 1);
            idx[p] = j + 1;
        }
        free(cat->cat_index);
        cat->cat_index = idx;
        cat->index_cap = cap;
    }
    return k;
}

/* ---- spilling --------------------------------------------------------- */

static int
cmp_bucket(const void *pa, const void *pb)
{
    const struct sf_entry *a = pa, *b = pb;
    size_t x = bucket_of(a->idhash), y = bucket_of(b->idhash);
    return (x > y) - (x < y);
}

static bool
open_spill(struct sf_catalog *cat)
{
    const char *dirs[] = {cat->spill_dir, getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < SF_ARRAY_LEN(dirs) && cat->spill_fd < 0; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        char *tmpl = xasprintf("%s/.snapfeed-spill-XXXXXX", dirs[i]);
        cat->spill_fd = mkstemp(tmpl);
        if (cat->spill_fd >= 0)
            unlink(tmpl);   /* nothing to clean up after a crash */
        free(tmpl);
    }
    return cat->spill_fd >= 0;
}

/* Writes the batch to the spill file, bucket by bucket, and empties it.
 * On failure the batch stays in memory and spilling stops. */
static void
spill(struct sf_catalog *cat)
{
    if (cat->spill_failed || !cat->n)
        return;
    if (cat->spill_fd < 0 && !open_spill(cat)) {
        cat->spill_failed = true;
        return;
    }
    sf_sort(cat->entries, cat->n, sizeof *cat->entries, cmp_bucket);
    struct run run;
    struct sf_buf *b = &cat->spill_buf;
    buf_clear(b);
    size_t k = 0;
    for (size_t bucket = 0; bucket < N_BUCKETS; bucket++) {
        run.off[bucket] = cat->spill_end + b->len;
        for (; k < cat->n && bucket_of(cat->entries[k].idhash) == bucket; k++) {
            const struct sf_entry *e = &cat->entries[k];
            catalog_entry_encode(b, e);
            buf_put_u32(b, e->seq);
            buf_put_u32(b, e->input);
            buf_put_str(b, e->path);
            buf_put_u64(b, (uint64_t)e->updated.t);
            buf_put_u32(b, (uint32_t)e->updated.off);
            buf_put_u8(b, e->updated.set);
        }
    }
    run.off[N_BUCKETS] = cat->spill_end + b->len;
    if (!file_write_all(cat->spill_fd, b->data ? b->data : "", b->len)) {
        cat->spill_failed = true;
        return;
    }
    cat->spill_end += b->len;
    cat->runs = xreallocarray(cat->runs, cat->n_runs + 1, sizeof *cat->runs);
    cat->runs[cat->n_runs++] = run;
    cat->n = 0;
    pool_reset(cat);
    cat->batch_bytes = 0;
}

bool
catalog_add(struct sf_catalog *cat, const struct sf_entry *e)
{
    size_t k = category_of(cat, e->category);
    if (k == SIZE_MAX) {
        cat->refused = true;
        return false;
    }
    if (cat->n == cat->cap) {
        size_t cap = cat->cap ? cat->cap * 2 : 1024;
        cat->entries = xreallocarray(cat->entries, cap, sizeof *cat->entries);
        cat->cap = cap;
    }
    /* What the batch uses, not what it has allocated (at most twice as
     * much): a count of capacity could stay past the limit for good. */
    cat->batch_bytes += sizeof *cat->entries;
    struct sf_entry *d = &cat->entries[cat->n++];
    *d = *e;
    d->id = pool_dup(cat, e->id);
    d->category = cat->cats[k].name;
    d->path = pool_dup(cat, e->path);
    cat->total++;
    if (cat->batch_bytes > cat->batch_limit)
        spill(cat);
    return true;
}

size_t
catalog_count(const struct sf_catalog *cat)
{
    return cat->total;
}

/* ---- choosing --------------------------------------------------------- */

/* Captures of one article together, oldest capture first. */
int
catalog_cmp_capture(const void *pa, const void *pb)
{
    const struct sf_entry *a = pa, *b = pb;
    if (a->idhash != b->idhash)
        return a->idhash < b->idhash ? -1 : 1;
    int c = strcmp(a->id, b->id);   /* two ids, one hash: still two articles */
    if (c)
        return c;
    /* an unknown capture time counts as the oldest */
    int64_t ta = a->captured_at.set ? a->captured_at.t : INT64_MIN;
    int64_t tb = b->captured_at.set ? b->captured_at.t : INT64_MIN;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    /* one file (JSON Lines) holds several: the later line wins */
    return (a->line > b->line) - (a->line < b->line);
}

bool
catalog_entry_newer(const struct sf_entry *a, const struct sf_entry *b)
{
    if (a->published.t != b->published.t)
        return a->published.t > b->published.t;
    return strcmp(a->id, b->id) < 0;
}

/* A copy of e that owns its id and path; its category is the interned
 * name (the bucket's strings are reused). */
static struct held
hold(const struct sf_entry *e, const char *category, const struct sf_time *updated)
{
    size_t il = strlen(e->id) + 1, pl = strlen(e->path) + 1;
    struct held h = {.e = *e, .updated = *updated, .strings = xmalloc(il + pl)};
    memcpy(h.strings, e->id, il);
    memcpy(h.strings + il, e->path, pl);
    h.e.id = h.strings;
    h.e.path = h.strings + il;
    h.e.category = category;
    return h;
}

/* Offers e to c's bounded heap of the max newest; the root is the one to
 * drop next. */
static void
heap_push(struct category *c, size_t max, const struct sf_entry *e, const char *category,
          const struct sf_time *updated)
{
    struct held *h = c->heap;
    if (c->n == max) {
        if (!catalog_entry_newer(e, &h[0].e))
            return;
        free(h[0].strings);
        struct held it = hold(e, category, updated);
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, w = i;
            const struct sf_entry *wv = &it.e;
            if (l < c->n && catalog_entry_newer(wv, &h[l].e)) {
                w = l;
                wv = &h[l].e;
            }
            if (r < c->n && catalog_entry_newer(wv, &h[r].e))
                w = r;
            if (w == i)
                break;
            h[i] = h[w];
            i = w;
        }
        h[i] = it;
        return;
    }
    if (!h)
        c->heap = h = xreallocarray(NULL, max, sizeof *h);
    struct held it = hold(e, category, updated);
    size_t i = c->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!catalog_entry_newer(&h[p].e, &it.e))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = it;
}

/*
 * Collapses the captures in v[0..n) (whole articles: all captures of any
 * id in it are there) and offers each winner to its feeds.  The newest
 * capture wins; `updated` is the capture time of the newest change of
 * content, or the publication time when the content never changed.
 */
static void
choose(struct sf_catalog *cat, struct sf_entry *v, size_t n)
{
    size_t max = cat->config->output.max_items;
    sf_sort(v, n, sizeof *v, catalog_cmp_capture);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j].idhash == v[i].idhash && strcmp(v[j].id, v[i].id) == 0)
            j++;
        const struct sf_entry *win = &v[j - 1];
        struct sf_time updated = win->published;
        struct sf_time last_change = {0};
        for (size_t k = i + 1; k < j; k++) {
            const struct sf_time *c = &v[k].captured_at;
            if (v[k].content != v[k - 1].content && c->set) {
                /* set capture times are sorted: the last change is the
                 * newest, what src/chosen.c keeps */
                last_change = *c;
                if (c->t > win->published.t)
                    updated = *c;
            }
        }
        if (win->updated.set)
            updated = win->updated;   /* chosen by an earlier run */
        if (cat->id_fn) {
            struct sf_catalog_id id = {win->idhash, catalog_idhash2(win->id), win->content,
                                       win->captured_at, last_change};
            cat->id_fn(cat->id_ctx, &id);
        }
        /* every entry's category was interned when it was added */
        size_t ci = category_of(cat, win->category);
        if (ci != SIZE_MAX) {
            heap_push(&cat->cats[ci], max, win, cat->cats[ci].name, &updated);
            heap_push(&cat->all, max, win, cat->cats[ci].name, &updated);
        }
        i = j;
    }
}

/* Reads every run's part of bucket b, plus the entries of b still in
 * memory, and chooses among them. */
static bool
choose_bucket(struct sf_catalog *cat, size_t b, struct sf_buf *raw, struct sf_buf *strings,
              struct sf_entry **v, size_t *cap)
{
    buf_clear(raw);
    buf_clear(strings);
    for (size_t r = 0; r < cat->n_runs; r++) {
        uint64_t off = cat->runs[r].off[b], len = cat->runs[r].off[b + 1] - off;
        if (!len)
            continue;
        char *dst = buf_reserve(raw, (size_t)len);
        if (!dst || pread(cat->spill_fd, dst, (size_t)len, (off_t)off) != (ssize_t)len)
            return false;
        buf_commit(raw, (size_t)len);
    }
    size_t n = 0;
    struct sf_cursor c = {(const unsigned char *)raw->data,
                          (const unsigned char *)raw->data + raw->len, false};
    while (c.p < c.end && !c.bad) {
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 1024;
            *v = xreallocarray(*v, *cap, sizeof **v);
        }
        struct sf_entry *e = &(*v)[n++];
        catalog_entry_decode(&c, strings, e);
        e->seq = cursor_u32(&c);
        e->input = cursor_u32(&c);
        e->path = (const char *)(uintptr_t)cursor_str(&c, strings);
        e->updated.t = (int64_t)cursor_u64(&c);
        e->updated.off = (int32_t)cursor_u32(&c);
        e->updated.set = cursor_u8(&c);
        if (!when_plausible(&e->updated))
            c.bad = true;
    }
    if (c.bad)
        return false;
    for (size_t i = 0; i < n; i++) {
        struct sf_entry *e = &(*v)[i];
        e->id = strings->data + (uintptr_t)e->id;
        e->category = strings->data + (uintptr_t)e->category;
        e->path = strings->data + (uintptr_t)e->path;
    }
    /* what never left memory (the spill file could not be written) */
    for (size_t i = 0; i < cat->n; i++) {
        if (bucket_of(cat->entries[i].idhash) != b)
            continue;
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 1024;
            *v = xreallocarray(*v, *cap, sizeof **v);
        }
        (*v)[n++] = cat->entries[i];
    }
    choose(cat, *v, n);
    return true;
}

static int
cmp_items(const void *pa, const void *pb)
{
    const struct sf_item_ref *a = pa, *b = pb;
    return catalog_entry_newer(a->entry, b->entry) ? -1 : catalog_entry_newer(b->entry, a->entry) ? 1 : 0;
}

static int
cmp_category_order(const void *pa, const void *pb)
{
    const struct category *a = *(struct category *const *)pa, *b = *(struct category *const *)pb;
    if ((a->conf_index >= 0) != (b->conf_index >= 0))
        return a->conf_index >= 0 ? -1 : 1;
    if (a->conf_index >= 0)
        return a->conf_index - b->conf_index;
    return strcmp(a->name, b->name);
}

/* Slugs: the configured one, else derived; a derived one that collides
 * with a slug already taken gets the wide hash form. */
static void
assign_slugs(struct sf_catalog *cat, struct category **order, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct category *c = order[i];
        const struct sf_feed_conf *fc = config_feed(cat->config, c->name);
        if (fc && fc->slug)
            c->slug = xstrdup(fc->slug);
    }
    for (size_t i = 0; i < n; i++) {
        struct category *c = order[i];
        if (c->slug)
            continue;
        for (int wide = 0; wide < 2 && !c->slug; wide++) {
            char *s = slug_derive(c->name, wide);
            bool taken = strcmp(s, "all") == 0;
            for (size_t j = 0; j < n && !taken; j++)
                taken = order[j] != c && order[j]->slug && strcmp(order[j]->slug, s) == 0;
            if (taken)
                free(s);
            else
                c->slug = s;
        }
    }
}

/* The heap's items, newest first, as the feed's item list. */
static void
settle(struct category *c)
{
    c->items = xcalloc(c->n ? c->n : 1, sizeof *c->items);
    for (size_t i = 0; i < c->n; i++)
        c->items[i] = (struct sf_item_ref){&c->heap[i].e, c->heap[i].updated, NULL};
    sf_sort(c->items, c->n, sizeof *c->items, cmp_items);
}

bool
catalog_select(struct sf_catalog *cat, const struct sf_feed_sel **feeds, size_t *n_feeds,
               struct sf_error *err)
{
    const struct sf_config *cfg = cat->config;
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        size_t k = cfg->feeds[i].category ? category_of(cat, cfg->feeds[i].category) : SIZE_MAX;
        if (k != SIZE_MAX)
            cat->cats[k].conf_index = (int)i;
    }

    if (!cat->n_runs) {
        choose(cat, cat->entries, cat->n);
    } else {
        spill(cat);
        struct sf_buf raw, strings;
        buf_init(&raw, 0);
        buf_init(&strings, 0);
        struct sf_entry *v = NULL;
        size_t cap = 0;
        bool ok = true;
        for (size_t b = 0; b < N_BUCKETS && ok; b++)
            ok = choose_bucket(cat, b, &raw, &strings, &v, &cap);
        free(v);
        buf_finish(&raw);
        buf_finish(&strings);
        if (!ok) {
            error_set(err, cat->spill_dir, 0, 0, "cannot read back the catalog's spill file: %s",
                      errno ? strerror(errno) : "damaged");
            return false;
        }
    }

    struct category **order = xcalloc(cat->n_cats + 1, sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < cat->n_cats; i++)
        if (cat->cats[i].n)
            order[n++] = &cat->cats[i];
    sf_sort(order, n, sizeof *order, cmp_category_order);
    assign_slugs(cat, order, n);
    if (cat->all.n) {
        /* "all" goes first */
        memmove(order + 1, order, n * sizeof *order);
        order[0] = &cat->all;
        n++;
        cat->all.slug = xstrdup("all");
        cat->all.title = xstrdup(cfg->site.title);
        cat->all.description = xstrdup(cfg->site.description);
    }

    cat->feeds = xcalloc(n + 1, sizeof *cat->feeds);
    for (size_t i = 0; i < n; i++) {
        struct category *c = order[i];
        if (c != &cat->all) {
            const struct sf_feed_conf *fc = config_feed(cfg, c->name);
            c->title = fc && fc->title ? xstrdup(fc->title)
                                       : xasprintf("%s - %s", c->name, cfg->site.title);
            c->description = fc && fc->description
                                 ? xstrdup(fc->description)
                                 : xasprintf("%s: %s", cfg->site.title, c->name);
        }
        if (!c->slug)
            continue;   /* no slug could be made distinct: not written */
        settle(c);
        cat->feeds[cat->n_feeds++] = (struct sf_feed_sel){
            .slug = c->slug,
            .title = c->title,
            .description = c->description,
            .category = c == &cat->all ? NULL : c->name,
            .items = c->items,
            .n_items = c->n,
        };
    }
    free(order);
    /* Each item learns its category's slug (the "all" feed links across). */
    for (size_t f = 0; f < cat->n_feeds; f++)
        for (size_t i = 0; i < cat->feeds[f].n_items; i++) {
            struct sf_item_ref *it = &cat->feeds[f].items[i];
            it->slug = catalog_slug(cat, it->entry->category);
        }
    *feeds = cat->feeds;
    *n_feeds = cat->n_feeds;
    return true;
}

void
catalog_set_id_sink(struct sf_catalog *cat, sf_catalog_id_fn fn, void *ctx)
{
    cat->id_fn = fn;
    cat->id_ctx = ctx;
}

uint64_t
catalog_idhash2(const char *id)
{
    return hash_words(0x5346494432u, id, strlen(id));
}

bool
catalog_complete(const struct sf_catalog *cat)
{
    if (cat->refused)
        return false;
    for (size_t i = 0; i < cat->n_cats; i++)
        if (cat->cats[i].n && !cat->cats[i].slug)
            return false;
    return true;
}

const char *
catalog_slug(const struct sf_catalog *cat, const char *name)
{
    size_t mask = cat->index_cap - 1, i = (size_t)str_hash(name) & mask;
    while (cat->cat_index[i]) {
        size_t k = cat->cat_index[i] - 1;
        if (strcmp(cat->cats[k].name, name) == 0)
            return cat->cats[k].slug;
        i = (i + 1) & mask;
    }
    return NULL;
}
