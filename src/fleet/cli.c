/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "creds.h"
#include "log.h"
#include "macro.h"

int cli_common_option(int c, const char *arg, const char *help, const char **config_path) {
        switch (c) {
        case 'c':
                *config_path = arg;
                return 1;
        case 'C':
                return creds_set_directory(arg) < 0 ? -ENOMEM : 1;
        case 'h':
                fputs(help, stdout);
                return 0;
        case 'V':
                puts("tgfleet " TGFLEET_VERSION);
                return 0;
        default:
                return -EINVAL;
        }
}

int cli_parse(int argc, char *argv[], const struct option *options, const char *help,
              const char **config_path, CliOptionFn fn, void *userdata) {
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c != 0 && strchr("cChV?", c))
                        r = cli_common_option(c, optarg, help, config_path);
                else
                        r = fn ? (fn(c, optarg, userdata) < 0 ? -EINVAL : 1) : -EINVAL;
                if (r <= 0)
                        return r == 0 ? 0 : -EINVAL;
        }
        if (optind < argc) {
                fprintf(stderr, "%s: unexpected argument: %s\n", program_invocation_short_name, argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int on_daemon_option(int c, const char *arg, void *userdata) {
        DaemonArgs *args = userdata;

        if (c == 'n') {
                args->consumer = arg;
                return 0;
        }
        return c == 'l' ? cli_listen_add(&args->listen, arg) : -EINVAL;
}

int cli_daemon_main(int argc, char *argv[], const char *name, const struct option *options, const char *help,
                    int (*run)(const DaemonArgs *args)) {
        DaemonArgs args = { .config_path = CONFIG_DEFAULT_PATH };
        int r;

        log_setup(name, getenv("TGFLEET_LOG_LEVEL"));
        r = cli_parse(argc, argv, options, help, &args.config_path, on_daemon_option, &args);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return run(&args) < 0 ? 1 : 0;
}

int cli_listen_add(CliListen *l, const char *arg) {
        if (l->n >= CLI_LISTEN_MAX) {
                fprintf(stderr, "%s: too many --listen= options.\n", program_invocation_short_name);
                return -E2BIG;
        }
        l->addr[l->n++] = (char *) arg;
        return 0;
}
