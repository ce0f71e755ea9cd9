/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "enqueue.h"
#include "macro.h"

/* KEYS[1] dedupe key, KEYS[2] stream; ARGV[1] window in seconds; ARGV[2…] field/value pairs. */
static const char script[] =
        "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then\n"
        "  return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))\n"
        "end\n"
        "return false\n";

#define SCRIPT_ARGC_MAX 16

typedef struct EnqueueCall {
        Redis *redis;
        const char *argv[SCRIPT_ARGC_MAX];   /* borrowed from the caller: valid until done() */
        size_t argvlen[SCRIPT_ARGC_MAX];
        int argc;
        char ttl[24], received[24];
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

/* lowercase hex SHA-1 of the script, for EVALSHA: Redis keeps the script after the first EVAL. */
static const char *script_sha(void) {
        static char hex[41];
        unsigned char digest[20];
        gnutls_datum_t d = { digest, sizeof digest };
        size_t len = sizeof hex;

        if (!hex[0] && (gnutls_hash_fast(GNUTLS_DIG_SHA1, script, sizeof script - 1, digest) < 0 ||
                        gnutls_hex_encode(&d, hex, &len) < 0))
                hex[0] = 0;
        return hex;
}

static void on_script(Redis *r, redisReply *reply, void *userdata);

static int send_script(EnqueueCall *c, bool by_sha) {
        c->argv[0] = by_sha ? "EVALSHA" : "EVAL";
        c->argv[1] = by_sha ? script_sha() : script;
        c->argvlen[0] = strlen(c->argv[0]);
        c->argvlen[1] = by_sha ? 40 : sizeof script - 1;
        if (by_sha && !c->argv[1][0])
                return send_script(c, false);
        return redis_command_argv(c->redis, on_script, c, c->argc, c->argv, c->argvlen);
}

static void on_script(Redis *r, redisReply *reply, void *userdata) {
        EnqueueCall *c = userdata;

        /* A Redis restarted (or SCRIPT FLUSHed) since the script was loaded: load it again. */
        if (reply && reply->type == REDIS_REPLY_ERROR && startswith(reply->str, "NOSCRIPT")) {
                if (send_script(c, false) < 0)
                        finish(c, ENQUEUE_FAILED);
                return;
        }
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
        struct timespec ts;
        EnqueueCall *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (EnqueueCall) { .redis = redis, .done = done, .userdata = userdata, .min_replicas = o->min_replicas };
        snprintf(c->wait_replicas, sizeof c->wait_replicas, "%u", o->min_replicas);
        snprintf(c->wait_msec, sizeof c->wait_msec, "%" PRIu64, MAX(o->replica_timeout_msec, (uint64_t) 1));
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(c->ttl, sizeof c->ttl, "%" PRIu64, MAX(o->dedupe_sec, (uint64_t) 1));
        snprintf(c->received, sizeof c->received, "%" PRIu64,
                 (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000);

#define ARG(s, l) do { c->argv[c->argc] = (s); c->argvlen[c->argc] = (l); c->argc++; } while (0)
#define ARGS(s) ARG(s, strlen(s))
        c->argc = 2;  /* EVAL/EVALSHA and the script, filled in by send_script() */
        ARGS("2");
        ARGS(ev->dedupe_key);
        ARGS(ev->stream);
        ARGS(c->ttl);
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
        ARGS(c->received);
        ARGS("body");
        ARG(body, len);
#undef ARGS
#undef ARG

        r = send_script(c, true);
        if (r < 0)
                free(c);
        return r;
}
