/* SPDX-License-Identifier: MIT */
/* chosen.c - what the last run chose, so a run that only adds captures merges them in */
#include "chosen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fileio.h"

/*
 * The file: a header record, then records, each a tag byte first:
 *
 *     header  "SFCHOSN\n", u32 format, u64 settings, u64 manifest digest
 *     'I'     an article: u64 idhash, u64 idhash2, u64 content, time
 *             captured_at, time last_change (time: u64 t, u32 off, u8 set)
 *     'E'     a feed item: u32 length of what follows, catalog entry
 *             (catalog_entry_encode), u32 input, str path, time updated
 *     'Z'     the end: u64 checksum of every record before it
 *
 * The checksum is sum64() over every byte before it, in blocks
 * (struct sf_sum).
 * Articles come sorted by idhash.
 */
#define MAGIC "SFCHOSN\n"
#define FORMAT 2u
#define HEADER_LEN (8 + 4 + 8 + 8)
#define ID_LEN (1 + 8 + 8 + 8 + 13 + 13)
#define MAX_ITEM (1u << 16)
#define NAME "chosen"
#define TMP_NAME ".chosen.spare"   /* struct sf_writer */

struct item {
    struct sf_entry e;
    char *strings;              /* id, category, path */
};

struct sf_chosen {
    int dirfd;
    struct item *items;
    size_t n_items;
    struct sf_catalog_id *found;    /* articles looked up */
    size_t n_found;
    struct sf_catalog_id *upd;      /* articles the merge changed or added */
    size_t n_upd;
    struct sf_entry *view;          /* for chosen_items() */
    uint64_t settings, digest;
};

/* ---- reading ---------------------------------------------------------- */

struct reader {
    int fd;
    struct sf_buf b;
    size_t pos;
    bool eof;
    bool unsummed;              /* read again: the sum was checked by chosen_load() */
    struct sf_sum sum;
};

/* Makes n bytes available at r->pos; false at the end of the file. */
static bool
need(struct reader *r, size_t n)
{
    return buf_window_need(&r->b, &r->pos, NULL, r->fd, n);
}

static const unsigned char *
take(struct reader *r, size_t n)
{
    const unsigned char *p = (const unsigned char *)r->b.data + r->pos;
    if (!r->unsummed)
        sum_add(&r->sum, p, n);
    r->pos += n;
    return p;
}

static void
put_time(struct sf_buf *b, const struct sf_time *t)
{
    buf_put_u64(b, (uint64_t)t->t);
    buf_put_u32(b, (uint32_t)t->off);
    buf_put_u8(b, t->set);
}

static struct sf_time
get_time(struct sf_cursor *c)
{
    struct sf_time t;
    t.t = (int64_t)cursor_u64(c);
    t.off = (int32_t)cursor_u32(c);
    t.set = cursor_u8(c) != 0;
    if (!when_plausible(&t))
        c->bad = true;
    return t;
}

static void
header(struct sf_buf *b, uint64_t settings, uint64_t digest)
{
    buf_append(b, MAGIC, 8);
    buf_put_u32(b, FORMAT);
    buf_put_u64(b, settings);
    buf_put_u64(b, digest);
}

static bool
reader_open(struct reader *r, int dirfd, uint64_t settings, uint64_t digest)
{
    *r = (struct reader){.fd = openat(dirfd, NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    buf_init(&r->b, 0);
    if (r->fd < 0)
        return false;
    struct sf_buf want;
    buf_init(&want, 0);
    header(&want, settings, digest);
    bool ok = need(r, HEADER_LEN) && memcmp(r->b.data, want.data, HEADER_LEN) == 0;
    buf_finish(&want);
    if (ok)
        take(r, HEADER_LEN);
    return ok;
}

static void
reader_close(struct reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    buf_finish(&r->b);
}

/* The idhash of the 'I' record at p: most records are passed over on it. */
static uint64_t
peek_idhash(const unsigned char *p)
{
    struct sf_cursor c = {p + 1, p + 9, false};
    return cursor_u64(&c);
}

/* False when a time in it is out of range (when_plausible()). */
static bool
decode_id(const unsigned char *p, struct sf_catalog_id *id)
{
    struct sf_cursor c = {p + 1, p + ID_LEN, false};
    id->idhash = cursor_u64(&c);
    id->idhash2 = cursor_u64(&c);
    id->content = cursor_u64(&c);
    id->captured_at = get_time(&c);
    id->last_change = get_time(&c);
    return !c.bad;
}

static void
encode_id(struct sf_buf *b, const struct sf_catalog_id *id)
{
    buf_put_u8(b, 'I');
    buf_put_u64(b, id->idhash);
    buf_put_u64(b, id->idhash2);
    buf_put_u64(b, id->content);
    put_time(b, &id->captured_at);
    put_time(b, &id->last_change);
}

static bool
in_want(const uint64_t *want, size_t n, uint64_t h)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (want[mid] == h)
            return true;
        if (want[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool
decode_item(const unsigned char *p, size_t len, struct item *it)
{
    struct sf_buf s;
    buf_init(&s, 0);
    struct sf_cursor c = {p, p + len, false};
    catalog_entry_decode(&c, &s, &it->e);
    it->e.input = cursor_u32(&c);
    size_t path = cursor_str(&c, &s);
    it->e.updated = get_time(&c);
    if (c.bad || c.p != c.end || !it->e.updated.set) {
        buf_finish(&s);
        return false;
    }
    it->strings = s.data;   /* the buffer is the item's now */
    it->e.id = it->strings + (uintptr_t)it->e.id;
    it->e.category = it->strings + (uintptr_t)it->e.category;
    it->e.path = it->strings + path;
    return true;
}

struct sf_chosen *
chosen_load(const char *state_dir, uint64_t settings, uint64_t digest, const uint64_t *want,
            size_t n_want)
{
    int dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return NULL;
    struct sf_chosen *ch = xcalloc(1, sizeof *ch);
    ch->dirfd = dirfd;
    ch->settings = settings;
    ch->digest = digest;
    struct reader r;
    bool ok = reader_open(&r, dirfd, settings, digest);
    bool end = false;
    uint64_t last = 0;
    while (ok && !end && need(&r, 1)) {
        unsigned char tag = (unsigned char)r.b.data[r.pos];
        if (tag == 'I') {
            if (!need(&r, ID_LEN)) {
                ok = false;
                break;
            }
            const unsigned char *raw = take(&r, ID_LEN);
            uint64_t idhash = peek_idhash(raw);
            if (idhash < last)
                ok = false;   /* out of order: not ours */
            last = idhash;
            if (in_want(want, n_want, idhash)) {
                ch->found = xreallocarray(ch->found, ch->n_found + 1, sizeof *ch->found);
                if (!decode_id(raw, &ch->found[ch->n_found++]))
                    ok = false;
            }
        } else if (tag == 'E') {
            if (!need(&r, 5)) {
                ok = false;
                break;
            }
            struct sf_cursor c = {(unsigned char *)r.b.data + r.pos + 1,
                                  (unsigned char *)r.b.data + r.pos + 5, false};
            uint32_t len = cursor_u32(&c);
            if (len > MAX_ITEM || !need(&r, 5 + (size_t)len)) {
                ok = false;
                break;
            }
            const unsigned char *p = take(&r, 5 + (size_t)len);
            struct item it = {0};
            if (!decode_item(p + 5, len, &it)) {
                ok = false;
                break;
            }
            ch->items = xreallocarray(ch->items, ch->n_items + 1, sizeof *ch->items);
            ch->items[ch->n_items++] = it;
        } else if (tag == 'Z') {
            uint64_t sum = sum_end(&r.sum);
            if (!need(&r, 9)) {
                ok = false;
                break;
            }
            struct sf_cursor c = {(unsigned char *)r.b.data + r.pos + 1,
                                  (unsigned char *)r.b.data + r.pos + 9, false};
            ok = cursor_u64(&c) == sum;
            r.pos += 9;
            end = true;
        } else {
            ok = false;
        }
    }
    /* nothing may follow the end */
    ok = ok && end && !need(&r, 1);
    reader_close(&r);
    if (!ok) {
        chosen_free(ch);
        return NULL;
    }
    return ch;
}

void
chosen_free(struct sf_chosen *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n_items; i++)
        free(ch->items[i].strings);
    free(ch->items);
    free(ch->found);
    free(ch->upd);
    free(ch->view);
    if (ch->dirfd >= 0)
        close(ch->dirfd);
    free(ch);
}

/* ---- merging ---------------------------------------------------------- */

/* The catalog's orders (catalog.c): captures of one article, oldest first;
 * feed order, newer first and then the smaller id. */
static struct item
item_of(const struct sf_entry *e, const struct sf_time *updated)
{
    size_t il = strlen(e->id) + 1, cl = strlen(e->category) + 1, pl = strlen(e->path) + 1;
    struct item it = {.e = *e, .strings = xmalloc(il + cl + pl)};
    memcpy(it.strings, e->id, il);
    memcpy(it.strings + il, e->category, cl);
    memcpy(it.strings + il + cl, e->path, pl);
    it.e.id = it.strings;
    it.e.category = it.strings + il;
    it.e.path = it.strings + il + cl;
    it.e.updated = *updated;
    return it;
}

/* The article's state so far: merged this run, else from the file. */
static struct sf_catalog_id *
article(struct sf_chosen *ch, uint64_t idhash, uint64_t idhash2, bool *merged)
{
    for (size_t i = 0; i < ch->n_upd; i++)
        if (ch->upd[i].idhash == idhash && ch->upd[i].idhash2 == idhash2) {
            *merged = true;
            return &ch->upd[i];
        }
    *merged = false;
    for (size_t i = 0; i < ch->n_found; i++)
        if (ch->found[i].idhash == idhash && ch->found[i].idhash2 == idhash2)
            return &ch->found[i];
    return NULL;
}

static size_t
count_category(const struct sf_chosen *ch, const char *category, size_t *oldest)
{
    size_t n = 0;
    for (size_t i = 0; i < ch->n_items; i++)
        if (strcmp(ch->items[i].e.category, category) == 0) {
            if (!n || catalog_entry_newer(&ch->items[*oldest].e, &ch->items[i].e))
                *oldest = i;
            n++;
        }
    return n;
}

/* Offers the new winner e to its category's items, as the heap would. */
static void
offer(struct sf_chosen *ch, const struct sf_entry *e, const struct sf_time *updated, size_t max)
{
    size_t oldest = 0;
    size_t n = count_category(ch, e->category, &oldest);
    if (n < max) {
        ch->items = xreallocarray(ch->items, ch->n_items + 1, sizeof *ch->items);
        ch->items[ch->n_items++] = item_of(e, updated);
    } else if (catalog_entry_newer(e, &ch->items[oldest].e)) {
        free(ch->items[oldest].strings);
        ch->items[oldest] = item_of(e, updated);
    }
}

bool
chosen_merge(struct sf_chosen *ch, struct sf_entry *fresh, size_t n, size_t max)
{
    sf_sort(fresh, n, sizeof *fresh, catalog_cmp_capture);
    for (size_t f = 0; f < n; f++) {
        const struct sf_entry *e = &fresh[f];
        uint64_t h2 = catalog_idhash2(e->id);
        bool merged;
        struct sf_catalog_id *a = article(ch, e->idhash, h2, &merged);
        struct sf_catalog_id next = {e->idhash, h2, e->content, e->captured_at, {0}};
        if (a) {
            /* Only a capture newer than the winner is certain to win and
             * to leave `updated` computable from what is kept. */
            if (!e->captured_at.set || !a->captured_at.set || e->captured_at.t <= a->captured_at.t)
                return false;
            next.last_change = e->content != a->content ? e->captured_at : a->last_change;
        }
        struct sf_time updated = e->published;
        if (next.last_change.set && next.last_change.t > e->published.t)
            updated = next.last_change;

        /* the old winner, if a feed shows it */
        size_t w = SIZE_MAX;
        for (size_t i = 0; a && i < ch->n_items && w == SIZE_MAX; i++)
            if (ch->items[i].e.idhash == e->idhash && strcmp(ch->items[i].e.id, e->id) == 0)
                w = i;
        if (w != SIZE_MAX) {
            struct item *old = &ch->items[w];
            if (strcmp(old->e.category, e->category) == 0 && !catalog_entry_newer(&old->e, e)) {
                /* at least as new, same feed: it takes the old one's place */
                free(old->strings);
                *old = item_of(e, &updated);
            } else {
                size_t oldest = 0;
                if (count_category(ch, old->e.category, &oldest) >= max)
                    return false;   /* the next item in line is not kept */
                /* the feed held every item of its category: exact */
                free(old->strings);
                ch->items[w] = ch->items[--ch->n_items];
                offer(ch, e, &updated, max);
            }
        } else {
            offer(ch, e, &updated, max);
        }
        if (merged)
            *a = next;
        else {
            ch->upd = xreallocarray(ch->upd, ch->n_upd + 1, sizeof *ch->upd);
            ch->upd[ch->n_upd++] = next;
        }
    }
    return true;
}

size_t
chosen_items(const struct sf_chosen *ch, const struct sf_entry **items)
{
    struct sf_chosen *m = (struct sf_chosen *)ch;
    free(m->view);
    m->view = xcalloc(ch->n_items ? ch->n_items : 1, sizeof *m->view);
    for (size_t i = 0; i < ch->n_items; i++)
        m->view[i] = ch->items[i].e;
    *items = m->view;
    return ch->n_items;
}

/* ---- writing ---------------------------------------------------------- */

struct sf_chosen_out {
    int dirfd;
    struct sf_writer w;
    struct sf_sum sum;
    uint64_t settings, digest;
};

static void
out_record(struct sf_chosen_out *o, size_t start)
{
    const struct sf_buf *b = &o->w.buf;
    sum_add(&o->sum, b->data + start, b->len - start);
    writer_flush(&o->w, false);
}

struct sf_chosen_out *
chosen_out_new(const char *state_dir, uint64_t settings, uint64_t digest)
{
    int dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return NULL;
    struct sf_chosen_out *o = xcalloc(1, sizeof *o);
    o->dirfd = dirfd;
    o->settings = settings;
    o->digest = digest;
    writer_open(&o->w, dirfd, TMP_NAME, -1);   /* a failure shows at the commit */
    header(writer_buf(&o->w), settings, digest);
    out_record(o, 0);
    return o;
}

void
chosen_out_id(void *out, const struct sf_catalog_id *id)
{
    struct sf_chosen_out *o = out;
    struct sf_buf *b = writer_buf(&o->w);
    size_t start = b->len;
    encode_id(b, id);
    out_record(o, start);
}

static int
cmp_ids(const void *pa, const void *pb)
{
    const struct sf_catalog_id *a = pa, *b = pb;
    return (a->idhash > b->idhash) - (a->idhash < b->idhash);
}

bool
chosen_out_merged_ids(struct sf_chosen_out *o, const struct sf_chosen *ch)
{
    /* the file's articles again, in order, the merged ones in their places */
    sf_sort(ch->upd, ch->n_upd, sizeof *ch->upd, cmp_ids);
    struct reader r;
    bool ok = reader_open(&r, ch->dirfd, ch->settings, ch->digest);
    r.unsummed = true;
    size_t u = 0;
    while (ok && need(&r, 1) && r.b.data[r.pos] == 'I') {
        if (!need(&r, ID_LEN)) {
            ok = false;
            break;
        }
        const unsigned char *raw = take(&r, ID_LEN);
        uint64_t idhash = peek_idhash(raw);
        while (u < ch->n_upd && ch->upd[u].idhash < idhash)
            chosen_out_id(o, &ch->upd[u++]);
        bool replaced = false;
        struct sf_catalog_id old;
        decode_id(raw, &old);   /* only its idhash2 is wanted: read whole at load */
        for (size_t k = u; k < ch->n_upd && ch->upd[k].idhash == idhash && !replaced; k++)
            replaced = ch->upd[k].idhash2 == old.idhash2;
        if (!replaced) {
            /* as it was: encode_id() of what it decodes to */
            struct sf_buf *b = writer_buf(&o->w);
            size_t start = b->len;
            buf_append(b, raw, ID_LEN);
            out_record(o, start);
        }
    }
    while (ok && u < ch->n_upd)
        chosen_out_id(o, &ch->upd[u++]);
    reader_close(&r);
    /* the file was checked whole a moment ago; a short read now fails */
    if (!ok && !o->w.error)
        o->w.error = EIO;
    return ok;
}

void
chosen_out_feeds(struct sf_chosen_out *o, const struct sf_feed_sel *feeds, size_t n)
{
    struct sf_buf rec;
    buf_init(&rec, 0);
    for (size_t f = 0; f < n; f++) {
        if (!feeds[f].category)
            continue;   /* "all" is chosen again from the categories' items */
        for (size_t i = 0; i < feeds[f].n_items; i++) {
            const struct sf_item_ref *it = &feeds[f].items[i];
            buf_clear(&rec);
            catalog_entry_encode(&rec, it->entry);
            buf_put_u32(&rec, it->entry->input);
            buf_put_str(&rec, it->entry->path);
            struct sf_time u = it->updated;
            u.set = true;
            put_time(&rec, &u);
            struct sf_buf *b = writer_buf(&o->w);
            size_t start = b->len;
            buf_put_u8(b, 'E');
            buf_put_u32(b, (uint32_t)rec.len);
            buf_append(b, rec.data, rec.len);
            out_record(o, start);
        }
    }
    buf_finish(&rec);
}

void
chosen_out_abandon(struct sf_chosen_out *o)
{
    if (!o)
        return;
    writer_discard(&o->w);
    unlinkat(o->dirfd, NAME, 0);
    close(o->dirfd);
    free(o);
}

void
chosen_out_commit(struct sf_chosen_out *o)
{
    if (!o)
        return;
    struct sf_buf *b = writer_buf(&o->w);
    buf_put_u8(b, 'Z');
    buf_put_u64(b, sum_end(&o->sum));
    /* Not synced, like the manifest: lost or torn in a crash, it fails its
     * checksum or its manifest digest, and the next run takes the full
     * path.  The fsync was 20 ms of a 100k run that adds one capture. */
    if (!writer_commit(&o->w, NAME)) {
        chosen_out_abandon(o);   /* the spare is gone: the old file must go too */
        return;
    }
    close(o->dirfd);
    free(o);
}
