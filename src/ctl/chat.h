/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>

#include "ctl.h"

/* Chats with @bot as @user (with @language, or NULL for none) from the terminal until input ends.
 * Returns the exit status. */
int sandbox_chat(const Config *c, const char *bot, const char *user, const char *language);

/* Prints a chat's messages (GET …/messages) as the chat shows them, without styles. */
void sandbox_print_messages(json_object *list);
