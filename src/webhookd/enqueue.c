/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "enqueue.h"
#include "macro.h"
#include "redis-script.h"

/* KEYS[1] dedupe key, KEYS[2] stream; ARGV[1] window in seconds; ARGV[2…] field/value pairs. */
static RedisScript script = REDIS_SCRIPT(
        "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then\n"
        "  return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))\n"
        "end\n"
        "return false\n");

#define SCRIPT_ARGC_MAX 16

typedef struct EnqueueCall {
        EnqueueFn done;
        void *userdata;
        unsigned min_replicas;
        char wait_replicas[12];
        char wait_msec[24];
        EnqueueResult result;
} EnqueueCall;

static void finish(EnqueueCall *c, EnqueueResult res) {
        c->done(res, c->userdata);
        free(c);
}

static void on_wait(Redis *r, redisReply *reply, void *userdata) {
        EnqueueCall *c = userdata;
        (void) r;

        if (!reply || reply->type != REDIS_REPLY_INTEGER)
                finish(c, ENQUEUE_FAILED);
        else if (reply->integer < (long long) c->min_replicas)
                finish(c, ENQUEUE_NO_REPLICAS);
        else
                finish(c, c->result);
}

static void on_script(Redis *r, redisReply *reply, void *userdata) {
        EnqueueCall *c = userdata;

        if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) {
                finish(c, ENQUEUE_FAILED);
                return;
        }
        c->result = reply->type == REDIS_REPLY_STRING ? ENQUEUE_ADDED : ENQUEUE_DUPLICATE;
        if (c->min_replicas == 0) {
                finish(c, c->result);
                return;
        }
        /* Sent from the reply callback, so the hiredis context is alive; a failure means it is
         * going down, and the pending WAIT would never be answered. */
        if (redis_command_argv(r, on_wait, c, 3, (const char *[]) { "WAIT", c->wait_replicas, c->wait_msec },
                               NULL) < 0)
                finish(c, ENQUEUE_FAILED);
}

int enqueue_event(Redis *redis, const EnqueueOptions *o, const IntakeEvent *ev, const char *body,
                  size_t len, EnqueueFn done, void *userdata) {
        const char *argv[SCRIPT_ARGC_MAX];
        size_t argvlen[SCRIPT_ARGC_MAX];
        char ttl[24], received[24];
        struct timespec ts;
        EnqueueCall *c;
        int argc = 0, r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (EnqueueCall) { .done = done, .userdata = userdata, .min_replicas = o->min_replicas };
        snprintf(c->wait_replicas, sizeof c->wait_replicas, "%u", o->min_replicas);
        snprintf(c->wait_msec, sizeof c->wait_msec, "%" PRIu64, MAX(o->replica_timeout_msec, (uint64_t) 1));
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(ttl, sizeof ttl, "%" PRIu64, MAX(o->dedupe_sec, (uint64_t) 1));
        snprintf(received, sizeof received, "%" PRIu64,
                 (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000);

#define ARG(s, l) do { argv[argc] = (s); argvlen[argc] = (l); argc++; } while (0)
#define ARGS(s) ARG(s, strlen(s))
        ARGS("2");
        ARGS(ev->dedupe_key.s);
        ARGS(ev->stream.s);
        ARGS(ttl);
        if (!streq(ev->provider, "telegram")) {
                ARGS("provider");
                ARGS(ev->provider);
        }
        ARGS(streq(ev->provider, "telegram") ? "update_id" : "id");
        ARGS(ev->id);
        if (ev->status[0]) {
                ARGS(streq(ev->provider, "yookassa") ? "event" : "status");
                ARGS(ev->status);
        }
        ARGS("received_ms");
        ARGS(received);
        ARGS("body");
        ARG(body, len);
#undef ARGS
#undef ARG

        r = redis_script_eval(redis, &script, on_script, c, argc, argv, argvlen);
        if (r < 0)
                free(c);
        return r;
}
