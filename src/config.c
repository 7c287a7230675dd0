/* SPDX-License-Identifier: MIT */
/* config.c - feeds.yaml -> struct sf_config, with every check */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "limits.h"
#include "slug.h"
#include "text.h"
#include "url.h"
#include "when.h"

/*
 * libyaml's events are first built into a small tree, bounded in depth and
 * size, with aliases refused (no alias bombs), then the tree is checked
 * against tables of keys.  Every problem is reported with its line and
 * column, and checking goes on, so one run shows them all.
 */

const char *const config_input_format_names[SF_INPUT_COUNT] = {
    [SF_INPUT_SNAPSHOT] = "snapshot",
    [SF_INPUT_JSONL] = "jsonl",
    [SF_INPUT_HTML] = "html",
};

const char *const config_feed_format_names[SF_FEED_COUNT] = {
    [SF_FEED_RSS] = "rss",
    [SF_FEED_ATOM] = "atom",
    [SF_FEED_JSON] = "json",
};

static const char *const encoding_names[SF_ENC_COUNT] = {
    [SF_ENC_AUTO] = "auto",
    [SF_ENC_UTF8] = "utf-8",
    [SF_ENC_GB18030] = "gb18030",
};

static const char *const default_globs[SF_INPUT_COUNT] = {
    [SF_INPUT_SNAPSHOT] = "*.txt",
    [SF_INPUT_JSONL] = "*.jsonl",
    [SF_INPUT_HTML] = "*.html",
};

#define DEFAULT_LANGUAGE "zh-CN"
#define DEFAULT_TIMEZONE "Asia/Shanghai"
#define DEFAULT_CATEGORY "未分类"
#define DEFAULT_OUTPUT_DIR "public"
#define DEFAULT_STATE_DIR ".snapfeed"
#define DEFAULT_MAX_ITEMS 50
#define DEFAULT_HUB_TIMEOUT 10.0
#define DEFAULT_HUB_RETRIES 2

/* ---- the tree --------------------------------------------------------- */

enum node_type { N_SCALAR, N_MAP, N_SEQ };

struct node {
    enum node_type type;
    unsigned line, col;
    bool quoted;            /* a quoted scalar is never null */
    char *value;            /* scalars */
    size_t len;
    struct node **kids;     /* maps: key, value, key, value, ... */
    size_t n, cap;
};

static void
node_free(struct node *n)
{
    if (!n)
        return;
    /* Iterative: the tree is shallow by construction, but free must never
     * recurse on input-controlled depth either. */
    struct node **stack = xmalloc(sizeof *stack * 16);
    size_t top = 0, cap = 16;
    stack[top++] = n;
    while (top) {
        struct node *x = stack[--top];
        for (size_t i = 0; i < x->n; i++) {
            if (top == cap) {
                cap *= 2;
                stack = xreallocarray(stack, cap, sizeof *stack);
            }
            stack[top++] = x->kids[i];
        }
        free(x->kids);
        free(x->value);
        free(x);
    }
    free(stack);
}

static void
node_add(struct node *parent, struct node *kid)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 8;
        parent->kids = xreallocarray(parent->kids, parent->cap, sizeof *parent->kids);
    }
    parent->kids[parent->n++] = kid;
}

/* Builds the tree of the single document in data; NULL with errs filled. */
static struct node *
parse_tree(const char *data, size_t len, const char *path, struct sf_errors *errs)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct node *root = NULL, *stack[SF_MAX_CONFIG_DEPTH + 1];
    size_t depth = 0, nodes = 0, docs = 0;
    bool done = false, ok = false;

    /* libyaml has no allocator hook: its failing to allocate is routed to
     * the program's policy (util.h) here, not reported as bad YAML. */
    if (!yaml_parser_initialize(&parser))
        util_out_of_memory(0);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR)
                util_out_of_memory(0);
            errors_add(errs, path, (unsigned)parser.problem_mark.line + 1,
                       (unsigned)parser.problem_mark.column + 1, "invalid YAML: %s",
                       parser.problem ? parser.problem : "syntax error");
            goto out;
        }
        unsigned line = (unsigned)ev.start_mark.line + 1, col = (unsigned)ev.start_mark.column + 1;
        struct node *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                errors_add(errs, path, line, col, "only one YAML document is allowed");
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_ALIAS_EVENT:
            errors_add(errs, path, line, col, "YAML aliases are not allowed");
            yaml_event_delete(&ev);
            goto out;
        case YAML_SCALAR_EVENT:
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (++nodes > SF_MAX_CONFIG_NODES) {
                errors_add(errs, path, line, col, "more than %d values", SF_MAX_CONFIG_NODES);
                yaml_event_delete(&ev);
                goto out;
            }
            n = xcalloc(1, sizeof *n);
            n->line = line;
            n->col = col;
            if (ev.type == YAML_SCALAR_EVENT) {
                n->type = N_SCALAR;
                n->len = ev.data.scalar.length;
                n->value = xstrndup((const char *)ev.data.scalar.value, n->len);
                n->quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            } else {
                n->type = ev.type == YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ;
            }
            if (depth)
                node_add(stack[depth - 1], n);
            else if (!root)
                root = n;
            else
                node_free(n);   /* cannot happen: one document, one root */
            if (n->type != N_SCALAR) {
                if (depth == SF_MAX_CONFIG_DEPTH) {
                    errors_add(errs, path, line, col, "nested deeper than %d levels",
                               SF_MAX_CONFIG_DEPTH);
                    yaml_event_delete(&ev);
                    goto out;
                }
                stack[depth++] = n;
            }
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (depth)
                depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    if (!root)
        errors_add(errs, path, 0, 0, "the configuration is empty");
    else
        ok = true;
out:
    yaml_parser_delete(&parser);
    if (!ok) {
        node_free(root);
        return NULL;
    }
    return root;
}

/* ---- checking --------------------------------------------------------- */

struct loader {
    const char *path;
    struct sf_errors *errs;
    struct sf_config *c;
};

SF_PRINTF(3, 4) static void
fail(struct loader *l, const struct node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errors_add(l->errs, l->path, n ? n->line : 0, n ? n->col : 0, "%s", msg);
}

static bool
is_null(const struct node *n)
{
    return n->type == N_SCALAR && !n->quoted &&
           (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0);
}

static const char *
type_name(const struct node *n)
{
    return n->type == N_MAP ? "a mapping" : n->type == N_SEQ ? "a list" : "a scalar";
}

/* A non-empty string without NUL bytes. */
static bool
get_string(struct loader *l, const struct node *n, const char *key, char **out)
{
    /* A quoted "" is no null, but no value either. */
    bool empty = n->type == N_SCALAR && (is_null(n) || n->len == 0);
    if (n->type != N_SCALAR || empty) {
        fail(l, n, "%s must be a string, not %s", key, empty ? "empty" : type_name(n));
        return false;
    }
    if (strlen(n->value) != n->len) {
        fail(l, n, "%s must not contain NUL bytes", key);
        return false;
    }
    /* These strings end up in XML, which cannot hold control characters. */
    if (text_needs_clean(n->value, n->len, false)) {
        fail(l, n, "%s must not contain control characters", key);
        return false;
    }
    free(*out);
    *out = xstrdup(n->value);
    return true;
}

static bool
get_bool(struct loader *l, const struct node *n, const char *key, bool *out)
{
    if (n->type == N_SCALAR && !n->quoted) {
        if (strcmp(n->value, "true") == 0 || strcmp(n->value, "yes") == 0) {
            *out = true;
            return true;
        }
        if (strcmp(n->value, "false") == 0 || strcmp(n->value, "no") == 0) {
            *out = false;
            return true;
        }
    }
    fail(l, n, "%s must be true or false", key);
    return false;
}

static bool
get_uint(struct loader *l, const struct node *n, const char *key, unsigned min, unsigned max,
         unsigned *out)
{
    if (n->type != N_SCALAR || n->quoted || n->len == 0 || n->len > 20) {
        fail(l, n, "%s must be a whole number", key);
        return false;
    }
    const char *s = n->value;
    bool neg = s[0] == '-';
    if (neg || s[0] == '+')
        s++;
    if (!*s || strspn(s, "0123456789") != strlen(s)) {
        fail(l, n, "%s must be a whole number", key);
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (neg && v) {
        fail(l, n, "%s must not be negative", key);
        return false;
    }
    if (errno || v < min || v > max) {
        fail(l, n, "%s must be between %u and %u", key, min, max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool
get_seconds(struct loader *l, const struct node *n, const char *key, double *out)
{
    char *end = NULL;
    double v = 0;
    if (n->type == N_SCALAR && !n->quoted && n->len) {
        errno = 0;
        v = strtod(n->value, &end);
    }
    if (!end || *end || errno || !isfinite(v) || v <= 0 || v > 3600) {
        fail(l, n, "%s must be a number of seconds between 0 and 3600", key);
        return false;
    }
    *out = v;
    return true;
}

static bool
get_enum(struct loader *l, const struct node *n, const char *key, const char *const *names,
         size_t count, int *out)
{
    if (n->type == N_SCALAR)
        for (size_t i = 0; i < count; i++)
            if (names[i] && strcmp(n->value, names[i]) == 0) {
                *out = (int)i;
                return true;
            }
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof list - used)
            break;
        used += (size_t)w;
    }
    fail(l, n, "%s must be one of: %s", key, list);
    return false;
}

/* A key table: the keys a mapping may hold.  Handlers check the value. */
struct key_spec {
    const char *name;
    bool required;
    void (*handle)(struct loader *l, const struct node *value, void *target);
};

static void
check_map(struct loader *l, const struct node *n, const char *where,
          const struct key_spec *keys, size_t n_keys, void *target)
{
    if (n->type != N_MAP) {
        fail(l, n, "%s must be a mapping, not %s", where, type_name(n));
        return;
    }
    bool seen[16] = {0};
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const struct node *k = n->kids[i], *v = n->kids[i + 1];
        size_t j = 0;
        if (k->type == N_SCALAR)
            while (j < n_keys && strcmp(keys[j].name, k->value) != 0)
                j++;
        if (k->type != N_SCALAR || j == n_keys) {
            fail(l, k, "unknown key '%s' in %s", k->type == N_SCALAR ? k->value : "?", where);
            continue;
        }
        if (seen[j]) {
            fail(l, k, "duplicate key '%s' in %s", keys[j].name, where);
            continue;
        }
        seen[j] = true;
        keys[j].handle(l, v, target);
    }
    for (size_t j = 0; j < n_keys; j++)
        if (keys[j].required && !seen[j])
            fail(l, n, "missing required key '%s' in %s", keys[j].name, where);
}

/* ---- site ------------------------------------------------------------- */

#define STRING_KEY(fn, field, label)                                        \
    static void fn(struct loader *l, const struct node *v, void *t)         \
    {                                                                       \
        (void)t;                                                            \
        get_string(l, v, label, &l->c->field);                             \
    }

STRING_KEY(site_title, site.title, "site.title")
STRING_KEY(site_language, site.language, "site.language")
STRING_KEY(site_description, site.description, "site.description")
STRING_KEY(site_author, site.author, "site.author")

static void
site_base_url(struct loader *l, const struct node *v, void *t)
{
    char *s = NULL;
    if (!get_string(l, v, "site.base_url", &s))
        return;
    struct sf_buf b;
    buf_init(&b, 0);
    if (!url_normalize(s, strlen(s), &b)) {
        fail(l, v, "site.base_url must be an absolute http or https URL, not '%s'", s);
    } else if (b.len + (b.data[b.len - 1] != '/') > SF_MAX_URL) {
        fail(l, v, "site.base_url is longer than %u bytes, percent-encoded", SF_MAX_URL);
    } else {
        /* Feed URLs are made by appending to it. */
        char *q = strpbrk(b.data, "?#");
        struct sf_buf h;
        buf_init(&h, 0);
        if (q) {
            fail(l, v, "site.base_url must not have a query or fragment");
        } else if (!url_host(b.data, &h)) {
            /* ids and the tag: URIs take it (docs/record.md) */
            fail(l, v, "site.base_url must name a host, not '%s'", s);
        } else {
            if (b.data[b.len - 1] != '/')
                buf_append_char(&b, '/');
            free(l->c->site.base_url);
            l->c->site.base_url = buf_steal(&b, NULL);
            free(l->c->site.host);
            l->c->site.host = buf_steal(&h, NULL);
        }
        buf_finish(&h);
    }
    buf_finish(&b);
    free(s);
}

static void
site_timezone(struct loader *l, const struct node *v, void *t)
{
    char *s = NULL;
    if (!get_string(l, v, "site.timezone", &s))
        return;
    if (!when_zone_valid(s)) {
        fail(l, v, "unknown timezone '%s' (an IANA name such as Asia/Shanghai)", s);
        free(s);
        return;
    }
    free(l->c->site.timezone);
    l->c->site.timezone = s;
}

static const struct key_spec site_keys[] = {
    {"title", true, site_title},
    {"base_url", true, site_base_url},
    {"language", false, site_language},
    {"timezone", false, site_timezone},
    {"description", false, site_description},
    {"author", false, site_author},
};

static void
top_site(struct loader *l, const struct node *v, void *t)
{
    check_map(l, v, "site", site_keys, SF_ARRAY_LEN(site_keys), NULL);
}

/* ---- inputs ----------------------------------------------------------- */

static char *
resolve_path(struct loader *l, const char *p)
{
    if (p[0] == '/' || strcmp(l->c->dir, ".") == 0)
        return xstrdup(p);
    return xasprintf("%s/%s", l->c->dir, p);
}

static void
input_path(struct loader *l, const struct node *v, void *t)
{
    struct sf_input *in = t;
    char *s = NULL;
    if (get_string(l, v, "inputs[].path", &s)) {
        free(in->path);
        in->path = resolve_path(l, s);
    }
    free(s);
}

static void
input_format(struct loader *l, const struct node *v, void *t)
{
    int f;
    if (get_enum(l, v, "inputs[].format", config_input_format_names, SF_INPUT_COUNT, &f))
        ((struct sf_input *)t)->format = (enum sf_input_format)f;
}

static void
input_encoding(struct loader *l, const struct node *v, void *t)
{
    int e;
    if (get_enum(l, v, "inputs[].encoding", encoding_names, SF_ENC_COUNT, &e))
        ((struct sf_input *)t)->encoding = (enum sf_encoding)e;
}

static void
input_glob(struct loader *l, const struct node *v, void *t)
{
    struct sf_input *in = t;
    const struct node *const *items = &v;
    size_t n = 1;
    if (v->type == N_SEQ) {
        items = (const struct node *const *)v->kids;
        n = v->n;
        if (!n) {
            fail(l, v, "inputs[].glob must not be an empty list");
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        char *s = NULL;
        if (!get_string(l, items[i], "inputs[].glob", &s))
            continue;
        if (strchr(s, '/')) {
            fail(l, items[i], "inputs[].glob matches file names, so it cannot contain '/'");
            free(s);
            continue;
        }
        in->globs = xreallocarray(in->globs, in->n_globs + 1, sizeof *in->globs);
        in->globs[in->n_globs++] = s;
    }
}

static void
input_category(struct loader *l, const struct node *v, void *t)
{
    struct sf_input *in = t;
    if (get_string(l, v, "inputs[].category", &in->category) &&
        strlen(in->category) > SF_MAX_CATEGORY)
        fail(l, v, "inputs[].category is longer than %d bytes", SF_MAX_CATEGORY);
}

static void
input_follow(struct loader *l, const struct node *v, void *t)
{
    get_bool(l, v, "inputs[].follow_symlinks", &((struct sf_input *)t)->follow_symlinks);
}

/* A duration: a whole number with an optional unit (s, m, h, d). */
static bool
get_duration(struct loader *l, const struct node *n, const char *key, unsigned min, unsigned max,
             unsigned *out)
{
    char *end = NULL;
    unsigned long v = 0;
    if (n->type == N_SCALAR && !n->quoted && n->len && n->value[0] >= '0' && n->value[0] <= '9') {
        errno = 0;
        v = strtoul(n->value, &end, 10);
    }
    unsigned long unit = 0;
    if (end && !errno)
        unit = !*end || strcmp(end, "s") == 0 ? 1
             : strcmp(end, "m") == 0          ? 60
             : strcmp(end, "h") == 0          ? 3600
             : strcmp(end, "d") == 0          ? 86400
                                              : 0;
    if (!unit || v > max / unit || v * unit < min) {
        fail(l, n, "%s must be a duration from %us to %ud, like 90, 30m, 6h or 2d", key, min,
             max / 86400);
        return false;
    }
    *out = (unsigned)(v * unit);
    return true;
}

static void
input_settled(struct loader *l, const struct node *v, void *t)
{
    get_duration(l, v, "inputs[].settled_after", 1, 30 * 86400,
                 &((struct sf_input *)t)->settled_after);
}

static const struct key_spec input_keys[] = {
    {"path", true, input_path},
    {"format", false, input_format},
    {"encoding", false, input_encoding},
    {"glob", false, input_glob},
    {"category", false, input_category},
    {"follow_symlinks", false, input_follow},
    {"settled_after", false, input_settled},
};

static void
top_inputs(struct loader *l, const struct node *v, void *t)
{
    if (v->type != N_SEQ || v->n == 0) {
        fail(l, v, "inputs must be a non-empty list");
        return;
    }
    struct sf_config *c = l->c;
    c->inputs = xcalloc(v->n, sizeof *c->inputs);
    for (size_t i = 0; i < v->n; i++) {
        struct sf_input *in = &c->inputs[c->n_inputs++];
        in->line = v->kids[i]->line;
        check_map(l, v->kids[i], "inputs[]", input_keys, SF_ARRAY_LEN(input_keys), in);
        if (!in->n_globs) {
            in->globs = xmalloc(sizeof *in->globs);
            in->globs[0] = xstrdup(default_globs[in->format]);
            in->n_globs = 1;
        }
        if (!in->category)
            in->category = xstrdup(DEFAULT_CATEGORY);
    }
}

/* ---- output ----------------------------------------------------------- */

static void
output_dir(struct loader *l, const struct node *v, void *t)
{
    char *s = NULL;
    if (get_string(l, v, "output.dir", &s)) {
        free(l->c->output.dir);
        l->c->output.dir = resolve_path(l, s);
    }
    free(s);
}

static void
output_state_dir(struct loader *l, const struct node *v, void *t)
{
    char *s = NULL;
    if (get_string(l, v, "output.state_dir", &s)) {
        free(l->c->output.state_dir);
        l->c->output.state_dir = resolve_path(l, s);
    }
    free(s);
}

static void
output_formats(struct loader *l, const struct node *v, void *t)
{
    if (v->type != N_SEQ || v->n == 0) {
        fail(l, v, "output.formats must be a non-empty list");
        return;
    }
    bool *f = l->c->output.formats;
    memset(f, 0, sizeof l->c->output.formats);
    for (size_t i = 0; i < v->n; i++) {
        int k;
        if (!get_enum(l, v->kids[i], "output.formats[]", config_feed_format_names, SF_FEED_COUNT,
                      &k))
            continue;
        if (f[k])
            fail(l, v->kids[i], "output.formats lists '%s' twice", config_feed_format_names[k]);
        f[k] = true;
    }
}

static void
output_max_items(struct loader *l, const struct node *v, void *t)
{
    get_uint(l, v, "output.max_items", 1, SF_MAX_ITEMS, &l->c->output.max_items);
}

static void
output_pages(struct loader *l, const struct node *v, void *t)
{
    get_bool(l, v, "output.pages", &l->c->output.pages);
}

static const struct key_spec output_keys[] = {
    {"dir", false, output_dir},
    {"state_dir", false, output_state_dir},
    {"formats", false, output_formats},
    {"max_items", false, output_max_items},
    {"pages", false, output_pages},
};

static void
top_output(struct loader *l, const struct node *v, void *t)
{
    check_map(l, v, "output", output_keys, SF_ARRAY_LEN(output_keys), NULL);
}

/* ---- feeds ------------------------------------------------------------ */

static void
feed_category(struct loader *l, const struct node *v, void *t)
{
    struct sf_feed_conf *f = t;
    if (get_string(l, v, "feeds[].category", &f->category) &&
        strlen(f->category) > SF_MAX_CATEGORY)
        fail(l, v, "feeds[].category is longer than %d bytes", SF_MAX_CATEGORY);
}

static void
feed_slug(struct loader *l, const struct node *v, void *t)
{
    struct sf_feed_conf *f = t;
    if (get_string(l, v, "feeds[].slug", &f->slug) && !slug_valid(f->slug))
        fail(l, v,
             "feeds[].slug '%s' is not a safe directory name (1-%d letters, digits, '-' or '_', "
             "not starting with '-', not 'all')",
             f->slug, SF_MAX_SLUG);
}

static void
feed_title(struct loader *l, const struct node *v, void *t)
{
    get_string(l, v, "feeds[].title", &((struct sf_feed_conf *)t)->title);
}

static void
feed_description(struct loader *l, const struct node *v, void *t)
{
    get_string(l, v, "feeds[].description", &((struct sf_feed_conf *)t)->description);
}

static const struct key_spec feed_keys[] = {
    {"category", true, feed_category},
    {"slug", false, feed_slug},
    {"title", false, feed_title},
    {"description", false, feed_description},
};

static int
cmp_by_category(const void *pa, const void *pb)
{
    const struct sf_feed_conf *a = *(const struct sf_feed_conf *const *)pa,
                              *b = *(const struct sf_feed_conf *const *)pb;
    int d = strcmp(a->category, b->category);
    return d ? d : (a > b) - (a < b);   /* ties in list order: the later one is the repeat */
}

static int
cmp_by_slug(const void *pa, const void *pb)
{
    const struct sf_feed_conf *a = *(const struct sf_feed_conf *const *)pa,
                              *b = *(const struct sf_feed_conf *const *)pb;
    int d = strcmp(a->slug, b->slug);
    return d ? d : (a > b) - (a < b);
}

/*
 * Repeated categories and slugs, found by sorting rather than by comparing
 * every pair: a feeds list as long as the size limit allows would cost
 * seconds quadratically.  The sorted categories stay, for config_feed().
 */
static void
check_repeats(struct loader *l, const struct node *v)
{
    struct sf_config *c = l->c;
    const struct sf_feed_conf **by = xcalloc(c->n_feeds ? c->n_feeds : 1, sizeof *by);
    size_t n = 0;
    for (size_t i = 0; i < c->n_feeds; i++)
        if (c->feeds[i].slug)
            by[n++] = &c->feeds[i];
    sf_sort(by, n, sizeof *by, cmp_by_slug);
    for (size_t i = 1; i < n; i++)
        if (strcmp(by[i - 1]->slug, by[i]->slug) == 0)
            fail(l, v->kids[by[i] - c->feeds], "slug '%s' is used twice in feeds", by[i]->slug);
    n = 0;
    for (size_t i = 0; i < c->n_feeds; i++)
        if (c->feeds[i].category)
            by[n++] = &c->feeds[i];
    sf_sort(by, n, sizeof *by, cmp_by_category);
    for (size_t i = 1; i < n; i++)
        if (strcmp(by[i - 1]->category, by[i]->category) == 0)
            fail(l, v->kids[by[i] - c->feeds], "category '%s' is listed twice in feeds",
                 by[i]->category);
    free(c->feeds_by_category);
    c->feeds_by_category = by;
    c->n_feeds_by_category = n;
}

static void
top_feeds(struct loader *l, const struct node *v, void *t)
{
    if (v->type != N_SEQ) {
        fail(l, v, "feeds must be a list");
        return;
    }
    if (v->n > SF_MAX_FEEDS) {
        /* no more feeds than a run can write */
        fail(l, v, "feeds lists more than %d categories", SF_MAX_FEEDS);
        return;
    }
    struct sf_config *c = l->c;
    c->feeds = xcalloc(v->n ? v->n : 1, sizeof *c->feeds);
    for (size_t i = 0; i < v->n; i++) {
        struct sf_feed_conf *f = &c->feeds[c->n_feeds++];
        f->line = v->kids[i]->line;
        check_map(l, v->kids[i], "feeds[]", feed_keys, SF_ARRAY_LEN(feed_keys), f);
    }
    check_repeats(l, v);
}

/* ---- websub ----------------------------------------------------------- */

static void
websub_hubs(struct loader *l, const struct node *v, void *t)
{
    if (v->type != N_SEQ) {
        fail(l, v, "websub.hubs must be a list of URLs");
        return;
    }
    struct sf_config *c = l->c;
    c->websub.hubs = xcalloc(v->n ? v->n : 1, sizeof *c->websub.hubs);
    for (size_t i = 0; i < v->n; i++) {
        char *s = NULL;
        if (!get_string(l, v->kids[i], "websub.hubs[]", &s))
            continue;
        struct sf_buf b;
        buf_init(&b, 0);
        if (!url_normalize(s, strlen(s), &b))
            fail(l, v->kids[i], "websub.hubs[] must be an absolute http or https URL, not '%s'",
                 s);
        else if (b.len > SF_MAX_URL)
            fail(l, v->kids[i], "websub.hubs[] is longer than %u bytes, percent-encoded",
                 SF_MAX_URL);
        else
            c->websub.hubs[c->websub.n_hubs++] = buf_steal(&b, NULL);
        buf_finish(&b);
        free(s);
    }
}

static void
websub_timeout(struct loader *l, const struct node *v, void *t)
{
    get_seconds(l, v, "websub.timeout", &l->c->websub.timeout);
}

static void
websub_retries(struct loader *l, const struct node *v, void *t)
{
    get_uint(l, v, "websub.retries", 0, 10, &l->c->websub.retries);
}

static const struct key_spec websub_keys[] = {
    {"hubs", false, websub_hubs},
    {"timeout", false, websub_timeout},
    {"retries", false, websub_retries},
};

static void
top_websub(struct loader *l, const struct node *v, void *t)
{
    check_map(l, v, "websub", websub_keys, SF_ARRAY_LEN(websub_keys), NULL);
}

/* ---- limits ----------------------------------------------------------- */

static void
limits_max_captures(struct loader *l, const struct node *v, void *t)
{
    get_uint(l, v, "limits.max_captures", 1, SF_MAX_CAPTURES, &l->c->limits.max_captures);
}

static const struct key_spec limits_keys[] = {
    {"max_captures", false, limits_max_captures},
};

static void
top_limits(struct loader *l, const struct node *v, void *t)
{
    check_map(l, v, "limits", limits_keys, SF_ARRAY_LEN(limits_keys), NULL);
}

static const struct key_spec top_keys[] = {
    {"site", true, top_site},
    {"inputs", true, top_inputs},
    {"output", false, top_output},
    {"feeds", false, top_feeds},
    {"websub", false, top_websub},
    {"limits", false, top_limits},
};

/* ---- loading ---------------------------------------------------------- */

static struct sf_config *
config_new(const char *path)
{
    struct sf_config *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    const char *slash = strrchr(path, '/');
    c->dir = slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path)))
                   : xstrdup(".");
    c->output.max_items = DEFAULT_MAX_ITEMS;
    c->output.pages = true;
    for (size_t i = 0; i < SF_FEED_COUNT; i++)
        c->output.formats[i] = true;
    c->websub.timeout = DEFAULT_HUB_TIMEOUT;
    c->websub.retries = DEFAULT_HUB_RETRIES;
    c->limits.max_captures = SF_MAX_CAPTURES;
    return c;
}

/* Defaults for what feeds.yaml left out. */
static void
fill_defaults(struct sf_config *c)
{
    if (!c->site.language)
        c->site.language = xstrdup(DEFAULT_LANGUAGE);
    if (!c->site.timezone)
        c->site.timezone = xstrdup(DEFAULT_TIMEZONE);
    if (!c->site.description && c->site.title)
        c->site.description = xstrdup(c->site.title);
    if (!c->site.author && c->site.title)
        c->site.author = xstrdup(c->site.title);
    if (c->site.base_url && !c->site.host) {
        struct sf_buf b;
        buf_init(&b, 1024);
        if (url_host(c->site.base_url, &b))
            c->site.host = buf_steal(&b, NULL);
        buf_finish(&b);
    }
    if (!c->output.dir)
        c->output.dir = strcmp(c->dir, ".") == 0 ? xstrdup(DEFAULT_OUTPUT_DIR)
                                                 : xasprintf("%s/%s", c->dir, DEFAULT_OUTPUT_DIR);
    if (!c->output.state_dir)
        c->output.state_dir = strcmp(c->dir, ".") == 0
                                  ? xstrdup(DEFAULT_STATE_DIR)
                                  : xasprintf("%s/%s", c->dir, DEFAULT_STATE_DIR);
}

struct sf_config *
config_load_buffer(const char *data, size_t len, const char *path, struct sf_errors *errs)
{
    size_t before = errs->n;
    if (len > SF_MAX_CONFIG_SIZE) {
        errors_add(errs, path, 0, 0, "larger than the %u KiB configuration limit",
                   SF_MAX_CONFIG_SIZE >> 10);
        return NULL;
    }
    struct node *root = parse_tree(data, len, path, errs);
    if (!root)
        return NULL;
    struct loader l = {.path = path, .errs = errs, .c = config_new(path)};
    check_map(&l, root, "the configuration", top_keys, SF_ARRAY_LEN(top_keys), NULL);
    node_free(root);
    fill_defaults(l.c);
    if (errs->n != before) {
        config_free(l.c);
        return NULL;
    }
    return l.c;
}

struct sf_config *
config_load(const char *path, struct sf_errors *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errors_add(errs, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    struct sf_config *c = NULL;
    struct sf_buf b;
    buf_init(&b, SF_MAX_CONFIG_SIZE);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errors_add(errs, path, 0, 0, "not a regular file");
        goto out;
    }
    /* refused from its size where the size says so: never read whole */
    int r = (uintmax_t)st.st_size <= SF_MAX_CONFIG_SIZE ? buf_read_fd(&b, fd) : 0;
    if (r < 0) {
        errors_add(errs, path, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (r == 0) {
        errors_add(errs, path, 0, 0, "larger than the %u KiB configuration limit",
                   SF_MAX_CONFIG_SIZE >> 10);
        goto out;
    }
    c = config_load_buffer(b.data ? b.data : "", b.len, path, errs);
out:
    buf_finish(&b);
    close(fd);
    return c;
}

struct sf_config *
config_default(void)
{
    struct sf_config *c = config_new("feeds.yaml");
    fill_defaults(c);
    return c;
}

void
config_free(struct sf_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->dir);
    free(c->site.title);
    free(c->site.base_url);
    free(c->site.host);
    free(c->site.language);
    free(c->site.timezone);
    free(c->site.description);
    free(c->site.author);
    for (size_t i = 0; i < c->n_inputs; i++) {
        struct sf_input *in = &c->inputs[i];
        free(in->path);
        for (size_t j = 0; j < in->n_globs; j++)
            free(in->globs[j]);
        free(in->globs);
        free(in->category);
    }
    free(c->inputs);
    free(c->output.dir);
    free(c->output.state_dir);
    for (size_t i = 0; i < c->n_feeds; i++) {
        free(c->feeds[i].category);
        free(c->feeds[i].slug);
        free(c->feeds[i].title);
        free(c->feeds[i].description);
    }
    free(c->feeds);
    free(c->feeds_by_category);
    for (size_t i = 0; i < c->websub.n_hubs; i++)
        free(c->websub.hubs[i]);
    free(c->websub.hubs);
    free(c);
}

const struct sf_feed_conf *
config_feed(const struct sf_config *c, const char *category)
{
    size_t lo = 0, hi = c->n_feeds_by_category;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(c->feeds_by_category[mid]->category, category);
        if (d == 0)
            return c->feeds_by_category[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
