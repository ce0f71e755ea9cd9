# SPDX-License-Identifier: MIT
"""The operators' master bot (tgfleet-botd --master) on the whole control plane: the sandbox as
Telegram, the real webhookd, apid (socket-activated), deployd, Redis, PostgreSQL and a private
bus. Operators talk to it as Telegram users of the sandbox; what they see is what is asserted,
and the API and the database are checked behind it. No systemd here: deploys end dead-lettered
(the system test deploys for real)."""

import os

from harness import BOTD, BUILD, BotChat, Service, run_tests, wait_for
from test_apid import Platform

MASTER = "master_ops_bot"
OPERATOR, OTHER_OPERATOR, STRANGER = 1001, 1002, 666


class Master(BotChat):
    """A Platform with the master bot running for operators 1001 and 1002."""

    def __init__(self, workdir, api_url=None):
        self.p = Platform(workdir, extra="[Master]\nBot=master\nOperators=%d %d\n[API]\nURL=%s\n" % (
            OPERATOR, OTHER_OPERATOR, api_url or "http://127.0.0.1:%d"))
        BotChat.__init__(self, self.p.sandbox, MASTER)
        self.token = self.p.sandbox.bot(MASTER)
        self.p.webhookd.write_cred("bot-token-master", self.token)
        status, answer = self.p.sandbox.api(self.token, "setWebhook",
                                            url="http://127.0.0.1:%d/tg/master" % self.p.webhookd.port,
                                            secret_token=self.p.webhookd.secret("master"))
        assert status == 200, answer
        self.botd = Service(workdir, "master", BOTD, ["--config=" + self.p.config, "--credentials-dir=" + self.p.creds,
                                                      "--master", "--locale-dir=" + os.path.join(BUILD, "po")])
        self.botd.start()

    def stop(self):
        self.botd.stop()
        self.p.stop()

    def enter_client(self, user, command, token, username, owner, name):
        """As an operator: an add from @command to its confirmation, each step answered."""
        n = self.mark(user)
        self.say(user, command)
        self.wait(user, "step 1 of 3", after=n)
        self.say(user, token)
        self.wait(user, "Bot @%s checked" % username, after=n)
        self.say(user, str(owner))
        self.wait(user, "Step 3 of 3", after=n)
        self.say(user, name)
        return self.wait(user, "Add this client", after=n)

    def redis_dump(self):
        """Every key and value in Redis, as text."""
        out = []
        for key in self.p.redis.cli("--scan").split():
            kind = self.p.redis.cli("TYPE", key)
            dump = {"string": ("GET",), "hash": ("HGETALL",), "stream": ("XRANGE", "-", "+"),
                    "list": ("LRANGE", "0", "-1"), "set": ("SMEMBERS",), "zset": ("ZRANGE", "0", "-1")}.get(kind)
            out.append(key + " " + (self.p.redis.cli(dump[0], key, *dump[1:]) if dump else ""))
        return "\n".join(out)


def test_strangers_get_one_refusal_and_operators_the_menu(workdir):
    m = Master(workdir)
    try:
        m.say(STRANGER, "/start")
        m.wait(STRANGER, "operators of this service only")
        m.say(STRANGER, "/stats")
        m.say(STRANGER, "➕ Add client")
        m.say(OPERATOR, "/start")
        m.wait(OPERATOR, "Operator menu")
        # Every update handled, and erased from its stream: the stranger's later ones were ignored.
        wait_for(lambda: m.p.redis.xlen("updates:master") == 0, what="the updates handled")
        assert m.texts(STRANGER) == ["Sorry, this bot serves the operators of this service only."], m.texts(STRANGER)
        keyboard = [b["text"] for r in m.messages(OPERATOR)[-1]["reply_markup"]["keyboard"] for b in r]
        assert keyboard == ["➕ Add client", "📋 Clients", "🗂 Queue", "📊 Stats"], keyboard
        # Russian for operators who use Telegram in Russian.
        m.say(OTHER_OPERATOR, "/start", language="ru")
        m.wait(OTHER_OPERATOR, "Меню оператора")
        m.say(OTHER_OPERATOR, "📊 Статистика", language="ru")
        m.wait(OTHER_OPERATOR, "<b>Статистика</b>\nКлиентов: 0")
        assert m.p.sql("SELECT count(*) FROM tenant_audit") == "0"
    finally:
        m.stop()


def test_add_client_step_by_step_keeps_the_token_out_of_the_chat_and_redis(workdir):
    m = Master(workdir)
    try:
        token = m.p.sandbox.bot("salon_anna_bot")
        m.say(OTHER_OPERATOR, "/start")
        m.say(OPERATOR, "➕ Add client")
        m.wait(OPERATOR, "step 1 of 3")
        n = m.mark(OPERATOR)
        m.say(OPERATOR, "not a token")
        m.wait(OPERATOR, "That is not a bot token", after=n)
        revoked = "123456789:" + "A" * 35
        n = m.mark(OPERATOR)
        m.say(OPERATOR, revoked)
        m.wait(OPERATOR, "Telegram does not know this token", after=n)
        n = m.mark(OPERATOR)
        m.say(OPERATOR, token)
        m.wait(OPERATOR, "Bot @salon_anna_bot checked", after=n)
        # Every message that held a token is gone from the chat.
        assert not [x for x in m.messages(OPERATOR) if x["from"] == "user" and ":" in x["text"] and
                    x["text"] in (token, revoked)], m.messages(OPERATOR)
        n = m.mark(OPERATOR)
        m.say(OPERATOR, "Anna")
        m.wait(OPERATOR, "a whole number such as", after=n)
        m.say(OPERATOR, "4242")
        m.wait(OPERATOR, "Step 3 of 3")
        n = m.mark(OPERATOR)
        m.say(OPERATOR, "   ")
        m.wait(OPERATOR, "1 to 100 characters", after=n)
        m.say(OPERATOR, "Салон «Анна» & <Co>")
        confirm = m.wait(OPERATOR, "Add this client and deploy its bot?")
        assert "Owner: <code>4242</code>" in confirm["html"], confirm
        assert "<b>Салон «Анна» &amp; &lt;Co&gt;</b>" in confirm["html"], confirm
        assert m.p.sql("SELECT count(*) FROM tenants") == "0"
        m.press(OPERATOR, "✅ Add")
        added = m.wait(OPERATOR, "added. Deploy task")
        assert "(@salon_anna_bot)" in added["text"], added
        status, page, _ = m.p.request("GET", "/api/clients")
        client = page["items"][0]
        assert client["name"] == "Салон «Анна» & <Co>" and client["owner_id"] == 4242, client
        assert client["bot_username"] == "salon_anna_bot"
        # The operator's own entries (deployd may already have added its own, "failed" here).
        actors = m.p.sql("SELECT string_agg(DISTINCT actor, ',') FROM tenant_audit WHERE tenant_id = %d "
                         "AND action IN ('add', 'request')" % client["id"])
        assert actors == "api:master:%d" % OPERATOR, actors
        # The deploy cannot start a unit here: the operators hear of the dead-lettered task.
        for op in (OPERATOR, OTHER_OPERATOR):
            m.wait(op, "failed and is dead-lettered", timeout=30)
        # The token: in its credential file, nowhere in Redis or the logs.
        secret = token.split(":")[1]
        assert secret not in m.redis_dump()
        for log in ("master", "apid", "deployd", "webhookd"):
            with open(os.path.join(workdir, log + ".log")) as f:
                assert secret not in f.read(), log
        # The same bot again: refused by the API (bot_taken), nothing added.
        n = m.mark(OPERATOR)
        m.enter_client(OPERATOR, "➕ Add client", token, "salon_anna_bot", 7, "Again")
        m.press(OPERATOR, "✅ Add")
        m.wait(OPERATOR, "This bot already belongs to a client", after=n)
        assert m.p.sql("SELECT count(*) FROM tenants") == "1"
        # /cancel ends an add half-way.
        n = m.mark(OPERATOR)
        m.say(OPERATOR, "/add")
        m.wait(OPERATOR, "step 1 of 3", after=n)
        m.say(OPERATOR, "/cancel")
        m.wait(OPERATOR, "Cancelled.", after=n)
        m.say(OPERATOR, "12345")
        m.wait(OPERATOR, "I did not understand that", after=n)
    finally:
        m.stop()


def test_a_restart_forgets_a_held_token(workdir):
    m = Master(workdir)
    try:
        token = m.p.sandbox.bot("yoga_bot")
        m.enter_client(OPERATOR, "/add", token, "yoga_bot", 99, "Yoga")
        # The conversation is in Redis, the token only in botd's memory.
        assert token.split(":")[1] not in m.redis_dump()
        m.botd.stop()
        m.botd.start()
        m.press(OPERATOR, "✅ Add")
        m.wait(OPERATOR, "The token is no longer held")
        assert m.p.sql("SELECT count(*) FROM tenants") == "0"
    finally:
        m.stop()


def test_client_card_extend_suspend_remove(workdir):
    m = Master(workdir)
    try:
        _, answer = m.p.add("cafe_bot", name="Cafe Luna", owner=77)
        id = answer["client"]["id"]
        m.p.wait_status(id, "failed")
        m.say(OPERATOR, "📋 Clients")
        page = m.wait(OPERATOR, "Clients</b> 1–1 of 1")
        assert "#%d <b>Cafe Luna</b> @cafe_bot" % id in page["html"] and "❌ deploy failed" in page["text"], page
        m.press(OPERATOR, "#%d Cafe Luna" % id)
        card = m.wait(OPERATOR, "Owner: <code>77</code>")
        buttons = [b["text"] for r in m.messages(OPERATOR)[-1]["reply_markup"]["inline_keyboard"] for b in r]
        # A failed client may be suspended, resumed, redeployed or removed.
        assert buttons == ["➕ Extend", "⏸ Suspend", "▶️ Resume", "🔄 Redeploy", "🗑 Remove", "◀️ Clients"], buttons
        assert "Paid until: not paid" in card["text"], card
        # Extend by a preset, confirmed.
        m.press(OPERATOR, "➕ Extend")
        m.wait(OPERATOR, "by how long?")
        m.press(OPERATOR, "30 days")
        m.wait(OPERATOR, "Extend client #%d by 30 days?" % id)
        m.press(OPERATOR, "✅ Yes, extend")
        m.wait(OPERATOR, "<b>Cafe Luna</b> is paid until")
        days = m.p.sql("SELECT round(extract(epoch FROM paid_until - now()) / 86400) FROM tenants WHERE id = %d" % id)
        assert days == "30", days
        # By any number: bad input is refused and changes nothing.
        m.press(OPERATOR, "◀️ Back to the client")
        m.wait(OPERATOR, "Owner: <code>77</code>")
        m.press(OPERATOR, "➕ Extend")
        m.wait(OPERATOR, "by how long?")
        m.press(OPERATOR, "✏️ Other")
        m.wait(OPERATOR, "Send the number of days")
        n = m.mark(OPERATOR)
        for bad in ("zero", "0", "3651", "-5"):
            m.say(OPERATOR, bad)
        wait_for(lambda: sum("whole number of days" in x["text"] for x in m.since(OPERATOR, n)) == 4,
                 what="four refusals")
        m.say(OPERATOR, "15")
        m.wait(OPERATOR, "Extend client #%d by 15 days?" % id, after=n)
        m.press(OPERATOR, "✅ Yes, extend")
        m.wait(OPERATOR, "is paid until", after=n)
        days = m.p.sql("SELECT round(extract(epoch FROM paid_until - now()) / 86400) FROM tenants WHERE id = %d" % id)
        assert days == "45", days
        # Suspend, confirmed: the task is queued and audited as the operator's.
        m.press(OPERATOR, "◀️ Back to the client")
        m.wait(OPERATOR, "Owner: <code>77</code>", after=n)
        m.press(OPERATOR, "⏸ Suspend")
        m.wait(OPERATOR, "Suspend client #%d <b>Cafe Luna</b>?" % id)
        assert m.p.sql("SELECT count(*) FROM tenant_audit WHERE detail->>'action' = 'suspend'") == "0"
        m.press(OPERATOR, "✅ Yes, suspend")
        m.wait(OPERATOR, "Suspending client #%d: task" % id)
        # Remove, declined and then confirmed.
        m.press(OPERATOR, "◀️ Back to the client")
        m.wait(OPERATOR, "Owner: <code>77</code>", after=n)
        m.press(OPERATOR, "🗑 Remove")
        m.wait(OPERATOR, "This cannot be undone")
        m.press(OPERATOR, "✖️ No")
        m.wait(OPERATOR, "Owner: <code>77</code>", after=n)
        assert m.p.client(id)["status"] != "removed"
        m.press(OPERATOR, "🗑 Remove")
        m.wait(OPERATOR, "This cannot be undone")
        m.press(OPERATOR, "✅ Yes, remove")
        m.wait(OPERATOR, "Removing client #%d: task" % id)
        audit = m.p.sql("SELECT string_agg(action || ':' || coalesce(detail->>'action', '') || ':' || actor, ',' ORDER BY id) "
                        "FROM tenant_audit WHERE tenant_id = %d AND actor LIKE 'api:master:%%'" % id)
        master = "api:master:%d" % OPERATOR
        assert audit == ",".join(("extend::" + master, "extend::" + master, "request:suspend:" + master,
                                  "request:remove:" + master)), audit
    finally:
        m.stop()


def test_queue_retry_and_stats(workdir):
    m = Master(workdir)
    try:
        m.say(OPERATOR, "/queue")
        m.wait(OPERATOR, "Nothing pending.")
        _, answer = m.p.add("gym_bot", name="Gym")
        id = answer["client"]["id"]
        m.p.wait_status(id, "failed")
        n = m.mark(OPERATOR)
        m.say(OPERATOR, "🗂 Queue")
        queue = m.wait(OPERATOR, "Deploy queue", after=n)
        assert "dead-lettered 1" in queue["text"] and "deploy #%d: dead after 2 attempt(s)" % id in queue["text"], queue
        task = m.p.request("GET", "/api/queue")[1]["tasks"][0]["id"]
        m.press(OPERATOR, "🔁 Retry %s (deploy #%d)" % (task, id))
        m.wait(OPERATOR, "Task <code>%s</code> is queued again" % task)
        assert m.p.sql("SELECT count(*) FROM tenant_audit WHERE tenant_id = %d" % id) != "0"
        m.p.wait_status(id, "failed")
        wait_for(lambda: m.p.request("GET", "/api/queue")[1]["counts"]["dead"] == 1, timeout=30, what="dead again")
        n = m.mark(OPERATOR)
        m.say(OPERATOR, "/stats")
        stats = m.wait(OPERATOR, "Stats", after=n)
        assert "Clients: 1" in stats["text"] and "❌ deploy failed: 1" in stats["text"], stats
        assert "Failures today: 2" in stats["text"], stats
        assert "Revenue today: 0\nRevenue, 30 days: 0\nIn 30 days: 0 new, 0 renewals, 0 stopped unpaid" in stats["text"], stats
        m.press(OPERATOR, "🔄 Refresh")
        wait_for(lambda: "Failures today: 2" in m.texts(OPERATOR)[-1], what="the refreshed stats")
    finally:
        m.stop()


def test_api_unreachable_is_said_plainly(workdir):
    m = Master(workdir, api_url="http://127.0.0.1:1")
    try:
        m.say(OPERATOR, "/stats")
        m.wait(OPERATOR, "The control API is unavailable right now")
        m.say(OPERATOR, "/clients")
        wait_for(lambda: sum("unavailable right now" in t for t in m.texts(OPERATOR)) == 2, what="two answers")
    finally:
        m.stop()


if __name__ == "__main__":
    run_tests(globals())
