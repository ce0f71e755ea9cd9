// SPDX-License-Identifier: MIT
// @a2seven/yoo-checkout, a widely used YooKassa client, against tgfleet-sandbox: payments created
// with an Idempotence-Key (the same data again is the same payment, other data an error), read
// back, paid, and the errors in YooKassa's shape. Environment: SANDBOX, SHOP_ID, SECRET,
// NODE_MODULES.
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(process.env.NODE_MODULES + "/");
const { YooCheckout } = require("@a2seven/yoo-checkout");
const { SANDBOX, SHOP_ID, SECRET } = process.env;

function checkout(secret = SECRET) {
        const c = new YooCheckout({ shopId: SHOP_ID, secretKey: secret });
        c.root = SANDBOX + "/v3";
        return c;
}

// The call fails with YooKassa's error object and HTTP status.
async function refused(call, status, code) {
        try {
                await call;
        } catch (e) {
                assert.equal(e.response?.status, status, String(e));
                assert.equal(e.response.data.type, "error");
                assert.equal(e.response.data.code, code);
                assert(e.response.data.id && e.response.data.description, JSON.stringify(e.response.data));
                return e.response.data;
        }
        assert.fail(`no error, expected ${status} ${code}`);
}

const yk = checkout();
const order = {
        amount: { value: "299.00", currency: "RUB" },
        confirmation: { type: "redirect", return_url: "https://t.me/sales_bot" },
        capture: true,
        description: "30 days",
        metadata: { client: "42" },
};
const payment = await yk.createPayment(order, "key-1");
assert.equal(payment.status, "pending");
assert.equal(payment.paid, false);
assert.deepEqual(payment.amount, { value: "299.00", currency: "RUB" });
assert.equal(payment.confirmation.type, "redirect");
assert.match(payment.confirmation.confirmation_url, /^https?:\/\//);
assert.deepEqual(payment.metadata, { client: "42" });
// The same key and the same data, written in another order: the same payment.
const again = await yk.createPayment({ metadata: { client: "42" }, description: "30 days", capture: true,
                                       confirmation: order.confirmation, amount: order.amount }, "key-1");
assert.equal(again.id, payment.id);
await refused(yk.createPayment({ ...order, amount: { value: "799.00", currency: "RUB" } }, "key-1"), 400, "invalid_request");
await refused(yk.createPayment({ ...order, amount: { value: "1.5", currency: "RUB" } }, "key-2"), 400, "invalid_request");
await refused(yk.createPayment({ description: "no amount" }, "key-3"), 400, "invalid_request");
assert.equal((await yk.getPayment(payment.id)).id, payment.id);
await refused(yk.getPayment("00000000-000f-5000-8000-000000000000"), 404, "not_found");
await refused(checkout("wrong").getPayment(payment.id), 401, "invalid_credentials");
// (getShop is refused by the library itself without an OAuth token.)

// Paid (as the payer would, through the control API): read back succeeded.
const r = await fetch(`${SANDBOX}/sandbox/yookassa/${payment.id}/succeed`, { method: "POST" });
assert.equal(r.status, 200);
const paid = await yk.getPayment(payment.id);
assert.equal(paid.status, "succeeded");
assert.equal(paid.paid, true);
// Replaying the first request still answers with the payment as it is now.
assert.equal((await yk.createPayment(order, "key-1")).status, "succeeded");
// Two-stage: held, captured for less, refunded; another held and cancelled.
const held = await yk.createPayment({ ...order, capture: false }, "key-10");
await fetch(`${SANDBOX}/sandbox/yookassa/${held.id}/succeed`, { method: "POST" });
assert.equal((await yk.getPayment(held.id)).status, "waiting_for_capture");
const captured = await yk.capturePayment(held.id, { amount: { value: "250.00", currency: "RUB" } }, "key-11");
assert.equal(captured.status, "succeeded");
assert.equal(captured.amount.value, "250.00");
const refund = await yk.createRefund({ payment_id: held.id, amount: { value: "100.00", currency: "RUB" } }, "key-12");
assert.equal(refund.status, "succeeded");
assert.equal((await yk.getRefund(refund.id)).payment_id, held.id);
await refused(yk.createRefund({ payment_id: held.id, amount: { value: "200.00", currency: "RUB" } }, "key-13"), 400,
              "invalid_request");
const other = await yk.createPayment({ ...order, capture: false }, "key-14");
await fetch(`${SANDBOX}/sandbox/yookassa/${other.id}/succeed`, { method: "POST" });
assert.equal((await yk.cancelPayment(other.id, "key-15")).status, "canceled");
// The list with a filter.
const list = await yk.getPaymentList({ status: "succeeded", limit: 10 });
assert.deepEqual(list.items.map((p) => p.id).sort(), [payment.id, held.id].sort());
console.log("yoo-checkout: every check passed");
