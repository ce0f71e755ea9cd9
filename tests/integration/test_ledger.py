# SPDX-License-Identifier: MIT
"""The shop's money rules, enforced by PostgreSQL itself (migrations/0002_shop_ledger.sql): the
order state machine, exactly-once crediting under racing callers, double entry, no negative
balance, one open order per user."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

from harness import CTL, SOURCE, psql, run_tests
from test_ctl import fresh_database


def migrated(workdir):
    name, conninfo = fresh_database()
    conf = os.path.join(workdir, "ctl.conf")
    with open(conf, "w") as f:
        f.write("[Database]\nURL={}\nMigrationsDirectory={}/migrations\n".format(conninfo, SOURCE))
    r = subprocess.run([CTL, "--config=" + conf, "migrate"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return name


def new_order(db, user, stars=250, public_id=None, bot="shop_bot"):
    psql("INSERT INTO users (telegram_id) VALUES (%d) ON CONFLICT DO NOTHING" % user, db)
    return int(psql("INSERT INTO orders (public_id, user_id, bot, stars, price_minor, currency, expires_at) "
                    "VALUES ('%s', %d, '%s', %d, 399, 'USD', now() + interval '1 hour') RETURNING id"
                    % (public_id or "st-%d-%d" % (user, stars), user, bot, stars), db).splitlines()[0])


def apply(db, order, status, paid=None, source="webhook"):
    out = psql("SELECT status, changed FROM order_apply_status(%d, '%s', %s, '%s')"
               % (order, status, "NULL" if paid is None else paid, source), db)
    st, changed = out.split("|")
    return st, changed == "t"


def balance(db, user):
    return int(psql("SELECT coalesce((SELECT balance FROM ledger_accounts WHERE kind = 'user' AND user_id = %d), 0)"
                    % user, db))


def assert_ledger_consistent(db):
    assert psql("SELECT coalesce(sum(amount), 0) FROM ledger_entries", db) == "0"
    assert psql("SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1 "
                "HAVING sum(amount) <> 0) t", db) == "0"
    # Stored balances equal the sums of their entries.
    assert psql("SELECT count(*) FROM ledger_accounts a WHERE balance <> "
                "(SELECT coalesce(sum(amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)", db) == "0"


def test_paid_order_is_credited_exactly_once_under_races(workdir):
    """50 racing confirmations of one order (duplicated and contradictory, as webhooks, "Check
    payment" and reconciliation could deliver them): the payment is applied whatever came first,
    and the Stars move exactly once."""
    db = migrated(workdir)
    for round_, calls in enumerate((["paid"] * 40 + ["paid_over"] * 10,
                                    ["paid"] * 20 + ["expired"] * 15 + ["failed"] * 15)):
        user = 1001 + round_
        order = new_order(db, user, stars=250)
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda s: apply(db, order, s, 399), calls))
        final = psql("SELECT status FROM orders WHERE id = %d" % order, db)
        # A payment wins even over an end that came first (expired or failed, then paid: two
        # changes); the Stars move exactly once either way.
        changes = sum(1 for _, changed in results if changed)
        assert final in ("paid", "paid_over") and changes in (1, 2), (final, results)
        assert balance(db, user) == 250, (final, balance(db, user))
        assert psql("SELECT count(*) FROM ledger_transactions WHERE order_id = %d" % order, db) == "1"
    assert_ledger_consistent(db)


def test_state_machine(workdir):
    db = migrated(workdir)
    o = new_order(db, 2001, stars=100)
    assert apply(db, o, "wrong_amount", 200) == ("wrong_amount", True)
    assert balance(db, 2001) == 0
    # The rest is paid later: credited then, once.
    assert apply(db, o, "paid", 399) == ("paid", True)
    assert apply(db, o, "paid", 399) == ("paid", False)
    assert apply(db, o, "expired") == ("paid", False)
    assert balance(db, 2001) == 100
    assert psql("SELECT string_agg(from_status || '>' || to_status, ',' ORDER BY id) FROM order_events "
                "WHERE order_id = %d" % o, db) == "pending>wrong_amount,wrong_amount>paid"
    # Refund takes the Stars back, once.
    assert apply(db, o, "refunded") == ("refunded", True)
    assert apply(db, o, "refunded") == ("refunded", False)
    assert balance(db, 2001) == 0
    # A payment confirmed after the order expired is not dropped: it is credited (migration 0008).
    e = new_order(db, 2002, stars=100)
    assert apply(db, e, "expired") == ("expired", True)
    assert apply(db, e, "paid", 399) == ("paid", True)
    assert balance(db, 2002) == 100
    # Refunded and underpaid stay final.
    assert apply(db, o, "paid", 399) == ("refunded", False)
    u = new_order(db, 2003, stars=100)
    assert apply(db, u, "underpaid", 100) == ("underpaid", True)
    assert apply(db, u, "paid", 399) == ("underpaid", False)
    assert balance(db, 2003) == 0
    assert_ledger_consistent(db)


def test_balances_never_go_negative(workdir):
    db = migrated(workdir)
    o = new_order(db, 3001, stars=100)
    apply(db, o, "paid", 399)
    # Spend 80 of them (a movement some later feature makes), then the refund cannot overdraw.
    psql("SELECT ledger_move_stars('spend:1', NULL, 3001, -80, 'spent')", db)
    assert balance(db, 3001) == 20
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c",
                        "SELECT order_apply_status(%d, 'refunded', NULL, 'test')" % o],
                       capture_output=True, text=True, env=dict(os.environ, PGDATABASE=db))
    assert r.returncode != 0 and "ledger_accounts_check" in r.stderr, r.stderr
    assert balance(db, 3001) == 20 and psql("SELECT status FROM orders WHERE id = %d" % o, db) == "paid"
    assert_ledger_consistent(db)


def test_unbalanced_or_changed_entries_are_refused(workdir):
    db = migrated(workdir)
    psql("INSERT INTO users (telegram_id) VALUES (4001)", db)
    psql("SELECT ledger_move_stars('t:1', NULL, 4001, 5, 'gift')", db)
    env = dict(os.environ, PGDATABASE=db)
    one_sided = ("BEGIN; INSERT INTO ledger_transactions (idempotency_key, description) VALUES ('bad', 'x'); "
                 "INSERT INTO ledger_entries (transaction_id, account_id, amount) "
                 "SELECT currval('ledger_transactions_id_seq'), id, 5 FROM ledger_accounts WHERE kind = 'issued'; COMMIT;")
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", one_sided], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "does not balance" in r.stderr, r.stderr
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", "UPDATE ledger_entries SET amount = 500"],
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "append-only" in r.stderr
    assert balance(db, 4001) == 5
    assert_ledger_consistent(db)


def test_one_open_order_per_user_and_bot(workdir):
    db = migrated(workdir)
    new_order(db, 5001, public_id="st-a")
    env = dict(os.environ, PGDATABASE=db)
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c",
                        "INSERT INTO orders (public_id, user_id, bot, stars, price_minor, currency, expires_at) "
                        "VALUES ('st-b', 5001, 'shop_bot', 100, 199, 'USD', now())"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "orders_one_open_per_user" in r.stderr
    # Another bot, or after the first one ended: allowed.
    new_order(db, 5001, public_id="st-c", bot="other_bot")
    apply(db, int(psql("SELECT id FROM orders WHERE public_id = 'st-a'", db)), "expired")
    new_order(db, 5001, public_id="st-d")
    # Bad values are refused by the table itself.
    for bad in ("0, 199", "-5, 199", "100, 0", "2000000, 199"):
        r = subprocess.run(["psql", "-X", "-c", "INSERT INTO orders (public_id, user_id, bot, stars, price_minor, currency, "
                            "expires_at) VALUES ('x%s', 5001, 'b2', %s, 'USD', now())" % (abs(hash(bad)), bad)],
                           capture_output=True, text=True, env=env)
        assert "violates check constraint" in r.stderr, (bad, r.stderr)


if __name__ == "__main__":
    run_tests(globals())
