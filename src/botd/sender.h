/* SPDX-License-Identifier: MIT */
#pragma once

/* Everything a bot says goes through its outbox stream "out:<bot>" and this sender: per-chat order,
 * a flood-control budget per bot token shared by every process through Redis (messages per
 * second per bot, per private chat, per group per minute, each kept under Telegram's own by a
 * margin that absorbs uneven delays on the way), a 429's retry_after pausing the bot everywhere, and retries with backoff on 5xx and network errors. A call is
 * removed from the outbox only once Telegram answered it. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "creds.h"
#include "http-client.h"
#include "redis.h"

typedef struct Sender Sender;

typedef struct SenderOptions {
        const char *bot;               /* our name of the bot */
        const Secret *token;           /* copied */
        const char *telegram_url;      /* [Telegram] URL= */
        const char *consumer;          /* this process in the group "sender" */
        unsigned per_second;           /* per bot */
        unsigned chat_per_second;      /* per private chat */
        unsigned group_per_minute;     /* per group chat */
        uint64_t command_timeout_usec; /* Redis's */
        uint64_t retention_usec;       /* [Redis] StreamRetentionSec= */
} SenderOptions;

/* Starts sending what is in the outbox (first what this consumer had taken and not finished).
 * @redis and @redis_block (used for blocking reads only) stay the caller's. Returns 0 or -errno. */
int sender_new(sd_event *e, Redis *redis, Redis *redis_block, HttpClient *http, const SenderOptions *o,
               Sender **ret);

/* The bot's token from now on (a rotated one, on reload): copied. Returns 0 or -ENOMEM. */
int sender_set_token(Sender *s, const Secret *token);

/* Counters for STATUS= and tests. */
typedef struct SenderStats {
        uint64_t sent, failed, retried, throttled;
} SenderStats;
SenderStats sender_stats(const Sender *s);

/* Free the HttpClient and the Redis clients first. Accepts NULL; returns NULL. */
Sender *sender_free(Sender *s);
