/* SPDX-License-Identifier: MIT */
/* YooKassa API v3 as reference/protocols.md §2 describes it: HTTP Basic (shop id : secret key),
 * Idempotence-Key on POST (same key and body: the same payment; same key, other body: an error),
 * the payment object, error bodies {"type":"error",…}, and notifications
 * {"type":"notification","event":…,"object":…} sent when an outcome is triggered. */

#include <stdio.h>
#include <time.h>

#include "creds.h"
#include "json-util.h"
#include "log.h"
#include "money.h"
#include "sandbox.h"

struct YkPayment {
        YkPayment *next;
        char id[37];
        char *idempotence_key;
        char *request_body;      /* to tell a repeat from a misuse of the key */
        json_object *object;     /* the payment object as the API returns it */
};

static ApiReply yk_error(unsigned status, const char *code, const char *description, const char *parameter) {
        json_object *o = json_object_new_object();
        char id[37];

        snprintf(id, sizeof id, "%08lx-000f-5000-a000-%012lx", random(), random());
        json_object_object_add(o, "type", json_object_new_string("error"));
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "code", json_object_new_string(code));
        json_object_object_add(o, "description", json_object_new_string(description));
        if (parameter)
                json_object_object_add(o, "parameter", json_object_new_string(parameter));
        return api_reply(status, o);
}

static YkPayment *payment_find(Sandbox *sb, const char *id) {
        for (YkPayment *p = sb->yk_payments; p && id; p = p->next)
                if (streq(p->id, id))
                        return p;
        return NULL;
}

static bool authorised(Sandbox *sb, const ApiRequest *req) {
        char *pass = NULL, *user = MHD_basic_auth_get_username_password(req->conn, &pass);
        bool ok = user && pass && sb->yk_shop_id && sb->yk_secret && streq(user, sb->yk_shop_id) &&
                  secret_equal(pass, strlen(pass), sb->yk_secret, strlen(sb->yk_secret));
        MHD_free(user);
        MHD_free(pass);
        return ok;
}

static void iso_now(char *buf, size_t size) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static bool currency_known(const char *c) {
        static const char *const known[] = { "RUB", "USD", "EUR", "BYN", "KZT", "UZS", "TRY", "AMD", "AZN", "GEL",
                                             "KGS", "MDL", "TJS", "UAH", "CNY" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(c, known[i]))
                        return true;
        return false;
}

static ApiReply create_payment(Sandbox *sb, const ApiRequest *req) {
        const char *key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Idempotence-Key");
        json_object *amount, *o, *conf, *confirmation = NULL, *metadata;
        const char *value, *currency, *description = json_get_string(req->params, "description");
        char created[40], url[200];
        int64_t minor;
        YkPayment *p;

        if (isempty(key))
                return yk_error(400, "invalid_request", "Idempotence key is missing", "Idempotence-Key");
        if (strlen(key) > 64)
                return yk_error(400, "invalid_request", "Idempotence key is too long", "Idempotence-Key");
        /* The same key with the same data (as JSON: key order and spacing do not count) is the same
         * payment, whatever it became since; with other data it is an error. */
        for (p = sb->yk_payments; p; p = p->next)
                if (streq(p->idempotence_key, key)) {
                        json_object *before = NULL;
                        bool same = json_parse(p->request_body, strlen(p->request_body), &before) == 0 &&
                                    json_object_equal(before, req->params);
                        json_object_put(before);
                        if (!same)
                                return yk_error(400, "invalid_request", "Idempotence key duplicated", "Idempotence-Key");
                        return api_reply(200, json_object_get(p->object));
                }
        if (!json_object_object_get_ex(req->params, "amount", &amount) || !json_object_is_type(amount, json_type_object))
                return yk_error(400, "invalid_request", "Missing required parameter 'amount'", "amount");
        value = json_get_string(amount, "value");
        currency = json_get_string(amount, "currency");
        /* YooKassa takes an amount with exactly two decimals, in a currency it knows. */
        if (!value || strspn(value, "0123456789") == 0 || value[strspn(value, "0123456789")] != '.' ||
            strlen(value) != strspn(value, "0123456789") + 3 || money_parse(value, 2, &minor) < 0 || minor <= 0)
                return yk_error(400, "invalid_request", "Invalid amount value", "amount.value");
        if (!currency || !currency_known(currency))
                return yk_error(400, "invalid_request", "Invalid amount currency", "amount.currency");
        if (description && strlen(description) > 128)
                return yk_error(400, "invalid_request", "Description is too long", "description");

        p = calloc(1, sizeof *p);
        snprintf(p->id, sizeof p->id, "%08lx-000f-5000-8000-%012lx", random(), random());
        p->idempotence_key = strdup(key);
        p->request_body = strdup(req->body);
        iso_now(created, sizeof created);
        o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "status", json_object_new_string("pending"));
        json_object_object_add(o, "paid", json_object_new_boolean(false));
        json_object_object_add(o, "amount", json_object_get(amount));
        if (json_object_object_get_ex(req->params, "confirmation", &conf) && json_object_is_type(conf, json_type_object)) {
                confirmation = json_object_new_object();
                json_object_object_add(confirmation, "type", json_object_new_string("redirect"));
                snprintf(url, sizeof url, "https://yoomoney.ru/api-pages/v2/payment-confirm/epl?orderId=%s", p->id);
                json_object_object_add(confirmation, "confirmation_url", json_object_new_string(url));
                json_object_object_add(o, "confirmation", confirmation);
        }
        json_object_object_add(o, "created_at", json_object_new_string(created));
        if (description)
                json_object_object_add(o, "description", json_object_new_string(description));
        json_object_object_add(o, "metadata", json_object_object_get_ex(req->params, "metadata", &metadata)
                                                      ? json_object_get(metadata) : json_object_new_object());
        json_object_object_add(o, "recipient", json_tokener_parse("{\"account_id\":\"100500\",\"gateway_id\":\"100700\"}"));
        json_object_object_add(o, "refundable", json_object_new_boolean(false));
        json_object_object_add(o, "test", json_object_new_boolean(true));
        p->object = o;
        p->next = sb->yk_payments;
        sb->yk_payments = p;
        return api_reply(200, json_object_get(o));
}

ApiReply yookassa_handle(Sandbox *sb, const ApiRequest *req) {
        const char *id;
        YkPayment *p;

        sandbox_record_call(sb, "yookassa", req->path);
        if (!authorised(sb, req))
                return yk_error(401, "invalid_credentials", "Authentication by given credentials failed", NULL);
        if (streq(req->path, "/v3/payments")) {
                if (!streq(req->method, "POST"))
                        return yk_error(405, "invalid_request", "Method not allowed", NULL);
                return create_payment(sb, req);
        }
        if ((id = startswith(req->path, "/v3/payments/")) && !strchr(id, '/')) {
                if (!streq(req->method, "GET"))
                        return yk_error(405, "invalid_request", "Method not allowed", NULL);
                p = payment_find(sb, id);
                if (!p)
                        return yk_error(404, "not_found", "Incorrect payment_id. Payment doesn't exist or access denied", "payment_id");
                return api_reply(200, json_object_get(p->object));
        }
        if (streq(req->path, "/v3/me")) {
                json_object *me = json_object_new_object();
                json_object_object_add(me, "account_id", json_object_new_string(sb->yk_shop_id));
                json_object_object_add(me, "test", json_object_new_boolean(true));
                json_object_object_add(me, "status", json_object_new_string("enabled"));
                return api_reply(200, me);
        }
        return yk_error(404, "not_found", "Not found", NULL);
}

static void on_notified(HttpClient *c, const HttpResponse *r, void *userdata) {
        (void) c, (void) userdata;
        if (r->error != 0 || r->status != 200)
                log_warning("YooKassa notification answered %ld (error %d).", r->status, r->error);
}

int yookassa_trigger(Sandbox *sb, const char *id, const char *outcome, json_object **ret) {
        YkPayment *p = payment_find(sb, id);
        json_object *n;
        const char *event;
        char when[40];

        if (!p)
                return -ENOENT;
        iso_now(when, sizeof when);
        if (streq(outcome, "succeed")) {
                json_object_object_add(p->object, "status", json_object_new_string("succeeded"));
                json_object_object_add(p->object, "paid", json_object_new_boolean(true));
                json_object_object_add(p->object, "captured_at", json_object_new_string(when));
                event = "payment.succeeded";
        } else if (streq(outcome, "cancel")) {
                json_object_object_add(p->object, "status", json_object_new_string("canceled"));
                json_object_object_add(p->object, "cancellation_details",
                                       json_tokener_parse("{\"party\":\"yoo_money\",\"reason\":\"expired_on_confirmation\"}"));
                event = "payment.canceled";
        } else
                return -EINVAL;
        if (sb->yk_notify_url) {
                const char *headers[] = { "Content-Type: application/json", NULL };
                n = json_object_new_object();
                json_object_object_add(n, "type", json_object_new_string("notification"));
                json_object_object_add(n, "event", json_object_new_string(event));
                json_object_object_add(n, "object", json_object_get(p->object));
                const char *body = json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN);
                (void) http_client_request(sb->client, &(HttpRequest) { .method = "POST", .url = sb->yk_notify_url,
                                                                        .headers = headers, .body = body,
                                                                        .body_size = strlen(body) },
                                           on_notified, NULL);
                json_object_put(n);
                sandbox_record_call(sb, "yookassa-notification", event);
        }
        *ret = json_object_get(p->object);
        return 0;
}

void yookassa_free_all(Sandbox *sb) {
        while (sb->yk_payments) {
                YkPayment *p = sb->yk_payments;
                sb->yk_payments = p->next;
                free(p->idempotence_key);
                free(p->request_body);
                json_object_put(p->object);
                free(p);
        }
}

ApiReply yookassa_error(unsigned status, const char *code, const char *description) {
        return yk_error(status, code, description, NULL);
}
