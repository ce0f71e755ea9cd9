/* SPDX-License-Identifier: MIT */
#include "json-util.h"
#include "test-util.h"

static int parse(const char *s) {
        json_object *o = NULL;
        int r = json_parse(s, strlen(s), &o);
        json_object_put(o);
        return r;
}

int main(void) {
        _cleanup_json_ json_object *o = NULL;
        int64_t i;
        char deep[200];

        assert(parse("{\"a\":1}") == 0);
        assert(parse(" {\"a\":1} \n") == 0);
        assert(parse("[1]") == 0);
        assert(parse("") == -EBADMSG);
        assert(parse("{") == -EBADMSG);
        assert(parse("{\"a\":1} x") == -EBADMSG);
        assert(parse("{\"a\":1}{}") == -EBADMSG);
        assert(parse("{\"a\":'x'}") == -EBADMSG);
        assert(parse("{a:1}") == -EBADMSG);
        assert(parse("{\"a\":1,}") == -EBADMSG);
        assert(parse("{\"a\":01}") == -EBADMSG);
        assert(parse("{\"a\":0x10}") == -EBADMSG);
        assert(parse("{\"a\":1}//c") == -EBADMSG);
        /* A member named twice, at any depth, however spelled: readers disagree on which counts. */
        assert(parse("{\"update_id\":5,\"update_id\":6}") == -EBADMSG);
        assert(parse("{\"update_id\":5,\"upd\\u0061te_id\":6}") == -EBADMSG);
        assert(parse("{\"m\":{\"id\":1,\"x\":[{\"id\":2,\"id\":3}]}}") == -EBADMSG);
        assert(parse("{\"a\":1,'a':2}") == -EBADMSG);
        /* Colons and quotes inside strings are no members. */
        {
                const char *text = "{\"token\":\"123:secret\",\"n\":1}";
                json_object *w = NULL;
                assert(json_parse(text, strlen(text), &w) == 0);
                const char *t = json_get_string(w, "token");
                json_wipe_string(w, "token");
                assert(memcmp(t, "\0\0\0\0\0\0\0\0\0\0", 10) == 0);
                json_wipe_string(w, "n");        /* not a string: left alone */
                json_wipe_string(w, "missing");
                json_wipe_string(NULL, "token");
                json_object_put(w);
        }
        assert(parse("{\"a:b\":\"c:\\\":d\",\"e\":{\"f\":[\":\"]}}") == 0);
        /* Known leniency of json-c 0.16 even in strict mode, accepted as is: single-quoted keys,
         * Infinity, raw control characters inside strings. None can smuggle an id or a sign. */
        assert(parse("{\"a\":\"\xff\"}") == -EBADMSG);
        assert(json_parse("{\"a\":1}\0", 8, &o) == -EBADMSG);
        memset(deep, '[', sizeof deep - 1);
        deep[sizeof deep - 1] = 0;
        assert(parse(deep) == -EBADMSG);

        assert(json_parse("{\"s\":\"x\",\"i\":42,\"f\":1.5,\"big\":99999999999999999999,\"neg\":-7}", 60, &o) == 0);
        assert(streq(json_get_string(o, "s"), "x"));
        assert(!json_get_string(o, "i"));
        assert(json_get_int64(o, "i", &i) == 0 && i == 42);
        assert(json_get_int64(o, "neg", &i) == 0 && i == -7);
        assert(json_get_int64(o, "f", &i) == -EINVAL);
        assert(json_get_int64(o, "s", &i) == -EINVAL);
        assert(json_get_int64(o, "big", &i) == -EINVAL);
        assert(json_get_int64(o, "none", &i) == -ENOENT);
        return 0;
}
