/* SPDX-License-Identifier: MIT */
#include "json-util.h"
#include "php-json.h"
#include "test-util.h"

/* What PHP's json_encode(json_decode($in, true), JSON_UNESCAPED_UNICODE) prints. */
static void check(const char *in, const char *want) {
        _cleanup_json_ json_object *o = NULL;
        struct printbuf *pb = printbuf_new();

        assert(json_parse(in, strlen(in), &o) == 0);
        assert(php_json_encode(o, NULL, pb) == 0);
        if (!streq(pb->buf, want))
                fprintf(stderr, "in:   %s\ngot:  %s\nwant: %s\n", in, pb->buf, want);
        assert(streq(pb->buf, want));
        printbuf_free(pb);
}

int main(void) {
        check("{ \"a\" : \"x/y\" }", "{\"a\":\"x\\/y\"}");
        check("{\"a\":\"\\u0436\"}", "{\"a\":\"\xd0\xb6\"}");
        check("{\"a\":\"\\u2028\\u2029\"}", "{\"a\":\"\\u2028\\u2029\"}");
        check("{\"a\":\"\\b\\f\\n\\r\\t\\u0001\\u001F\\\"\\\\\"}", "{\"a\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\\"\\\\\"}");
        check("{\"a\":{}}", "{\"a\":[]}");
        check("{}", "[]");
        check("{\"0\":1,\"1\":2}", "[1,2]");
        check("{\"1\":1,\"0\":2}", "{\"1\":1,\"0\":2}");
        check("{\"a\":[1, 2, {\"b\":null}], \"t\":true, \"f\":false}", "{\"a\":[1,2,{\"b\":null}],\"t\":true,\"f\":false}");
        check("{\"n\":-12,\"d\":1.50,\"e\":1e25,\"w\":15.0,\"s\":0.1}", "{\"n\":-12,\"d\":1.5,\"e\":1.0e+25,\"w\":15.0,\"s\":0.1}");
        check("{\"a\":\"\\u0000\"}", "{\"a\":\"\\u0000\"}");
        return 0;
}
