# SPDX-License-Identifier: MIT
"""tgfleetctl as an admin uses it: migrate, check-connections, webhooks secret; against a real
PostgreSQL (pg_virtualenv) and a real redis-server."""

import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from harness import CTL, SOURCE, Redis, Sandbox, pg_conninfo, psql, run_tests, wait_for


def fresh_database():
    """A new empty database in the throwaway cluster; returns (name, conninfo)."""
    base = pg_conninfo()
    name = "t_" + uuid.uuid4().hex[:12]
    psql("CREATE DATABASE " + name)
    return name, base.rsplit("dbname=", 1)[0] + "dbname=" + name


def migrations(workdir, files):
    """A fresh database and a migrations directory holding @files ({name: sql}); returns
    (database name, directory, config text)."""
    name, conninfo = fresh_database()
    mig = os.path.join(workdir, "migrations")
    os.makedirs(mig)
    for fname, sql in files.items():
        with open(os.path.join(mig, fname), "w") as f:
            f.write(sql)
    return name, mig, "[Database]\nURL={}\nMigrationsDirectory={}\n".format(conninfo, mig)


def ctl(workdir, *args, config="", creds=None):
    conf = os.path.join(workdir, "ctl.conf")
    with open(conf, "w") as f:
        f.write(config)
    cmd = [CTL, "--config=" + conf]
    if creds:
        cmd.append("--credentials-dir=" + creds)
    return subprocess.run(cmd + list(args), capture_output=True, text=True)


def test_migrate_applies_in_order_once(workdir):
    name, conninfo = fresh_database()
    config = "[Database]\nURL={}\nMigrationsDirectory={}/migrations\n".format(conninfo, SOURCE)
    r = ctl(workdir, "migrate", config=config)
    assert r.returncode == 0, r.stderr
    shipped = sorted(f for f in os.listdir(os.path.join(SOURCE, "migrations")) if f.endswith(".sql"))
    assert [l.split()[-1].rstrip(".") for l in r.stderr.splitlines() if "Applied" in l] == shipped
    assert psql("SELECT string_agg(name, ',' ORDER BY version) FROM schema_migrations", name) == ",".join(shipped)
    # Up to date: a no-op.
    r = ctl(workdir, "migrate", config=config)
    assert r.returncode == 0 and "up to date" in r.stdout, r.stdout + r.stderr


def test_concurrent_migrations_are_serialised(workdir):
    # A slow first migration widens the window in which two runs would collide without the lock.
    name, _, config = migrations(workdir, {"0001_slow.sql": "SELECT pg_sleep(1); CREATE TABLE t1 (id int);",
                                           "0002_more.sql": "CREATE TABLE t2 (id int);"})
    runs = [os.path.join(workdir, "run%d" % i) for i in range(4)]
    for d in runs:
        os.makedirs(d)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda d: ctl(d, "migrate", config=config), runs))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    applied = sum(r.stderr.count("Applied migration") for r in results)
    assert applied == 2, [r.stderr for r in results]
    assert psql("SELECT count(*) FROM schema_migrations", name) == "2"


def test_failed_migration_rolls_back_and_edited_one_is_refused(workdir):
    name, mig, config = migrations(workdir, {"0001_ok.sql": "CREATE TABLE good (id int);",
                                             "0002_broken.sql": "CREATE TABLE half (id int); SELECT no_such_function();"})
    r = ctl(workdir, "migrate", config=config)
    assert r.returncode == 1
    assert "no_such_function" in r.stderr
    assert psql("SELECT count(*) FROM schema_migrations", name) == "1"
    assert psql("SELECT to_regclass('half') IS NULL", name) == "t", "the failed migration was not rolled back"
    # Fixed, it applies.
    with open(os.path.join(mig, "0002_broken.sql"), "w") as f:
        f.write("CREATE TABLE half (id int);")
    assert ctl(workdir, "migrate", config=config).returncode == 0
    # Editing an applied migration is refused, not silently skipped.
    with open(os.path.join(mig, "0001_ok.sql"), "a") as f:
        f.write("\n-- edited\n")
    r = ctl(workdir, "migrate", config=config)
    assert r.returncode == 1 and "0001_ok.sql was changed" in r.stderr, r.stderr
    # A badly named file is refused before anything runs.
    shutil.move(os.path.join(mig, "0001_ok.sql"), os.path.join(mig, "1_ok.sql"))
    r = ctl(workdir, "migrate", config=config)
    assert r.returncode == 1 and "NNNN_name.sql" in r.stderr, r.stderr


def test_check_connections(workdir):
    _, conninfo = fresh_database()
    redis = Redis(workdir)
    try:
        config = "[Database]\nURL={}\n[Redis]\nURL={}\n".format(conninfo, redis.url)
        assert ctl(workdir, "migrate", os.path.join(SOURCE, "migrations"), config=config).returncode == 0
        r = ctl(workdir, "check-connections", config=config)
        assert r.returncode == 0, r.stdout + r.stderr
        lines = {l.split()[0]: l for l in r.stdout.splitlines()}
        assert " ok " in lines["postgresql"] and "schema version" in lines["postgresql"]
        assert " ok " in lines["redis"] and "AOF on" in lines["redis"]
        assert "skipped" in lines["heleket"] and "skipped" in lines["yookassa"]
        assert "no bot-token-shop credential" in lines["shop-bot"] and "skipped" in lines["master-bot"]
        redis.stop()
        r = ctl(workdir, "check-connections", config=config)
        assert r.returncode == 1
        assert "FAILED" in [l for l in r.stdout.splitlines() if l.startswith("redis")][0]
    finally:
        redis.stop()


def test_webhooks_secret(workdir):
    creds = os.path.join(workdir, "creds")
    os.makedirs(creds)
    with open(os.path.join(creds, "webhook-key"), "w") as f:
        f.write("the-key\n")
    r = ctl(workdir, "webhooks", "secret", "shop_bot", creds=creds)
    assert r.returncode == 0, r.stderr
    want = hmac.new(b"the-key", b"tgfleet-webhook:shop_bot", hashlib.sha256).hexdigest()
    assert r.stdout.strip() == want
    assert ctl(workdir, "webhooks", "secret", "bad/bot", creds=creds).returncode == 2
    assert ctl(workdir, "webhooks", "secret", "shop_bot", creds=workdir).returncode == 1
    # Secrets are never taken from the environment or argv.
    r = subprocess.run([CTL, "--config=/dev/null", "webhooks", "secret", "shop_bot"], capture_output=True, text=True,
                       env=dict(os.environ, CREDENTIALS_DIRECTORY=creds))
    assert r.stdout.strip() == want
    r = subprocess.run([CTL, "--config=/dev/null", "webhooks", "secret", "shop_bot"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"})
    assert r.returncode == 1


def test_every_verb_answers_help_with_its_own_usage(workdir):
    """--help anywhere in a verb's arguments prints that verb's usage and does nothing else: no
    migration directory named --help, no chat with a bot of that name, no configuration read."""
    for verb, words in (("migrate", ["migrate"]), ("check-connections", ["check-connections"]),
                        ("webhooks secret BOT", ["webhooks", "secret"]), ("sandbox chat BOT", ["sandbox", "chat"]),
                        ("clients list", ["clients", "list"]), ("queue", ["queue"]), ("orders list", ["orders"])):
        for flag in ("--help", "-h"):
            r = subprocess.run([CTL, "--config=/nonexistent.conf", *words, flag], capture_output=True, text=True)
            assert r.returncode == 0 and r.stdout.startswith("Usage: tgfleetctl " + words[0]), (words, r)
            assert verb.split()[0] in r.stdout and r.stderr == "", (words, r)
    # A wrong call prints the same usage on standard error.
    r = subprocess.run([CTL, "--config=/dev/null", "migrate", "a", "b"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("Usage: tgfleetctl migrate"), r
    r = subprocess.run([CTL, "--config=/dev/null", "frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2 and "Unknown command" in r.stderr, r


def test_check_connections_says_which_bot_token_is_wrong(workdir):
    sb = Sandbox(workdir)
    try:
        creds = os.path.join(workdir, "creds")
        os.makedirs(creds)
        with open(os.path.join(creds, "bot-token-shop"), "w") as f:
            f.write(sb.bot("stars_shop_bot"))
        with open(os.path.join(creds, "bot-token-master"), "w") as f:
            f.write("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")   # revoked, or never real
        r = ctl(workdir, "check-connections", config="[Telegram]\nURL=http://127.0.0.1:%d\n" % sb.port, creds=creds)
        lines = {l.split()[0]: l for l in r.stdout.splitlines()}
        assert " ok " in lines["shop-bot"] and "bot-token-shop is @stars_shop_bot" in lines["shop-bot"], r.stdout
        assert " FAILED " in lines["master-bot"] and "does not accept bot-token-master (HTTP 401)" in lines["master-bot"]
        assert r.returncode == 1
    finally:
        sb.stop()

def test_webhooks_set_registers_a_bot_from_the_credential_store(workdir):
    """tgfleetctl webhooks set: the token from bot-token-BOT (never on a command line), the URL
    from [Deploy] PublicURL= or --url=, the derived secret, the update types, a self-signed
    certificate uploaded; info and delete; Telegram's refusals said plainly."""
    got = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass
    receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        creds = os.path.join(workdir, "creds")
        os.makedirs(creds)
        for name, value in (("webhook-key", "the-key\n"), ("bot-token-shop", token)):
            with open(os.path.join(creds, name), "w") as f:
                f.write(value)
        config = "[Telegram]\nURL=http://127.0.0.1:%d\n[Deploy]\nPublicURL=http://127.0.0.1:%d\n" % (
            sb.port, receiver.server_port)
        r = ctl(workdir, "webhooks", "set", "shop", config=config, creds=creds)
        assert r.returncode == 0 and "Webhook of shop set: http://127.0.0.1:%d/tg/shop" % receiver.server_port in r.stdout, r
        assert token not in r.stdout + r.stderr
        secret = ctl(workdir, "webhooks", "secret", "shop", creds=creds).stdout.strip()
        sb.user_sends("shop_bot", 5, "/start")
        wait_for(lambda: got, what="the update delivered")
        assert got[0][:2] == ("/tg/shop", secret) and got[0][2]["message"]["text"] == "/start", got
        r = ctl(workdir, "webhooks", "info", "shop", config=config, creds=creds)
        assert r.returncode == 0 and "/tg/shop" in r.stdout and "Pending:     0" in r.stdout, r
        # Only some update types; a self-signed certificate, uploaded.
        cert = os.path.join(workdir, "public.pem")
        with open(cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        r = ctl(workdir, "webhooks", "set", "shop", "--allowed-updates=callback_query", "--certificate=" + cert,
                config=config, creds=creds)
        assert r.returncode == 0 and "(with its certificate)" in r.stdout, r
        assert "self-signed, uploaded" in ctl(workdir, "webhooks", "info", "shop", config=config, creds=creds).stdout
        sb.user_sends("shop_bot", 5, "not delivered: a message")
        time.sleep(0.5)
        assert len(got) == 1, got
        # Refusals: Telegram's words, exit 1; usage, exit 2.
        r = ctl(workdir, "webhooks", "set", "shop", "--url=ftp://x/tg/shop", config=config, creds=creds)
        assert r.returncode == 1 and "Telegram refused setWebhook for shop" in r.stderr, r
        r = ctl(workdir, "webhooks", "set", "shop", "--certificate=/nonexistent", config=config, creds=creds)
        assert r.returncode == 1 and "Cannot read the certificate" in r.stderr, r
        assert ctl(workdir, "webhooks", "set", "shop", config="[Telegram]\nURL=http://127.0.0.1:%d\n" % sb.port,
                   creds=creds).returncode == 2
        r = ctl(workdir, "webhooks", "set", "master", config=config, creds=creds)
        assert r.returncode == 1 and "bot-token-master" in r.stderr, r
        with open(os.path.join(creds, "bot-token-other"), "w") as f:
            f.write("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        r = ctl(workdir, "webhooks", "info", "other", config=config, creds=creds)
        assert r.returncode == 1 and "Telegram refused getWebhookInfo for other (HTTP 401)" in r.stderr, r
        r = ctl(workdir, "webhooks", "delete", "shop", config=config, creds=creds)
        assert r.returncode == 0 and "deleted" in r.stdout, r
        assert "(none: no webhook)" in ctl(workdir, "webhooks", "info", "shop", config=config, creds=creds).stdout
    finally:
        sb.stop()
        receiver.shutdown()


if __name__ == "__main__":
    run_tests(globals())
