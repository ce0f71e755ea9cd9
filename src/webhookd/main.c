/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "webhookd.h"

static const char help[] =
        "Usage: tgfleet-webhookd [OPTIONS]\n"
        "HTTP intake of Telegram updates and payment notifications.\n\n"
        CLI_HELP_COMMON
        CLI_HELP_LISTEN
        CLI_HELP_END;

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                CLI_LISTEN_OPTION,
                {},
        };

        return cli_daemon_main(argc, argv, "tgfleet-webhookd", options, help, webhookd_run);
}
