/* SPDX-License-Identifier: MIT */
#pragma once

/* Re-encoding of a parsed JSON value exactly as PHP's json_encode($v, JSON_UNESCAPED_UNICODE)
 * does after json_decode($raw, true): compact, "/" escaped as "\/", raw UTF-8 except U+2028 and
 * U+2029, empty objects and objects keyed "0".."n-1" become arrays. Heleket signs these bytes. */

#include <json-c/json.h>
#include <json-c/printbuf.h>

/* Appends the PHP encoding of @o to @pb, leaving out the top-level member named @skip_key when
 * @o is an object and @skip_key is not NULL. Returns 0 or -ENOMEM. */
int php_json_encode(json_object *o, const char *skip_key, struct printbuf *pb);
