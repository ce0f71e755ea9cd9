/* SPDX-License-Identifier: MIT */
/* The Heleket client against tgfleet-sandbox ($TGFLEET_SANDBOX), the local emulation of Heleket:
 * invoices, idempotent creation, payment info after a payment, refusals, and the breaker opening
 * when the provider is gone. */
#include "heleket-client.h"
#include "test-sandbox.h"

static TestSandbox sb;

typedef struct Result {
        bool done;
        int error;
        HeleketInvoice inv;
} Result;

static void on_invoice(int error, const HeleketInvoice *inv, void *userdata) {
        Result *r = userdata;
        r->done = true;
        r->error = error;
        if (inv)
                r->inv = *inv;
}

static Result create(HeleketClient *c, const char *order, const char *amount) {
        Result r = {};
        int k = heleket_create_invoice(c, &(HeleketCreate) { .order_id = order, .amount = amount, .currency = "USD",
                                                             .lifetime_sec = 900 }, on_invoice, &r);
        if (k < 0)
                return (Result) { .done = true, .error = k };
        test_run_until(&sb, &r.done);
        return r;
}

static Result info(HeleketClient *c, const char *uuid, const char *order) {
        Result r = {};
        assert(heleket_payment_info(c, uuid, order, on_invoice, &r) == 0);
        test_run_until(&sb, &r.done);
        return r;
}

int main(void) {
        Secret *key = test_secret("client-test-key"), *wrong = test_secret("not-the-key");
        HeleketClient *c = NULL, *bad = NULL;

        test_sandbox_start(&sb, "[Heleket]\nMerchant=merchant-test\n",
                           (const char *[]) { "heleket-api-key", "client-test-key", NULL });
        assert(heleket_client_new(sb.event, sb.http, &(HeleketClientOptions) { .url = sb.url, .merchant = "merchant-test",
                                                                                .key = key,
                                                                                .breaker = BREAKER_INIT(5, 60 * USEC_PER_SEC) },
                                  &c) == 0);

        /* An invoice; the same order again is the same invoice. */
        Result r = create(c, "order-1", "3.99");
        assert(r.error == 0 && streq(r.inv.status, "check") && streq(r.inv.order_id, "order-1"));
        assert(strstr(r.inv.url, r.inv.uuid) && r.inv.expired_at > 0 && !r.inv.is_final);
        Result again = create(c, "order-1", "3.99");
        assert(again.error == 0 && streq(again.inv.uuid, r.inv.uuid));

        /* Paid (by the sandbox's payer): info says so. */
        assert(test_control(&sb, "POST", "/sandbox/heleket/order-1/pay", NULL) == 200);
        Result paid = info(c, r.inv.uuid, NULL);
        assert(paid.error == 0 && streq(paid.inv.status, "paid") && streq(paid.inv.payment_amount, "3.99") && paid.inv.is_final);
        assert(info(c, NULL, "order-1").error == 0);
        assert(streq(heleket_paid_in_invoice_currency(&paid.inv), "3.99"));
        /* Paid in another currency than the invoice's, with no USD figure: unknown. */
        HeleketInvoice eur = { .currency = "EUR", .payer_currency = "USDT", .payment_amount = "4.20" };
        assert(!heleket_paid_in_invoice_currency(&eur));
        strcpy(eur.payer_currency, "eur");
        assert(streq(heleket_paid_in_invoice_currency(&eur), "4.20"));
        HeleketInvoice usd = { .currency = "USD", .payer_currency = "BTC", .payment_amount = "0.00004",
                               .payment_amount_usd = "3.50" };
        assert(streq(heleket_paid_in_invoice_currency(&usd), "3.50"));

        /* Refusals are answers, not outages: the breaker stays closed. */
        assert(info(c, NULL, "no-such-order").error == -ENOENT);
        assert(create(c, "order-2", "abc").error == -EINVAL);
        assert(heleket_client_new(sb.event, sb.http, &(HeleketClientOptions) { .url = sb.url, .merchant = "merchant-test", .key = wrong },
                                  &bad) == 0);
        assert(create(bad, "order-3", "1.00").error == -EPERM);
        assert(heleket_client_breaker(c) == BREAKER_CLOSED);

        /* The provider is gone: each call fails after its retries, five of them open the breaker,
         * and then calls are refused at once. */
        test_sandbox_kill(&sb);
        for (int i = 0; i < 5; i++) {
                Result down = create(c, "order-4", "1.00");
                assert(down.error == -ECONNREFUSED);
        }
        assert(heleket_client_breaker(c) == BREAKER_OPEN);
        assert(create(c, "order-4", "1.00").error == -EAGAIN);

        http_client_free(sb.http);
        heleket_client_free(c);
        heleket_client_free(bad);
        secret_free(key);
        secret_free(wrong);
        sd_event_unref(sb.event);
        return 0;
}
