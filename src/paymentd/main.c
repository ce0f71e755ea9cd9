/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "paymentd.h"

static const char help[] =
        "Usage: tgfleet-paymentd [OPTIONS]\n"
        "Invoices, payment confirmation and the Stars ledger (D-Bus org.tgfleet.Payments1).\n\n"
        CLI_HELP_COMMON
        "  --consumer=NAME         name in the payments consumer group (default: the host name)\n"
        CLI_HELP_END;

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                CLI_CONSUMER_OPTION,
                {},
        };

        return cli_daemon_main(argc, argv, "tgfleet-paymentd", options, help, paymentd_run);
}
