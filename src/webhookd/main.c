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

static int on_option(int c, const char *arg, void *userdata) {
        WebhookdArgs *args = userdata;

        return cli_listen_add(&args->listen, arg);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "listen", required_argument, NULL, 'l' },
                {},
        };
        WebhookdArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        int r;

        log_setup("tgfleet-webhookd");
        r = cli_parse(argc, argv, options, help, &args.config_path, on_option, &args);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return webhookd_run(&args) < 0 ? 1 : 0;
}
