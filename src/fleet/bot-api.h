/* SPDX-License-Identifier: MIT */
#pragma once

/* Single Telegram Bot API calls for the control plane (getMe, setWebhook, deleteWebhook,
 * sendMessage): POST <api>/bot<token>/<method> with a JSON body, the answer sorted into what the
 * caller must do about it. Tokens are never logged. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "http-client.h"

typedef struct BotApiResult {
        /* 0: {"ok":true}. -EACCES: the token is not valid (401, 404). -EAGAIN: flood control
         * (retry_after set). -EINVAL: refused for good (another 4xx; description set). -EIO:
         * Telegram failed (5xx, not JSON). Other -errno: the network. */
        int error;
        json_object *result;        /* "result" when error is 0; valid during the callback */
        const char *description;    /* Telegram's words on a refusal, or NULL */
        int64_t retry_after;
} BotApiResult;

typedef void (*BotApiFn)(const BotApiResult *r, void *userdata);

/* Whether @token looks like a bot token: "<bot id>:<secret>" (digits, then 30–64 of A-Z a-z
 * 0-9 _ -). A token that does not is refused before it is sent anywhere. */
bool bot_token_valid(const char *token);

/* Calls @method with @params (may be NULL; not taken). @cb gets exactly one call unless this
 * returns < 0 (-ENOMEM, -EINVAL for a malformed token). */
int bot_api_call(HttpClient *http, const char *api_url, const char *token, const char *method,
                 json_object *params, BotApiFn cb, void *userdata);

/* The same with the parameters as a JSON object's text (not taken), as an outbox entry holds
 * them, for a caller that needs only the outcome: a success (HTTP 200, which Telegram answers
 * exactly when "ok" is true) is not parsed, and its result is NULL. */
int bot_api_call_json(HttpClient *http, const char *api_url, const char *token, const char *method,
                      const char *params_json, BotApiFn cb, void *userdata);
