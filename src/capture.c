/* SPDX-License-Identifier: MIT */
/* capture.c - parse one capture file into a struct sf_record */
#include "capture.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "text.h"
#include "url.h"

/*
 * A capture is read top to bottom in one pass over its lines.  Sections
 * (docs/record.md, ../shared/spec/capture-format.md) are recognised by
 * their first line, and every section may be missing, so the parser is a
 * small state machine rather than a grammar.
 */

struct sf_capture_parser {
    struct sf_zone zone;
    struct sf_buf text;     /* the decoded, cleaned capture */
    struct sf_buf para;     /* the paragraph being joined */
    struct sf_buf scratch;
    /* growable arrays, reused from file to file */
    const char **body;
    size_t body_cap;
    struct sf_related *related;
    size_t related_cap;
    struct sf_listing *listing;
    size_t listing_cap;
};

struct sf_capture_parser *
capture_parser_new(const struct sf_zone *zone)
{
    struct sf_capture_parser *p = xcalloc(1, sizeof *p);
    when_zone_copy(&p->zone, zone);
    buf_init(&p->text, SF_MAX_CAPTURE_SIZE * 2u);
    buf_init(&p->para, SF_MAX_LINE);
    buf_init(&p->scratch, SF_MAX_LINE);
    return p;
}

void
capture_parser_free(struct sf_capture_parser *p)
{
    if (!p)
        return;
    buf_finish(&p->text);
    buf_finish(&p->para);
    buf_finish(&p->scratch);
    free(p->body);
    free(p->related);
    free(p->listing);
    free(p);
}

/* ---- small matchers --------------------------------------------------- */

/* A string slice. */
struct str {
    const char *s;
    size_t n;
};

/* Prefix tests against literals, with their lengths known at compile time. */
#define HAS_PREFIX(l, lit) ((l).n >= sizeof(lit) - 1 && memcmp((l).s, lit, sizeof(lit) - 1) == 0)

static bool
has_prefix(struct str l, const char *prefix)
{
    size_t len = strlen(prefix);
    return l.n >= len && memcmp(l.s, prefix, len) == 0;
}

static bool
has_suffix(struct str l, const char *suffix)
{
    size_t len = strlen(suffix);
    return l.n >= len && memcmp(l.s + l.n - len, suffix, len) == 0;
}

static bool
contains(struct str l, const char *needle)
{
    size_t len = strlen(needle);
    return l.n >= len && text_find(l.s, l.n, needle, len) != NULL;
}

static bool
str_eq(struct str a, const char *b)
{
    return a.n == strlen(b) && memcmp(a.s, b, a.n) == 0;
}

/* Length of the colon (":" or "："), 0 if s is not at one. */
static size_t
colon_at(const char *s, size_t n)
{
    if (n >= 1 && s[0] == ':')
        return 1;
    if (n >= 3 && memcmp(s, "：", 3) == 0)
        return 3;
    return 0;
}

/* If l starts with key and a colon, sets *val to the trimmed rest. */
static bool
key_value(struct str l, const char *key, struct str *val)
{
    size_t k = strlen(key);
    if (!has_prefix(l, key))
        return false;
    size_t c = colon_at(l.s + k, l.n - k);
    if (!c)
        return false;
    val->s = l.s + k + c;
    val->n = l.n - k - c;
    text_trim(&val->s, &val->n);
    return true;
}

/* ---- the meta line ---------------------------------------------------- */

enum field {
    F_CATEGORY, F_PUBLISHED, F_SOURCE, F_AUTHOR, F_EDITOR, F_VIA, F_OTHER, F_COUNT
};

/* Known keys, mapped to fields.  转自 and 原文来源 are spellings of 本文转自. */
static const struct {
    const char *key;
    enum field field;
} known_keys[] = {
    {"类别", F_CATEGORY}, {"发布时间", F_PUBLISHED}, {"来源", F_SOURCE},
    {"作者", F_AUTHOR},   {"编辑", F_EDITOR},        {"本文转自", F_VIA},
    {"转自", F_VIA},      {"原文来源", F_VIA},
};

static enum field
field_of(struct str key)
{
    for (size_t i = 0; i < SF_ARRAY_LEN(known_keys); i++)
        if (str_eq(key, known_keys[i].key))
            return known_keys[i].field;
    return F_OTHER;
}

/* Field separators: ASCII blanks, NBSP, U+3000. */
static size_t
sep_at(const char *s, size_t n)
{
    size_t len;
    return text_is_blank_at(s, n, &len) ? len : 0;
}

/*
 * Whether key could be a field name: short, no digits or URL punctuation.
 * This is what keeps "20:28:00" (the clock after a date) and "https://..."
 * from starting a field when fields are separated by plain spaces.
 */
static bool
key_like(struct str key)
{
    if (key.n == 0 || key.n > 24)
        return false;
    if ((key.n == 4 && strncasecmp(key.s, "http", 4) == 0) ||
        (key.n == 5 && strncasecmp(key.s, "https", 5) == 0))
        return false;
    for (size_t i = 0; i < key.n; i++) {
        char c = key.s[i];
        if ((c >= '0' && c <= '9') || c == '/' || c == '.' || c == '<' || c == '>' || c == '"')
            return false;
    }
    return true;
}

/* The fields of a meta line (or of the header lines after it). */
struct meta {
    struct str v[F_COUNT];
    bool has[F_COUNT];
    unsigned line[F_COUNT];
};

static void
meta_set(struct meta *m, struct str key, const char *vs, const char *ve, unsigned line)
{
    enum field f = field_of(key);
    if (f == F_OTHER || m->has[f])
        return;   /* unknown fields are tolerated; the first of a kind wins */
    struct str v = {vs, (size_t)(ve - vs)};
    text_trim(&v.s, &v.n);
    m->v[f] = v;
    m->has[f] = v.n > 0;
    m->line[f] = line;
}

/*
 * Splits a line into key:value fields.  Fields are separated by blanks, but
 * values may hold blanks too ("发布时间:2023-10-27 20:28:00" with plain
 * spaces), so a blank-separated token that does not start with a key
 * continues the value before it.  Returns how many fields started, and
 * whether the first token was a known key (*known_first).
 */
static size_t
split_fields(struct str l, unsigned line, struct meta *m, bool *known_first)
{
    const char *p = l.s, *end = l.s + l.n;
    struct str key = {0};
    const char *vs = NULL, *ve = NULL;
    size_t fields = 0, k;
    bool first = true;
    *known_first = false;
    while (p < end) {
        while (p < end && (k = sep_at(p, (size_t)(end - p))))
            p += k;
        if (p >= end)
            break;
        const char *t = p, *c = NULL;
        size_t cl = 0;
        while (p < end && !sep_at(p, (size_t)(end - p))) {
            if (!c && (cl = colon_at(p, (size_t)(end - p))))
                c = p;
            p++;
        }
        struct str kk = {t, c ? (size_t)(c - t) : 0};
        if (c && key_like(kk)) {
            if (vs && m)
                meta_set(m, key, vs, ve, line);
            if (first)
                *known_first = field_of(kk) != F_OTHER;
            key = kk;
            vs = c + cl;
            ve = p;
            fields++;
        } else if (vs) {
            ve = p;
        }
        first = false;
    }
    if (vs && m)
        meta_set(m, key, vs, ve, line);
    return fields;
}

/* Whether l starts with a known key and a colon: a header line after the
 * meta line ("作者:张三", "本文转自:新华社"). */
static bool
starts_with_key(struct str l)
{
    struct str val;
    for (size_t i = 0; i < SF_ARRAY_LEN(known_keys); i++)
        if (key_value(l, known_keys[i].key, &val))
            return true;
    return false;
}

static bool
is_meta_line(struct str l)
{
    if (!contains(l, "类别") && !contains(l, "发布时间"))
        return false;
    struct meta m = {0};
    bool known_first;
    split_fields(l, 1, &m, &known_first);
    return m.line[F_CATEGORY] || m.line[F_PUBLISHED];
}

/* ---- section markers -------------------------------------------------- */

static bool
is_crumb(struct str l)
{
    return HAS_PREFIX(l, "•");
}

static bool
is_disclaimer(struct str l)
{
    return HAS_PREFIX(l, "以上内容为资讯信息快照");
}

/* Every footer and list marker starts with 以, 信, 快, 本 or 更, whose
 * UTF-8 lead bytes are E4-E6: most lines are told apart by one byte. */
static bool
may_be_marker(struct str l)
{
    return l.n >= 3 && (unsigned char)l.s[0] >= 0xE4 && (unsigned char)l.s[0] <= 0xE6;
}

enum footer { FOOT_NONE, FOOT_DISCLAIMER, FOOT_CAPTURED, FOOT_URL, FOOT_BOILERPLATE };

static enum footer
footer_kind(struct str l, struct str *val)
{
    if (!may_be_marker(l))
        return FOOT_NONE;
    if (is_disclaimer(l))
        return FOOT_DISCLAIMER;
    if (key_value(l, "快照生成时间", val))
        return FOOT_CAPTURED;
    if (key_value(l, "信息原文地址", val))
        return FOOT_URL;
    if (HAS_PREFIX(l, "本站信息快照查询"))
        return FOOT_BOILERPLATE;
    return FOOT_NONE;
}

/* "更多关于X的资讯:" starts the more-in-category list; *cat gets X. */
static bool
is_more_header(struct str l, struct str *cat)
{
    static const char head[] = "更多关于", tail[] = "的资讯";
    if (!HAS_PREFIX(l, head))
        return false;
    struct str t = l;
    if (has_suffix(t, ":"))
        t.n -= 1;
    else if (has_suffix(t, "："))
        t.n -= 3;
    if (!has_suffix(t, tail) || t.n <= strlen(head) + strlen(tail))
        return false;
    cat->s = t.s + strlen(head);
    cat->n = t.n - strlen(head) - strlen(tail);
    text_trim(&cat->s, &cat->n);
    return cat->n > 0;
}

static bool
is_reprint(struct str l, struct str *val)
{
    return key_value(l, "本文转自", val) || key_value(l, "转自", val) ||
           key_value(l, "原文来源", val);
}

/* A photo credit under an image: short, and says who took or gave it. */
static bool
is_photo_credit(struct str l)
{
    static const char *const marks[] = {"供图", "摄", "图片来源", "图源", "资料图", "配图", "图片由"};
    if (text_utf8_count(l.s, l.n) > 60)
        return false;
    for (size_t i = 0; i < SF_ARRAY_LEN(marks); i++)
        if (contains(l, marks[i]))
            return true;
    return false;
}

/* ---- the parse -------------------------------------------------------- */

enum state { S_HEAD, S_META, S_HEADER, S_BODY, S_FOOTER, S_RELATED, S_LISTING };

struct line_iter {
    const char *p, *end;
    unsigned no;
};

struct ctx {
    struct sf_capture_parser *p;
    const struct sf_capture_opts *opts;
    const char *path;
    struct sf_errors *warn;
    struct sf_record *r;
    enum state state;

    struct str title, crumb;
    struct meta meta;
    bool meta_found;
    unsigned meta_line;
    struct line_iter rewind;    /* where the body starts if no meta line comes */
    bool rewind_set;

    size_t n_para_lines;        /* lines in p->para */
    bool para_cut;              /* p->para reached SF_MAX_LINE */
    bool after_alt;             /* the last paragraph was an image's alt text */
    bool body_full, related_full, listing_full;

    struct str list_category;   /* of the listing being read */
    struct str group_first;     /* first line of a related/listing group */
    size_t group_lines;         /* the rest are joined in p->scratch */

    struct str captured, url;
    unsigned captured_line, url_line;
    bool captured_seen, url_seen;
    struct str crawler;
};

static bool
next_line(struct ctx *c, struct line_iter *it, struct str *l)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    l->s = it->p;
    l->n = (size_t)(e - it->p);
    it->p = nl ? nl + 1 : it->end;
    it->no++;
    text_trim(&l->s, &l->n);
    if (l->n > SF_MAX_LINE) {
        /* at most SF_MAX_LINE bytes, cut before a character, not inside one */
        l->n = SF_MAX_LINE;
        while (l->n && ((unsigned char)l->s[l->n] & 0xC0) == 0x80)
            l->n--;
        errors_add(c->warn, c->path, it->no, 0, "warning: line longer than %u bytes; cut",
                   SF_MAX_LINE);
    }
    return true;
}

/* Appends l to buf, joined the way wrapped lines are (docs/record.md).
 * What passes the buffer's limit is cut before a character; returns
 * false when something was. */
static bool
join_line(struct sf_buf *b, struct str l)
{
    if (b->len && !((unsigned char)b->data[b->len - 1] >= 0x80 && (unsigned char)l.s[0] >= 0x80) &&
        !buf_append_char(b, ' '))
        return false;
    size_t room = b->limit - b->len;
    bool whole = l.n <= room;
    if (!whole) {
        l.n = room;
        while (l.n && ((unsigned char)l.s[l.n] & 0xC0) == 0x80)
            l.n--;
    }
    buf_append(b, l.s, l.n);
    return whole;
}

/* Copies a field value into the record with blank runs squeezed to one space. */
static const char *
store_value(struct ctx *c, struct str v)
{
    if (v.n == 0)
        return NULL;
    char *d = record_alloc(c->r, v.n + 1);
    size_t o = 0, k;
    for (size_t i = 0; i < v.n;) {
        if ((k = sep_at(v.s + i, v.n - i))) {
            if (o && d[o - 1] != ' ')
                d[o++] = ' ';
            i += k;
        } else
            d[o++] = v.s[i++];
    }
    d[o] = '\0';
    return o ? d : NULL;
}

static const char *
store(struct ctx *c, struct str v)
{
    return v.n ? record_strdup(c->r, v.s, v.n) : NULL;
}

static void
flush_paragraph(struct ctx *c)
{
    struct sf_buf *b = &c->p->para;
    if (!c->n_para_lines)
        return;
    struct str para = {b->data, b->len};
    c->n_para_lines = 0;
    c->para_cut = false;
    bool after_alt = c->after_alt;
    c->after_alt = false;
    if (para.n == c->title.n && memcmp(para.s, c->title.s, para.n) == 0) {
        c->after_alt = true;   /* an image's alt text; a credit may follow */
    } else if (after_alt && is_photo_credit(para)) {
        /* the credit of a picture the capture does not have */
    } else if (c->r->n_body < SF_MAX_PARAGRAPHS) {
        if (c->r->n_body == c->p->body_cap) {
            c->p->body_cap = c->p->body_cap ? c->p->body_cap * 2 : 32;
            c->p->body = xreallocarray(c->p->body, c->p->body_cap, sizeof *c->p->body);
        }
        c->p->body[c->r->n_body++] = store(c, para);
    } else if (!c->body_full) {
        c->body_full = true;
        errors_add(c->warn, c->path, 0, 0, "warning: more than %d paragraphs; the rest dropped",
                   SF_MAX_PARAGRAPHS);
    }
    buf_clear(b);
}

static void
add_para_line(struct ctx *c, struct str l, unsigned no)
{
    if (!join_line(&c->p->para, l) && !c->para_cut) {
        c->para_cut = true;
        errors_add(c->warn, c->path, no, 0, "warning: paragraph longer than %u bytes; cut",
                   SF_MAX_LINE);
    }
    c->n_para_lines++;
}

static void
group_reset(struct ctx *c)
{
    c->group_lines = 0;
    buf_clear(&c->p->scratch);
}

static void
group_add(struct ctx *c, struct str l)
{
    if (c->group_lines++ == 0)
        c->group_first = l;
    else
        join_line(&c->p->scratch, l);
}

/* A timestamp line ends a related or listing group. */
static void
group_end(struct ctx *c, struct str stamp)
{
    if (!c->group_lines || c->opts->skip_lists) {
        group_reset(c);
        return;
    }
    struct sf_time t = {0};
    if (!when_parse_local(&c->p->zone, stamp.s, stamp.n, &t))
        t.set = false;
    struct str rest = {c->p->scratch.data, c->p->scratch.len};
    struct sf_record *r = c->r;
    if (c->state == S_RELATED) {
        if (r->n_related == SF_MAX_RELATED) {
            c->related_full = true;
        } else {
            if (r->n_related == c->p->related_cap) {
                c->p->related_cap = c->p->related_cap ? c->p->related_cap * 2 : 16;
                c->p->related =
                    xreallocarray(c->p->related, c->p->related_cap, sizeof *c->p->related);
            }
            struct sf_related *e = &c->p->related[r->n_related++];
            e->title = c->group_lines > 1 ? store(c, c->group_first) : NULL;
            e->snippet = c->group_lines > 1 ? store(c, rest) : store(c, c->group_first);
            e->published = t;
        }
    } else if (t.set) {
        if (r->n_listing == SF_MAX_LISTING) {
            c->listing_full = true;
        } else {
            if (r->n_listing == c->p->listing_cap) {
                c->p->listing_cap = c->p->listing_cap ? c->p->listing_cap * 2 : 16;
                c->p->listing =
                    xreallocarray(c->p->listing, c->p->listing_cap, sizeof *c->p->listing);
            }
            struct sf_listing *e = &c->p->listing[r->n_listing++];
            e->category = store_value(c, c->list_category);
            e->title = store(c, c->group_first);
            e->summary = c->group_lines > 1 ? store(c, rest) : NULL;
            e->published = t;
        }
    }
    group_reset(c);
}

static void
footer_line(struct ctx *c, enum footer kind, struct str l, struct str val, unsigned no)
{
    switch (kind) {
    case FOOT_DISCLAIMER:
        if (!c->crawler.n) {
            /* "...由td.fyun.cc爬虫进行采集...": the capturing site's host */
            const char *by = text_find(l.s, l.n, "由", strlen("由"));
            const char *end = by ? text_find(by, (size_t)(l.s + l.n - by), "爬虫", strlen("爬虫")) : NULL;
            if (by && end) {
                struct str h = {by + strlen("由"), (size_t)(end - by - strlen("由"))};
                text_trim(&h.s, &h.n);
                if (url_is_hostname(h.s, h.n))
                    c->crawler = h;
            }
        }
        break;
    case FOOT_CAPTURED:
        if (!c->captured_seen) {
            c->captured_seen = true;
            c->captured = val;
            c->captured_line = no;
        }
        break;
    case FOOT_URL:
        if (!c->url_seen) {
            c->url_seen = true;
            c->url = val;
            c->url_line = no;
        }
        break;
    case FOOT_BOILERPLATE:
    case FOOT_NONE:
        break;
    }
}

/* Handles line l; it is just past it (it->no is its number), before just
 * before it. */
static void
process_line(struct ctx *c, struct line_iter *it, const struct line_iter *before, struct str l)
{
    struct str val, cat;
    enum footer fk;
    bool known_first;

    switch (c->state) {
    case S_HEAD:
        if (!l.n)
            return;
        if (is_crumb(l)) {
            struct str crumb = {l.s + strlen("•"), l.n - strlen("•")};
            text_trim(&crumb.s, &crumb.n);
            if (crumb.n)
                c->crumb = crumb;
            return;
        }
        /* A meta line or footer before any title means there is none. */
        if (is_meta_line(l) || footer_kind(l, &val) != FOOT_NONE || is_more_header(l, &cat)) {
            it->p = it->end;
            return;
        }
        c->title = l;
        c->r->line = it->no;
        c->state = S_META;
        return;

    case S_META:
        if (it->no - c->r->line > SF_MAX_META_SEARCH || footer_kind(l, &val) != FOOT_NONE ||
            is_more_header(l, &cat)) {
            /* No meta line: the body starts right after the title. */
            c->state = S_BODY;
            if (c->rewind_set) {
                *it = c->rewind;
                c->rewind_set = false;
            } else {
                process_line(c, it, before, l);
            }
            return;
        }
        if (!l.n)
            return;
        if (is_meta_line(l)) {
            split_fields(l, it->no, &c->meta, &known_first);
            c->meta_found = true;
            c->meta_line = it->no;
            c->rewind_set = false;
            c->state = S_HEADER;
            return;
        }
        if (is_reprint(l, &val)) {
            split_fields(l, it->no, &c->meta, &known_first);
            return;
        }
        if (!c->rewind_set) {
            c->rewind = *before;   /* where the body starts if no meta line comes */
            c->rewind_set = true;
        }
        return;

    case S_HEADER:
        if (!l.n)
            return;
        if (starts_with_key(l)) {
            split_fields(l, it->no, &c->meta, &known_first);
            return;
        }
        c->state = S_BODY;
        SF_FALLTHROUGH;
    case S_BODY:
        if (!l.n) {
            flush_paragraph(c);
            return;
        }
        if ((fk = footer_kind(l, &val)) != FOOT_NONE) {
            flush_paragraph(c);
            footer_line(c, fk, l, val, it->no);
            c->state = S_FOOTER;
            return;
        }
        if (is_more_header(l, &cat)) {
            flush_paragraph(c);
            c->list_category = cat;
            c->state = S_LISTING;
            return;
        }
        add_para_line(c, l, it->no);
        return;

    case S_FOOTER:
    case S_RELATED:
    case S_LISTING:
        if (!l.n)
            return;
        if ((fk = footer_kind(l, &val)) != FOOT_NONE) {
            footer_line(c, fk, l, val, it->no);
            return;
        }
        if (is_more_header(l, &cat)) {
            group_reset(c);
            c->list_category = cat;
            c->state = S_LISTING;
            return;
        }
        if (c->state == S_FOOTER)
            c->state = S_RELATED;
        if (when_looks_like_date(l.s, l.n))
            group_end(c, l);
        else if (!c->opts->skip_lists)
            group_add(c, l);
        else
            c->group_lines++;
        return;
    }
}

static unsigned
line_of(const char *data, size_t off)
{
    unsigned line = 1;
    for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + off - p))) != NULL; p++)
        line++;
    return line;
}

/*
 * Turns the file's bytes into clean UTF-8 text with LF line ends: BOM
 * dropped, GB18030 decoded when the bytes are not UTF-8, CR and the
 * characters XML cannot hold removed.  *text points into data when nothing
 * had to change (the common case), else into the parser's buffers.
 */
static bool
decode(struct sf_capture_parser *p, const char *path, const char *data, size_t len,
       enum sf_encoding enc, struct str *text, struct sf_error *err)
{
    static const char bom[] = "\xEF\xBB\xBF";
    struct str t = {data, len};
    size_t bad = 0;
    bool dirty = false, valid;

    if (enc != SF_ENC_GB18030) {
        if (t.n >= 3 && memcmp(t.s, bom, 3) == 0) {
            t.s += 3;
            t.n -= 3;
        }
        valid = text_scan(t.s, t.n, &bad, &dirty);
        if (!valid) {
            unsigned line = line_of(t.s, bad);
            if (enc == SF_ENC_UTF8) {
                error_set(err, path, line, 0, "not valid UTF-8");
                return false;
            }
            buf_clear(&p->text);
            if (!text_gb18030_to_utf8(data, len, &p->text, NULL)) {
                error_set(err, path, line, 0, "neither UTF-8 nor GB18030");
                return false;
            }
            t.s = p->text.data;
            t.n = p->text.len;
        }
    } else {
        buf_clear(&p->text);
        if (!text_gb18030_to_utf8(data, len, &p->text, &bad)) {
            error_set(err, path, line_of(data, bad), 0, "not valid GB18030");
            return false;
        }
        t.s = p->text.data;
        t.n = p->text.len;
        valid = false;
    }
    if (!valid) {
        /* Decoded from GB18030: its BOM becomes U+FEFF; then scan again. */
        if (t.n >= 3 && memcmp(t.s, bom, 3) == 0) {
            t.s += 3;
            t.n -= 3;
        }
        text_scan(t.s, t.n, NULL, &dirty);
    }
    if (dirty) {
        struct sf_buf *out = t.s == p->text.data ? &p->para : &p->text;
        buf_clear(out);
        char *dst = buf_reserve(out, t.n);
        if (!dst) {
            error_set(err, path, 0, 0, "too large to decode");
            return false;
        }
        buf_commit(out, text_copy_clean(dst, t.s, t.n, true));
        t.s = out->data;
        t.n = out->len;
        if (out == &p->para) {
            /* keep the text where the paragraph buffer is not */
            struct sf_buf tmp = p->text;
            p->text = p->para;
            p->para = tmp;
            buf_clear(&p->para);
        }
    }
    *text = t;
    return true;
}

static bool
only_blanks(struct str t)
{
    size_t k;
    for (size_t i = 0; i < t.n;) {
        if (t.s[i] == '\n')
            i++;
        else if ((k = sep_at(t.s + i, t.n - i)))
            i += k;
        else
            return false;
    }
    return true;
}

/* Parses a footer or meta time; warns when the value is not a valid time. */
static bool
parse_time(struct ctx *c, struct str v, const char *what, unsigned line, struct sf_time *out)
{
    if (when_parse_local(&c->p->zone, v.s, v.n, out))
        return true;
    out->set = false;
    if (v.n)
        errors_add(c->warn, c->path, line, 0, "warning: %s '%.*s' is not a valid time%s", what,
                   (int)v.n, v.s,
                   strcmp(what, "发布时间") == 0 ? "; using 快照生成时间" : "");
    return false;
}

/* Everything read; fills the record's fields from what the lines gave. */
static bool
finish(struct ctx *c, struct sf_error *err)
{
    struct sf_record *r = c->r;
    struct meta *m = &c->meta;
    if (c->captured_seen)
        parse_time(c, c->captured, "快照生成时间", c->captured_line, &r->captured_at);
    bool have_pub = m->has[F_PUBLISHED] &&
                    parse_time(c, m->v[F_PUBLISHED], "发布时间", m->line[F_PUBLISHED], &r->published);
    if (!have_pub) {
        if (!r->captured_at.set) {
            error_set(err, c->path, 0, 0, "no 发布时间 or 快照生成时间 to date it by");
            return false;
        }
        if (!m->has[F_PUBLISHED])
            errors_add(c->warn, c->path, 0, 0, "warning: no 发布时间; using 快照生成时间");
        r->published = r->captured_at;
    }

    r->title = store(c, c->title);
    struct str cat = m->has[F_CATEGORY] ? m->v[F_CATEGORY] : c->crumb;
    if (cat.n > SF_MAX_CATEGORY) {
        cat.n = text_cut(cat.s, cat.n, SF_MAX_CATEGORY);
        errors_add(c->warn, c->path, m->has[F_CATEGORY] ? m->line[F_CATEGORY] : 0, 0,
                   "warning: category longer than %d bytes; cut", SF_MAX_CATEGORY);
    }
    r->category = store_value(c, cat);
    if (!r->category) {
        r->category = record_strdup(c->r, c->opts->default_category,
                                    strlen(c->opts->default_category));
        errors_add(c->warn, c->path, 0, 0, "warning: no 类别; using '%s'",
                   c->opts->default_category);
    }
    r->source = store_value(c, m->v[F_SOURCE]);
    r->via = store_value(c, m->v[F_VIA]);
    r->author = store_value(c, m->has[F_AUTHOR] ? m->v[F_AUTHOR] : m->v[F_EDITOR]);

    if (c->url_seen && c->url.n) {
        struct sf_buf *b = &c->p->scratch;
        buf_clear(b);
        if (url_normalize(c->url.s, c->url.n, b))
            r->url = record_strdup(r, b->data, b->len);
        else
            errors_add(c->warn, c->path, c->url_line, 0,
                       "warning: 信息原文地址 '%.*s' is not an absolute http(s) URL; ignored",
                       (int)c->url.n, c->url.s);
    }
    if (c->crawler.n) {
        char *h = (char *)store(c, c->crawler);
        for (char *q = h; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        r->captured_by = h;
    }

    /* The parser's arrays are reused; the record gets its own copies. */
    struct sf_capture_parser *p = c->p;
    if (r->n_body) {
        r->body = record_alloc(r, r->n_body * sizeof *r->body);
        memcpy(r->body, p->body, r->n_body * sizeof *r->body);
    }
    if (r->n_related) {
        r->related = record_alloc(r, r->n_related * sizeof *r->related);
        memcpy(r->related, p->related, r->n_related * sizeof *r->related);
    }
    if (r->n_listing) {
        r->listing = record_alloc(r, r->n_listing * sizeof *r->listing);
        memcpy(r->listing, p->listing, r->n_listing * sizeof *r->listing);
    }
    if (c->related_full || c->listing_full)
        errors_add(c->warn, c->path, 0, 0, "warning: more than %d %s entries; the rest dropped",
                   c->related_full ? SF_MAX_RELATED : SF_MAX_LISTING,
                   c->related_full ? "related" : "listing");
    r->file = store(c, (struct str){c->path, strlen(c->path)});
    record_derive_id(r, c->opts->site_host);
    return true;
}

struct sf_record *
capture_parse(struct sf_capture_parser *p, const char *path, const char *data, size_t len,
              const struct sf_capture_opts *opts, struct sf_error *err, struct sf_errors *warn)
{
    struct str text;
    if (len > SF_MAX_CAPTURE_SIZE) {
        error_set(err, path, 0, 0, "larger than the %u MiB capture limit",
                  SF_MAX_CAPTURE_SIZE >> 20);
        return NULL;
    }
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        error_set(err, path, line_of(data, (size_t)(nul - data)), 0, "binary data (NUL byte)");
        return NULL;
    }
    if (!decode(p, path, data, len, opts->encoding, &text, err))
        return NULL;
    if (only_blanks(text)) {
        error_set(err, path, 0, 0, "empty file");
        return NULL;
    }

    struct ctx c = {.p = p, .opts = opts, .path = path, .warn = warn, .state = S_HEAD};
    c.r = record_new();
    buf_clear(&p->para);
    buf_clear(&p->scratch);
    struct line_iter it = {text.s, text.s + text.n, 0}, before;
    struct str l;
    for (;;) {
        before = it;
        if (!next_line(&c, &it, &l)) {
            if (c.state == S_META && c.rewind_set) {
                it = c.rewind;
                c.rewind_set = false;
                c.state = S_BODY;
                continue;
            }
            break;
        }
        process_line(&c, &it, &before, l);
    }
    flush_paragraph(&c);
    if (c.state == S_HEAD) {
        error_set(err, path, 0, 0, "no title");
        goto fail;
    }
    if (!finish(&c, err))
        goto fail;
    return c.r;
fail:
    record_free(c.r);
    return NULL;
}
