/* SPDX-License-Identifier: MIT */
/* replay.c - run a fuzz target over saved inputs, without libFuzzer */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Each argument is a file, or a directory whose files (not recursively,
 * names starting with '.' aside) are inputs: the seed corpus and the
 * inputs of past crashes, so every test run replays them through the same
 * entry point the fuzzer drives.  The target aborts on a broken
 * invariant; this returns 1 when an input cannot be read.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 1 << 16, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return 1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int
main(int argc, char **argv)
{
    int status = 0;
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
                char *path = malloc(len);
                if (!path)
                    return 1;
                snprintf(path, len, "%s/%s", argv[i], e->d_name);
                status |= replay_file(path);
                count++;
                free(path);
            }
            if (d)
                closedir(d);
        } else {
            status |= replay_file(argv[i]);
            count++;
        }
    }
    printf("%zu inputs replayed\n", count);
    return status;
}
