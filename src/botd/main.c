/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "botd.h"
#include "cli.h"
#include "config.h"
#include "log.h"

static const char help[] =
        "Usage: tgfleet-botd [OPTIONS] --shop\n"
        "The bot engine: runs one bot's conversations from its update stream.\n\n"
        "  --shop                  run the Stars shop bot ([Shop] Bot=)\n"
        "  --config=FILE           configuration file (default " CONFIG_DEFAULT_PATH ")\n"
        "  --credentials-dir=DIR   credentials directory when not run by systemd\n"
        "  --consumer=NAME         name in the bot's consumer groups (default: the host name)\n"
        "  --locale-dir=DIR        translations (default: the installed ones)\n"
        "  --help, --version\n";

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "shop", no_argument, NULL, 's' },
                { "consumer", required_argument, NULL, 'n' },
                { "locale-dir", required_argument, NULL, 'L' },
                {},
        };
        BotdArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        bool shop = false;
        int c, r;

        log_setup("tgfleet-botd");
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        shop = true;
                        continue;
                case 'n':
                        args.consumer = optarg;
                        continue;
                case 'L':
                        args.locale_dir = optarg;
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
        if (!shop) {
                log_error("Which bot? --shop is the only role so far.");
                return 2;
        }
        return botd_run(&args) < 0 ? 1 : 0;
}
