/* SPDX-License-Identifier: MIT */
/* htmlpage.c - read a saved HTML article page into a struct sf_record */
#include "htmlpage.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "text.h"
#include "url.h"

/*
 * A saved page says what it is in several places, some more trustworthy
 * than others: the JSON-LD a site writes for search engines, then its
 * OpenGraph tags, then the bare markup.  The page is decoded here (the
 * charset is ours to settle, with the same GB18030 fallback as captures),
 * parsed by libxml2's HTML parser with the network off and no entities
 * beyond HTML's own, then walked twice without recursion: once for every
 * field and to find the article's block, once over that block for the
 * body.  docs/record.md ("Saved HTML pages") is the contract.
 */

#define SNIFF_BYTES 16384   /* where a <meta> charset must be to count */

struct sf_htmlpage_parser {
    struct sf_zone zone;
    struct sf_buf text;     /* the page, decoded to clean UTF-8 */
    struct sf_buf scratch;  /* cleaning */
    struct sf_buf para;     /* the paragraph being gathered, raw */
    const char **body;      /* reused from page to page */
    size_t body_cap;
};

struct sf_htmlpage_parser *
htmlpage_parser_new(const struct sf_zone *zone)
{
    struct sf_htmlpage_parser *p = xcalloc(1, sizeof *p);
    when_zone_copy(&p->zone, zone);
    buf_init(&p->text, SF_MAX_CAPTURE_SIZE * 3u);
    buf_init(&p->scratch, SF_MAX_LINE);
    buf_init(&p->para, SF_MAX_LINE);
    return p;
}

void
htmlpage_parser_free(struct sf_htmlpage_parser *p)
{
    if (!p)
        return;
    buf_finish(&p->text);
    buf_finish(&p->scratch);
    buf_finish(&p->para);
    free(p->body);
    free(p);
}

/* ---- tables ------------------------------------------------------------ */

/* What the walks do with an element; tags are sorted for bsearch. */
enum {
    T_BLOCK = 1 << 0,   /* starts and ends a paragraph */
    T_SKIP = 1 << 1,    /* never body text: scripts, forms, media */
    T_CHROME = 1 << 2,  /* the page around the article: not body, no paragraph counts */
    T_NODATE = 1 << 3,  /* a <time> in it dates something else */
};

static const struct tag {
    const char *name;
    unsigned flags;
} tags[] = {
    {"address", T_BLOCK},
    {"article", T_BLOCK},
    {"aside", T_SKIP | T_CHROME | T_NODATE},
    {"audio", T_SKIP},
    {"blockquote", T_BLOCK},
    {"br", T_BLOCK},
    {"button", T_SKIP},
    {"canvas", T_SKIP},
    {"caption", T_BLOCK},
    {"dd", T_BLOCK},
    {"div", T_BLOCK},
    {"dl", T_BLOCK},
    {"dt", T_BLOCK},
    {"embed", T_SKIP},
    {"fieldset", T_BLOCK},
    /* the figure's image is not carried, so neither is its caption, as a
     * capture drops the credit of a picture it lacks */
    {"figure", T_SKIP},
    {"footer", T_SKIP | T_CHROME | T_NODATE},
    {"h1", T_BLOCK},
    {"h2", T_BLOCK},
    {"h3", T_BLOCK},
    {"h4", T_BLOCK},
    {"h5", T_BLOCK},
    {"h6", T_BLOCK},
    /* an article's header holds its title and byline, already fields */
    {"header", T_SKIP | T_CHROME},
    {"hr", T_BLOCK},
    {"iframe", T_SKIP},
    {"img", T_SKIP},
    {"input", T_SKIP},
    {"li", T_BLOCK},
    {"main", T_BLOCK},
    {"map", T_SKIP},
    {"menu", T_SKIP | T_CHROME | T_NODATE},
    {"nav", T_SKIP | T_CHROME | T_NODATE},
    {"noscript", T_SKIP},
    {"object", T_SKIP},
    {"ol", T_BLOCK},
    {"p", T_BLOCK},
    {"pre", T_BLOCK},
    {"script", T_SKIP},
    {"section", T_BLOCK},
    {"select", T_SKIP},
    {"style", T_SKIP},
    {"svg", T_SKIP},
    {"table", T_BLOCK},
    {"td", T_BLOCK},
    {"template", T_SKIP},
    {"textarea", T_SKIP},
    {"th", T_BLOCK},
    {"tr", T_BLOCK},
    {"ul", T_BLOCK},
    {"video", T_SKIP},
};

static int
cmp_name(const void *key, const void *elem)
{
    const struct tag *t = elem;
    return strcmp(key, t->name);
}

static unsigned
tag_flags(const xmlNode *n)
{
    const struct tag *t = bsearch(n->name, tags, SF_ARRAY_LEN(tags), sizeof *tags, cmp_name);
    return t ? t->flags : 0;
}

static bool
is_tag(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The fields a page may give, each from where it came; resolve() picks
 * the most trusted one of each field. */
enum cand {
    C_LD_HEADLINE, C_LD_PUBLISHED, C_LD_MODIFIED, C_LD_AUTHOR, C_LD_PUBLISHER, C_LD_SECTION,
    C_LD_URL,
    C_OG_TITLE, C_OG_PUBLISHED, C_OG_MODIFIED, C_OG_SECTION, C_OG_SITE, C_OG_URL, C_OG_AUTHOR,
    C_META_AUTHOR, C_META_DATE, C_CMS_TITLE, C_CMS_SECTION, C_CMS_SITE, C_CMS_SOURCE,
    C_CANONICAL, C_TIME, C_TITLE,
    C_COUNT
};

/* Where each came from, for messages. */
static const char *const cand_names[C_COUNT] = {
    [C_LD_HEADLINE] = "JSON-LD headline",   [C_LD_PUBLISHED] = "JSON-LD datePublished",
    [C_LD_MODIFIED] = "JSON-LD dateModified", [C_LD_AUTHOR] = "JSON-LD author",
    [C_LD_PUBLISHER] = "JSON-LD publisher", [C_LD_SECTION] = "JSON-LD articleSection",
    [C_LD_URL] = "JSON-LD url",             [C_OG_TITLE] = "og:title",
    [C_OG_PUBLISHED] = "article:published_time",
    [C_OG_MODIFIED] = "article:modified_time", [C_OG_SECTION] = "article:section",
    [C_OG_SITE] = "og:site_name",           [C_OG_URL] = "og:url",
    [C_OG_AUTHOR] = "article:author",       [C_META_AUTHOR] = "<meta name=author>",
    [C_META_DATE] = "<meta name=pubdate>",  [C_CMS_TITLE] = "<meta name=ArticleTitle>",
    [C_CMS_SECTION] = "<meta name=ColumnName>", [C_CMS_SITE] = "<meta name=SiteName>",
    [C_CMS_SOURCE] = "<meta name=ContentSource>", [C_CANONICAL] = "<link rel=canonical>",
    [C_TIME] = "<time>",                    [C_TITLE] = "<title>",
};

/* <meta property|name=...> the page may carry, lower-cased, sorted.
 * ArticleTitle, ColumnName, ContentSource, PubDate and SiteName are what
 * the CMSs of Chinese news and government sites write, trusted below
 * OpenGraph. */
static const struct meta_key {
    const char *name;
    enum cand cand;
} meta_keys[] = {
    {"article:author", C_OG_AUTHOR},
    {"article:modified_time", C_OG_MODIFIED},
    {"article:published_time", C_OG_PUBLISHED},
    {"article:section", C_OG_SECTION},
    {"articletitle", C_CMS_TITLE},
    {"author", C_META_AUTHOR},
    {"columnname", C_CMS_SECTION},
    {"contentsource", C_CMS_SOURCE},
    {"og:site_name", C_OG_SITE},
    {"og:title", C_OG_TITLE},
    {"og:updated_time", C_OG_MODIFIED},
    {"og:url", C_OG_URL},
    {"pubdate", C_META_DATE},
    {"publishdate", C_META_DATE},
    {"sitename", C_CMS_SITE},
};

/* Charset labels (lower-cased, sorted) and the iconv names they mean.
 * As browsers do, GB2312 and GBK are read as their superset GB18030, and
 * Latin-1 as windows-1252.  UTF-16 counts only from a BOM. */
static const struct charset {
    const char *label;
    const char *iconv;
} charsets[] = {
    {"big5", "BIG5-HKSCS"},       {"big5-hkscs", "BIG5-HKSCS"}, {"cp936", "GB18030"},
    {"gb18030", "GB18030"},       {"gb2312", "GB18030"},        {"gb_2312-80", "GB18030"},
    {"gbk", "GB18030"},           {"iso-8859-1", "WINDOWS-1252"}, {"latin1", "WINDOWS-1252"},
    {"us-ascii", "WINDOWS-1252"}, {"utf-16", "UTF-8"},          {"utf-16be", "UTF-8"},
    {"utf-16le", "UTF-8"},        {"utf-8", "UTF-8"},           {"utf8", "UTF-8"},
    {"windows-1252", "WINDOWS-1252"}, {"x-gbk", "GB18030"},
};

/* ---- the walk ---------------------------------------------------------- */

typedef bool (*enter_fn)(void *ctx, xmlNode *n);
typedef void (*leave_fn)(void *ctx, xmlNode *n);

/*
 * Visits root's descendants in document order without recursion (the
 * page chooses the depth): enter() before a node's children, which it
 * may skip by returning false; leave() after them, for nodes entered.
 */
static void
walk(xmlNode *root, enter_fn enter, leave_fn leave, void *ctx)
{
    xmlNode *n = root->children;
    while (n) {
        bool in = enter(ctx, n);
        if (in && n->children) {
            n = n->children;
            continue;
        }
        if (in)
            leave(ctx, n);
        while (n && !n->next) {
            n = n->parent;
            if (!n || n == root)
                n = NULL;
            else
                leave(ctx, n);
        }
        if (n)
            n = n->next;
    }
}

/* An attribute's value, or NULL; free with xmlFree(). */
static char *
attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static bool
attr_is(const xmlNode *n, const char *name, const char *value)
{
    char *v = attr(n, name);
    bool is = v && strcasecmp(v, value) == 0;
    xmlFree(v);
    return is;
}

/* Whether the space-separated list in attribute name holds word. */
static bool
attr_has_word(const xmlNode *n, const char *name, const char *word)
{
    char *v = attr(n, name);
    bool has = false;
    size_t len = strlen(word);
    for (char *p = v; p && *p && !has;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
            p++;
        size_t k = strcspn(p, " \t\n\r\f");
        has = k == len && strncasecmp(p, word, len) == 0;
        p += k;
    }
    xmlFree(v);
    return has;
}

/* ---- decoding ---------------------------------------------------------- */

/* Lower-cases a charset label into buf; NULL when it is too long to be one. */
static const struct charset *
find_charset(const char *label, size_t n)
{
    char buf[32];
    text_trim(&label, &n);
    while (n && (label[0] == '"' || label[0] == '\'')) {
        label++;
        n--;
    }
    while (n && (label[n - 1] == '"' || label[n - 1] == '\'' || label[n - 1] == ';'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return NULL;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(label[i] >= 'A' && label[i] <= 'Z' ? label[i] - 'A' + 'a' : label[i]);
    buf[n] = '\0';
    const char *key = buf;
    return bsearch(key, charsets, SF_ARRAY_LEN(charsets), sizeof *charsets, cmp_name);
}

/* The charset a <meta> names: charset="X", or http-equiv="Content-Type"
 * content="text/html; charset=X".  *label gets what it said. */
struct sniff {
    char label[40];
    bool found;
};

static bool
sniff_enter(void *ctx, xmlNode *n)
{
    struct sniff *s = ctx;
    if (s->found || n->type != XML_ELEMENT_NODE)
        return !s->found;
    if (!is_tag(n, "meta"))
        return true;
    char *v = attr(n, "charset");
    const char *cs = v;
    if (!v && attr_is(n, "http-equiv", "content-type")) {
        v = attr(n, "content");
        for (char *q = v; q && *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        cs = v ? strstr(v, "charset") : NULL;
        if (cs) {
            cs += strlen("charset");
            cs += strspn(cs, " \t");
            cs = *cs == '=' ? cs + 1 : NULL;
        }
    }
    if (cs) {
        size_t k = strcspn(cs, "; \t,");
        if (k == 0 && (*cs == '"' || *cs == '\''))
            k = strcspn(cs + 1, "\"'") + 1;
        if (k >= sizeof s->label)
            k = sizeof s->label - 1;
        memcpy(s->label, cs, k);
        s->label[k] = '\0';
        s->found = true;
    }
    xmlFree(v);
    return false;
}

static void
no_leave(void *ctx, xmlNode *n)
{
}

/* No network, no messages, recover from anything; the encoding is always
 * the one given, never what the page's <meta> says (that is settled
 * before, by decode_page()). */
static const int parse_options = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                 HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC;

/*
 * Finds the charset the start of the page declares.  The markup is read
 * by libxml2, as Latin-1 so that any bytes parse, only to find the
 * <meta>: its value is ASCII whatever the page's charset.
 */
static bool
sniff_charset(const char *data, size_t len, struct sniff *s)
{
    htmlDocPtr doc = htmlReadMemory(data, (int)(len < SNIFF_BYTES ? len : SNIFF_BYTES), NULL,
                                    "ISO-8859-1", parse_options);
    *s = (struct sniff){0};
    if (doc) {
        walk((xmlNode *)doc, sniff_enter, no_leave, s);
        xmlFreeDoc(doc);
    }
    return s->found;
}

static bool
is_utf8(const char *cs)
{
    return strcmp(cs, "UTF-8") == 0;
}

/* Decodes data into *text with charset cs; UTF-8 is only checked. */
static bool
decode_as(struct sf_htmlpage_parser *p, const char *cs, const char *data, size_t len,
          const char **text, size_t *n)
{
    if (is_utf8(cs)) {
        if (!text_utf8_valid(data, len, NULL))
            return false;
        *text = data;
        *n = len;
        return true;
    }
    buf_clear(&p->text);
    if (!text_decode(cs, data, len, &p->text, NULL))
        return false;
    *text = p->text.data ? p->text.data : "";
    *n = p->text.len;
    return true;
}

static bool
has_non_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/*
 * Turns the page's bytes into UTF-8: the BOM, else the configured
 * encoding, else the declared charset, else UTF-8, else GB18030 — the
 * same fallback as captures.  A page declaring another charset whose bytes
 * are valid, non-ASCII UTF-8 was re-saved as UTF-8 and kept its old
 * <meta>: GBK or Big5 text is practically never valid UTF-8, so the bytes
 * win.
 */
static bool
decode_page(struct sf_htmlpage_parser *p, const char *path, const char *data, size_t len,
            enum sf_encoding enc, const char **text, size_t *n, struct sf_error *err,
            struct sf_errors *warn)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *charset;
    } boms[] = {
        {"\xEF\xBB\xBF", 3, "UTF-8"},
        {"\xFF\xFE", 2, "UTF-16LE"},
        {"\xFE\xFF", 2, "UTF-16BE"},
    };
    for (size_t i = 0; i < SF_ARRAY_LEN(boms); i++) {
        if (len >= boms[i].len && memcmp(data, boms[i].bytes, boms[i].len) == 0) {
            if (decode_as(p, boms[i].charset, data + boms[i].len, len - boms[i].len, text, n))
                return true;
            error_set(err, path, 0, 0, "not valid %s, as its byte order mark says",
                      boms[i].charset);
            return false;
        }
    }
    if (enc == SF_ENC_UTF8 || enc == SF_ENC_GB18030) {
        const char *cs = enc == SF_ENC_UTF8 ? "UTF-8" : "GB18030";
        if (decode_as(p, cs, data, len, text, n))
            return true;
        error_set(err, path, 0, 0, "not valid %s", enc == SF_ENC_UTF8 ? "UTF-8" : "GB18030");
        return false;
    }

    const char *order[3];
    size_t n_order = 0;
    struct sniff s;
    const struct charset *declared = NULL;
    if (sniff_charset(data, len, &s)) {
        declared = find_charset(s.label, strlen(s.label));
        if (!declared)
            errors_add(warn, path, 0, 0, "warning: unknown charset '%s'; read as UTF-8 or "
                       "GB18030", s.label);
    }
    if (declared && !is_utf8(declared->iconv) &&
        !(has_non_ascii(data, len) && text_utf8_valid(data, len, NULL)))
        order[n_order++] = declared->iconv;
    order[n_order++] = "UTF-8";
    if (!declared || strcmp(declared->iconv, "GB18030") != 0 || n_order == 1)
        order[n_order++] = "GB18030";
    for (size_t i = 0; i < n_order; i++) {
        if (!decode_as(p, order[i], data, len, text, n))
            continue;
        if (declared && strcmp(order[i], declared->iconv) != 0)
            errors_add(warn, path, 0, 0, "warning: declares charset %s but is not; read as %s",
                       s.label, order[i]);
        return true;
    }
    if (declared && !is_utf8(declared->iconv))
        error_set(err, path, 0, 0, "neither %s (as declared) nor UTF-8 nor GB18030", s.label);
    else
        error_set(err, path, 0, 0, "neither UTF-8 nor GB18030");
    return false;
}

/* ---- reading the fields -------------------------------------------------- */

/* The elements that say they hold the article. */
enum block_kind { B_ARTICLEBODY, B_ARTICLE, B_MAIN, B_COUNT };

struct page {
    struct sf_htmlpage_parser *p;
    const struct sf_htmlpage_opts *opts;
    const char *path;
    struct sf_errors *warn;
    struct sf_record *r;

    const char *cand[C_COUNT];      /* cleaned, in the record's arena */
    unsigned cand_line[C_COUNT];

    /* the scan for the article's block */
    int chrome;                     /* depth inside nav/header/footer/aside/menu */
    int nodate;                     /* depth inside those that date other things */
    int structural;                 /* depth inside article/main/articleBody */
    xmlNode *open[B_COUNT];         /* the outermost open articleBody, article, main */
    size_t open_count[B_COUNT];     /* the text in each so far */
    xmlNode *best[B_COUNT];         /* the first articleBody, the article with the most
                                     * text, the first main */
    size_t best_count[B_COUNT];
    xmlNode *best_parent;           /* the block with the most text of its own */
    xmlNode *body_el;
    bool time_in_article;           /* C_TIME came from inside an article */

    /* the body */
    bool para_cut;                  /* the paragraph being gathered was cut */
    bool cut_warned, body_full;
};

/* How many characters of text a block holds as its own (its text and
 * its paragraphs', not its child blocks') lives in the node's application
 * pointer, unused otherwise. */
static size_t
count_of(const xmlNode *n)
{
    return n ? (size_t)(uintptr_t)n->_private : 0;
}

static void
count_add(xmlNode *n, size_t k)
{
    n->_private = (void *)(uintptr_t)(count_of(n) + k);
}

/* Cleans s into the record as candidate c, unless one is there already. */
static void
set_cand(struct page *pg, enum cand c, const char *s, size_t n, enum sf_clean how, unsigned line)
{
    if (pg->cand[c] || !s)
        return;
    struct sf_buf *b = &pg->p->scratch;
    buf_clear(b);
    size_t len = text_clean_field(s, n, how, b, NULL);
    if (len) {
        pg->cand[c] = record_strdup(pg->r, b->data, len);
        pg->cand_line[c] = line;
    }
}

static void
set_cand_str(struct page *pg, enum cand c, const char *s, enum sf_clean how, unsigned line)
{
    if (s)
        set_cand(pg, c, s, strlen(s), how, line);
}

static unsigned
line_of_node(const xmlNode *n)
{
    long l = xmlGetLineNo(n);
    return l > 0 && l < (long)UINT32_MAX ? (unsigned)l : 0;
}

/* Trims blanks and line breaks at both ends. */
static void
trim_space(const char **s, size_t *n)
{
    size_t before;
    do {
        before = *n;
        text_trim(s, n);
        while (*n && ((*s)[0] == '\n' || (*s)[0] == '\f')) {
            (*s)++;
            (*n)--;
        }
        while (*n && ((*s)[*n - 1] == '\n' || (*s)[*n - 1] == '\f'))
            (*n)--;
    } while (*n != before);
}

/* A JSON-LD script: its article's fields, as candidates. */
static void
read_jsonld(struct page *pg, xmlNode *n)
{
    char *text = (char *)xmlNodeGetContent(n);
    if (!text)
        return;
    /* Old pages wrap scripts in comment or CDATA markers for browsers
     * that predate them. */
    static const char *const wrappers[][2] = {{"<!--", "-->"}, {"//<![CDATA[", "//]]>"},
                                              {"<![CDATA[", "]]>"}};
    const char *s = text;
    size_t len = strlen(text);
    trim_space(&s, &len);
    for (size_t i = 0; i < SF_ARRAY_LEN(wrappers); i++) {
        size_t a = strlen(wrappers[i][0]), b = strlen(wrappers[i][1]);
        if (len >= a + b && memcmp(s, wrappers[i][0], a) == 0 &&
            memcmp(s + len - b, wrappers[i][1], b) == 0) {
            s += a;
            len -= a + b;
            trim_space(&s, &len);
        }
    }
    struct sf_jsonld ld = {0};
    struct sf_error err = {0};
    unsigned line = line_of_node(n);
    if (!record_jsonld_article(s, len, &ld, &err)) {
        errors_add(pg->warn, pg->path, line, 0, "warning: JSON-LD is not valid JSON (%u:%u: %s); "
                   "ignored", err.line, err.col, err.msg);
    } else {
        set_cand_str(pg, C_LD_HEADLINE, ld.headline, SF_CLEAN_HTML, line);
        set_cand_str(pg, C_LD_PUBLISHED, ld.published, SF_CLEAN_VALUE, line);
        set_cand_str(pg, C_LD_MODIFIED, ld.modified, SF_CLEAN_VALUE, line);
        set_cand_str(pg, C_LD_AUTHOR, ld.author, SF_CLEAN_VALUE, line);
        set_cand_str(pg, C_LD_PUBLISHER, ld.publisher, SF_CLEAN_VALUE, line);
        set_cand_str(pg, C_LD_SECTION, ld.section, SF_CLEAN_VALUE, line);
        set_cand_str(pg, C_LD_URL, ld.url, SF_CLEAN_VALUE, line);
    }
    record_jsonld_finish(&ld);
    error_finish(&err);
    xmlFree(text);
}

static void
read_meta(struct page *pg, xmlNode *n)
{
    static const char *const keys[] = {"property", "name"};
    char *content = attr(n, "content");
    for (size_t i = 0; content && i < SF_ARRAY_LEN(keys); i++) {
        char *k = attr(n, keys[i]);
        if (!k)
            continue;
        for (char *q = k; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        const struct meta_key *m =
            bsearch(k, meta_keys, SF_ARRAY_LEN(meta_keys), sizeof *meta_keys, cmp_name);
        enum sf_clean how =
            m && (m->cand == C_OG_TITLE || m->cand == C_CMS_TITLE) ? SF_CLEAN_HTML : SF_CLEAN_VALUE;
        if (m)
            set_cand_str(pg, m->cand, content, how, line_of_node(n));
        xmlFree(k);
    }
    xmlFree(content);
}

/* A <time>: its datetime, else its text, when that is a time. */
static void
read_time(struct page *pg, xmlNode *n)
{
    bool in_article = pg->structural > 0;
    if (pg->nodate || (pg->cand[C_TIME] && (pg->time_in_article || !in_article)))
        return;
    char *v = attr(n, "datetime");
    if (!v)
        v = (char *)xmlNodeGetContent(n);
    struct sf_time t;
    if (v) {
        const char *s = v;
        size_t len = strlen(v);
        text_trim(&s, &len);
        if (when_parse(&pg->p->zone, s, len, &t)) {
            pg->cand[C_TIME] = NULL;   /* one inside the article beats one outside */
            set_cand(pg, C_TIME, s, len, SF_CLEAN_VALUE, line_of_node(n));
            pg->time_in_article = in_article;
        }
    }
    xmlFree(v);
}

/*
 * Counts a text node's characters (blanks aside) for the block it is the
 * text of: the nearest block around it, or, for a paragraph or list item,
 * the block holding it (the article's paragraphs are siblings).  The
 * search up is bounded, so a page nesting thousands of inline elements
 * costs no more than one nesting a few.
 */
static void
count_text(struct page *pg, xmlNode *text)
{
    size_t len = 0;
    for (const unsigned char *c = text->content; *c; c++)
        len += *c > ' ' && (*c & 0xC0) != 0x80;
    if (!len)
        return;
    xmlNode *b = text->parent;
    for (int up = 0; b && b->type == XML_ELEMENT_NODE && up < 64; up++, b = b->parent)
        if (tag_flags(b) & T_BLOCK)
            break;
    if (!b || b->type != XML_ELEMENT_NODE)
        return;
    if ((is_tag(b, "p") || is_tag(b, "li")) && b->parent && b->parent->type == XML_ELEMENT_NODE)
        b = b->parent;
    count_add(b, len);
    if (count_of(b) > count_of(pg->best_parent))
        pg->best_parent = b;
    for (size_t k = 0; k < SF_ARRAY_LEN(pg->open); k++)
        if (pg->open[k])
            pg->open_count[k] += len;
}

/* The first walk: every field, and the counts that choose the block. */
static bool
scan_enter(void *ctx, xmlNode *n)
{
    struct page *pg = ctx;
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (!pg->chrome && n->content)
            count_text(pg, n);
        return false;
    }
    if (n->type != XML_ELEMENT_NODE)
        return false;
    const char *name = (const char *)n->name;
    unsigned flags = tag_flags(n);
    if (strcmp(name, "script") == 0) {
        if (attr_is(n, "type", "application/ld+json"))
            read_jsonld(pg, n);
        return false;
    }
    if (strcmp(name, "meta") == 0)
        read_meta(pg, n);
    else if (strcmp(name, "link") == 0 && attr_has_word(n, "rel", "canonical")) {
        char *href = attr(n, "href");
        set_cand_str(pg, C_CANONICAL, href, SF_CLEAN_VALUE, line_of_node(n));
        xmlFree(href);
    } else if (strcmp(name, "title") == 0 && !pg->cand[C_TITLE]) {
        char *t = (char *)xmlNodeGetContent(n);
        set_cand_str(pg, C_TITLE, t, SF_CLEAN_HTML, line_of_node(n));
        xmlFree(t);
        return false;
    } else if (strcmp(name, "time") == 0) {
        read_time(pg, n);
    } else if (strcmp(name, "body") == 0 && !pg->body_el) {
        pg->body_el = n;
    }
    if ((flags & T_SKIP) && !(flags & T_CHROME))
        return false;
    pg->chrome += (flags & T_CHROME) != 0;
    pg->nodate += (flags & T_NODATE) != 0;

    int kind = -1;
    if (strcmp(name, "article") == 0)
        kind = B_ARTICLE;
    else if (strcmp(name, "main") == 0)
        kind = B_MAIN;
    else if (attr_has_word(n, "itemprop", "articleBody"))
        kind = B_ARTICLEBODY;
    if (kind >= 0) {
        pg->structural++;
        if (!pg->open[kind]) {
            pg->open[kind] = n;
            pg->open_count[kind] = 0;
        }
    }
    return true;
}

static void
scan_leave(void *ctx, xmlNode *n)
{
    struct page *pg = ctx;
    if (n->type != XML_ELEMENT_NODE)
        return;
    unsigned flags = tag_flags(n);
    pg->chrome -= (flags & T_CHROME) != 0;
    pg->nodate -= (flags & T_NODATE) != 0;
    for (size_t k = 0; k < SF_ARRAY_LEN(pg->open); k++) {
        if (pg->open[k] != n)
            continue;
        pg->open[k] = NULL;
        /* the first of a kind, but the article with the most text */
        if (!pg->best[k] || (k == B_ARTICLE && pg->open_count[k] > pg->best_count[k])) {
            pg->best[k] = n;
            pg->best_count[k] = pg->open_count[k];
        }
    }
    bool structural = is_tag(n, "article") || is_tag(n, "main") ||
                      attr_has_word(n, "itemprop", "articleBody");
    pg->structural -= structural;
}

/*
 * The article's block: its articleBody; its <article> or <main> when that
 * holds at least as much text as the block with the most text of its own
 * (an <article> may be a teaser in a side column), else that block, else
 * the page's <body>.
 */
static xmlNode *
choose_block(struct page *pg, xmlNode *root)
{
    if (pg->best[B_ARTICLEBODY])
        return pg->best[B_ARTICLEBODY];   /* says exactly what it is */
    int k = pg->best[B_ARTICLE] ? B_ARTICLE : B_MAIN;
    if (pg->best[k] && pg->best_count[k] >= count_of(pg->best_parent))
        return pg->best[k];
    if (pg->best_parent)
        return pg->best_parent;
    return pg->body_el ? pg->body_el : root;
}

/* ---- the body ------------------------------------------------------------ */

static void
flush_para(struct page *pg)
{
    struct sf_htmlpage_parser *p = pg->p;
    if (!p->para.len)
        return;
    struct sf_buf *b = &p->scratch;
    buf_clear(b);
    bool cut;
    size_t len = text_clean_field(p->para.data, p->para.len, SF_CLEAN_HTML, b, &cut);
    buf_clear(&p->para);
    if ((cut || pg->para_cut) && !pg->cut_warned) {
        errors_add(pg->warn, pg->path, 0, 0, "warning: paragraph longer than %u bytes; cut",
                   SF_MAX_LINE);
        pg->cut_warned = true;
    }
    pg->para_cut = false;
    if (!len)
        return;
    struct sf_record *r = pg->r;
    /* the headline again, or an image's alt text (as in captures) */
    if (r->title && strcmp(b->data, r->title) == 0)
        return;
    if (r->n_body == SF_MAX_PARAGRAPHS) {
        if (!pg->body_full)
            errors_add(pg->warn, pg->path, 0, 0,
                       "warning: more than %d paragraphs; the rest dropped", SF_MAX_PARAGRAPHS);
        pg->body_full = true;
        return;
    }
    if (r->n_body == p->body_cap) {
        p->body_cap = p->body_cap ? p->body_cap * 2 : 32;
        p->body = xreallocarray(p->body, p->body_cap, sizeof *p->body);
    }
    p->body[r->n_body++] = record_strdup(r, b->data, len);
}

/* Adds text to the paragraph; what passes its limit is cut at a
 * character boundary, and flush_para() warns. */
static void
para_append(struct page *pg, const char *s)
{
    struct sf_buf *b = &pg->p->para;
    size_t n = strlen(s);
    if (n > b->limit - b->len) {
        n = b->limit - b->len;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        pg->para_cut = true;
    }
    buf_append(b, s, n);
}

static bool
body_enter(void *ctx, xmlNode *n)
{
    struct page *pg = ctx;
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content)
            para_append(pg, (const char *)n->content);
        return false;
    }
    if (n->type != XML_ELEMENT_NODE)
        return false;   /* comments, processing instructions */
    unsigned flags = tag_flags(n);
    if (flags & T_SKIP)
        return false;
    if (xmlHasProp(n, (const xmlChar *)"hidden") || attr_is(n, "aria-hidden", "true"))
        return false;
    if (flags & T_BLOCK)
        flush_para(pg);
    return true;
}

static void
body_leave(void *ctx, xmlNode *n)
{
    struct page *pg = ctx;
    if (n->type == XML_ELEMENT_NODE && (tag_flags(n) & T_BLOCK))
        flush_para(pg);
}

/* ---- the record ------------------------------------------------------------ */

/* The first candidate of list that is set, or -1. */
static int
first_of(const struct page *pg, const enum cand *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pg->cand[list[i]])
            return (int)list[i];
    return -1;
}

/* A page title usually ends with the site's name ("标题_新华网",
 * "Title - Site"): cut it off when the site is known. */
static const char *
strip_site(struct page *pg, const char *title, const char *site)
{
    static const char *const seps[] = {"_", "-", "|", "–", "—", "－", "｜", "·", "：", ":"};
    size_t tn = strlen(title), sn = site ? strlen(site) : 0;
    if (!sn || tn <= sn || strcmp(title + tn - sn, site) != 0)
        return title;
    const char *s = title;
    size_t n = tn - sn;
    text_trim(&s, &n);
    for (size_t i = 0; i < SF_ARRAY_LEN(seps); i++) {
        size_t k = strlen(seps[i]);
        if (n > k && memcmp(s + n - k, seps[i], k) == 0) {
            n -= k;
            text_trim(&s, &n);
            return n ? record_strdup(pg->r, s, n) : title;
        }
    }
    return title;
}

static const char *
take_url(struct page *pg)
{
    static const enum cand order[] = {C_LD_URL, C_OG_URL, C_CANONICAL};
    struct sf_buf *b = &pg->p->scratch;
    for (size_t i = 0; i < SF_ARRAY_LEN(order); i++) {
        const char *u = pg->cand[order[i]];
        if (!u)
            continue;
        buf_clear(b);
        if (url_normalize(u, strlen(u), b))
            return record_strdup(pg->r, b->data, b->len);
        errors_add(pg->warn, pg->path, pg->cand_line[order[i]], 0,
                   "warning: %s '%s' is not an absolute http(s) URL; ignored",
                   cand_names[order[i]], u);
    }
    return NULL;
}

/* The publication time, by trust; the modification time when there is no
 * other; false when the page has neither. */
static bool
take_published(struct page *pg, struct sf_error *err)
{
    static const enum cand order[] = {C_LD_PUBLISHED, C_OG_PUBLISHED, C_TIME, C_META_DATE,
                                      C_LD_MODIFIED, C_OG_MODIFIED};
    struct sf_record *r = pg->r;
    for (size_t i = 0; i < SF_ARRAY_LEN(order); i++) {
        enum cand c = order[i];
        const char *v = pg->cand[c];
        if (!v)
            continue;
        if (!when_parse(&pg->p->zone, v, strlen(v), &r->published)) {
            errors_add(pg->warn, pg->path, pg->cand_line[c], 0,
                       "warning: %s '%s' is not a valid time", cand_names[c], v);
            continue;
        }
        when_localize(&pg->p->zone, &r->published);
        if (c == C_LD_MODIFIED || c == C_OG_MODIFIED)
            errors_add(pg->warn, pg->path, pg->cand_line[c], 0,
                       "warning: no publication date; using %s", cand_names[c]);
        return true;
    }
    r->published.set = false;
    error_set(err, pg->path, 0, 0, "no date: no datePublished, article:published_time, "
              "<time> or pubdate");
    return false;
}

static bool
resolve(struct page *pg, struct sf_error *err)
{
    struct sf_record *r = pg->r;
    /* source: the site the page was saved from; via: the original
     * publisher, when the page names one that is not the site. */
    static const enum cand site_order[] = {C_OG_SITE, C_LD_PUBLISHER, C_CMS_SITE};
    int site = first_of(pg, site_order, SF_ARRAY_LEN(site_order));
    r->source = site >= 0 ? pg->cand[site] : NULL;
    static const enum cand via_order[] = {C_LD_PUBLISHER, C_CMS_SOURCE};
    for (size_t i = 0; i < SF_ARRAY_LEN(via_order) && !r->via; i++) {
        const char *v = pg->cand[via_order[i]];
        if (v && (!r->source || strcmp(v, r->source) != 0))
            r->via = v;
    }

    static const enum cand title_order[] = {C_LD_HEADLINE, C_OG_TITLE, C_CMS_TITLE, C_TITLE};
    int t = first_of(pg, title_order, SF_ARRAY_LEN(title_order));
    const char *title = t >= 0 ? pg->cand[t] : NULL;
    if (!title) {
        error_set(err, pg->path, 0, 0, "no title: no JSON-LD headline, og:title or <title>");
        return false;
    }
    r->title = t == C_TITLE ? strip_site(pg, title, r->source) : title;
    r->line = pg->cand_line[t] ? pg->cand_line[t] : 1;
    if (!take_published(pg, err))
        return false;

    static const enum cand section_order[] = {C_LD_SECTION, C_OG_SECTION, C_CMS_SECTION};
    int sec = first_of(pg, section_order, SF_ARRAY_LEN(section_order));
    const char *cat = sec >= 0 ? pg->cand[sec] : pg->opts->default_category;
    if (strlen(cat) > SF_MAX_CATEGORY) {
        cat = record_strdup(r, cat, text_cut(cat, strlen(cat), SF_MAX_CATEGORY));
        errors_add(pg->warn, pg->path, sec >= 0 ? pg->cand_line[sec] : 0, 0,
                   "warning: category longer than %d bytes; cut", SF_MAX_CATEGORY);
    }
    r->category = sec >= 0 ? cat : record_strdup(r, cat, strlen(cat));

    /* article:author is often a profile URL, not a name */
    static const enum cand author_order[] = {C_LD_AUTHOR, C_META_AUTHOR, C_OG_AUTHOR};
    int a = first_of(pg, author_order, SF_ARRAY_LEN(author_order));
    if (a == C_OG_AUTHOR && strstr(pg->cand[a], "://"))
        a = -1;
    r->author = a >= 0 ? pg->cand[a] : NULL;
    r->url = take_url(pg);
    return true;
}

static unsigned
count_lines(const char *data, size_t off)
{
    unsigned line = 1;
    for (const char *q = data; (q = memchr(q, '\n', (size_t)(data + off - q))) != NULL; q++)
        line++;
    return line;
}

struct sf_record *
htmlpage_parse(struct sf_htmlpage_parser *p, const char *path, const char *data, size_t len,
               const struct sf_htmlpage_opts *opts, struct sf_error *err, struct sf_errors *warn)
{
    struct page pg = {.p = p, .opts = opts, .path = path, .warn = warn};
    htmlDocPtr doc = NULL;
    const char *text;
    size_t n;

    if (len > SF_MAX_CAPTURE_SIZE) {
        error_set(err, path, 0, 0, "larger than the %u MiB capture limit",
                  SF_MAX_CAPTURE_SIZE >> 20);
        return NULL;
    }
    if (!decode_page(p, path, data, len, opts->encoding, &text, &n, err, warn))
        return NULL;
    /* after decoding: UTF-16 is full of NUL bytes */
    const char *nul = memchr(text, '\0', n);
    if (nul) {
        error_set(err, path, count_lines(text, (size_t)(nul - text)), 0,
                  "binary data (NUL byte)");
        return NULL;
    }
    /* Controls XML cannot hold go before libxml2 sees them.  text may
     * be in p->text: the clean copy is made beside it, then takes its
     * place. */
    if (text_needs_clean(text, n, true)) {
        struct sf_buf out;
        buf_init(&out, p->text.limit);
        char *dst = buf_reserve(&out, n);   /* n came within the limit */
        buf_commit(&out, text_copy_clean(dst, text, n, true));
        buf_finish(&p->text);
        p->text = out;
        text = p->text.data;
        n = p->text.len;
    }
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        n -= 3;
    }
    const char *t = text;
    size_t tn = n;
    trim_space(&t, &tn);
    if (!tn) {
        error_set(err, path, 0, 0, "empty file");
        return NULL;
    }

    doc = htmlReadMemory(text, (int)n, NULL, "UTF-8", parse_options);
    if (!doc) {
        error_set(err, path, 0, 0, "cannot be read as HTML");
        return NULL;
    }
    pg.r = record_new();
    walk((xmlNode *)doc, scan_enter, scan_leave, &pg);
    if (!resolve(&pg, err))
        goto fail;

    xmlNode *block = choose_block(&pg, (xmlNode *)doc);
    buf_clear(&p->para);
    bool element = block->type == XML_ELEMENT_NODE;
    if (!element || body_enter(&pg, block)) {
        walk(block, body_enter, body_leave, &pg);
        if (element)
            body_leave(&pg, block);
    }
    flush_para(&pg);
    struct sf_record *r = pg.r;
    if (r->n_body) {
        r->body = record_alloc(r, r->n_body * sizeof *r->body);
        memcpy(r->body, p->body, r->n_body * sizeof *r->body);
    }
    r->file = record_strdup(r, path, strlen(path));
    record_derive_id(r, opts->site_host);
    xmlFreeDoc(doc);
    return r;
fail:
    xmlFreeDoc(doc);
    record_free(pg.r);
    return NULL;
}
