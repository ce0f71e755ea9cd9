/* SPDX-License-Identifier: MIT */
/* YooKassa API v3 as reference/protocols.md §2 describes it: HTTP Basic (shop id : secret key),
 * JSON bodies only (415 otherwise), an Idempotence-Key on every POST (the same key and the same
 * data, compared as JSON: the first answer's object as it is now; other data: an error), payments
 * one-stage (capture: true) or two-stage (waiting_for_capture, then capture or cancel, or expiry),
 * redirect and embedded confirmations, saved payment methods, refunds, the payment list with its
 * filters, error bodies {"type":"error",…}, and notifications {"type":"notification","event":…,
 * "object":…} for every change. What a payer does is triggered from the control API. */

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "creds.h"
#include "json-util.h"
#include "log.h"
#include "money.h"
#include "sandbox.h"
#include "utf8.h"

/* A payment or a refund, and the request that made it. */
struct YkPayment {
        YkPayment *next;
        char id[37];
        bool refund;
        char *idempotence_key;
        json_object *request;    /* the request's data, to tell a repeat from a misuse of the key */
        json_object *object;     /* the object as the API returns it */
        bool capture;            /* one-stage */
        bool save_method;        /* save_payment_method: the method stays usable once paid */
        char *method_refused;    /* why charges to the saved method are refused from now on
                                  * (permission_revoked: the payer withdrew it; insufficient_funds, …:
                                  * the bank says no), or NULL */
        const char *method_of;   /* payment_method_id it was charged to, or NULL */
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

static YkPayment *object_find(Sandbox *sb, const char *id, bool refund) {
        for (YkPayment *p = sb->yk_payments; p && id; p = p->next)
                if (streq(p->id, id) && p->refund == refund)
                        return p;
        return NULL;
}

static const char *status_of(const YkPayment *p) {
        return json_get_string(p->object, "status") ?: "";
}

static bool authorised(Sandbox *sb, const ApiRequest *req) {
        char *pass = NULL, *user = MHD_basic_auth_get_username_password(req->conn, &pass);
        bool ok = user && pass && sb->yk_shop_id && sb->yk_secret && streq(user, sb->yk_shop_id) &&
                  secret_equal(pass, strlen(pass), sb->yk_secret, strlen(sb->yk_secret));
        MHD_free(user);
        MHD_free(pass);
        return ok;
}

/* ISO 8601 UTC with milliseconds, @offset_sec from now. */
static json_object *iso_time(int64_t offset_sec) {
        struct timespec ts;
        struct tm tm;
        char buf[40];

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += offset_sec;
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
        return json_object_new_string(buf);
}

static void set(json_object *o, const char *key, json_object *value) {
        json_object_object_add(o, key, value);
}

static bool currency_known(const char *c) {
        static const char *const known[] = { "RUB", "USD", "EUR", "BYN", "KZT", "UZS", "TRY", "AMD", "AZN", "GEL",
                                             "KGS", "MDL", "TJS", "UAH", "CNY" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(c, known[i]))
                        return true;
        return false;
}

/* An amount as YooKassa takes it: {"value": "<digits>.<2 digits>", "currency": known}. Returns
 * NULL or the error. */
static ApiReply amount_check(json_object *amount, const char *field, int64_t *ret_minor) {
        const char *value = json_get_string(amount, "value"), *currency = json_get_string(amount, "currency");
        char parameter[64];
        size_t digits = value ? strspn(value, "0123456789") : 0;

        if (!json_object_is_type(amount, json_type_object)) {
                snprintf(parameter, sizeof parameter, "Missing required parameter '%s'", field);
                return yk_error(400, "invalid_request", parameter, field);
        }
        snprintf(parameter, sizeof parameter, "%s.value", field);
        if (!value || digits == 0 || value[digits] != '.' || strlen(value) != digits + 3 ||
            money_parse(value, 2, ret_minor) < 0 || *ret_minor <= 0)
                return yk_error(400, "invalid_request", "Invalid amount value", parameter);
        snprintf(parameter, sizeof parameter, "%s.currency", field);
        if (!currency || !currency_known(currency))
                return yk_error(400, "invalid_request", "Invalid amount currency", parameter);
        return (ApiReply) {};
}

/* A 54-FZ receipt as a shop that sends them must: a customer's e-mail or phone, items whose
 * amounts (times their quantities) add up to the payment's @minor in its currency, each with a
 * description of at most 128 characters and a vat_code of 1-12; tax_system_code, when given,
 * 1-6. Returns NULL or the error, YooKassa's own. */
static ApiReply receipt_check(json_object *receipt, int64_t minor, const char *currency) {
        json_object *customer = json_object_object_get(receipt, "customer"), *items, *v;
        const char *email = json_get_string(customer, "email"), *phone = json_get_string(customer, "phone");
        int64_t sum = 0;

        if (!json_object_is_type(receipt, json_type_object) || (isempty(email) && isempty(phone)) ||
            !json_object_object_get_ex(receipt, "items", &items) || !json_object_is_type(items, json_type_array) ||
            json_object_array_length(items) == 0)
                return yk_error(400, "invalid_request", "Receipt is missing or illegal", "receipt");
        if (phone && (strlen(phone) < 11 || strlen(phone) > 15 || strspn(phone, "0123456789") != strlen(phone)))
                return yk_error(400, "invalid_request", "Invalid receipt customer phone", "receipt.customer.phone");
        for (size_t i = 0; i < json_object_array_length(items); i++) {
                json_object *item = json_object_array_get_idx(items, i);
                const char *description = json_get_string(item, "description"), *quantity = json_get_string(item, "quantity");
                int64_t item_minor, q;
                if ((amount_check(json_object_object_get(item, "amount"), "receipt.items.amount", &item_minor)).json ||
                    !streq_ptr(json_get_string(json_object_object_get(item, "amount"), "currency"), currency) ||
                    isempty(description) || utf8_chars(description) > 128 || !quantity || money_parse(quantity, 2, &q) < 0 ||
                    q <= 0 || !json_object_object_get_ex(item, "vat_code", &v) || !json_object_is_type(v, json_type_int) ||
                    json_object_get_int(v) < 1 || json_object_get_int(v) > 12)
                        return yk_error(400, "invalid_request", "Receipt is missing or illegal", "receipt.items");
                sum += item_minor * q / 100;
        }
        if (sum != minor)
                return yk_error(400, "invalid_request", "Receipt items amount doesn't match the payment amount", "receipt.items");
        if (json_object_object_get_ex(receipt, "tax_system_code", &v) &&
            (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 || json_object_get_int(v) > 6))
                return yk_error(400, "invalid_request", "Invalid tax_system_code", "receipt.tax_system_code");
        return (ApiReply) {};
}

static json_object *amount_json(int64_t minor, const char *currency) {
        json_object *o = json_object_new_object();
        char value[32];

        (void) money_format(minor, 2, value, sizeof value);
        set(o, "value", json_object_new_string(value));
        set(o, "currency", json_object_new_string(currency));
        return o;
}

static void on_notified(HttpClient *c, const HttpResponse *r, void *userdata) {
        (void) c, (void) userdata;
        if (r->error != 0 || r->status != 200)
                log_warning("YooKassa notification answered %ld (error %d).", r->status, r->error);
}

/* Sends the notification of @event about @object, when the sandbox has somewhere to send it. */
static void notify(Sandbox *sb, const char *event, json_object *object) {
        const char *headers[] = { "Content-Type: application/json", NULL };
        json_object *n;
        const char *body;

        if (!sb->yk_notify_url || sb->yk_mute)
                return;
        n = json_object_new_object();
        set(n, "type", json_object_new_string("notification"));
        set(n, "event", json_object_new_string(event));
        set(n, "object", json_object_get(object));
        body = json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN);
        (void) http_client_request(sb->client, &(HttpRequest) { .method = "POST", .url = sb->yk_notify_url,
                                                                .headers = headers, .body = body,
                                                                .body_size = strlen(body) },
                                   on_notified, NULL);
        json_object_put(n);
        sandbox_record_call(sb, "yookassa-notification", event);
}

/* --- changes -------------------------------------------------------------------------------------- */

static void cancel(Sandbox *sb, YkPayment *p, const char *party, const char *reason) {
        json_object *details = json_object_new_object();

        set(details, "party", json_object_new_string(party));
        set(details, "reason", json_object_new_string(reason));
        set(p->object, "status", json_object_new_string("canceled"));
        set(p->object, "paid", json_object_new_boolean(false));
        set(p->object, "cancellation_details", details);
        json_object_object_del(p->object, "expires_at");
        notify(sb, "payment.canceled", p->object);
}

static void succeed(Sandbox *sb, YkPayment *p, json_object *amount) {
        int64_t minor = 0;

        if (amount)
                set(p->object, "amount", json_object_get(amount));
        (void) money_parse(json_get_string(json_object_object_get(p->object, "amount"), "value"), 2, &minor);
        /* The shop receives the amount less YooKassa's 3.5 %. */
        set(p->object, "income_amount",
            amount_json(minor - minor * 35 / 1000, json_get_string(json_object_object_get(p->object, "amount"), "currency")));
        set(p->object, "status", json_object_new_string("succeeded"));
        set(p->object, "paid", json_object_new_boolean(true));
        set(p->object, "captured_at", iso_time(0));
        set(p->object, "refundable", json_object_new_boolean(true));
        set(p->object, "refunded_amount", amount_json(0, json_get_string(json_object_object_get(p->object, "amount"), "currency")));
        json_object_object_del(p->object, "expires_at");
        notify(sb, "payment.succeeded", p->object);
}

/* The payer paid: the card is authorised; a one-stage payment is captured at once. */
static void authorise(Sandbox *sb, YkPayment *p) {
        json_object *method = json_object_new_object(), *card = json_object_new_object();

        set(card, "first6", json_object_new_string("555555"));
        set(card, "last4", json_object_new_string("4444"));
        set(card, "expiry_month", json_object_new_string("12"));
        set(card, "expiry_year", json_object_new_string("2030"));
        set(card, "card_type", json_object_new_string("MasterCard"));
        set(method, "type", json_object_new_string("bank_card"));
        set(method, "id", json_object_new_string(p->method_of ?: p->id));
        set(method, "saved", json_object_new_boolean(p->save_method || p->method_of));
        set(method, "title", json_object_new_string("Bank card *4444"));
        set(method, "card", card);
        set(p->object, "payment_method", method);
        set(p->object, "authorization_details",
            json_tokener_parse("{\"rrn\":\"603668680243\",\"auth_code\":\"000000\",\"three_d_secure\":{\"applied\":false}}"));
        if (p->capture)
                return succeed(sb, p, NULL);
        set(p->object, "status", json_object_new_string("waiting_for_capture"));
        set(p->object, "paid", json_object_new_boolean(true));
        set(p->object, "expires_at", iso_time(7 * 24 * 3600));
        notify(sb, "payment.waiting_for_capture", p->object);
}

/* --- API -------------------------------------------------------------------------------------------- */

/* The Idempotence-Key of @req: NULL with *@error set when it is missing or too long. With a
 * repeat of an earlier request, *@repeat is the object it made. */
static const char *idempotence(Sandbox *sb, const ApiRequest *req, bool refund, ApiReply *error, YkPayment **repeat) {
        const char *key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Idempotence-Key");

        *repeat = NULL;
        if (isempty(key)) {
                *error = yk_error(400, "invalid_request", "Idempotence key is missing", "Idempotence-Key");
                return NULL;
        }
        if (strlen(key) > 64) {
                *error = yk_error(400, "invalid_request", "Idempotence key is too long", "Idempotence-Key");
                return NULL;
        }
        /* The same key with the same data (as JSON: key order and spacing do not count) is the same
         * request, whatever its object became since; with other data it is an error. */
        for (YkPayment *p = sb->yk_payments; p; p = p->next)
                if (p->refund == refund && streq(p->idempotence_key, key)) {
                        if (!json_object_equal(p->request, req->params)) {
                                *error = yk_error(400, "invalid_request", "Idempotence key duplicated", "Idempotence-Key");
                                return NULL;
                        }
                        *repeat = p;
                }
        return key;
}

static YkPayment *object_new(Sandbox *sb, const ApiRequest *req, const char *key, bool refund) {
        YkPayment *p = calloc(1, sizeof *p);

        snprintf(p->id, sizeof p->id, "%08lx-%s-5000-8000-%012lx", random(), refund ? "0015" : "000f", random());
        p->refund = refund;
        p->idempotence_key = strdup(key);
        p->request = req ? json_object_get(req->params) : json_object_new_object();
        p->object = json_object_new_object();
        p->next = sb->yk_payments;
        sb->yk_payments = p;
        return p;
}

static ApiReply create_payment(Sandbox *sb, const ApiRequest *req) {
        const char *description = json_get_string(req->params, "description"), *key, *method_id;
        json_object *amount = json_object_object_get(req->params, "amount"), *conf, *confirmation = NULL, *metadata, *v;
        YkPayment *p, *repeat, *saved = NULL;
        char url[300];
        int64_t minor;
        ApiReply e = {};

        if (!(key = idempotence(sb, req, false, &e, &repeat)))
                return e;
        if (repeat)
                return api_reply(200, json_object_get(repeat->object));
        if ((e = amount_check(amount, "amount", &minor)).json)
                return e;
        if (description && utf8_chars(description) > 128)
                return yk_error(400, "invalid_request", "Description is too long", "description");
        if ((sb->yk_receipts || json_object_object_get_ex(req->params, "receipt", NULL)) &&
            (e = receipt_check(json_object_object_get(req->params, "receipt"), minor,
                               json_get_string(amount, "currency"))).json)
                return e;
        method_id = json_get_string(req->params, "payment_method_id");
        if (method_id) {
                saved = object_find(sb, method_id, false);
                if (!saved || !saved->save_method || !streq(status_of(saved), "succeeded"))
                        return yk_error(400, "invalid_request", "Payment method with this id doesn't exist or can't be used",
                                        "payment_method_id");
        }
        conf = json_object_object_get(req->params, "confirmation");
        if (conf) {
                const char *type = json_get_string(conf, "type");
                confirmation = json_object_new_object();
                if (streq_ptr(type, "redirect")) {
                        if (isempty(json_get_string(conf, "return_url"))) {
                                json_object_put(confirmation);
                                return yk_error(400, "invalid_request", "Missing required parameter 'return_url'",
                                                "confirmation.return_url");
                        }
                        set(confirmation, "type", json_object_new_string("redirect"));
                        set(confirmation, "return_url", json_object_new_string(json_get_string(conf, "return_url")));
                } else if (streq_ptr(type, "embedded")) {
                        set(confirmation, "type", json_object_new_string("embedded"));
                } else {
                        json_object_put(confirmation);
                        return yk_error(400, "invalid_request", "Invalid confirmation type", "confirmation.type");
                }
        }

        p = object_new(sb, req, key, false);
        p->capture = json_object_object_get_ex(req->params, "capture", &v) && json_object_get_boolean(v);
        p->save_method = json_object_object_get_ex(req->params, "save_payment_method", &v) && json_object_get_boolean(v);
        p->method_of = saved ? saved->id : NULL;
        set(p->object, "id", json_object_new_string(p->id));
        set(p->object, "status", json_object_new_string("pending"));
        set(p->object, "paid", json_object_new_boolean(false));
        set(p->object, "amount", json_object_get(amount));
        if (confirmation) {
                if (json_object_object_get_ex(confirmation, "return_url", NULL)) {
                        /* The sandbox's own payment page, where the payer pays. */
                        char base[200];
                        sandbox_base_url(req, base, sizeof base);
                        snprintf(url, sizeof url, "%s/pay/yookassa/%s", base, p->id);
                        set(confirmation, "confirmation_url", json_object_new_string(url));
                } else {
                        snprintf(url, sizeof url, "ct-%s", p->id);
                        set(confirmation, "confirmation_token", json_object_new_string(url));
                }
                set(p->object, "confirmation", confirmation);
        }
        set(p->object, "created_at", iso_time(0));
        if (description)
                set(p->object, "description", json_object_new_string(description));
        set(p->object, "metadata", json_object_object_get_ex(req->params, "metadata", &metadata)
                                           ? json_object_get(metadata) : json_object_new_object());
        json_object *recipient = json_object_new_object();
        set(recipient, "account_id", json_object_new_string(sb->yk_shop_id));
        set(recipient, "gateway_id", json_object_new_string("100700"));
        set(p->object, "recipient", recipient);
        set(p->object, "refundable", json_object_new_boolean(false));
        set(p->object, "test", json_object_new_boolean(true));
        if (json_object_object_get_ex(req->params, "receipt", NULL))
                set(p->object, "receipt_registration", json_object_new_string("pending"));
        /* A saved method is charged with no one to confirm: paid at once, or refused. */
        if (saved) {
                if (saved->method_refused)
                        cancel(sb, p, streq(saved->method_refused, "permission_revoked") ? "yoo_money" : "payment_network",
                               saved->method_refused);
                else
                        authorise(sb, p);
        }
        return api_reply(200, json_object_get(p->object));
}

/* POST /v3/payments/{id}/capture or …/cancel: only for a payment waiting for capture. */
static ApiReply capture_or_cancel(Sandbox *sb, const ApiRequest *req, YkPayment *p, bool capture) {
        YkPayment *repeat;
        ApiReply e = {};
        json_object *amount = json_object_object_get(req->params, "amount");
        int64_t minor, was;

        if (!idempotence(sb, req, false, &e, &repeat))
                return e;
        if (!streq(status_of(p), "waiting_for_capture")) {
                /* Repeating the call that finished it answers as it did. */
                if (streq(status_of(p), capture ? "succeeded" : "canceled"))
                        return api_reply(200, json_object_get(p->object));
                return yk_error(400, "invalid_request", capture ? "Payment is not waiting for capture"
                                                                : "Payment can't be canceled in its status", "payment_id");
        }
        if (capture && amount) {
                if ((e = amount_check(amount, "amount", &minor)).json)
                        return e;
                (void) money_parse(json_get_string(json_object_object_get(p->object, "amount"), "value"), 2, &was);
                if (minor > was || !streq_ptr(json_get_string(amount, "currency"),
                                              json_get_string(json_object_object_get(p->object, "amount"), "currency")))
                        return yk_error(400, "invalid_request", "Capture amount is greater than the payment amount",
                                        "amount");
        }
        if (capture)
                succeed(sb, p, amount);
        else
                cancel(sb, p, "merchant", "canceled_by_merchant");
        return api_reply(200, json_object_get(p->object));
}

/* Refunds @minor (@amount) of the succeeded payment @p, asked by @req with @key (NULL: from the
 * control API), and notifies refund.succeeded. */
static YkPayment *refund(Sandbox *sb, const ApiRequest *req, const char *key, YkPayment *p, json_object *amount,
                         int64_t minor, const char *description) {
        const char *currency = json_get_string(amount, "currency");
        int64_t paid = 0, before = 0;
        YkPayment *r;

        (void) money_parse(json_get_string(json_object_object_get(p->object, "refunded_amount"), "value"), 2, &before);
        (void) money_parse(json_get_string(json_object_object_get(p->object, "amount"), "value"), 2, &paid);
        r = object_new(sb, req, key, true);
        set(r->object, "id", json_object_new_string(r->id));
        set(r->object, "payment_id", json_object_new_string(p->id));
        set(r->object, "status", json_object_new_string("succeeded"));
        set(r->object, "created_at", iso_time(0));
        set(r->object, "amount", json_object_get(amount));
        if (description)
                set(r->object, "description", json_object_new_string(description));
        set(p->object, "refunded_amount", amount_json(before + minor, currency));
        set(p->object, "refundable", json_object_new_boolean(before + minor < paid));
        notify(sb, "refund.succeeded", r->object);
        return r;
}

static ApiReply create_refund(Sandbox *sb, const ApiRequest *req) {
        json_object *amount = json_object_object_get(req->params, "amount"), *refunded;
        const char *key, *description = json_get_string(req->params, "description");
        YkPayment *p, *r, *repeat;
        int64_t minor, paid = 0, before = 0;
        ApiReply e = {};

        if (!(key = idempotence(sb, req, true, &e, &repeat)))
                return e;
        if (repeat)
                return api_reply(200, json_object_get(repeat->object));
        p = object_find(sb, json_get_string(req->params, "payment_id"), false);
        if (!p)
                return yk_error(400, "invalid_request", "Payment with this payment_id doesn't exist", "payment_id");
        if ((e = amount_check(amount, "amount", &minor)).json)
                return e;
        if (!streq(status_of(p), "succeeded"))
                return yk_error(400, "invalid_request", "Payment is not succeeded: it can't be refunded", "payment_id");
        refunded = json_object_object_get(p->object, "refunded_amount");
        (void) money_parse(json_get_string(refunded, "value"), 2, &before);
        (void) money_parse(json_get_string(json_object_object_get(p->object, "amount"), "value"), 2, &paid);
        if (minor > paid - before ||
            !streq_ptr(json_get_string(amount, "currency"), json_get_string(json_object_object_get(p->object, "amount"), "currency")))
                return yk_error(400, "invalid_request", "Refund amount is greater than the amount left to refund", "amount");

        r = refund(sb, req, key, p, amount, minor, description);
        return api_reply(200, json_object_get(r->object));
}

/* GET /v3/payments: newest first, filtered by status and created_at.gte|gt|lte|lt, at most limit
 * (1-100, default 10). */
static ApiReply list_payments(Sandbox *sb, const ApiRequest *req) {
        static const char *const bounds[] = { "created_at.gte", "created_at.gt", "created_at.lte", "created_at.lt" };
        const char *status = json_get_string(req->params, "status"), *limit_text = json_get_string(req->params, "limit");
        json_object *o = json_object_new_object(), *items = json_object_new_array();
        long limit = 10;
        char *end;

        if (limit_text) {
                limit = strtol(limit_text, &end, 10);
                if (*end || limit < 1 || limit > 100) {
                        json_object_put(o);
                        json_object_put(items);
                        return yk_error(400, "invalid_request", "Invalid limit", "limit");
                }
        }
        for (YkPayment *p = sb->yk_payments; p && (long) json_object_array_length(items) < limit; p = p->next) {
                const char *created = json_get_string(p->object, "created_at");
                bool keep = !p->refund && (!status || streq(status, status_of(p)));
                for (size_t i = 0; keep && i < ELEMENTSOF(bounds); i++) {
                        const char *bound = json_get_string(req->params, bounds[i]);
                        int c = bound ? strcmp(created, bound) : 0;
                        keep = !bound || (i == 0 ? c >= 0 : i == 1 ? c > 0 : i == 2 ? c <= 0 : c < 0);
                }
                if (keep)
                        json_object_array_add(items, json_object_get(p->object));
        }
        set(o, "type", json_object_new_string("list"));
        set(o, "items", items);
        return api_reply(200, o);
}

static ApiReply handle(Sandbox *sb, const ApiRequest *req);

/* What the API answers, or, while a fault is set, the fault instead: the call took effect and its
 * answer is lost (a 500: "result unknown"), or is not ready yet (a 202 with retry_after). */
ApiReply yookassa_handle(Sandbox *sb, const ApiRequest *req) {
        ApiReply reply = handle(sb, req);
        unsigned status = sb->yookassa_fault;
        json_object *o;

        if (!status || reply.status == 401)
                return reply;
        json_object_put(reply.json);
        if (--sb->yookassa_faults == 0)
                sb->yookassa_fault = 0;
        if (status >= 500)
                return yk_error(status, "internal_server_error", "Internal server error", NULL);
        o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("processing"));
        json_object_object_add(o, "description", json_object_new_string("Request accepted, but not processed yet"));
        json_object_object_add(o, "retry_after", json_object_new_int(100));
        return api_reply(202, o);
}

static ApiReply handle(Sandbox *sb, const ApiRequest *req) {
        const char *id, *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        char what[64];
        YkPayment *p;

        sandbox_record_call(sb, "yookassa", req->path);
        if (!authorised(sb, req))
                return yk_error(401, "invalid_credentials", "Authentication by given credentials failed", NULL);
        if (streq(req->method, "POST") && !http_content_type_is_json(ct))
                return yk_error(415, "invalid_request", "Content-Type must be application/json", "Content-Type");
        if (streq(req->path, "/v3/payments")) {
                if (streq(req->method, "POST"))
                        return create_payment(sb, req);
                if (streq(req->method, "GET"))
                        return list_payments(sb, req);
                return yk_error(405, "invalid_request", "Method not allowed", NULL);
        }
        if (streq(req->path, "/v3/refunds")) {
                if (!streq(req->method, "POST"))
                        return yk_error(405, "invalid_request", "Method not allowed", NULL);
                return create_refund(sb, req);
        }
        if ((id = startswith(req->path, "/v3/refunds/"))) {
                p = object_find(sb, id, true);
                if (!p)
                        return yk_error(404, "not_found", "Incorrect refund_id. Refund doesn't exist or access denied", "refund_id");
                return api_reply(200, json_object_get(p->object));
        }
        if ((id = startswith(req->path, "/v3/payments/"))) {
                const char *action = strchr(id, '/');
                size_t n = action ? (size_t) (action - id) : strlen(id);
                if (n >= sizeof what)
                        return yk_error(404, "not_found", "Incorrect payment_id. Payment doesn't exist or access denied", "payment_id");
                memcpy(what, id, n);
                what[n] = 0;
                p = object_find(sb, what, false);
                if (!p)
                        return yk_error(404, "not_found", "Incorrect payment_id. Payment doesn't exist or access denied", "payment_id");
                if (!action)
                        return streq(req->method, "GET") ? api_reply(200, json_object_get(p->object))
                                                         : yk_error(405, "invalid_request", "Method not allowed", NULL);
                if (!streq(req->method, "POST"))
                        return yk_error(405, "invalid_request", "Method not allowed", NULL);
                if (streq(action, "/capture") || streq(action, "/cancel"))
                        return capture_or_cancel(sb, req, p, streq(action, "/capture"));
                return yk_error(404, "not_found", "Not found", NULL);
        }
        if (streq(req->path, "/v3/me")) {
                json_object *me = json_object_new_object();
                set(me, "account_id", json_object_new_string(sb->yk_shop_id));
                set(me, "test", json_object_new_boolean(true));
                set(me, "status", json_object_new_string("enabled"));
                return api_reply(200, me);
        }
        return yk_error(404, "not_found", "Not found", NULL);
}

json_object *yookassa_payment(Sandbox *sb, const char *id) {
        YkPayment *p = object_find(sb, id, false);
        return p ? json_object_get(p->object) : NULL;
}

static int trigger(Sandbox *sb, YkPayment *p, const char *outcome, const char *reason) {
        const char *status = status_of(p);

        if (streq(outcome, "revoke") || streq(outcome, "decline")) {
                /* The payer withdrew the saved method, or its bank refuses it (@reason, default
                 * insufficient_funds): later charges to it are refused. */
                char *why = strdup(streq(outcome, "revoke") ? "permission_revoked" : reason ?: "insufficient_funds");
                if (!p->save_method)
                        return free(why), -EINVAL;
                if (!why)
                        return -ENOMEM;
                free(p->method_refused);
                p->method_refused = why;
        } else if (streq(outcome, "succeed")) {
                if (!streq(status, "pending"))
                        return -EBUSY;
                authorise(sb, p);
        } else if (streq(outcome, "cancel")) {
                /* The payer left, or the bank said no (@reason: insufficient_funds, card_expired, …). */
                if (!streq(status, "pending"))
                        return -EBUSY;
                cancel(sb, p, reason ? "payment_network" : "yoo_money", reason ?: "expired_on_confirmation");
        } else if (streq(outcome, "refund")) {
                /* The whole payment given back, as from the merchant's account. */
                json_object *amount = json_object_object_get(p->object, "amount");
                int64_t minor = 0;
                if (!streq(status, "succeeded") || !json_object_get_boolean(json_object_object_get(p->object, "refundable")))
                        return -EBUSY;
                (void) money_parse(json_get_string(amount, "value"), 2, &minor);
                (void) refund(sb, NULL, p->id, p, amount, minor, NULL);
        } else if (streq(outcome, "expire")) {
                /* Not captured in time (or, still pending, not confirmed). */
                if (streq(status, "waiting_for_capture"))
                        cancel(sb, p, "yoo_money", "expired_on_capture");
                else if (streq(status, "pending"))
                        cancel(sb, p, "yoo_money", "expired_on_confirmation");
                else
                        return -EBUSY;
        } else
                return -EINVAL;
        return 0;
}

int yookassa_trigger(Sandbox *sb, const char *id, const char *outcome, const char *reason, bool notify,
                     json_object **ret) {
        YkPayment *p = object_find(sb, id, false);
        int r;

        /* Or the shop's own id for it, its Idempotence-Key: what the payer's chat shows. */
        for (YkPayment *q = sb->yk_payments; !p && q; q = q->next)
                if (!q->refund && streq_ptr(q->idempotence_key, id))
                        p = q;

        if (!p)
                return -ENOENT;
        sb->yk_mute = !notify;
        r = trigger(sb, p, outcome, reason);
        sb->yk_mute = false;
        if (r < 0)
                return r;
        *ret = json_object_get(p->object);
        return 0;
}

void yookassa_free_all(Sandbox *sb) {
        while (sb->yk_payments) {
                YkPayment *p = sb->yk_payments;
                sb->yk_payments = p->next;
                free(p->idempotence_key);
                free(p->method_refused);
                json_object_put(p->request);
                json_object_put(p->object);
                free(p);
        }
}

ApiReply yookassa_error(unsigned status, const char *code, const char *description) {
        return yk_error(status, code, description, NULL);
}
