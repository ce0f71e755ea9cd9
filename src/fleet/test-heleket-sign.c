/* SPDX-License-Identifier: MIT */
#include "heleket-sign.h"
#include "json-util.h"
#include "test-util.h"

static int verify(const char *body, const char *key) {
        _cleanup_json_ json_object *o = NULL;
        assert(json_parse(body, strlen(body), &o) == 0);
        return heleket_verify(body, strlen(body), o, key, strlen(key));
}

static void test_sign_vectors(void) {
        char s[HELEKET_SIGN_SIZE];
        const char *body = "{\"amount\":\"15\",\"currency\":\"USD\",\"order_id\":\"1\"}";

        /* protocols.md §1.2 */
        assert(heleket_sign(body, strlen(body), "merchant-api-key-42", 19, s) == 0);
        assert(streq(s, "27241b4fe4019e6c19622ce88888603c"));
        /* An empty body signs as md5(key): md5("abc"). */
        assert(heleket_sign("", 0, "abc", 3, s) == 0);
        assert(streq(s, "900150983cd24fb0d6963f7d28e17f72"));
}

/* The Go SDK test payloads: PHP-style slashes on the wire, sign last or first. */
static void test_go_sdk_payloads(void) {
        assert(verify("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid\","
                      "\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\","
                      "\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\"}", "webhook-secret") == HELEKET_SIGN_PHP);
        assert(verify("{\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\",\"type\":\"payment\",\"uuid\":\"u1\","
                      "\"status\":\"paid\",\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\"}",
                      "webhook-secret") == HELEKET_SIGN_PHP);
        /* The same with unescaped slashes on the wire: PHP re-encoding still matches. */
        assert(verify("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid\","
                      "\"url\":\"https://pay.heleket.com/pay/abc\","
                      "\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\"}", "webhook-secret") == HELEKET_SIGN_PHP);
        /* Wrong key, tampered field, upper-case hex. */
        assert(verify("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid\","
                      "\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\","
                      "\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\"}", "webhook-secreT") == HELEKET_SIGN_NONE);
        assert(verify("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid_over\","
                      "\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\","
                      "\"sign\":\"bdf7e32a86759ab3fea2e56efa67d178\"}", "webhook-secret") == HELEKET_SIGN_NONE);
        assert(verify("{\"type\":\"payment\",\"uuid\":\"u1\",\"status\":\"paid\","
                      "\"url\":\"https:\\/\\/pay.heleket.com\\/pay\\/abc\","
                      "\"sign\":\"BDF7E32A86759AB3FEA2E56EFA67D178\"}", "webhook-secret") == HELEKET_SIGN_NONE);
}

/* reference/examples/heleket_webhook_payment_paid.fixture.json, pretty-printed as shipped, with
 * the sign PHP would compute over its compact form. */
static void test_reference_fixture(void) {
        _cleanup_free_ char *raw = test_read_reference("examples/heleket_webhook_payment_paid.fixture.json", NULL);
        _cleanup_free_ char *body = NULL;
        char *end = strrchr(raw, '}');

        assert(end);
        *end = 0;
        assert(asprintf(&body, "%s,\n    \"sign\": \"323c1f9bc12f49f2722785e10f8cad34\"\n}", raw) > 0);
        assert(verify(body, "webhook-secret") == HELEKET_SIGN_PHP);
        assert(verify(body, "other-key") == HELEKET_SIGN_NONE);
}

/* \uXXXX on the wire is signed as raw UTF-8; U+2028 stays escaped; {} becomes []; a "0","1"
 * keyed object becomes a list. Only the PHP form can match here. */
static void test_php_canonicalisation(void) {
        assert(verify("{\"uuid\":\"u2\",\"status\":\"paid\","
                      "\"additional_data\":\"\\u0417\\u0430\\u043a\\u0430\\u0437 \\u2028 x/y\","
                      "\"empty\":{},\"list\":{\"0\":\"a\",\"1\":\"b\"},"
                      "\"sign\":\"5b71328ad799c84c63d9ffebb7c27fd4\"}", "k2") == HELEKET_SIGN_PHP);
}

/* A value PHP would re-encode differently (1.50 → 1.5) is still accepted in the Go SDK's raw
 * form, where the signer signed the bytes as sent. */
static void test_raw_form(void) {
        _cleanup_free_ char *body = strdup("{\"uuid\":\"u3\",\"status\":\"paid\",\"amount\":1.50,"
                                           "\"sign\":\"cd016f05c8f28377b7514ca478241dec\"}");
        struct printbuf *pb = printbuf_new();

        assert(verify(body, "k3") == HELEKET_SIGN_RAW);
        assert(verify(body, "k4") == HELEKET_SIGN_NONE);
        /* The splice keeps nested "sign" members and raw value bytes. */
        const char *nested = "{ \"a\" : {\"sign\":1, \"b\":[1, 2]}, \"sign\":\"x\" ,\"c\":\"\\/\"}";
        assert(heleket_raw_without_sign(nested, strlen(nested), pb) == 0);
        assert(streq(pb->buf, "{\"a\":{\"sign\":1, \"b\":[1, 2]},\"c\":\"\\/\"}"));
        printbuf_free(pb);
}

static void test_missing_sign(void) {
        assert(verify("{\"uuid\":\"u1\",\"status\":\"paid\"}", "k") == -ENOENT);
        assert(verify("{\"uuid\":\"u1\",\"status\":\"paid\",\"sign\":5}", "k") == -ENOENT);
        assert(verify("{\"uuid\":\"u1\",\"status\":\"paid\",\"sign\":\"\"}", "k") == HELEKET_SIGN_NONE);
        assert(verify("[1,2]", "k") == -EBADMSG);
}

int main(void) {
        test_sign_vectors();
        test_go_sdk_payloads();
        test_reference_fixture();
        test_php_canonicalisation();
        test_raw_form();
        test_missing_sign();
        return 0;
}
