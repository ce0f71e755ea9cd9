/* SPDX-License-Identifier: MIT */
/* tgfleetctl clients … and tgfleetctl queue …: the REST API ([API] URL=) from the shell, with
 * its bearer token from the api-token credential (the credentials directory, else
 * /etc/credstore). */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bot-api.h"
#include "creds.h"
#include "ctl.h"
#include "json-util.h"
#include "log.h"

const char clients_usage[] =
        "Usage: tgfleetctl clients list [--status=S] [--search=TEXT] [--owner=ID] [--limit=N] [--offset=N] [--json]\n"
        "       tgfleetctl clients show ID\n"
        "       tgfleetctl clients add --owner=ID --name=NAME [--time-zone=TZ] [--token-file=FILE]\n"
        "                              (the token is read from FILE, or from standard input)\n"
        "       tgfleetctl clients extend ID DAYS [--idempotency-key=KEY]\n"
        "       tgfleetctl clients suspend|resume|redeploy|remove ID\n";
const char queue_usage[] =
        "Usage: tgfleetctl queue [--json]\n"
        "       tgfleetctl queue retry TASK\n";

static void print_client_line(json_object *c) {
        int64_t id = 0;

        (void) json_get_int64(c, "id", &id);
        printf("%6" PRId64 "  %-10s  %-20s  @%-32s  %s\n", id, json_get_string(c, "status") ?: "?",
               json_get_string(c, "paid_until") ?: "-", json_get_string(c, "bot_username") ?: "?",
               json_get_string(c, "name") ?: "");
}

static void print_page(json_object *page) {
        char header[160];

        snprintf(header, sizeof header, "%6s  %-10s  %-20s  %-33s  %s\n", "ID", "STATUS", "PAID UNTIL", "BOT", "NAME");
        ctl_print_page(page, header, print_client_line, "client");
}

static void print_queued(json_object *o) {
        json_object *client = NULL, *task = NULL;
        int64_t position = 0;

        (void) json_object_object_get_ex(o, "client", &client);
        (void) json_object_object_get_ex(o, "task", &task);
        (void) json_get_int64(task, "position", &position);
        print_client_line(client);
        printf("Task %s queued, %" PRId64 " ahead of it.\n", json_get_string(task, "id") ?: "?", position);
}

static void print_queue(json_object *o) {
        json_object *tasks = NULL;

        (void) json_object_object_get_ex(o, "tasks", &tasks);
        printf("%8s  %-8s  %-8s  %6s  %8s  %s\n", "TASK", "STATUS", "ACTION", "CLIENT", "ATTEMPTS", "ERROR");
        for (size_t i = 0; i < json_object_array_length(tasks); i++) {
                json_object *t = json_object_array_get_idx(tasks, i);
                int64_t client = 0, attempts = 0;
                (void) json_get_int64(t, "client_id", &client);
                (void) json_get_int64(t, "attempts", &attempts);
                printf("%8s  %-8s  %-8s  %6" PRId64 "  %8" PRId64 "  %s\n", json_get_string(t, "id") ?: "?",
                       json_get_string(t, "status") ?: "?", json_get_string(t, "action") ?: "?", client, attempts,
                       json_get_string(t, "error") ?: "");
        }
        if (json_object_array_length(tasks) == 0)
                puts("The queue is empty.");
}

/* Reads the token from @path ("-" or NULL: standard input), first line only. */
static int read_token(const char *path, char *buf, size_t size) {
        FILE *f = !path || streq(path, "-") ? stdin : fopen(path, "re");
        bool ok;

        if (!f)
                return log_error_errno(errno, "Cannot open %s: %m", path);
        if (f == stdin && isatty(STDIN_FILENO))
                fputs("Bot token: ", stderr);
        ok = fgets(buf, (int) size, f) != NULL;
        if (f != stdin)
                fclose(f);
        buf[strcspn(buf, "\r\n")] = 0;
        if (!ok || !bot_token_valid(buf)) {
                explicit_bzero(buf, size);
                return log_error_errno(EINVAL, "That is not a bot token (\"<bot id>:<secret>\" from @BotFather).");
        }
        return 0;
}

static int client_id(const char *s, char *buf, size_t size) {
        if (isempty(s) || strspn(s, "0123456789") != strlen(s) || strlen(s) >= size) {
                log_error("Not a client id: %s", strempty(s));
                return -EINVAL;
        }
        strcpy(buf, s);
        return 0;
}

static int clients_add(CtlApi *api, int argc, char *argv[]) {
        static const struct option options[] = {
                { "owner", required_argument, NULL, 'o' },
                { "name", required_argument, NULL, 'n' },
                { "time-zone", required_argument, NULL, 'z' },
                { "token-file", required_argument, NULL, 't' },
                {},
        };
        const char *owner = NULL, *name = NULL, *tz = NULL, *token_file = NULL;
        _cleanup_(json_object_putp) json_object *body = NULL;
        char token[128];
        json_object *answer = NULL;
        long status;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'o': owner = optarg; break;
                case 'n': name = optarg; break;
                case 'z': tz = optarg; break;
                case 't': token_file = optarg; break;
                default: fputs(clients_usage, stderr); return 2;
                }
        if (!owner || !name || optind != argc || strspn(owner, "0123456789") != strlen(owner)) {
                fputs(clients_usage, stderr);
                return 2;
        }
        if (read_token(token_file, token, sizeof token) < 0)
                return 1;
        body = json_object_new_object();
        json_object_object_add(body, "token", json_object_new_string(token));
        explicit_bzero(token, sizeof token);
        json_object_object_add(body, "owner_id", json_object_new_int64(strtoll(owner, NULL, 10)));
        json_object_object_add(body, "name", json_object_new_string(name));
        if (tz)
                json_object_object_add(body, "time_zone", json_object_new_string(tz));
        status = ctl_api_call(api, "POST", "/api/clients", NULL, body, &answer);
        return ctl_api_finish(status, answer, print_queued);
}

static int clients_list(CtlApi *api, int argc, char *argv[]) {
        static const struct option options[] = {
                { "status", required_argument, NULL, 's' },
                { "search", required_argument, NULL, 'q' },
                { "owner", required_argument, NULL, 'o' },
                { "limit", required_argument, NULL, 'l' },
                { "offset", required_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        static const char *const keys[] = { ['s'] = "status", ['q'] = "q", ['o'] = "owner_id", ['l'] = "limit", ['f'] = "offset" };

        return ctl_api_list(api, "/api/clients", argc, argv, options, keys, ELEMENTSOF(keys), clients_usage, print_page);
}

int verb_clients(const Config *config, int argc, char *argv[]) {
        static const char *const actions[] = { "suspend", "resume", "redeploy" };
        char id[24], path[96], key[256];
        json_object *answer = NULL, *body;
        const char *verb = argc > 1 ? argv[1] : NULL;
        CtlApi api;
        long status;
        int r = 2;

        if (!verb) {
                fputs(clients_usage, stderr);
                return 2;
        }
        if (ctl_api_open(config, &api) < 0)
                return 1;
        optind = 0;
        if (streq(verb, "list"))
                r = clients_list(&api, argc - 1, argv + 1);
        else if (streq(verb, "add"))
                r = clients_add(&api, argc - 1, argv + 1);
        else if (streq(verb, "show") && argc == 3 && client_id(argv[2], id, sizeof id) >= 0) {
                snprintf(path, sizeof path, "/api/clients/%s", id);
                status = ctl_api_call(&api, "GET", path, NULL, NULL, &answer);
                r = ctl_api_finish(status, answer, ctl_print_json);
        } else if (streq(verb, "remove") && argc == 3 && client_id(argv[2], id, sizeof id) >= 0) {
                snprintf(path, sizeof path, "/api/clients/%s", id);
                status = ctl_api_call(&api, "DELETE", path, NULL, NULL, &answer);
                r = ctl_api_finish(status, answer, print_queued);
        } else if (streq(verb, "extend") && (argc == 4 || argc == 5) && client_id(argv[2], id, sizeof id) >= 0) {
                const char *k = argc == 5 ? startswith(argv[4], "--idempotency-key=") : NULL;
                if (argc == 5 && isempty(k))
                        goto usage;
                snprintf(path, sizeof path, "/api/clients/%s/extend", id);
                snprintf(key, sizeof key, "Idempotency-Key: %s", strempty(k));
                body = json_object_new_object();
                json_object_object_add(body, "days", json_object_new_int64(strtoll(argv[3], NULL, 10)));
                status = ctl_api_call(&api, "POST", path, k ? key : NULL, body, &answer);
                json_object_put(body);
                r = ctl_api_finish(status, answer, print_client_line);
        } else {
                for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                        if (streq(verb, actions[i]) && argc == 3 && client_id(argv[2], id, sizeof id) >= 0) {
                                snprintf(path, sizeof path, "/api/clients/%s/%s", id, verb);
                                status = ctl_api_call(&api, "POST", path, NULL, NULL, &answer);
                                r = ctl_api_finish(status, answer, print_queued);
                                goto done;
                        }
                goto usage;
        }
done:
        ctl_api_close(&api);
        return r;
usage:
        ctl_api_close(&api);
        fputs(clients_usage, stderr);
        return 2;
}

int verb_queue(const Config *c, int argc, char *argv[]) {
        json_object *answer = NULL;
        char path[96];
        long status;
        CtlApi api;
        int r;

        if (ctl_api_open(c, &api) < 0)
                return 1;
        if (argc == 1 || (argc == 2 && streq(argv[1], "--json"))) {
                status = ctl_api_call(&api, "GET", "/api/queue", NULL, NULL, &answer);
                r = ctl_api_finish(status, answer, argc == 2 ? ctl_print_json : print_queue);
        } else if (argc == 3 && streq(argv[1], "retry") && strspn(argv[2], "0123456789") == strlen(argv[2]) &&
                 strlen(argv[2]) < 24) {
                snprintf(path, sizeof path, "/api/queue/%s/retry", argv[2]);
                status = ctl_api_call(&api, "POST", path, NULL, NULL, &answer);
                r = ctl_api_finish(status, answer, ctl_print_json);
        } else {
                fputs(queue_usage, stderr);
                r = 2;
        }
        ctl_api_close(&api);
        return r;
}
