/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleetctl verbs. Each gets the loaded configuration and its own arguments (argv[0] is the
 * verb) and returns the process exit status. */

#include "config.h"

int verb_migrate(const Config *c, int argc, char *argv[]);
int verb_check_connections(const Config *c, int argc, char *argv[]);
int verb_webhooks(const Config *c, int argc, char *argv[]);
int verb_sandbox(const Config *c, int argc, char *argv[]);
