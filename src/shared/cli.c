/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "creds.h"
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
