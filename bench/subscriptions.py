# SPDX-License-Identifier: MIT
"""Benchmark of the booking platform's subscriptions on real parts (see bench/subscriptions, which
runs it): Redis, PostgreSQL, a private system bus, tgfleet-sandbox as Telegram and YooKassa,
webhookd, paymentd, deployd and the sales bot from a release build. Two measurements, each printed
with its target:

  1. payments: PAYMENTS subscription payments paid at YooKassa, each notification posted twice and
     the lot shuffled → paymentd fetches each payment again and extends its client; payments
     applied per second, and how many clients were extended other than exactly once.
  2. lifecycle: CLIENTS clients of which REMINDERS have paid time ending within 72 hours; one
     `tgfleetctl subscriptions run` (its time), then the reminders going out through the sales bot
     under Telegram's 30 messages/s (the time to the last one, and the 429 answers).

Not a pass/fail test: it prints figures."""

import asyncio
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(__file__))

from e2e import parallel, post_all  # noqa: E402
from harness import CTL, wait_for  # noqa: E402
from test_sales import SALES, Sales  # noqa: E402
from test_sandbox import yookassa  # noqa: E402

PAYMENTS = int(os.environ.get("PAYMENTS", "2000"))
CLIENTS = int(os.environ.get("CLIENTS", "10000"))
REMINDERS = int(os.environ.get("REMINDERS", "1000"))
OWNERS = 7000000     # owner ids from here on


def add_clients(s, first, n, paid_sql):
    """Clients first+1 … first+n (the tenant ids, in a fresh database), active, paid until
    @paid_sql (an SQL expression)."""
    s.sql("SELECT count(*) FROM (SELECT tenant_add('Bench ' || g, %d + g, 900000000 + g, 'bench' || g || '_bot', "
          "'Europe/Moscow', 'bench') FROM generate_series(%d, %d) g) x" % (OWNERS, first + 1, first + n))
    s.sql("UPDATE tenants SET status = 'active', paid_until = %s WHERE id > %d" % (paid_sql, first))


def sales_counters(s):
    status, bots = s.sandbox.call("GET", "/sandbox/bots")
    assert status == 200, bots
    return next(b for b in bots if b["username"] == SALES)


def bench_payments(s):
    print("\n1. YooKassa notifications → paymentd → extended: %d payments, each notified twice, shuffled" % PAYMENTS)
    add_clients(s, 0, PAYMENTS, "now() + interval '10 days'")
    ids = [(int(t), OWNERS + int(g)) for t, g in
           (line.split("|") for line in s.sql("SELECT id || '|' || substr(name, 7) FROM tenants ORDER BY id").split())]

    def open_and_pay(client):
        t, owner = client
        rc, answer = s.shop.payments("OpenSubscriptionPayment", "xxub", t, owner, 30, "false")
        assert rc == 0, answer
        yk = answer[0][7].rsplit("/", 1)[1]
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk, {"webhook": False})[0] == 200
        status, obj = yookassa(s.sandbox, "GET", "/v3/payments/" + yk)
        assert status == 200 and obj["status"] == "succeeded", obj
        return json.dumps({"type": "notification", "event": "payment.succeeded", "object": obj}).encode()

    bodies = parallel(open_and_pay, ids, workers=8)
    requests = [("/pay/yookassa", "Content-Type: application/json\r\n", b) for b in bodies] * 2
    random.Random(1).shuffle(requests)
    start, results = asyncio.run(post_all(s.shop.webhookd.port, requests))
    posted = time.time()
    wait_for(lambda: s.sql("SELECT count(*) FROM subscription_payments WHERE status = 'succeeded'") == str(PAYMENTS),
             timeout=300, what="every payment applied")
    last = float(s.sql("SELECT extract(epoch FROM max(paid_at)) FROM subscription_payments"))
    twice = s.sql("SELECT count(*) FROM tenants t WHERE (SELECT count(*) FROM tenant_extensions e "
                  "WHERE e.tenant_id = t.id AND e.idempotency_key LIKE 'subscription:%') <> 1")
    days = s.sql("SELECT count(*) FROM tenants WHERE paid_until::date - now()::date <> 40")
    non2xx = sum(1 for _, _, status in results if status != 200)
    rate = PAYMENTS / (last - start)
    print("   %d notifications posted in %.2f s (%d non-2xx); all %d applied %.2f s after the first"
          % (len(requests), posted - start, non2xx, PAYMENTS, last - start))
    print("   %.0f payments applied per second   (target ≥ 500/s)" % rate)
    print("   clients extended other than exactly once: %s; paid-until not 10 + 30 days: %s   (target: 0 and 0)"
          % (twice, days))
    return {"payments/s": rate, "extended twice": int(twice)}


def outbox_drained(s):
    """Whether the sales bot's sender has taken and handled every message queued for it."""
    fields = s.shop.redis.cli("XINFO", "GROUPS", "out:sales").split("\n")
    info = dict(zip(fields[0::2], fields[1::2]))
    return info.get("pending") == "0" and info.get("lag") == "0"


def bench_lifecycle(s):
    print("\n2. lifecycle: %d clients, %d with paid time ending within 72 h" % (CLIENTS, REMINDERS))
    # Part 1's news to its payers (who never wrote to the bot, so Telegram refuses each, at the
    # same 30 calls/s) goes first.
    wait_for(lambda: outbox_drained(s), timeout=PAYMENTS / 30 * 2 + 60, what="the sales bot's outbox drained")
    # The owners due a reminder write to the sales bot first (Telegram lets a bot write only to
    # those who did); the bot is stopped meanwhile and their updates dropped, unanswered.
    s.botd.stop()
    parallel(lambda u: s.sandbox.user_sends(SALES, u, "hello", "en"), range(1, REMINDERS + 1))
    time.sleep(2)
    s.shop.redis.cli("DEL", "updates:sales")
    first = int(s.sql("SELECT coalesce(max(id), 0) FROM tenants"))
    add_clients(s, first, CLIENTS - first, "now() + interval '20 days'")
    # REMINDERS of them, owned by users 1…REMINDERS, end within 72 hours.
    s.sql("WITH d AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM "
          "(SELECT id FROM tenants ORDER BY id DESC LIMIT %d) x) "
          "UPDATE tenants t SET owner_id = d.n, paid_until = now() + interval '48 hours' FROM d WHERE t.id = d.id"
          % REMINDERS)
    s.botd.start()
    before = sales_counters(s)
    start = time.time()
    r = subprocess.run([CTL, "--config=" + s.shop.config, "subscriptions", "run"], capture_output=True, text=True,
                       env=dict(os.environ, PGDATABASE=s.shop.db))
    took = time.time() - start
    assert r.returncode == 0, r.stderr
    made = r.stdout.count("reminded")
    print("   one run over %d clients: %.2f s, %d reminders made   (target < 5 s, %d)" % (CLIENTS, took, made, REMINDERS))
    wait_for(lambda: sales_counters(s)["messages_sent"] - before["messages_sent"] >= REMINDERS,
             timeout=REMINDERS / 30 * 2 + 60, what="every reminder sent")
    after = sales_counters(s)
    arrived = parallel(lambda u: max(m["at_usec"] for m in s.messages(u) if "hours left" in m["text"]),
                       range(1, REMINDERS + 1))
    went = max(arrived) / 1e6 - start
    first_went = min(arrived) / 1e6 - start
    again = subprocess.run([CTL, "--config=" + s.shop.config, "subscriptions", "run"], capture_output=True, text=True,
                           env=dict(os.environ, PGDATABASE=s.shop.db)).stdout
    print("   reminders delivered from %.1f s to %.1f s after the run; ideal at 30/s: %.1f s; 429 answers: %d   (target 0)"
          % (first_went, went, REMINDERS / 30, after["too_many_requests"] - before["too_many_requests"]))
    print("   a second run right after: %s" % again.strip())
    return {"lifecycle run s": took, "reminders s": went, "reminders 429": after["too_many_requests"] - before["too_many_requests"]}


def main():
    workdir = os.environ.get("WORKDIR") or "/tmp/tgfleet-subscriptions"
    os.makedirs(workdir, exist_ok=True)
    s = Sales(workdir, extra="[Payments]\nReconcileIntervalSec=60\nReconcileAfterSec=300\n"
                             "[Subscriptions]\nIntervalSec=3600\n[Deploy]\nReconcileIntervalSec=3600\n")
    try:
        figures = bench_payments(s)
        figures.update(bench_lifecycle(s))
    finally:
        s.stop()
    print("\nFigures: " + ", ".join("%s %.1f" % kv for kv in figures.items()))


if __name__ == "__main__":
    main()
