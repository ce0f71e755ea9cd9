/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers for the unit tests: reading files of ../shared/reference and temporary directories. */

#undef NDEBUG
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "macro.h"

#define EXIT_TEST_SKIP 77

/* Reads @path into a new NUL-terminated buffer; NULL when it cannot be opened. */
static inline char *test_read_file(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                return NULL;
        assert(fseek(f, 0, SEEK_END) == 0);
        n = ftell(f);
        assert(n >= 0);
        rewind(f);
        buf = malloc((size_t) n + 1);
        assert(buf);
        assert(fread(buf, 1, (size_t) n, f) == (size_t) n);
        buf[n] = 0;
        fclose(f);
        if (ret_len)
                *ret_len = (size_t) n;
        return buf;
}

/* Reads $TGFLEET_REFERENCE/@name into a new NUL-terminated buffer; exits 77 when the reference
 * directory is not there. */
static inline char *test_read_reference(const char *name, size_t *ret_len) {
        const char *dir = getenv("TGFLEET_REFERENCE");
        char path[4096], *buf;

        if (!dir) {
                fprintf(stderr, "TGFLEET_REFERENCE is not set, skipping.\n");
                exit(EXIT_TEST_SKIP);
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        buf = test_read_file(path, ret_len);
        if (!buf) {
                fprintf(stderr, "%s: %m, skipping.\n", path);
                exit(EXIT_TEST_SKIP);
        }
        return buf;
}

/* Writes @content to @dir/@name. */
static inline void test_write_file(const char *dir, const char *name, const char *content) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        assert(f);
        fputs(content, f);
        assert(fclose(f) == 0);
}

/* CLOCK_MONOTONIC in µs. */
static inline uint64_t test_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Runs the sd-event loop @event until @cond (evaluated once a round) holds or @timeout_usec
 * passes; returns whether it held. */
#define TEST_RUN_UNTIL(event, cond, timeout_usec)                                               \
        ({                                                                                      \
                uint64_t _end = test_now_usec() + (timeout_usec);                               \
                bool _held;                                                                     \
                while (!(_held = (cond)) && test_now_usec() < _end)                             \
                        assert(sd_event_run((event), 10 * USEC_PER_MSEC) >= 0);                 \
                _held;                                                                          \
        })
