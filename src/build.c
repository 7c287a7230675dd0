/* SPDX-License-Identifier: MIT */
/* build.c - one run: ingest, catalog, render every feed, write what changed */
#include "build.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "ingest.h"
#include "limits.h"
#include "record.h"
#include "render.h"
#include "websub.h"
#include "when.h"

/*
 * The run has two passes over the captures.  The first reads every one
 * and keeps only its catalog entry (ids, times, category: no text); the
 * catalog then picks each feed's items; the second reads again just the
 * files of those items, whose records the renderers need whole.  So
 * memory holds the entries plus the few hundred records shown, however
 * large the archive (docs/design.md, "Memory").
 */

struct run {
    const struct sf_config *config;
    const struct sf_build_report *report;
    struct sf_build_result *res;
    struct sf_ingest_reader *reader;
    struct sf_catalog *catalog;
    uint32_t seq;
    uint32_t input;             /* index of the input being walked */
    bool too_many;
    /* the second pass: the record wanted and what was found */
    const struct sf_entry *want;
    struct sf_record *found;
};

static void
report_problem(struct run *r, const struct sf_error *e, bool warning)
{
    if (warning)
        r->res->warnings++;
    else
        r->res->rejected++;
    if (r->report && r->report->problem)
        r->report->problem(r->report->ctx, e, warning);
}

/* ---- pass one: entries ------------------------------------------------ */

static void
scan_record(void *ctx, struct sf_record *rec)
{
    struct run *r = ctx;
    struct sf_entry e = {
        .idhash = hash_fnv1a(SF_FNV_OFFSET, rec->id, strlen(rec->id)),
        .content = record_content_hash(rec),
        .captured_at = rec->captured_at,
        .published = rec->published,
        .seq = r->seq,
        .line = rec->line,
        .input = r->input,
        .id = rec->id,
        .category = rec->category,
        .path = rec->file,
    };
    r->res->captures++;
    if (!catalog_add(r->catalog, &e)) {
        struct sf_error err = {0};
        error_set(&err, rec->file, 0, 0,
                  "more than %d categories; '%s' is left out", SF_MAX_FEEDS, rec->category);
        report_problem(r, &err, false);
        error_finish(&err);
    }
    record_free(rec);
}

static void
scan_problem(void *ctx, const struct sf_error *e, bool warning)
{
    struct run *r = ctx;
    if (!warning)
        r->res->captures++;
    report_problem(r, e, warning);
}

static bool
scan_file(void *ctx, const struct sf_file *f)
{
    struct run *r = ctx;
    if (r->res->captures >= SF_MAX_CAPTURES) {
        r->too_many = true;
        return false;
    }
    struct sf_ingest_cb cb = {r, scan_record, scan_problem};
    r->input = (uint32_t)(f->input - r->config->inputs);
    r->seq++;
    ingest_file(r->reader, f->input, f->dirfd, f->name, f->path, &cb);
    return true;
}

/* ---- pass two: the records shown -------------------------------------- */

static void
fetch_record(void *ctx, struct sf_record *rec)
{
    struct run *r = ctx;
    if (!r->found && strcmp(rec->id, r->want->id) == 0 &&
        record_content_hash(rec) == r->want->content)
        r->found = rec;
    else
        record_free(rec);
}

static void
fetch_problem(void *ctx, const struct sf_error *e, bool warning)
{
    /* reported in pass one */
}

static struct sf_record *
fetch(struct run *r, const struct sf_entry *e)
{
    struct sf_ingest_cb cb = {r, fetch_record, fetch_problem};
    r->want = e;
    r->found = NULL;
    ingest_file(r->reader, &r->config->inputs[e->input], AT_FDCWD, e->path, e->path, &cb);
    if (!r->found) {
        struct sf_error err = {0};
        error_set(&err, e->path, 0, 0, "warning: changed while being read; left out until the "
                                      "next run");
        report_problem(r, &err, true);
        error_finish(&err);
    }
    return r->found;
}

/* Records of the chosen entries, found by entry address. */
struct shown {
    const struct sf_entry **keys;
    struct sf_record **recs;
    size_t cap;
};

static size_t
shown_slot(const struct shown *s, const struct sf_entry *e)
{
    size_t i = (size_t)(((uintptr_t)e >> 4) * 0x9E3779B97F4A7C15u) & (s->cap - 1);
    while (s->keys[i] && s->keys[i] != e)
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* ---- WebSub ----------------------------------------------------------- */

/* The topic of output path "SLUG/FILE" when FILE is a feed format written
 * (a new string, free with free()); NULL for anything else (feeds.opml). */
static char *
topic_of(const struct sf_config *c, const char *path)
{
    const char *slash = strchr(path, '/');
    if (!slash)
        return NULL;
    for (size_t k = 0; k < SF_FEED_COUNT; k++)
        if (c->output.formats[k] && strcmp(slash + 1, render_formats[k].file) == 0) {
            char *slug = xstrndup(path, (size_t)(slash - path));
            /* the very function the renderers made the self links with */
            char *topic = render_url(c, slug, render_formats[k].file);
            free(slug);
            return topic;
        }
    return NULL;
}

static bool
hub_configured(const struct sf_config *c, const char *hub)
{
    for (size_t i = 0; i < c->websub.n_hubs; i++)
        if (strcmp(c->websub.hubs[i], hub) == 0)
            return true;
    return false;
}

static void
push_warning(const struct sf_build_report *report, struct sf_build_result *res,
             const struct sf_error *e)
{
    res->warnings++;
    if (report && report->problem)
        report->problem(report->ctx, e, true);
}

/*
 * Tells every hub of the topics among paths (output paths; those that are
 * no feed are skipped), together with what the queue held, and leaves in
 * the queue what still fails.  The queue's lock is held throughout, so a
 * run beside this one neither sends the same queue nor loses its own.
 * Returns false with err set when the queue cannot be read or written;
 * the notifications are sent all the same.
 */
static bool
push(const struct sf_config *c, const char *const *paths, size_t n_paths,
     const struct sf_build_report *report, struct sf_build_result *res, struct sf_error *err)
{
    if (!c->websub.n_hubs)
        return true;
    struct sf_websub_queue queued, q, left;
    struct sf_errors problems = {0};
    char **results = NULL;
    websub_queue_init(&queued);
    websub_queue_init(&q);
    websub_queue_init(&left);
    struct sf_websub_opts opts = {c->websub.timeout, c->websub.retries};
    /* Another run holds the queue for at most its own send. */
    long wait_ms = websub_budget_ms(&opts) + 10000;
    struct sf_websub_state *st =
        websub_state_open(c->output.state_dir, wait_ms, &queued, &problems, err);
    for (size_t i = 0; i < problems.n; i++)
        push_warning(report, res, &problems.v[i]);

    /* A hub taken out of feeds.yaml is not pinged again from the queue. */
    for (size_t i = 0; i < queued.n; i++) {
        const struct sf_notice *n = &queued.v[i];
        if (hub_configured(c, n->hub)) {
            websub_queue_add(&q, n->hub, n->topic);
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(queued.v[k].hub, n->hub) == 0;
        if (!seen) {
            struct sf_error w = {0};
            error_set(&w, c->output.state_dir, 0, 0,
                      "warning: %s is no longer in websub.hubs; its queued notifications "
                      "are dropped",
                      n->hub);
            push_warning(report, res, &w);
            error_finish(&w);
        }
    }
    for (size_t i = 0; i < n_paths; i++) {
        char *topic = topic_of(c, paths[i]);
        for (size_t h = 0; topic && h < c->websub.n_hubs; h++)
            websub_queue_add(&q, c->websub.hubs[h], topic);
        free(topic);
    }

    results = websub_send(&opts, &q);
    for (size_t i = 0; i < q.n; i++) {
        if (results[i])
            websub_queue_add(&left, q.v[i].hub, q.v[i].topic);
        else {
            res->notified++;
            if (report && report->notified)
                report->notified(report->ctx, q.v[i].hub, q.v[i].topic);
        }
    }
    bool saved = st && websub_state_save(st, &left, err);
    res->queued = saved ? left.n : 0;
    for (size_t i = 0; i < q.n; i++)
        if (results[i])
            errors_add(&res->push_failed, q.v[i].hub, 0, 0, "%s: %s (%s)", q.v[i].topic,
                       results[i], saved ? "queued for the next run" : "could not be queued");
    websub_results_free(results, q.n);
    websub_state_close(st);
    errors_finish(&problems);
    websub_queue_finish(&queued);
    websub_queue_finish(&q);
    websub_queue_finish(&left);
    return saved;
}

enum sf_build_status
build_ping(const struct sf_config *c, const struct sf_ping_opts *opts,
           const struct sf_build_report *report, struct sf_build_result *res,
           struct sf_error *err)
{
    *res = (struct sf_build_result){0};
    if (!c->websub.n_hubs) {
        error_set(err, c->path, 0, 0, "no hub to notify: websub.hubs is empty");
        return SF_BUILD_FAILED;
    }
    char **paths = NULL;
    size_t n = 0;
    if (opts->all) {
        const char *names[SF_FEED_COUNT];
        size_t n_names = 0;
        for (size_t k = 0; k < SF_FEED_COUNT; k++)
            if (c->output.formats[k])
                names[n_names++] = render_formats[k].file;
        if (!output_list_feeds(opts->output_dir ? opts->output_dir : c->output.dir, names,
                               n_names, &paths, &n, err))
            return SF_BUILD_FAILED;
    }
    bool ok = push(c, (const char *const *)paths, n, report, res, err);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return !ok ? SF_BUILD_FAILED : res->push_failed.n ? SF_BUILD_PARTIAL : SF_BUILD_OK;
}

/* ---- rendering -------------------------------------------------------- */

static bool
stage(struct sf_output *out, const char *slug, const char *file, const struct sf_buf *b,
      bool *changed, struct sf_error *err)
{
    char *path = slug ? xasprintf("%s/%s", slug, file) : xstrdup(file);
    bool ok = output_stage(out, path, b->data ? b->data : "", b->len, changed, err);
    free(path);
    return ok;
}

enum sf_build_status
build_run(const struct sf_config *c, const struct sf_build_opts *opts,
          const struct sf_build_report *report, struct sf_build_result *res,
          struct sf_error *err)
{
    enum sf_build_status status = SF_BUILD_FAILED;
    struct run r = {.config = c, .report = report, .res = res};
    struct sf_output *out = NULL;
    struct shown shown = {0};
    struct sf_render_feed *rfeeds = NULL;
    struct sf_render_item *ritems = NULL;
    struct sf_buf b;
    buf_init(&b, 0);
    *res = (struct sf_build_result){0};

    struct sf_zone zone;
    if (!when_zone_init(&zone, c->site.timezone)) {
        error_set(err, c->path, 0, 0, "unknown timezone '%s'", c->site.timezone);
        goto out;
    }
    const char *dir = opts->output_dir ? opts->output_dir : c->output.dir;
    out = output_open(dir, opts->lock, opts->dry_run, err);
    if (!out) {
        if (err && err->msg && strncmp(err->msg, "busy: ", 6) == 0)
            status = SF_BUILD_BUSY;
        goto out;
    }

    r.reader = ingest_reader_new(c, &zone, true);
    r.catalog = catalog_new(c);
    if (!ingest_walk(c, scan_file, &r, err))
        goto out;
    if (r.too_many) {
        error_set(err, c->path, 0, 0, "more than %d captures in one run; refusing to build",
                  SF_MAX_CAPTURES);
        goto out;
    }

    const struct sf_feed_sel *feeds;
    size_t n_feeds = catalog_select(r.catalog, &feeds);

    /* Read each chosen record once, in walk order, whatever feeds show it. */
    size_t n_refs = 0;
    for (size_t f = 0; f < n_feeds; f++)
        n_refs += feeds[f].n_items;
    shown.cap = 16;
    while (shown.cap < n_refs * 2)
        shown.cap *= 2;
    shown.keys = xcalloc(shown.cap, sizeof *shown.keys);
    shown.recs = xcalloc(shown.cap, sizeof *shown.recs);
    for (size_t f = 0; f < n_feeds; f++)
        for (size_t i = 0; i < feeds[f].n_items; i++) {
            const struct sf_entry *e = feeds[f].items[i].entry;
            size_t k = shown_slot(&shown, e);
            if (!shown.keys[k]) {
                shown.keys[k] = e;
                shown.recs[k] = fetch(&r, e);
            }
        }

    rfeeds = xcalloc(n_feeds ? n_feeds : 1, sizeof *rfeeds);
    ritems = xcalloc(n_refs ? n_refs : 1, sizeof *ritems);
    size_t used = 0;
    for (size_t f = 0; f < n_feeds; f++) {
        struct sf_render_feed *rf = &rfeeds[f];
        *rf = (struct sf_render_feed){
            .config = c,
            .slug = feeds[f].slug,
            .title = feeds[f].title,
            .description = feeds[f].description,
            .category = feeds[f].category,
            .items = ritems + used,
        };
        for (size_t i = 0; i < feeds[f].n_items; i++) {
            const struct sf_item_ref *it = &feeds[f].items[i];
            struct sf_record *rec = shown.recs[shown_slot(&shown, it->entry)];
            if (rec)
                ritems[used + rf->n_items++] =
                    (struct sf_render_item){rec, it->updated, it->slug};
        }
        used += rf->n_items;
    }

    for (size_t f = 0; f < n_feeds; f++) {
        const char *changed[SF_FEED_COUNT];
        size_t n_changed = 0;
        for (size_t k = 0; k < SF_FEED_COUNT; k++) {
            if (!c->output.formats[k])
                continue;
            bool ch;
            buf_clear(&b);
            if (!render_formats[k].render(&rfeeds[f], &b)) {
                error_set(err, rfeeds[f].slug, 0, 0, "cannot render the %s feed",
                          render_formats[k].name);
                goto out;
            }
            if (!stage(out, rfeeds[f].slug, render_formats[k].file, &b, &ch, err))
                goto out;
            if (ch)
                changed[n_changed++] = render_formats[k].file;
        }
        res->feeds++;
        res->changed_feeds += n_changed > 0;
        if (report && report->feed)
            report->feed(report->ctx, rfeeds[f].slug, rfeeds[f].title, rfeeds[f].n_items,
                         changed, n_changed);
    }
    buf_clear(&b);
    if (!render_opml(c, rfeeds, n_feeds, &b) || !stage(out, NULL, "feeds.opml", &b, NULL, err))
        goto out;
    if (!output_commit(out, err))
        goto out;

    const char *const *paths;
    res->n_changed = output_changed(out, &paths);
    res->changed = xcalloc(res->n_changed ? res->n_changed : 1, sizeof *res->changed);
    for (size_t i = 0; i < res->n_changed; i++)
        res->changed[i] = xstrdup(paths[i]);
    /* Only now, with every changed file renamed into place: a hub fetches
     * the topic the moment it hears of it. */
    if (!opts->dry_run && !opts->no_push &&
        !push(c, (const char *const *)res->changed, res->n_changed, report, res, err))
        goto out;
    status = res->rejected || res->push_failed.n ? SF_BUILD_PARTIAL : SF_BUILD_OK;
out:
    for (size_t i = 0; i < shown.cap; i++)
        record_free(shown.recs ? shown.recs[i] : NULL);
    free(shown.keys);
    free(shown.recs);
    free(rfeeds);
    free(ritems);
    buf_finish(&b);
    catalog_free(r.catalog);
    ingest_reader_free(r.reader);
    output_close(out);
    return status;
}

void
build_result_finish(struct sf_build_result *res)
{
    for (size_t i = 0; i < res->n_changed; i++)
        free(res->changed[i]);
    free(res->changed);
    res->changed = NULL;
    res->n_changed = 0;
    errors_finish(&res->push_failed);
}
