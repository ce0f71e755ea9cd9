# SPDX-License-Identifier: MIT
"""tgfleet-apid, socket-activated, in front of the real tgfleet-deployd on real Redis, PostgreSQL
and a private system bus, with tgfleet-sandbox as Telegram; and a tenant's bot (tgfleet-botd
--tenant) answering through the real webhookd. No systemd here: a deploy registers the webhook and
the profile, then fails to start the unit (the system test deploys for real)."""

import html
import json
import os
import re
import signal
import stat
import subprocess
import time

from harness import (APID, BOTD, BUILD, CTL, DEPLOYD, SOURCE, Apid, Redis, Sandbox, Service, SystemBus, Webhookd,
                     free_port, psql, run_tests, wait_for)
from test_ctl import fresh_database

API_TOKEN = Apid.TOKEN


class Platform:
    """Redis, a migrated database, the bus, the sandbox, webhookd, deployd and apid, sharing one
    configuration and one credentials directory."""

    def __init__(self, workdir, extra="", api_token=API_TOKEN, migrate=True):
        self.workdir = workdir
        self.api_port = free_port()
        extra = extra.replace("%d", str(self.api_port))
        self.redis = Redis(workdir)
        self.db, conninfo = fresh_database()
        self.bus = SystemBus(workdir)
        self.sandbox = Sandbox(workdir, extra_args=("--known-bots-only",))
        self.sandbox_url = "http://127.0.0.1:%d" % self.sandbox.port
        self.webhookd = Webhookd(workdir, self.redis, database=conninfo)
        self.creds = self.webhookd.creds
        self.webhookd.write_cred("api-token", api_token + "\n")
        self.tokens = os.path.join(workdir, "tokens")
        os.makedirs(self.tokens)
        self.webhookd.write_config(
            "[Telegram]\nURL={sb}\n[Database]\nMigrationsDirectory={src}/migrations\n"
            "[Deploy]\nTokenDirectory={tokens}\nPublicURL=http://127.0.0.1:{wh}\nMaxAttempts=2\nRetrySec=0.2\n{extra}".format(
                sb=self.sandbox_url, src=SOURCE, tokens=self.tokens, wh=self.webhookd.port, extra=extra))
        self.config = self.webhookd.config
        if migrate:
            self.migrate()
        self.webhookd.start()
        common = ["--config=" + self.config, "--credentials-dir=" + self.creds]
        self.deployd = Service(workdir, "deployd", DEPLOYD, common, env=self.bus.env()).start()
        self.api = Apid(workdir, self.config, self.creds, dict(self.bus.env(), PGDATABASE=self.db), port=self.api_port)
        self.apid = self.api.service

    def migrate(self):
        r = subprocess.run([CTL, "--config=" + self.config, "migrate"], capture_output=True, text=True,
                           env=dict(os.environ, PGDATABASE=self.db))
        assert r.returncode == 0, r.stderr

    def request(self, method, path, body=None, token=API_TOKEN, headers=None, raw=False):
        """(status, parsed JSON or text, headers) of an API request."""
        return self.api.request(method, path, body, token, headers, raw)

    def add(self, username, name="Salon", owner=42, **extra):
        token = self.sandbox.bot(username)
        status, answer, _ = self.request("POST", "/api/clients", dict(token=token, owner_id=owner, name=name, **extra))
        assert status == 201, (status, answer)
        return token, answer

    def client(self, id):
        status, answer, _ = self.request("GET", "/api/clients/%d" % id)
        assert status == 200, answer
        return answer

    def wait_status(self, id, want, timeout=30):
        wait_for(lambda: self.client(id)["status"] == want, timeout=timeout,
                 what="client %d to be %s (is %s)" % (id, want, self.client(id)["status"]))

    def sql(self, query):
        return psql(query, self.db)

    def stop(self):
        for s in (self.apid, self.deployd):
            s.stop()
        self.webhookd.stop()
        self.sandbox.stop()
        self.bus.stop()
        self.redis.stop()


def assert_error(status, answer, want_status, code):
    assert status == want_status, (status, answer)
    assert answer["error"] == code and answer["message"], answer


def test_auth_health_and_description(workdir):
    p = Platform(workdir)
    try:
        status, answer, r = p.request("GET", "/api/clients", token=None)
        assert_error(status, answer, 401, "unauthorized")
        assert r.getheader("WWW-Authenticate") == "Bearer"
        for wrong in ("x", API_TOKEN[:-1], API_TOKEN + "x"):
            assert p.request("GET", "/api/stats", token=wrong)[0] == 401
        assert p.request("GET", "/metrics", token=None)[0] == 401
        assert p.request("GET", "/health", token=None)[:2] == (200, {"status": "ok"})
        assert_error(*p.request("GET", "/nowhere")[:2], 404, "not_found")
        assert_error(*p.request("PUT", "/api/clients")[:2], 405, "method_not_allowed")
        # The description: OpenAPI 3.1, every operation with responses, every $ref resolving.
        status, spec, _ = p.request("GET", "/openapi.json", token=None)
        assert status == 200 and spec["openapi"] == "3.1.0"
        with open(os.path.join(SOURCE, "src", "apid", "openapi.json")) as f:
            assert spec == json.load(f)
        refs = []

        def walk(o):
            if isinstance(o, dict):
                refs.extend(v for k, v in o.items() if k == "$ref")
                for v in o.values():
                    walk(v)
            elif isinstance(o, list):
                for v in o:
                    walk(v)
        walk(spec)
        for ref in refs:
            node = spec
            for part in ref[2:].split("/"):
                node = node[part]
        for path in ("/api/clients", "/api/clients/{id}", "/api/clients/{id}/extend", "/api/clients/{id}/suspend",
                     "/api/clients/{id}/resume", "/api/clients/{id}/redeploy", "/api/queue", "/api/queue/{task}/retry",
                     "/api/orders", "/api/orders/{id}", "/api/payments", "/api/stats", "/health", "/metrics", "/openapi.json",
                     "/docs"):
            assert path in spec["paths"], path
            for op in spec["paths"][path].values():
                if isinstance(op, dict) and "responses" in op:
                    assert op["operationId"] and op["responses"], path
        status, page, r = p.request("GET", "/docs", token=None)
        assert status == 200 and r.getheader("Content-Type").startswith("text/html")
        assert "<script" not in page and "http://" not in page.replace("http://127.0.0.1:8000", "")
        for path in ("/api/clients/{id}/extend", "/api/queue/{task}/retry", "ClientStatus", "idempotency_conflict"):
            assert path in page.replace("&quot;", '"'), path
        # A table of contents; `code` rendered as code; per operation an example request (curl,
        # with the token from $TOKEN) and its answer, and errors in its own words.
        text = html.unescape(page)
        ops = [op["operationId"] for item in spec["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op]
        for op in ops:
            assert 'href="#op-%s"' % op in page and 'id="op-%s"' % op in page, op
        assert text.count("Example:") == len(ops), text.count("Example:")
        assert "`" not in re.sub(r"<pre>.*?</pre>", "", text, flags=re.S) and "the client becomes <code>suspended</code>" in page
        assert 'curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/orders/st-4c1d0e6f2a9b8c7d6e5f' in text
        assert "curl -X POST -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{" in text
        assert '"bot_username": "salon_anna_bot"' in text and "curl http://127.0.0.1:8000/health" in text
        order_op = text[text.index('id="op-getOrder"'):]
        assert "No such order." in order_op[:order_op.index("Example:")], order_op[:2000]
    finally:
        p.stop()


def test_reload_rotates_the_api_token_and_keeps_going_on_bad_input(workdir):
    """SIGHUP, as systemctl reload sends it: a rotated api-token takes effect at once; a token too
    short or a broken configuration is refused and the running one stays. deployd reloads too."""
    p = Platform(workdir)
    new = "rotated-api-token-0123456789abcdefghij"
    try:
        assert p.request("GET", "/api/stats")[0] == 200
        p.webhookd.write_cred("api-token", new + "\n")
        os.kill(p.apid.proc.pid, signal.SIGHUP)
        wait_for(lambda: len(p.apid.notify.seen("READY=1")) >= 2, what="apid READY=1 after the reload")
        assert p.apid.notify.seen("RELOADING=1")
        assert p.request("GET", "/api/stats")[0] == 401
        assert p.request("GET", "/api/stats", token=new)[0] == 200
        # Refused: too short a token; then a configuration that does not parse.
        p.webhookd.write_cred("api-token", "short\n")
        os.kill(p.apid.proc.pid, signal.SIGHUP)
        wait_for(lambda: len(p.apid.notify.seen("READY=1")) >= 3, what="apid READY=1 after a refused reload")
        assert p.request("GET", "/api/stats", token=new)[0] == 200
        with open(p.config) as f:
            good = f.read()
        with open(p.config, "a") as f:
            f.write("[Webhook]\nMaxBodySize=banana\n")
        for s in (p.apid, p.deployd):
            seen = len(s.notify.seen("READY=1"))
            os.kill(s.proc.pid, signal.SIGHUP)
            wait_for(lambda: len(s.notify.seen("READY=1")) > seen, what=s.name + " READY=1 after a broken config")
            assert s.proc.poll() is None, s.tail()
        assert p.request("GET", "/api/stats", token=new)[0] == 200
        with open(p.config, "w") as f:
            f.write(good)
        seen = len(p.deployd.notify.seen("READY=1"))
        os.kill(p.deployd.proc.pid, signal.SIGHUP)
        wait_for(lambda: len(p.deployd.notify.seen("READY=1")) > seen, what="deployd READY=1 after a reload")
        assert "Configuration reloaded" in p.deployd.tail()
        assert "Reload failed" in p.apid.tail()
    finally:
        p.stop()


def test_refuses_a_short_api_token(workdir):
    creds = os.path.join(workdir, "creds")
    os.makedirs(creds)
    with open(os.path.join(creds, "api-token"), "w") as f:
        f.write("short")
    r = subprocess.run([APID, "--credentials-dir=" + creds, "--config=/dev/null", "--listen=127.0.0.1:1"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "at least 32" in r.stderr, r.stderr


def test_add_client_validates_then_deploys(workdir):
    p = Platform(workdir)
    try:
        good = p.sandbox.bot("salon_bot")
        JSON = {"Content-Type": "application/json"}
        good_body = json.dumps({"token": good, "owner_id": 42, "name": "Salon"})
        # Refused on the head, whatever the body: anything but JSON, and anything without the token.
        for body, headers, want, code in [
            (good_body, {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
            ("token=%s&owner_id=42&name=Salon" % good, {"Content-Type": "application/x-www-form-urlencoded"},
             415, "unsupported_media_type"),
            (good_body, {}, 415, "unsupported_media_type"),
        ]:
            status, answer, _ = p.request("POST", "/api/clients", body, headers=headers)
            assert_error(status, answer, want, code)
        status, answer, r = p.request("POST", "/api/clients", good_body, token=None, headers=JSON)
        assert_error(status, answer, 401, "unauthorized")
        assert r.getheader("WWW-Authenticate") == "Bearer" and r.getheader("Cache-Control") == "no-store"
        # The token is checked before any of the body is read: the answer comes with the body unsent.
        c = __import__("socket").create_connection(("127.0.0.1", p.api_port), timeout=5)
        c.sendall(b"POST /api/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 401"), "no early 401"
        c.close()
        status, answer, _ = p.request("POST", "/api/clients", "x" * (64 * 1024 + 1), headers=JSON)
        assert_error(status, answer, 413, "too_large")
        status, answer, _ = p.request("POST", "/api/clients", "not json", headers=JSON)
        assert_error(status, answer, 400, "bad_request")
        bad = [
            ({"owner_id": 42, "name": "Salon"}, 422, "invalid_field"),
            ({"token": good, "owner_id": 0, "name": "Salon"}, 422, "invalid_field"),
            ({"token": good, "owner_id": "42", "name": "Salon"}, 422, "invalid_field"),
            ({"token": good, "owner_id": 42, "name": " "}, 422, "invalid_field"),
            ({"token": good, "owner_id": 42, "name": "x" * 101}, 422, "invalid_field"),
            ({"token": good, "owner_id": 42, "name": "Salon", "time_zone": "Mars/Olympus"}, 422, "invalid_field"),
            ({"token": "123:abc", "owner_id": 42, "name": "Salon"}, 422, "invalid_token"),
            ({"token": "999999:" + "Q" * 35, "owner_id": 42, "name": "Salon"}, 422, "invalid_token"),
        ]
        for body, want, code in bad:
            status, answer, _ = p.request("POST", "/api/clients", body)
            assert_error(status, answer, want, code)
        assert p.sql("SELECT count(*) FROM tenants WHERE status <> 'removed'") == "0"
        assert os.listdir(p.tokens) == []

        status, answer, _ = p.request("POST", "/api/clients", {"token": good, "owner_id": 42, "name": "Salon <Anna>",
                                                               "time_zone": "Asia/Yekaterinburg"},
                                      headers={"X-Tgfleet-Actor": "ops-team"})
        assert status == 201, answer
        c = answer["client"]
        assert c["name"] == "Salon <Anna>" and c["owner_id"] == 42 and c["bot_username"] == "salon_bot"
        assert c["status"] == "deploying" and c["time_zone"] == "Asia/Yekaterinburg" and c["paid_until"] is None
        assert answer["task"]["id"] and answer["task"]["position"] >= 0
        path = os.path.join(p.tokens, str(c["id"]))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        # The token is nowhere but its file.
        assert good not in json.dumps(answer) and good not in json.dumps(p.client(c["id"]))
        assert p.sql("SELECT count(*) FROM tenant_audit WHERE detail::text LIKE '%%%s%%'" % good.split(":")[1]) == "0"
        # The same bot again: refused, nothing added.
        status, answer, _ = p.request("POST", "/api/clients", {"token": good, "owner_id": 7, "name": "Other"})
        assert_error(status, answer, 409, "bot_taken")
        assert p.sql("SELECT count(*) FROM tenants") == "1"
        # Without systemd the deploy fails after its attempts: the client is failed, the task dead.
        p.wait_status(c["id"], "failed")
        status, queue, _ = p.request("GET", "/api/queue")
        assert status == 200 and queue["counts"]["dead"] == 1, queue
        dead = queue["tasks"][0]
        assert dead["client_id"] == c["id"] and dead["status"] == "dead" and "tgfleet-bot@" in dead["error"], dead
        assert dead["actor"] == "api:ops-team"
        audit = p.client(c["id"])["audit"]
        assert [a["action"] for a in audit][-2:] == ["request", "add"] and audit[-1]["actor"] == "api:ops-team", audit
        status, answer, _ = p.request("POST", "/api/queue/%s/retry" % dead["id"])
        assert status == 202 and answer["task"]["id"] == dead["id"], answer
        assert_error(*p.request("POST", "/api/queue/99999/retry")[:2], 404, "not_found")
        for log in ("apid", "deployd"):
            with open(os.path.join(workdir, log + ".log")) as f:
                assert good.split(":")[1] not in f.read(), log
    finally:
        p.stop()


def test_actions_follow_the_status(workdir):
    p = Platform(workdir)
    try:
        _, answer = p.add("cafe_bot")
        id = answer["client"]["id"]
        # Deploying: resume makes no sense; redeploy and suspend are queued.
        assert_error(*p.request("POST", "/api/clients/%d/resume" % id)[:2], 409, "invalid_state")
        p.wait_status(id, "failed")
        status, answer, _ = p.request("POST", "/api/clients/%d/suspend" % id)
        assert status == 202 and answer["task"]["id"], answer
        status, answer, _ = p.request("POST", "/api/clients/%d/redeploy" % id)
        assert status == 202 and answer["client"]["status"] == "deploying", answer
        assert_error(*p.request("POST", "/api/clients/%d/resume" % id)[:2], 409, "invalid_state")
        for verb in ("suspend", "resume", "redeploy", "extend"):
            assert_error(*p.request("POST", "/api/clients/999/%s" % verb, {"days": 1})[:2], 404, "not_found")
        assert_error(*p.request("DELETE", "/api/clients/999")[:2], 404, "not_found")
        assert_error(*p.request("GET", "/api/clients/999")[:2], 404, "not_found")
        assert_error(*p.request("GET", "/api/clients/abc")[:2], 404, "not_found")
        status, answer, _ = p.request("DELETE", "/api/clients/%d" % id)
        assert status == 202, answer
        requests = p.sql("SELECT string_agg(detail->>'action', ',' ORDER BY id) FROM tenant_audit "
                         "WHERE tenant_id = %d AND action = 'request'" % id)
        assert requests == "deploy,suspend,redeploy,remove", requests
    finally:
        p.stop()


def test_extend_is_idempotent_with_a_key(workdir):
    p = Platform(workdir)
    try:
        _, answer = p.add("spa_bot")
        id = answer["client"]["id"]
        path = "/api/clients/%d/extend" % id
        for body in ({}, {"days": 0}, {"days": 3651}, {"days": "30"}):
            assert_error(*p.request("POST", path, body)[:2], 422, "invalid_field")
        status, first, _ = p.request("POST", path, {"days": 30}, headers={"Idempotency-Key": "pay-1"})
        assert status == 200 and first["paid_until"], first
        status, again, _ = p.request("POST", path, {"days": 30}, headers={"Idempotency-Key": "pay-1"})
        assert status == 200 and again["paid_until"] == first["paid_until"], (first, again)
        assert_error(*p.request("POST", path, {"days": 60}, headers={"Idempotency-Key": "pay-1"})[:2],
                     409, "idempotency_conflict")
        # 30 days from now, then 30 more from paid_until.
        days = p.sql("SELECT round(extract(epoch FROM paid_until - now()) / 86400) FROM tenants WHERE id = %d" % id)
        assert days == "30", days
        status, later, _ = p.request("POST", path, {"days": 30})
        assert status == 200 and later["paid_until"] > first["paid_until"]
        days = p.sql("SELECT round(extract(epoch FROM paid_until - now()) / 86400) FROM tenants WHERE id = %d" % id)
        assert days == "60", days
        assert p.sql("SELECT count(*) FROM tenant_audit WHERE tenant_id = %d AND action = 'extend'" % id) == "2"
    finally:
        p.stop()


def test_list_filters_pages_and_stats(workdir):
    p = Platform(workdir)
    try:
        ids = [p.add("shop%d_bot" % i, name="Shop %d" % i, owner=100 + i % 2)[1]["client"]["id"] for i in range(5)]
        status, page, _ = p.request("GET", "/api/clients?limit=2&offset=1")
        assert status == 200 and page["total"] == 5 and [c["id"] for c in page["items"]] == ids[1:3], page
        assert p.request("GET", "/api/clients?owner_id=101")[1]["total"] == 2
        assert [c["id"] for c in p.request("GET", "/api/clients?q=SHOP%203")[1]["items"]] == [ids[3]]
        for bad in ("limit=0", "limit=101", "offset=-1", "status=gone", "owner_id=x"):
            assert_error(*p.request("GET", "/api/clients?" + bad)[:2], 400, "bad_request")
        for id in ids:
            p.wait_status(id, "failed")
        status, stats, _ = p.request("GET", "/api/stats")
        assert status == 200 and stats["clients"]["failed"] == 5 and stats["failures_today"] == 5, stats
        assert stats["clients"]["active"] == 0 and stats["deploys_today"] == 0
        assert p.request("GET", "/api/clients?status=failed")[1]["total"] == 5
        status, text, _ = p.request("GET", "/metrics")
        assert status == 200 and 'tgfleet_clients{status="failed"} 5' in text, text
        assert "tgfleet_api_requests_total{code=\"4xx\"}" in text
    finally:
        p.stop()


def test_tenant_bot_answers_with_the_business_name(workdir):
    p = Platform(workdir)
    botd = None
    try:
        token, answer = p.add("nails_bot", name="Nails & <Co>")
        id = answer["client"]["id"]
        # The deploy registered the webhook and the profile before failing to start the unit; run
        # the unit's command by hand, with the token as its credential.
        wait_for(lambda: p.redis.cli("HGET", "tenant:%d" % id, "name") == "Nails & <Co>", what="the profile")
        status, hook = p.sandbox.api(token, "getWebhookInfo")
        assert hook["result"]["url"] == "http://127.0.0.1:%d/tg/tenant-%d" % (p.webhookd.port, id), hook
        creds = os.path.join(workdir, "tenant-creds")
        os.makedirs(creds)
        with open(os.path.join(creds, "bot-token"), "w") as f:
            f.write(token)
        botd = Service(workdir, "tenant-bot", BOTD, ["--config=" + p.config, "--credentials-dir=" + creds,
                                                     "--tenant=%d" % id, "--locale-dir=" + os.path.join(BUILD, "po")],
                       env=p.bus.env())
        botd.start()
        p.sandbox.user_sends("nails_bot", 5001, "/start", language="en")
        p.sandbox.user_sends("nails_bot", 5002, "/start", language="ru")

        def texts(user):
            return [m["html"] for m in p.sandbox.messages("nails_bot", user) if m.get("from") == "bot"]
        wait_for(lambda: texts(5001) and texts(5002), what="the greetings")
        # HTML parse mode: the name is escaped, so that it shows as given.
        # No bookingd here: the bot still greets with the name, and says booking is down for now.
        assert texts(5001) == ["👋 Welcome to <b>Nails &amp; &lt;Co&gt;</b>!\nBooking is unavailable at the moment. "
                               "Please try again in a few minutes."], texts(5001)
        assert texts(5002)[0].startswith("👋 Добро пожаловать в <b>Nails &amp; &lt;Co&gt;</b>!"), texts(5002)
        assert "Bot tenant-%d (tenant) starting" % id in botd.tail()
    finally:
        if botd:
            botd.stop()
        p.stop()


def test_tgfleetctl_clients_and_queue(workdir):
    p = Platform(workdir, extra="[API]\nURL=http://127.0.0.1:%d\n")
    try:
        def ctl(*args, stdin=None):
            r = subprocess.run([CTL, "--config=" + p.config, "--credentials-dir=" + p.creds, *args],
                               input=stdin, capture_output=True, text=True, timeout=30, env=dict(os.environ, USER="anna"))
            return r.returncode, r.stdout, r.stderr
        token = p.sandbox.bot("barber_bot")
        # The token comes from standard input, never from the command line.
        code, out, err = ctl("clients", "add", "--owner=77", "--name=Barber Shop", stdin=token + "\n")
        assert code == 0 and "barber_bot" in out and "Task " in out, (out, err)
        id = p.request("GET", "/api/clients")[1]["items"][0]["id"]
        code, out, err = ctl("clients", "add", "--owner=77", "--name=Again", stdin=token + "\n")
        assert code == 1 and "already belongs" in err and "bot_taken" in err, err
        code, out, err = ctl("clients", "add", "--owner=77", "--name=X", stdin="nonsense\n")
        assert code == 1 and "not a bot token" in err, err
        code, out, err = ctl("clients", "list", "--search=barber")
        assert code == 0 and "Barber Shop" in out and "1 of 1 client(s)" in out, (code, out, err)
        code, out, err = ctl("clients", "list", "--json", "--status=removed")
        assert code == 0 and json.loads(out)["total"] == 0, out
        code, out, err = ctl("clients", "extend", str(id), "10", "--idempotency-key=k1")
        assert code == 0 and "Barber Shop" in out, (out, err)
        paid = p.client(id)["paid_until"]
        assert ctl("clients", "extend", str(id), "10", "--idempotency-key=k1")[0] == 0
        assert p.client(id)["paid_until"] == paid
        code, out, err = ctl("clients", "show", str(id))
        # The extension is in the story, by this token (deployd's failure to deploy may come after it).
        assert code == 0 and any(a["actor"] == "api:ctl:anna" and a["action"] == "extend"
                                 for a in json.loads(out)["audit"]), out
        p.wait_status(id, "failed")
        code, out, err = ctl("queue")
        assert code == 0 and "dead" in out and "deploy" in out, out
        task = p.request("GET", "/api/queue")[1]["tasks"][0]["id"]
        assert ctl("queue", "retry", task)[0] == 0
        code, out, err = ctl("clients", "resume", "999")
        assert code == 1 and "not_found" in err, err
        assert ctl("clients", "frobnicate", "1")[0] == 2
        code, out, err = ctl("clients", "suspend", str(id))
        assert code == 0 and "queued" in out, (out, err)
    finally:
        p.stop()


def test_orders_for_the_operator_through_the_api_and_tgfleetctl(workdir):
    p = Platform(workdir, extra="[API]\nURL=http://127.0.0.1:%d\n")
    try:
        # Two orders of the shop's own database functions: one paid (credited), one pending.
        p.sql("SELECT 1 FROM order_open('st-paid1', 77, 'shop', 100, 199, 'USD', 3600)")
        p.sql("SELECT order_apply_status(id, 'paid', 199, 'webhook') FROM orders WHERE public_id = 'st-paid1'")
        p.sql("SELECT 1 FROM order_open('st-open2', 78, 'shop', 250, 479, 'USD', 3600)")
        status, page, _ = p.request("GET", "/api/orders")
        assert status == 200 and page["total"] == 2 and [o["id"] for o in page["items"]] == ["st-open2", "st-paid1"], page
        o = page["items"][1]
        assert (o["status"], o["stars"], o["price_minor"], o["paid_minor"], o["currency"], o["user_id"]) == \
            ("paid", 100, 199, 199, "USD", 77), o
        assert o["created_at"].endswith("Z") and o["invoice_id"] is None, o
        for query, ids in (("status=paid", ["st-paid1"]), ("user_id=78", ["st-open2"]), ("bot=other", []),
                           ("limit=1&offset=1", ["st-paid1"])):
            status, page, _ = p.request("GET", "/api/orders?" + query)
            assert status == 200 and [o["id"] for o in page["items"]] == ids, (query, page)
        for query in ("status=lost", "user_id=0", "limit=0", "limit=101", "bot=no/such"):
            assert_error(*p.request("GET", "/api/orders?" + query)[:2], 400, "bad_request")
        status, detail, _ = p.request("GET", "/api/orders/st-paid1")
        assert status == 200 and [(e["from"], e["to"], e["source"]) for e in detail["events"]] == \
            [("pending", "paid", "webhook")], detail
        assert [t["key"] for t in detail["ledger"]] == [t["key"] for t in detail["ledger"] if t["key"].endswith(":credit")] \
            and len(detail["ledger"]) == 1, detail
        assert_error(*p.request("GET", "/api/orders/st-none")[:2], 404, "not_found")
        assert_error(*p.request("GET", "/api/orders/bad%20id")[:2], 404, "not_found")
        assert_error(*p.request("POST", "/api/orders")[:2], 405, "method_not_allowed")
        assert p.request("GET", "/api/orders", token=None)[0] == 401

        def ctl(*args):
            r = subprocess.run([CTL, "--config=" + p.config, "--credentials-dir=" + p.creds, "orders", *args],
                               capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout, r.stderr
        code, out, err = ctl("list")
        assert code == 0 and "st-open2" in out and "st-paid1" in out and "2 of 2 order(s)" in out, (out, err)
        assert [l.split()[:2] for l in out.splitlines()[1:3]] == [["st-open2", "pending"], ["st-paid1", "paid"]], out
        code, out, err = ctl("list", "--status=paid", "--user=77")
        assert code == 0 and "1 of 1 order(s)" in out and "1.99 USD" in out, (out, err)
        code, out, err = ctl("list", "--status=lost")
        assert code == 1 and "status must be one of" in err, err
        code, out, err = ctl("show", "st-paid1")
        assert code == 0 and "Status:   paid" in out and "Received: 1.99 USD" in out, out
        assert "pending → paid (webhook)" in out and "100 Stars bought, order st-paid1" in out, out
        code, out, err = ctl("show", "st-paid1", "--json")
        assert code == 0 and json.loads(out)["id"] == "st-paid1", out
        code, out, err = ctl("show", "st-none")
        assert code == 1 and "not_found" in err, err
        assert ctl("show")[0] == 2 and ctl("list", "--frob")[0] == 2 and ctl("show", "a b")[0] == 1
    finally:
        p.stop()



def test_database_not_ready_at_start(workdir):
    """Started before the database is usable (here: not migrated yet; PostgreSQL down is the
    system test's): apid answers 503 at once and deployd runs, each saying in STATUS= and the
    journal what it waits for; once migrated both go on by themselves and say so."""
    p = Platform(workdir, migrate=False)
    try:
        for s in (p.apid, p.deployd):
            wait_for(lambda: any(m.startswith("STATUS=Waiting for PostgreSQL (its schema is at version 0 of ")
                                 for m in s.notify.seen("STATUS=")), what=s.name + " STATUS= waiting")
            wait_for(lambda: "Waiting for PostgreSQL (its schema is at version 0" in s.tail(10**6), what=s.name + " log")
        start = time.monotonic()
        status, answer, _ = p.request("GET", "/health", token=None)
        assert status == 503 and answer["error"] == "database_unavailable", (status, answer)
        assert time.monotonic() - start < 2
        status, answer, _ = p.request("GET", "/api/clients")
        assert status == 503, (status, answer)
        assert p.apid.notify.seen("READY=1") and p.deployd.notify.seen("READY=1")
        p.migrate()
        wait_for(lambda: p.request("GET", "/health", token=None)[0] == 200, timeout=10, what="/health 200")
        for s in (p.apid, p.deployd):
            wait_for(lambda: "PostgreSQL connection is back." in s.tail(10**6), what=s.name + " back")
            wait_for(lambda: not s.notify.seen("STATUS=")[-1].startswith("STATUS=Waiting"), what=s.name + " STATUS=")
        assert s.tail(10**6).count("Waiting for PostgreSQL") == 1
        _, answer = p.add("outage_bot")
        p.wait_status(answer["client"]["id"], "failed")   # deployd took the task: no systemd here
    finally:
        p.stop()

if __name__ == "__main__":
    run_tests(globals())
