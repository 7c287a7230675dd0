/* SPDX-License-Identifier: MIT */
/* config.h - feeds.yaml -> struct sf_config, with every check */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "util.h"

enum sf_input_format {
    SF_INPUT_SNAPSHOT,  /* text captures (capture.c) */
    SF_INPUT_JSONL,     /* one record per line, as `snapfeed parse` prints */
    SF_INPUT_HTML,      /* saved article pages */
    SF_INPUT_COUNT
};

/* Output formats, in the order feeds are written. */
enum sf_feed_format {
    SF_FEED_RSS,
    SF_FEED_ATOM,
    SF_FEED_JSON,
    SF_FEED_COUNT
};

struct sf_input {
    char *path;         /* as resolved: relative paths are taken from the config's directory */
    enum sf_input_format format;
    enum sf_encoding encoding;
    char **globs;       /* basename patterns (fnmatch) */
    size_t n_globs;
    char *category;     /* for records that name none */
    bool follow_symlinks;   /* follow links that leave the input's root */
    unsigned settled_after; /* seconds; 0: off.  A directory in which nothing changed for
                             * this long is taken as unchanged from the state's `dirs`
                             * cache without statting its files, for up to this long */
    unsigned line;      /* where it is in feeds.yaml */
};

struct sf_feed_conf {
    char *category;
    char *slug;         /* NULL: derived */
    char *title;        /* NULL: the category */
    char *description;  /* NULL: derived */
    unsigned line;
};

struct sf_config {
    char *path;         /* as given */
    char *dir;          /* its directory */
    struct {
        char *title;
        char *base_url;     /* absolute http(s), ends in '/' */
        char *host;         /* of base_url */
        char *language;
        char *timezone;
        char *description;
        char *author;
    } site;
    struct sf_input *inputs;
    size_t n_inputs;
    struct {
        char *dir;
        char *state_dir;
        bool formats[SF_FEED_COUNT];
        unsigned max_items;
        bool pages;
    } output;
    struct sf_feed_conf *feeds;
    size_t n_feeds;
    struct {
        char **hubs;
        size_t n_hubs;
        double timeout;     /* seconds, per request */
        unsigned retries;
    } websub;
    struct {
        unsigned max_captures;  /* captures (records and rejected inputs) per run */
    } limits;
    /* feeds sorted by category, for config_feed()'s binary search */
    const struct sf_feed_conf **feeds_by_category;
    size_t n_feeds_by_category;
};

/* Names, for messages and the table in feeds.yaml(5). */
extern const char *const config_input_format_names[SF_INPUT_COUNT];
extern const char *const config_feed_format_names[SF_FEED_COUNT];

/*
 * Loads and checks the configuration in path.  Every problem found is
 * appended to errs with its line and column; the result is then NULL.
 * Returns a new config (free with config_free()).
 */
struct sf_config *config_load(const char *path, struct sf_errors *errs);

/* The same, from a buffer (fuzzing, tests); path is used for messages and
 * relative paths. */
struct sf_config *config_load_buffer(const char *data, size_t len, const char *path,
                                     struct sf_errors *errs);

/* A configuration for running without feeds.yaml (`snapfeed parse`). */
struct sf_config *config_default(void);

void config_free(struct sf_config *c);

/* The configured feed of category, or NULL.  O(log n feeds). */
const struct sf_feed_conf *config_feed(const struct sf_config *c, const char *category);
