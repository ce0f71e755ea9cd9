/* SPDX-License-Identifier: MIT */
/* The master bot's calls to tgfleet-apid: JSON over HTTP with the bearer token from credential
 * "api-token", on botd's event loop. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log-fields.h"
#include "master.h"

#define API_TIMEOUT_USEC (30 * USEC_PER_SEC)

typedef struct ApiCall {
        Work *w;
        ApiFn fn;
} ApiCall;

static void on_response(HttpClient *c, const HttpResponse *r, void *userdata) {
        ApiCall *call = userdata;
        Work *w = call->w;
        ApiFn fn = call->fn;
        _cleanup_(json_object_putp) json_object *json = NULL;
        ApiAnswer a = { .error = r->error, .status = r->status };

        free(call);
        if (r->error == -ECANCELED || w->b->daemon.stopping)
                return work_abandon(w);
        if (a.error == 0 && (json_parse(r->body, r->size, &json) < 0 || !json_object_is_type(json, json_type_object)))
                a.error = -EBADMSG;
        if (a.error == -EBADMSG)
                log_struct(LOG_WARNING, a.error, LOG_FIELDS(LOG_BOT(w->b->bot)),
                           "The API at %s answered HTTP %ld with no JSON object.", w->b->daemon.config.api_url, a.status);
        else if (a.error < 0)   /* no answer at all: say why, not "HTTP 0" */
                log_struct(LOG_WARNING, a.error, LOG_FIELDS(LOG_BOT(w->b->bot)), "The API at %s cannot be reached: %m",
                           w->b->daemon.config.api_url);
        else {
                a.json = json;
                if (a.status >= 400) {
                        a.code = json_get_string(json, "error");
                        a.message = json_get_string(json, "message");
                }
        }
        fn(w, &a);
}

void master_api_call(Work *w, const char *method, const char *path, json_object *body, const char *idempotency_key,
                     ApiFn fn) {
        Botd *b = w->b;
        char auth[600], actor[64], key[160], url[1024];
        const char *headers[] = { "Content-Type: application/json", "Accept: application/json", auth, actor,
                                  idempotency_key ? key : NULL, NULL };
        const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN)
                           : streq(method, "POST") ? "{}" : NULL;
        ApiCall *call = malloc(sizeof *call);
        int r = -ENOMEM;

        snprintf(auth, sizeof auth, "Authorization: Bearer %s", b->master->api_token->data);
        snprintf(actor, sizeof actor, "X-Tgfleet-Actor: master:%" PRId64, w->user);
        snprintf(key, sizeof key, "Idempotency-Key: %s", strempty(idempotency_key));
        snprintf(url, sizeof url, "%s%s", b->daemon.config.api_url, path);
        if (call) {
                *call = (ApiCall) { .w = w, .fn = fn };
                r = http_client_request(b->daemon.http,
                                        &(HttpRequest) { .method = method, .url = url, .headers = headers, .body = text,
                                                         .body_size = text ? strlen(text) : 0,
                                                         .timeout_usec = API_TIMEOUT_USEC },
                                        on_response, call);
        }
        explicit_bzero(auth, sizeof auth);
        /* The request has its copy; the body may hold a bot token, so json-c's is wiped. */
        if (body)
                explicit_bzero((char *) text, strlen(text));
        if (r < 0) {
                free(call);
                fn(w, &(ApiAnswer) { .error = r });
        }
}
