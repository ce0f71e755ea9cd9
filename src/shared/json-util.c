/* SPDX-License-Identifier: MIT */
#include <limits.h>

#include "json-util.h"

/* Object members in the parsed value. */
static size_t count_members(json_object *o) {
        size_t n = 0;

        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        (void) k;
                        n += 1 + count_members(v);
                }
        } else if (json_object_is_type(o, json_type_array))
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        n += count_members(json_object_array_get_idx(o, i));
        return n;
}

/* Object members in text json-c parsed: each has the one ':' found outside strings (json-c also
 * takes single-quoted ones). */
static size_t count_colons(const char *buf, size_t len) {
        char quote = 0;
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                if (quote) {
                        if (buf[i] == '\\')
                                i++;
                        else if (buf[i] == quote)
                                quote = 0;
                } else if (buf[i] == '"' || buf[i] == '\'')
                        quote = buf[i];
                else if (buf[i] == ':')
                        n++;
        return n;
}

int json_parse(const char *buf, size_t len, json_object **ret) {
        /* One tokener, reset per parse: the daemons are single-threaded, and this saves an
         * allocation of the parser state per request. */
        static json_tokener *tok;
        json_object *o;
        size_t end;

        if (len > INT_MAX)
                return -EBADMSG;
        if (!tok) {
                tok = json_tokener_new_ex(JSON_MAX_DEPTH);
                if (!tok)
                        return -ENOMEM;
                json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        }
        json_tokener_reset(tok);
        o = json_tokener_parse_ex(tok, buf, (int) len);
        /* An incomplete value ("{" alone) leaves json_tokener_continue: that is not JSON either. */
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        end = json_tokener_get_parse_end(tok);
        for (; end < len; end++)
                if (!strchr(" \t\r\n", buf[end]) || buf[end] == 0) {
                        json_object_put(o);
                        return -EBADMSG;
                }
        /* json-c keeps the last of two members with the same name; whoever reads the text may
         * keep the first. Such an object means different things to different readers: refused. */
        if (count_colons(buf, len) != count_members(o)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

void json_wipe_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return;
        /* json-c hands out its own buffer, const only by declaration. */
        explicit_bzero((char *) json_object_get_string(v), (size_t) json_object_get_string_len(v));
}

const char *json_get_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int json_get_int64(json_object *o, const char *key, int64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return -ENOENT;
        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        /* json-c saturates out-of-range integers at INT64_MIN/MAX without saying so; no id we
         * accept comes near either, so both limits count as out of range. */
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX || i == INT64_MIN)
                return -EINVAL;
        *ret = i;
        return 0;
}

void printbuf_html_escaped(struct printbuf *pb, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '<': printbuf_strappend(pb, "&lt;"); break;
                case '>': printbuf_strappend(pb, "&gt;"); break;
                case '&': printbuf_strappend(pb, "&amp;"); break;
                case '"': printbuf_strappend(pb, "&quot;"); break;
                default: printbuf_memappend(pb, s, 1);
                }
}
