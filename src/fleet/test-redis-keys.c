/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "redis-keys.h"
#include "test-util.h"

/* An XREAD field array of @n strings, as hiredis hands it over. */
typedef struct Fields {
        redisReply array, strings[8];
        redisReply *elements[8];
} Fields;

static const redisReply *fields(Fields *f, size_t n, const char *const *s) {
        f->array = (redisReply) { .type = REDIS_REPLY_ARRAY, .elements = n, .element = f->elements };
        for (size_t i = 0; i < n; i++) {
                f->strings[i] = (redisReply) { .type = REDIS_REPLY_STRING, .str = (char *) s[i], .len = strlen(s[i]) };
                f->elements[i] = &f->strings[i];
        }
        return &f->array;
}

int main(void) {
        json_object *params = json_object_new_object();
        OutboxCall c = {}, back = {};
        Fields f;

        /* Written as three fields, read back without touching the parameters' text. */
        json_object_object_add(params, "chat_id", json_object_new_int64(-100123));
        json_object_object_add(params, "text", json_object_new_string("<b>Привет</b>"));
        assert(outbox_call_format(-100123, "sendMessage", params, &c) == 0);
        assert(streq(c.method, "sendMessage") && streq(c.chat, "-100123") && c.chat_id == -100123);
        assert(outbox_call_read(fields(&f, 6, (const char *const[]) { OUTBOX_METHOD, c.method, OUTBOX_CHAT, c.chat,
                                                                      OUTBOX_PARAMS, c.params }),
                                &back) == 0);
        assert(streq(back.method, "sendMessage") && back.chat_id == -100123 && streq(back.params, c.params));
        outbox_call_done(&back);

        /* An entry from before the three fields: one "call" field, still delivered. */
        assert(outbox_call_read(fields(&f, 2, (const char *const[]) { "call", "{\"method\":\"sendMessage\",\"chat\":42,"
                                                                      "\"params\":{\"chat_id\":42,\"text\":\"hi\"}}" }),
                                &back) == 0);
        assert(streq(back.method, "sendMessage") && back.chat_id == 42 && streq(back.chat, "42"));
        assert(streq(back.params, "{\"chat_id\":42,\"text\":\"hi\"}"));
        outbox_call_done(&back);

        /* A grant marked here is read back with its age; one marked in another boot, or not a
         * mark, cannot be timed here and counts as none, the entry itself still read. */
        {
                char mark[OUTBOX_GRANT_MAX];
                const char *others[] = { "00000000000000000000000000000000:1", "garbage", "", ":", "x:12" };

                assert(outbox_grant_mark(mark) == 0);
                assert(outbox_call_read(fields(&f, 8, (const char *const[]) { OUTBOX_METHOD, "sendMessage", OUTBOX_CHAT, "7",
                                                                              OUTBOX_PARAMS, "{}", OUTBOX_GRANT, mark }),
                                        &back) == 0);
                assert(back.grant_usec > 0 && outbox_grant_age(&back) < 5 * USEC_PER_SEC);
                outbox_call_done(&back);
                for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                        assert(outbox_call_read(fields(&f, 8, (const char *const[]) { OUTBOX_METHOD, "sendMessage",
                                                                                      OUTBOX_CHAT, "7", OUTBOX_PARAMS,
                                                                                      "{}", OUTBOX_GRANT, others[i] }),
                                                &back) == 0);
                        assert(back.grant_usec == 0 && outbox_grant_age(&back) == UINT64_MAX && streq(back.chat, "7"));
                        outbox_call_done(&back);
                }
                /* Without the field: no grant. */
                assert(outbox_call_read(fields(&f, 6, (const char *const[]) { OUTBOX_METHOD, "sendMessage", OUTBOX_CHAT, "7",
                                                                              OUTBOX_PARAMS, "{}" }),
                                        &back) == 0);
                assert(outbox_grant_age(&back) == UINT64_MAX);
                outbox_call_done(&back);
        }

        /* Malformed entries are refused, whole. */
        assert(outbox_call_read(fields(&f, 4, (const char *const[]) { OUTBOX_METHOD, "sendMessage", OUTBOX_CHAT, "1" }),
                                &back) == -EBADMSG);
        assert(outbox_call_read(fields(&f, 6, (const char *const[]) { OUTBOX_METHOD, "sendMessage", OUTBOX_CHAT, "1x",
                                                                      OUTBOX_PARAMS, "{}" }),
                                &back) == -EBADMSG);
        assert(outbox_call_read(fields(&f, 6, (const char *const[]) { OUTBOX_METHOD, "sendMessage", OUTBOX_CHAT, "1",
                                                                      OUTBOX_PARAMS, "[1]" }),
                                &back) == -EBADMSG);
        assert(outbox_call_read(fields(&f, 6, (const char *const[]) { OUTBOX_METHOD, "", OUTBOX_CHAT, "1",
                                                                      OUTBOX_PARAMS, "{}" }),
                                &back) == -EBADMSG);
        assert(outbox_call_read(fields(&f, 2, (const char *const[]) { "call", "{\"method\":\"sendMessage\"}" }), &back) ==
               -EBADMSG);
        assert(outbox_call_read(fields(&f, 0, NULL), &back) == -EBADMSG);
        assert(back.params == NULL);
        /* A method name that does not fit is refused when written. */
        assert(outbox_call_format(1, "aVeryLongMethodNameThatNoBotApiMethodHasEverHadSoFar", params, &back) == -EINVAL);

        outbox_call_done(&c);
        json_object_put(params);
        return 0;
}
