/* SPDX-License-Identifier: MIT */
/* The payment page a payer opens in a browser: the url of a Heleket invoice (/pay/<uuid>) and the
 * confirmation_url of a YooKassa payment (/pay/yookassa/<id>). It shows what is to be paid and
 * where it stands, with a button for each thing a payer (or time) can do to it: pay, pay short or
 * over, cancel, let it expire. A press (a form POST with "outcome") does what the control API's
 * trigger does, webhook included, and shows the page again. */

#include <stdio.h>

#include "json-util.h"
#include "sandbox.h"

typedef struct Action {
        const char *outcome, *label;
} Action;

static const Action heleket_actions[] = {
        { "pay", "Pay in full" }, { "pay-short", "Pay half" }, { "pay-over", "Pay 10 % more" },
        { "expire", "Let it expire" }, { "fail", "Make it fail" },
};

static const Action yookassa_actions[] = {
        { "succeed", "Pay" }, { "cancel", "Cancel" }, { "expire", "Let it expire" },
};

static void row(struct printbuf *out, const char *name, const char *value) {
        if (!value)
                return;
        printbuf_strappend(out, "<tr><th>");
        printbuf_html_escaped(out, name);
        printbuf_strappend(out, "</th><td>");
        printbuf_html_escaped(out, value);
        printbuf_strappend(out, "</td></tr>\n");
}

/* The page of @o (an invoice or a payment), with @note (the outcome of a press, or NULL). */
static char *render(const char *title, const char *path, json_object *o, bool yookassa, bool final, const char *note) {
        struct printbuf *out = printbuf_new();
        json_object *amount = yookassa ? json_object_object_get(o, "amount") : o;
        const Action *actions = yookassa ? yookassa_actions : heleket_actions;
        size_t n = yookassa ? ELEMENTSOF(yookassa_actions) : ELEMENTSOF(heleket_actions);
        const char *return_url = yookassa ? json_get_string(json_object_object_get(o, "confirmation"), "return_url") : NULL;
        char *html;

        if (!out)
                return NULL;
        printbuf_strappend(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
        printbuf_html_escaped(out, title);
        printbuf_strappend(out, "</title></head>\n<body>\n<h1>");
        printbuf_html_escaped(out, title);
        printbuf_strappend(out, "</h1>\n");
        if (note) {
                printbuf_strappend(out, "<p class=\"note\">");
                printbuf_html_escaped(out, note);
                printbuf_strappend(out, "</p>\n");
        }
        printbuf_strappend(out, "<table>\n");
        row(out, "Amount", json_get_string(amount, yookassa ? "value" : "amount"));
        row(out, "Currency", json_get_string(amount, "currency"));
        row(out, yookassa ? "Payment" : "Order", json_get_string(o, yookassa ? "id" : "order_id"));
        row(out, "Description", json_get_string(o, "description"));
        row(out, "Paid so far", yookassa ? NULL : json_get_string(o, "payment_amount"));
        row(out, "Status", json_get_string(o, yookassa ? "status" : "payment_status"));
        printbuf_strappend(out, "</table>\n");
        if (!final) {
                printbuf_strappend(out, "<form method=\"post\" action=\"");
                printbuf_html_escaped(out, path);
                printbuf_strappend(out, "\">\n");
                for (size_t i = 0; i < n; i++) {
                        printbuf_strappend(out, "<button name=\"outcome\" value=\"");
                        printbuf_html_escaped(out, actions[i].outcome);
                        printbuf_strappend(out, "\">");
                        printbuf_html_escaped(out, actions[i].label);
                        printbuf_strappend(out, "</button>\n");
                }
                printbuf_strappend(out, "</form>\n");
        }
        if (return_url) {
                printbuf_strappend(out, "<p><a href=\"");
                printbuf_html_escaped(out, return_url);
                printbuf_strappend(out, "\">Back to the shop</a></p>\n");
        }
        printbuf_strappend(out, "</body></html>\n");
        html = strdup(out->buf);
        printbuf_free(out);
        return html;
}

bool sandbox_page(Sandbox *sb, const ApiRequest *req, unsigned *ret_status, char **ret_html) {
        const char *id = startswith(req->path, "/pay/"), *outcome = json_get_string(req->params, "outcome");
        bool yookassa = false, final;
        json_object *o = NULL, *after = NULL;
        char note[160] = "";
        int r = 0;

        if (!id)
                return false;
        if (startswith(id, "yookassa/")) {
                yookassa = true;
                id += strlen("yookassa/");
        }
        if (streq(req->method, "POST") && outcome) {
                r = yookassa ? yookassa_trigger(sb, id, outcome, NULL, true, &after) : heleket_trigger(sb, id, outcome, true, &after);
                json_object_put(after);
                if (r == -EBUSY)
                        snprintf(note, sizeof note, "This payment is over: it takes no more.");
                else if (r < 0 && r != -ENOENT)
                        snprintf(note, sizeof note, "The sandbox could not do that.");
                else if (r == 0)
                        snprintf(note, sizeof note, "Done: %s.", outcome);
        } else if (!streq(req->method, "GET") && !streq(req->method, "POST")) {
                *ret_status = 405;
                *ret_html = strdup("<!DOCTYPE html><p>Method not allowed</p>\n");
                return true;
        }
        o = yookassa ? yookassa_payment(sb, id) : heleket_invoice(sb, id);
        if (!o) {
                *ret_status = 404;
                *ret_html = strdup("<!DOCTYPE html><p>No such payment</p>\n");
                return true;
        }
        final = yookassa ? !streq_ptr(json_get_string(o, "status"), "pending")
                         : json_object_get_boolean(json_object_object_get(o, "is_final"));
        *ret_html = render(yookassa ? "YooKassa (sandbox)" : "Heleket (sandbox)", req->path, o, yookassa, final,
                           note[0] ? note : NULL);
        *ret_status = *ret_html ? 200 : 500;
        json_object_put(o);
        return true;
}
