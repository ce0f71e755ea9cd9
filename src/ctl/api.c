/* SPDX-License-Identifier: MIT */
/* The REST API ([API] URL=) as tgfleetctl's verbs call it: the bearer token of the api-token
 * credential, an actor header naming the local user, errors printed as the API words them. */

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "ctl.h"
#include "json-util.h"
#include "log.h"

int ctl_api_open(const Config *c, CtlApi *api) {
        _cleanup_(secret_freep) Secret *token = NULL;
        int r;

        api->config = c;
        r = creds_read_admin("api-token", 4096, &token);
        if (r < 0)
                return log_error_errno(r, "Cannot read the api-token credential (nor /etc/credstore/api-token): %m");
        snprintf(api->auth, sizeof api->auth, "Authorization: Bearer %s", token->data);
        return 0;
}

void ctl_api_close(CtlApi *api) {
        explicit_bzero(api->auth, sizeof api->auth);
}

long ctl_api_call(CtlApi *api, const char *method, const char *path, const char *extra_header, json_object *body,
                  json_object **ret) {
        char actor[96];
        const char *headers[] = { api->auth, actor, extra_header, NULL };
        const char *user = getenv("SUDO_USER") ?: getenv("USER") ?: "root";

        snprintf(actor, sizeof actor, "X-Tgfleet-Actor: ctl:%.64s", user);
        return ctl_http_json(api->config->api_url, "the REST API", method, path, headers, body, ret);
}

int ctl_api_finish(long status, json_object *answer, void (*print)(json_object *)) {
        int r = 0;

        if (status < 0)
                r = 1;
        else if (status < 200 || status > 299) {
                const char *code = json_get_string(answer, "error"), *message = json_get_string(answer, "message");
                log_error("%s (%s, HTTP %ld)", message ?: "The API refused the request", code ?: "?", status);
                r = 1;
        } else if (print)
                print(answer);
        json_object_put(answer);
        return r;
}

void ctl_print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void ctl_print_page(json_object *page, const char *header, void (*line)(json_object *), const char *noun) {
        json_object *items = NULL;
        int64_t total = 0, offset = 0;
        size_t n;

        (void) json_object_object_get_ex(page, "items", &items);
        (void) json_get_int64(page, "total", &total);
        (void) json_get_int64(page, "offset", &offset);
        n = json_object_array_length(items);
        fputs(header, stdout);
        for (size_t i = 0; i < n; i++)
                line(json_object_array_get_idx(items, i));
        if (n == 0)
                printf("\nNo %s matches (%" PRId64 " in all).\n", noun, total);
        else
                printf("\n%zu of %" PRId64 " %s(s), from %" PRId64 ".\n", n, total, noun, offset + 1);
}

int ctl_api_list(CtlApi *api, const char *base, int argc, char *argv[], const struct option *options,
                 const char *const *keys, size_t n_keys, const char *usage, void (*print)(json_object *)) {
        _cleanup_free_ char *path = NULL;
        CURL *h = curl_easy_init();
        json_object *answer = NULL;
        bool json = false;
        long status;
        int c;

        if (!h || asprintf(&path, "%s?", base) < 0) {
                curl_easy_cleanup(h);
                return log_oom(), 1;
        }
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                char *escaped, *grown;
                if (c == 'j') {
                        json = true;
                        continue;
                }
                if (c < 0 || (size_t) c >= n_keys || !keys[c]) {
                        curl_easy_cleanup(h);
                        fputs(usage, stderr);
                        return 2;
                }
                escaped = curl_easy_escape(h, optarg, 0);
                if (!escaped || asprintf(&grown, "%s%s=%s&", path, keys[c], escaped) < 0) {
                        curl_free(escaped);
                        curl_easy_cleanup(h);
                        return log_oom(), 1;
                }
                curl_free(escaped);
                free(path);
                path = grown;
        }
        curl_easy_cleanup(h);
        if (optind != argc) {
                fputs(usage, stderr);
                return 2;
        }
        status = ctl_api_call(api, "GET", path, NULL, NULL, &answer);
        return ctl_api_finish(status, answer, json ? ctl_print_json : print);
}
