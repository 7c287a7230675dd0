/* SPDX-License-Identifier: MIT */
/* fuzz_config.c - feeds.yaml: bytes -> configuration or errors */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "limits.h"
#include "render.h"
#include "slug.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string of the configuration that ends up in XML or a path. */
static void
check_str(const char *s, bool required)
{
    if (!s) {
        if (required)
            abort();
        return;
    }
    if (!*s)
        abort();
    fuzz_check_xml_chars(s, strlen(s));
}

static void
check_config(const struct sf_config *c)
{
    check_str(c->path, true);
    check_str(c->dir, true);
    check_str(c->site.title, true);
    check_str(c->site.base_url, true);
    check_str(c->site.host, true);
    check_str(c->site.language, true);
    check_str(c->site.description, true);
    check_str(c->site.author, true);
    if (!url_is_http(c->site.base_url) || c->site.base_url[strlen(c->site.base_url) - 1] != '/' ||
        strpbrk(c->site.base_url, "?#") || !when_zone_valid(c->site.timezone))
        abort();
    if (!c->n_inputs || !c->inputs)
        abort();
    for (size_t i = 0; i < c->n_inputs; i++) {
        const struct sf_input *in = &c->inputs[i];
        check_str(in->path, true);
        check_str(in->category, true);
        if (in->format >= SF_INPUT_COUNT || in->encoding >= SF_ENC_COUNT || !in->n_globs ||
            strlen(in->category) > SF_MAX_CATEGORY)
            abort();
        for (size_t j = 0; j < in->n_globs; j++) {
            check_str(in->globs[j], true);
            if (strchr(in->globs[j], '/'))
                abort();
        }
    }
    check_str(c->output.dir, true);
    check_str(c->output.state_dir, true);
    bool any = false;
    for (size_t k = 0; k < SF_FEED_COUNT; k++)
        any |= c->output.formats[k];
    if (!any || c->output.max_items < 1 || c->output.max_items > SF_MAX_ITEMS)
        abort();
    for (size_t i = 0; i < c->n_feeds; i++) {
        const struct sf_feed_conf *f = &c->feeds[i];
        check_str(f->category, true);
        check_str(f->slug, false);
        check_str(f->title, false);
        check_str(f->description, false);
        if (strlen(f->category) > SF_MAX_CATEGORY || (f->slug && !slug_valid(f->slug)))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->category, c->feeds[j].category) == 0 ||
                (f->slug && c->feeds[j].slug && strcmp(f->slug, c->feeds[j].slug) == 0))
                abort();
        if (config_feed(c, f->category) != f)
            abort();
    }
    for (size_t i = 0; i < c->websub.n_hubs; i++)
        if (!url_is_http(c->websub.hubs[i]))
            abort();
    if (!isfinite(c->websub.timeout) || c->websub.timeout <= 0 || c->websub.timeout > 3600 ||
        c->websub.retries > 10)
        abort();
}

/*
 * The input is a feeds.yaml.  A configuration is returned exactly when no
 * problem was reported, and then holds every check config.c promises; each
 * problem has a message.  An accepted configuration's strings must make
 * well-formed feeds, pages and OPML (with no items: the site's and feeds'
 * own strings are what is tried here).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sf_errors errs = {0};
    struct sf_config *c = config_load_buffer((const char *)data, size, "dir/feeds.yaml", &errs);
    if (!c == !errs.n)
        abort();
    for (size_t i = 0; i < errs.n; i++)
        if (!errs.v[i].msg || !*errs.v[i].msg || !errs.v[i].path)
            abort();
    if (c) {
        check_config(c);
        struct sf_buf b;
        buf_init(&b, 0);
        /* The first few feeds: a list of thousands would only be slow. */
        size_t n = (c->n_feeds < 8 ? c->n_feeds : 8) + 1;
        struct sf_render_feed *feeds = calloc(n, sizeof *feeds);
        struct sf_page_feed *index = calloc(n, sizeof *index);
        char **slugs = calloc(n, sizeof *slugs);
        if (!feeds || !index || !slugs)
            abort();
        feeds[0] = (struct sf_render_feed){c, "all", c->site.title, c->site.description, NULL,
                                           NULL, 0};
        for (size_t i = 1; i < n; i++) {
            const struct sf_feed_conf *f = &c->feeds[i - 1];
            slugs[i] = f->slug ? strdup(f->slug) : slug_derive(f->category, false);
            feeds[i] = (struct sf_render_feed){
                c,
                slugs[i],
                f->title ? f->title : f->category,
                f->description ? f->description : f->category,
                f->category,
                NULL,
                0,
            };
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < SF_FEED_COUNT; k++) {
                buf_clear(&b);
                if (!render_formats[k].render(&feeds[i], &b))
                    abort();
                if (k == SF_FEED_JSON)
                    fuzz_check_json(b.data, b.len);
                else
                    fuzz_check_xml(b.data, b.len);
            }
            buf_clear(&b);
            if (!render_page_feed(&feeds[i], &b))
                abort();
            fuzz_check_html(b.data, b.len);
            index[i] = (struct sf_page_feed){feeds[i].slug, feeds[i].title,
                                             feeds[i].description, feeds[i].category, 0,
                                             {0, 0, false}};
        }
        buf_clear(&b);
        if (!render_page_index(c, index, n, &b))
            abort();
        fuzz_check_html(b.data, b.len);
        buf_clear(&b);
        if (!render_opml(c, feeds, n, &b))
            abort();
        fuzz_check_xml(b.data, b.len);
        for (size_t i = 0; i < n; i++)
            free(slugs[i]);
        free(slugs);
        free(feeds);
        free(index);
        buf_finish(&b);
    }
    config_free(c);
    errors_finish(&errs);
    return 0;
}
