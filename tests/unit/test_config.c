/* SPDX-License-Identifier: MIT */
/* test_config.c - feeds.yaml: defaults, every check, line and column */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define SITE "site: {title: T, base_url: 'https://example.org/news'}\n"
#define INPUTS "inputs: [{path: captures}]\n"

static const struct {
    const char *yaml;
    const char *error;   /* NULL: loads; else the first error, "LINE:COL: message" */
} cases[] = {
    {SITE INPUTS, NULL},
    {"site:\n  title: T\n  base_url: https://example.org/\n  timezone: Asia/Tokyo\n"
     "  language: ja\ninputs:\n  - path: a\n    format: jsonl\n    encoding: gb18030\n"
     "    glob: ['*.json', '*.jsonl']\n    category: 杂项\noutput:\n  dir: out\n"
     "  formats: [rss, json]\n  max_items: 10\nfeeds:\n  - {category: 教育, slug: edu, title: 教育新闻}\n"
     "websub:\n  hubs: [https://hub.example/]\n  timeout: 2.5\n  retries: 1\n",
     NULL},
    {SITE INPUTS "colour: red\n", "3:1: unknown key 'colour' in the configuration"},
    {"site: {title: T, base_url: 'https://example.org/', extra: 1}\n" INPUTS,
     "1:52: unknown key 'extra' in site"},
    {"site: {title: T}\n" INPUTS, "1:7: missing required key 'base_url' in site"},
    {INPUTS, "1:1: missing required key 'site' in the configuration"},
    {SITE, "1:1: missing required key 'inputs' in the configuration"},
    {"site: {title: T, base_url: /news/}\n" INPUTS,
     "1:28: site.base_url must be an absolute http or https URL, not '/news/'"},
    {"site: {title: T, base_url: 'ftp://example.org/'}\n" INPUTS,
     "1:28: site.base_url must be an absolute http or https URL, not 'ftp://example.org/'"},
    {"site: {title: T, base_url: 'javascript:alert(1)//'}\n" INPUTS,
     "1:28: site.base_url must be an absolute http or https URL, not 'javascript:alert(1)//'"},
    {"site: {title: T, base_url: 'file:///etc/'}\n" INPUTS,
     "1:28: site.base_url must be an absolute http or https URL, not 'file:///etc/'"},
    {"site: {title: T, base_url: 'https://example.org/', timezone: Mars/Base}\n" INPUTS,
     "1:62: unknown timezone 'Mars/Base' (an IANA name such as Asia/Shanghai)"},
    {SITE INPUTS "output: {max_items: -5}\n", "3:21: output.max_items must not be negative"},
    {SITE INPUTS "output: {max_items: 0}\n", "3:21: output.max_items must be between 1 and 10000"},
    {SITE INPUTS "output: {max_items: ten}\n", "3:21: output.max_items must be a whole number"},
    {SITE INPUTS "output: {formats: [rss, pdf]}\n",
     "3:25: output.formats[] must be one of: rss, atom, json"},
    {SITE INPUTS "output: {formats: [rss, rss]}\n", "3:25: output.formats lists 'rss' twice"},
    {SITE INPUTS "output: {formats: []}\n", "3:19: output.formats must be a non-empty list"},
    {SITE "inputs: []\n", "2:9: inputs must be a non-empty list"},
    {SITE "inputs: [{format: snapshot}]\n", "2:10: missing required key 'path' in inputs[]"},
    {SITE "inputs: [{path: a, settled_after: 0}]\n",
     "2:35: inputs[].settled_after must be a duration from 1s to 30d, like 90, 30m, 6h or 2d"},
    {SITE "inputs: [{path: a, settled_after: 31d}]\n",
     "2:35: inputs[].settled_after must be a duration from 1s to 30d, like 90, 30m, 6h or 2d"},
    {SITE "inputs: [{path: a, settled_after: 1w}]\n",
     "2:35: inputs[].settled_after must be a duration from 1s to 30d, like 90, 30m, 6h or 2d"},
    {SITE "inputs: [{path: a, settled_after: -5}]\n",
     "2:35: inputs[].settled_after must be a duration from 1s to 30d, like 90, 30m, 6h or 2d"},
    {SITE "inputs: [{path: a, settled_after: '1h'}]\n",
     "2:35: inputs[].settled_after must be a duration from 1s to 30d, like 90, 30m, 6h or 2d"},
    {SITE "inputs: [{path: a, settled_after: 99999999999999999999h}]\n",
     "2:35: inputs[].settled_after must be a duration from 1s to 30d, like 90, 30m, 6h or 2d"},
    {SITE "inputs: [{path: a, format: pdf}]\n",
     "2:28: inputs[].format must be one of: snapshot, jsonl, html"},
    {SITE "inputs: [{path: a, glob: 'x/*.txt'}]\n",
     "2:26: inputs[].glob matches file names, so it cannot contain '/'"},
    {SITE "inputs: [{path: [a]}]\n", "2:17: inputs[].path must be a string, not a list"},
    {SITE INPUTS "feeds: [{category: 教育, slug: ../x}]\n",
     "3:30: feeds[].slug '../x' is not a safe directory name (1-64 letters, digits, '-' or '_', "
     "not starting with '-', not 'all')"},
    {SITE INPUTS "feeds: [{category: a, slug: x}, {category: a, slug: y}]\n",
     "3:33: category 'a' is listed twice in feeds"},
    {SITE INPUTS "websub: {hubs: ['ftp://hub.example/']}\n",
     "3:17: websub.hubs[] must be an absolute http or https URL, not 'ftp://hub.example/'"},
    {SITE INPUTS "websub: {hubs: ['file:///var/run/hub']}\n",
     "3:17: websub.hubs[] must be an absolute http or https URL, not 'file:///var/run/hub'"},
    {SITE INPUTS "websub: {hubs: ['https:/hub.example/']}\n",
     "3:17: websub.hubs[] must be an absolute http or https URL, not 'https:/hub.example/'"},
    {SITE INPUTS "websub: {timeout: -1}\n",
     "3:19: websub.timeout must be a number of seconds between 0 and 3600"},
    {SITE INPUTS "x: &a [1]\ny: *a\n", "4:4: YAML aliases are not allowed"},
    {SITE INPUTS "---\n" SITE, "3:1: only one YAML document is allowed"},
    {"site: [unclosed\n", "2:1: invalid YAML: did not find expected ',' or ']'"},
    {"", "the configuration is empty"},
    {"- a\n- b\n", "1:1: the configuration must be a mapping, not a list"},
    {SITE SITE INPUTS, "2:1: duplicate key 'site' in the configuration"},
    {"site: {title: \"bad\\u0001\", base_url: 'https://example.org/'}\n" INPUTS,
     "1:15: site.title must not contain control characters"},
    {SITE INPUTS "feeds: [{category: \"a\\u0085\"}]\n",
     "3:20: feeds[].category must not contain control characters"},
    /* A quoted empty string is no value either (fuzz_config). */
    {"site: {title: \"\", base_url: 'https://example.org/'}\n" INPUTS,
     "1:15: site.title must be a string, not empty"},
    {SITE INPUTS "feeds: [{category: ''}]\n", "3:20: feeds[].category must be a string, not empty"},
};

static void
test_cases(void **state)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sf_errors errs = {0};
        struct sf_config *c =
            config_load_buffer(cases[i].yaml, strlen(cases[i].yaml), "feeds.yaml", &errs);
        if (!cases[i].error) {
            if (!c || errs.n)
                fail_msg("case %zu should load: %s", i, errs.n ? errs.v[0].msg : "?");
        } else {
            if (c || !errs.n)
                fail_msg("case %zu should fail", i);
            char *got = error_format(&errs.v[0]);
            char want[1024];
            snprintf(want, sizeof want, "feeds.yaml:%s", cases[i].error);
            if (strcmp(got, want) != 0 && !(strchr(cases[i].error, ':') == NULL &&
                                            strcmp(got, "feeds.yaml: the configuration is empty") == 0)) {
                print_error("case %zu:\n got: %s\nwant: %s\n", i, got, want);
                failures++;
            }
            free(got);
        }
        config_free(c);
        errors_finish(&errs);
    }
    assert_int_equal(failures, 0);
}

static void
test_defaults_and_paths(void **state)
{
    const char *y = SITE INPUTS;
    struct sf_errors errs = {0};
    struct sf_config *c = config_load_buffer(y, strlen(y), "/srv/news/feeds.yaml", &errs);
    assert_non_null(c);
    assert_string_equal(c->site.base_url, "https://example.org/news/");
    assert_string_equal(c->site.host, "example.org");
    assert_string_equal(c->site.language, "zh-CN");
    assert_string_equal(c->site.timezone, "Asia/Shanghai");
    assert_string_equal(c->inputs[0].path, "/srv/news/captures");
    assert_string_equal(c->inputs[0].globs[0], "*.txt");
    assert_string_equal(c->inputs[0].category, "未分类");
    assert_int_equal(c->inputs[0].format, SF_INPUT_SNAPSHOT);
    assert_int_equal(c->inputs[0].encoding, SF_ENC_AUTO);
    assert_string_equal(c->output.dir, "/srv/news/public");
    assert_int_equal(c->output.max_items, 50);
    assert_true(c->output.formats[SF_FEED_RSS] && c->output.formats[SF_FEED_ATOM] &&
                c->output.formats[SF_FEED_JSON]);
    assert_int_equal(c->websub.n_hubs, 0);
    assert_int_equal(c->inputs[0].settled_after, 0);
    config_free(c);
    errors_finish(&errs);

    static const struct {
        const char *v;
        unsigned seconds;
    } durations[] = {{"90", 90}, {"90s", 90}, {"30m", 1800}, {"6h", 21600}, {"2d", 172800},
                     {"1", 1}, {"30d", 2592000}, {"43200m", 2592000}};
    for (size_t i = 0; i < SF_ARRAY_LEN(durations); i++) {
        char *yy = xasprintf(SITE "inputs: [{path: a, settled_after: %s}]\n", durations[i].v);
        c = config_load_buffer(yy, strlen(yy), "/srv/news/feeds.yaml", &errs);
        assert_non_null(c);
        assert_int_equal(c->inputs[0].settled_after, durations[i].seconds);
        config_free(c);
        errors_finish(&errs);
        free(yy);
    }
}

/* A base_url whose host is longer than 1 KiB still gives its host, which
 * the tag: ids are made of (fuzz_config found it left NULL). */
static void
test_long_host(void **state)
{
    char y[4096];
    char host[1501];
    memset(host, 'a', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(y, sizeof y, "site: {title: T, base_url: 'https://%s.example/'}\n" INPUTS, host);
    struct sf_errors errs = {0};
    struct sf_config *c = config_load_buffer(y, strlen(y), "feeds.yaml", &errs);
    assert_non_null(c);
    assert_non_null(c->site.host);
    assert_int_equal(strlen(c->site.host), strlen(host) + strlen(".example"));
    config_free(c);
    errors_finish(&errs);
}

static void
test_several_errors(void **state)
{
    const char *y = "site: {title: T, base_url: x, bogus: 1}\ninputs: [{path: a, format: b}]\n"
                    "output: {max_items: -1}\n";
    struct sf_errors errs = {0};
    assert_null(config_load_buffer(y, strlen(y), "feeds.yaml", &errs));
    assert_int_equal(errs.n, 4);   /* every problem, not just the first */
    errors_finish(&errs);
}

static void
test_hostile(void **state)
{
    /* 10,000-deep nesting is refused at the depth limit, without recursion. */
    size_t depth = 10000;
    char *deep = malloc(depth * 2 + 64);
    size_t n = 0;
    memcpy(deep, "site: ", 6);
    n = 6;
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    struct sf_errors errs = {0};
    assert_null(config_load_buffer(deep, n, "feeds.yaml", &errs));
    assert_true(errs.n >= 1);
    assert_non_null(strstr(errs.v[0].msg, "nested deeper than"));
    errors_finish(&errs);
    free(deep);

    /* A billion-laughs alias bomb never expands: the first alias is refused. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b]\n";
    assert_null(config_load_buffer(bomb, strlen(bomb), "feeds.yaml", &errs));
    assert_non_null(strstr(errs.v[0].msg, "aliases are not allowed"));
    errors_finish(&errs);

    /* 10 MB is refused before it is parsed. */
    size_t big = 10u << 20;
    char *huge = malloc(big);
    memset(huge, '#', big);
    assert_null(config_load_buffer(huge, big, "feeds.yaml", &errs));
    assert_non_null(strstr(errs.v[0].msg, "configuration limit"));
    errors_finish(&errs);
    free(huge);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_defaults_and_paths),
        cmocka_unit_test(test_long_host),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
