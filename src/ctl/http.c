/* SPDX-License-Identifier: MIT */
/* Blocking JSON requests for the verbs that talk to tgfleet's HTTP services (the REST API, the
 * sandbox's control API) and to Telegram's Bot API. */

#include <curl/curl.h>
#include <stdio.h>

#include "ctl.h"
#include "json-util.h"
#include "log.h"

typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;

static size_t collect(char *ptr, size_t size, size_t n, void *userdata) {
        Buffer *b = userdata;
        char *grown = realloc(b->data, b->size + size * n + 1);

        if (!grown)
                return 0;
        b->data = grown;
        memcpy(b->data + b->size, ptr, size * n);
        b->size += size * n;
        b->data[b->size] = 0;
        return size * n;
}

long ctl_http_json(const char *base, const char *what, const char *method, const char *path,
                   const char *const *headers, json_object *body, json_object **ret) {
        CURL *h = curl_easy_init();
        struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
        _cleanup_free_ char *url = NULL;
        Buffer b = {};
        long status = 0;
        CURLcode cr;

        for (size_t i = 0; headers && headers[i]; i++)
                list = curl_slist_append(list, headers[i]);
        if (!h || !list || asprintf(&url, "%s%s", base, path) < 0) {
                curl_easy_cleanup(h);
                curl_slist_free_all(list);
                return log_oom();
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        /* A POST always carries a body ("{}" at least), with its length. */
        if (body || streq(method, "POST"))
                curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                                 body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "{}");
        cr = curl_easy_perform(h);
        if (cr == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_slist_free_all(list);
        if (cr != CURLE_OK) {
                free(b.data);
                log_error("Cannot reach %s at %s: %s", what, base, curl_easy_strerror(cr));
                return -EHOSTUNREACH;
        }
        *ret = NULL;
        if (b.size > 0 && json_parse(b.data, b.size, ret) < 0)
                *ret = json_object_new_string(b.data);
        free(b.data);
        return status;
}

long ctl_telegram_call(const Config *c, const Secret *token, const char *method,
                       curl_mime *(*form)(CURL *h, void *userdata), void *userdata, json_object **ret) {
        CURL *h = curl_easy_init();
        curl_mime *mime = NULL;
        _cleanup_free_ char *url = NULL;
        Buffer b = {};
        long status = 0;
        CURLcode cr;

        *ret = NULL;
        if (!h || asprintf(&url, "%s/bot%s/%s", c->telegram_url, token->data, method) < 0) {
                curl_easy_cleanup(h);
                return log_oom();
        }
        if (form && !(mime = form(h, userdata))) {
                explicit_bzero(url, strlen(url));
                curl_easy_cleanup(h);
                return -EINVAL;   /* the form builder said why */
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        if (mime)
                curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
        else
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        cr = curl_easy_perform(h);
        if (cr == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_mime_free(mime);
        explicit_bzero(url, strlen(url));   /* it holds the token */
        if (cr != CURLE_OK) {
                free(b.data);
                log_error("Cannot reach Telegram at %s: %s", c->telegram_url, curl_easy_strerror(cr));
                return -EHOSTUNREACH;
        }
        if (b.size > 0 && json_parse(b.data, b.size, ret) < 0)
                *ret = json_object_new_string(b.data);
        free(b.data);
        return status;
}
