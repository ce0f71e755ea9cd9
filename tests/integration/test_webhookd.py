# SPDX-License-Identifier: MIT
"""tgfleet-webhookd as Telegram, Heleket, YooKassa and an operator see it, against a real
redis-server (and PostgreSQL for /health/db), started under systemd-socket-activate."""

import concurrent.futures
import hashlib
import base64
import json
import os
import random
import signal
import socket
import time
import http.client
import subprocess

from harness import CTL, Redis, Sandbox, Webhookd, Skip, free_port, pg_conninfo, reference, run_tests, wait_for

JSON = {"Content-Type": "application/json"}


def heleket_body(fields, key="webhook-secret"):
    """A webhook body signed as Heleket's PHP server signs it: md5(base64(json_encode) . key)."""
    canonical = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")
    sign = hashlib.md5(base64.b64encode(canonical.encode()) + key.encode()).hexdigest()
    return json.dumps(dict(fields, sign=sign)).replace("/", "\\/")


def started(workdir, **kw):
    redis = Redis(workdir)
    d = Webhookd(workdir, redis, **kw).start()
    return redis, d


def test_socket_activation_ready_and_watchdog(workdir):
    redis, d = started(workdir)
    try:
        # The socket listens before the daemon runs; the first request starts it and is answered.
        assert not d.notify.seen("READY=1")
        status, _ = d.post_update("shop_bot", 1)
        assert status == 200, status
        wait_for(lambda: d.notify.seen("READY=1"), what="READY=1")
        wait_for(lambda: len(d.notify.seen("WATCHDOG=1")) >= 2, timeout=5, what="WATCHDOG=1 pings")
        assert d.request("GET", "/health")[0] == 200
        assert d.post_update("shop_bot", 2, secret="wrong")[0] == 401
        wait_for(lambda: any(m.startswith("STATUS=Accepted 1, duplicates 0, rejected 1;") for m in d.notify.seen("STATUS=")),
                 timeout=5, what="STATUS= with the counters")
        assert redis.xlen("updates:shop_bot") == 1
    finally:
        d.stop()
        redis.stop()


def test_reference_update_lands_in_stream(workdir):
    redis, d = started(workdir)
    try:
        update = reference("examples/telegram_update_message_start.json")
        hdr = dict(JSON, **{"X-Telegram-Bot-Api-Secret-Token": d.secret("shop_bot")})
        assert d.request("POST", "/tg/shop_bot", update, hdr)[0] == 200
        assert redis.stream_field("updates:shop_bot", "update_id") == ["259894298"]
        assert json.loads(redis.stream_field("updates:shop_bot", "body")[0]) == json.loads(update)
        # Telegram retries the same update: 200 again, not a second entry.
        assert d.request("POST", "/tg/shop_bot", update, hdr)[0] == 200
        assert redis.xlen("updates:shop_bot") == 1
    finally:
        d.stop()
        redis.stop()


def test_n_updates_are_n_entries(workdir):
    redis, d = started(workdir)
    try:
        secret = d.secret("shop_bot")
        ids = list(range(1000, 1300)) + list(range(1000, 1050))  # 50 duplicates
        random.shuffle(ids)
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda i: d.post_update("shop_bot", i, secret)[0], ids))
        assert statuses.count(200) == len(ids), set(statuses)
        assert redis.xlen("updates:shop_bot") == 300
        assert sorted(int(x) for x in redis.stream_field("updates:shop_bot", "update_id")) == list(range(1000, 1300))
        # A second bot has its own stream and its own dedupe namespace.
        assert d.post_update("other_bot", 1000)[0] == 200
        assert redis.xlen("updates:other_bot") == 1
    finally:
        d.stop()
        redis.stop()


def test_kill9_loses_nothing_answered(workdir):
    """kill -9 at random moments while requests are in flight: every update answered 200 is in the
    stream, exactly once."""
    redis = Redis(workdir)
    d = Webhookd(workdir, redis)
    secret = d.secret("shop_bot")
    answered = set()
    rng = random.Random(int(os.environ.get("TGFLEET_SEED", "7")))
    next_id = 1
    try:
        for round_ in range(6):
            d.start()
            ids = list(range(next_id, next_id + 120))
            next_id += 120

            def send(i):
                try:
                    return i, d.post_update("shop_bot", i, secret, timeout=3)[0]
                except OSError:
                    return i, None

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                futures = [pool.submit(send, i) for i in ids]
                time.sleep(rng.uniform(0.05, 0.4))
                d.kill(signal.SIGKILL)
                for f in futures:
                    i, status = f.result()
                    if status == 200:
                        answered.add(i)
        entries = [int(x) for x in redis.stream_field("updates:shop_bot", "update_id")]
        assert answered, "no request was answered at all"
        assert answered <= set(entries), sorted(answered - set(entries))[:10]
        assert len(entries) == len(set(entries)), "an update was enqueued twice"
    finally:
        d.stop()
        redis.stop()


def test_redis_outage_answers_503_then_recovers(workdir):
    redis, d = started(workdir)
    try:
        assert d.post_update("shop_bot", 1)[0] == 200
        redis.stop()
        status, body = d.post_update("shop_bot", 2)
        assert status == 503, (status, body)
        assert d.request("GET", "/health/redis")[0] == 503
        assert d.request("GET", "/health")[0] == 503
        redis.start()
        # Reconnects by itself, without a restart; the retried update is accepted.
        wait_for(lambda: d.post_update("shop_bot", 2)[0] == 200, timeout=10, what="recovery")
        assert d.request("GET", "/health/redis")[0] == 200
        # Scripts do not survive a flush (or a restart): the intake loads its script again.
        redis.cli("SCRIPT", "FLUSH")
        assert d.post_update("shop_bot", 3)[0] == 200
        assert sorted(redis.stream_field("updates:shop_bot", "update_id")) == ["1", "2", "3"]
        assert any("Redis down" in m for m in d.notify.seen("STATUS="))
    finally:
        d.stop()
        redis.stop()


def test_hung_redis_answers_503(workdir):
    """A Redis that stops answering (SIGSTOP) costs a 503 after CommandTimeoutSec, not a hang."""
    redis, d = started(workdir)
    try:
        assert d.post_update("shop_bot", 1)[0] == 200
        redis.proc.send_signal(signal.SIGSTOP)
        t = time.monotonic()
        status, _ = d.post_update("shop_bot", 2, timeout=10)
        assert status == 503, status
        assert time.monotonic() - t < 5
        redis.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: d.post_update("shop_bot", 3)[0] == 200, timeout=10, what="recovery")
    finally:
        d.stop()
        redis.stop()


def test_bad_input_changes_nothing(workdir):
    redis, d = started(workdir, config_extra="HeleketAllowedAddresses=127.0.0.1\n")
    try:
        secret = d.secret("shop_bot")
        tg = dict(JSON, **{"X-Telegram-Bot-Api-Secret-Token": secret})
        good = '{"update_id":5}'
        big = '{"update_id":6,"pad":"' + "x" * (1024 * 1024) + '"}'
        cases = [
            ("wrong secret", "POST", "/tg/shop_bot", good, dict(JSON, **{"X-Telegram-Bot-Api-Secret-Token": "x"}), 401),
            ("missing secret", "POST", "/tg/shop_bot", good, JSON, 401),
            ("secret of another bot", "POST", "/tg/other_bot", good, tg, 401),
            ("body over the limit", "POST", "/tg/shop_bot", big, tg, 413),
            ("not JSON", "POST", "/tg/shop_bot", "update_id=5", tg, 400),
            ("JSON not an object", "POST", "/tg/shop_bot", "[5]", tg, 400),
            ("missing update_id", "POST", "/tg/shop_bot", '{"message":{}}', tg, 400),
            ("update_id not an integer", "POST", "/tg/shop_bot", '{"update_id":"5"}', tg, 400),
            ("update_id twice", "POST", "/tg/shop_bot", '{"update_id":5,"update_id":6}', tg, 400),
            ("a NUL in the path", "POST", "/tg/shop_bot%00x", good, tg, 404),
            ("a NUL at the end of the path", "POST", "/tg/shop_bot%00", good, tg, 404),
            ("wrong method", "GET", "/tg/shop_bot", None, {}, 405),
            ("wrong method on provider", "PUT", "/pay/heleket", good, JSON, 405),
            ("unknown path", "POST", "/tg/shop_bot/x", good, tg, 404),
            ("unknown path", "GET", "/", None, {}, 404),
            ("wrong Content-Type", "POST", "/tg/shop_bot", good, dict(tg, **{"Content-Type": "text/plain"}), 415),
            ("no Content-Type", "POST", "/pay/yookassa", good, {}, 415),
            ("Heleket: no sign", "POST", "/pay/heleket", '{"uuid":"u1","status":"paid"}', JSON, 403),
            ("Heleket: wrong key", "POST", "/pay/heleket",
             heleket_body({"uuid": "u1", "status": "paid"}, key="other"), JSON, 403),
            ("Heleket: missing uuid", "POST", "/pay/heleket", heleket_body({"status": "paid"}), JSON, 400),
            ("Heleket: not JSON", "POST", "/pay/heleket", "{", JSON, 400),
            ("YooKassa: missing object.id", "POST", "/pay/yookassa",
             '{"type":"notification","event":"payment.succeeded","object":{}}', JSON, 400),
        ]
        for what, method, path, body, headers, want in cases:
            status, answer = d.request(method, path, body, headers)
            assert status == want, "{}: got {} {}, want {}".format(what, status, answer, want)
        # A tampered signed webhook: valid sign of one body, sent with another status.
        signed = json.loads(heleket_body({"uuid": "u1", "status": "fail"}))
        signed["status"] = "paid"
        assert d.request("POST", "/pay/heleket", json.dumps(signed), JSON)[0] == 403
        # Chunked body over the limit: 413 too.
        c = socket.create_connection(("127.0.0.1", d.port))
        c.sendall(("POST /tg/shop_bot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "X-Telegram-Bot-Api-Secret-Token: {}\r\nTransfer-Encoding: chunked\r\n\r\n").format(secret).encode())
        chunk = b"x" * 65536
        for _ in range(20):
            c.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        c.sendall(b"0\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 413"), "chunked overflow"
        c.close()
        assert redis.cli("KEYS", "*") == "", "something was written: " + redis.cli("KEYS", "*")
        metrics = d.request("GET", "/metrics")[1]
        assert 'tgfleet_webhook_rejects_total{reason="bad_secret"} 3' in metrics
        assert 'tgfleet_webhook_requests_total{route="telegram",status="413"}' in metrics
    finally:
        d.stop()
        redis.stop()


def test_heleket_and_yookassa_intake(workdir):
    redis, d = started(workdir)
    try:
        fields = json.loads(reference("examples/heleket_webhook_payment_paid.fixture.json"))
        fields["additional_data"] = "Заказ №1 / звёзды"
        body = heleket_body(fields)
        assert d.request("POST", "/pay/heleket", body, JSON)[0] == 200
        # Replays, and the same (uuid, status): one entry. A new status of the invoice: a new entry.
        for _ in range(5):
            assert d.request("POST", "/pay/heleket", body, JSON)[0] == 200
        assert d.request("POST", "/pay/heleket", heleket_body(dict(fields, status="paid_over")), JSON)[0] == 200
        notification = reference("examples/yookassa_notification_payment_waiting_for_capture.json")
        assert d.request("POST", "/pay/yookassa", notification, JSON)[0] == 200
        assert d.request("POST", "/pay/yookassa", notification, JSON)[0] == 200
        assert redis.stream_field("payments", "provider") == ["heleket", "heleket", "yookassa"]
        assert redis.stream_field("payments", "status") == ["paid", "paid_over"]
        assert redis.stream_field("payments", "event") == ["payment.waiting_for_capture"]
    finally:
        d.stop()
        redis.stop()


def test_source_allowlists_and_trusted_proxy(workdir):
    notification = '{"type":"notification","event":"payment.succeeded","object":{"id":"p-1"}}'
    redis = Redis(workdir)
    d = Webhookd(workdir, redis)
    # The documented YooKassa networks (the default) exclude 127.0.0.1.
    d.write_config("[Webhook]\nYooKassaAllowedAddresses=185.71.76.0/27 77.75.156.11\n")
    d.start()
    try:
        assert d.request("POST", "/pay/yookassa", notification, JSON)[0] == 403
        # X-Forwarded-For is not trusted from an arbitrary peer.
        assert d.request("POST", "/pay/yookassa", notification, dict(JSON, **{"X-Forwarded-For": "185.71.76.5"}))[0] == 403
        assert redis.xlen("payments") == 0
    finally:
        d.kill()
    d.write_config("[Webhook]\nYooKassaAllowedAddresses=185.71.76.0/27\nTrustedProxies=127.0.0.0/8\n")
    d.start()
    try:
        xff = lambda v: dict(JSON, **{"X-Forwarded-For": v})
        assert d.request("POST", "/pay/yookassa", notification, xff("185.71.76.5"))[0] == 200
        assert d.request("POST", "/pay/yookassa", notification, xff("203.0.113.9"))[0] == 403
        # The client is the right-most address that is not a trusted proxy.
        assert d.request("POST", "/pay/yookassa", notification, xff("185.71.76.5, 203.0.113.9"))[0] == 403
        assert d.request("POST", "/pay/yookassa", notification, xff("203.0.113.9, 185.71.76.6, 127.0.0.5"))[0] == 200
        assert d.request("POST", "/pay/yookassa", notification, JSON)[0] == 403  # the proxy itself
        assert redis.xlen("payments") == 1
    finally:
        d.stop()
        redis.stop()


def test_published_ranges_by_default_and_monitoring_for_this_host_only(workdir):
    """Out of the box an update or a Heleket webhook from outside Telegram's and Heleket's
    published ranges is refused (127.0.0.1 here), and so is /metrics, /health/db or /health/redis
    asked by anyone but this host: also through a trusted proxy for an outside client. /health
    answers everyone. An empty list lets anyone."""
    redis = Redis(workdir)
    d = Webhookd(workdir, redis)
    with open(d.config, "w") as f:   # the defaults: no [Webhook] lists at all
        f.write("[Redis]\nURL=%s\n[Database]\nURL=%s\n" % (redis.url, d.database))
    d.start()
    try:
        status, body = d.post_update("shop", 1)
        assert (status, json.loads(body)) == (403, {"error": "source_not_allowed"}), body
        heleket = heleket_body({"uuid": "u1", "status": "paid"})
        assert d.request("POST", "/pay/heleket", heleket, JSON)[0] == 403
        assert redis.xlen("updates:shop") == 0 and redis.xlen("payments") == 0
        for path in ("/metrics", "/health/db", "/health/redis", "/health"):
            assert d.request("GET", path)[0] in (200, 503), path   # loopback may ask
    finally:
        d.kill()
    d.write_config("[Webhook]\nTrustedProxies=127.0.0.0/8\n")
    d.start()
    try:
        outside = {"X-Forwarded-For": "203.0.113.9"}
        for path in ("/metrics", "/health/db", "/health/redis"):
            status, body = d.request("GET", path, headers=outside)
            assert (status, json.loads(body)) == (403, {"error": "source_not_allowed"}), (path, body)
        assert d.request("GET", "/health", headers=outside)[0] == 200
        assert d.request("GET", "/metrics", headers={"X-Forwarded-For": "127.0.0.1"})[0] == 200
    finally:
        d.kill()
    d.write_config("[Webhook]\nTrustedProxies=127.0.0.0/8\nMonitorAllowedAddresses=\n")
    d.start()
    try:
        assert d.request("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})[0] == 200
    finally:
        d.stop()
        redis.stop()


def test_health_db_with_real_postgresql(workdir):
    conninfo = pg_conninfo()
    redis, d = started(workdir, database=conninfo)
    try:
        wait_for(lambda: d.request("GET", "/health/db")[0] == 200, timeout=15, what="/health/db 200")
        status, body = d.request("GET", "/health")
        assert status == 200 and json.loads(body) == {"status": "ok", "redis": "up", "database": "up"}
        assert "tgfleet_up{dependency=\"database\"} 1" in d.request("GET", "/metrics")[1]
    finally:
        d.stop()
        redis.stop()
    # The same with a database that is not there.
    other = os.path.join(workdir, "no-db")
    os.makedirs(other)
    redis, d = started(other)
    try:
        assert d.request("GET", "/health/db")[0] == 503
    finally:
        d.stop()
        redis.stop()


def test_reload_applies_config_and_credentials(workdir):
    redis, d = started(workdir)
    try:
        old = d.secret("shop_bot")
        # A keep-alive connection opened before the reload.
        c = socket.create_connection(("127.0.0.1", d.port))
        assert d.post_update("shop_bot", 1, old)[0] == 200
        wait_for(lambda: d.notify.seen("READY=1"), what="READY=1")
        d.write_cred("webhook-key", "rotated-key")
        d.write_config("[Webhook]\nMaxBodySize=300\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: d.notify.seen("RELOADING=1"), what="RELOADING=1")
        wait_for(lambda: len(d.notify.seen("READY=1")) >= 2, what="READY=1 after reload")
        assert d.post_update("shop_bot", 2, old)[0] == 401
        assert d.post_update("shop_bot", 2, d.secret("shop_bot"))[0] == 200
        assert d.post_update("shop_bot", 3, d.secret("shop_bot"), extra="x" * 400)[0] == 413
        # The connection opened before the reload still works.
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 200")
        c.close()
        # A broken config on reload keeps the running one.
        d.write_config("[Webhook]\nMaxBodySize=banana\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: len(d.notify.seen("READY=1")) >= 3, what="READY=1 after failed reload")
        assert d.post_update("shop_bot", 4, d.secret("shop_bot"), extra="x" * 400)[0] == 413
        assert d.post_update("shop_bot", 4, d.secret("shop_bot"))[0] == 200
    finally:
        d.stop()
        redis.stop()


def test_slow_clients_cannot_exhaust_it(workdir):
    redis, d = started(workdir, config_extra="MaxConnectionsPerAddress=20\n")
    try:
        secret = d.secret("shop_bot")  # before the clock starts: it runs tgfleetctl
        assert d.post_update("shop_bot", 1, secret)[0] == 200
        # The per-address limit used up: no service for this address now... On a slow machine (ASan
        # under load) the 2 s timeout may drop the first idle ones before the check: then again.
        for attempt in range(3):
            idle, start = [], time.monotonic()
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", d.port))
                s.sendall(b"POST /tg/shop_bot HTTP/1.1\r\nHost: x\r\n")  # headers never finished
                idle.append(s)
            refused = status_of(lambda: d.post_update("shop_bot", 2, secret, timeout=1)) != 200
            if refused:
                break
            assert time.monotonic() - start > 1.5, "served while the per-address limit was used up"
            for s in idle:
                s.close()
        assert refused, "the idle connections kept timing out before the check"
        # ...until ConnectionTimeoutSec (2 s) drops the idle ones; then it is served again.
        for s in idle:
            s.settimeout(6)
            try:
                closed = s.recv(100) == b""
            except ConnectionResetError:
                closed = True  # closed with its unread partial request still queued: RST, not FIN
            assert closed, "an idle connection was not closed"
            s.close()
        wait_for(lambda: status_of(lambda: d.post_update("shop_bot", 2, secret, timeout=1)) == 200,
                 timeout=5, what="service after slow clients")
        # A client trickling a body is cut off too.
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(("POST /tg/shop_bot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "X-Telegram-Bot-Api-Secret-Token: {}\r\nContent-Length: 1000\r\n\r\n").format(secret).encode())
        start = time.monotonic()
        s.settimeout(0.5)
        closed = False
        while time.monotonic() - start < 8:
            try:
                s.sendall(b" ")
                if s.recv(100) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        assert closed, "a trickling client held its connection"
        assert redis.xlen("updates:shop_bot") == 2
    finally:
        d.stop()
        redis.stop()


def test_tls_from_credentials(workdir):
    """With the tls-certificate and tls-key credentials, webhookd speaks HTTPS itself."""
    import ssl
    import subprocess
    redis = Redis(workdir)
    d = Webhookd(workdir, redis)
    key, cert = os.path.join(workdir, "key.pem"), os.path.join(workdir, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True)
    if r.returncode != 0:
        raise Skip("openssl cannot make a test certificate")
    d.write_cred("tls-certificate", open(cert).read())
    d.write_cred("tls-key", open(key).read())
    d.start()
    try:
        ctx = ssl.create_default_context(cafile=cert)
        c = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=5)
        c.request("POST", "/tg/shop_bot", '{"update_id":7}',
                  {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": d.secret("shop_bot")})
        assert c.getresponse().status == 200
        c.close()
        assert redis.stream_field("updates:shop_bot", "update_id") == ["7"]
        # Plain HTTP on the TLS socket gets nothing enqueued.
        assert status_of(lambda: d.request("POST", "/tg/shop_bot", '{"update_id":8}', JSON, timeout=2)) != 200
        assert redis.xlen("updates:shop_bot") == 1
        # Telegram (the sandbox; its usual ports aside, as Telegram takes them) trusts the
        # self-signed certificate uploaded with the webhook, and only that: without it nothing is
        # delivered.
        sb = Sandbox(workdir)
        try:
            token = sb.bot("tls_bot")
            d.write_cred("bot-token-shop_bot", token)
            conf = os.path.join(workdir, "ctl.conf")
            with open(conf, "w") as f:
                f.write("[Telegram]\nURL=http://127.0.0.1:%d\n" % sb.port)
            ctl = [CTL, "--config=" + conf, "--credentials-dir=" + d.creds, "webhooks", "set", "shop_bot",
                   "--url=https://127.0.0.1:%d/tg/shop_bot" % d.port]
            r = subprocess.run(ctl, capture_output=True, text=True)
            assert r.returncode == 0, r
            sb.user_sends("tls_bot", 5, "/start")
            wait_for(lambda: sb.api(token, "getWebhookInfo")[1]["result"].get("last_error_message"),
                     what="the delivery refused")
            assert redis.xlen("updates:shop_bot") == 1
            r = subprocess.run(ctl + ["--certificate=" + cert], capture_output=True, text=True)
            assert r.returncode == 0 and "(with its certificate)" in r.stdout, r
            assert sb.api(token, "getWebhookInfo")[1]["result"]["has_custom_certificate"] is True
            wait_for(lambda: redis.xlen("updates:shop_bot") == 2, timeout=15, what="the update delivered over TLS")
        finally:
            sb.stop()
    finally:
        d.stop()
        redis.stop()


def test_min_replicas_ack(workdir):
    """MinReplicasAck=1: with no replica the event is written but answered 503 (the sender
    retries); once a replica follows, the retry is answered 200 and nothing is written twice."""
    redis = Redis(workdir)
    d = Webhookd(workdir, redis)
    d.write_config("[Redis]\nMinReplicasAck=1\nReplicaAckTimeoutSec=2\n")
    d.start()
    replica = None
    try:
        secret = d.secret("shop_bot")
        assert d.post_update("shop_bot", 1, secret)[0] == 503
        # The primary listens on a unix socket only: give it a TCP port, then a replica.
        primary_port, replica_port = free_port(), free_port()
        redis.cli("CONFIG", "SET", "port", str(primary_port))
        replica_dir = os.path.join(workdir, "replica")
        os.makedirs(replica_dir)
        replica = subprocess.Popen(["redis-server", "--port", str(replica_port), "--bind", "127.0.0.1",
                                    "--dir", replica_dir, "--save", "", "--replicaof", "127.0.0.1", str(primary_port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: "master_link_status:up" in subprocess.run(
            ["redis-cli", "-p", str(replica_port), "INFO", "replication"], capture_output=True, text=True).stdout,
            timeout=15, what="replica in sync")
        assert d.post_update("shop_bot", 1, secret)[0] == 200
        answer = d.post_update("shop_bot", 2, secret)
        assert answer[0] == 200, answer
        assert redis.stream_field("updates:shop_bot", "update_id") == ["1", "2"]
    finally:
        if replica:
            replica.kill()
            replica.wait()
        d.stop()
        redis.stop()


def status_of(call):
    try:
        return call()[0]
    except OSError:
        return None


def test_sigterm_answers_what_was_accepted_before_stopping(workdir):
    """A stop (a restart, an upgrade) takes no new connection but finishes the open ones: an
    update whose body is still arriving when SIGTERM comes is answered 200 and kept, and the
    daemon then exits cleanly. A second SIGTERM does not wait."""
    redis, d = started(workdir)
    try:
        assert d.post_update("shop_bot", 1)[0] == 200   # the daemon runs (socket activation)
        body = '{"update_id":2,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"late"}}'
        conn = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        head = ("POST /tg/shop_bot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "X-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (d.secret("shop_bot"), len(body)))
        conn.sendall(head.encode() + body[:20].encode())
        time.sleep(0.3)
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        conn.sendall(body[20:].encode())
        answer = conn.recv(4096).decode()
        conn.close()
        assert answer.startswith("HTTP/1.1 200"), answer
        assert d.proc.wait(3) == 0   # well before the 5 s a drain may take
        assert redis.stream_field("updates:shop_bot", "update_id") == ["1", "2"]
        d.proc = None
    finally:
        d.stop()
        redis.stop()



def test_redis_down_at_start(workdir):
    """Started while Redis is down, webhookd answers at once (503, Telegram delivers again), says
    in STATUS= and the journal what it waits for, and takes updates once Redis is there."""
    redis = Redis(workdir)
    redis.stop()
    d = Webhookd(workdir, redis).start()
    try:
        start = time.monotonic()
        status, body = d.post_update("shop_bot", 1)
        assert status == 503, (status, body)
        assert d.request("GET", "/health")[0] == 503
        assert time.monotonic() - start < 2
        wait_for(lambda: any(m.startswith("STATUS=Waiting for Redis (") for m in d.notify.seen("STATUS=")),
                 what="STATUS= waiting")
        assert d.notify.seen("READY=1")
        redis.start()
        wait_for(lambda: d.post_update("shop_bot", 1)[0] == 200, timeout=10, what="updates taken")
        assert redis.xlen("updates:shop_bot") == 1
        with open(d.log.name, errors="replace") as f:
            log = f.read()
        assert log.count("Waiting for Redis (") == 1 and "Redis connection is back." in log, log
        wait_for(lambda: d.notify.seen("STATUS=")[-1].startswith("STATUS=Accepted 1,"), what="STATUS= counters")
    finally:
        d.stop()
        redis.stop()


def test_sigterm_does_not_wait_for_idle_connections(workdir):
    """A connection kept alive between requests (Telegram keeps them) does not hold a stop: it is
    closed at once. One accepted whose first request is still to come is waited for and answered."""
    redis, d = started(workdir)
    try:
        def request(update_id, close):
            body = '{"update_id":%d,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}' % update_id
            return ("POST /tg/shop_bot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "X-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Length: %d\r\n%s\r\n%s"
                    % (d.secret("shop_bot"), len(body), "Connection: close\r\n" if close else "", body)).encode()
        idle = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        idle.sendall(request(1, close=False))
        assert idle.recv(4096).decode().startswith("HTTP/1.1 200")
        fresh = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        time.sleep(0.3)   # both accepted; one idle, one that has sent nothing yet
        start = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        fresh.sendall(request(2, close=True))
        assert fresh.recv(4096).decode().startswith("HTTP/1.1 200")
        assert d.proc.wait(4) == 0
        took = time.monotonic() - start
        # Here idle connections time out after 2 s (ConnectionTimeoutSec=); the drain stops at 5 s.
        assert took < 1, "the stop took %.1f s" % took
        assert idle.recv(4096) == b""   # closed by the server
        idle.close()
        fresh.close()
        assert redis.stream_field("updates:shop_bot", "update_id") == ["1", "2"]
        d.proc = None
    finally:
        d.stop()
        redis.stop()

if __name__ == "__main__":
    run_tests(globals())
