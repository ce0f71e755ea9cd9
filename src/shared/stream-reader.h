/* SPDX-License-Identifier: MIT */
#pragma once

/* A member of a Redis stream consumer group on one or more streams, at least once: every daemon
 * reads its streams through this. It creates the group on each stream (from the stream's
 * beginning), makes a pass over its own pending entries (left by a crash or a failure), then reads
 * new entries with a blocking read on a connection of its own, and takes over entries other
 * consumers left idle (XAUTOCLAIM, walking their whole pending list with its cursor).
 *
 * An entry is held once: a pass, a claim or a read never hands out again an entry still held.
 * Each entry read is first taken (the user builds its own object around a StreamEntry), then
 * handled when its turn comes: at once, or, on an ordered reader, once the entries of the same key
 * before it are done. A handled entry ends with stream_reader_done(). An entry that failed comes
 * again after the retry pause, and on an ordered reader the later entries of its key wait behind
 * it. Nothing is left pending on purpose: an entry nobody can handle is acknowledged or moved to
 * the dead-letter stream "<stream>:dead".
 *
 * The reader also trims its streams: an entry every group of the stream has acknowledged goes
 * once it is older than the retention (XTRIM MINID), so a stream holds what is unread, what is
 * being handled, and the retention's worth of history for replay. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "chatmap.h"
#include "redis.h"

#define STREAM_READER_STREAMS_MAX 4
#define STREAM_ID_MAX 48

typedef struct StreamReader StreamReader;

/* An entry held by the reader. Users embed it in their own object (see container_of()). */
typedef struct StreamEntry {
        unsigned stream;              /* set by the reader: the index of its stream in the options */
        char id[STREAM_ID_MAX];       /* set by the reader */
        int64_t key;                  /* set by take() on an ordered reader */

        /* The reader's own. */
        ChatItem item;
        ChatQueue *queue;
        struct StreamEntry *held_next, *ready_next;
} StreamEntry;

typedef enum StreamOutcome {
        STREAM_ACK = 1,   /* done with: acknowledged (XACK; XDEL too on an erasing stream) */
        STREAM_ACKED,     /* done with, acknowledged already (by the handler's own script) */
        STREAM_RETRY,     /* failed, or cut short: stays pending and comes again after the retry pause */
        STREAM_DEAD,      /* cannot be handled: moved to "<stream>:dead" and acknowledged */
} StreamOutcome;

/* Builds the user's object for entry @id of stream number @stream, whose fields are @fields
 * ([name, value, …]; NULL when the entry was deleted). Returns 0 with the new object's StreamEntry
 * in *ret (and its key set on an ordered reader), an outcome for an entry ended at once
 * (STREAM_ACK, STREAM_DEAD), or -errno to leave it pending for the next pass. */
typedef int (*StreamTakeFn)(StreamReader *sr, unsigned stream, const char *id, const redisReply *fields,
                            void *userdata, StreamEntry **ret);
/* The entry's turn: it ends, at once or later, with stream_reader_done(). */
typedef void (*StreamHandleFn)(StreamReader *sr, StreamEntry *e, void *userdata);
/* Frees the object around @e. */
typedef void (*StreamFreeFn)(StreamEntry *e);

/* Redis refused what the reader asked (@what: "XREADGROUP", "XGROUP CREATE", …) on @stream,
 * with @message; the reader tries again by itself. For the daemon's log. */
typedef void (*StreamFailedFn)(StreamReader *sr, const char *what, const char *stream, const char *message,
                               void *userdata);

typedef struct StreamSpec {
        const char *name;
        bool erase;                   /* entries may hold secrets: deleted (XDEL) once acknowledged */
} StreamSpec;

typedef struct StreamReaderOptions {
        const StreamSpec *streams;
        unsigned n_streams;           /* 1 … STREAM_READER_STREAMS_MAX */
        const char *group;
        const char *consumer;
        bool ordered;                 /* entries with the same key one at a time, in stream order */
        unsigned max_held;            /* entries held at once, about; default 256 */
        uint64_t claim_idle_usec;     /* take over others' entries idle this long; 0: never */
        uint64_t retry_usec;          /* pause before failed entries come again; default 2 s */
        uint64_t retention_usec;      /* acknowledged entries are kept this long, then trimmed */
        uint64_t command_timeout_usec;   /* Redis's; the blocking read ends well within it */
        StreamTakeFn take;
        StreamHandleFn handle;
        StreamFreeFn free_entry;
        StreamFailedFn failed;        /* may be NULL */
        void *userdata;
} StreamReaderOptions;

/* Starts reading: commands on @redis, the blocking read on @redis_block (a connection of its own).
 * Both stay the caller's. Returns 0, -EINVAL for bad options, -ENOMEM. */
int stream_reader_new(sd_event *e, Redis *redis, Redis *redis_block, const StreamReaderOptions *o,
                      StreamReader **ret);

/* Ends the handled entry @e with @outcome and frees it; the next entry of its key gets its turn. */
void stream_reader_done(StreamReader *sr, StreamEntry *e, StreamOutcome outcome);

/* Entries held: being handled, or waiting for their turn. */
unsigned stream_reader_held(const StreamReader *sr);

/* The name of stream number @stream. */
const char *stream_reader_stream(const StreamReader *sr, unsigned stream);

/* Stops reading and frees every entry held (they stay pending). Free first whatever may still
 * end an entry (HTTP, database), then the Redis connections (their pending replies come back to
 * the reader), then the reader. Accepts NULL; returns NULL. */
StreamReader *stream_reader_free(StreamReader *sr);
