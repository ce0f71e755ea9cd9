/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "redis-keys.h"

int notify_chat(Redis *r, const char *bot, int64_t chat, const char *text) {
        _cleanup_(json_object_putp) json_object *params = json_object_new_object();
        _cleanup_(outbox_call_done) OutboxCall call = {};
        RedisName stream = redis_stream_outbox(bot);
        int e;

        json_object_object_add(params, "chat_id", json_object_new_int64(chat));
        json_object_object_add(params, "text", json_object_new_string(text));
        e = outbox_call_format(chat, "sendMessage", params, &call);
        if (e < 0)
                return e;
        const char *argv[] = { "XADD", stream.s, "*", OUTBOX_METHOD, call.method, OUTBOX_CHAT, call.chat,
                               OUTBOX_PARAMS, call.params };
        e = redis_command_argv(r, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
        if (e < 0)
                log_warning("Cannot queue a message to %" PRId64 " through bot %s: %s", chat, bot, strerror(-e));
        return e;
}

void notify_operators(Redis *r, const Config *c, const char *text) {
        for (size_t i = 0; i < c->master_operators.n; i++)
                (void) notify_chat(r, c->master_bot, c->master_operators.ids[i], text);
}

int notify_event(Redis *r, const char *bot, const char *const *fields, size_t n) {
        RedisName stream = redis_stream_events(bot);
        _cleanup_free_ const char **argv = calloc(3 + 2 * n, sizeof *argv);
        int e;

        if (!argv)
                return -ENOMEM;
        argv[0] = "XADD";
        argv[1] = stream.s;
        argv[2] = "*";   /* no MAXLEN: the bot's reader trims what it handled */
        for (size_t i = 0; i < 2 * n; i++)
                argv[3 + i] = fields[i];
        e = redis_command_argv(r, NULL, NULL, (int) (3 + 2 * n), argv, NULL);
        if (e < 0)
                log_warning("Cannot queue an event for bot %s: %s", bot, strerror(-e));
        return e;
}
