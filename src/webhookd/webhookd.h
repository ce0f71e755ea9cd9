/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-webhookd: HTTP intake of every webhook. Verify, dedupe, persist to a Redis stream,
 * answer. Nothing else. */

#include <stddef.h>

#include "cli.h"

/* Runs the daemon until SIGTERM/SIGINT. Returns 0 on a clean stop, < 0 (-errno) on a failure to
 * start, already logged. */
int webhookd_run(const DaemonArgs *args);
