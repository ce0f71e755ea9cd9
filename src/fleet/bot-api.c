/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot-api.h"
#include "json-util.h"
#include "macro.h"

typedef struct BotCall {
        BotApiFn cb;
        void *userdata;
        bool want_result;
} BotCall;

bool bot_token_valid(const char *token) {
        const char *colon = token ? strchr(token, ':') : NULL;
        size_t id_len, secret_len;

        if (!colon)
                return false;
        id_len = (size_t) (colon - token);
        secret_len = strlen(colon + 1);
        return id_len >= 1 && id_len <= 20 && strspn(token, "0123456789") == id_len &&
               secret_len >= 30 && secret_len <= 64 &&
               strspn(colon + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == secret_len;
}

static void on_answer(HttpClient *h, const HttpResponse *r, void *userdata) {
        _cleanup_free_ BotCall *call = userdata;
        _cleanup_(json_object_putp) json_object *answer = NULL;
        BotApiResult res = { .error = r->error };
        json_object *ok, *params;

        /* Telegram answers 200 exactly when "ok" is true: a caller wanting no result needs nothing
         * read from a success. */
        if (r->error == 0 && (r->status != 200 || call->want_result)) {
                if (json_parse(r->body, r->size, &answer) < 0 || !json_object_is_type(answer, json_type_object))
                        res.error = -EIO;
                else if (json_object_object_get_ex(answer, "ok", &ok) && json_object_get_boolean(ok) &&
                         r->status == 200)
                        (void) json_object_object_get_ex(answer, "result", &res.result);
                else {
                        res.description = json_get_string(answer, "description");
                        if (json_object_object_get_ex(answer, "parameters", &params))
                                (void) json_get_int64(params, "retry_after", &res.retry_after);
                        res.error = r->status == 401 || r->status == 404 ? -EACCES
                                  : r->status == 429 ? -EAGAIN
                                  : r->status >= 500 ? -EIO : -EINVAL;
                }
        }
        call->cb(&res, call->userdata);
}

static int request(HttpClient *http, const char *api_url, const char *token, const char *method, const char *body,
                bool want_result, BotApiFn cb, void *userdata) {
        static const char *const headers[] = { "Content-Type: application/json", NULL };
        _cleanup_free_ char *url = NULL;
        BotCall *call;
        int r;

        if (!bot_token_valid(token))
                return -EINVAL;
        if (asprintf(&url, "%s/bot%s/%s", api_url, token, method) < 0)
                return -ENOMEM;
        call = malloc(sizeof *call);
        if (!call) {
                explicit_bzero(url, strlen(url));
                return -ENOMEM;
        }
        *call = (BotCall) { cb, userdata, want_result };
        r = http_client_request(http, &(HttpRequest) { .method = "POST", .url = url, .headers = headers, .body = body,
                                                       .body_size = strlen(body), .timeout_usec = 30 * USEC_PER_SEC },
                                on_answer, call);
        explicit_bzero(url, strlen(url));
        if (r < 0)
                free(call);
        return r;
}

int bot_api_call(HttpClient *http, const char *api_url, const char *token, const char *method,
                 json_object *params, BotApiFn cb, void *userdata) {
        return request(http, api_url, token, method,
                       params ? json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN) : "{}", true, cb,
                       userdata);
}

int bot_api_call_json(HttpClient *http, const char *api_url, const char *token, const char *method,
                      const char *params_json, BotApiFn cb, void *userdata) {
        return request(http, api_url, token, method, params_json, false, cb, userdata);
}
