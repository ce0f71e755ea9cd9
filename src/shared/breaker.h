/* SPDX-License-Identifier: MIT */
#pragma once

/* A circuit breaker around one provider: after `threshold` consecutive failures it opens and
 * refuses calls at once (the caller answers "temporarily unavailable" at once instead of
 * waiting); after `cooldown` it lets one probe through (half-open); the probe's success closes it,
 * its failure opens it again. Time is passed in, so the logic is deterministic and testable. */

#include <stdbool.h>
#include <stdint.h>

typedef enum BreakerState {
        BREAKER_CLOSED,
        BREAKER_OPEN,
        BREAKER_HALF_OPEN,
        _BREAKER_STATE_MAX,
} BreakerState;

typedef struct Breaker {
        unsigned threshold;       /* consecutive failures that open it (seed default 5) */
        uint64_t cooldown_usec;   /* open → half-open after this (seed default 60 s) */
        BreakerState state;
        unsigned failures;
        uint64_t opened_at;
        bool probing;             /* half-open: the one probe is under way */
} Breaker;

#define BREAKER_INIT(t, c) ((Breaker) { .threshold = (t), .cooldown_usec = (c) })

/* Whether a call may be made at @now (CLOCK_MONOTONIC µs). In half-open state only one call at a
 * time is let through; each allowed call must be followed by breaker_record(). */
bool breaker_allow(Breaker *b, uint64_t now);

/* Records the outcome of an allowed call. */
void breaker_record(Breaker *b, bool success, uint64_t now);

/* "closed", "open", "half-open": the words of logs, metrics and health answers. */
const char *breaker_state_to_string(BreakerState s);
