# SPDX-License-Identifier: MIT
"""The whole Stars shop on real parts: Redis, PostgreSQL (migrated), a private system bus,
tgfleet-sandbox as Telegram and Heleket, and the real webhookd, paymentd and botd."""

import os
import re
import subprocess

from harness import (BOTD, BUILD, CTL, PAYMENTD, SOURCE, Redis, Sandbox, Service, SystemBus, Webhookd, psql, wait_for)
from test_ctl import fresh_database

BOT = "shop"              # our name: /tg/shop, updates:shop
BOT_USERNAME = "stars_shop_bot"


class Shop:
    def __init__(self, workdir, config_extra="", botd=True, callback=True, sandbox_args=()):
        self.workdir = workdir
        self.redis = Redis(workdir)
        self.db, self.conninfo = fresh_database()
        self.bus = SystemBus(workdir)
        self.webhookd = Webhookd(workdir, self.redis, database=self.conninfo, heleket_key=Sandbox.HELEKET_KEY)
        self.sandbox = Sandbox(workdir, extra_args=sandbox_args,
                               yookassa_notify="http://127.0.0.1:%d/pay/yookassa" % self.webhookd.port)
        self.token = self.sandbox.bot(BOT_USERNAME)
        sandbox_url = "http://127.0.0.1:%d" % self.sandbox.port
        self.webhookd.write_cred("bot-token-" + BOT, self.token)
        self.webhookd.write_cred("yookassa-secret-key", Sandbox.YOOKASSA_SECRET)
        callback_url = "http://127.0.0.1:%d/pay/heleket" % self.webhookd.port if callback else ""
        self.config_text = (
            "[Heleket]\nURL={sb}\nMerchant={merchant}\n[YooKassa]\nURL={sb}\nShopId={shop}\nTestShop=yes\n"
            "[Telegram]\nURL={sb}\n[Sandbox]\nURL={sb}\n"
            "[Shop]\nBot={bot}\nCallbackURL={cb}\nSupport=@shop_support\n"
            "[Payments]\nReconcileIntervalSec=1\nReconcileAfterSec=2\nClaimIdleSec=2\n"
            "[Database]\nMigrationsDirectory={src}/migrations\n{extra}").format(
                sb=sandbox_url, merchant=Sandbox.HELEKET_MERCHANT, shop=Sandbox.YOOKASSA_SHOP, bot=BOT, cb=callback_url, src=SOURCE,
                extra=config_extra)
        self.webhookd.write_config(self.config_text)
        self.config = self.webhookd.config
        r = subprocess.run([CTL, "--config=" + self.config, "migrate"], capture_output=True, text=True,
                           env=dict(os.environ, PGDATABASE=self.db))
        assert r.returncode == 0, r.stderr
        self.webhookd.start()
        self.set_webhook()
        common = ["--config=" + self.config, "--credentials-dir=" + self.webhookd.creds]
        self.paymentd = Service(workdir, "paymentd", PAYMENTD, common, env=self.bus.env())
        self.paymentd.start()
        self.botd = Service(workdir, "botd", BOTD, common + ["--shop", "--locale-dir=" + os.path.join(BUILD, "po")],
                            env=self.bus.env()) if botd else None
        if self.botd:
            self.botd.start()

    def set_webhook(self):
        status, answer = self.sandbox.api(self.token, "setWebhook",
                                          url="http://127.0.0.1:%d/tg/%s" % (self.webhookd.port, BOT),
                                          secret_token=self.webhookd.secret(BOT))
        assert status == 200, answer

    def restart_sandbox_and_webhookd(self, sandbox_args=()):
        """As scripts/run-local does when run again with ./run/ kept: a new sandbox on the same
        port (its chats gone, the bot registered again with its token, the webhook set again)
        and a new webhookd; Redis, PostgreSQL, botd and paymentd stay."""
        port = self.sandbox.port
        self.webhookd.stop()
        self.sandbox.stop()
        self.webhookd = Webhookd(self.workdir, self.redis, database=self.conninfo, heleket_key=Sandbox.HELEKET_KEY)
        self.webhookd.write_cred("bot-token-" + BOT, self.token)
        self.sandbox = Sandbox(self.workdir, extra_args=sandbox_args, port=port,
                               yookassa_notify="http://127.0.0.1:%d/pay/yookassa" % self.webhookd.port)
        status, answer = self.sandbox.call("POST", "/sandbox/bots", {"username": BOT_USERNAME, "token": self.token})
        assert status == 200, answer
        self.webhookd.write_config(self.config_text)
        self.webhookd.start()
        self.set_webhook()

    def sql(self, query):
        return psql(query, self.db)

    def balance(self, user):
        return int(self.sql("SELECT coalesce((SELECT balance FROM ledger_accounts WHERE kind = 'user' "
                            "AND user_id = %d), 0)" % user))

    def payments(self, method, signature="", *args, user=None):
        return self.bus.call("org.tgfleet.Payments1", "/org/tgfleet/Payments1", "org.tgfleet.Payments1", method,
                             signature, *args, user=user)

    def heleket(self, order, outcome, webhook=True):
        status, answer = self.sandbox.call("POST", "/sandbox/heleket/%s/%s" % (order, outcome),
                                           {"webhook": webhook})
        assert status == 200, answer
        return answer

    def say(self, user, text, language="en"):
        status, answer = self.sandbox.user_sends(BOT_USERNAME, user, text, language)
        assert status == 200, answer
        return answer

    def press(self, user, label):
        status, answer = self.sandbox.user_presses(BOT_USERNAME, user, label)
        assert status == 200, (label, answer)
        return answer

    def press_answer(self, user, label, timeout=30, data=None, message_id=None, button=None):
        """Presses a button and returns the text of the bot's answer to the press (a toast or an
        alert). With @data, a press carrying that data whatever the buttons say (a modified
        client); with @message_id and @button, the button-th button of that message."""
        if data is not None or message_id is not None:
            body = {"data": data} if data is not None else {"message_id": message_id, "button": button}
            status, answer = self.sandbox.call("POST", "/sandbox/bots/%s/users/%d/press" % (BOT_USERNAME, user), body)
            assert status == 200, answer
            query = answer["callback_query_id"]
        else:
            query = self.press(user, label)["callback_query_id"]
        def answered():
            status, a = self.sandbox.call("GET", "/sandbox/bots/%s/callbacks/%s" % (BOT_USERNAME, query))
            return a if status == 200 and a["answered"] else None
        return wait_for(answered, timeout=timeout, what="answer to %r" % label)["text"]

    def order_id(self, message):
        m = re.search(r"st-[0-9a-f]+", message["text"])
        assert m, message
        return m.group(0)

    def choose(self, user, label, language="en"):
        """As a user: Buy Stars, then a package button, up to the confirmation. Returns the
        number of messages in the chat before."""
        n = len(self.messages(user))
        self.say(user, "/buy", language)
        self.wait_message(user, "Choose a package" if language == "en" else "Выберите пакет", after=n)
        self.press(user, label)
        self.wait_message(user, "You are buying" if language == "en" else "Вы покупаете", after=n)
        return n

    def buy(self, user, label, language="en"):
        """As a user: Buy Stars, a package button, Confirm. Returns the invoice message."""
        n = self.choose(user, label, language)
        self.press(user, "✅ Confirm" if language == "en" else "✅ Подтвердить")
        return self.wait_message(user, "Order " if language == "en" else "Заказ ", after=n)

    def message(self, user, message_id):
        """The chat's message @message_id as it is now (edits included)."""
        return next(m for m in self.messages(user) if m["message_id"] == message_id)

    def buttons(self, message):
        return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]

    def bot_texts(self, user):
        return [m["html"] for m in self.messages(user) if m.get("from") == "bot"]

    def messages(self, user):
        return self.sandbox.messages(BOT_USERNAME, user)

    def wait_message(self, user, needle, timeout=15, after=0):
        """Waits for a message from the bot to @user containing @needle; returns it."""
        def find():
            for m in self.messages(user)[after:]:
                if m.get("from") == "bot" and needle in (m.get("html") or ""):
                    return m
            return None
        try:
            return wait_for(find, timeout=timeout, what="bot message containing %r" % needle)
        except AssertionError:
            raise AssertionError("no bot message containing %r; chat: %r" %
                                 (needle, [m.get("html") for m in self.messages(user)]))

    def assert_ledger_consistent(self):
        # Every order event was published, once: the outbox drains.
        wait_for(lambda: self.sql("SELECT count(*) FROM order_events WHERE NOT published") == "0", timeout=20,
                 what="the order events outbox to drain")
        assert self.sql("SELECT coalesce(sum(amount), 0) FROM ledger_entries") == "0"
        assert self.sql("SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1 "
                        "HAVING sum(amount) <> 0) t") == "0"
        assert self.sql("SELECT count(*) FROM ledger_accounts a WHERE balance <> "
                        "(SELECT coalesce(sum(amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)") == "0"
        # Credited exactly the paid orders, once each.
        assert self.sql("SELECT count(*) FROM orders o WHERE status IN ('paid', 'paid_over') AND "
                        "(SELECT count(*) FROM ledger_transactions t WHERE t.order_id = o.id "
                        "AND t.idempotency_key LIKE '%:credit') <> 1") == "0"
        assert self.sql("SELECT count(*) FROM ledger_transactions t JOIN orders o ON o.id = t.order_id "
                        "WHERE t.idempotency_key LIKE '%:credit' AND o.status NOT IN ('paid', 'paid_over', 'refunded')") == "0"

    def stop(self):
        for s in (self.botd, self.paymentd):
            if s:
                s.stop()
        self.webhookd.stop()
        self.sandbox.stop()
        self.bus.stop()
        self.redis.stop()
