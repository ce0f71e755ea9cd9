/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "apid.h"
#include "cli.h"
#include "config.h"
#include "log.h"

static const char help[] =
        "Usage: tgfleet-apid [OPTIONS]\n"
        "The REST API of the booking platform: clients, deploy queue, statistics.\n\n"
        "  --config=FILE           configuration file (default " CONFIG_DEFAULT_PATH ")\n"
        "  --credentials-dir=DIR   credentials directory when not run by systemd\n"
        "  --listen=ADDR:PORT      listen here when not socket-activated (repeatable)\n"
        "  --help, --version\n";

static int on_option(int c, const char *arg, void *userdata) {
        ApidArgs *args = userdata;

        return cli_listen_add(&args->listen, arg);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "listen", required_argument, NULL, 'l' },
                {},
        };
        ApidArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        int r;

        log_setup("tgfleet-apid");
        r = cli_parse(argc, argv, options, help, &args.config_path, on_option, &args);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return apid_run(&args) < 0 ? 1 : 0;
}
