# SPDX-License-Identifier: MIT
"""The Stars shop end to end, driven as Telegram users and as Heleket through tgfleet-sandbox:
webhookd → Redis → botd ⇄ paymentd (D-Bus) → PostgreSQL ledger → order events → botd → Telegram."""

import html
import json
import os
import pty
import random
import re
import select
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from harness import CTL, Sandbox, run_tests, wait_for
from shop import BOT, BOT_USERNAME, Shop
from test_sandbox import heleket_request


def test_package_purchase_end_to_end(workdir):
    shop = Shop(workdir)
    try:
        u = 5001
        shop.say(u, "/start", "en")
        shop.wait_message(u, "Telegram Stars shop")
        invoice = shop.buy(u, "⭐ 100 Stars — $1.99")
        assert "<b>100 Stars</b> for <b>$1.99</b>" in invoice["html"], invoice
        buttons = [b for row in invoice["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons[0]["text"] == "💳 Pay" and "/pay/" in buttons[0]["url"]
        order = shop.order_id(invoice)
        assert shop.press_answer(u, "🔄 Check payment").startswith("Not paid yet")
        shop.heleket(order, "pay")
        shop.wait_message(u, "Payment received for order <code>%s</code>: 100 Stars credited" % order)
        assert shop.balance(u) == 100
        shop.say(u, "💰 Balance", "en")
        shop.wait_message(u, "Your balance: <b>100 Stars</b>")
        shop.say(u, "📜 History", "en")
        history = shop.wait_message(u, "Your orders")
        assert "100 Stars — $1.99 — ✅ paid" in history["text"], history
        # The order's own message says so too, its Pay and Check gone.
        paid = shop.message(u, invoice["message_id"])
        assert "Status: ✅ paid" in paid["html"] and shop.buttons(paid) == ["⭐ Buy Stars"], paid
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_custom_amount_in_russian_and_every_bad_input(workdir):
    shop = Shop(workdir)
    try:
        u = 5002
        shop.say(u, "/start", "ru")
        shop.wait_message(u, "Магазин Telegram Stars")
        shop.say(u, "⭐ Купить звёзды", "ru")
        shop.wait_message(u, "Выберите пакет")
        shop.press(u, "✏️ Другое количество")
        shop.wait_message(u, "Сколько звёзд?")
        for text, answer in (("abc", "Это не целое число"), ("12.5", "Это не целое число"), ("1e3", "Это не целое число"),
                             ("1,500", "Это не целое число"), ("1 50", "Это не целое число"),
                             ("0", "минимум — 50 звёзд"), ("-5", "минимум — 50 звёзд"), ("49", "минимум — 50 звёзд"),
                             ("100001", "максимум — 100\u00a0000 звёзд"),
                             ("99999999999999999999999999", "максимум — 100\u00a0000 звёзд")):
            n = len(shop.messages(u))
            shop.say(u, text, "ru")
            shop.wait_message(u, answer, after=n)
        assert shop.sql("SELECT count(*) FROM orders") == "0"
        n = len(shop.messages(u))
        shop.say(u, " 750 ", "ru")
        older = shop.wait_message(u, "Вы покупаете <b>750 звёзд</b> за <b>14,18\u00a0$</b>", after=n)
        # A new amount typed on the confirmation replaces it; digits grouped as Russian writes them.
        n = len(shop.messages(u))
        shop.say(u, "1 250", "ru")
        shop.wait_message(u, "Вы покупаете <b>1\u00a0250 звёзд</b> за <b>23,63\u00a0$</b>", after=n)
        assert "заменено" in shop.press_answer(u, None, message_id=older["message_id"], button=1)
        shop.press(u, "✅ Подтвердить")
        invoice = shop.wait_message(u, "Заказ ", after=n)
        shop.heleket(shop.order_id(invoice), "pay")
        shop.wait_message(u, "зачислено 1\u00a0250 звёзд")
        assert shop.balance(u) == 1250
        assert shop.sql("SELECT stars, price_minor, currency FROM orders") == "1250|2363|USD"
        # Out-of-range buttons forged by hand change nothing either.
        assert shop.payments("CreateInvoice", "sxx", BOT, u, 10)[0] != 0
        assert shop.payments("CreateInvoice", "sxx", BOT, u, -100)[0] != 0
        assert shop.sql("SELECT count(*) FROM orders") == "1"
    finally:
        shop.stop()


def test_every_payment_outcome_is_told(workdir):
    shop = Shop(workdir, config_extra="[Shop]\nSupport=@help_desk\n")
    try:
        cases = (("pay-over", "paid_over", "more than the $4.79 asked: contact support @help_desk", 250),
                 ("pay-short", "wrong_amount", "received $2.39 of $4.79. Pay the remaining $2.40", 0),
                 ("expire", "expired", "expired unpaid", 0),
                 ("fail", "failed", "failed. Nothing was credited", 0))
        for i, (outcome, status, text, credited) in enumerate(cases):
            u = 6001 + i
            shop.say(u, "/start", "en")
            order = shop.order_id(shop.buy(u, "⭐ 250 Stars — $4.79"))
            shop.heleket(order, outcome)
            shop.wait_message(u, text)
            assert shop.sql("SELECT status FROM orders WHERE public_id = '%s'" % order) == status
            assert shop.balance(u) == credited
        # Underpaid, then the rest arrives: credited then, once.
        shop.heleket(shop.sql("SELECT public_id FROM orders WHERE status = 'wrong_amount'"), "pay")
        shop.wait_message(6002, "250 Stars credited")
        assert shop.balance(6002) == 250
        # Underpaid, and the invoice expires short (Heleket's final wrong_amount): closed, nothing
        # credited, the user sent to support with what arrived; in Russian too.
        for u, language, text in ((6011, "en", "is closed: $2.39 of $4.79 arrived, and the rest can no longer be paid"),
                                  (6012, "ru", "закрыт: пришло 2,39\u00a0$ из 4,79\u00a0$")):
            shop.say(u, "/start", language)
            order = shop.order_id(shop.buy(u, "⭐ 250 Stars — $4.79" if language == "en" else "⭐ 250 звёзд — 4,79\u00a0$",
                                          language))
            shop.heleket(order, "pay-short")
            shop.wait_message(u, "2,40\u00a0$" if language == "ru" else "Pay the remaining $2.40")
            shop.heleket(order, "expire")
            shop.wait_message(u, text)
            assert shop.sql("SELECT status, paid_minor FROM orders WHERE public_id = '%s'" % order) == "underpaid|239"
            assert shop.balance(u) == 0
        history = shop.sql("SELECT string_agg(to_status::text, ',' ORDER BY e.id) FROM order_events e JOIN orders o "
                           "ON o.id = e.order_id WHERE o.user_id = 6011")
        assert history == "wrong_amount,underpaid", history
        # A refund takes the Stars back and says so.
        shop.heleket(shop.sql("SELECT public_id FROM orders WHERE user_id = 6001"), "refund")
        shop.wait_message(6001, "was refunded: 250 Stars taken back")
        assert shop.balance(6001) == 0
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_one_open_order_per_user(workdir):
    shop = Shop(workdir)
    try:
        u = 5003
        shop.say(u, "/start", "en")
        first = shop.order_id(shop.buy(u, "⭐ 100 Stars — $1.99"))
        again = shop.buy(u, "⭐ 500 Stars — $9.29")
        assert shop.order_id(again) == first and "You already have an unpaid order" in again["text"], again
        assert shop.sql("SELECT count(*) FROM orders") == "1"
        # Paid, the next purchase opens a new order.
        shop.heleket(first, "pay")
        shop.wait_message(u, "100 Stars credited")
        assert shop.order_id(shop.buy(u, "⭐ 500 Stars — $9.29")) != first
    finally:
        shop.stop()


def test_duplicate_and_reordered_webhooks_race_checks_and_reconciliation(workdir):
    """50 webhooks for one payment (duplicated, reordered, some replayed past webhookd's dedupe),
    racing "Check payment" calls and the reconciliation timer: credited exactly once, told once."""
    shop = Shop(workdir, config_extra="[Payments]\nReconcileAfterSec=0\nReconcileIntervalSec=0.2\n")
    try:
        u = 5004
        shop.say(u, "/start", "en")
        invoice = shop.buy(u, "⭐ 1,000 Stars — $17.99")
        order = shop.order_id(invoice)
        uuid = shop.sql("SELECT invoice_id FROM orders WHERE public_id = '%s'" % order)
        shop.heleket(order, "pay", webhook=False)
        callback = "http://127.0.0.1:%d/pay/heleket" % shop.webhookd.port
        statuses = ["check", "paid", "process", "paid", "confirm_check", "paid", "cancel", "paid"] * 3

        def webhook(status):
            return heleket_request(shop.sandbox, "/v1/test-webhook/payment",
                                   {"uuid": uuid, "url_callback": callback, "status": status})[0]

        def replay(_):
            # Past the dedupe window (or from a second webhookd): straight into the stream.
            shop.redis.cli("XADD", "payments", "*", "provider", "heleket", "id", uuid, "status", "paid",
                           "body", "{}")

        def check(_):
            return shop.payments("CheckOrder", "sx", order, u)[0]

        jobs = ([lambda s=s: webhook(s) for s in statuses] + [lambda: replay(0) for _ in range(26)] +
                [lambda: check(0) for _ in range(20)])
        random.Random(4).shuffle(jobs)
        with ThreadPoolExecutor(12) as pool:
            list(pool.map(lambda j: j(), jobs))
        wait_for(lambda: shop.balance(u) == 1000, timeout=20, what="the credit")
        shop.wait_message(u, "1,000 Stars credited")
        time.sleep(2)   # let every straggler arrive
        assert shop.balance(u) == 1000
        assert shop.sql("SELECT count(*) FROM ledger_transactions") == "1"
        assert sum("Payment received" in t for t in shop.bot_texts(u)) == 1, shop.bot_texts(u)
        assert int(shop.redis.cli("XLEN", "payments")) >= 26
        assert shop.redis.cli("XPENDING", "payments", "paymentd").split("\n")[0] == "0"
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_lost_webhook_is_reconciled_and_tampered_ones_change_nothing(workdir):
    shop = Shop(workdir)
    try:
        u = 5005
        shop.say(u, "/start", "en")
        order = shop.order_id(shop.buy(u, "⭐ 250 Stars — $4.79"))
        uuid = shop.sql("SELECT invoice_id FROM orders WHERE public_id = '%s'" % order)
        # A forged "paid" (wrong signature) is refused by webhookd and changes nothing.
        forged = json.dumps({"type": "payment", "uuid": uuid, "order_id": order, "status": "paid",
                             "amount": "4.79", "payment_amount": "4.79", "is_final": True, "sign": "0" * 32})
        assert shop.webhookd.request("POST", "/pay/heleket", forged, {"Content-Type": "application/json"})[0] == 403
        time.sleep(3)
        assert shop.balance(u) == 0
        assert shop.sql("SELECT status FROM orders WHERE public_id = '%s'" % order) == "pending"
        # Paid at Heleket, but its webhook never comes: reconciliation finds it.
        shop.heleket(order, "pay", webhook=False)
        shop.wait_message(u, "250 Stars credited", timeout=20)
        assert shop.sql("SELECT source FROM order_events e JOIN orders o ON o.id = e.order_id "
                        "WHERE o.public_id = '%s'" % order) == "reconcile"
        assert shop.balance(u) == 250
        # An order whose invoice was never created expires after its lifetime.
        shop.sql("INSERT INTO orders (public_id, user_id, bot, stars, price_minor, currency, expires_at, created_at) "
                 "VALUES ('st-noinvoice', %d, '%s', 100, 199, 'USD', now() - interval '1 minute', "
                 "now() - interval '2 hours')" % (u, BOT))
        wait_for(lambda: shop.sql("SELECT status FROM orders WHERE public_id = 'st-noinvoice'") == "expired",
                 timeout=20, what="expiry of an order without invoice")
        shop.wait_message(u, "st-noinvoice</code> expired unpaid")
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_heleket_down_opens_the_breaker_and_recovers(workdir):
    shop = Shop(workdir, config_extra="[Payments]\nBreakerThreshold=5\nBreakerCooldownSec=2\n"
                                      "[Bots]\nRequestBurst=100\n")
    try:
        u = 5006
        shop.say(u, "/start", "en")
        # /health/payment (the monitors' view, from webhookd): paymentd's word on its providers.
        def health():
            status, body = shop.webhookd.request("GET", "/health/payment")
            return status, json.loads(body)
        wait_for(lambda: health() == (200, {"status": "ok", "heleket": "closed", "yookassa": "closed"}), timeout=20,
                 what="/health/payment ok")

        def state():
            return shop.bus.call("org.tgfleet.Payments1", "/org/tgfleet/Payments1", "org.freedesktop.DBus.Properties",
                                 "Get", "ss", "org.tgfleet.Payments1", "HeleketState")[1]
        shop.sandbox.call("POST", "/sandbox/heleket-fault", {"status": 500})
        for attempt in range(5):
            shop.choose(u, "⭐ 100 Stars — $1.99")
            answer = shop.press_answer(u, "✅ Confirm")
            assert answer.startswith("Payments are temporarily unavailable"), answer
            if state() == [{"type": "s", "data": "open"}]:
                break
        assert state() == [{"type": "s", "data": "open"}], state()
        # While open, users hear it at once instead of waiting for retries.
        shop.choose(u, "⭐ 100 Stars — $1.99")
        start = time.monotonic()
        assert shop.press_answer(u, "✅ Confirm").startswith("Payments are temporarily unavailable")
        assert time.monotonic() - start < 5
        wait_for(lambda: "Heleket open" in shop.paymentd.notify.seen("STATUS=")[-1], what="STATUS= with the breaker")
        wait_for(lambda: health() == (503, {"status": "degraded", "heleket": "open", "yookassa": "closed"}), timeout=20,
                 what="/health/payment degraded")
        # Heleket is back: after the cooldown the breaker lets a probe through and closes.
        shop.sandbox.call("POST", "/sandbox/heleket-fault", {"status": 0})
        time.sleep(2.5)
        invoice = shop.buy(u, "⭐ 100 Stars — $1.99")
        assert "/pay/" in invoice["reply_markup"]["inline_keyboard"][0][0]["url"]
        assert state() == [{"type": "s", "data": "closed"}]
        assert shop.sql("SELECT count(*) FROM orders WHERE pay_url IS NOT NULL") == "1"
        # paymentd gone: its word ages out, and the monitors hear it is silent.
        shop.paymentd.stop()
        wait_for(lambda: health() == (503, {"status": "unavailable", "paymentd": "silent"}), timeout=40,
                 what="/health/payment silent")
    finally:
        shop.stop()


def test_payments_bus_policy(workdir):
    """Only root and the bot engine's user may call paymentd; nobody else may even ask."""
    shop = Shop(workdir, botd=False)
    try:
        status, answer = shop.payments("GetBalance", "x", 1, user="nobody")
        assert status != 0 and ("Access denied" in answer or "AccessDenied" in answer), answer
        # Until its database connection is up (it connects after READY), paymentd answers "unavailable".
        wait_for(lambda: shop.payments("GetBalance", "x", 1) == (0, [0]), what="GetBalance as root")
        status, answer = shop.payments("GetOrder", "sx", "st-none", 1)
        assert status != 0 and "No order" in answer, answer
    finally:
        shop.stop()


def purchase_burst(workdir, seed, users=200):
    shop = Shop(workdir, config_extra="[Payments]\nReconcileAfterSec=1\n[Bots]\nRequestBurst=20\n")
    rng = random.Random(seed)
    stop = threading.Event()
    kills = []

    def chaos():
        while not stop.wait(rng.uniform(0.4, 1.2)):
            victim = rng.choice((shop.botd, shop.paymentd))
            victim.kill()
            kills.append(victim.name)
            time.sleep(rng.uniform(0.05, 0.4))
            victim.start(wait=False)

    try:
        base = 100000 * seed
        ids = [base + i for i in range(users)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda u: shop.say(u, "/start", "en"), ids))
        killer = threading.Thread(target=chaos)
        killer.start()

        def purchase(u):
            # As a user would: Confirm again while the pop-up says "temporarily unavailable" (paymentd
            # was down), and start over when a press got no answer (botd was killed under it).
            invoice, n, answers = None, None, []
            for attempt in range(40):
                try:
                    if n is None:
                        n = shop.choose(u, "⭐ 100 Stars — $1.99")
                    answer = shop.press_answer(u, "✅ Confirm", timeout=10) or ""
                    answers.append(answer)
                    if "temporarily unavailable" in answer:
                        time.sleep(0.3)
                        continue
                    invoice = shop.wait_message(u, "Order ", after=n)
                    break
                except AssertionError:
                    n = None
            if not invoice:
                raise AssertionError("user %d never got an invoice: %r, answers %r" % (u, shop.bot_texts(u), answers))
            shop.heleket(shop.order_id(invoice), "pay")

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(purchase, ids))
        stop.set()
        killer.join()
        for s in (shop.botd, shop.paymentd):
            if s.proc is None:
                s.start()
        wait_for(lambda: shop.sql("SELECT count(*) FROM orders WHERE status = 'paid'") == str(users), timeout=60,
                 what="every order paid")
        for u in ids:
            shop.wait_message(u, "100 Stars credited", timeout=60)
            assert shop.balance(u) == 100, (u, shop.balance(u))
        assert shop.sql("SELECT count(*) FROM ledger_transactions") == str(users)
        shop.assert_ledger_consistent()
        assert len(kills) >= 2, kills
        print("seed %d: %d kills (%s)" % (seed, len(kills), ", ".join(kills)), flush=True)
    finally:
        stop.set()
        shop.stop()


def test_kill_9_during_200_purchases_seed_1(workdir):
    purchase_burst(workdir, 1)


def test_kill_9_during_200_purchases_seed_2(workdir):
    purchase_burst(workdir, 2)



def test_reload_changes_the_packages_in_botd_and_paymentd(workdir):
    """SIGHUP, as systemctl reload sends it, to botd and paymentd: new packages and prices are
    shown and charged at once; a broken configuration is refused and both keep the running one."""
    shop = Shop(workdir)

    def reload(service):
        seen = len(service.notify.seen("READY=1"))
        os.kill(service.proc.pid, signal.SIGHUP)
        wait_for(lambda: len(service.notify.seen("READY=1")) > seen, what=service.name + " READY=1 after SIGHUP")
        assert service.proc.poll() is None, service.tail()

    try:
        with open(shop.config) as f:
            good = f.read()
        with open(shop.config, "a") as f:
            f.write("[Shop]\nPackages=100:2.49 300:6.99\n")
        reload(shop.paymentd)
        reload(shop.botd)
        assert shop.botd.notify.seen("RELOADING=1") and shop.paymentd.notify.seen("RELOADING=1")
        u = 5101
        shop.say(u, "/start", "en")
        shop.wait_message(u, "Telegram Stars shop")
        invoice = shop.buy(u, "⭐ 300 Stars — $6.99")
        assert "<b>300 Stars</b> for <b>$6.99</b>" in invoice["html"], invoice
        order = shop.order_id(invoice)
        assert shop.sql("SELECT price_minor FROM orders WHERE public_id = '%s'" % order) == "699"
        # Refused: a price that is not money. Both go on with what they run.
        with open(shop.config, "a") as f:
            f.write("[Shop]\nPackages=100:banana\n")
        reload(shop.paymentd)
        reload(shop.botd)
        for s in (shop.paymentd, shop.botd):
            assert "Reload failed" in s.tail(), s.tail()
        shop.heleket(order, "pay")
        shop.wait_message(u, "Payment received for order <code>%s</code>: 300 Stars credited" % order)
        assert shop.balance(u) == 300
        n = len(shop.messages(u))
        shop.say(u, "/buy", "en")
        menu = shop.wait_message(u, "Choose a package", after=n)
        texts = [b["text"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
        assert "⭐ 100 Stars — $2.49" in texts and "⭐ 100 Stars — $1.99" not in texts, texts
        with open(shop.config, "w") as f:
            f.write(good)
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_a_broadcast_and_a_chat_flood_stay_under_telegrams_limits(workdir):
    """The sender, against the sandbox's flood control at Telegram's limits (30 messages/s per
    bot, 1/s with a burst of 3 per chat): 150 messages queued at once to 150 chats, and 6 to one
    chat, are all delivered with no 429, no faster than the limits allow, and each chat's in order."""
    shop = Shop(workdir)
    try:
        users = list(range(7001, 7151))
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda u: shop.say(u, "/start", "en"), users))
        for u in users:
            shop.wait_message(u, "Telegram Stars shop")
        time.sleep(2)   # the buckets refill after the welcomes

        def counters():
            status, bots = shop.sandbox.call("GET", "/sandbox/bots")
            assert status == 200, bots
            return next(b for b in bots if b["username"] == BOT_USERNAME)

        def queue(chat, text):
            shop.redis.cli("XADD", "out:" + BOT, "*", "method", "sendMessage", "chat", str(chat), "params",
                           json.dumps({"chat_id": chat, "text": text}))

        before = counters()
        start = time.time()
        for u in users:
            queue(u, "Broadcast to %d" % u)
        for i in range(6):
            queue(users[0], "Flood %d" % i)
        wait_for(lambda: counters()["messages_sent"] - before["messages_sent"] >= 156, timeout=30,
                 what="the broadcast")
        took = time.time() - start
        after = counters()
        assert after["too_many_requests"] == before["too_many_requests"], (before, after)
        # 156 messages at 30/s with a burst of 30 (the sender keeps under both): at least 4 s.
        assert took >= (156 - 30) / 30, took
        flood = [m for m in shop.messages(users[0]) if (m.get("text") or "").startswith("Flood")]
        assert [m["text"] for m in flood] == ["Flood %d" % i for i in range(6)], flood
        # One chat: a burst (the broadcast's message took a part of it), then one a second.
        assert flood[-1]["at_usec"] - flood[0]["at_usec"] >= 3e6, [m["at_usec"] for m in flood]
    finally:
        shop.stop()


def test_calls_delayed_unevenly_on_the_way_to_telegram_still_get_no_429(workdir):
    """The sender paces calls evenly, but each one reaches Telegram after its own delay, so some
    arrive closer together than they left. With half the calls, at random, held 200 ms on the way
    (the sandbox's --latency-ms), a broadcast to 60 chats and floods of 6 to six of them are all
    delivered with no 429, each chat's in order: the sender's buckets keep a margin under
    Telegram's that covers such delays."""
    shop = Shop(workdir, sandbox_args=("--latency-ms=200",))
    try:
        users = list(range(7201, 7261))
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda u: shop.say(u, "/start", "en"), users))
        for u in users:
            shop.wait_message(u, "Telegram Stars shop")
        time.sleep(3)   # the buckets refill after the welcomes

        def counters():
            status, bots = shop.sandbox.call("GET", "/sandbox/bots")
            assert status == 200, bots
            return next(b for b in bots if b["username"] == BOT_USERNAME)

        before = counters()
        for u in users:
            shop.redis.cli("XADD", "out:" + BOT, "*", "method", "sendMessage", "chat", str(u), "params",
                           json.dumps({"chat_id": u, "text": "Broadcast to %d" % u}))
        flooded = users[:6]
        for i in range(6):
            for u in flooded:
                shop.redis.cli("XADD", "out:" + BOT, "*", "method", "sendMessage", "chat", str(u), "params",
                               json.dumps({"chat_id": u, "text": "Flood %d" % i}))
        wait_for(lambda: counters()["messages_sent"] - before["messages_sent"] >= 96, timeout=40,
                 what="the broadcast and the floods")
        after = counters()
        assert after["too_many_requests"] == before["too_many_requests"], (before, after)
        for u in flooded:
            flood = [m["text"] for m in shop.messages(u) if (m.get("text") or "").startswith("Flood")]
            assert flood == ["Flood %d" % i for i in range(6)], (u, flood)
    finally:
        shop.stop()


def test_answers_carry_their_flood_budget_and_a_burst_of_them_gets_no_429(workdir):
    """botd's commit grants the flood budget of the answers it writes, so an answer leaves without
    another Redis round trip: three scripts per update (webhookd's intake, the request limit, the
    commit), not four. At Telegram's limits, 120 users writing at once are all answered in turn
    with no 429, no faster than 30/s: a grant the bot's budget could not give is asked for again."""
    shop = Shop(workdir)
    try:
        def evalsha_calls():
            stats = shop.redis.cli("INFO", "commandstats")
            line = next(l for l in stats.splitlines() if l.startswith("cmdstat_evalsha:"))
            return int(re.search(r"calls=(\d+)", line).group(1))

        def counters():
            status, bots = shop.sandbox.call("GET", "/sandbox/bots")
            assert status == 200, bots
            return next(b for b in bots if b["username"] == BOT_USERNAME)

        shop.say(7300, "/start", "en")
        shop.wait_message(7300, "Telegram Stars shop")
        time.sleep(1)
        before, sent = evalsha_calls(), counters()["messages_sent"]
        for u in range(7301, 7311):
            shop.say(u, "/start", "en")
            shop.wait_message(u, "Telegram Stars shop")
        answers = counters()["messages_sent"] - sent
        assert answers >= 10, answers
        assert evalsha_calls() - before == 3 * 10, (evalsha_calls() - before, answers)
        def granted():
            m = re.search(r"sent \d+ \((\d+) on the commit's budget\)", (shop.botd.notify.seen("STATUS=") or [""])[-1])
            return int(m.group(1)) if m else 0
        wait_for(lambda: granted() >= 11, what="STATUS= counting the answers sent on the commit's budget")

        time.sleep(2)   # the buckets refill
        users = list(range(7400, 7520))
        before = counters()
        start = time.time()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda u: shop.say(u, "/start", "en"), users))
        for u in users:
            shop.wait_message(u, "Telegram Stars shop", timeout=30)
        took = time.time() - start
        after = counters()
        assert after["too_many_requests"] == before["too_many_requests"], (before, after)
        sent = after["messages_sent"] - before["messages_sent"]
        assert took >= (sent - 30) / 30, (took, sent)
    finally:
        shop.stop()


def test_a_user_who_blocked_the_bot_is_still_credited_and_nothing_waits_on_them(workdir):
    """A buyer blocks the bot, then their invoice is paid: the Stars are credited all the same, the
    bot's "Payment received" is refused by Telegram (403) and given up, not retried for ever, and
    other users are answered as usual."""
    shop = Shop(workdir)
    try:
        u, v = 5201, 5202
        shop.say(u, "/start", "en")
        shop.wait_message(u, "Telegram Stars shop")
        order = shop.order_id(shop.buy(u, "⭐ 100 Stars — $1.99"))
        status, r = shop.sandbox.call("POST", "/sandbox/bots/%s/users/%d/block" % (BOT_USERNAME, u), {})
        assert status == 200, r
        shop.heleket(order, "pay")
        wait_for(lambda: shop.balance(u) == 100, what="the Stars credited")
        wait_for(lambda: shop.redis.cli("XLEN", "out:" + BOT).strip() == "0", what="the outbox drained")
        assert not any("Payment received" in t for t in shop.bot_texts(u)), shop.bot_texts(u)
        wait_for(lambda: "Telegram refused sendMessage" in shop.botd.tail(), what="the refusal logged")
        shop.say(v, "/start", "en")
        shop.wait_message(v, "Telegram Stars shop")
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_a_payment_after_the_order_expired_is_not_lost(workdir):
    """Heleket confirms a payment for an order that had already expired here (its lifetime ran out
    first): paid or paid over, it is credited and the user told; paid short, the user is told what
    is left to pay. Money that arrives is never dropped."""
    shop = Shop(workdir)
    try:
        for i, (outcome, status, text, credited) in enumerate((
                ("pay", "paid", "Payment received for order", 100),
                ("pay-over", "paid_over", "Payment received for order", 100),
                ("pay-short", "wrong_amount", "Pay the remaining", 0))):
            u = 6101 + i
            shop.say(u, "/start", "en")
            order = shop.order_id(shop.buy(u, "⭐ 100 Stars — $1.99"))
            # Ended here (as when its lifetime ran out before Heleket had seen any payment)…
            assert shop.sql("SELECT a.status FROM orders o, order_apply_status(o.id, 'expired', NULL, 'test') a "
                            "WHERE o.public_id = '%s'" % order) == "expired"
            shop.wait_message(u, "expired unpaid")
            # …and then the payment arrives.
            shop.heleket(order, outcome)
            shop.wait_message(u, text)
            assert shop.sql("SELECT status FROM orders WHERE public_id = '%s'" % order) == status
            assert shop.balance(u) == credited
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_english_amounts_take_commas_and_the_buttons_show_what_is_pressed(workdir):
    shop = Shop(workdir)
    try:
        u = 5004
        shop.say(u, "/start", "en")
        shop.choose(u, "⭐ 100 Stars — $1.99")
        older = shop.wait_message(u, "You are buying <b>100 Stars</b>")
        # A number typed on a package's confirmation replaces it too, "1,000" as English writes it.
        n = len(shop.messages(u))
        shop.say(u, "1,500", "en")
        shop.wait_message(u, "You are buying <b>1,500 Stars</b> for <b>$28.35</b>", after=n)
        for text in ("hello", "1,00"):   # an amount was typed: what follows is taken as one
            m = len(shop.messages(u))
            shop.say(u, text, "en")
            shop.wait_message(u, "That is not a whole number", after=m)
        assert shop.press_answer(u, None, message_id=older["message_id"], button=1) \
            .startswith("A newer amount replaced this one")
        shop.press(u, "✅ Confirm")
        invoice = shop.wait_message(u, "Order ", after=n)
        assert "<b>1,500 Stars</b> for <b>$28.35</b>" in invoice["html"], invoice
        assert shop.sql("SELECT stars, price_minor FROM orders") == "1500|2835"
    finally:
        shop.stop()


def test_a_pending_order_can_be_cancelled_and_money_paid_for_it_later_is_credited(workdir):
    shop = Shop(workdir)
    try:
        u = 6201
        shop.say(u, "/start", "en")
        invoice = shop.buy(u, "⭐ 100 Stars — $1.99")
        order = shop.order_id(invoice)
        assert shop.buttons(invoice) == ["💳 Pay", "🔄 Check payment", "✖️ Cancel order"], invoice
        assert shop.press_answer(u, "✖️ Cancel order").startswith("Order cancelled")
        wait_for(lambda: "Status: ✖️ cancelled" in shop.message(u, invoice["message_id"])["html"],
                 what="the order shown cancelled")
        assert shop.buttons(shop.message(u, invoice["message_id"])) == ["⭐ Buy Stars"]
        assert shop.sql("SELECT status FROM orders WHERE public_id = '%s'" % order) == "cancelled"
        # The next purchase is a new order at once…
        second = shop.order_id(shop.buy(u, "⭐ 250 Stars — $4.79"))
        assert second != order
        # …and the cancelled one, paid all the same at Heleket, is credited: by its webhook…
        shop.heleket(order, "pay")
        shop.wait_message(u, "Payment received for order <code>%s</code>: 100 Stars credited" % order)
        assert shop.balance(u) == 100
        # …or, the webhook lost, by reconciliation, which asks about cancelled orders until they expire.
        v = 6203
        shop.say(v, "/start", "en")
        lost = shop.order_id(shop.buy(v, "⭐ 100 Stars — $1.99"))
        assert shop.press_answer(v, "✖️ Cancel order").startswith("Order cancelled")
        shop.heleket(lost, "pay", webhook=False)
        shop.wait_message(v, "Payment received for order <code>%s</code>" % lost, timeout=30)
        assert shop.balance(v) == 100
        # A part-paid order holds money: it cannot be cancelled, and its Cancel goes.
        w = 6202
        shop.say(w, "/start", "ru")
        invoice = shop.buy(w, "⭐ 250 звёзд — 4,79\u00a0$", "ru")
        shop.heleket(shop.order_id(invoice), "pay-short")
        shop.wait_message(w, "Доплатите 2,40\u00a0$")
        assert shop.press_answer(w, "✖️ Отменить заказ").startswith("Часть заказа уже оплачена")
        wait_for(lambda: shop.buttons(shop.message(w, invoice["message_id"])) == ["💳 Оплатить", "🔄 Проверить оплату"],
                 what="Cancel removed")
        assert shop.sql("SELECT status FROM orders WHERE user_id = %d" % w) == "wrong_amount"
        shop.assert_ledger_consistent()
    finally:
        shop.stop()


def test_an_order_that_ended_loses_its_pay_and_check_buttons(workdir):
    shop = Shop(workdir)
    try:
        for u, outcome, status in ((6301, "pay", "✅ paid"), (6302, "expire", "⌛ expired"), (6303, "fail", "❌ failed")):
            shop.say(u, "/start", "en")
            invoice = shop.buy(u, "⭐ 100 Stars — $1.99")
            shop.heleket(shop.order_id(invoice), outcome)
            wait_for(lambda: "Status: " + status in shop.message(u, invoice["message_id"])["html"],
                     what="order message of %d shown %s" % (u, status))
            assert shop.buttons(shop.message(u, invoice["message_id"])) == ["⭐ Buy Stars"]
    finally:
        shop.stop()


def test_history_lists_order_ids_and_shows_each_order(workdir):
    shop = Shop(workdir)
    try:
        u = 6401
        shop.say(u, "/start", "en")
        paid = shop.order_id(shop.buy(u, "⭐ 100 Stars — $1.99"))
        shop.heleket(paid, "pay")
        shop.wait_message(u, "100 Stars credited")
        open_ = shop.order_id(shop.buy(u, "⭐ 250 Stars — $4.79"))
        n = len(shop.messages(u))
        shop.say(u, "📜 History", "en")
        history = shop.wait_message(u, "Your orders", after=n)
        assert "1. " in history["text"] and "<code>%s</code>" % open_ in history["html"], history
        assert "2. " in history["text"] and "<code>%s</code>" % paid in history["html"], history
        assert shop.buttons(history) == ["1", "2"], history
        shop.press(u, "1")
        wait_for(lambda: "Status: ⏳ awaiting payment" in shop.message(u, history["message_id"])["html"],
                 what="the open order's detail")
        detail = shop.message(u, history["message_id"])
        assert "<code>%s</code>" % open_ in detail["html"] and "Created: " in detail["text"], detail
        assert shop.buttons(detail) == ["💳 Pay", "🔄 Check payment", "✖️ Cancel order", "◀️ History"], detail
        shop.press(u, "◀️ History")
        wait_for(lambda: "Your orders" in shop.message(u, history["message_id"])["html"], what="back to the history")
        shop.press(u, "2")
        wait_for(lambda: "Status: ✅ paid" in shop.message(u, history["message_id"])["html"],
                 what="the paid order's detail")
        detail = shop.message(u, history["message_id"])
        assert "<code>%s</code>" % paid in detail["html"] and "Received: $1.99" in detail["text"], detail
        assert shop.buttons(detail) == ["⭐ Buy Stars", "◀️ History"], detail
    finally:
        shop.stop()


def test_a_press_about_another_users_order_is_refused_and_not_looked_up(workdir):
    # Reconciliation late, so that only a lookup could find the payment made at Heleket.
    shop = Shop(workdir, config_extra="[Payments]\nReconcileAfterSec=3600\n")
    try:
        owner, other = 6501, 6502
        shop.say(owner, "/start", "en")
        order = shop.order_id(shop.buy(owner, "⭐ 100 Stars — $1.99"))
        shop.heleket(order, "pay", webhook=False)
        shop.say(other, "/start", "en")
        shop.wait_message(other, "Telegram Stars shop")
        for data in ("check:" + order, "cancel:" + order, "ord:%s:0" % order):
            assert shop.press_answer(other, None, data=data) == "This button is no longer valid.", data
        status, answer = shop.payments("CheckOrder", "sx", order, other)
        assert status != 0 and "No order" in answer, answer
        assert shop.sql("SELECT status FROM orders WHERE public_id = '%s'" % order) == "pending"
        assert shop.balance(owner) == 0
        # The owner's own press finds the payment.
        assert shop.press_answer(owner, "🔄 Check payment") == "✅ paid"
        assert shop.balance(owner) == 100
    finally:
        shop.stop()


def test_a_restarted_sandbox_goes_on_numbering_updates_and_the_bot_still_answers(workdir):
    """run-local run again with ./run/ kept: the new sandbox continues the update_id counter kept
    in its state file, so webhookd (its seen ids in the same Redis) takes the new updates and the
    shop answers. Numbering from where it started again, every update would be dropped as seen."""
    state = ("--state-file=" + os.path.join(workdir, "sandbox.state"),)
    shop = Shop(workdir, sandbox_args=state)
    try:
        u = 6601
        # More updates than a restart's clock-based start (4 a second) would step over.
        for i in range(40):
            shop.say(u + 1 + i % 4, "/start", "en")
        first = shop.say(u, "/help", "en")["update_id"]
        shop.wait_message(u, "How it works")
        shop.restart_sandbox_and_webhookd(sandbox_args=state)
        again = shop.say(u, "/start", "en")
        assert again["update_id"] > first, (first, again)
        shop.wait_message(u, "Telegram Stars shop")
    finally:
        shop.stop()


class PtyChat:
    """tgfleetctl sandbox chat on a pseudo-terminal, read and typed into as a person would."""

    ANSI = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self, shop, user, language):
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen([CTL, "--config=" + shop.config, "sandbox", "chat", BOT_USERNAME,
                                      "--user=%d" % user, "--language=" + language],
                                     stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.screen = ""      # all output so far, ANSI styles removed
        self.styled = ""      # the same with them
        self.cursor = 0       # expect() looks from here
        self.last = 0         # where the last match of expect() began

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                data = os.read(self.master, 65536).decode(errors="replace")
            except OSError:
                return
            self.styled += data
            self.screen = self.ANSI.sub("", self.styled).replace("\r\n", "\n")

    def expect(self, pattern, timeout=20):
        """Waits until @pattern (a regex) appears past what was already matched; returns the match."""
        deadline = time.time() + timeout
        while True:
            m = re.compile(pattern).search(self.screen, self.cursor)
            if m:
                self.cursor = m.end()
                self.last = m.start()
                return m
            if time.time() > deadline:
                raise AssertionError("the chat never showed %r; it shows:\n%s" % (pattern, self.screen[-3000:]))
            self._read(0.2)

    def button(self, label, timeout=20):
        """The number the chat shows on the button @label (the last such), once it shows one
        past the start of what expect() matched last."""
        pattern = re.compile(r"\[#(\d+) %s\]" % re.escape(label))
        deadline = time.time() + timeout
        while not pattern.search(self.screen, self.last):
            if time.time() > deadline:
                raise AssertionError("no button %r on screen:\n%s" % (label, self.screen[-2000:]))
            self._read(0.2)
        return pattern.findall(self.screen)[-1]

    def type(self, line):
        os.write(self.master, (line + "\n").encode())

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        os.close(self.master)


def pay_on_the_page(url):
    """As a buyer in a browser: opens the payment page and presses its "Pay in full" button (the
    form posts outcome=pay to the form's action)."""
    with urllib.request.urlopen(url, timeout=10) as r:
        page = r.read().decode()
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    assert 'value="pay">Pay in full</button>' in page, page
    target = urllib.parse.urljoin(url, html.unescape(action))
    with urllib.request.urlopen(urllib.request.Request(target, data=b"outcome=pay", method="POST"), timeout=10) as r:
        return r.read().decode()


def test_a_newcomer_buys_stars_in_the_terminal_chat_in_english_and_in_russian(workdir):
    """The quick start as a person lives it: the terminal chat on a pseudo-terminal (so with
    colours), the menu from the reply keyboard, a custom amount typed, the order id in the message
    the bot edits, the Pay link paid on the sandbox's payment page, and the credit told."""
    shop = Shop(workdir)
    try:
        for user, language, t in (
                (7001, "en", dict(shop="Telegram Stars shop", buy="⭐ Buy Stars", other="✏️ Other amount",
                                  ask="How many Stars", confirm_text=r"You are buying 750 Stars for \$14\.18",
                                  confirm="✅ Confirm", order=r"Order (st-[0-9a-f]+): 750 Stars for \$14\.18",
                                  pay="💳 Pay", credited=r"Payment received for order (st-[0-9a-f]+): 750 Stars credited",
                                  paid="Status: ✅ paid")),
                (7002, "ru", dict(shop="Магазин Telegram Stars", buy="⭐ Купить звёзды", other="✏️ Другое количество",
                                  ask="Сколько звёзд", confirm_text="Вы покупаете 750 звёзд за 14,18\u00a0\\$",
                                  confirm="✅ Подтвердить", order=r"Заказ (st-[0-9a-f]+): 750 звёзд за 14,18",
                                  pay="💳 Оплатить", credited=r"Оплата заказа (st-[0-9a-f]+) получена: зачислено 750 звёзд",
                                  paid="Статус: ✅ оплачен"))):
            chat = PtyChat(shop, user, language)
            try:
                chat.expect(r"#N or /press N presses button N")
                chat.type("/start")
                chat.expect(t["shop"])
                chat.expect(r"⌨ .*\[#\d+ %s\]" % re.escape(t["buy"]))
                chat.type("#" + chat.button(t["buy"]))
                chat.expect(r"\[you\] " + re.escape(t["buy"]))
                chat.expect(r"\[#\d+ %s\]" % re.escape(t["other"]))
                chat.type("#" + chat.button(t["other"]))
                chat.expect(r"\(edited\) \[bot\] " + t["ask"])
                chat.type("750")
                chat.expect(t["confirm_text"])
                chat.type("#" + chat.button(t["confirm"]))
                order = chat.expect(r"\(edited\) \[bot\] " + t["order"]).group(1)
                assert "\x1b[36m" + order in chat.styled, "the order id is shown as code"
                chat.type("#" + chat.button(t["pay"]))
                url = chat.expect(r"\(opens (http://127\.0\.0\.1:\d+/pay/[0-9a-f-]+) ").group(1)
                assert "Paid" in pay_on_the_page(url) or "paid" in pay_on_the_page(url)
                after_pay = chat.cursor
                assert chat.expect(t["credited"]).group(1) == order
                chat.cursor = after_pay   # the order's message is edited too, before or after
                chat.expect(r"\(edited\) \[bot\] [^\n]*%s[^\n]*\n[^\n]*%s" % (re.escape(order), re.escape(t["paid"])))
                assert shop.balance(user) == 750
            finally:
                chat.close()
    finally:
        shop.stop()


if __name__ == "__main__":
    run_tests(globals())
