/* SPDX-License-Identifier: MIT */
/* fuzz_websub.c - the WebSub queue file: any bytes -> notices of URLs, written back as read */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"
#include "websub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The queue file (state_dir/websub-queue) is read at every build and
 * ping, and a person may edit it.  Whatever its bytes: each line dropped
 * has its warning, every notice kept is a hub URL and a topic URL as
 * url_is_http() takes them, no notice twice, and what
 * websub_queue_format() writes reads back as the same notices in the same
 * order, with nothing dropped.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sf_websub_queue q, back;
    websub_queue_init(&q);
    websub_queue_init(&back);
    struct sf_errors problems = {0};
    size_t dropped = websub_queue_parse(&q, (const char *)data, size, "q", &problems);
    if (dropped != problems.n)
        abort();
    for (size_t i = 0; i < q.n; i++) {
        if (!url_is_http(q.v[i].hub) || !url_is_http(q.v[i].topic) ||
            strchr(q.v[i].hub, '\t'))
            abort();
        for (size_t k = 0; k < i; k++)
            if (strcmp(q.v[k].hub, q.v[i].hub) == 0 && strcmp(q.v[k].topic, q.v[i].topic) == 0)
                abort();
    }
    struct sf_buf out;
    buf_init(&out, 0);
    if (!websub_queue_format(&q, &out))
        abort();
    errors_finish(&problems);
    if (websub_queue_parse(&back, out.data, out.len, "q", &problems) != 0 || back.n != q.n)
        abort();
    for (size_t i = 0; i < q.n; i++)
        if (strcmp(back.v[i].hub, q.v[i].hub) != 0 || strcmp(back.v[i].topic, q.v[i].topic) != 0)
            abort();
    buf_finish(&out);
    errors_finish(&problems);
    websub_queue_finish(&q);
    websub_queue_finish(&back);
    return 0;
}
