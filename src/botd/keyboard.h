/* SPDX-License-Identifier: MIT */
#pragma once

/* Telegram keyboards as json-c objects: inline buttons under a message and the persistent menu
 * under the input field. Every function returns a new object (the caller owns it, or hands it to
 * work_send_text()/work_edit_text()); row() and inline_keyboard() take what they are given. */

#include <json-c/json.h>
#include <stddef.h>

#include "i18n.h"

/* An inline button sending @data back (at most 64 bytes, Telegram's limit). */
json_object *button(const char *text, const char *data);

/* An inline button opening @url. */
json_object *url_button(const char *text, const char *url);

/* A row of one or two buttons (@b may be NULL). */
json_object *row(json_object *a, json_object *b);

/* {"inline_keyboard": @rows}. */
json_object *inline_keyboard(json_object *rows);

/* The persistent menu: @labels (msgids) in @l, two per row. */
json_object *menu_keyboard(Lang l, const char *const *labels, size_t n);

/* The index of the menu label @text is, in any language, or -1. */
int menu_pick(const char *text, const char *const *labels, size_t n);
