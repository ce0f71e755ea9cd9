# SPDX-License-Identifier: MIT
"""Subscription payments, enforced by PostgreSQL itself (migrations/0012_subscription_payments.sql):
one open payment per client and plan, only the client's owner pays for it, YooKassa's answer
recorded once, a success extending the client exactly once whoever races to apply it, and a
wrong amount, currency or test flag changing nothing."""

import json
from concurrent.futures import ThreadPoolExecutor

from harness import psql, psql_fails, run_tests, wait_for
from shop import Shop
from test_ledger import migrated
from test_sandbox import yookassa

OWNER = 4242


def client(db, bot_id=777000111, owner=OWNER):
    return int(psql("SELECT id FROM tenant_add('Salon Anna', %d, %d, 'anna_salon_bot', 'Europe/Moscow', 'test')"
                    % (owner, bot_id), db))


def open_payment(db, tenant, pid, days=30, amount=29900, owner=OWNER, save=False):
    return psql("SELECT id || ' ' || status FROM subscription_payment_open('%s', %d, %d, %d, %d, 'RUB', %s)"
                % (pid, tenant, owner, days, amount, "true" if save else "false"), db)


def apply(db, provider_id, pid, status, amount=29900, currency="RUB", test=False, live=False, method="", reason="",
          source="webhook"):
    return psql("SELECT status FROM subscription_payment_apply('%s', '%s', '%s', %d, '%s', %s, %s, '%s', '%s', '%s')"
                % (provider_id, pid, status, amount, currency, str(test).lower(), str(live).lower(), method, reason,
                   source), db)


def fails(sql, db, code):
    err = psql_fails(sql, db)
    assert code in err, err


def paid_until(db, tenant):
    return psql("SELECT paid_until FROM tenants WHERE id = %d" % tenant, db)


PID = "sp-" + "a" * 20
PID2 = "sp-" + "b" * 20
YK = "2f1c0a3e-000f-5000-8000-1a2b3c4d5e6f"


def test_one_open_payment_per_plan_and_only_the_owners(workdir):
    db = migrated(workdir)
    t = client(db)
    assert open_payment(db, t, PID) == PID + " new"
    # A second tap on the same plan: the same payment, whatever id the caller offers.
    assert open_payment(db, t, PID2) == PID + " new"
    assert open_payment(db, t, PID2, days=90, amount=79900) == PID2 + " new"
    fails("SELECT subscription_payment_open('sp-%s', %d, 999, 30, 29900, 'RUB', false)" % ("c" * 20, t), db, "P0002")
    fails("SELECT subscription_payment_open('bad-id', %d, %d, 30, 29900, 'RUB', false)" % (t, OWNER), db, "23514")
    assert psql("SELECT count(*) FROM subscription_payments", db) == "2"


def test_created_once(workdir):
    db = migrated(workdir)
    t = client(db)
    open_payment(db, t, PID)
    created = "SELECT status FROM subscription_payment_created('%s', '%s', 'https://yoomoney.ru/pay/1')"
    assert psql(created % (PID, YK), db) == "pending"
    assert psql(created % (PID, YK), db) == "pending"   # a replay
    fails(created % (PID, "another-id"), db, "22023")
    assert psql("SELECT count(*) FROM subscription_events WHERE payment_id = '%s'" % PID, db) == "1"


def test_success_extends_exactly_once_under_races(workdir):
    db = migrated(workdir)
    t = client(db)
    open_payment(db, t, PID)
    psql("SELECT subscription_payment_created('%s', '%s', 'u')" % (PID, YK), db)
    # A wrong amount, currency or a test payment in a live shop: refused, nothing changes.
    fails("SELECT subscription_payment_apply('%s', '%s', 'succeeded', 100, 'RUB', false, false, '', '', 'x')"
          % (YK, PID), db, "22023")
    fails("SELECT subscription_payment_apply('%s', '%s', 'succeeded', 29900, 'USD', false, false, '', '', 'x')"
          % (YK, PID), db, "22023")
    fails("SELECT subscription_payment_apply('%s', '%s', 'succeeded', 29900, 'RUB', true, true, '', '', 'x')"
          % (YK, PID), db, "22023")
    fails("SELECT subscription_payment_apply('%s', '%s', 'succeeded', 29900, 'RUB', false, false, '', '', 'x')"
          % ("00000000-000f-5000-8000-000000000000", "sp-" + "f" * 20), db, "P0002")
    assert paid_until(db, t) == "" and psql("SELECT status FROM subscription_payments", db) == "pending"
    # The webhook, Check payment and reconciliation all at once, many times: one extension.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: apply(db, YK, PID, "succeeded", source=("webhook", "check", "reconcile")[i % 3]),
                                range(24)))
    assert set(answers) == {"succeeded"}, answers
    assert psql("SELECT count(*) FROM tenant_extensions WHERE tenant_id = %d" % t, db) == "1"
    assert psql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t, db) == "30"
    assert psql("SELECT count(*) FROM subscription_events WHERE to_status = 'succeeded'", db) == "1"
    assert psql("SELECT count(*) FROM tenant_audit WHERE tenant_id = %d AND action = 'extend'" % t, db) == "1"
    # Canceled after success: no change. A refund is recorded, and takes no days back.
    assert apply(db, YK, PID, "canceled", reason="general_decline") == "succeeded"
    assert apply(db, YK, PID, "refunded") == "refunded"
    assert psql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t, db) == "30"
    # The plan may be bought again: the paid payment is no longer the open one.
    assert open_payment(db, t, PID2) == PID2 + " new"


def test_lost_creation_answer_and_cancellation(workdir):
    db = migrated(workdir)
    t = client(db)
    open_payment(db, t, PID, save=True)
    # YooKassa made the payment, its answer was lost: the fetched object names our id.
    assert apply(db, YK, PID, "succeeded", method=YK) == "succeeded"
    assert psql("SELECT provider_id || ' ' || method_id FROM subscription_payments", db) == YK + " " + YK
    assert psql("SELECT from_status || '>' || to_status FROM subscription_events", db) == "new>succeeded"
    # A canceled one says why, and extends nothing.
    open_payment(db, t, PID2, days=90, amount=79900)
    yk2 = "2f1c0a3e-000f-5000-8000-000000000002"
    psql("SELECT subscription_payment_created('%s', '%s', 'u')" % (PID2, yk2), db)
    assert apply(db, yk2, PID2, "canceled", amount=79900, reason="insufficient_funds") == "canceled"
    assert psql("SELECT cancel_reason FROM subscription_payments WHERE id = '%s'" % PID2, db) == "insufficient_funds"
    assert psql("SELECT count(*) FROM tenant_extensions", db) == "1"
    assert apply(db, yk2, PID2, "succeeded", amount=79900) == "canceled"   # final stays final



def yookassa_payment(shop, pid, tenant, days=30, amount_minor=29900, charged="299.00"):
    """Our payment @pid opened and made at YooKassa (the sandbox) for @charged roubles, as paymentd
    will: (YooKassa's id)."""
    shop.sql("SELECT subscription_payment_open('%s', %d, %d, %d, %d, 'RUB', true)" % (pid, tenant, OWNER, days, amount_minor))
    status, p = yookassa(shop.sandbox, "POST", "/v3/payments",
                         {"amount": {"value": charged, "currency": "RUB"}, "capture": True, "save_payment_method": True,
                          "confirmation": {"type": "redirect", "return_url": "https://t.me/sales_bot"},
                          "description": "Salon Anna: %d days" % days, "metadata": {"payment": pid}}, key=pid)
    assert status == 200, p
    shop.sql("SELECT subscription_payment_created('%s', '%s', '%s')" % (pid, p["id"], p["confirmation"]["confirmation_url"]))
    return p["id"]


def notify(shop, event, obj):
    body = json.dumps({"type": "notification", "event": event, "object": obj})
    return shop.webhookd.request("POST", "/pay/yookassa", body, {"Content-Type": "application/json"})[0]


def test_paymentd_confirms_yookassa_notifications_once(workdir):
    """A payment's notification reaches paymentd through webhookd; paymentd asks YooKassa and
    extends the client once, however often and in whatever words the notification comes again. A
    notification whose payment YooKassa does not know, or whose amount YooKassa contradicts,
    changes nothing; one for a payment charged for less than its plan is refused and logged."""
    shop = Shop(workdir, botd=False)
    try:
        t = client(shop.db)
        yk = yookassa_payment(shop, PID, t)
        assert shop.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk)[0] == 200
        wait_for(lambda: shop.sql("SELECT status FROM subscription_payments WHERE id = '%s'" % PID) == "succeeded",
                 timeout=15, what="the payment confirmed")
        assert shop.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t) == "30"
        assert shop.sql("SELECT method_id FROM subscription_payments WHERE id = '%s'" % PID) == yk
        # Replays, and a forged one claiming more: YooKassa's own answer decides, once.
        got = yookassa(shop.sandbox, "GET", "/v3/payments/" + yk)[1]
        for _ in range(3):
            assert notify(shop, "payment.succeeded", got) == 200
        assert notify(shop, "payment.succeeded", dict(got, amount={"value": "2990.00", "currency": "RUB"})) == 200
        forged = dict(got, id="00000000-000f-5000-8000-00000000dead")
        assert notify(shop, "payment.succeeded", forged) == 200
        # Charged less than the plan: refused whatever YooKassa says of its status.
        yk2 = yookassa_payment(shop, PID2, t, days=90, amount_minor=79900, charged="1.00")
        assert shop.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk2)[0] == 200
        wait_for(lambda: "refused" in shop.paymentd.tail(10**6) and yk2 in shop.paymentd.tail(10**6), timeout=15,
                 what="the short payment refused")
        wait_for(lambda: shop.redis.cli("XPENDING", "payments", "paymentd").split("\n")[0] == "0", timeout=15,
                 what="every notification handled")
        assert shop.sql("SELECT count(*) FROM tenant_extensions WHERE tenant_id = %d" % t) == "1"
        assert shop.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t) == "30"
        assert shop.sql("SELECT status FROM subscription_payments WHERE id = '%s'" % PID2) == "pending"
        # A notification lost on the way: reconciliation asks YooKassa and finds the payment.
        pid3 = "sp-" + "c" * 20
        yk3 = yookassa_payment(shop, pid3, t, days=180, amount_minor=149900, charged="1499.00")
        assert shop.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk3, {"webhook": False})[0] == 200
        wait_for(lambda: shop.sql("SELECT status FROM subscription_payments WHERE id = '%s'" % pid3) == "succeeded",
                 timeout=15, what="the payment found by reconciliation")
        assert shop.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t) == "210"
        assert shop.sql("SELECT source FROM subscription_events WHERE payment_id = '%s' AND to_status = 'succeeded'"
                        % pid3) == "reconcile"
        # Given back from YooKassa's side: recorded and logged; the days stay until an operator decides.
        assert shop.sandbox.call("POST", "/sandbox/yookassa/%s/refund" % yk3)[0] == 200
        wait_for(lambda: shop.sql("SELECT status FROM subscription_payments WHERE id = '%s'" % pid3) == "refunded",
                 timeout=15, what="the refund recorded")
        assert "was refunded (1499.00 RUB)" in shop.paymentd.tail(10**6)
        assert shop.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t) == "210"
        assert shop.redis.xlen("payments:dead") == 0
    finally:
        shop.stop()


def test_the_sales_bot_opens_and_checks_a_subscription_payment(workdir):
    """Payments1 as the sales bot calls it: the price is the plan's, whatever the caller; a second
    tap is the same payment at YooKassa; Check payment asks YooKassa and applies its answer; an
    unknown plan, another owner's client or payment, are refused and change nothing."""
    shop = Shop(workdir, botd=False, config_extra="[Sales]\nReturnURL=https://t.me/sales_bot\n")
    try:
        t = client(shop.db)
        rc, first = shop.payments("OpenSubscriptionPayment", "xxub", t, OWNER, 90, "true")
        assert rc == 0, first
        pid, tenant, owner, days, amount, currency, status, url = first[0]
        assert (tenant, owner, days, amount, currency, status) == (t, OWNER, 90, 79900, "RUB", "pending"), first
        assert url.startswith("http://127.0.0.1:") and url.endswith(shop.sql("SELECT provider_id FROM subscription_payments"))
        rc, again = shop.payments("OpenSubscriptionPayment", "xxub", t, OWNER, 90, "true")
        assert rc == 0 and again[0] == first[0], again
        yk = shop.sql("SELECT provider_id FROM subscription_payments WHERE id = '%s'" % pid)
        got = yookassa(shop.sandbox, "GET", "/v3/payments/" + yk)[1]
        assert got["amount"] == {"value": "799.00", "currency": "RUB"} and got["metadata"] == {"payment": pid}, got
        assert got["description"] == "Salon Anna: 90 days", got
        # Refusals.
        rc, err = shop.payments("OpenSubscriptionPayment", "xxub", t, OWNER, 31, "false")
        assert rc != 0 and "no plan of 31 days" in str(err), err
        rc, err = shop.payments("OpenSubscriptionPayment", "xxub", t, 999, 30, "false")
        assert rc != 0 and "client" in str(err).lower(), err
        rc, err = shop.payments("CheckSubscriptionPayment", "sx", pid, 999)
        assert rc != 0, err
        assert shop.sql("SELECT count(*) FROM subscription_payments") == "1"
        # Paid, and the notification lost: Check payment finds it.
        assert shop.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk, {"webhook": False})[0] == 200
        rc, checked = shop.payments("CheckSubscriptionPayment", "sx", pid, OWNER)
        assert rc == 0 and checked[0][6] == "succeeded", checked
        assert shop.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % t) == "90"
        assert shop.sql("SELECT method_id FROM subscription_payments WHERE id = '%s'" % pid) == yk
        rc, checked = shop.payments("CheckSubscriptionPayment", "sx", pid, OWNER)
        assert rc == 0 and checked[0][6] == "succeeded"
        assert shop.sql("SELECT count(*) FROM tenant_extensions") == "1"
    finally:
        shop.stop()

if __name__ == "__main__":
    run_tests(globals())
