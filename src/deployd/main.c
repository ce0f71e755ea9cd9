/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "config.h"
#include "deployd.h"
#include "log.h"

static const char help[] =
        "Usage: tgfleet-deployd [OPTIONS]\n"
        "Deploys tenant bots: tokens, webhooks and tgfleet-bot@.service units (D-Bus org.tgfleet.Deploy1).\n\n"
        "  --config=FILE           configuration file (default " CONFIG_DEFAULT_PATH ")\n"
        "  --credentials-dir=DIR   credentials directory when not run by systemd\n"
        "  --consumer=NAME         name in the deploy consumer group (default: the host name)\n"
        "  --help, --version\n";

static int on_option(int c, const char *arg, void *userdata) {
        DeploydArgs *args = userdata;

        args->consumer = arg;   /* --consumer= */
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "consumer", required_argument, NULL, 'n' },
                {},
        };
        DeploydArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        int r;

        log_setup("tgfleet-deployd");
        r = cli_parse(argc, argv, options, help, &args.config_path, on_option, &args);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return deployd_run(&args) < 0 ? 1 : 0;
}
