/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>
#include <time.h>

#include "json-util.h"
#include "redis-keys.h"

_printf_(1, 2) static RedisName name(const char *fmt, ...) {
        RedisName n;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(n.s, sizeof n.s, fmt, ap);
        va_end(ap);
        return n;
}

RedisName redis_stream_updates(const char *bot) {
        return name("updates:%s", bot);
}

RedisName redis_stream_events(const char *bot) {
        return name("events:%s", bot);
}

RedisName redis_stream_outbox(const char *bot) {
        return name("out:%s", bot);
}

RedisName redis_key_tenant(int64_t tenant) {
        return name("tenant:%" PRId64, tenant);
}

RedisName redis_key_chat_state(const char *bot, int64_t chat) {
        return name("chat:%s:%" PRId64, bot, chat);
}

RedisName redis_key_user_limit(const char *bot, int64_t user) {
        return name("limit:%s:%" PRId64, bot, user);
}

RedisName redis_key_flood_bot(const char *bot) {
        return name("flood:%s:bot", bot);
}

RedisName redis_key_flood_pause(const char *bot) {
        return name("flood:%s:pause", bot);
}

RedisName redis_key_flood_chat(const char *bot, int64_t chat) {
        return name("flood:%s:chat:%" PRId64, bot, chat);
}

RedisName redis_key_dedupe_update(const char *bot, const char *update_id) {
        return name("dedupe:tg:%s:%s", bot, update_id);
}

RedisName redis_key_dedupe_payment(const char *provider, const char *id, const char *status) {
        return name("dedupe:%s:%s:%s", provider, id, status);
}

RedisName redis_key_event_done(const char *bot, const char *event) {
        return name("done:%s:event:%s", bot, event);
}

static int outbox_call_set(OutboxCall *c, int64_t chat, const char *method, const char *params) {
        if (strlen(method) >= sizeof c->method || method[0] == 0)
                return -EINVAL;
        strcpy(c->method, method);
        c->chat_id = chat;
        snprintf(c->chat, sizeof c->chat, "%" PRId64, chat);
        c->params = strdup(params);
        return c->params ? 0 : -ENOMEM;
}

int outbox_call_format(int64_t chat, const char *method, json_object *params, OutboxCall *ret) {
        OutboxCall c = {};
        int r = outbox_call_set(&c, chat, method, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));

        if (r < 0) {
                outbox_call_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* An entry written before the three fields: {"method": …, "chat": …, "params": {…}}. */
static int read_old(const char *text, OutboxCall *ret) {
        _cleanup_json_ json_object *root = NULL;
        json_object *params;
        const char *method;
        int64_t chat;
        int r;

        if (json_parse(text, strlen(text), &root) < 0 || !(method = json_get_string(root, "method")) ||
            !json_object_object_get_ex(root, "params", &params) || !json_object_is_type(params, json_type_object) ||
            json_get_int64(root, "chat", &chat) < 0)
                return -EBADMSG;
        r = outbox_call_format(chat, method, params, ret);
        return r == -EINVAL ? -EBADMSG : r;   /* -ENOMEM stays: the entry is fine, try again */
}

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

int outbox_grant_mark(char buf[static OUTBOX_GRANT_MAX]) {
        sd_id128_t boot;
        int r = sd_id128_get_boot(&boot);

        if (r < 0)
                return r;
        snprintf(buf, OUTBOX_GRANT_MAX, SD_ID128_FORMAT_STR ":%" PRIu64, SD_ID128_FORMAT_VAL(boot), monotonic_usec());
        return 0;
}

/* The time in a "grant" field written in this boot, else 0. */
static uint64_t grant_read(const char *mark) {
        char id[SD_ID128_STRING_MAX], *end;
        sd_id128_t theirs, ours;
        uint64_t usec;

        if (!mark || strlen(mark) < SD_ID128_STRING_MAX || mark[SD_ID128_STRING_MAX - 1] != ':')
                return 0;
        memcpy(id, mark, SD_ID128_STRING_MAX - 1);
        id[SD_ID128_STRING_MAX - 1] = 0;
        if (sd_id128_from_string(id, &theirs) < 0 || sd_id128_get_boot(&ours) < 0 || !sd_id128_equal(theirs, ours))
                return 0;
        mark += SD_ID128_STRING_MAX;
        if (*mark < '0' || *mark > '9')
                return 0;
        errno = 0;
        usec = strtoull(mark, &end, 10);
        return errno == 0 && *end == 0 ? usec : 0;
}

uint64_t outbox_grant_age(const OutboxCall *c) {
        uint64_t now = monotonic_usec();

        return c->grant_usec > 0 && c->grant_usec <= now ? now - c->grant_usec : UINT64_MAX;
}

int outbox_call_read(const redisReply *fields, OutboxCall *ret) {
        const char *method = redis_stream_field(fields, OUTBOX_METHOD), *chat = redis_stream_field(fields, OUTBOX_CHAT);
        const char *params = redis_stream_field(fields, OUTBOX_PARAMS), *old = redis_stream_field(fields, OUTBOX_OLD_FIELD);
        OutboxCall c = {};
        int64_t id;
        char *end;
        int r;

        if (old && !method)
                return read_old(old, ret);
        if (!method || !chat || !params || params[0] != '{')
                return -EBADMSG;
        errno = 0;
        id = strtoll(chat, &end, 10);
        if (errno != 0 || end == chat || *end)
                return -EBADMSG;
        r = outbox_call_set(&c, id, method, params);
        if (r < 0) {
                outbox_call_done(&c);
                return r == -EINVAL ? -EBADMSG : r;
        }
        c.grant_usec = grant_read(redis_stream_field(fields, OUTBOX_GRANT));
        *ret = c;
        return 0;
}

void outbox_call_done(OutboxCall *c) {
        free(c->params);
        *c = (OutboxCall) {};
}
