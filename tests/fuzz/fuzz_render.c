/* SPDX-License-Identifier: MIT */
/* fuzz_render.c - the whole render path: a fuzzed record -> every format, read back */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "check.h"
#include "config.h"
#include "render.h"
#include "slug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A site as an operator would configure it, with a hub, so that every
 * element the renderers can write is written. */
static const char site_yaml[] =
    "site: {title: '快照新闻 <&>', base_url: 'https://news.example.org/a%20b/'}\n"
    "inputs: [{path: captures}]\n"
    "websub: {hubs: ['https://hub.example.org/?x=1&y=2']}\n";

static void
render_all(const struct sf_render_feed *f, struct sf_buf *b)
{
    for (size_t k = 0; k < SF_FEED_COUNT; k++) {
        buf_clear(b);
        if (!render_formats[k].render(f, b))
            abort();
        if (k == SF_FEED_JSON)
            fuzz_check_json(b->data, b->len);
        else
            fuzz_check_xml(b->data, b->len);
    }
    buf_clear(b);
    if (!render_page_feed(f, b))
        abort();
    fuzz_check_html(b->data, b->len);
}

/*
 * The input is a capture (read as the auto encoding does); an accepted
 * record is rendered as its category's feed and as "all", in every
 * format, with its feed page, its archive page, the front page and the
 * OPML list.  Each output must read back with libxml2 or the JSON
 * library, hold no character XML forbids, and carry nothing live.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sf_zone zone;
    static struct sf_capture_parser *parser;
    static struct sf_config *config;
    if (!parser) {
        struct sf_errors errs = {0};
        config = config_load_buffer(site_yaml, strlen(site_yaml), "feeds.yaml", &errs);
        if (!config || !when_zone_init(&zone, config->site.timezone))
            abort();
        parser = capture_parser_new(&zone);
    }
    struct sf_capture_opts o = {
        .encoding = SF_ENC_AUTO,
        .default_category = "未分类",
        .site_host = config->site.host,
    };
    struct sf_error err = {0};
    struct sf_errors warn = {0};
    struct sf_record *r =
        capture_parse(parser, "fuzz.txt", (const char *)data, size, &o, &err, &warn);
    error_finish(&err);
    errors_finish(&warn);
    if (!r)
        return 0;

    char *slug = slug_derive(r->category, false);
    if (!slug_valid(slug))
        abort();
    char page[SF_PAGE_NAME_LEN];
    render_page_name(hash_fnv1a(SF_FNV_OFFSET, r->id, strlen(r->id)), r->id, false, page);
    struct sf_render_text text;
    render_text_make(r, &text);
    struct sf_render_item item = {
        .rec = r,
        .text = &text,
        .updated = r->captured_at.set ? r->captured_at : r->published,
        .slug = slug,
        .page = page,
    };
    struct sf_render_feed feeds[2] = {
        {config, "all", "全部", "全部资讯", NULL, &item, 1},
        {config, slug, r->category, r->category, r->category, &item, 1},
    };
    struct sf_buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < SF_ARRAY_LEN(feeds); i++)
        render_all(&feeds[i], &b);

    buf_clear(&b);
    if (!render_page_item(&feeds[1], &item, &b))
        abort();
    fuzz_check_html(b.data, b.len);

    struct sf_page_feed index[2];
    for (size_t i = 0; i < SF_ARRAY_LEN(feeds); i++)
        index[i] = (struct sf_page_feed){feeds[i].slug, feeds[i].title, feeds[i].description,
                                         feeds[i].category, 1, r->published};
    buf_clear(&b);
    if (!render_page_index(config, index, SF_ARRAY_LEN(index), &b))
        abort();
    fuzz_check_html(b.data, b.len);

    buf_clear(&b);
    if (!render_opml(config, feeds, SF_ARRAY_LEN(feeds), &b))
        abort();
    fuzz_check_xml(b.data, b.len);

    buf_finish(&b);
    free(slug);
    render_text_finish(&text);
    record_free(r);
    return 0;
}
