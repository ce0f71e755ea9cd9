/* SPDX-License-Identifier: MIT */
#pragma once

/* Heleket signatures: sign = lowercase hex md5(base64(body) || api_key).
 * Requests sign the exact bytes sent. Webhooks carry "sign" inside the JSON body; it is checked
 * against the body without it, re-encoded PHP-style (official PHP SDK) and, failing that, the raw
 * member splice of the official Go SDK. Both need the key, so accepting either is no weaker. */

#include <json-c/json.h>
#include <stddef.h>

#define HELEKET_SIGN_SIZE 33 /* 32 hex digits + NUL */

typedef enum HeleketSignForm {
        HELEKET_SIGN_NONE = 0, /* signature present but wrong */
        HELEKET_SIGN_PHP = 1,  /* matched the PHP json_encode form */
        HELEKET_SIGN_RAW = 2,  /* matched the raw splice form */
} HeleketSignForm;

/* Computes the signature of @len bytes at @body with @key into @ret. Returns 0 or -ENOMEM/-EIO. */
int heleket_sign(const void *body, size_t len, const void *key, size_t keylen,
                 char ret[HELEKET_SIGN_SIZE]);

/* Verifies the webhook @body (@len bytes) whose strict parse is @parsed (a JSON object).
 * Returns a HeleketSignForm (> 0 valid, 0 wrong), -ENOENT when "sign" is missing or not a
 * string, -EBADMSG when @parsed is not an object, -ENOMEM. Comparisons are constant-time. */
int heleket_verify(const char *body, size_t len, json_object *parsed, const void *key, size_t keylen);

/* Appends to @pb the Go-SDK form of @body: the top-level members other than "sign", each as its
 * raw key and raw value bytes, joined with "," inside "{}". @body must be valid JSON (checked by
 * the caller). Returns 0, -EBADMSG when it is not an object, -ENOMEM. */
int heleket_raw_without_sign(const char *body, size_t len, struct printbuf *pb);
