/* SPDX-License-Identifier: MIT */
#include "test-util.h"
#include "webhook-secret.h"

int main(void) {
        Secret *key = malloc(sizeof *key + 6);
        char a[WEBHOOK_SECRET_SIZE], b[WEBHOOK_SECRET_SIZE];

        key->size = 5;
        memcpy(key->data, "k3y!!", 6);
        assert(webhook_secret_derive(key, "shop_bot", a) == 0);
        /* HMAC-SHA256("k3y!!", "tgfleet-webhook:shop_bot"), computed independently. */
        assert(streq(a, "d11cb93157c511fd0503357fe8a6b841ae3ec5d4f047334c78383328fad5fdd9"));
        assert(strlen(a) == 64 && strspn(a, "0123456789abcdef") == 64);
        assert(webhook_secret_derive(key, "other_bot", b) == 0 && !streq(a, b));

        assert(bot_name_valid("A-z_09", 6));
        assert(!bot_name_valid("", 0));
        assert(!bot_name_valid("a/b", 3));
        assert(!bot_name_valid("a.b", 3));
        assert(!bot_name_valid("a%20", 4));
        assert(webhook_secret_derive(key, "bad/bot", a) == -EINVAL);
        key->size = 0;
        assert(webhook_secret_derive(key, "shop_bot", a) == -EINVAL);
        free(key);
        return 0;
}
