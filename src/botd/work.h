/* SPDX-License-Identifier: MIT */
#pragma once

/* The reader of "updates:<bot>" and "events:<bot>" (group "botd"): entries of one chat are
 * handled one at a time in stream order, different chats in parallel. Before a role sees an
 * update, the user's request budget ([Bots] RequestsPerMinute, RequestBurst; shared through
 * Redis) is charged; over it the user is told to wait. At start the consumer's own unfinished
 * entries come first. */

#include "botd.h"

int updates_new(Botd *b, Updates **ret);

/* Entries being handled or waiting for their chat. */
uint64_t updates_queued(const Updates *u);

/* Free the Redis clients first. Accepts NULL; returns NULL. */
Updates *updates_free(Updates *u);
