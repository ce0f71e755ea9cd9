/* SPDX-License-Identifier: MIT */
#pragma once

/* Writing an accepted event to its Redis stream exactly once: one Lua script sets the dedupe key
 * and appends the entry atomically, so a failure can never leave a dedupe key without its entry
 * (which would make the sender's retry look like a duplicate and lose the event). Optionally
 * WAITs for replicas before the caller answers 2xx. */

#include <stdint.h>

#include "intake.h"
#include "redis.h"

typedef enum EnqueueResult {
        ENQUEUE_ADDED,        /* new entry in the stream */
        ENQUEUE_DUPLICATE,    /* seen within the dedupe window: nothing written */
        ENQUEUE_FAILED,       /* Redis unreachable or erred: answer 503 */
        ENQUEUE_NO_REPLICAS,  /* written, but fewer replicas acknowledged than required */
} EnqueueResult;

typedef void (*EnqueueFn)(EnqueueResult result, void *userdata);

typedef struct EnqueueOptions {
        uint64_t dedupe_sec;
        unsigned min_replicas;
        uint64_t replica_timeout_msec;
} EnqueueOptions;

/* Appends @ev with @body to its stream. @done gets exactly one call unless this returns < 0
 * (-ENOTCONN when Redis is down, -ENOMEM). @ev, @body and @userdata are used until @done runs,
 * which may be after the caller's stack is gone: they must live that long. */
int enqueue_event(Redis *redis, const EnqueueOptions *o, const IntakeEvent *ev, const char *body,
                  size_t len, EnqueueFn done, void *userdata);
