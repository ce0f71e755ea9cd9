/* SPDX-License-Identifier: MIT */
/* The YooKassa client against tgfleet-sandbox ($TGFLEET_SANDBOX), the local emulation of YooKassa:
 * a payment created and fetched, the same Idempotence-Key being the same payment, a saved method
 * charged, refusals as errors (and not outages), a 500 and a 202 tried again with the same key
 * (one payment, not two), and the breaker opening when the provider is gone. */
#include "json-util.h"
#include "test-sandbox.h"
#include "yookassa-client.h"

static TestSandbox sb;

typedef struct Result {
        bool done;
        int error;
        YooKassaPayment p;
} Result;

static void on_payment(int error, const YooKassaPayment *p, void *userdata) {
        Result *r = userdata;
        r->done = true;
        r->error = error;
        if (p)
                r->p = *p;
}

static Result create(YooKassaClient *c, YooKassaCreate req) {
        Result r = {};
        int k = yookassa_create_payment(c, &req, on_payment, &r);

        if (k < 0)
                return (Result) { .done = true, .error = k };
        test_run_until(&sb, &r.done);
        return r;
}

static Result get(YooKassaClient *c, const char *id) {
        Result r = {};
        int k = yookassa_get_payment(c, id, on_payment, &r);

        if (k < 0)
                return (Result) { .done = true, .error = k };
        test_run_until(&sb, &r.done);
        return r;
}

static YooKassaCreate plan(const char *key) {
        return (YooKassaCreate) { .idempotence_key = key, .amount = "299.00", .currency = "RUB",
                                  .description = "Salon Anna: 30 days", .return_url = "https://t.me/sales_bot",
                                  .metadata_payment = key, .save_payment_method = true };
}

int main(void) {
        Secret *key = test_secret("yk-test-secret"), *wrong = test_secret("not-the-secret");
        YooKassaClient *c = NULL, *bad = NULL;
        char long_description[400], path[128];

        test_sandbox_start(&sb, "[YooKassa]\nShopId=100500\n",
                           (const char *[]) { "yookassa-secret-key", "yk-test-secret", NULL });
        assert(yookassa_client_new(sb.event, sb.http, &(YooKassaClientOptions) { .url = sb.url, .shop_id = "100500",
                                                                                 .key = key,
                                                                                 .breaker = BREAKER_INIT(5, 60 * USEC_PER_SEC) },
                                   &c) == 0);

        /* A payment to confirm by redirect; the same key again is the same payment. */
        Result r = create(c, plan("sp-0001"));
        assert(r.error == 0 && streq(r.p.status, "pending") && !r.p.paid && r.p.test);
        assert(streq(r.p.amount, "299.00") && streq(r.p.currency, "RUB") && streq(r.p.metadata_payment, "sp-0001"));
        assert(strstr(r.p.confirmation_url, r.p.id) && !r.p.method_id[0]);
        Result again = create(c, plan("sp-0001"));
        assert(again.error == 0 && streq(again.p.id, r.p.id));
        assert(get(c, r.p.id).error == 0 && streq(get(c, r.p.id).p.status, "pending"));

        /* Paid by the payer: GET says so, with the saved method; charging that method needs no one. */
        snprintf(path, sizeof path, "/sandbox/yookassa/%s/succeed", r.p.id);
        assert(test_control(&sb, "POST", path, NULL) == 200);
        Result paid = get(c, r.p.id);
        assert(paid.error == 0 && streq(paid.p.status, "succeeded") && paid.p.paid && streq(paid.p.method_id, r.p.id));
        Result renewal = create(c, (YooKassaCreate) { .idempotence_key = "sp-0002", .amount = "299.00", .currency = "RUB",
                                                       .description = "Renewal", .payment_method_id = paid.p.method_id,
                                                       .metadata_payment = "sp-0002" });
        assert(renewal.error == 0 && streq(renewal.p.status, "succeeded") && streq(renewal.p.metadata_payment, "sp-0002"));
        /* Withdrawn by the payer: the next charge is canceled, and says why. */
        snprintf(path, sizeof path, "/sandbox/yookassa/%s/revoke", r.p.id);
        assert(test_control(&sb, "POST", path, NULL) == 200);
        Result revoked = create(c, (YooKassaCreate) { .idempotence_key = "sp-0003", .amount = "299.00", .currency = "RUB",
                                                       .description = "Renewal", .payment_method_id = paid.p.method_id });
        assert(revoked.error == 0 && streq(revoked.p.status, "canceled") && streq(revoked.p.cancel_reason, "permission_revoked"));

        /* A description is cut to 128 characters, never in the middle of one. */
        for (size_t i = 0; i + 2 < sizeof long_description; i += 2)
                memcpy(long_description + i, "я", 2);
        long_description[sizeof long_description - 2] = 0;
        YooKassaCreate cut = plan("sp-0004");
        cut.description = long_description;
        assert(create(c, cut).error == 0);

        /* Refusals are answers, not outages: the breaker stays closed. */
        assert(get(c, "23d93cac-000f-5000-8000-126628f15141").error == -ENOENT);
        assert(get(c, "../refunds").error == -EINVAL);
        YooKassaCreate bad_amount = plan("sp-0005");
        bad_amount.amount = "299.5";
        assert(create(c, bad_amount).error == -EINVAL);
        YooKassaCreate both = plan("sp-0006");
        both.payment_method_id = "x";
        assert(yookassa_create_payment(c, &both, on_payment, NULL) == -EINVAL);

        /* A 54-FZ receipt, which the sandbox checks as YooKassa does: to an e-mail or a phone, its
         * item the whole amount, VAT and tax system as configured. */
        YooKassaReceipt mail = { .email = "anna@example.ru", .vat_code = 1, .tax_system_code = 2 };
        YooKassaReceipt phone = { .phone = "79001234567", .vat_code = 4 };
        YooKassaCreate with_receipt = plan("sp-0010");
        with_receipt.receipt = &mail;
        assert(create(c, with_receipt).error == 0);
        with_receipt = plan("sp-0011");
        with_receipt.receipt = &phone;
        assert(create(c, with_receipt).error == 0);
        YooKassaReceipt neither = { .vat_code = 1 }, bad_vat = { .email = "anna@example.ru", .vat_code = 13 };
        with_receipt = plan("sp-0012");
        with_receipt.receipt = &neither;
        assert(yookassa_create_payment(c, &with_receipt, on_payment, NULL) == -EINVAL);
        with_receipt.receipt = &bad_vat;
        assert(create(c, with_receipt).error == -EINVAL);   /* the sandbox refuses it */
        assert(yookassa_client_new(sb.event, sb.http, &(YooKassaClientOptions) { .url = sb.url, .shop_id = "100500",
                                                                                 .key = wrong }, &bad) == 0);
        assert(create(bad, plan("sp-0007")).error == -EPERM);
        assert(yookassa_client_breaker(c) == BREAKER_CLOSED);

        /* A 500 after the payment was made, then a 202: the same key is sent again, and the payment
         * that comes back is the one made by the first attempt. */
        assert(test_control(&sb, "POST", "/sandbox/yookassa-fault", "{\"status\":500,\"count\":1}") == 200);
        Result after500 = create(c, plan("sp-0008"));
        assert(after500.error == 0 && streq(after500.p.metadata_payment, "sp-0008"));
        assert(test_control(&sb, "POST", "/sandbox/yookassa-fault", "{\"status\":202,\"count\":2}") == 200);
        Result after202 = get(c, after500.p.id);
        assert(after202.error == 0 && streq(after202.p.id, after500.p.id));
        /* Had the retry used another key, the first attempt's payment would be another one. */
        assert(streq(create(c, plan("sp-0008")).p.id, after500.p.id));
        /* More 500s than attempts: the call fails, a failure for the breaker. */
        assert(test_control(&sb, "POST", "/sandbox/yookassa-fault", "{\"status\":500,\"count\":3}") == 200);
        assert(get(c, after500.p.id).error == -EIO);

        /* The provider is gone: each call fails after its retries, five of them open the breaker,
         * and then calls are refused at once. */
        test_sandbox_kill(&sb);
        for (int i = 0; i < 4; i++)
                assert(create(c, plan("sp-0009")).error == -ECONNREFUSED);
        assert(yookassa_client_breaker(c) == BREAKER_OPEN);
        assert(create(c, plan("sp-0009")).error == -EAGAIN);

        http_client_free(sb.http);
        yookassa_client_free(c);
        yookassa_client_free(bad);
        secret_free(key);
        secret_free(wrong);
        sd_event_unref(sb.event);
        return 0;
}
