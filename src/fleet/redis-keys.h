/* SPDX-License-Identifier: MIT */
#pragma once

/* Every Redis stream and key tgfleet uses, named in one place, and the outbox entry as its
 * writers and its reader see it.
 *
 *   updates:<bot>          stream  a bot's Telegram updates          webhookd → botd (group "botd")
 *   events:<bot>           stream  order.* events for a bot's users  paymentd → botd (group "botd")
 *   out:<bot>              stream  Bot API calls a bot makes         botd, deployd → the sender
 *                                                                    (group "sender")
 *   payments               stream  Heleket and YooKassa notices      webhookd → paymentd (group "paymentd")
 *   deploy                 stream  deploy tasks (deployd/queue.h)    apid → deployd (group "deployd")
 *   <stream>:dead          stream  entries nobody could handle       stream-reader.h
 *   tenant:<id>            hash    a tenant bot's profile            deployd → botd
 *   chat:<bot>:<chat>      string  a conversation's state            botd
 *   limit:<bot>:<user>     hash    a user's request budget           botd (and "…:told")
 *   flood:<bot>:bot|pause  hash    a bot's flood budget, its pause   the sender
 *   flood:<bot>:chat:<id>  hash    a chat's flood budget             the sender
 *   dedupe:tg:<bot>:<id>   string  an update accepted                webhookd
 *   dedupe:<p>:<id>:<st>   string  a payment notice accepted         webhookd
 *   done:<bot>:event:<id>  string  an event handled                  botd
 *
 * Bot names are at most BOT_NAME_MAX characters and ids at most REDIS_ID_MAX, so every name fits a
 * RedisName (callers check their input against those bounds). */

#include <json-c/json.h>
#include <stdint.h>

#include "redis.h"

#define STREAM_PAYMENTS "payments"
#define STREAM_DEPLOY "deploy"
/* paymentd's word on its providers, {"heleket": STATE, "yookassa": STATE|"off"} with a TTL, read by
 * webhookd's /health/payment: absent when paymentd has not spoken for PAYMENT_HEALTH_TTL_MS. */
#define KEY_PAYMENT_HEALTH "health:payment"
#define PAYMENT_HEALTH_TTL_MS 10000
#define GROUP_BOTD "botd"
#define GROUP_SENDER "sender"
#define GROUP_PAYMENTD "paymentd"
#define GROUP_DEPLOYD "deployd"

#define REDIS_ID_MAX 128

typedef struct RedisName {
        char s[2 * REDIS_ID_MAX + 64];
} RedisName;

RedisName redis_stream_updates(const char *bot);
RedisName redis_stream_events(const char *bot);
RedisName redis_stream_outbox(const char *bot);
RedisName redis_key_tenant(int64_t tenant);
RedisName redis_key_chat_state(const char *bot, int64_t chat);
RedisName redis_key_user_limit(const char *bot, int64_t user);
RedisName redis_key_flood_bot(const char *bot);
RedisName redis_key_flood_pause(const char *bot);
RedisName redis_key_flood_chat(const char *bot, int64_t chat);
RedisName redis_key_dedupe_update(const char *bot, const char *update_id);
RedisName redis_key_dedupe_payment(const char *provider, const char *id, const char *status);
RedisName redis_key_event_done(const char *bot, const char *event);

/* An outbox entry: fields "method", "chat" (decimal) and "params", the call's parameters as JSON
 * text, which the sender hands to Telegram without parsing them, and "grant" when its flood
 * budget was granted as it was written (outbox_grant_mark()). Entries written before this form
 * have one field, "call": {"method": …, "chat": …, "params": {…}}; outbox_call_read() reads
 * both. */
#define OUTBOX_METHOD "method"
#define OUTBOX_CHAT "chat"
#define OUTBOX_PARAMS "params"
#define OUTBOX_GRANT "grant"
#define OUTBOX_OLD_FIELD "call"
#define OUTBOX_GRANT_MAX 64

typedef struct OutboxCall {
        char method[48];
        char chat[24];             /* the chat id as text, as the entry holds it */
        int64_t chat_id;
        char *params;              /* owned: a JSON object's text */
        uint64_t grant_usec;       /* CLOCK_MONOTONIC µs before its budget was granted; 0 for none */
} OutboxCall;

/* Writes into @buf the "grant" field of entries whose budget is granted from now on: this boot's
 * id and the CLOCK_MONOTONIC time, so that only a reader on this machine, in this boot, can tell
 * how long ago that was. Returns 0 or -errno (then grant nothing). */
int outbox_grant_mark(char buf[static OUTBOX_GRANT_MAX]);

/* How long ago @c's budget was granted, in µs; UINT64_MAX when it was not, or when the grant
 * cannot be timed here (another machine or boot). */
uint64_t outbox_grant_age(const OutboxCall *c);

/* An outbox entry calling @method in @chat with @params (not taken). Returns 0 (free with
 * outbox_call_done()), -EINVAL for a method name too long, or -ENOMEM. */
int outbox_call_format(int64_t chat, const char *method, json_object *params, OutboxCall *ret);

/* Reads the outbox entry with @fields (an XREAD field array). Returns 0 (free with
 * outbox_call_done()), -EBADMSG when it is not such an entry, or -ENOMEM. */
int outbox_call_read(const redisReply *fields, OutboxCall *ret);

/* Frees what @c owns and zeroes it; safe on a zeroed one. */
void outbox_call_done(OutboxCall *c);
