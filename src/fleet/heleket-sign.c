/* SPDX-License-Identifier: MIT */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/printbuf.h>

#include "creds.h"
#include "heleket-sign.h"
#include "macro.h"
#include "php-json.h"

int heleket_sign(const void *body, size_t len, const void *key, size_t keylen,
                 char ret[HELEKET_SIGN_SIZE]) {
        gnutls_datum_t in = { (unsigned char *) body, (unsigned) len }, b64 = {}, digest_d;
        unsigned char digest[16];
        gnutls_hash_hd_t h;
        size_t hexlen = HELEKET_SIGN_SIZE;
        int r = -EIO;

        if (len > UINT32_MAX / 2)
                return -EFBIG;
        /* gnutls_base64_encode2 cannot encode an empty datum; base64("") is "". */
        if (len > 0 && gnutls_base64_encode2(&in, &b64) < 0)
                return -ENOMEM;
        if (gnutls_hash_init(&h, GNUTLS_DIG_MD5) < 0)
                goto finish;
        if ((b64.size > 0 && gnutls_hash(h, b64.data, b64.size) < 0) ||
            (keylen > 0 && gnutls_hash(h, key, keylen) < 0)) {
                gnutls_hash_deinit(h, NULL);
                goto finish;
        }
        gnutls_hash_deinit(h, digest);
        digest_d = (gnutls_datum_t) { digest, sizeof digest };
        if (gnutls_hex_encode(&digest_d, ret, &hexlen) < 0)
                goto finish;
        r = 0;
finish:
        gnutls_free(b64.data);
        return r;
}

static size_t skip_ws(const char *s, size_t i, size_t n) {
        while (i < n && strchr(" \t\r\n", s[i]) && s[i])
                i++;
        return i;
}

/* Returns the index just past the JSON string starting at @i (which is at '"'). */
static size_t skip_string(const char *s, size_t i, size_t n) {
        for (i++; i < n; i++) {
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '"')
                        return i + 1;
        }
        return n;
}

/* Returns the index just past the JSON value starting at @i. */
static size_t skip_value(const char *s, size_t i, size_t n) {
        unsigned depth = 0;

        for (; i < n; i++) {
                char c = s[i];
                if (c == '"') {
                        i = skip_string(s, i, n) - 1;
                        if (depth == 0)
                                return i + 1;
                } else if (c == '{' || c == '[')
                        depth++;
                else if (c == '}' || c == ']') {
                        if (depth == 0)
                                return i; /* end of the enclosing object: a scalar ended */
                        if (--depth == 0)
                                return i + 1;
                } else if (depth == 0 && (c == ',' || strchr(" \t\r\n", c)))
                        return i;
        }
        return n;
}

int heleket_raw_without_sign(const char *body, size_t len, struct printbuf *pb) {
        size_t i = skip_ws(body, 0, len);
        bool first = true;

        if (i >= len || body[i] != '{')
                return -EBADMSG;
        if (printbuf_memappend(pb, "{", 1) < 0)
                return -ENOMEM;
        for (i = skip_ws(body, i + 1, len); i < len && body[i] == '"';) {
                size_t kstart = i, kend = skip_string(body, i, len), vstart, vend;

                i = skip_ws(body, kend, len);
                if (i >= len || body[i] != ':')
                        return -EBADMSG;
                vstart = skip_ws(body, i + 1, len);
                vend = skip_value(body, vstart, len);
                if (!(kend - kstart == 6 && memcmp(body + kstart, "\"sign\"", 6) == 0)) {
                        if ((!first && printbuf_memappend(pb, ",", 1) < 0) ||
                            printbuf_memappend(pb, body + kstart, (int) (kend - kstart)) < 0 ||
                            printbuf_memappend(pb, ":", 1) < 0 ||
                            printbuf_memappend(pb, body + vstart, (int) (vend - vstart)) < 0)
                                return -ENOMEM;
                        first = false;
                }
                i = skip_ws(body, vend, len);
                if (i < len && body[i] == ',')
                        i = skip_ws(body, i + 1, len);
        }
        if (printbuf_memappend(pb, "}", 1) < 0)
                return -ENOMEM;
        return 0;
}

static int sign_matches(struct printbuf *pb, const void *key, size_t keylen, const char *received,
                        size_t received_len) {
        char expected[HELEKET_SIGN_SIZE];
        int r = heleket_sign(pb->buf, (size_t) pb->bpos, key, keylen, expected);
        if (r < 0)
                return r;
        return secret_equal(expected, HELEKET_SIGN_SIZE - 1, received, received_len);
}

int heleket_verify(const char *body, size_t len, json_object *parsed, const void *key, size_t keylen) {
        struct printbuf *pb;
        json_object *sign;
        const char *received;
        size_t received_len;
        int r;

        if (!json_object_is_type(parsed, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(parsed, "sign", &sign) || !json_object_is_type(sign, json_type_string))
                return -ENOENT;
        received = json_object_get_string(sign);
        received_len = (size_t) json_object_get_string_len(sign);

        pb = printbuf_new();
        if (!pb)
                return -ENOMEM;
        r = php_json_encode(parsed, "sign", pb);
        if (r >= 0)
                r = sign_matches(pb, key, keylen, received, received_len);
        if (r > 0) {
                printbuf_free(pb);
                return HELEKET_SIGN_PHP;
        }
        if (r == 0) {
                printbuf_reset(pb);
                r = heleket_raw_without_sign(body, len, pb);
                if (r >= 0)
                        r = sign_matches(pb, key, keylen, received, received_len);
                if (r > 0)
                        r = HELEKET_SIGN_RAW;
        }
        printbuf_free(pb);
        return r;
}
