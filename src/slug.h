/* SPDX-License-Identifier: MIT */
/* slug.h - safe, stable directory names for categories */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * A slug names a feed's directory and appears in its URLs.  It is 1 to
 * SF_MAX_SLUG bytes of letters and digits (any script), '-' and '_'; it has
 * no '/', '.', blank, control or punctuation character, so it can never
 * climb out of the output directory or hide a file, and it is not "all"
 * (the combined feed).
 */
bool slug_valid(const char *s);

/*
 * The slug of a category that feeds.yaml gives none: the category itself
 * when that is a valid slug (教育 -> 教育), else its letters and digits
 * lower-cased, with '-' for the rest, cut to 47 bytes, and "-" plus eight
 * hex digits of a hash of the whole name appended, so that names which
 * lose something on the way still get distinct slugs ("Tech News" ->
 * tech-news-1a2b3c4d).  When wide is set, the hash is sixteen digits
 * (used when the short form collides).  Returns a new string; free with
 * free().  Cannot fail.
 */
char *slug_derive(const char *category, bool wide);
