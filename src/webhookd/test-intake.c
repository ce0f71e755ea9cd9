/* SPDX-License-Identifier: MIT */
#include "intake.h"
#include "test-util.h"

static Reject tg(const char *body, IntakeEvent *ev) {
        return intake_telegram("shop_bot", body, strlen(body), ev);
}

static Reject yk(const char *body, IntakeEvent *ev) {
        return intake_yookassa(body, strlen(body), ev);
}

static Reject hk(const char *body, IntakeEvent *ev) {
        static Secret *key;
        if (!key) {
                key = malloc(sizeof *key + 15);
                key->size = 14;
                memcpy(key->data, "webhook-secret", 15);
        }
        return intake_heleket(key, body, strlen(body), ev);
}

static void test_telegram(void) {
        _cleanup_free_ char *update = test_read_reference("examples/telegram_update_message_start.json", NULL);
        IntakeEvent ev;

        assert(tg(update, &ev) == REJECT_NONE);
        assert(streq(ev.stream.s, "updates:shop_bot"));
        assert(streq(ev.dedupe_key.s, "dedupe:tg:shop_bot:259894298"));
        assert(streq(ev.id, "259894298"));

        assert(tg("", &ev) == REJECT_NOT_JSON);
        assert(tg("{\"update_id\":1", &ev) == REJECT_NOT_JSON);
        assert(tg("update_id=1", &ev) == REJECT_NOT_JSON);
        assert(tg("[1]", &ev) == REJECT_NOT_OBJECT);
        assert(tg("\"x\"", &ev) == REJECT_NOT_OBJECT);
        assert(tg("{}", &ev) == REJECT_MISSING_ID);
        assert(tg("{\"update_id\":\"1\"}", &ev) == REJECT_MISSING_ID);
        assert(tg("{\"update_id\":1.5}", &ev) == REJECT_MISSING_ID);
        assert(tg("{\"update_id\":-1}", &ev) == REJECT_MISSING_ID);
        assert(tg("{\"update_id\":null}", &ev) == REJECT_MISSING_ID);
}

static void test_yookassa(void) {
        _cleanup_free_ char *n = test_read_reference("examples/yookassa_notification_payment_waiting_for_capture.json", NULL);
        IntakeEvent ev;

        assert(yk(n, &ev) == REJECT_NONE);
        assert(streq(ev.stream.s, "payments"));
        assert(streq(ev.status, "payment.waiting_for_capture"));
        assert(startswith(ev.dedupe_key.s, "dedupe:yookassa:"));
        assert(strstr(ev.dedupe_key.s, ev.id));

        assert(yk("nope", &ev) == REJECT_NOT_JSON);
        assert(yk("[]", &ev) == REJECT_NOT_OBJECT);
        assert(yk("{\"event\":\"payment.succeeded\"}", &ev) == REJECT_MISSING_ID);
        assert(yk("{\"event\":\"payment.succeeded\",\"object\":{}}", &ev) == REJECT_MISSING_ID);
        assert(yk("{\"event\":\"payment.succeeded\",\"object\":{\"id\":\"a b\"}}", &ev) == REJECT_MISSING_ID);
        assert(yk("{\"object\":{\"id\":\"x\"}}", &ev) == REJECT_MISSING_ID);
}

static void test_heleket(void) {
        IntakeEvent ev;

        assert(hk("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid\","
                  "\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\","
                  "\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\"}", &ev) == REJECT_NONE);
        assert(streq(ev.stream.s, "payments") && streq(ev.id, "u1") && streq(ev.status, "paid"));
        assert(streq(ev.dedupe_key.s, "dedupe:heleket:u1:paid"));

        /* tampered: same sign, other status */
        assert(hk("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid_over\","
                  "\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\","
                  "\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\"}", &ev) == REJECT_BAD_SIGNATURE);
        assert(hk("{\"uuid\":\"u1\",\"status\":\"paid\"}", &ev) == REJECT_BAD_SIGNATURE);
        assert(hk("{\"status\":\"paid\",\"sign\":\"x\"}", &ev) == REJECT_MISSING_ID);
        assert(hk("{\"uuid\":\"u1\",\"sign\":\"x\"}", &ev) == REJECT_MISSING_ID);
        assert(hk("not json", &ev) == REJECT_NOT_JSON);
        assert(hk("[\"uuid\"]", &ev) == REJECT_NOT_OBJECT);
}

int main(void) {
        test_telegram();
        test_yookassa();
        test_heleket();
        return 0;
}
