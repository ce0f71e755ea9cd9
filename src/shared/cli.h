/* SPDX-License-Identifier: MIT */
#pragma once

/* Command-line options every tgfleet program shares: --config=, --credentials-dir=, --help,
 * --version. */

#include <getopt.h>

#define TGFLEET_COMMON_OPTIONS                                          \
        { "config", required_argument, NULL, 'c' },                     \
        { "credentials-dir", required_argument, NULL, 'C' },            \
        { "help", no_argument, NULL, 'h' },                             \
        { "version", no_argument, NULL, 'V' }

/* Handles one of the common options. Returns 1 when handled, 0 to exit successfully (help and
 * version were printed), -EINVAL for an option it does not know, -ENOMEM. @help is printed for
 * 'h'; @config_path receives --config=. */
int cli_common_option(int c, const char *arg, const char *help, const char **config_path);
