/* SPDX-License-Identifier: MIT */
#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "redis-script.h"

typedef struct ScriptCall {
        RedisScript *script;
        RedisReplyFn cb;
        void *userdata;
        int argc;              /* of argv, the two first being the command and the script */
        const char **argv;
        size_t *argvlen;
} ScriptCall;

static const char *script_sha(RedisScript *s) {
        unsigned char digest[20];
        gnutls_datum_t d = { digest, sizeof digest };
        size_t len = sizeof s->sha;

        if (!s->sha[0] && (gnutls_hash_fast(GNUTLS_DIG_SHA1, s->text, strlen(s->text), digest) < 0 ||
                           gnutls_hex_encode(&d, s->sha, &len) < 0))
                s->sha[0] = 0;
        return s->sha[0] ? s->sha : NULL;
}

static void call_free(ScriptCall *c) {
        for (int i = 2; i < c->argc; i++)
                free((char *) c->argv[i]);
        free(c->argv);
        free(c->argvlen);
        free(c);
}

static void on_reply(Redis *r, redisReply *reply, void *userdata);

static int send_call(Redis *r, ScriptCall *c, bool by_sha) {
        const char *sha = by_sha ? script_sha(c->script) : NULL;

        c->argv[0] = sha ? "EVALSHA" : "EVAL";
        c->argv[1] = sha ? sha : c->script->text;
        c->argvlen[0] = strlen(c->argv[0]);
        c->argvlen[1] = strlen(c->argv[1]);
        return redis_command_argv(r, on_reply, c, c->argc, c->argv, c->argvlen);
}

static void on_reply(Redis *r, redisReply *reply, void *userdata) {
        ScriptCall *c = userdata;

        /* Sent again from the reply callback, where the connection is known to be alive. */
        if (redis_reply_errno(reply) == -ENOEXEC &&
            streq(c->argv[0], "EVALSHA") && send_call(r, c, false) >= 0)
                return;
        if (c->cb)
                c->cb(r, reply, c->userdata);
        call_free(c);
}

int redis_script_eval(Redis *r, RedisScript *script, RedisReplyFn cb, void *userdata, int argc, const char **argv,
                      const size_t *argvlen) {
        ScriptCall *c = calloc(1, sizeof *c);
        int k;

        if (!c)
                return -ENOMEM;
        *c = (ScriptCall) { .script = script, .cb = cb, .userdata = userdata, .argc = 2 };
        c->argv = calloc((size_t) argc + 2, sizeof *c->argv);
        c->argvlen = calloc((size_t) argc + 2, sizeof *c->argvlen);
        if (!c->argv || !c->argvlen) {
                call_free(c);
                return -ENOMEM;
        }
        for (int i = 0; i < argc; i++) {
                size_t len = argvlen ? argvlen[i] : strlen(argv[i]);
                char *copy = malloc(len + 1);
                if (!copy) {
                        call_free(c);
                        return -ENOMEM;
                }
                memcpy(copy, argv[i], len);
                copy[len] = 0;
                c->argv[c->argc] = copy;
                c->argvlen[c->argc] = len;
                c->argc++;
        }
        k = send_call(r, c, true);
        if (k < 0)
                call_free(c);
        return k;
}
