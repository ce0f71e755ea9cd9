/* SPDX-License-Identifier: MIT */
#pragma once

/* A member of a Redis stream consumer group, at least once: it creates the group (from the
 * stream's beginning), reads its own pending entries first (left by a crash or a failure), then
 * new ones, and takes over entries another consumer has left idle (XAUTOCLAIM). Each entry is
 * handed to the callback, which ends it with stream_reader_done(), at once or later. At most
 * max_in_flight entries are out at once. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "redis.h"

typedef struct StreamReader StreamReader;

/* An entry: its id and its fields ([name, value, …]; NULL when the entry was trimmed away). */
typedef void (*StreamEntryFn)(StreamReader *sr, const char *id, const redisReply *fields, void *userdata);

typedef struct StreamReaderOptions {
        const char *stream;
        const char *group;
        const char *consumer;
        unsigned max_in_flight;       /* default 256 */
        uint64_t claim_idle_usec;     /* take over others' entries idle this long; 0: never */
        uint64_t retry_usec;          /* pause before failed entries come again; default 2 s */
} StreamReaderOptions;

/* Starts reading: commands on @redis, the blocking read on @redis_block (its own connection;
 * the block time is kept under its command timeout). Returns 0 or -ENOMEM. */
int stream_reader_new(sd_event *e, Redis *redis, Redis *redis_block, uint64_t command_timeout_usec,
                      const StreamReaderOptions *o, StreamEntryFn fn, void *userdata, StreamReader **ret);

typedef enum StreamOutcome {
        STREAM_ACK,       /* done with: acknowledged (XACK) */
        STREAM_RETRY,     /* failed: stays pending and comes again after the retry pause */
        STREAM_LEAVE,     /* not ours to handle: stays pending, for whoever handles it */
} StreamOutcome;

/* Ends the entry @id handed out. */
void stream_reader_done(StreamReader *sr, const char *id, StreamOutcome outcome);

/* Entries handed out and not done yet. */
unsigned stream_reader_in_flight(const StreamReader *sr);

/* Stops reading (entries out stay pending). Free the Redis connections first: their pending
 * replies come back to the reader. Accepts NULL; returns NULL. */
StreamReader *stream_reader_free(StreamReader *sr);
