/* SPDX-License-Identifier: MIT */
/* tgfleet-sandbox: the internet, locally. Never part of a production configuration. */
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "creds.h"
#include "daemon.h"
#include "log.h"
#include "sandbox.h"


static const char help[] =
        "Usage: tgfleet-sandbox [OPTIONS]\n"
        "A local emulation of the Telegram Bot API, Heleket and YooKassa, with a control API at /sandbox/.\n\n"
        "  --listen=ADDR:PORT        where to listen (default 127.0.0.1:8081)\n"
        "  --config=FILE             [Heleket] Merchant= and [YooKassa] ShopId= come from here\n"
        "  --credentials-dir=DIR     heleket-api-key (and heleket-payout-key, for refunds) and\n"
        "                            yookassa-secret-key come from here\n"
        "  --yookassa-notify=URL     where YooKassa notifications go\n"
        "  --yookassa-receipts       a shop set up for 54-FZ receipts: a payment without a valid\n"
        "                            receipt is refused (a receipt given is checked always)\n"
        "  --bot-rate=N              messages per second per bot (30)\n"
        "  --chat-rate=N             messages per second per private chat (1), burst 3\n"
        "  --group-rate=N            messages per minute per group (20)\n"
        "  --retry-ms=N              first webhook retry delay, doubling up to 60 s (1000)\n"
        "  --latency-ms=N            hold half the Bot API calls, at random, N ms before running\n"
        "                            them: the uneven delay of a network between bot and Telegram (0)\n"
        "  --allow-local-http        let webhooks to this machine be http:// or https:// on any port;\n"
        "                            by default only https:// on 443, 80, 88 or 8443, as Telegram\n"
        "                            takes them\n"
        "  --min-lifetime=SEC        the shortest Heleket invoice lifetime taken (300, as Heleket):\n"
        "                            lower for tests that watch invoices expire by themselves\n"
        "  --state-file=FILE         keep the update_id counter in FILE, so that a restarted\n"
        "                            sandbox never repeats an id (webhookd drops repeats)\n"
        "  --any-token               take any well-formed token for a bot of its own; by default a\n"
        "                            token not registered through /sandbox/bots gets 401, as\n"
        "                            Telegram refuses a revoked or made-up one\n"
        CLI_HELP_END;

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "listen", required_argument, NULL, 'l' },
                { "yookassa-notify", required_argument, NULL, 'y' },
                { "bot-rate", required_argument, NULL, 'b' },
                { "chat-rate", required_argument, NULL, 'r' },
                { "group-rate", required_argument, NULL, 'g' },
                { "retry-ms", required_argument, NULL, 't' },
                { "latency-ms", required_argument, NULL, 'L' },
                { "any-token", no_argument, NULL, 'a' },
                { "allow-local-http", no_argument, NULL, 'H' },
                { "known-bots-only", no_argument, NULL, 'k' },   /* the default now; still taken */
                { "min-lifetime", required_argument, NULL, 'm' },
                { "state-file", required_argument, NULL, 's' },
                { "yookassa-receipts", no_argument, NULL, 'R' },
                {},
        };
        Sandbox sb = {
                .limits = { .bot_per_sec = 30, .chat_per_sec = 1, .chat_burst = 3, .group_per_min = 20,
                            .retry_base_usec = USEC_PER_SEC, .retry_max_usec = 60 * USEC_PER_SEC },
                .next_update_id = sandbox_first_update_id(),
                .known_bots_only = true,
                .heleket_min_lifetime = 300,
        };
        const char *listen = "127.0.0.1:8081", *config_path = CONFIG_DEFAULT_PATH, *state = NULL;
        Secret *hk = NULL, *yk = NULL;
        Config config;
        int c, r, fd;

        log_setup("tgfleet-sandbox", getenv("TGFLEET_LOG_LEVEL"));
        srandom((unsigned) time(NULL) ^ (unsigned) getpid());
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'l': listen = optarg; break;
                case 'y': sb.yk_notify_url = strdup(optarg); break;
                case 'b': sb.limits.bot_per_sec = (unsigned) MAX(atoi(optarg), 1); break;
                case 'r': sb.limits.chat_per_sec = (unsigned) MAX(atoi(optarg), 1); break;
                case 'g': sb.limits.group_per_min = (unsigned) MAX(atoi(optarg), 1); break;
                case 'a': sb.known_bots_only = false; break;
                case 'H': sb.allow_local_http = true; break;
                case 'k': sb.known_bots_only = true; break;
                case 'm': sb.heleket_min_lifetime = MAX(atoi(optarg), 1); break;
                case 's': state = optarg; break;
                case 'R': sb.yk_receipts = true; break;
                case 'L': sb.limits.latency_usec = (uint64_t) MAX(atoi(optarg), 0) * USEC_PER_MSEC; break;
                case 't': sb.limits.retry_base_usec = (uint64_t) MAX(atoi(optarg), 1) * USEC_PER_MSEC; break;
                default:
                        r = cli_common_option(c, optarg, help, &config_path);
                        if (r == 0)
                                return 0;
                        if (r < 0)
                                return 2;
                }
        }
        if (state && sandbox_state_load(&sb, state) < 0)
                return 1;
        if (config_load(&config, config_path) < 0)
                return 1;
        if (!isempty(config.heleket_merchant) && creds_read("heleket-api-key", 4096, &hk) >= 0) {
                sb.heleket_merchant = strdup(config.heleket_merchant);
                sb.heleket_key = strdup(hk->data);
        }
        if (!isempty(config.yookassa_shop_id) && creds_read("yookassa-secret-key", 4096, &yk) >= 0) {
                sb.yk_shop_id = strdup(config.yookassa_shop_id);
                sb.yk_secret = strdup(yk->data);
        }
        hk = secret_free(hk);
        /* Heleket signs refunds with the payout key, which a merchant may not have. */
        if (sb.heleket_merchant && creds_read("heleket-payout-key", 4096, &hk) >= 0)
                sb.heleket_payout_key = strdup(hk->data);
        secret_free(hk);
        secret_free(yk);
        config_done(&config);

        sb.calls = json_object_new_array();
        r = daemon_event_new(&sb.event);
        if (r >= 0)
                r = http_client_new(sb.event, &sb.client);
        if (r >= 0 && (r = http_listen(listen, &fd)) < 0)
                log_error_errno(r, "Cannot listen on %s: %m", listen);
        if (r >= 0)
                r = sandbox_serve(&sb, fd);
        if (r < 0) {
                log_error_errno(r, "Sandbox failed to start: %m");
                return 1;
        }
        log_info("Sandbox listening on %s (Heleket %s, YooKassa %s).", listen,
                 sb.heleket_key ? "on" : "off: no [Heleket] Merchant= or heleket-api-key",
                 sb.yk_secret ? "on" : "off: no [YooKassa] ShopId= or yookassa-secret-key");
        sd_notify(false, "READY=1");
        r = sd_event_loop(sb.event);

        http_client_free(sb.client);
        http_server_free(sb.http);
        telegram_free_all(&sb);
        heleket_free_all(&sb);
        yookassa_free_all(&sb);
        json_object_put(sb.calls);
        free(sb.heleket_merchant);
        free(sb.heleket_key);
        free(sb.heleket_payout_key);
        free(sb.yk_shop_id);
        free(sb.yk_secret);
        free(sb.yk_notify_url);
        sd_event_unref(sb.event);
        return r < 0 ? 1 : 0;
}
