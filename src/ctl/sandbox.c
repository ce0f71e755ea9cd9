/* SPDX-License-Identifier: MIT */
/* tgfleetctl sandbox …: act on tgfleet-sandbox's control API from the shell, and chat with a bot
 * from the terminal. */

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>

#include "ctl.h"
#include "json-util.h"
#include "log.h"

/* Calls the control API. Returns the HTTP status (> 0) and the parsed answer in *ret, or -errno
 * when the sandbox cannot be reached (logged). */
static long control(const Config *c, const char *method, const char *path, json_object *body, json_object **ret) {
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

/* "[bot] text" with numbered buttons, as the chat view shows them. Numbers restart per message;
 * pressing a number presses that button of the last message that has buttons. */
static void print_message(json_object *m, bool last_keyboard) {
        json_object *markup, *rows;
        int n = 0;

        printf("%s %s\n", streq_ptr(json_get_string(m, "from"), "bot") ? "[bot]" : "[you]", json_get_string(m, "text"));
        if (!json_object_object_get_ex(m, "reply_markup", &markup) ||
            !json_object_object_get_ex(markup, "inline_keyboard", &rows))
                return;
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                fputs("     ", stdout);
                for (size_t j = 0; j < json_object_array_length(row); j++) {
                        json_object *btn = json_object_array_get_idx(row, j);
                        const char *url = json_get_string(btn, "url");
                        n++;
                        if (last_keyboard)
                                printf(" [%d] %s%s%s", n, json_get_string(btn, "text"), url ? " → " : "", url ? url : "");
                        else
                                printf(" [%s]", json_get_string(btn, "text"));
                }
                putchar('\n');
        }
}

static int print_messages(json_object *list, size_t from) {
        size_t n = json_object_array_length(list);
        size_t last_kb = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                json_object *markup;
                if (json_object_object_get_ex(json_object_array_get_idx(list, i), "reply_markup", &markup))
                        last_kb = i;
        }
        for (size_t i = from; i < n; i++)
                print_message(json_object_array_get_idx(list, i), i == last_kb);
        fflush(stdout);
        return (int) n;
}

static int chat(const Config *c, const char *bot, const char *user) {
        char path[256], line[4096];
        size_t shown = 0;
        bool stdin_open = true;

        printf("Chatting with %s as user %s. Type a message, or a button's number; Ctrl-D ends.\n", bot, user);
        snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/messages", bot, user);
        for (;;) {
                json_object *list = NULL, *answer = NULL;
                long status = control(c, "GET", path, NULL, &list);
                struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

                if (status < 0)
                        return 1;
                /* Only the new messages are shown; the numbers are those of the last keyboard. */
                if (status == 200 && json_object_is_type(list, json_type_array) && json_object_array_length(list) > shown)
                        shown = (size_t) print_messages(list, shown);
                json_object_put(list);
                if (!stdin_open)
                        return 0;
                if (poll(&p, 1, 300) <= 0)
                        continue;
                if (!fgets(line, sizeof line, stdin)) {
                        /* Input ended: show what the bot still answers, then stop. */
                        stdin_open = false;
                        usleep(1500 * 1000);
                        continue;
                }
                line[strcspn(line, "\n")] = 0;
                if (!*line)
                        continue;
                json_object *body = json_object_new_object();
                bool press = strspn(line, "0123456789") == strlen(line);
                json_object_object_add(body, press ? "label" : "text", json_object_new_string(line));
                snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/%s", bot, user, press ? "press" : "send");
                status = control(c, "POST", path, body, &answer);
                json_object_put(body);
                if (status == 200 && press && json_get_string(answer, "url"))
                        printf("(opens %s)\n", json_get_string(answer, "url"));
                else if (status != 200)
                        printf("(%s)\n", status > 0 ? "no such button" : "sandbox unreachable");
                json_object_put(answer);
                snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/messages", bot, user);
        }
}

int verb_sandbox(const Config *c, int argc, char *argv[]) {
        json_object *body = NULL, *answer = NULL;
        char path[512];
        long status;

        if (argc < 2)
                goto usage;
        if (streq(argv[1], "send") || streq(argv[1], "press")) {
                if (argc != 5 || !user_valid(argv[3]))
                        goto usage;
                body = json_object_new_object();
                json_object_object_add(body, streq(argv[1], "send") ? "text" : "label", json_object_new_string(argv[4]));
                snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/%s", argv[2], argv[3], argv[1]);
                status = control(c, "POST", path, body, &answer);
                json_object_put(body);
                return finish(status, answer);
        }
        if (streq(argv[1], "messages")) {
                bool as_json = argc == 5 && streq(argv[4], "--json");
                if ((argc != 4 && !as_json) || !user_valid(argv[3]))
                        goto usage;
                snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/messages", argv[2], argv[3]);
                status = control(c, "GET", path, NULL, &answer);
                if (as_json || status != 200)
                        return finish(status, answer);
                print_messages(answer, 0);
                json_object_put(answer);
                return 0;
        }
        if (streq(argv[1], "heleket") || streq(argv[1], "yookassa")) {
                if (argc != 4)
                        goto usage;
                snprintf(path, sizeof path, "/sandbox/%s/%s/%s", argv[1], argv[3], argv[2]);
                status = control(c, "POST", path, NULL, &answer);
                return finish(status, answer);
        }
        if (streq(argv[1], "bot") && argc == 3) {
                body = json_object_new_object();
                json_object_object_add(body, "username", json_object_new_string(argv[2]));
                status = control(c, "POST", "/sandbox/bots", body, &answer);
                json_object_put(body);
                return finish(status, answer);
        }
        if (streq(argv[1], "chat") && (argc == 3 || argc == 4)) {
                const char *user = argc == 4 ? argv[3] : "1000001";
                if (!user_valid(user))
                        goto usage;
                return chat(c, argv[2], user);
        }
usage:
        log_error("Usage: tgfleetctl sandbox send|press BOT USER TEXT|LABEL\n"
                  "       tgfleetctl sandbox messages BOT USER [--json]\n"
                  "       tgfleetctl sandbox heleket pay|pay-over|pay-short|seen|process|expire|fail|refund|refund-fail ORDER\n"
                  "       tgfleetctl sandbox yookassa succeed|cancel|expire|revoke PAYMENT\n"
                  "       tgfleetctl sandbox bot USERNAME\n"
                  "       tgfleetctl sandbox chat BOT [USER]");
        return 2;
}
