/* SPDX-License-Identifier: MIT */
/* tgfleetctl webhooks …: a platform bot's webhook secret, and its webhook registered with
 * Telegram from the credential store, so that no bot token is ever typed on a command line. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "creds.h"
#include "ctl.h"
#include "json-util.h"
#include "log.h"
#include "webhook-secret.h"

#define TOKEN_MAX 256

const char webhooks_usage[] =
        "Usage: tgfleetctl webhooks secret BOT\n"
        "       tgfleetctl webhooks set BOT [--url=URL] [--certificate=FILE] [--allowed-updates=TYPES]\n"
        "                               [--drop-pending-updates]\n"
        "       tgfleetctl webhooks info|delete BOT\n"
        "secret prints the secret_token setWebhook must be given for BOT (derived from webhook-key);\n"
        "set registers BOT's webhook with Telegram (its token from the bot-token-BOT credential): the URL\n"
        "(default [Deploy] PublicURL=/tg/BOT), that secret, the update types (default [Deploy]\n"
        "AllowedUpdates=) and, for a self-signed certificate, its public PEM file.\n";

/* The secret_token of @bot, derived from the webhook-key credential. */
static int derive_secret(const char *bot, char secret[static WEBHOOK_SECRET_SIZE]) {
        _cleanup_(secret_freep) Secret *key = NULL;
        int r;

        r = creds_read_admin("webhook-key", 4096, &key);
        if (r < 0)
                return log_error_errno(r, "Cannot read the webhook-key credential (nor /etc/credstore/webhook-key): %m");
        if (webhook_secret_derive(key, bot, secret) < 0)
                return log_error_errno(EINVAL, "The webhook-key credential is empty.");
        return 0;
}

typedef struct WebhookForm {
        const char *url, *secret, *certificate, *allowed_updates;
        bool drop_pending;
} WebhookForm;

static void field(curl_mime *m, const char *name, const char *value) {
        curl_mimepart *p = curl_mime_addpart(m);

        curl_mime_name(p, name);
        curl_mime_data(p, value, CURL_ZERO_TERMINATED);
}

/* setWebhook's parameters, as multipart/form-data (the certificate is a file upload). */
static curl_mime *webhook_form(CURL *h, void *userdata) {
        const WebhookForm *f = userdata;
        curl_mime *m = curl_mime_init(h);
        _cleanup_free_ char *types = NULL, *list = strdup(strempty(f->allowed_updates));
        json_object *array = json_object_new_array();
        char *save = NULL;

        if (!m || !list || !array) {
                curl_mime_free(m);
                json_object_put(array);
                return log_oom(), NULL;
        }
        for (char *t = strtok_r(list, " ,", &save); t; t = strtok_r(NULL, " ,", &save))
                json_object_array_add(array, json_object_new_string(t));
        types = strdup(json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN));
        json_object_put(array);
        field(m, "url", f->url);
        if (f->secret)
                field(m, "secret_token", f->secret);
        if (types)
                field(m, "allowed_updates", types);
        if (f->drop_pending)
                field(m, "drop_pending_updates", "true");
        if (f->certificate) {
                curl_mimepart *p = curl_mime_addpart(m);
                curl_mime_name(p, "certificate");
                if (curl_mime_filedata(p, f->certificate) != CURLE_OK) {
                        log_error("Cannot read the certificate %s.", f->certificate);
                        curl_mime_free(m);
                        return NULL;
                }
        }
        return m;
}

/* Says what Telegram answered; returns the exit status. */
static int answered(const char *bot, const char *method, long status, json_object *answer) {
        const char *description = json_object_is_type(answer, json_type_object) ? json_get_string(answer, "description")
                                                                                  : NULL;
        int r = 0;

        if (status < 0)
                r = 1;
        else if (status != 200) {
                log_error("Telegram refused %s for %s (HTTP %ld): %s", method, bot, status,
                          description ?: (status == 401 || status == 404 ? "the token is not valid" : "no reason given"));
                r = 1;
        }
        json_object_put(answer);
        return r;
}

static int webhooks_set(const Config *c, const char *bot, const Secret *token, int argc, char *argv[]) {
        static const struct option options[] = {
                { "url", required_argument, NULL, 'u' },
                { "certificate", required_argument, NULL, 'c' },
                { "allowed-updates", required_argument, NULL, 'a' },
                { "drop-pending-updates", no_argument, NULL, 'd' },
                {},
        };
        char secret[WEBHOOK_SECRET_SIZE], url[1024] = "";
        WebhookForm f = { .allowed_updates = c->deploy_allowed_updates };
        json_object *answer = NULL;
        long status;
        int o, r;

        optind = 0;
        while ((o = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (o) {
                case 'u': snprintf(url, sizeof url, "%s", optarg); break;
                case 'c': f.certificate = optarg; break;
                case 'a': f.allowed_updates = optarg; break;
                case 'd': f.drop_pending = true; break;
                default: fputs(webhooks_usage, stderr); return 2;
                }
        if (optind != argc) {
                fputs(webhooks_usage, stderr);
                return 2;
        }
        if (!*url) {
                if (isempty(c->deploy_public_url)) {
                        log_error("Give --url=https://HOST[:PORT]/tg/%s, or set [Deploy] PublicURL=.", bot);
                        return 2;
                }
                snprintf(url, sizeof url, "%s/tg/%s", c->deploy_public_url, bot);
        }
        if (f.certificate && access(f.certificate, R_OK) < 0)
                return log_error_errno(errno, "Cannot read the certificate %s: %m", f.certificate), 1;
        if (derive_secret(bot, secret) < 0)
                return 1;
        f.url = url;
        f.secret = secret;
        status = ctl_telegram_call(c, token, "setWebhook", webhook_form, &f, &answer);
        explicit_bzero(secret, sizeof secret);
        r = answered(bot, "setWebhook", status, answer);
        if (r == 0)
                printf("Webhook of %s set: %s%s\n", bot, url, f.certificate ? " (with its certificate)" : "");
        return r;
}

static int webhooks_info(const Config *c, const char *bot, const Secret *token) {
        json_object *answer = NULL, *result = NULL;
        long status = ctl_telegram_call(c, token, "getWebhookInfo", NULL, NULL, &answer);
        int64_t pending = 0, last = 0;
        const char *url;

        if (status != 200)
                return answered(bot, "getWebhookInfo", status, answer);
        (void) json_object_object_get_ex(answer, "result", &result);
        url = json_get_string(result, "url");
        (void) json_get_int64(result, "pending_update_count", &pending);
        (void) json_get_int64(result, "last_error_date", &last);
        printf("URL:         %s\n", isempty(url) ? "(none: no webhook)" : url);
        printf("Certificate: %s\n", json_object_get_boolean(json_object_object_get(result, "has_custom_certificate"))
                                            ? "self-signed, uploaded" : "none (a CA-signed one, or no webhook)");
        printf("Pending:     %" PRId64 " update(s)\n", pending);
        if (last > 0)
                printf("Last error:  %s\n", strempty(json_get_string(result, "last_error_message")));
        json_object_put(answer);
        return 0;
}

int verb_webhooks(const Config *c, int argc, char *argv[]) {
        _cleanup_(secret_freep) Secret *token = NULL;
        char secret[WEBHOOK_SECRET_SIZE], name[96];
        const char *verb = argc > 1 ? argv[1] : "", *bot = argc > 2 ? argv[2] : NULL;
        int r;

        if (!bot || (!streq(verb, "secret") && !streq(verb, "set") && !streq(verb, "info") && !streq(verb, "delete")) ||
            (!streq(verb, "set") && argc != 3)) {
                fputs(webhooks_usage, stderr);
                return 2;
        }
        if (!bot_name_valid(bot, strlen(bot))) {
                log_error("Invalid bot name \"%s\": use 1–64 of A-Z a-z 0-9 _ -.", bot);
                return 2;
        }
        if (streq(verb, "secret")) {
                if (derive_secret(bot, secret) < 0)
                        return 1;
                puts(secret);
                explicit_bzero(secret, sizeof secret);
                return 0;
        }
        snprintf(name, sizeof name, "bot-token-%s", bot);
        r = creds_read_admin(name, TOKEN_MAX, &token);
        if (r < 0) {
                log_error_errno(r, "Cannot read the %s credential (nor /etc/credstore/%s): %m", name, name);
                return 1;
        }
        if (streq(verb, "set"))
                return webhooks_set(c, bot, token, argc - 2, argv + 2);
        if (streq(verb, "info"))
                return webhooks_info(c, bot, token);
        json_object *answer = NULL;
        long status = ctl_telegram_call(c, token, "deleteWebhook", NULL, NULL, &answer);
        r = answered(bot, "deleteWebhook", status, answer);
        if (r == 0)
                printf("Webhook of %s deleted.\n", bot);
        return r;
}
