/* SPDX-License-Identifier: MIT */
/* websub.h - WebSub publishing: tell hubs which topics changed, queue what failed */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * A notification is a (hub, topic) pair: one POST of
 * "hub.mode=publish&hub.url=TOPIC" to HUB.  Both are absolute http(s)
 * URLs in ASCII (config.c normalizes hubs, render_url() percent-encodes
 * topics), so neither holds a blank, tab or newline; the queue file
 * relies on that.
 *
 * Ownership: the queue owns copies of every string added to it;
 * websub_send() returns a new array its caller frees with
 * websub_results_free().
 */
struct sf_notice {
    char *hub;
    char *topic;
};

/* Notifications in the order added, each at most once.  Caller-owned
 * storage: websub_queue_init() / websub_queue_finish(). */
struct sf_websub_queue {
    struct sf_notice *v;
    size_t n, cap;
    size_t *slots;      /* open addressing over v: index + 1, 0 when free */
    size_t n_slots;     /* a power of two, or 0 */
};

void websub_queue_init(struct sf_websub_queue *q);
void websub_queue_finish(struct sf_websub_queue *q);
/* Empties q, keeping its storage. */
void websub_queue_clear(struct sf_websub_queue *q);

/* Appends a copy of (hub, topic) unless q holds it already; returns
 * whether it was added.  Cannot fail. */
bool websub_queue_add(struct sf_websub_queue *q, const char *hub, const char *topic);

/*
 * Appends the notifications of queue-file text data[0..len) to q.  A line
 * that is not "HUB<TAB>TOPIC" with two http(s) URLs is dropped and
 * reported in problems as "path:line: ..."; '#' lines and blank lines are
 * comments.  Returns the number of lines dropped.
 */
size_t websub_queue_parse(struct sf_websub_queue *q, const char *data, size_t len,
                          const char *path, struct sf_errors *problems);

/* Appends q as queue-file text (a comment line, then one line per
 * notification) to out; false when out reaches its limit. */
bool websub_queue_format(const struct sf_websub_queue *q, struct sf_buf *out);

/* Appends the request body for topic, "hub.mode=publish&hub.url=" and the
 * topic form-encoded (every byte but ALPHA, DIGIT and "-._~" as %XX), to
 * out; false when out reaches its limit. */
bool websub_form_body(const char *topic, struct sf_buf *out);

/* ---- the state file ---------------------------------------------------- */

/*
 * The queue lives in DIR/websub-queue (DIR is output.state_dir), written
 * whole to a temporary beside it, synced and renamed, so a crash leaves
 * either the old queue or the new one.  DIR/websub.lock, an flock held
 * from open to close, keeps two runs sharing the directory from losing
 * each other's notifications.
 */
struct sf_websub_state;

/*
 * Creates DIR when missing, waits up to wait_ms for its lock and appends
 * the queued notifications to q (lines it cannot read go to problems, as
 * warnings).  Returns a new state (free with websub_state_close()) or
 * NULL with err set; then q is unchanged.
 */
struct sf_websub_state *websub_state_open(const char *dir, long wait_ms,
                                          struct sf_websub_queue *q,
                                          struct sf_errors *problems, struct sf_error *err);

/* Replaces the queue on disk with q (removing the file when q is empty).
 * Returns false with err set; the old file is then intact. */
bool websub_state_save(struct sf_websub_state *s, const struct sf_websub_queue *q,
                       struct sf_error *err);

/* Drops the lock and frees s.  NULL is fine. */
void websub_state_close(struct sf_websub_state *s);

/* ---- sending ----------------------------------------------------------- */

struct sf_websub_opts {
    double timeout;     /* seconds one request may take (connecting: half of it) */
    unsigned retries;   /* further attempts after a failure that may pass */
};

/*
 * The longest websub_send() takes, in milliseconds, however the hubs
 * behave: every attempt of one notification back to back, each running
 * its full timeout, with the waits between them.  No attempt starts that
 * could end later than that; what is left is reported as not sent.
 */
long websub_budget_ms(const struct sf_websub_opts *o);

/* The wait before retry k (1 for the first retry), in milliseconds. */
long websub_backoff_ms(unsigned k);

/*
 * Sends every notification of q concurrently (a few connections per hub,
 * a few more in all), retrying timeouts, connection errors and HTTP 5xx,
 * 408 and 429.  After a notification fails on a connection error or a
 * timeout with every attempt, its hub is taken to be down and its other
 * notifications are not tried.  Returns a new array of q->n messages:
 * NULL where the hub accepted the notification (any 2xx), else why not
 * ("HTTP 500", or libcurl's error text).  Free with
 * websub_results_free().  Cannot fail: a notification that could not be
 * sent gets a message.
 */
char **websub_send(const struct sf_websub_opts *o, const struct sf_websub_queue *q);

void websub_results_free(char **results, size_t n);
