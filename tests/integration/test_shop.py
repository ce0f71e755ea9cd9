# SPDX-License-Identifier: MIT
"""The Stars shop end to end, driven as Telegram users and as Heleket through tgfleet-sandbox:
webhookd → Redis → botd ⇄ paymentd (D-Bus) → PostgreSQL ledger → order events → botd → Telegram."""

import json
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Sandbox, run_tests, wait_for
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
        assert shop.press_answer(u, "🔄 Check payment") == "✅ paid"
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
                             ("0", "больше нуля"), ("-5", "больше нуля"), ("49", "минимум — 50 звёзд"),
                             ("100001", "максимум — 100\u00a0000 звёзд"),
                             ("99999999999999999999999999", "максимум — 100\u00a0000 звёзд")):
            n = len(shop.messages(u))
            shop.say(u, text, "ru")
            shop.wait_message(u, answer, after=n)
        assert shop.sql("SELECT count(*) FROM orders") == "0"
        n = len(shop.messages(u))
        shop.say(u, " 750 ", "ru")
        shop.wait_message(u, "Вы покупаете <b>750 звёзд</b> за <b>14,18\u00a0$</b>", after=n)
        shop.press(u, "✅ Подтвердить")
        invoice = shop.wait_message(u, "Заказ ", after=n)
        shop.heleket(shop.order_id(invoice), "pay")
        shop.wait_message(u, "зачислено 750 звёзд")
        assert shop.balance(u) == 750
        assert shop.sql("SELECT stars, price_minor, currency FROM orders") == "750|1418|USD"
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
            return shop.payments("CheckOrder", "s", order)[0]

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
        # Heleket is back: after the cooldown the breaker lets a probe through and closes.
        shop.sandbox.call("POST", "/sandbox/heleket-fault", {"status": 0})
        time.sleep(2.5)
        invoice = shop.buy(u, "⭐ 100 Stars — $1.99")
        assert "/pay/" in invoice["reply_markup"]["inline_keyboard"][0][0]["url"]
        assert state() == [{"type": "s", "data": "closed"}]
        assert shop.sql("SELECT count(*) FROM orders WHERE pay_url IS NOT NULL") == "1"
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
        status, answer = shop.payments("GetOrder", "s", "st-none")
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
        # 156 messages at 30/s with a burst of 30 (the sender keeps 5 % under it): at least 4 s.
        assert took >= (156 - 30) / 30, took
        flood = [m for m in shop.messages(users[0]) if (m.get("text") or "").startswith("Flood")]
        assert [m["text"] for m in flood] == ["Flood %d" % i for i in range(6)], flood
        # One chat: a burst of 3 (the broadcast's message took one), then one a second.
        assert flood[-1]["at_usec"] - flood[0]["at_usec"] >= 3e6, [m["at_usec"] for m in flood]
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


if __name__ == "__main__":
    run_tests(globals())
