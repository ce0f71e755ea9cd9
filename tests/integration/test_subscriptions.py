# SPDX-License-Identifier: MIT
"""Subscription payments, enforced by PostgreSQL itself (migrations/0012_subscription_payments.sql):
one open payment per client and plan, only the client's owner pays for it, YooKassa's answer
recorded once, a success extending the client exactly once whoever races to apply it, and a
wrong amount, currency or test flag changing nothing."""

from concurrent.futures import ThreadPoolExecutor

from harness import psql, psql_fails, run_tests
from test_ledger import migrated

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


if __name__ == "__main__":
    run_tests(globals())
