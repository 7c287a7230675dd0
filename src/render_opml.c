/* SPDX-License-Identifier: MIT */
/* render_opml.c - the list of every feed as OPML 2.0 */
#include "render.h"

#include <stdlib.h>

#include "render_xml.h"

bool
render_opml(const struct sf_config *c, const struct sf_render_feed *feeds, size_t n,
            struct sf_buf *out)
{
    struct xw x;
    xw_begin(&x, true);
    xw_start(&x, "opml");
    xw_attr(&x, "version", "2.0");
    xw_start(&x, "head");
    xw_el(&x, "title", c->site.title);
    /* dateCreated would be the clock: left out, so the file is stable. */
    xw_end(&x);
    xw_start(&x, "body");
    /* One outline per feed, in its first configured format: a reader that
     * imports the list should subscribe once to each feed, not thrice. */
    size_t k = 0;
    while (k + 1 < SF_FEED_COUNT && !c->output.formats[k])
        k++;
    for (size_t i = 0; i < n; i++) {
        const struct sf_render_feed *f = &feeds[i];
        char *home = render_url(c, f->slug, NULL);
        char *url = render_url(c, f->slug, render_formats[k].file);
        xw_start(&x, "outline");
        /* OPML's type="rss" means "a feed", whatever its format. */
        xw_attr(&x, "type", "rss");
        xw_attr(&x, "text", f->title);
        xw_attr(&x, "title", f->title);
        xw_attr(&x, "xmlUrl", url);
        xw_attr(&x, "htmlUrl", home);
        xw_end(&x);
        free(url);
        free(home);
    }
    xw_end(&x);
    xw_end(&x);
    return xw_finish(&x, out);
}
