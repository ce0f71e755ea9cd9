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

static int on_option(int c, const char *arg, void *userdata) {
        PaymentdArgs *args = userdata;

        args->consumer = arg;   /* --consumer= */
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "consumer", required_argument, NULL, 'n' },
                {},
        };
        PaymentdArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        int r;

        log_setup("tgfleet-paymentd");
        r = cli_parse(argc, argv, options, help, &args.config_path, on_option, &args);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return paymentd_run(&args) < 0 ? 1 : 0;
}
