/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "apid.h"
#include "cli.h"
#include "config.h"

static const char help[] =
        "Usage: tgfleet-apid [OPTIONS]\n"
        "The REST API of the booking platform: clients, deploy queue, statistics.\n\n"
        CLI_HELP_COMMON
        CLI_HELP_LISTEN
        CLI_HELP_END;

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                CLI_LISTEN_OPTION,
                {},
        };

        return cli_daemon_main(argc, argv, "tgfleet-apid", options, help, apid_run);
}
