/* SPDX-License-Identifier: MIT */
#pragma once

/* json-c helpers: strict bounded parsing of untrusted bytes and typed member access. */

#include <json-c/json.h>
#include <stdint.h>

#include "macro.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Nesting depth accepted from the network; deeper input is rejected, not recursed into. */
#define JSON_MAX_DEPTH 32

/* Parses exactly @len bytes as one strict JSON value (RFC 8259, valid UTF-8; trailing whitespace
 * allowed, anything else after the value is an error; an object naming a member twice is an
 * error). Returns 0 and a new reference in *ret, or -EBADMSG for invalid JSON, -ENOMEM. Not
 * thread-safe: it reuses one parser state. */
int json_parse(const char *buf, size_t len, json_object **ret);

/* Overwrites with zeros the string member @key of object @o, in json-c's own storage, when there
 * is one: for a secret (a token) about to be freed with its object. */
void json_wipe_string(json_object *o, const char *key);

/* Returns the string member @key of object @o, or NULL when absent or not a string. Borrowed. */
const char *json_get_string(json_object *o, const char *key);

/* Stores integer member @key of @o in *ret. Returns 0, -ENOENT when absent, -EINVAL when not an
 * integer (floats, strings, and values at or beyond the int64 limits are not). */
int json_get_int64(json_object *o, const char *key, int64_t *ret);

/* Appends @s (NULL: nothing) to @pb with '<', '>', '&' and '"' as HTML entities: text and
 * attribute values of an HTML page built in a printbuf. */
void printbuf_html_escaped(struct printbuf *pb, const char *s);
