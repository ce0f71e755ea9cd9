/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "php-json.h"

static int append(struct printbuf *pb, const char *s, size_t n) {
        return printbuf_memappend(pb, s, (int) n) < 0 ? -ENOMEM : 0;
}

static int encode_string(const char *s, size_t n, struct printbuf *pb) {
        static const char hex[] = "0123456789abcdef";
        size_t start = 0;
        int r;

        if ((r = append(pb, "\"", 1)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char esc[7];
                const char *e = NULL;
                size_t elen = 2, skip = 1;

                switch (c) {
                case '"':  e = "\\\""; break;
                case '\\': e = "\\\\"; break;
                case '/':  e = "\\/";  break;
                case '\b': e = "\\b";  break;
                case '\f': e = "\\f";  break;
                case '\n': e = "\\n";  break;
                case '\r': e = "\\r";  break;
                case '\t': e = "\\t";  break;
                default:
                        if (c < 0x20) {
                                snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
                                e = esc;
                                elen = 6;
                        } else if (c == 0xE2 && i + 2 < n && (unsigned char) s[i + 1] == 0x80 &&
                                   ((unsigned char) s[i + 2] == 0xA8 || (unsigned char) s[i + 2] == 0xA9)) {
                                /* PHP ≥ 7.1 keeps escaping the JavaScript line terminators. */
                                e = (unsigned char) s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                                elen = 6;
                                skip = 3;
                        }
                }
                if (!e)
                        continue;
                if ((r = append(pb, s + start, i - start)) < 0 || (r = append(pb, e, elen)) < 0)
                        return r;
                i += skip - 1;
                start = i + 1;
        }
        if ((r = append(pb, s + start, n - start)) < 0)
                return r;
        return append(pb, "\"", 1);
}

/* PHP prints floats with serialize_precision=-1: the shortest round-trip form, ".0" kept. */
static int encode_double(double d, struct printbuf *pb) {
        char buf[64];

        if (!isfinite(d))
                return append(pb, "0", 1); /* PHP refuses; JSON cannot carry it anyway */
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof buf, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        char *e = strchr(buf, 'e');
        if (!strchr(buf, '.')) {
                /* 15 → "15.0", 1e+25 → "1.0e+25" */
                char tail[32] = "";
                if (e) {
                        snprintf(tail, sizeof tail, "%s", e);
                        *e = 0;
                }
                strncat(buf, ".0", sizeof buf - strlen(buf) - 1);
                strncat(buf, tail, sizeof buf - strlen(buf) - 1);
        }
        return append(pb, buf, strlen(buf));
}

/* An object that json_decode(…, true) turns into a list: keys exactly "0", "1", … in order. */
static bool object_is_list(json_object *o, const char *skip_key) {
        size_t i = 0;
        char want[24];

        json_object_object_foreach(o, key, val) {
                (void) val;
                if (skip_key && streq(key, skip_key))
                        continue;
                snprintf(want, sizeof want, "%zu", i++);
                if (!streq(key, want))
                        return false;
        }
        return true;
}

int php_json_encode(json_object *o, const char *skip_key, struct printbuf *pb) {
        char num[32];
        bool first = true;
        int r;

        switch (json_object_get_type(o)) {
        case json_type_null:
                return append(pb, "null", 4);
        case json_type_boolean:
                return json_object_get_boolean(o) ? append(pb, "true", 4) : append(pb, "false", 5);
        case json_type_int:
                if (json_object_get_int64(o) == INT64_MAX)
                        snprintf(num, sizeof num, "%" PRIu64, json_object_get_uint64(o));
                else
                        snprintf(num, sizeof num, "%" PRIi64, json_object_get_int64(o));
                return append(pb, num, strlen(num));
        case json_type_double:
                return encode_double(json_object_get_double(o), pb);
        case json_type_string:
                return encode_string(json_object_get_string(o), (size_t) json_object_get_string_len(o), pb);
        case json_type_array: {
                size_t n = json_object_array_length(o);
                if ((r = append(pb, "[", 1)) < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        if ((i > 0 && (r = append(pb, ",", 1)) < 0) ||
                            (r = php_json_encode(json_object_array_get_idx(o, i), NULL, pb)) < 0)
                                return r;
                }
                return append(pb, "]", 1);
        }
        case json_type_object: {
                /* Count what remains after the skipped key to spot the empty-object case. */
                size_t left = 0;
                json_object_object_foreach(o, k0, v0) {
                        (void) v0;
                        if (!skip_key || !streq(k0, skip_key))
                                left++;
                }
                bool list = left == 0 || object_is_list(o, skip_key);
                if ((r = append(pb, list ? "[" : "{", 1)) < 0)
                        return r;
                json_object_object_foreach(o, key, val) {
                        if (skip_key && streq(key, skip_key))
                                continue;
                        if (!first && (r = append(pb, ",", 1)) < 0)
                                return r;
                        first = false;
                        if (!list && ((r = encode_string(key, strlen(key), pb)) < 0 ||
                                      (r = append(pb, ":", 1)) < 0))
                                return r;
                        if ((r = php_json_encode(val, NULL, pb)) < 0)
                                return r;
                }
                return append(pb, list ? "]" : "}", 1);
        }
        }
        return -EINVAL;
}
