/* SPDX-License-Identifier: MIT */
/* state.h - what the last run wrote, so a rerun skips feeds that cannot have changed */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * The state file (state_dir/outputs) records, for the last successful
 * run, a key of everything that run depended on (the manifest's digest,
 * the settings that shape output, the program's version), and for each
 * output unit (a feed, the OPML list) a digest of what it was rendered
 * from and the size and mtime of each file it wrote.  A unit whose digest
 * is unchanged and whose files are still exactly as written is skipped:
 * its records are not read again and nothing is rendered.  A damaged or
 * missing state file only means everything is rendered and compared.
 */
struct sf_state;

struct sf_state_file {
    char *path;         /* relative to the output directory */
    int64_t size;
    int64_t mtime_ns;
};

/* Loads state_dir/outputs; an unreadable or damaged file gives an empty
 * state.  Returns a new state (free with state_free()).  Cannot fail. */
struct sf_state *state_load(const char *state_dir);
void state_free(struct sf_state *s);

/* The run key of the last run (0 when none). */
uint64_t state_run_key(const struct sf_state *s);

/* The digest of unit (0 when unknown) and its files. */
uint64_t state_unit(const struct sf_state *s, const char *unit,
                    const struct sf_state_file **files, size_t *n);

/* The units, in the order they were added: name, title and item count
 * (for reporting a run that had nothing to do). */
size_t state_units(const struct sf_state *s);
void state_unit_info(const struct sf_state *s, size_t i, const char **name, const char **title,
                     size_t *n_items);

/* Every file of every unit, for checking the output is intact. */
size_t state_files(const struct sf_state *s, const struct sf_state_file **files);

/* Builds the next state: units are added with their files' stats. */
struct sf_state *state_new(uint64_t run_key);
void state_add_unit(struct sf_state *s, const char *unit, uint64_t digest, const char *title,
                    size_t n_items);
void state_add_file(struct sf_state *s, const char *path, int64_t size, int64_t mtime_ns);

/* Writes s as state_dir/outputs (temp, rename; not synced: see state.c). */
bool state_save(const struct sf_state *s, const char *state_dir, struct sf_error *err);
