/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "webhookd.h"

static const char help[] =
        "Usage: tgfleet-webhookd [OPTIONS]\n"
        "HTTP intake of Telegram updates and payment notifications.\n\n"
        "  --config=FILE           configuration file (default " CONFIG_DEFAULT_PATH ")\n"
        "  --credentials-dir=DIR   credentials directory when not run by systemd\n"
        "  --listen=ADDR:PORT      listen here when not socket-activated (repeatable)\n"
        "  --help, --version\n";

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "listen", required_argument, NULL, 'l' },
                {},
        };
        WebhookdArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        char *listen[16];
        int c, r;

        log_setup("tgfleet-webhookd");
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c == 'l') {
                        if (args.n_listen >= ELEMENTSOF(listen) - 1) {
                                log_error("Too many --listen= options.");
                                return 2;
                        }
                        listen[args.n_listen++] = optarg;
                        continue;
                }
                r = cli_common_option(c, optarg, help, &args.config_path);
                if (r == 0)
                        return 0;
                if (r < 0)
                        return 2;
        }
        if (optind < argc) {
                log_error("Unexpected argument: %s", argv[optind]);
                return 2;
        }
        listen[args.n_listen] = NULL;
        args.listen = listen;
        return webhookd_run(&args) < 0 ? 1 : 0;
}
