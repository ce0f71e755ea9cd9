/* SPDX-License-Identifier: MIT */
/* tgfleetctl sandbox …: act on tgfleet-sandbox's control API from the shell (the chat itself is
 * chat.c). */

#include <inttypes.h>
#include <stdio.h>

#include "chat.h"
#include "ctl.h"
#include "json-util.h"
#include "log.h"

long ctl_sandbox_json(const Config *c, const char *method, const char *path, json_object *body, json_object **ret) {
        return ctl_http_json(c->sandbox_url, "the sandbox", method, path, NULL, body, ret);
}

/* Prints the answer (or the error) and returns the exit status. */
static int finish(long status, json_object *answer) {
        const char *err;

        if (status < 0)
                return 1;
        if (status != 200) {
                err = json_object_is_type(answer, json_type_object) ? json_get_string(answer, "error") : NULL;
                log_error("The sandbox answered %ld: %s", status, err ? err : json_object_to_json_string(answer));
                json_object_put(answer);
                return 1;
        }
        puts(json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(answer);
        return 0;
}

static bool user_valid(const char *s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        return *s && !*end && v != 0;
}

const char sandbox_usage[] =
        "Usage: tgfleetctl sandbox send|press BOT USER|--user=USER TEXT|LABEL [--language=CODE]\n"
        "       tgfleetctl sandbox messages BOT USER [--json]\n"
        "       tgfleetctl sandbox heleket pay|pay-over|pay-short|seen|process|expire|fail|refund|refund-fail ORDER\n"
        "       tgfleetctl sandbox yookassa succeed|cancel [--reason=R]|expire|refund|revoke|decline [--reason=R] PAYMENT\n"
        "       tgfleetctl sandbox bot USERNAME [--json]\n"
        "       tgfleetctl sandbox chat BOT [USER|--user=USER] [--language=CODE]\n"
        "         (in the chat: type to send; #N or /press N presses button N)\n";

int verb_sandbox(const Config *c, int argc, char *argv[]) {
        json_object *body = NULL, *answer = NULL;
        const char *language = NULL, *user = NULL;
        char path[512];
        long status;
        int n = 0;

        /* --user=ID and --language=CODE may come anywhere; the rest are the words. */
        for (int i = 0; i < argc; i++) {
                const char *v;
                if ((v = startswith(argv[i], "--user=")))
                        user = v;
                else if ((v = startswith(argv[i], "--language=")))
                        language = v;
                else
                        argv[n++] = argv[i];
        }
        argc = n;
        if (user && !user_valid(user))
                goto usage;
        if (argc < 2)
                goto usage;
        if ((streq(argv[1], "send") || streq(argv[1], "press")) && user && argc == 4) {
                /* With --user= the user is not among the words. */
                argv[4] = argv[3];
                argv[3] = (char *) user;
                argc = 5;
        }
        if (streq(argv[1], "send") || streq(argv[1], "press")) {
                if (argc != 5 || !user_valid(argv[3]))
                        goto usage;
                body = json_object_new_object();
                json_object_object_add(body, streq(argv[1], "send") ? "text" : "label", json_object_new_string(argv[4]));
                if (language && streq(argv[1], "send"))
                        json_object_object_add(body, "language_code", json_object_new_string(language));
                snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/%s", argv[2], argv[3], argv[1]);
                status = ctl_sandbox_json(c, "POST", path, body, &answer);
                json_object_put(body);
                return finish(status, answer);
        }
        if (streq(argv[1], "messages")) {
                bool as_json = argc == 5 && streq(argv[4], "--json");
                if ((argc != 4 && !as_json) || !user_valid(argv[3]))
                        goto usage;
                snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/messages", argv[2], argv[3]);
                status = ctl_sandbox_json(c, "GET", path, NULL, &answer);
                if (as_json || status != 200)
                        return finish(status, answer);
                sandbox_print_messages(answer);
                json_object_put(answer);
                return 0;
        }
        if (streq(argv[1], "heleket") || streq(argv[1], "yookassa")) {
                const char *reason = argc == 5 ? startswith(argv[3], "--reason=") : NULL;
                if (argc != 4 && !(reason && streq(argv[1], "yookassa") &&
                                   (streq(argv[2], "cancel") || streq(argv[2], "decline"))))
                        goto usage;
                snprintf(path, sizeof path, "/sandbox/%s/%s/%s", argv[1], argv[argc - 1], argv[2]);
                if (reason) {
                        body = json_object_new_object();
                        json_object_object_add(body, "reason", json_object_new_string(reason));
                }
                status = ctl_sandbox_json(c, "POST", path, body, &answer);
                json_object_put(body);
                return finish(status, answer);
        }
        if (streq(argv[1], "bot") && (argc == 3 || (argc == 4 && streq(argv[3], "--json")))) {
                const char *token;
                body = json_object_new_object();
                json_object_object_add(body, "username", json_object_new_string(argv[2]));
                status = ctl_sandbox_json(c, "POST", "/sandbox/bots", body, &answer);
                json_object_put(body);
                token = status == 200 ? json_get_string(answer, "token") : NULL;
                if (argc == 4 || !token)
                        return finish(status, answer);
                puts(token);   /* alone, for $(tgfleetctl sandbox bot NAME) */
                json_object_put(answer);
                return 0;
        }
        if (streq(argv[1], "chat") && (argc == 3 || argc == 4) && !startswith(argv[2], "-")) {
                const char *who = argc == 4 ? argv[3] : user ?: "1000001";
                if (!user_valid(who))
                        goto usage;
                return sandbox_chat(c, argv[2], who, language);
        }
usage:
        fputs(sandbox_usage, stderr);
        return 2;
}
