/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "config.h"
#include "deployd.h"

static const char help[] =
        "Usage: tgfleet-deployd [OPTIONS]\n"
        "Deploys tenant bots: tokens, webhooks and tgfleet-bot@.service units (D-Bus org.tgfleet.Deploy1).\n\n"
        CLI_HELP_COMMON
        "  --consumer=NAME         name in the deploy consumer group (default: the host name)\n"
        CLI_HELP_END;

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                CLI_CONSUMER_OPTION,
                {},
        };

        return cli_daemon_main(argc, argv, "tgfleet-deployd", options, help, deployd_run);
}
