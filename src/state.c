/* SPDX-License-Identifier: MIT */
/* state.c - what the last run wrote, so a rerun skips feeds that cannot have changed */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "url.h"

/*
 * The file is text, one record per line, so a person can read it:
 *
 *     snapfeed-outputs 1
 *     run 1f2e3d4c5b6a7988
 *     unit education 0123456789abcdef 50 %E6%95%99%E8%82%B2
 *     file education%2Frss.xml 18342 1732867200123456789
 *     ...
 *     sum 89abcdef01234567
 *
 * Names are percent-encoded; "sum" is a hash of every byte before it.
 */
#define HEAD "snapfeed-outputs 1\n"
#define NAME "outputs"
#define MAX_SIZE (16u << 20)

struct unit {
    char *name;
    char *title;
    size_t n_items;
    uint64_t digest;
    size_t first, n;    /* its files in files[] */
};

struct sf_state {
    uint64_t run_key;
    struct unit *units;
    size_t n_units, cap_units;
    struct sf_state_file *files;
    size_t n_files, cap_files;
};

struct sf_state *
state_new(uint64_t run_key)
{
    struct sf_state *s = xcalloc(1, sizeof *s);
    s->run_key = run_key;
    return s;
}

void
state_free(struct sf_state *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_units; i++) {
        free(s->units[i].name);
        free(s->units[i].title);
    }
    for (size_t i = 0; i < s->n_files; i++)
        free(s->files[i].path);
    free(s->units);
    free(s->files);
    free(s);
}

void
state_add_unit(struct sf_state *s, const char *unit, uint64_t digest, const char *title,
               size_t n_items)
{
    if (s->n_units == s->cap_units) {
        s->cap_units = s->cap_units ? s->cap_units * 2 : 16;
        s->units = xreallocarray(s->units, s->cap_units, sizeof *s->units);
    }
    s->units[s->n_units++] = (struct unit){xstrdup(unit), xstrdup(title), n_items, digest,
                                           s->n_files, 0};
}

size_t
state_units(const struct sf_state *s)
{
    return s->n_units;
}

void
state_unit_info(const struct sf_state *s, size_t i, const char **name, const char **title,
                size_t *n_items)
{
    *name = s->units[i].name;
    *title = s->units[i].title;
    *n_items = s->units[i].n_items;
}

void
state_add_file(struct sf_state *s, const char *path, int64_t size, int64_t mtime_ns)
{
    if (!s->n_units)
        state_add_unit(s, "", 0, "", 0);
    if (s->n_files == s->cap_files) {
        s->cap_files = s->cap_files ? s->cap_files * 2 : 64;
        s->files = xreallocarray(s->files, s->cap_files, sizeof *s->files);
    }
    s->files[s->n_files++] = (struct sf_state_file){xstrdup(path), size, mtime_ns};
    s->units[s->n_units - 1].n++;
}

uint64_t
state_run_key(const struct sf_state *s)
{
    return s->run_key;
}

uint64_t
state_unit(const struct sf_state *s, const char *unit, const struct sf_state_file **files,
           size_t *n)
{
    for (size_t i = 0; i < s->n_units; i++)
        if (strcmp(s->units[i].name, unit) == 0) {
            *files = s->units[i].n ? s->files + s->units[i].first : NULL;   /* none yet: no array */
            *n = s->units[i].n;
            return s->units[i].digest;
        }
    *files = NULL;
    *n = 0;
    return 0;
}

size_t
state_files(const struct sf_state *s, const struct sf_state_file **files)
{
    *files = s->files;
    return s->n_files;
}

/* ---- the file --------------------------------------------------------- */

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes a percent-encoded name; NULL when it is not one. */
static char *
decode(const char *s)
{
    struct sf_buf b;
    buf_init(&b, 0); /* the file is bounded (MAX_SIZE) */
    for (; *s; s++) {
        if (*s == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (lo < 0 || (hi == 0 && lo == 0) || !buf_append_char(&b, (char)(hi * 16 + lo)))
                goto bad;
            s += 2;
        } else if ((unsigned char)*s <= ' ') {
            goto bad;
        } else if (!buf_append_char(&b, *s)) {
            goto bad;
        }
    }
    return buf_steal(&b, NULL);
bad:
    buf_finish(&b);
    return NULL;
}

static bool
parse_u64(const char *s, int base, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool
parse(struct sf_state *s, char *text, size_t len)
{
    if (len < strlen(HEAD) || memcmp(text, HEAD, strlen(HEAD)) != 0)
        return false;
    char *sum = NULL;
    for (char *p = text + len; p > text; p--)
        if (p[-1] == '\n' && strncmp(p, "sum ", 4) == 0) {
            sum = p;
            break;
        }
    uint64_t want;
    char *nl = sum ? strchr(sum, '\n') : NULL;
    if (!sum || !nl || nl != text + len - 1)
        return false;
    *nl = '\0';
    if (!parse_u64(sum + 4, 16, &want) || hash_words(0, text, (size_t)(sum - text)) != want)
        return false;
    sum[0] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(text + strlen(HEAD), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[6] = {0};
        size_t nf = 0;
        char *fs = NULL;
        for (char *w = strtok_r(line, " ", &fs); w && nf < 6; w = strtok_r(NULL, " ", &fs))
            f[nf++] = w;
        uint64_t a, b;
        if (nf == 2 && strcmp(f[0], "run") == 0 && parse_u64(f[1], 16, &a)) {
            s->run_key = a;
        } else if (nf == 5 && strcmp(f[0], "unit") == 0 && parse_u64(f[2], 16, &a) &&
                   parse_u64(f[3], 10, &b)) {
            char *name = decode(f[1]), *title = decode(f[4]);
            if (!name || !title) {
                free(name);
                free(title);
                return false;
            }
            state_add_unit(s, name, a, title, (size_t)b);
            free(name);
            free(title);
        } else if (nf == 4 && strcmp(f[0], "file") == 0 && s->n_units &&
                   parse_u64(f[2], 10, &a) && parse_u64(f[3], 10, &b)) {
            char *path = decode(f[1]);
            if (!path)
                return false;
            state_add_file(s, path, (int64_t)a, (int64_t)b);
            free(path);
        } else {
            return false;
        }
    }
    return true;
}

struct sf_state *
state_load(const char *state_dir)
{
    struct sf_state *s = state_new(0);
    char *path = xasprintf("%s/%s", state_dir, NAME);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(path);
    if (fd < 0)
        return s;
    struct sf_buf b;
    buf_init(&b, MAX_SIZE);
    bool ok = buf_read_fd(&b, fd) == 1;
    close(fd);
    if (!ok || !b.data || !parse(s, b.data, b.len)) {
        state_free(s);
        s = state_new(0);
    }
    buf_finish(&b);
    return s;
}

static void
put_name(struct sf_buf *b, const char *s)
{
    url_append_segment(b, s);
}

bool
state_save(const struct sf_state *s, const char *state_dir, struct sf_error *err)
{
    struct sf_buf b;
    buf_init(&b, 0);
    buf_append_str(&b, HEAD);
    buf_printf(&b, "run %016" PRIx64 "\n", s->run_key);
    for (size_t i = 0; i < s->n_units; i++) {
        const struct unit *u = &s->units[i];
        buf_append_str(&b, "unit ");
        put_name(&b, u->name);
        buf_printf(&b, " %016" PRIx64 " %zu ", u->digest, u->n_items);
        put_name(&b, *u->title ? u->title : "-");
        buf_append_char(&b, '\n');
        for (size_t k = u->first; k < u->first + u->n; k++) {
            buf_append_str(&b, "file ");
            put_name(&b, s->files[k].path);
            buf_printf(&b, " %" PRId64 " %" PRId64 "\n", s->files[k].size, s->files[k].mtime_ns);
        }
    }
    buf_printf(&b, "sum %016" PRIx64 "\n", hash_words(0, b.data, b.len));

    bool ok = false;
    int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *display = xasprintf("%s/%s", state_dir, NAME);
    if (dfd < 0)
        error_set(err, state_dir, 0, 0, "cannot open: %s", strerror(errno));
    else
        /* Not durable: a stale or lost state makes the next run render
         * and compare every feed (files_intact() checks each file's
         * size and mtime), never skip one it should write. */
        ok = file_replace(dfd, NAME, b.data, b.len, false, display, err);
    free(display);
    if (dfd >= 0)
        close(dfd);
    buf_finish(&b);
    return ok;
}
