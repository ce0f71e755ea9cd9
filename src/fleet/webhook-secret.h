/* SPDX-License-Identifier: MIT */
#pragma once

/* Each bot's X-Telegram-Bot-Api-Secret-Token is derived from one key credential
 * ("webhook-key"): lowercase hex HMAC-SHA256(key, "tgfleet-webhook:" || bot). A bot deployed a
 * second ago is thus verified with no restart and no database lookup, and the value fits
 * Telegram's secret_token alphabet (1–256 of A-Z a-z 0-9 _ -). */

#include <stdbool.h>
#include <stddef.h>

#include "creds.h"

#define WEBHOOK_SECRET_SIZE 65 /* 64 hex digits + NUL */
#define BOT_NAME_MAX 64

/* A bot name as it appears in /tg/<bot> and in stream names: 1–64 of A-Z a-z 0-9 _ -. */
bool bot_name_valid(const char *bot, size_t len);

/* Derives the secret of @bot (must be valid) into @ret. Returns 0, -EINVAL, -EIO. */
int webhook_secret_derive(const Secret *key, const char *bot, char ret[WEBHOOK_SECRET_SIZE]);
