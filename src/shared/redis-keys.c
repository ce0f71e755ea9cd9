/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

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

int outbox_call_format(int64_t chat, const char *method, json_object *params, char **ret) {
        _cleanup_json_ json_object *call = json_object_new_object();
        char *s;

        if (!call)
                return -ENOMEM;
        json_object_object_add(call, "method", json_object_new_string(method));
        json_object_object_add(call, "chat", json_object_new_int64(chat));
        json_object_object_add(call, "params", json_object_get(params));
        s = strdup(json_object_to_json_string_ext(call, JSON_C_TO_STRING_PLAIN));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int outbox_call_parse(const char *text, OutboxCall *ret) {
        _cleanup_json_ json_object *root = NULL;
        OutboxCall c = {};

        if (!text || json_parse(text, strlen(text), &root) < 0 || !(c.method = json_get_string(root, "method")) ||
            !json_object_object_get_ex(root, "params", &c.params) || !json_object_is_type(c.params, json_type_object) ||
            json_get_int64(root, "chat", &c.chat) < 0)
                return -EBADMSG;
        c.root = TAKE_PTR(root);
        *ret = c;
        return 0;
}

void outbox_call_done(OutboxCall *c) {
        json_object_put(c->root);
        *c = (OutboxCall) {};
}
