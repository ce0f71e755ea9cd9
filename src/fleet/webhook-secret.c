/* SPDX-License-Identifier: MIT */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>

#include "webhook-secret.h"

bool bot_name_valid(const char *bot, size_t len) {
        if (len == 0 || len > BOT_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = bot[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

int webhook_secret_derive(const Secret *key, const char *bot, char ret[WEBHOOK_SECRET_SIZE]) {
        char msg[sizeof "tgfleet-webhook:" + BOT_NAME_MAX];
        unsigned char mac[32];
        gnutls_datum_t d = { mac, sizeof mac };
        size_t hexlen = WEBHOOK_SECRET_SIZE;
        int n;

        if (!key || key->size == 0 || !bot_name_valid(bot, strlen(bot)))
                return -EINVAL;
        n = snprintf(msg, sizeof msg, "tgfleet-webhook:%s", bot);
        if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key->data, key->size, msg, (size_t) n, mac) < 0)
                return -EIO;
        if (gnutls_hex_encode(&d, ret, &hexlen) < 0)
                return -EIO;
        explicit_bzero(mac, sizeof mac);
        return 0;
}
