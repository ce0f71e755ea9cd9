/* SPDX-License-Identifier: MIT */
/* A tenant's (business's) bot, as deployed by tgfleet-deployd: it greets each customer with the
 * business's name, read from the "tenant:<id>" hash deployd keeps in Redis, so that a rename
 * needs no restart. The booking conversation comes later. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "botd.h"
#include "macro.h"

#define NAME_MAX_BYTES 256

static void greet(Work *w, const char *name) {
        char escaped[NAME_MAX_BYTES * 6], text[sizeof escaped + 256];

        html_escape(name, escaped, sizeof escaped);
        snprintf(text, sizeof text, T(w->lang, "👋 Welcome to <b>%s</b>!\nOnline booking opens here soon."), escaped);
        (void) work_send_text(w, text, NULL);
}

static void on_profile(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;

        /* With Redis down the commit fails too, and the update is handled again later. */
        if (reply && reply->type == REDIS_REPLY_STRING && reply->len > 0)
                greet(w, reply->str);
        else
                (void) work_send_text(w, T(w->lang, "👋 Welcome! Online booking opens here soon."), NULL);
        work_commit(w);
}

static void tenant_handle_update(Work *w) {
        const char *argv[] = { "HGET", w->b->profile_key.s, "name" };

        if (!w->text || w->callback_id)
                return work_commit(w);   /* a press is answered by the commit; nothing else to say */
        if (redis_command_argv(w->b->daemon.redis, on_profile, w, ELEMENTSOF(argv), argv, NULL) < 0)
                on_profile(w->b->daemon.redis, NULL, w);
}

static void tenant_handle_event(Work *w) {
        work_commit(w);
}

static int tenant_setup(Botd *b) {
        b->profile_key = redis_key_tenant(b->args->tenant);
        return 0;
}

const BotRole tenant_role = {
        .name = "tenant",
        .setup = tenant_setup,
        .handle_update = tenant_handle_update,
        .handle_event = tenant_handle_event,
};
