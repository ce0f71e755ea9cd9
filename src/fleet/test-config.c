/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "config.h"
#include "test-util.h"

static char dir[] = "/tmp/test-config-XXXXXX";

static void test_defaults(void) {
        Config c;
        assert(config_load(&c, "/nonexistent/tgfleet.conf") == 0);
        assert(streq(c.redis_url, "redis://127.0.0.1:6379/0"));
        assert(c.webhook_max_body == 1024 * 1024);
        assert(c.webhook_dedupe_usec == 86400 * USEC_PER_SEC);
        assert(c.webhook_yookassa_allow.n == 7);
        assert(c.webhook_heleket_allow.n == 1 && c.webhook_telegram_allow.n == 2);
        assert(c.webhook_monitor_allow.n == 2);
        assert(!c.yookassa_test_shop);
        config_done(&c);
}

/* The main file, then drop-ins in lexical order; lists append, an empty value resets them. */
static void test_dropins(void) {
        char path[256], d[300];
        Config c;
        NetAddr a;

        snprintf(path, sizeof path, "%s/tgfleet.conf", dir);
        snprintf(d, sizeof d, "%s.d", path);
        assert(mkdir(d, 0755) == 0);
        test_write_file(dir, "tgfleet.conf",
                        "[Redis]\nURL=unix:///run/redis.sock\n"
                        "[Webhook]\nMaxBodySize=64K\nConnectionTimeoutSec=2.5\n"
                        "HeleketAllowedAddresses=\nHeleketAllowedAddresses=31.133.220.8\n"
                        "YooKassaAllowedAddresses=\nYooKassaAllowedAddresses=10.0.0.0/8\n"
                        "[Master]\nOperators=1001, 1002\n[YooKassa]\nTestShop=Yes\n");
        test_write_file(d, "20-late.conf", "[Webhook]\nMaxBodySize=2M\n");
        test_write_file(d, "10-early.conf", "[Webhook]\nMaxBodySize=128K\nHeleketAllowedAddresses=192.0.2.1\n"
                        "[Master]\nOperators=\nOperators=7 9223372036854775807\n");
        test_write_file(d, "ignored.txt", "[Webhook]\nMaxBodySize=1\n");
        assert(config_load(&c, path) == 0);
        assert(streq(c.redis_url, "unix:///run/redis.sock") && c.yookassa_test_shop);
        assert(c.webhook_max_body == 2 * 1024 * 1024);
        assert(c.webhook_connection_timeout_usec == 2500000);
        assert(c.webhook_heleket_allow.n == 2);
        assert(c.webhook_yookassa_allow.n == 1);
        assert(netaddr_parse("10.1.2.3", &a) == 0 && netlist_contains(&c.webhook_yookassa_allow, &a));
        assert(netaddr_parse("185.71.76.1", &a) == 0 && !netlist_contains(&c.webhook_yookassa_allow, &a));
        assert(c.master_operators.n == 2 && idlist_contains(&c.master_operators, 7) &&
               idlist_contains(&c.master_operators, INT64_MAX) && !idlist_contains(&c.master_operators, 1001));
        config_done(&c);
}

/* A bad value anywhere fails the load; nothing half-applied is returned. */
static void test_bad_values(void) {
        static const char *const bad[] = {
                "[Webhook]\nMaxBodySize=-1\n",
                "[Webhook]\nMaxBodySize=12Q\n",
                "[Webhook]\nConnectionTimeoutSec=abc\n",
                "[Webhook]\nTrustedProxies=300.1.1.1\n",
                "[Webhook]\nTrustedProxies=10.0.0.0/33\n",
                "[Redis]\nMinReplicasAck=two\n",
                "[Master]\nOperators=1001 @anna\n",
                "[Master]\nOperators=0\n",
                "[Master]\nOperators=-5\n",
                "[Master]\nOperators=9223372036854775808\n",
                "[YooKassa]\nTestShop=maybe\n",
                "this is not ini\n",
        };
        char path[256];
        Config c;

        snprintf(path, sizeof path, "%s/bad.conf", dir);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                test_write_file(dir, "bad.conf", bad[i]);
                c.redis_url = (char *) "sentinel";
                assert(config_load(&c, path) < 0);
                assert(streq(c.redis_url, "sentinel"));
        }
        /* Unknown keys are warned about, not fatal. */
        test_write_file(dir, "bad.conf", "[Webhook]\nNoSuchKey=1\n");
        assert(config_load(&c, path) == 0);
        config_done(&c);
}

/* conf/tgfleet.conf documents every key, commented out, at its default. */
static void test_shipped_conf(void) {
        const char *src = getenv("TGFLEET_SOURCE");
        char path[4096], line[1024], section[64] = "";
        _cleanup_free_ bool *seen = NULL;
        size_t n = 0;
        FILE *f;

        if (!src)
                return;
        for (const ConfigItem *i = config_items(); i->section; i++)
                n++;
        seen = calloc(n, sizeof *seen);   /* one per key, however many there are */
        assert(seen);
        snprintf(path, sizeof path, "%s/conf/tgfleet.conf", src);
        f = fopen(path, "re");
        assert(f);
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                if (line[0] == '[' || (line[0] == '#' && line[1] == '[')) {
                        snprintf(section, sizeof section, "%s", line + (line[0] == '#') + 1);
                        section[strcspn(section, "]")] = 0;
                        continue;
                }
                if (line[0] != '#' || !strchr(line, '='))
                        continue;
                n = 0;
                for (const ConfigItem *i = config_items(); i->section; i++, n++) {
                        char want[512];
                        snprintf(want, sizeof want, "#%s=%s", i->key, i->default_value);
                        if (streq(section, i->section) && streq(line, want))
                                seen[n] = true;
                }
        }
        fclose(f);
        n = 0;
        for (const ConfigItem *i = config_items(); i->section; i++, n++) {
                if (!seen[n])
                        fprintf(stderr, "conf/tgfleet.conf lacks \"#%s=%s\" in [%s]\n", i->key, i->default_value, i->section);
                assert(seen[n]);
        }
}

/* man/tgfleet.conf.5 documents every key, and man/tgfleetctl.1 every verb of --help. */
static void test_man_pages(void) {
        const char *src = getenv("TGFLEET_SOURCE");
        static const char *const verbs[] = { "migrate", "check\\-connections", "webhooks secret", "sandbox send",
                                            "sandbox press", "sandbox messages", "sandbox heleket",
                                            "sandbox yookassa", "sandbox bot", "sandbox chat" };
        char path[4096], *man;

        if (!src)
                return;
        snprintf(path, sizeof path, "%s/man/tgfleet.conf.5", src);
        man = test_read_file(path, NULL);
        assert(man);
        for (const ConfigItem *i = config_items(); i->section; i++) {
                char section[64], key[128];
                snprintf(section, sizeof section, "[%s]", i->section);
                snprintf(key, sizeof key, "%s=", i->key);
                if (!strstr(man, section) || !strstr(man, key))
                        fprintf(stderr, "tgfleet.conf(5) does not document [%s] %s\n", i->section, key);
                assert(strstr(man, section) && strstr(man, key));
        }
        free(man);

        snprintf(path, sizeof path, "%s/man/tgfleetctl.1", src);
        man = test_read_file(path, NULL);
        assert(man);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                assert(strstr(man, verbs[i]));
        free(man);
}

int main(void) {
        assert(mkdtemp(dir));
        test_man_pages();
        test_defaults();
        test_dropins();
        test_bad_values();
        test_shipped_conf();
        return 0;
}
