/* SPDX-License-Identifier: MIT */
#pragma once

/* Lua scripts run by their SHA-1 (EVALSHA), so Redis neither receives nor hashes the script text
 * on every call; when Redis does not know the script (restarted, SCRIPT FLUSH) the same call is
 * sent again with the text (EVAL), which loads it. */

#include "redis.h"

typedef struct RedisScript {
        const char *text;
        char sha[41];          /* lowercase hex, computed on first use */
} RedisScript;

#define REDIS_SCRIPT(t) { .text = (t) }

/* Runs @script with @argc arguments @argv (numkeys, the keys, then the arguments; @argvlen NULL
 * for C strings), which are copied. @cb gets exactly one reply, as redis_command_argv() gives it.
 * Returns 0, or a negative errno (nothing was sent, @cb is not called). */
int redis_script_eval(Redis *r, RedisScript *script, RedisReplyFn cb, void *userdata, int argc, const char **argv,
                      const size_t *argvlen);
