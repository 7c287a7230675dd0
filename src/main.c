/* SPDX-License-Identifier: MIT */
/* main.c - the command line: options, subcommands, exit status */
#include <fcntl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "capture.h"
#include "config.h"
#include "ingest.h"
#include "limits.h"
#include "record.h"
#include "render.h"
#include "sf_version.h"
#include "slug.h"
#include "util.h"
#include "when.h"

/* Exit statuses, listed in snapfeed(1) under EXIT STATUS. */
enum sf_exit {
    SF_EXIT_OK = 0,
    SF_EXIT_FATAL = 1,      /* bad configuration, unwritable output, ... */
    SF_EXIT_USAGE = 2,      /* bad command line */
    SF_EXIT_PARTIAL = 3,    /* done, but some input was rejected or a hub failed */
    SF_EXIT_NOMEM = 4,      /* out of memory: util.c ends the process with it */
};
_Static_assert(SF_EXIT_NOMEM == SF_OOM_STATUS, "util.h's out-of-memory status is listed here");

enum cmd { CMD_NONE, CMD_BUILD, CMD_PARSE, CMD_CHECK, CMD_PING, CMD_COUNT };

static const char *const cmd_names[CMD_COUNT] = {
    [CMD_BUILD] = "build", [CMD_PARSE] = "parse", [CMD_CHECK] = "check", [CMD_PING] = "ping",
};

static const char *const cmd_synopsis[CMD_COUNT] = {
    [CMD_NONE] = "COMMAND [OPTION]... [ARG]...",
    [CMD_BUILD] = "build [OPTION]...",
    [CMD_PARSE] = "parse [OPTION]... FILE...",
    [CMD_CHECK] = "check [OPTION]...",
    [CMD_PING] = "ping [OPTION]...",
};

static const char *const cmd_help[CMD_COUNT] = {
    [CMD_BUILD] = "read the captures and write every feed that changed",
    [CMD_PARSE] = "print each capture, page or JSON line as one JSON record per line",
    [CMD_CHECK] = "check feeds.yaml and every input; write nothing",
    [CMD_PING] = "send the queued WebSub notifications again (--all: every feed)",
};

#define FOR(...) ((unsigned)(__VA_ARGS__))
#define C(x) (1u << (x))

enum opt_id {
    OPT_CONFIG = 'c',
    OPT_HELP = 'h',
    OPT_JOBS = 'j',
    OPT_OUTPUT = 'o',
    OPT_QUIET = 'q',
    OPT_VERBOSE = 'v',
    OPT_TIMEZONE = 256,
    OPT_ENCODING,
    OPT_FORMAT,
    OPT_DRY_RUN,
    OPT_NO_PUSH,
    OPT_ALL,
    OPT_WAIT,
    OPT_NO_MANIFEST,
    OPT_RESCAN,
    OPT_VERSION,
};

/*
 * The one table of options: getopt_long's array, --help and the check
 * that snapfeed(1) documents every option (tests/e2e/test_manpage.py) all
 * come from it.
 */
static const struct option_spec {
    const char *name;
    int id;
    const char *arg;    /* NULL: takes no argument */
    unsigned cmds;      /* the commands it applies to; 0: all */
    const char *help;
} options[] = {
    {"config", OPT_CONFIG, "FILE",
     FOR(C(CMD_BUILD) | C(CMD_PARSE) | C(CMD_CHECK) | C(CMD_PING)),
     "read FILE instead of ./feeds.yaml"},
    {"output", OPT_OUTPUT, "DIR", FOR(C(CMD_BUILD) | C(CMD_PING)),
     "the feeds' directory is DIR, not output.dir"},
    {"dry-run", OPT_DRY_RUN, NULL, FOR(C(CMD_BUILD)), "say what would change; write nothing"},
    {"jobs", OPT_JOBS, "N", FOR(C(CMD_BUILD)),
     "parse and render with N threads (default: the CPUs online, at most 8)"},
    {"no-manifest", OPT_NO_MANIFEST, NULL, FOR(C(CMD_BUILD)),
     "parse every capture, ignoring what the last run learned"},
    {"rescan", OPT_RESCAN, NULL, FOR(C(CMD_BUILD)),
     "stat every capture, even in directories settled_after would trust"},
    {"no-push", OPT_NO_PUSH, NULL, FOR(C(CMD_BUILD)),
     "write the feeds, but notify no WebSub hub and queue nothing"},
    {"all", OPT_ALL, NULL, FOR(C(CMD_PING)),
     "notify the hubs of every feed, not only of what is queued"},
    {"wait", OPT_WAIT, NULL, FOR(C(CMD_BUILD)),
     "wait for a build already running here instead of failing"},
    {"timezone", OPT_TIMEZONE, "ZONE", FOR(C(CMD_PARSE)),
     "read capture times in ZONE (default: site.timezone, else Asia/Shanghai)"},
    {"encoding", OPT_ENCODING, "ENC", FOR(C(CMD_PARSE)),
     "auto, utf-8 or gb18030 (default: auto)"},
    {"format", OPT_FORMAT, "FMT", FOR(C(CMD_PARSE)),
     "snapshot, jsonl or html (default: .jsonl, .html and .htm by name, else snapshot)"},
    {"quiet", OPT_QUIET, NULL, FOR(C(CMD_BUILD) | C(CMD_CHECK) | C(CMD_PING)),
     "print errors only"},
    {"verbose", OPT_VERBOSE, NULL, FOR(C(CMD_BUILD) | C(CMD_CHECK) | C(CMD_PING)),
     "also print a line per feed and per notification"},
    {"help", OPT_HELP, NULL, 0, "show this help and exit"},
    {"version", OPT_VERSION, NULL, 0, "show the version and exit"},
};

struct args {
    enum cmd cmd;
    const char *config;
    const char *output;
    bool dry_run;
    bool no_push;
    bool all;
    bool wait;
    bool no_manifest;
    bool rescan;
    unsigned jobs;      /* 0: the default */
    const char *timezone;
    enum sf_encoding encoding;
    int format;         /* enum sf_input_format, or -1: by the file's extension */
    int verbosity;      /* -1 quiet, 0 normal, 1 verbose */
    char **files;
    int n_files;
};

SF_PRINTF(1, 2) static void
warnx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("snapfeed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* status, unless what went to stdout could not all be written: a full
 * disk or a closed pipe must not pass for success. */
static int
stdout_status(int status)
{
    if (fflush(stdout) == EOF || ferror(stdout)) {
        warnx("<stdout>: write error");
        return SF_EXIT_FATAL;
    }
    return status;
}

static void
print_problem(const struct sf_error *e)
{
    char *s = error_format(e);
    warnx("%s", s);
    free(s);
}

static void
usage_line(FILE *out, enum cmd cmd)
{
    fprintf(out, "usage: snapfeed %s\n", cmd_synopsis[cmd]);
}

static void
help(enum cmd cmd)
{
    usage_line(stdout, cmd);
    if (cmd == CMD_NONE) {
        puts("\nTurn captured news articles into RSS, Atom and JSON feeds.\n\nCommands:");
        for (int i = 1; i < CMD_COUNT; i++)
            if (cmd_names[i])
                printf("  %-8s %s\n", cmd_names[i], cmd_help[i]);
        puts("\nRun 'snapfeed COMMAND --help' for a command's options.");
    } else {
        printf("\n%s.\n", cmd_help[cmd]);
    }
    puts("\nOptions:");
    for (size_t i = 0; i < SF_ARRAY_LEN(options); i++) {
        const struct option_spec *o = &options[i];
        if (o->cmds && cmd != CMD_NONE && !(o->cmds & C(cmd)))
            continue;
        if (o->cmds && cmd == CMD_NONE)
            continue;
        char left[48];
        if (o->id < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->id, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        printf("  %-24s %s\n", left, o->help);
    }
    puts("\nExit status: 0 ok, 1 fatal error, 2 usage error, 3 partial, 4 out of memory\n"
         "(see snapfeed(1)).");
}

static enum cmd
find_cmd(const char *name)
{
    for (int i = 1; i < CMD_COUNT; i++)
        if (cmd_names[i] && strcmp(cmd_names[i], name) == 0)
            return (enum cmd)i;
    return CMD_NONE;
}

/* Whether option o may be given to command cmd; says so when not. */
static bool
option_applies(const struct option_spec *o, enum cmd cmd)
{
    if (!o->cmds || (o->cmds & C(cmd)))
        return true;
    warnx("option --%s does not apply to '%s'", o->name, cmd_names[cmd]);
    return false;
}

/* Parses argv into a; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, struct args *a)
{
    struct option longopts[SF_ARRAY_LEN(options) + 1];
    /* "+": stop at the first non-option (the command, or parse's FILEs);
     * ":": a missing argument is told apart from an unknown option */
    char shortopts[64] = "+:";
    size_t sl = 2;
    for (size_t i = 0; i < SF_ARRAY_LEN(options); i++) {
        const struct option_spec *o = &options[i];
        longopts[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                      o->id};
        if (o->id < 256 && sl + 3 < sizeof shortopts) {
            shortopts[sl++] = (char)o->id;
            if (o->arg)
                shortopts[sl++] = ':';
        }
    }
    longopts[SF_ARRAY_LEN(options)] = (struct option){0};
    shortopts[sl] = '\0';

    /* snapfeed [--help|--version] COMMAND [options] [args]; options may
     * also come before the command, and are checked against it once it
     * is known */
    bool early[SF_ARRAY_LEN(options)] = {0};
    int i = 1;
    if (argc > 1 && argv[1][0] != '-') {
        a->cmd = find_cmd(argv[1]);
        if (a->cmd == CMD_NONE) {
            warnx("unknown command '%s'", argv[1]);
            usage_line(stderr, CMD_NONE);
            return SF_EXIT_USAGE;
        }
        i = 2;
    }
    optind = i;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (c == -1) {
            if (a->cmd != CMD_NONE)
                break;
            if (optind >= argc) {
                usage_line(stderr, CMD_NONE);
                return SF_EXIT_USAGE;
            }
            a->cmd = find_cmd(argv[optind]);
            if (a->cmd == CMD_NONE) {
                warnx("unknown command '%s'", argv[optind]);
                usage_line(stderr, CMD_NONE);
                return SF_EXIT_USAGE;
            }
            optind++;
            for (size_t k = 0; k < SF_ARRAY_LEN(options); k++)
                if (early[k] && !option_applies(&options[k], a->cmd))
                    return SF_EXIT_USAGE;
            continue;
        }
        if (c == ':') {
            warnx("option '%s' needs an argument", argv[optind - 1]);
            usage_line(stderr, a->cmd);
            return SF_EXIT_USAGE;
        }
        const struct option_spec *o = NULL;
        for (size_t k = 0; k < SF_ARRAY_LEN(options); k++)
            if (options[k].id == c) {
                o = &options[k];
                early[k] = a->cmd == CMD_NONE;
            }
        if (!o) {
            if (optopt && optopt < 256)
                warnx("unknown option '-%c'", optopt);
            else
                warnx("unknown option '%s'", argv[optind - 1]);
            usage_line(stderr, a->cmd);
            return SF_EXIT_USAGE;
        }
        if (a->cmd != CMD_NONE && !option_applies(o, a->cmd))
            return SF_EXIT_USAGE;
        switch (c) {
        case OPT_HELP:
            help(a->cmd);
            return stdout_status(SF_EXIT_OK);
        case OPT_VERSION:
            printf("snapfeed %s\n", SF_VERSION);
            return stdout_status(SF_EXIT_OK);
        case OPT_CONFIG:
            a->config = optarg;
            break;
        case OPT_OUTPUT:
            a->output = optarg;
            break;
        case OPT_DRY_RUN:
            a->dry_run = true;
            break;
        case OPT_JOBS: {
            char *end;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-' || n < 1 || n > 64) {
                warnx("--jobs must be a number from 1 to 64");
                return SF_EXIT_USAGE;
            }
            a->jobs = (unsigned)n;
            break;
        }
        case OPT_NO_PUSH:
            a->no_push = true;
            break;
        case OPT_ALL:
            a->all = true;
            break;
        case OPT_WAIT:
            a->wait = true;
            break;
        case OPT_NO_MANIFEST:
            a->no_manifest = true;
            break;
        case OPT_RESCAN:
            a->rescan = true;
            break;
        case OPT_TIMEZONE:
            a->timezone = optarg;
            break;
        case OPT_ENCODING:
            if (strcmp(optarg, "auto") == 0)
                a->encoding = SF_ENC_AUTO;
            else if (strcmp(optarg, "utf-8") == 0)
                a->encoding = SF_ENC_UTF8;
            else if (strcmp(optarg, "gb18030") == 0)
                a->encoding = SF_ENC_GB18030;
            else {
                warnx("--encoding must be auto, utf-8 or gb18030");
                return SF_EXIT_USAGE;
            }
            break;
        case OPT_FORMAT:
            a->format = -1;
            for (int k = 0; k < SF_INPUT_COUNT; k++)
                if (strcmp(optarg, config_input_format_names[k]) == 0)
                    a->format = k;
            if (a->format < 0) {
                warnx("--format must be snapshot, jsonl or html");
                return SF_EXIT_USAGE;
            }
            break;
        case OPT_QUIET:
            a->verbosity = -1;
            break;
        case OPT_VERBOSE:
            a->verbosity = 1;
            break;
        default:
            break;
        }
    }
    a->files = argv + optind;
    a->n_files = argc - optind;
    if (a->cmd == CMD_PARSE && a->n_files == 0) {
        warnx("parse needs at least one FILE");
        usage_line(stderr, CMD_PARSE);
        return SF_EXIT_USAGE;
    }
    if (a->cmd != CMD_PARSE && a->n_files > 0) {
        warnx("unexpected argument '%s'", a->files[0]);
        usage_line(stderr, a->cmd);
        return SF_EXIT_USAGE;
    }
    return -1;
}

/* Loads the configuration named by -c, or ./feeds.yaml.  Prints problems. */
static struct sf_config *
load_config(const struct args *a)
{
    struct sf_errors errs = {0};
    struct sf_config *c = config_load(a->config ? a->config : "feeds.yaml", &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_problem(&errs.v[i]);
    errors_finish(&errs);
    return c;
}

/* ---- parse ------------------------------------------------------------ */

struct parse_state {
    size_t records, rejected;
};

static void
parse_record(void *ctx, struct sf_record *r)
{
    struct parse_state *st = ctx;
    char *json = record_to_json(r);
    /* a failed write leaves ferror(stdout) set: stdout_status() reports it */
    fputs(json, stdout);
    fputc('\n', stdout);
    free(json);
    record_free(r);
    st->records++;
}

static void
parse_problem(void *ctx, const struct sf_error *e, bool warning)
{
    struct parse_state *st = ctx;
    if (!warning)
        st->rejected++;
    print_problem(e);
}

/* The format `parse` reads a file in when --format does not say. */
static enum sf_input_format
format_of(const char *path)
{
    static const struct {
        const char *ext;
        enum sf_input_format format;
    } exts[] = {
        {".jsonl", SF_INPUT_JSONL},
        {".html", SF_INPUT_HTML},
        {".htm", SF_INPUT_HTML},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < SF_ARRAY_LEN(exts); i++) {
        size_t k = strlen(exts[i].ext);
        if (n > k && strcasecmp(path + n - k, exts[i].ext) == 0)
            return exts[i].format;
    }
    return SF_INPUT_SNAPSHOT;
}

static int
cmd_parse(const struct args *a)
{
    struct sf_config *c = a->config ? load_config(a) : config_default();
    if (!c)
        return SF_EXIT_FATAL;
    const char *tz = a->timezone ? a->timezone : c->site.timezone;
    struct sf_zone zone;
    if (!when_zone_init(&zone, tz)) {
        warnx("unknown timezone '%s'", tz);
        config_free(c);
        return SF_EXIT_USAGE;
    }
    struct sf_input in = {
        .format = SF_INPUT_SNAPSHOT,
        .encoding = a->encoding,
        .category = (char *)"未分类",
    };
    if (c->n_inputs)
        in.category = c->inputs[0].category;
    struct sf_ingest_reader *reader = ingest_reader_new(c, &zone, false);
    struct parse_state st = {0};
    struct sf_ingest_cb cb = {&st, parse_record, parse_problem};
    for (int i = 0; i < a->n_files; i++) {
        in.format = a->format >= 0 ? (enum sf_input_format)a->format : format_of(a->files[i]);
        ingest_file(reader, &in, AT_FDCWD, a->files[i], a->files[i], NULL, &cb);
    }
    ingest_reader_free(reader);
    config_free(c);
    return stdout_status(st.rejected ? SF_EXIT_PARTIAL : SF_EXIT_OK);
}

/* ---- check ------------------------------------------------------------ */

/*
 * What to do about each problem check finds, by the words its message
 * contains.  The messages come from the parsers; the advice is for the
 * person running check, so it lives here.  tests/e2e/test_cli.py checks
 * that every rejected fixture gets advice.
 */
static const struct hint {
    const char *contains;
    const char *fix;
} hints[] = {
    /* JSON Lines and saved pages first: some of their messages contain
     * the words of a capture's below */
    {"not valid JSON", "each line must be one JSON object, as 'snapfeed parse' prints: fix or "
                       "remove the line (the column shows where)"},
    {"not a JSON object", "each line must be one JSON object with the fields of docs/record.md"},
    {" must be a", "the field has another type than docs/record.md gives it: fix the writer"},
    {"title is missing or empty", "give the record a \"title\""},
    {"no published or captured_at", "give the record a \"published\" time (RFC 3339, or "
                                    "YYYY-MM-DD HH:MM:SS in site.timezone) or a \"captured_at\""},
    {"and no captured_at to date it by", "write \"published\" as RFC 3339 or YYYY-MM-DD "
                                         "HH:MM[:SS] (docs/record.md lists the forms read)"},
    {"no category; using", "give the record a \"category\", or set inputs[].category"},
    {"using captured_at", "give the record its own \"published\" time; the capture time stands "
                          "in for it"},
    {"is not a host name", "captured_by must be the crawler's host name, such as td.fyun.cc"},
    {"no title: no JSON-LD", "the page names no title anywhere: save the article's own page, "
                             "whole"},
    {"no date: no datePublished", "the page says nowhere when it was published (JSON-LD, "
                                  "article:published_time, <time>, <meta name=PubDate>): save "
                                  "the article's own page, not an index"},
    {"no publication date; using", "the page gives only when it was modified; that dates it"},
    {"JSON-LD is not valid JSON", "the page's JSON-LD is broken; its other tags were used"},
    {"declares charset", "the page's <meta> names a charset its bytes are not in: fix the "
                         "<meta>, or leave it (the bytes were read right)"},
    {"unknown charset", "convert the page to UTF-8, or set inputs[].encoding"},
    {"byte order mark", "the file's first bytes (a BOM) name an encoding it is not in: remove "
                        "them, or convert the file"},
    {"paragraph longer than", "a paragraph that long is not article text: check the page"},
    {"empty file", "there is no text to read: capture the page again, or delete the file"},
    {"binary data", "not a text capture (an image, a failed download?): delete it, or narrow "
                    "inputs[].glob to the captures"},
    {"neither UTF-8 nor GB18030", "convert it to UTF-8 (iconv -f ENCODING -t UTF-8), or set "
                                  "inputs[].encoding"},
    {"not valid UTF-8", "convert it to UTF-8, or set inputs[].encoding: auto"},
    {"not valid GB18030", "convert it to UTF-8, or set inputs[].encoding: auto"},
    {"no title", "the first line of text must be the article's title: capture it again"},
    {"to date it by", "add a line '发布时间:YYYY-MM-DD HH:MM:SS' under the title, or the "
                      "'快照生成时间:' footer"},
    {"capture limit", "no capture is that large: delete the file, or keep it out of "
                      "inputs[].glob"},
    {"Permission denied", "make it readable by the user snapfeed runs as"},
    {"not a regular file", "inputs read regular files only: replace it with the file itself"},
    {"input not found", "create it, or correct inputs[].path (relative paths are taken from "
                        "feeds.yaml's directory)"},
    {"no 类别", "add a line '类别:CATEGORY' to the capture, or set inputs[].category"},
    {"is not a valid time", "write the date as YYYY-MM-DD HH:MM[:SS] (docs/record.md lists the "
                            "forms read)"},
    {"using 快照生成时间", "add '发布时间:' with the article's own time; the capture time "
                           "stands in for it"},
    {"is not an absolute http(s) URL", "the original link must start with http:// or https://"},
    {"is not an absolute URI", "give each line an id with a scheme (tag:, urn:, https:) or none; "
                               "the id is derived from title, time and source"},
    {"category longer than", "shorten the category; names are cut to 256 bytes"},
    {"line longer than", "a line that long is not article text: check the capture"},
    {"the rest dropped", "the capture is unusually long: check that it is one article"},
};

/* The advice for problem e, or NULL. */
static const char *
hint_for(const struct sf_error *e)
{
    for (size_t i = 0; i < SF_ARRAY_LEN(hints); i++)
        if (e->msg && strstr(e->msg, hints[i].contains))
            return hints[i].fix;
    return NULL;
}

/* Prints a list of problems, each with its advice. */
static void
print_explained(const char *what, const struct sf_errors *l)
{
    if (!l->n)
        return;
    printf("%s: %zu\n", what, l->n);
    for (size_t i = 0; i < l->n; i++) {
        char *s = error_format(&l->v[i]);
        const char *fix = hint_for(&l->v[i]);
        printf("  %s\n", s);
        if (fix)
            printf("    fix: %s\n", fix);
        free(s);
    }
}

/* Whether the build could write in dir: it, or the nearest directory
 * above it that exists, is writable. */
static bool
writable(const char *dir)
{
    char *p = xstrdup(dir);
    bool ok = false;
    for (;;) {
        if (access(p, F_OK) == 0) {
            ok = access(p, W_OK | X_OK) == 0;
            break;
        }
        char *slash = strrchr(p, '/');
        if (!slash) {
            ok = access(".", W_OK | X_OK) == 0;
            break;
        }
        if (slash == p) {
            ok = access("/", W_OK | X_OK) == 0;
            break;
        }
        *slash = '\0';
    }
    free(p);
    return ok;
}

struct check_state {
    struct sf_ingest_reader *reader;
    size_t files, records, rejected, warnings;
    /* categories seen, with counts, in first-seen order; sorted holds
     * their indices in strcmp order, so a lookup is a binary search (a
     * run may have a million records and ten thousand categories) */
    char **cats;
    size_t *counts;
    size_t *sorted;
    size_t n_cats, cap_cats;
    struct sf_errors problems;   /* rejections, printed again in the summary */
    struct sf_errors warned;     /* warnings, likewise */
    int verbosity;
};

/* Where name is, or would go, in st->sorted; *found says which. */
static size_t
check_find_category(const struct check_state *st, const char *name, bool *found)
{
    size_t lo = 0, hi = st->n_cats;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(st->cats[st->sorted[mid]], name);
        if (d == 0) {
            *found = true;
            return mid;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
check_record(void *ctx, struct sf_record *r)
{
    struct check_state *st = ctx;
    st->records++;
    bool found;
    size_t at = check_find_category(st, r->category, &found);
    size_t i = found ? st->sorted[at] : st->n_cats;
    if (!found && st->n_cats < SF_MAX_FEEDS) {
        if (st->n_cats == st->cap_cats) {
            st->cap_cats = st->cap_cats ? st->cap_cats * 2 : 16;
            st->cats = xreallocarray(st->cats, st->cap_cats, sizeof *st->cats);
            st->counts = xreallocarray(st->counts, st->cap_cats, sizeof *st->counts);
            st->sorted = xreallocarray(st->sorted, st->cap_cats, sizeof *st->sorted);
        }
        memmove(st->sorted + at + 1, st->sorted + at, (st->n_cats - at) * sizeof *st->sorted);
        st->sorted[at] = i;
        st->cats[i] = xstrdup(r->category);
        st->counts[i] = 0;
        st->n_cats++;
    }
    if (i < st->n_cats)
        st->counts[i]++;
    record_free(r);
}

static void
check_problem(void *ctx, const struct sf_error *e, bool warning)
{
    struct check_state *st = ctx;
    if (warning) {
        st->warnings++;
        if (st->verbosity >= 0)
            print_problem(e);
        errors_add(&st->warned, e->path, e->line, 0, "%s", e->msg);
        return;
    }
    st->rejected++;
    print_problem(e);
    errors_add(&st->problems, e->path, e->line, 0, "%s", e->msg);
}

static bool
check_file(void *ctx, const struct sf_file *f)
{
    struct check_state *st = ctx;
    struct sf_ingest_cb cb = {st, check_record, check_problem};
    st->files++;
    ingest_file(st->reader, f->input, f->dirfd, f->name, f->path, &f->st, &cb);
    return true;
}

/* Problems of the configuration as a whole that loading it cannot see,
 * each with its fix. */
static void
check_setup(const struct sf_config *c, const struct check_state *st, struct sf_errors *out)
{
    for (size_t i = 0; i < c->n_feeds; i++) {
        const struct sf_feed_conf *fc = &c->feeds[i];
        bool seen;
        check_find_category(st, fc->category, &seen);
        if (!seen)
            errors_add(out, c->path, fc->line, 0,
                       "feeds[] names category '%s', but no capture has it, so it gets no "
                       "feed; check its spelling against the categories above",
                       fc->category);
    }
    /* build refuses past the limit before writing anything: say so now */
    size_t captures = st->records + st->rejected;
    if (captures > c->limits.max_captures)
        errors_add(out, c->path, 0, 0,
                   "the inputs hold %zu captures, more than limits.max_captures (%u), so build "
                   "will refuse to run; raise the limit, or move old captures out of the inputs",
                   captures, c->limits.max_captures);
    const char *dirs[][2] = {{"output.dir", c->output.dir},
                             {"output.state_dir", c->output.state_dir}};
    for (size_t i = 0; i < SF_ARRAY_LEN(dirs); i++)
        if (!writable(dirs[i][1]))
            errors_add(out, c->path, 0, 0,
                       "%s '%s' is not writable by this user, so build will fail; change its "
                       "owner, or run snapfeed as the user that owns it",
                       dirs[i][0], dirs[i][1]);
    /* as written: check has no business resolving links the build would
     * refuse to follow */
    if (path_inside(c->output.state_dir, c->output.dir))
        errors_add(out, c->path, 0, 0,
                   "output.state_dir '%s' is inside output.dir, so the web server publishes "
                   "it; move it out",
                   c->output.state_dir);
    for (size_t i = 0; i < c->n_inputs; i++)
        if (path_inside(c->output.dir, c->inputs[i].path))
            errors_add(out, c->path, c->inputs[i].line, 0,
                       "output.dir '%s' is inside inputs[].path '%s', so builds could read "
                       "their own output; move one of them",
                       c->output.dir, c->inputs[i].path);
}

static int
cmd_check(const struct args *a)
{
    struct sf_config *c = load_config(a);
    if (!c) {
        warnx("fix: correct the lines named above; feeds.yaml(5) gives every key with its type "
              "and default");
        return SF_EXIT_FATAL;
    }
    struct sf_zone zone;
    if (!when_zone_init(&zone, c->site.timezone)) {
        warnx("unknown timezone '%s'", c->site.timezone);
        config_free(c);
        return SF_EXIT_FATAL;
    }
    struct check_state st = {.verbosity = a->verbosity};
    st.reader = ingest_reader_new(c, &zone, true);
    struct sf_error err = {0};
    int status = SF_EXIT_OK;
    struct sf_errors setup = {0};
    if (!ingest_walk(c, 1, NULL, check_file, &st, &err)) {
        print_problem(&err);
        const char *fix = hint_for(&err);
        if (fix)
            warnx("fix: %s", fix);
        status = SF_EXIT_FATAL;
        goto out;
    }
    check_setup(c, &st, &setup);
    if (a->verbosity >= 0) {
        printf("%s: %zu input%s, %zu files, %zu records, %zu rejected, %zu warnings\n", c->path,
               c->n_inputs, c->n_inputs == 1 ? "" : "s", st.files, st.records, st.rejected,
               st.warnings);
        printf("categories: %zu\n", st.n_cats);
        for (size_t i = 0; i < st.n_cats; i++) {
            const struct sf_feed_conf *fc = config_feed(c, st.cats[i]);
            char *slug = fc && fc->slug ? xstrdup(fc->slug) : slug_derive(st.cats[i], false);
            printf("  %-12s %6zu  -> %s/\n", st.cats[i], st.counts[i], slug);
            if (!fc || !fc->slug)
                printf("    category '%s' has no slug; feeds will use '%s'; set feeds[].slug to "
                       "choose\n",
                       st.cats[i], slug);
            free(slug);
        }
        print_explained("rejected", &st.problems);
        print_explained("warnings", &st.warned);
        print_explained("problems", &setup);
        if (!st.problems.n && !st.warned.n && !setup.n)
            puts("no problem found");
    } else {
        /* -q: the problems only, on stderr */
        for (size_t i = 0; i < setup.n; i++)
            print_problem(&setup.v[i]);
    }
    if (st.rejected || setup.n)
        status = SF_EXIT_PARTIAL;
out:
    for (size_t i = 0; i < st.n_cats; i++)
        free(st.cats[i]);
    free(st.cats);
    free(st.counts);
    free(st.sorted);
    errors_finish(&st.problems);
    errors_finish(&st.warned);
    errors_finish(&setup);
    error_finish(&err);
    ingest_reader_free(st.reader);
    config_free(c);
    return stdout_status(status);
}

/* ---- progress --------------------------------------------------------- */

/*
 * On a terminal, a build that takes longer than a moment shows one line
 * on stderr, redrawn in place and erased at the end, like git's progress
 * ("snapfeed: reading: 12345 files, 4321/s, 3 rejected").  Nothing of it
 * reaches a file, a pipe or cron's mail: it is drawn only when stderr is
 * a terminal, and never with -q.  SNAPFEED_PROGRESS_DELAY sets the
 * moment (seconds, default 1), as GIT_PROGRESS_DELAY does for git.
 */
#define PROGRESS_DELAY 1.0
#define PROGRESS_EVERY 0.1     /* seconds between redraws */

struct progress {
    bool enabled;
    double start, last;
    double delay;
    int width;              /* of the line on screen; 0: none shown */
    bool writing;           /* the stage last shown */
};

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
progress_init(struct progress *p, int verbosity)
{
    *p = (struct progress){.enabled = verbosity >= 0 && isatty(STDERR_FILENO),
                           .delay = PROGRESS_DELAY};
    const char *env = getenv("SNAPFEED_PROGRESS_DELAY");
    if (env && *env) {
        char *end;
        double d = strtod(env, &end);
        if (!*end && d >= 0 && d <= 86400)
            p->delay = d;
    }
    p->start = p->last = now();
}

/* Erases the line, so that a message can take its place. */
static void
progress_clear(struct progress *p)
{
    if (p && p->width) {
        fprintf(stderr, "\r%*s\r", p->width, "");
        fflush(stderr);
        p->width = 0;
    }
}

static void
progress_draw(struct progress *p, const struct sf_build_progress *bp, bool force)
{
    if (!p->enabled)
        return;
    double t = now();
    bool writing = bp->feeds > 0;
    /* At most every PROGRESS_EVERY, but at once when there is no line on
     * the screen (a message took its place) or the stage changes. */
    if (t - p->start < p->delay ||
        (!force && p->width && writing == p->writing && t - p->last < PROGRESS_EVERY))
        return;
    p->last = t;
    p->writing = writing;
    char line[128];
    int n;
    if (bp->feeds)
        n = snprintf(line, sizeof line, "snapfeed: writing: %zu/%zu feeds", bp->feeds_done,
                     bp->feeds);
    else
        n = snprintf(line, sizeof line, "snapfeed: reading: %zu file%s, %.0f/s, %zu rejected",
                     bp->files, bp->files == 1 ? "" : "s", (double)bp->files / (t - p->start),
                     bp->rejected);
    if (n < 0)
        return;
    /* Shorter than the last line: blanks cover the rest of it. */
    fprintf(stderr, "\r%s%*s", line, p->width > n ? p->width - n : 0, "");
    fflush(stderr);
    p->width = n > p->width ? n : p->width;
}

/* ---- build ------------------------------------------------------------ */

struct build_print {
    int verbosity;
    bool dry_run;
    struct progress *progress;  /* NULL: none */
};

static void
build_problem(void *ctx, const struct sf_error *e, bool warning)
{
    const struct build_print *p = ctx;
    if (!warning || p->verbosity >= 0) {
        progress_clear(p->progress);
        print_problem(e);
    }
}

static void
build_progress(void *ctx, const struct sf_build_progress *bp)
{
    const struct build_print *p = ctx;
    if (p->progress)
        progress_draw(p->progress, bp, false);
}

static void
build_feed(void *ctx, const char *slug, const char *title, size_t n_items,
           const char *const *changed, size_t n_changed, size_t n_pages)
{
    const struct build_print *p = ctx;
    if (p->verbosity < 1)
        return;
    progress_clear(p->progress);
    printf("%s/: %zu item%s, ", slug, n_items, n_items == 1 ? "" : "s");
    if (!n_changed && !n_pages)
        printf("unchanged");
    for (size_t i = 0; i < n_changed; i++)
        printf("%s%s", i ? " " : p->dry_run ? "would change " : "changed ", changed[i]);
    if (n_pages)
        printf("%s%zu archive page%s", n_changed ? " and " : p->dry_run ? "would change " : "changed ",
               n_pages, n_pages == 1 ? "" : "s");
    printf(" (%s)\n", title);
}

/* Parsing threads: one per CPU online, up to 8 (past that the disk and the
 * in-order commit are the limit). */
static unsigned
default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

static void
build_notified(void *ctx, const char *hub, const char *topic)
{
    const struct build_print *p = ctx;
    if (p->verbosity >= 1) {
        progress_clear(p->progress);
        printf("notified %s of %s\n", hub, topic);
    }
}

/* One line per notification still failing, and the count of those sent. */
static void
push_report(const struct sf_build_result *res, int verbosity, bool always)
{
    for (size_t i = 0; i < res->push_failed.n; i++)
        print_problem(&res->push_failed.v[i]);
    if (verbosity < 0 || (!always && !res->notified && !res->push_failed.n))
        return;
    if (!res->notified && !res->push_failed.n)
        puts("no notification to send");
    else
        printf("%zu notification%s accepted, %zu queued\n", res->notified,
               res->notified == 1 ? "" : "s", res->queued);
}

static int
cmd_build(const struct args *a)
{
    struct sf_config *c = load_config(a);
    if (!c)
        return SF_EXIT_FATAL;
    struct progress progress;
    progress_init(&progress, a->verbosity);
    struct build_print p = {a->verbosity, a->dry_run, &progress};
    struct sf_build_report report = {&p, build_problem, build_feed, build_notified,
                                     build_progress};
    struct sf_build_opts opts = {
        .output_dir = a->output,
        .dry_run = a->dry_run,
        .no_push = a->no_push,
        .lock = a->wait ? SF_LOCK_WAIT : SF_LOCK_TRY,
        .jobs = a->jobs ? a->jobs : default_jobs(),
        .no_manifest = a->no_manifest,
        .rescan = a->rescan,
        .started = (int64_t)time(NULL),
    };
    struct sf_build_result res;
    struct sf_error err = {0};
    enum sf_build_status st = build_run(c, &opts, &report, &res, &err);
    progress_clear(&progress);
    int status = SF_EXIT_OK;
    if (st == SF_BUILD_FAILED || st == SF_BUILD_BUSY) {
        push_report(&res, -1, false);
        print_problem(&err);
        status = SF_EXIT_FATAL;
    } else {
        if (a->verbosity >= 0) {
            if (a->dry_run)
                for (size_t i = 0; i < res.n_changed; i++)
                    printf("would write %s/%s\n", a->output ? a->output : c->output.dir,
                           res.changed[i]);
            printf("%zu captures, %zu rejected, %zu feeds, %zu %s\n", res.captures,
                   res.rejected, res.feeds, res.changed_feeds,
                   a->dry_run ? "would change" : "changed");
            if (a->verbosity > 0)
                printf("%zu files parsed, %zu unchanged since the last run; "
                       "%zu catalog entries read back\n",
                       res.parsed, res.reused, res.refilled);
            if (a->verbosity > 0 && (res.dirs_trusted || res.dirs_listed))
                printf("%zu directories taken as settled, %zu listed\n", res.dirs_trusted,
                       res.dirs_listed);
        }
        push_report(&res, a->verbosity, false);
        status = st == SF_BUILD_PARTIAL ? SF_EXIT_PARTIAL : SF_EXIT_OK;
    }
    build_result_finish(&res);
    error_finish(&err);
    config_free(c);
    return stdout_status(status);
}

/* ---- ping ------------------------------------------------------------- */

static int
cmd_ping(const struct args *a)
{
    struct sf_config *c = load_config(a);
    if (!c)
        return SF_EXIT_FATAL;
    struct build_print p = {a->verbosity, false, NULL};
    struct sf_build_report report = {&p, build_problem, NULL, build_notified, NULL};
    struct sf_ping_opts opts = {.output_dir = a->output, .all = a->all};
    struct sf_build_result res;
    struct sf_error err = {0};
    enum sf_build_status st = build_ping(c, &opts, &report, &res, &err);
    int status;
    if (st == SF_BUILD_FAILED) {
        push_report(&res, -1, false);
        print_problem(&err);
        status = SF_EXIT_FATAL;
    } else {
        push_report(&res, a->verbosity, true);
        status = st == SF_BUILD_PARTIAL ? SF_EXIT_PARTIAL : SF_EXIT_OK;
    }
    build_result_finish(&res);
    error_finish(&err);
    config_free(c);
    return stdout_status(status);
}

int
main(int argc, char **argv)
{
    /* Past a file-size limit, a write should fail with EFBIG and be
     * reported like a full disk, not kill the run. */
    signal(SIGXFSZ, SIG_IGN);
    /* One out-of-memory policy for the libraries too (util.h). */
    render_init();
    record_init();
    struct args a = {.format = -1};
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    switch (a.cmd) {
    case CMD_PARSE:
        return cmd_parse(&a);
    case CMD_CHECK:
        return cmd_check(&a);
    case CMD_BUILD:
        return cmd_build(&a);
    case CMD_PING:
        return cmd_ping(&a);
    default:
        warnx("'%s' is not available yet", cmd_names[a.cmd]);
        return SF_EXIT_USAGE;
    }
}
