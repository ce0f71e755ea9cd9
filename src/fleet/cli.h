/* SPDX-License-Identifier: MIT */
#pragma once

/* Command-line options every tgfleet program shares: --config=, --credentials-dir=, --help,
 * --version. */

#include <getopt.h>
#include <stddef.h>

/* Their lines in a --help text, and those of --listen=. */
#define CLI_HELP_COMMON                                                                         \
        "  --config=FILE           configuration file (default " CONFIG_DEFAULT_PATH ")\n"      \
        "  --credentials-dir=DIR   credentials directory when not run by systemd\n"
#define CLI_HELP_LISTEN "  --listen=ADDR:PORT      listen here when not socket-activated (repeatable)\n"
#define CLI_HELP_END "  --help, --version\n"

#define TGFLEET_COMMON_OPTIONS                                          \
        { "config", required_argument, NULL, 'c' },                     \
        { "credentials-dir", required_argument, NULL, 'C' },            \
        { "help", no_argument, NULL, 'h' },                             \
        { "version", no_argument, NULL, 'V' }

/* Handles one of the common options. Returns 1 when handled, 0 to exit successfully (help and
 * version were printed), -EINVAL for an option it does not know, -ENOMEM. @help is printed for
 * 'h'; @config_path receives --config=. */
int cli_common_option(int c, const char *arg, const char *help, const char **config_path);

/* Handles an option of a program's own (one not in TGFLEET_COMMON_OPTIONS). Returns 0, or < 0
 * for a bad value (the handler says why on stderr). */
typedef int (*CliOptionFn)(int c, const char *arg, void *userdata);

/* Parses the whole command line of a daemon: @options are TGFLEET_COMMON_OPTIONS and the
 * program's own, which go to @fn. Positional arguments are refused. Returns 1 to go on, 0 when
 * --help or --version was answered (exit 0), or -EINVAL after a usage error was printed (exit 2). */
int cli_parse(int argc, char *argv[], const struct option *options, const char *help,
              const char **config_path, CliOptionFn fn, void *userdata);

/* --listen=ADDR:PORT values of a socket-activated daemon run by hand. */
#define CLI_LISTEN_MAX 16
typedef struct CliListen {
        char *addr[CLI_LISTEN_MAX];
        size_t n;
} CliListen;

/* Adds @arg (kept, not copied) to @l. Returns 0, or -E2BIG after saying so. */
int cli_listen_add(CliListen *l, const char *arg);

/* What a daemon's command line says. */
typedef struct DaemonArgs {
        const char *config_path;
        const char *consumer;       /* --consumer=NAME, default the host name */
        CliListen listen;           /* --listen= values, used when not socket-activated */
} DaemonArgs;

#define CLI_CONSUMER_OPTION { "consumer", required_argument, NULL, 'n' }
#define CLI_LISTEN_OPTION { "listen", required_argument, NULL, 'l' }

/* The whole main() of a daemon named @name ("tgfleet-paymentd"): the journal as its log, then
 * TGFLEET_COMMON_OPTIONS and those of CLI_CONSUMER_OPTION and CLI_LISTEN_OPTION that @options has,
 * then @run. Returns the exit status: 0, 1 when @run failed, 2 for a usage error. */
int cli_daemon_main(int argc, char *argv[], const char *name, const struct option *options, const char *help,
                    int (*run)(const DaemonArgs *args));
