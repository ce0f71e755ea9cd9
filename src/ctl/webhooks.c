/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "creds.h"
#include "ctl.h"
#include "log.h"
#include "webhook-secret.h"

const char webhooks_usage[] =
        "Usage: tgfleetctl webhooks secret BOT\n"
        "Prints the secret_token that setWebhook must be given for BOT (derived from webhook-key).\n";

int verb_webhooks(const Config *c, int argc, char *argv[]) {
        _cleanup_(secret_freep) Secret *key = NULL;
        char secret[WEBHOOK_SECRET_SIZE];
        int r;
        (void) c;

        if (argc != 3 || !streq(argv[1], "secret")) {
                fputs(webhooks_usage, stderr);
                return 2;
        }
        if (!bot_name_valid(argv[2], strlen(argv[2]))) {
                log_error("Invalid bot name \"%s\": use 1–64 of A-Z a-z 0-9 _ -.", argv[2]);
                return 2;
        }
        r = creds_read_admin("webhook-key", 4096, &key);
        if (r < 0) {
                log_error_errno(r, "Cannot read the webhook-key credential (nor /etc/credstore/webhook-key): %m");
                return 1;
        }
        if (webhook_secret_derive(key, argv[2], secret) < 0) {
                log_error("The webhook-key credential is empty.");
                return 1;
        }
        puts(secret);
        explicit_bzero(secret, sizeof secret);
        return 0;
}
