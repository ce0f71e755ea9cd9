/* SPDX-License-Identifier: MIT */
#pragma once

/* A message text as Telegram formats it: parse_mode HTML, MarkdownV2 or the legacy Markdown turned
 * into the plain text a user sees and its MessageEntity list, refused with Telegram's own
 * description when it does not parse (the Bot API runs tdlib's parsers; their messages follow
 * "Bad Request: can't parse entities: "). Offsets and lengths are UTF-16 code units. Pure. */

#include <json-c/json.h>
#include <stddef.h>

/* Parses @in with @parse_mode ("HTML", "MarkdownV2", "Markdown", any case; NULL or "" for none),
 * then strips the leading and trailing white space as Telegram does. On success returns 0 with
 * *@ret_text (the plain text, malloc'd) and *@ret_entities (a JSON array, sorted by offset, the
 * longer first; empty when there are none), both owned by the caller. Returns -EINVAL with
 * @error holding Telegram's whole description ("Bad Request: …") for an unknown mode, a text that
 * is not UTF-8 or one that does not parse; -ENOMEM. Nothing is returned on failure. */
int tg_text_parse(const char *parse_mode, const char *in, char **ret_text, json_object **ret_entities,
                  char *error, size_t error_size);

/* @text with its @entities (a MessageEntity array, sorted as tg_text_parse() returns it) written
 * back as HTML: what a reader sees, with the markup Telegram shows (bold, links, code…) as tags
 * and '<', '>', '&' escaped. Entities with no HTML form (bot_command, url…) leave no tag. Returns
 * a new string, or NULL on -ENOMEM. */
char *tg_text_html(const char *text, json_object *entities);

/* The length of the UTF-8 string @s as Telegram counts it: UTF-16 code units. */
size_t tg_utf16_length(const char *s);
