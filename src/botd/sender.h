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
#include "redis-keys.h"
#include "redis.h"

/* The flood budget's grant, for every script that grants it (the sender's own, and botd's commit,
 * which grants the calls it writes so that they need not ask again):
 * sender_grant(bot bucket, bot pause, bot rate/s, bot capacity, calls), each call
 * { its chat's bucket, rate/s, capacity, whether it counts }. A call may go when both the bot's
 * and its chat's budgets allow, and both are charged; calls that do not count only a pause stops.
 * Returns a pair per call: {0, 0} it may go, {1, ms} the bot must wait, {2, ms} only the chat. */
#define SENDER_GRANT_LUA \
        "local function sender_grant(bkey, pkey, br, bc, calls)\n" \
        "  local out = {}\n" \
        "  local pause = redis.call('PTTL', pkey)\n" \
        "  if pause > 0 then\n" \
        "    for i = 1, #calls do out[2 * i - 1] = 1; out[2 * i] = pause end\n" \
        "    return out\n" \
        "  end\n" \
        "  local t = redis.call('TIME')\n" \
        "  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
        "  local function level(key, rate, cap)\n" \
        "    local v = redis.call('HMGET', key, 'tokens', 'at')\n" \
        "    local tokens, at = tonumber(v[1]), tonumber(v[2])\n" \
        "    if not tokens then return cap end\n" \
        "    return math.min(cap, tokens + (now - at) * rate / 1000)\n" \
        "  end\n" \
        "  local b, spent = level(bkey, br, bc), false\n" \
        "  for i, c in ipairs(calls) do\n" \
        "    local verdict, wait = 0, 0\n" \
        "    if c[4] then\n" \
        "      local l = level(c[1], c[2], c[3])\n" \
        "      if b < 1 then verdict, wait = 1, math.ceil((1 - b) * 1000 / br)\n" \
        "      elseif l < 1 then verdict, wait = 2, math.ceil((1 - l) * 1000 / c[2])\n" \
        "      else\n" \
        "        b, spent = b - 1, true\n" \
        "        redis.call('HSET', c[1], 'tokens', tostring(l - 1), 'at', now)\n" \
        "        redis.call('PEXPIRE', c[1], 120000)\n" \
        "      end\n" \
        "    end\n" \
        "    out[2 * i - 1], out[2 * i] = verdict, wait\n" \
        "  end\n" \
        "  if spent then\n" \
        "    redis.call('HSET', bkey, 'tokens', tostring(b), 'at', now)\n" \
        "    redis.call('PEXPIRE', bkey, 60000)\n" \
        "  end\n" \
        "  return out\n" \
        "end\n"

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

/* The bot's budget, as ARGV and KEYS of a script granting it (SENDER_GRANT_LUA): strings owned by
 * @s. */
typedef struct SenderBudget {
        const char *bucket, *pause, *rate, *cap;
} SenderBudget;
SenderBudget sender_budget(const Sender *s);

/* @call's own budget: its chat's bucket, rate and capacity (owned by @s), and whether it counts. */
typedef struct SenderCallBudget {
        RedisName key;
        const char *rate, *cap, *counts;
} SenderCallBudget;
SenderCallBudget sender_call_budget(const Sender *s, const OutboxCall *call);

/* Counters for STATUS= and tests; "granted" are the sent calls whose budget came with them. */
typedef struct SenderStats {
        uint64_t sent, failed, retried, throttled, granted;
} SenderStats;
SenderStats sender_stats(const Sender *s);

/* Free the HttpClient and the Redis clients first. Accepts NULL; returns NULL. */
Sender *sender_free(Sender *s);
