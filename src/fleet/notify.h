/* SPDX-License-Identifier: MIT */
#pragma once

/* Telling people from a daemon with no conversation of its own: a message queued in a bot's
 * outbox ("out:<bot>", delivered by that bot's sender under Telegram's limits), or an event on a
 * bot's "events:<bot>" stream for its role to word in the reader's language. Fire and forget:
 * what cannot be queued is lost with a warning, so these are for news, never for money. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "redis.h"

/* Queues @text (plain text) to @chat through @bot. Returns 0 or -errno. */
int notify_chat(Redis *r, const char *bot, int64_t chat, const char *text);

/* notify_chat() to every operator of [Master] Operators= through the master bot. */
void notify_operators(Redis *r, const Config *c, const char *text);

/* XADDs an entry of @n name/value pairs (@fields: name, value, name, value …) to @bot's events
 * stream. The pairs must include "event" (its unique id, which the bot dedupes) and "user" (the
 * chat). Returns 0 or -errno. */
int notify_event(Redis *r, const char *bot, const char *const *fields, size_t n);
