// SPDX-License-Identifier: MIT
// A Heleket client signing as Heleket's PHP SDK signs: the body is PHP's
// json_encode($data, JSON_UNESCAPED_UNICODE) (slashes escaped, Unicode kept) and the header sign
// is md5(base64(body) . key), with the merchant header. Invoices created, read back and paid;
// validation errors and bad signatures. Environment: SANDBOX, MERCHANT, KEY.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

const { SANDBOX, MERCHANT, KEY } = process.env;

// PHP's json_encode with JSON_UNESCAPED_UNICODE: JSON.stringify's output with "/" escaped.
const phpJson = (data) => JSON.stringify(data).replace(/\//g, "\\/");

async function heleket(path, data, key = KEY) {
        const body = phpJson(data);
        const sign = createHash("md5").update(Buffer.from(body).toString("base64") + key).digest("hex");
        const r = await fetch(SANDBOX + path, {
                method: "POST", body, headers: { "Content-Type": "application/json", merchant: MERCHANT, sign },
        });
        return [r.status, await r.json()];
}

const invoice = { amount: "4.79", currency: "USD", order_id: "st-conf-1", lifetime: 3600,
                  url_callback: "https://shop.example/pay/heleket", additional_data: "250 звёзд / Stars" };
let [status, r] = await heleket("/v1/payment", invoice);
assert.equal(status, 200, JSON.stringify(r));
assert.equal(r.state, 0);
const created = r.result;
assert.equal(created.order_id, "st-conf-1");
assert.equal(created.payment_status, "check");
assert.equal(created.additional_data, "250 звёзд / Stars");
assert.equal(created.is_final, false);
for (const field of ["uuid", "amount", "currency", "address", "url", "expired_at", "is_payment_multiple", "created_at"])
        assert(field in created, field);
// order_id is the idempotency key.
[status, r] = await heleket("/v1/payment", invoice);
assert.equal(r.result.uuid, created.uuid);
// Read back by uuid and by order_id.
assert.equal((await heleket("/v1/payment/info", { uuid: created.uuid }))[1].result.order_id, "st-conf-1");
assert.equal((await heleket("/v1/payment/info", { order_id: "st-conf-1" }))[1].result.uuid, created.uuid);
// Paid short, then in full.
await fetch(`${SANDBOX}/sandbox/heleket/st-conf-1/pay-short`, { method: "POST" });
r = (await heleket("/v1/payment/info", { uuid: created.uuid }))[1].result;
assert.equal(r.payment_status, "wrong_amount_waiting");
assert.equal(r.is_final, false);
await fetch(`${SANDBOX}/sandbox/heleket/st-conf-1/pay`, { method: "POST" });
r = (await heleket("/v1/payment/info", { uuid: created.uuid }))[1].result;
assert.equal(r.payment_status, "paid");
assert.equal(r.payment_amount, "4.79");
assert.equal(r.is_final, true);
// Refusals: a wrong signature, every bad field at once, an unknown invoice.
[status, r] = await heleket("/v1/payment", invoice, "not-the-key");
assert.equal(status, 401);
assert.equal(r.state, 1);
[status, r] = await heleket("/v1/payment", { amount: "-1", order_id: "bad id" });
assert.equal(status, 422);
assert.deepEqual(Object.keys(r.errors).sort(), ["amount", "currency", "order_id"]);
[status, r] = await heleket("/v1/payment/info", { order_id: "no-such-order" });
assert.equal(status, 404);
assert.equal(r.state, 1);
console.log("Heleket (PHP SDK signing): every check passed");
