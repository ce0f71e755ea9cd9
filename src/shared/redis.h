/* SPDX-License-Identifier: MIT */
#pragma once

/* A hiredis async connection on an sd-event loop that keeps itself connected: it reconnects with
 * backoff after any failure, and a command with no reply within the timeout (a hung or
 * unreachable server) drops the connection, failing every pending command. */

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "creds.h"

typedef struct Redis Redis;

/* Called with the reply (NULL when the connection failed or closed) for each command. */
typedef void (*RedisReplyFn)(Redis *r, redisReply *reply, void *userdata);

/* Called when the connection comes up (@up true), and once for each outage: when an established
 * connection is lost, or when the first attempt fails; redis_error() then says why. */
typedef void (*RedisStateFn)(Redis *r, bool up, void *userdata);

/* Why the connection last failed or was dropped, one line without a secret; valid until the
 * next call into @r. */
const char *redis_error(const Redis *r);

typedef struct RedisAddress {
        char *host;       /* NULL for a unix socket */
        unsigned port;
        char *path;       /* unix socket path, or NULL */
        unsigned db;
} RedisAddress;

/* Parses "redis://host[:port][/db]", "redis://[v6]:port/db" or "unix:///path[?db=N]". Passwords
 * do not belong in URLs: they come from the "redis-password" credential. Returns 0 or -EINVAL. */
int redis_address_parse(const char *url, RedisAddress *ret);
void redis_address_done(RedisAddress *a);

/* Creates the client and starts connecting. @password may be NULL (copied if not). Returns 0,
 * -EINVAL for a bad URL, -ENOMEM. */
int redis_new(sd_event *e, const char *url, const Secret *password, uint64_t command_timeout_usec,
              Redis **ret);

void redis_set_state_callback(Redis *r, RedisStateFn cb, void *userdata);

bool redis_is_up(const Redis *r);

/* Sends one command. @cb (may be NULL) gets exactly one call unless this returns an error.
 * Returns 0, -ENOTCONN when not connected (nothing is sent, @cb not called), -ENOMEM. */
int redis_command_argv(Redis *r, RedisReplyFn cb, void *userdata, int argc, const char **argv,
                       const size_t *argvlen);

/* What a reply says went wrong, as -errno: 0 for no error; -ENOTCONN for no reply (the
 * connection failed or closed); for an error reply, by its code: NOGROUP -ENOENT, BUSYGROUP
 * -EEXIST, NOSCRIPT -ENOEXEC, READONLY -EROFS (a replica), OOM -ENOMEM, NOAUTH, WRONGPASS and
 * NOPERM -EACCES, LOADING, BUSY, MASTERDOWN, TRYAGAIN and NOREPLICAS -EAGAIN, anything else -EIO. */
int redis_reply_errno(const redisReply *reply);

/* Redis's words for a failed reply ("connection lost" for none), for logs; NULL for a success. */
const char *redis_reply_message(const redisReply *reply);

/* The value of field @name in a stream entry's field list (an array of name, value, …), or NULL
 * when @fields is not such an array or has no string value for @name. */
const char *redis_stream_field(const redisReply *fields, const char *name);

/* Disconnects (pending commands get a NULL reply) and frees. May be called from one of its own
 * reply callbacks (it is then freed once that returns). Accepts NULL; returns NULL. */
Redis *redis_free(Redis *r);
