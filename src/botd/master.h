/* SPDX-License-Identifier: MIT */
#pragma once

/* The master bot: the operators' Telegram front of tgfleet-apid. Only the Telegram users in
 * [Master] Operators= may use it. Every action is an API call as "master:<operator id>", so the
 * API's checks, idempotency and audit log apply to it exactly as to tgfleetctl. */

#include "botd.h"
#include "creds.h"

#define MASTER_HELD_MAX 16

/* A token sent in "Add client", kept in memory only (never in Redis) until the add is confirmed
 * or abandoned; a restart forgets it and the operator is asked again. */
typedef struct HeldToken {
        int64_t chat;
        Secret *token;
        uint64_t until;             /* CLOCK_MONOTONIC µs */
} HeldToken;

struct Master {
        Secret *api_token;
        HeldToken held[MASTER_HELD_MAX];
};

/* What tgfleet-apid answered. */
typedef struct ApiAnswer {
        int error;                  /* 0, or -errno when the API was not reached or answered no JSON */
        long status;                /* HTTP status when error is 0 */
        json_object *json;          /* the answer; valid during the callback only */
        const char *code;           /* an error answer's stable code ("invalid_state", …), or NULL */
        const char *message;        /* and its text, or NULL */
} ApiAnswer;

typedef void (*ApiFn)(Work *w, const ApiAnswer *a);

/* Calls tgfleet-apid ([API] URL=) as operator w->user: @method @path with @body (not taken;
 * NULL for none) and, when not NULL, an Idempotency-Key. @fn gets exactly one call, and ends the
 * work with work_commit(); when botd stops first, the work is abandoned instead and its update
 * handled again after the restart. */
void master_api_call(Work *w, const char *method, const char *path, json_object *body, const char *idempotency_key,
                     ApiFn fn);

#define MASTER_HOLD_USEC (15 * 60 * USEC_PER_SEC)

/* Keeps @token (taken) for @chat until @now (CLOCK_MONOTONIC) + MASTER_HOLD_USEC, replacing what
 * the chat held; when every slot is taken, the one closest to expiry goes. */
void master_hold_token(Master *m, int64_t chat, Secret *token, uint64_t now);

/* @chat's token, still held (valid until the next hold or drop), or NULL when it has none or
 * it expired. */
const Secret *master_held_token(Master *m, int64_t chat, uint64_t now);

/* Forgets @chat's token, if any. */
void master_drop_token(Master *m, int64_t chat);

/* Forgets every token. */
void master_drop_all_tokens(Master *m);
