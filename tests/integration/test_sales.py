# SPDX-License-Identifier: MIT
"""The sales bot (tgfleet-botd --sales) as a business owner uses it, on real parts: the sandbox as
Telegram and YooKassa, webhookd, paymentd, deployd, Redis, PostgreSQL and a private bus. The owner
talks to it as a Telegram user of the sandbox; what they see is asserted, and the database, the
token store and the deploy queue behind it. No systemd here: the deploy a payment requests is
queued, then ends dead-lettered (the system test deploys for real)."""

import os
import random
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import BOTD, BUILD, CTL, DEPLOYD, Apid, BotChat, Service, free_port, run_tests, wait_for
from shop import Shop

SALES = "platform_sales_bot"   # its username; our name for it is "sales"
OWNER, OTHER, OPERATOR = 4242, 4343, 1001


class Sales(BotChat):
    def __init__(self, workdir, extra="", sandbox_args=()):
        self.tokens = os.path.join(workdir, "tokens")
        os.makedirs(self.tokens)
        api_port = free_port()
        self.shop = Shop(workdir, botd=False, sandbox_args=sandbox_args, config_extra=(
            "[Sales]\nBot=sales\nReturnURL=https://t.me/" + SALES + "\nSupport=@platform_support\n"
            "[Deploy]\nTokenDirectory=" + self.tokens + "\nPublicURL=https://bots.example.test\nMaxAttempts=1\n"
            "ReconcileIntervalSec=1\n[Master]\nBot=master\nOperators=%d\n[Bots]\nRequestBurst=100\n"
            "[API]\nURL=http://127.0.0.1:%d\n" % (OPERATOR, api_port) + extra))
        s = self.shop
        BotChat.__init__(self, s.sandbox, SALES)
        self.token = s.sandbox.bot(SALES)
        s.webhookd.write_cred("bot-token-sales", self.token)
        status, answer = s.sandbox.api(self.token, "setWebhook", url="http://127.0.0.1:%d/tg/sales" % s.webhookd.port,
                                       secret_token=s.webhookd.secret("sales"))
        assert status == 200, answer
        common = ["--config=" + s.config, "--credentials-dir=" + s.webhookd.creds]
        self.deployd = Service(workdir, "deployd", DEPLOYD, common, env=s.bus.env()).start()
        self.botd = Service(workdir, "sales", BOTD, common + ["--sales", "--locale-dir=" + os.path.join(BUILD, "po")],
                            env=s.bus.env()).start()
        s.webhookd.write_cred("api-token", Apid.TOKEN)
        self.api = Apid(workdir, s.config, s.webhookd.creds, dict(s.bus.env(), PGDATABASE=s.db), port=api_port)

    def stop(self):
        self.api.service.stop()
        self.botd.stop()
        self.deployd.stop()
        self.shop.stop()

    def sql(self, query):
        return self.shop.sql(query)

    def new_business(self, user, plan, name, zone, token, username, language="en"):
        """As an owner, from /start to the summary with Pay: returns the summary."""
        en = language == "en"
        n = self.mark(user)
        self.say(user, "/start", language)
        self.wait(user, "What would you like to do?" if en else "Что хотите сделать?", after=n)
        n = self.mark(user)
        self.press(user, "🚀 New booking bot" if en else "🚀 Новый бот для записи")
        self.wait(user, "<b>New booking bot</b>" if en else "<b>Новый бот для записи</b>", after=n)
        self.press(user, plan)
        self.wait(user, "Step 1 of 3" if en else "Шаг 1 из 3")
        self.say(user, name, language)
        self.wait(user, "Step 2 of 3" if en else "Шаг 2 из 3")
        self.press(user, zone)
        n = self.mark(user)
        self.wait(user, "Step 3 of 3" if en else "Шаг 3 из 3")
        self.say(user, token, language)
        return self.wait(user, ("Bot @%s checked" if en else "Бот @%s проверен") % username, after=n)

    def client(self, bot_id, username, days, owner=OWNER):
        """A running client of @owner's, @username, paid for @days (as an operator would add it)."""
        t = int(self.sql("SELECT id FROM tenant_add('Salon %s', %d, %d, '%s', 'Europe/Moscow', 'test')"
                         % (username, owner, bot_id, username)))
        self.sql("SELECT tenant_set_status(%d, 'active', 'test', 'deployed')" % t)
        self.sql("SELECT tenant_extend(%d, %d, 'seed:%d', 'test')" % (t, days, t))
        return t

    def lifecycle(self, at):
        """tgfleetctl subscriptions run --now=@at (an SQL expression of the time): its output."""
        now = self.sql("SELECT (%s)::text" % at)
        r = subprocess.run([CTL, "--config=" + self.shop.config, "subscriptions", "run", "--now=" + now],
                           capture_output=True, text=True, env=dict(os.environ, PGDATABASE=self.shop.db))
        assert r.returncode == 0, r.stderr
        return r.stdout

    def tasks(self, action):
        """The deploy tasks of @action queued so far, as (tenant, actor)."""
        out = []
        for key in self.shop.redis.cli("--scan", "--pattern", "deploy:task:*").split():
            if self.shop.redis.cli("HGET", key, "action") == action:
                out.append((int(self.shop.redis.cli("HGET", key, "tenant")), self.shop.redis.cli("HGET", key, "actor")))
        return out

    def yookassa_id(self, tenant):
        return self.sql("SELECT provider_id FROM subscription_payments WHERE tenant_id = %d AND status = 'pending'"
                        % tenant)


def test_a_new_business_buys_its_bot(workdir):
    s = Sales(workdir)
    try:
        token = s.sandbox.bot("anna_salon_bot")
        s.say(OWNER, "/start")
        welcome = s.wait(OWNER, "Your own booking bot")
        # The plans, with their monthly price and saving; the support contact.
        for line in ("30 days — ₽299.00", "90 days — ₽799.00 (₽266.33 a month, you save 11%)",
                     "365 days — ₽2,499.00 (₽205.40 a month, you save 31%)", "Support: @platform_support"):
            assert line in welcome["html"], welcome["html"]
        summary = s.new_business(OWNER, "30 days — ₽299.00", "Салон «Анна» & <Co>", "Moscow (UTC+3)", token,
                                 "anna_salon_bot")
        assert "Business: <b>Салон «Анна» &amp; &lt;Co&gt;</b>" in summary["html"], summary["html"]
        assert "Time zone: Europe/Moscow" in summary["html"] and "Plan: 30 days — ₽299.00" in summary["html"]
        # The token: its message deleted at once, kept in the token store for a pending client,
        # nowhere in Redis or a log.
        assert not [m for m in s.messages(OWNER) if m["from"] == "user" and m["text"] == token]
        tenant = int(s.sql("SELECT id FROM tenants"))
        assert s.sql("SELECT status || ' ' || owner_id || ' ' || time_zone || ' ' || (pending_until > now()) "
                     "FROM tenants") == "pending %d Europe/Moscow true" % OWNER
        with open(os.path.join(s.tokens, str(tenant))) as f:
            assert f.read() == token
        secret = token.split(":")[1]
        assert secret not in s.shop.redis.cli("--scan")
        for key in s.shop.redis.cli("--scan").split():
            if s.shop.redis.cli("TYPE", key) == "stream":
                assert secret not in s.shop.redis.cli("XRANGE", key, "-", "+"), key
        # Pay: YooKassa's page, and the same payment on a second tap.
        n = s.mark(OWNER)
        s.press(OWNER, "💳 Pay")
        payment = s.wait(OWNER, "Tap Pay to pay with YooKassa", after=n)
        url = [b["url"] for b in s.buttons(payment) if "url" in b][0]
        pid = re.search(r"sp-[0-9a-f]{20}", payment["html"]).group(0)
        assert not s.press_data(OWNER, "pay:%d:30:0" % tenant)
        assert s.sql("SELECT count(*) FROM subscription_payments") == "1"
        assert "Not paid yet" in s.press_data(OWNER, "ck:" + pid)
        # Paid: the owner is told, the client extended once, its deploy queued once, the operators told.
        yk = s.yookassa_id(tenant)
        assert url.endswith(yk), (url, yk)
        n = s.mark(OWNER)
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk)[0] == 200
        s.wait(OWNER, "Payment received: ₽299.00.\nYour bot @anna_salon_bot is being set up", after=n)
        assert s.sql("SELECT paid_until::date - now()::date FROM tenants") == "30"
        assert s.sql("SELECT count(*) FROM tenant_audit WHERE action = 'request' AND actor = 'subscription'") == "1"
        wait_for(lambda: "New client #%d" % tenant in s.shop.redis.cli("XRANGE", "out:master", "-", "+"),
                 what="the operators told of the sale")
        # No systemd here: the deploy fails, and the owner hears that the team is on it.
        s.wait(OWNER, "could not be started yet", timeout=30)
        assert s.sql("SELECT status FROM tenants") == "failed"
        tasks = s.shop.redis.cli("--scan", "--pattern", "deploy:task:*").split()
        assert len(tasks) == 1 and s.shop.redis.cli("HGET", tasks[0], "actor") == "subscription", tasks
        # Check payment afterwards: the payment as it ended.
        assert not s.press_data(OWNER, "ck:" + pid)
        s.wait(OWNER, "✅ Paid: ₽299.00 for 30 days.")
        # The operator's views: the payment, the client's plan and latest payments, the stats.
        status, page, _ = s.api.request("GET", "/api/payments?client_id=%d" % tenant)
        assert status == 200 and page["total"] == 1, page
        p = page["items"][0]
        assert (p["id"], p["amount"], p["amount_minor"], p["currency"], p["status"], p["days"], p["provider_id"],
                p["auto_renew"], p["owner_id"]) == (pid, "299.00", 29900, "RUB", "succeeded", 30, yk, False, OWNER), p
        assert s.api.request("GET", "/api/payments?status=pending")[1]["total"] == 0
        assert s.api.request("GET", "/api/payments?status=bogus")[0] == 400
        status, card, _ = s.api.request("GET", "/api/clients/%d" % tenant)
        assert (card["plan_days"], card["auto_renew"], card["suspended_for"]) == (30, False, None), card
        assert [x["id"] for x in card["payments"]] == [pid], card
        stats = s.api.request("GET", "/api/stats")[1]
        assert stats["revenue_today"] == {"RUB": "299.00"} and stats["revenue_30_days"] == {"RUB": "299.00"}, stats
        assert (stats["new_clients_30_days"], stats["renewals_30_days"], stats["churned_30_days"]) == (1, 0, 0), stats
        r = subprocess.run([CTL, "--config=" + s.shop.config, "--credentials-dir=" + s.shop.webhookd.creds, "payments",
                            "list", "--client=%d" % tenant], capture_output=True, text=True)
        assert r.returncode == 0 and pid in r.stdout and "299.00 RUB" in r.stdout and "succeeded" in r.stdout, r
        # My bots.
        n = s.mark(OWNER)
        s.say(OWNER, "🤖 My bots")
        mine = s.wait(OWNER, "<b>My bots</b>", after=n)
        assert "@anna_salon_bot" in mine["html"] and "not started, our team is on it" in mine["html"], mine["html"]
        for log in ("sales", "deployd", "paymentd", "webhookd"):
            with open(os.path.join(workdir, log + ".log")) as f:
                assert secret not in f.read(), log
    finally:
        s.stop()


def test_every_bad_input_is_answered_and_changes_nothing(workdir):
    s = Sales(workdir)
    try:
        token = s.sandbox.bot("taken_salon_bot")
        s.say(OWNER, "/start")
        s.wait(OWNER, "What would you like to do?")
        # A token pasted before it is asked for: deleted all the same, and nothing made of it.
        n = s.mark(OWNER)
        s.say(OWNER, token)
        s.wait(OWNER, "That looks like a bot token: I deleted it from the chat.", after=n)
        assert not [m for m in s.messages(OWNER) if m["from"] == "user" and m.get("text") == token]
        assert s.sql("SELECT count(*) FROM tenants") == "0" and os.listdir(s.tokens) == []
        s.press(OWNER, "🚀 New booking bot")
        s.wait(OWNER, "Choose a plan")
        s.press(OWNER, "90 days — ₽799.00")
        s.wait(OWNER, "Step 1 of 3")
        n = s.mark(OWNER)
        s.say(OWNER, "x" * 101)
        s.wait(OWNER, "1 to 100 characters", after=n)
        s.say(OWNER, "   ")
        s.say(OWNER, "Barber")
        s.wait(OWNER, "Step 2 of 3")
        n = s.mark(OWNER)
        for zone in ("Mars/Olympus", "../../etc/passwd", "Europe/Moscow; DROP"):
            s.say(OWNER, zone)
        wait_for(lambda: sum("I do not know this time zone" in t for t in s.texts(OWNER)) == 3,
                 what="three refusals")
        s.say(OWNER, "Asia/Almaty")
        s.wait(OWNER, "Step 3 of 3")
        n = s.mark(OWNER)
        s.say(OWNER, "not a token")
        s.wait(OWNER, "That is not a bot token", after=n)
        n = s.mark(OWNER)
        s.say(OWNER, "123456789:" + "A" * 35)   # well formed, but Telegram knows no such bot
        s.wait(OWNER, "Telegram does not accept this token", after=n)
        assert s.sql("SELECT count(*) FROM tenants") == "0" and os.listdir(s.tokens) == []
        # Someone else's bot (a client already): refused.
        s.sql("SELECT tenant_add('Taken', 99, %s, 'taken_salon_bot', 'Europe/Moscow', 'test')" % token.split(":")[0])
        n = s.mark(OWNER)
        s.say(OWNER, token)
        s.wait(OWNER, "already connected to our platform", after=n)
        assert s.sql("SELECT count(*) FROM tenants") == "1" and os.listdir(s.tokens) == []
        # Forged and stale buttons.
        other = int(s.sql("SELECT id FROM tenants"))
        for data in ("pay:%d:30:0" % other, "pay:%d:31:0" % other, "pay:1:30:7", "np:31", "xp:1:45", "ck:sp-nope",
                     "tz:99", "tz:-1", "np:0", "tr:%d" % other, "whatever"):
            answer = s.press_data(OWNER, data)
            assert "no longer valid" in (answer or ""), (data, answer)
        assert s.sql("SELECT count(*) FROM subscription_payments") == "0"
        # /cancel ends the flow.
        n = s.mark(OWNER)
        s.say(OWNER, "/cancel")
        s.wait(OWNER, "Cancelled.", after=n)
        s.say(OWNER, "Europe/Moscow")
        s.wait(OWNER, "Choose what to do with the buttons below", after=n)
    finally:
        s.stop()


def test_extend_cancel_and_russian(workdir):
    """An owner's bots and their extension, a payment that does not go through (told why, in
    Russian), and a retry that pays."""
    s = Sales(workdir)
    try:
        tenant = int(s.sql("SELECT id FROM tenant_add('Салон', %d, 777, 'salon_bot', 'Europe/Moscow', 'test')" % OWNER))
        s.sql("SELECT tenant_set_status(%d, 'active', 'test', 'deployed')" % tenant)
        s.sql("SELECT tenant_extend(%d, 5, 'seed', 'test')" % tenant)
        n = s.mark(OWNER)
        s.say(OWNER, "/mybots", "ru")
        mine = s.wait(OWNER, "<b>Мои боты</b>", after=n)
        assert "@salon_bot" in mine["html"] and "✅ работает" in mine["html"] and "Оплачен до" in mine["html"], mine["html"]
        # Another owner sees none of it.
        s.say(OTHER, "/mybots")
        s.wait(OTHER, "You have no bots yet.")
        s.press(OWNER, "🔁 Продлить @salon_bot")
        s.wait(OWNER, "Выберите тариф:")
        s.press(OWNER, "180 дней — 1\u00a0499,00\u00a0₽")
        s.wait(OWNER, "Дни добавляются к оставшимся")
        n = s.mark(OWNER)
        s.press(OWNER, "💳 Оплатить")
        s.wait(OWNER, "Нажмите «Оплатить»", after=n)
        yk = s.yookassa_id(tenant)
        n = s.mark(OWNER)
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/cancel" % yk, {"reason": "insufficient_funds"})[0] == 200
        s.wait(OWNER, "не прошёл: не хватило денег", after=n)
        assert s.sql("SELECT paid_until::date - now()::date FROM tenants") == "5"
        n = s.mark(OWNER)
        s.press(OWNER, "💳 Попробовать ещё раз")
        s.wait(OWNER, "Нажмите «Оплатить»", after=n)
        yk2 = s.yookassa_id(tenant)
        assert yk2 and yk2 != yk
        # Paid as the quick start tells a newcomer to: the sandbox takes the id the chat shows.
        ours = s.sql("SELECT id FROM subscription_payments WHERE provider_id = '%s'" % yk2)
        n = s.mark(OWNER)
        r = subprocess.run([CTL, "--config=" + s.shop.config, "sandbox", "yookassa", "succeed", ours],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        s.wait(OWNER, "«Салон» (@salon_bot) оплачен до", after=n)
        assert s.sql("SELECT paid_until::date - now()::date FROM tenants") == "185"
        assert s.sql("SELECT status FROM tenants") == "active"   # a renewal deploys nothing
        wait_for(lambda: "renewed" in s.shop.redis.cli("XRANGE", "out:master", "-", "+"),
                 what="the operators told of the renewal")
    finally:
        s.stop()


def test_an_unpaid_client_is_removed_with_its_token(workdir):
    s = Sales(workdir, extra="[Sales]\nPendingTTLSec=2\n")
    try:
        token = s.sandbox.bot("late_salon_bot")
        s.new_business(OWNER, "30 days — ₽299.00", "Late", "Moscow (UTC+3)", token, "late_salon_bot")
        tenant = int(s.sql("SELECT id FROM tenants"))
        assert os.path.exists(os.path.join(s.tokens, str(tenant)))
        wait_for(lambda: s.sql("SELECT status FROM tenants") == "removed", timeout=15, what="the client expired")
        wait_for(lambda: not os.path.exists(os.path.join(s.tokens, str(tenant))), what="its token deleted")
        assert s.sql("SELECT count(*) FROM tenant_audit WHERE action = 'expire'") == "1"
        # The same bot can be sold again afterwards.
        s.new_business(OWNER, "30 days — ₽299.00", "Late again", "Moscow (UTC+3)", token, "late_salon_bot")
        assert s.sql("SELECT count(*) FROM tenants") == "2"
    finally:
        s.stop()


def test_the_lifecycle_with_a_moved_clock(workdir):
    """Reminders once each, silenced by a renewal; suspension at the end of the paid time with
    Renew; the last warning and the removal; a payment resuming a client suspended for
    non-payment; runs repeated and racing each other doubling nothing."""
    s = Sales(workdir)
    try:
        s.say(OWNER, "/start")   # Telegram lets a bot write only to those who started it
        s.wait(OWNER, "What would you like to do?")

        def client(bot_id, username):
            return s.client(bot_id, username, 10)
        a = client(901, "anna_bot")
        until = "(SELECT paid_until FROM tenants WHERE id = %d)" % a
        assert s.lifecycle("now()") == "Nothing is due.\n"
        # 71 hours before the end: the 72-hour reminder, once, however often and however many run.
        with ThreadPoolExecutor(5) as pool:
            outs = list(pool.map(lambda _: s.lifecycle(until + " - interval '71 hours'"), range(5)))
        assert sorted(outs)[-1] == "client %d: reminded, 72 h before its paid time ends\n" % a, outs
        assert sum("reminded" in o for o in outs) == 1, outs
        s.wait(OWNER, "hours left. Renew")
        reminder = s.wait(OWNER, "72 hours left")
        assert [b["callback_data"] for b in s.buttons(reminder)] == ["ex:%d" % a], reminder
        # A run that missed the 24-hour mark sends the 24-hour one, once; then nothing more.
        assert s.lifecycle(until + " - interval '2 hours'") == "client %d: reminded, 24 h before its paid time ends\n" % a
        assert s.lifecycle(until + " - interval '1 hour'") == "Nothing is due.\n"
        s.wait(OWNER, "24 hours left")
        wait_for(lambda: s.sql("SELECT count(*) FROM subscription_notices WHERE NOT published") == "0",
                 what="the notices published")
        assert sum("hours left" in t for t in s.texts(OWNER)) == 2, s.texts(OWNER)
        # A renewal silences a reminder not yet sent: paymentd stopped, the notice made, the client
        # paid for, paymentd back: nothing is said.
        b = client(902, "boris_bot")
        s.shop.paymentd.stop()
        assert "reminded" in s.lifecycle("(SELECT paid_until FROM tenants WHERE id = %d) - interval '3 hours'" % b)
        s.sql("SELECT tenant_extend(%d, 30, 'renewal', 'test')" % b)
        s.shop.paymentd.start()
        wait_for(lambda: s.sql("SELECT count(*) FROM subscription_notices WHERE NOT published") == "0",
                 what="the stale notice published")
        assert not [t for t in s.texts(OWNER) if "boris_bot" in t and "left" in t], s.texts(OWNER)
        # Suspended by an operator: the lifecycle leaves it alone from here on.
        s.sql("SELECT tenant_set_status(%d, 'suspended', 'test', 'operator')" % b)
        # The end of the paid time: suspended once, the owner told with Renew, the operators too.
        n = s.mark(OWNER)
        assert s.lifecycle(until + " + interval '1 second'") == "client %d: paid time over, suspended\n" % a
        assert s.lifecycle(until + " + interval '2 seconds'") == "Nothing is due.\n"
        expired = s.wait(OWNER, "and the bot is stopped", after=n)
        assert [b["callback_data"] for b in s.buttons(expired)] == ["ex:%d" % a]
        wait_for(lambda: s.tasks("suspend") == [(a, "subscription")], what="one suspend task")
        wait_for(lambda: "is being suspended" in s.shop.redis.cli("XRANGE", "out:master", "-", "+"),
                 what="the operators told")
        assert s.sql("SELECT suspended_for FROM tenants WHERE id = %d" % a) == "expired"
        # No systemd here to stop its unit: the client is marked suspended as the worker would.
        s.sql("SELECT tenant_set_status(%d, 'suspended', 'test', 'stopped')" % a)
        # 27 days on: the last warning; 30 days on: the removal, queued once.
        assert s.lifecycle(until + " + interval '27 days 1 hour'") == "client %d: warned of its removal\n" % a
        s.wait(OWNER, "with all its settings, unless you renew it")
        assert s.lifecycle(until + " + interval '30 days 1 second'") == "client %d: removed\n" % a
        assert s.lifecycle(until + " + interval '31 days'") == "Nothing is due.\n"
        s.wait(OWNER, "You can create a new booking bot at any time")
        wait_for(lambda: s.tasks("remove") == [(a, "subscription")], what="one remove task")
        assert s.sql("SELECT string_agg(action, ',' ORDER BY id) FROM tenant_audit WHERE tenant_id = %d AND "
                     "actor = 'subscription'" % a) == "remind,remind,request,last_warning,request"
        # A client suspended for non-payment who pays is extended from now and resumed.
        c = client(903, "clara_bot")
        s.sql("UPDATE tenants SET paid_until = now() - interval '1 day' WHERE id = %d" % c)
        assert "suspended" in s.lifecycle("now()")
        s.sql("SELECT tenant_set_status(%d, 'suspended', 'test', 'stopped')" % c)
        s.press_data(OWNER, "pay:%d:30:0" % c)
        yk = s.yookassa_id(c)
        n = s.mark(OWNER)
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk)[0] == 200
        s.wait(OWNER, "and starting again", after=n)
        assert s.sql("SELECT coalesce(suspended_for, '-') || ' ' || (paid_until::date - now()::date) "
                     "FROM tenants WHERE id = %d" % c) == "- 30"
        assert s.sql("SELECT count(*) FROM tenant_audit WHERE tenant_id = %d AND actor = 'subscription' AND "
                     "action = 'request' AND detail->>'action' = 'resume'" % c) == "1"
        wait_for(lambda: s.tasks("resume") == [(c, "subscription")], what="one resume task")
    finally:
        s.stop()


def test_auto_renewal(workdir):
    """A client paid with "Pay and renew automatically" renews itself before its paid time ends:
    charged once to the saved method, extended once, the owner and the operators told, even when
    the renewal was made while paymentd was down. A renewal the bank refuses is told with Renew and
    the reminders follow; one refused because the payer withdrew the method turns auto-renewal
    off; the owner switches it off in My bots (in Russian), and nothing is charged any more.
    What tgfleetctl makes wakes paymentd at once: its own runs, every IntervalSec=60, come too late
    for any of the waits here."""
    s = Sales(workdir)
    try:
        s.say(OWNER, "/start")
        s.wait(OWNER, "What would you like to do?")

        def auto_client(bot_id, username):
            t = s.client(bot_id, username, 1)
            s.press_data(OWNER, "pay:%d:30:1" % t)
            yk = s.yookassa_id(t)
            n = s.mark(OWNER)
            assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk)[0] == 200
            s.wait(OWNER, "(@%s) is paid until" % username, after=n)
            assert s.sql("SELECT method_id FROM subscription_payments WHERE tenant_id = %d" % t) == yk
            return t, yk

        def renewals(t, status):
            return s.sql("SELECT count(*) FROM subscription_payments WHERE tenant_id = %d AND renews_until IS NOT NULL "
                         "AND status = '%s'" % (t, status))

        def due_in(t, hours):
            s.sql("UPDATE tenants SET paid_until = now() + interval '%d hours' WHERE id = %d" % (hours, t))

        a, method = auto_client(911, "auto_bot")
        # 90 hours before the end (RenewBefore=96h), made while paymentd is down: charged when it is
        # back, to the saved method, once; the client extended by the plan from where it was.
        s.shop.paymentd.stop()
        due_in(a, 90)
        out = s.lifecycle("now()")
        assert re.fullmatch(r"client %d: renewal sp-[0-9a-f]{20} made, charged to the saved method by "
                            r"tgfleet-paymentd\n" % a, out), out
        assert s.lifecycle("now()") == "Nothing is due.\n"
        n = s.mark(OWNER)
        s.shop.paymentd.start()
        s.wait(OWNER, "«Salon auto_bot» (@auto_bot) renewed automatically: ₽299.00 charged to your saved card, paid "
                      "until", after=n)
        assert renewals(a, "succeeded") == "1"
        assert s.sql("SELECT t.paid_until - s.renews_until = interval '30 days' FROM tenants t JOIN "
                     "subscription_payments s ON s.tenant_id = t.id AND s.renews_until IS NOT NULL "
                     "WHERE t.id = %d" % a) == "t"
        assert s.sql("SELECT count(*) FROM tenant_audit WHERE tenant_id = %d AND action = 'renew'" % a) == "1"
        wait_for(lambda: "renewed automatically" in s.shop.redis.cli("XRANGE", "out:master", "-", "+"),
                 what="the operators told of the renewal")
        # Paid far ahead now: nothing more is due, and no reminder of the old end comes.
        assert "client %d" % a not in s.lifecycle("now() + interval '20 hours'")
        assert not [t for t in s.texts(OWNER) if "hours left" in t], s.texts(OWNER)
        # The bank refuses the next one: the owner told why, with Renew; the method kept; the
        # reminders follow; the renewal is not tried twice for the same end.
        r = subprocess.run([CTL, "--config=" + s.shop.config, "sandbox", "yookassa", "decline", method],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        n = s.mark(OWNER)
        due_in(a, 90)
        s.lifecycle("now()")
        refused = s.wait(OWNER, "The automatic renewal of «Salon auto_bot» (@auto_bot), ₽299.00, did not go through: "
                                "there was not enough money.", after=n)
        assert "renew it by hand" in refused["html"] and "is now off" not in refused["html"], refused["html"]
        assert [b["callback_data"] for b in s.buttons(refused)] == ["ex:%d" % a], refused
        assert renewals(a, "canceled") == "1"
        assert s.sql("SELECT count(*) FROM subscription_payments WHERE tenant_id = %d AND method_id IS NOT NULL "
                     "AND status = 'succeeded'" % a) == "2"
        wait_for(lambda: "was refused (insufficient_funds)" in s.shop.redis.cli("XRANGE", "out:master", "-", "+"),
                 what="the operators told of the refusal")
        assert "renewal" not in s.lifecycle("now() + interval '1 hour'")
        assert "client %d: reminded, 72 h" % a in s.lifecycle("now() + interval '19 hours'")
        s.wait(OWNER, "72 hours left")
        assert renewals(a, "canceled") == "1" and renewals(a, "succeeded") == "1"

        # The payer withdrew the method: the renewal refused, and auto-renewal off at once.
        b, method_b = auto_client(912, "revoked_bot")
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/revoke" % method_b)[0] == 200
        n = s.mark(OWNER)
        due_in(b, 90)
        s.lifecycle("now()")
        off = s.wait(OWNER, "(@revoked_bot), ₽299.00, did not go through: the permission to charge the saved card was "
                            "withdrawn", after=n)
        assert "Automatic renewal is now off." in off["html"], off["html"]
        assert s.sql("SELECT count(*) FROM subscription_payments WHERE tenant_id = %d AND method_id IS NOT NULL" % b) == "0"
        assert s.sql("SELECT detail->>'why' FROM tenant_audit WHERE tenant_id = %d AND action = 'auto_renew_off'"
                     % b) == "permission_revoked"
        s.sql("UPDATE tenants SET paid_until = now() + interval '89 hours' WHERE id = %d" % b)
        assert "client %d: renewal" % b not in s.lifecycle("now()")

        # Switched off by the owner in My bots, in Russian; another owner cannot.
        c, _ = auto_client(913, "manual_bot")
        n = s.mark(OWNER)
        s.say(OWNER, "/mybots", "ru")
        mine = s.wait(OWNER, "<b>Мои боты</b>", after=n)
        assert "🔁 Продлевается автоматически" in mine["html"], mine["html"]
        labels = [x["text"] for x in s.buttons(mine)]
        assert "⏹ Отключить автопродление @manual_bot" in labels and "⏹ Отключить автопродление @revoked_bot" not in labels, labels
        s.say(OTHER, "/start")
        s.wait(OTHER, "What would you like to do?")
        assert s.press_data(OTHER, "ar0:%d" % c) == "This button is no longer valid."
        n = s.mark(OWNER)
        assert "Автопродление отключено" in s.press_answer(OWNER, "⏹ Отключить автопродление @manual_bot")
        mine = s.wait(OWNER, "<b>Мои боты</b>", after=n)
        assert "⏹ Отключить автопродление @manual_bot" not in [x["text"] for x in s.buttons(mine)], mine
        assert s.sql("SELECT actor FROM tenant_audit WHERE tenant_id = %d AND action = 'auto_renew_off'" % c) == \
            "owner:%d" % OWNER
        assert "Автопродление уже было отключено" in s.press_data(OWNER, "ar0:%d" % c)
        due_in(c, 90)
        assert "client %d: renewal" % c not in s.lifecycle("now()")
        assert renewals(c, "new") == "0" and renewals(c, "succeeded") == "0"
        status, card, _ = s.api.request("GET", "/api/clients/%d" % c)
        assert card["auto_renew"] is False, card
    finally:
        s.stop()


def test_free_trial(workdir):
    """[Sales] TrialDays=14: a new business starts free, no card; deployed like a paid one, the
    owner and the operators told. Once per Telegram user (a second business is offered the plans,
    and pays) and once per bot (a removed client's bot, added again by someone else, gets none);
    nothing counted as revenue. A forged trial button changes nothing."""
    s = Sales(workdir, extra="[Sales]\nTrialDays=14\n")
    try:
        token = s.sandbox.bot("trial_salon_bot")
        s.say(OWNER, "/start")
        welcome = s.wait(OWNER, "Your own booking bot")
        assert "🎁 Free trial — 14 days, no card needed" in welcome["html"], welcome["html"]
        s.say(OWNER, "/faq")
        s.wait(OWNER, "Yes: 14 days free, once per person and per bot")
        summary = s.new_business(OWNER, "🎁 Free trial — 14 days", "Trial Salon", "Moscow (UTC+3)", token, "trial_salon_bot")
        assert "Plan: 🎁 Free trial — 14 days" in summary["html"] and "no card needed" in summary["html"], summary
        assert [b["text"] for b in s.buttons(summary)] == ["🎁 Start the free trial", "✖️ Cancel"], summary
        tenant = int(s.sql("SELECT id FROM tenants"))
        # Someone else cannot start it for them.
        s.say(OTHER, "/start")
        s.wait(OTHER, "What would you like to do?")
        assert s.press_data(OTHER, "tr:%d" % tenant) == "This button is no longer valid."
        assert s.sql("SELECT count(*) FROM subscription_payments") == "0"
        n = s.mark(OWNER)
        s.press(OWNER, "🎁 Start the free trial")
        s.wait(OWNER, "🎁 Your free trial of 14 days has begun.", after=n)
        s.wait(OWNER, "🎁 Free trial: «Trial Salon» (@trial_salon_bot) runs free until", after=n)
        assert s.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % tenant) == "14"
        wait_for(lambda: "started a free trial of 14 days" in s.shop.redis.cli("XRANGE", "out:master", "-", "+"),
                 what="the operators told of the trial")
        wait_for(lambda: s.tasks("deploy") == [(tenant, "subscription")], what="the deploy queued once")
        s.wait(OWNER, "could not be started yet", timeout=30)   # no systemd here
        # A second tap: the same trial, nothing more.
        assert not s.press_data(OWNER, "tr:%d" % tenant)
        assert s.sql("SELECT count(*) || ' ' || bool_and(trial) || ' ' || sum(amount_minor) FROM subscription_payments") \
            == "1 true 0"
        assert s.sql("SELECT paid_until::date - now()::date FROM tenants WHERE id = %d" % tenant) == "14"
        assert s.tasks("deploy") == [(tenant, "subscription")]
        status, page, _ = s.api.request("GET", "/api/payments?client_id=%d" % tenant)
        p = page["items"][0]
        assert (p["trial"], p["amount"], p["status"], p["provider_id"], p["days"]) == (True, "0.00", "succeeded", None, 14), p
        stats = s.api.request("GET", "/api/stats")[1]
        assert stats["revenue_30_days"] == {"RUB": "0.00"}, stats   # a trial is a payment of nothing
        assert stats["new_clients_30_days"] == 1, stats

        # The same owner's second business: no second trial; a plan starts it.
        token2 = s.sandbox.bot("second_salon_bot")
        s.new_business(OWNER, "🎁 Free trial — 14 days", "Second Salon", "Moscow (UTC+3)", token2, "second_salon_bot")
        second = int(s.sql("SELECT id FROM tenants WHERE bot_username = 'second_salon_bot'"))
        n = s.mark(OWNER)
        s.press(OWNER, "🎁 Start the free trial")
        offer = s.wait(OWNER, "You have had a free trial already", after=n)
        assert s.sql("SELECT status || ' ' || (paid_until IS NULL) FROM tenants WHERE id = %d" % second) == "pending true"
        assert s.sql("SELECT count(*) FROM subscription_payments") == "1"
        assert "🎁 Free trial — 14 days" not in [b["text"] for b in s.buttons(offer)], offer
        s.press(OWNER, "30 days — ₽299.00")
        s.wait(OWNER, "The days are added to what is left")
        n = s.mark(OWNER)
        s.press(OWNER, "💳 Pay")
        s.wait(OWNER, "Tap Pay to pay with YooKassa", after=n)
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % s.yookassa_id(second))[0] == 200
        s.wait(OWNER, "Payment received: ₽299.00.\nYour bot @second_salon_bot is being set up", after=n)

        # The first bot, removed, and added again by someone else, in Russian: no trial for it.
        s.sql("UPDATE tenants SET status = 'removed' WHERE id = %d" % tenant)
        summary = s.new_business(OTHER, "🎁 Пробный период — 14 дней", "Салон", "Москва (UTC+3)", token,
                                 "trial_salon_bot", "ru")
        n = s.mark(OTHER)
        s.press(OTHER, "🎁 Начать пробный период")
        s.wait(OTHER, "Вы уже пользовались пробным периодом", after=n)
        assert s.sql("SELECT count(*) FROM subscription_payments WHERE trial") == "1"
    finally:
        s.stop()


def test_receipts(workdir):
    """[YooKassa] Receipt=yes with a shop that wants 54-FZ receipts (the sandbox refuses any payment
    without a valid one): the owner is asked once for the e-mail or phone the receipts go to, a bad
    one is refused and changes nothing; every payment, an automatic renewal too, carries the
    receipt; a renewal with no contact to send it to is not charged, and auto-renewal goes off."""
    s = Sales(workdir, extra="[YooKassa]\nReceipt=yes\nVatCode=1\nTaxSystemCode=2\n",
              sandbox_args=("--yookassa-receipts",))
    try:
        token = s.sandbox.bot("receipt_salon_bot")
        s.new_business(OWNER, "30 days — ₽299.00", "Receipt Salon", "Moscow (UTC+3)", token, "receipt_salon_bot")
        tenant = int(s.sql("SELECT id FROM tenants"))
        n = s.mark(OWNER)
        s.press(OWNER, "💳 Pay and renew automatically")
        s.wait(OWNER, "For the receipt the law requires (54-FZ)", after=n)
        assert s.sql("SELECT count(*) FROM subscription_payments WHERE provider_id IS NOT NULL") == "0"
        n = s.mark(OWNER)
        s.say(OWNER, "my phone is 900")
        s.wait(OWNER, "That is neither an e-mail nor a phone number", after=n)
        assert s.sql("SELECT count(*) FROM subscription_customers") == "0"
        n = s.mark(OWNER)
        s.say(OWNER, "8 (900) 123-45-67")
        s.wait(OWNER, "Thank you: your receipts go there.", after=n)
        s.wait(OWNER, "Tap Pay to pay with YooKassa", after=n)
        assert s.sql("SELECT kind || ' ' || contact FROM subscription_customers WHERE owner_id = %d" % OWNER) == \
            "phone 79001234567"
        yk = s.yookassa_id(tenant)
        n = s.mark(OWNER)
        assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % yk)[0] == 200
        s.wait(OWNER, "Payment received: ₽299.00.", after=n)
        for log in ("sales", "paymentd"):
            with open(os.path.join(workdir, log + ".log")) as f:
                assert "9001234567" not in f.read(), log
        s.wait(OWNER, "could not be started yet", timeout=30)   # no systemd here
        # Asked once: the next payment goes straight to YooKassa.
        n = s.mark(OWNER)
        assert not s.press_data(OWNER, "pay:%d:90:0" % tenant)
        s.wait(OWNER, "<b>₽799.00</b> for 90 days", after=n)
        assert len([t for t in s.texts(OWNER) if "For the receipt" in t]) == 1
        # The automatic renewal carries the receipt too.
        s.sql("UPDATE tenants SET status = 'active', paid_until = now() + interval '90 hours' WHERE id = %d" % tenant)
        n = s.mark(OWNER)
        assert "renewal" in s.lifecycle("now()")
        s.wait(OWNER, "renewed automatically: ₽299.00 charged to your saved card", after=n)
        # Without a contact (receipts turned on since), a renewal is not charged; auto-renewal goes off.
        s.sql("DELETE FROM subscription_customers")
        s.sql("UPDATE tenants SET paid_until = now() + interval '90 hours' WHERE id = %d" % tenant)
        n = s.mark(OWNER)
        s.lifecycle("now()")
        off = s.wait(OWNER, "did not go through: there is no e-mail or phone number to send its receipt to", after=n)
        assert "Automatic renewal is now off." in off["html"], off["html"]
        assert s.sql("SELECT count(*) FROM subscription_payments WHERE renews_until IS NOT NULL AND provider_id IS NOT NULL") \
            == "1"
    finally:
        s.stop()


def test_kill_9_during_100_subscription_payments(workdir):
    """100 owners each pay for their client while paymentd and the sales bot are killed with
    SIGKILL at random moments and started again; some press Check payment meanwhile. Afterwards
    every client is extended exactly once, by 30 days, and every owner told exactly once."""
    s = Sales(workdir, extra="[Payments]\nReconcileAfterSec=1\n")
    rng = random.Random(16)
    stop = threading.Event()
    kills = []
    owners = [70000 + i for i in range(100)]

    def chaos():
        while not stop.wait(rng.uniform(0.4, 1.2)):
            victim = rng.choice((s.botd, s.shop.paymentd))
            victim.kill()
            kills.append(victim.name)
            time.sleep(rng.uniform(0.05, 0.4))
            victim.start(wait=False)

    try:
        tenants = {u: s.client(80000 + i, "chaos%d_bot" % i, 10, owner=u) for i, u in enumerate(owners)}
        before = {u: s.sql("SELECT paid_until FROM tenants WHERE id = %d" % t) for u, t in tenants.items()}

        shown = {}

        def open_payment(u):
            s.say(u, "/start")
            s.wait(u, "What would you like to do?")
            assert not s.press_data(u, "pay:%d:30:0" % tenants[u])
            shown[u] = s.wait(u, "Tap Pay to pay with YooKassa")["message_id"]

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(open_payment, owners))
        payments = {u: s.yookassa_id(tenants[u]) for u in owners}
        assert all(payments.values()), payments
        killer = threading.Thread(target=chaos)
        killer.start()

        def pay(u):
            assert s.sandbox.call("POST", "/sandbox/yookassa/%s/succeed" % payments[u])[0] == 200
            if u % 3 == 0:   # Check payment on the payment's message, racing the notification
                status, _ = s.sandbox.call("POST", "/sandbox/bots/%s/users/%d/press" % (SALES, u),
                                           {"message_id": shown[u],
                                            "data": "ck:" + s.sql("SELECT id FROM subscription_payments "
                                                                  "WHERE provider_id = '%s'" % payments[u])})
                assert status == 200
            time.sleep(rng.uniform(0.1, 0.5))   # payments spread over the kills

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(pay, owners))
        time.sleep(3)
        stop.set()
        killer.join()
        for svc in (s.botd, s.shop.paymentd):
            if svc.proc is None:
                svc.start()
        wait_for(lambda: s.sql("SELECT count(*) FROM subscription_payments WHERE status = 'succeeded'") == "100",
                 timeout=60, what="every payment confirmed")
        for u in owners:
            s.wait(u, "Payment received: ₽299.00.", timeout=60)
        time.sleep(2)   # anything told twice would be here by now
        for u in owners:
            told = [t for t in s.texts(u) if "Payment received" in t]
            assert len(told) == 1, (u, told)
            assert s.sql("SELECT paid_until - '%s'::timestamptz = interval '30 days' FROM tenants WHERE id = %d"
                         % (before[u], tenants[u])) == "t", u
        assert s.sql("SELECT count(*) FROM tenant_audit WHERE action = 'extend' AND actor = 'paymentd'") == "100"
        assert len(kills) >= 2, kills
        print("%d kills (%s)" % (len(kills), ", ".join(kills)), flush=True)
    finally:
        stop.set()
        s.stop()


if __name__ == "__main__":
    run_tests(globals())
