/* SPDX-License-Identifier: MIT */
/* The Heleket client against tgfleet-sandbox ($TGFLEET_SANDBOX), the local emulation of Heleket:
 * invoices, idempotent creation, payment info after a payment, refusals, and the breaker opening
 * when the provider is gone. */
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "heleket-client.h"
#include "test-util.h"

static sd_event *event;
static HttpClient *http;

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

static void run_until(const bool *done) {
        for (int i = 0; i < 2000 && !*done; i++)
                assert(sd_event_run(event, 100 * USEC_PER_MSEC) >= 0);
        assert(*done);
}

static void on_control(HttpClient *c, const HttpResponse *r, void *userdata) {
        Result *res = userdata;
        (void) c;
        res->done = true;
        res->error = r->error ? r->error : (int) r->status;
}

static int control(unsigned port, const char *method, const char *path) {
        char url[256];
        Result r = {};
        snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
        assert(http_client_request(http, &(HttpRequest) { .method = method, .url = url, .body = "{}", .body_size = 2,
                                                          .headers = (const char *[]) { "Content-Type: application/json", NULL } },
                                   on_control, &r) == 0);
        run_until(&r.done);
        return r.error;
}

static Result create(HeleketClient *c, const char *order, const char *amount) {
        Result r = {};
        int k = heleket_create_invoice(c, &(HeleketCreate) { .order_id = order, .amount = amount, .currency = "USD",
                                                             .lifetime_sec = 900 }, on_invoice, &r);
        if (k < 0)
                return (Result) { .done = true, .error = k };
        run_until(&r.done);
        return r;
}

static Result info(HeleketClient *c, const char *uuid, const char *order) {
        Result r = {};
        assert(heleket_payment_info(c, uuid, order, on_invoice, &r) == 0);
        run_until(&r.done);
        return r;
}

static Secret *secret(const char *s) {
        Secret *k = malloc(sizeof *k + strlen(s) + 1);
        k->size = strlen(s);
        memcpy(k->data, s, k->size + 1);
        return k;
}

int main(void) {
        const char *sandbox = getenv("TGFLEET_SANDBOX");
        char dir[] = "/tmp/test-heleket-XXXXXX", url[64], arg_listen[64], arg_conf[300], arg_creds[300];
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t salen = sizeof sa;
        Secret *key = secret("client-test-key"), *wrong = secret("not-the-key");
        HeleketClient *c = NULL, *bad = NULL;
        unsigned port;
        pid_t pid;
        int fd;

        if (!sandbox || access(sandbox, X_OK) < 0) {
                fprintf(stderr, "no tgfleet-sandbox to talk to, skipping\n");
                return EXIT_TEST_SKIP;
        }
        assert(mkdtemp(dir));
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert(bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *) &sa, &salen) == 0);
        port = ntohs(sa.sin_port);
        close(fd);
        test_write_file(dir, "heleket-api-key", "client-test-key");
        test_write_file(dir, "sandbox.conf", "[Heleket]\nMerchant=merchant-test\n");
        snprintf(arg_listen, sizeof arg_listen, "--listen=127.0.0.1:%u", port);
        snprintf(arg_conf, sizeof arg_conf, "--config=%s/sandbox.conf", dir);
        snprintf(arg_creds, sizeof arg_creds, "--credentials-dir=%s", dir);
        pid = fork();
        assert(pid >= 0);
        if (pid == 0) {
                execl(sandbox, sandbox, arg_listen, arg_conf, arg_creds, (char *) NULL);
                _exit(127);
        }

        assert(sd_event_new(&event) >= 0);
        assert(http_client_new(event, &http) == 0);
        for (int i = 0; i < 100 && control(port, "GET", "/sandbox/health") != 200; i++)
                usleep(50 * 1000);
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        assert(heleket_client_new(event, http, &(HeleketClientOptions) { .url = url, .merchant = "merchant-test", .key = key,
                                                                          .breaker = BREAKER_INIT(5, 60 * USEC_PER_SEC) },
                                  &c) == 0);

        /* An invoice; the same order again is the same invoice. */
        Result r = create(c, "order-1", "3.99");
        assert(r.error == 0 && streq(r.inv.status, "check") && streq(r.inv.order_id, "order-1"));
        assert(strstr(r.inv.url, r.inv.uuid) && r.inv.expired_at > 0 && !r.inv.is_final);
        Result again = create(c, "order-1", "3.99");
        assert(again.error == 0 && streq(again.inv.uuid, r.inv.uuid));

        /* Paid (by the sandbox's payer): info says so. */
        assert(control(port, "POST", "/sandbox/heleket/order-1/pay") == 200);
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
        assert(heleket_client_new(event, http, &(HeleketClientOptions) { .url = url, .merchant = "merchant-test", .key = wrong },
                                  &bad) == 0);
        assert(create(bad, "order-3", "1.00").error == -EPERM);
        assert(heleket_client_breaker(c) == BREAKER_CLOSED);

        /* The provider is gone: each call fails after its retries, five of them open the breaker,
         * and then calls are refused at once. */
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        for (int i = 0; i < 5; i++) {
                Result down = create(c, "order-4", "1.00");
                assert(down.error == -ECONNREFUSED);
        }
        assert(heleket_client_breaker(c) == BREAKER_OPEN);
        assert(create(c, "order-4", "1.00").error == -EAGAIN);

        http_client_free(http);
        heleket_client_free(c);
        heleket_client_free(bad);
        secret_free(key);
        secret_free(wrong);
        sd_event_unref(event);
        return 0;
}
