/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "paymentd.h"

static const char help[] =
        "Usage: tgfleet-paymentd [OPTIONS]\n"
        "Invoices, payment confirmation and the Stars ledger (D-Bus org.tgfleet.Payments1).\n\n"
        "  --config=FILE           configuration file (default " CONFIG_DEFAULT_PATH ")\n"
        "  --credentials-dir=DIR   credentials directory when not run by systemd\n"
        "  --consumer=NAME         name in the payments consumer group (default: the host name)\n"
        "  --help, --version\n";

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "consumer", required_argument, NULL, 'n' },
                {},
        };
        PaymentdArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        int c, r;

        log_setup("tgfleet-paymentd");
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c == 'n') {
                        args.consumer = optarg;
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
        return paymentd_run(&args) < 0 ? 1 : 0;
}
