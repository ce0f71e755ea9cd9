# SPDX-License-Identifier: MIT
"""Integration harness: real redis-server, real PostgreSQL (from pg_virtualenv's PG* variables),
the real tgfleet binaries, systemd-socket-activate and a NOTIFY_SOCKET listener. Standard library
only. Each test module calls run_tests(globals()), which prints 'N passed, N failed'."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

BUILD = os.environ.get("TGFLEET_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
REFERENCE = os.environ.get("TGFLEET_REFERENCE", "")
WEBHOOKD = os.path.join(BUILD, "src", "webhookd", "tgfleet-webhookd")
CTL = os.path.join(BUILD, "src", "ctl", "tgfleetctl")
SANDBOX = os.path.join(BUILD, "src", "sandbox", "tgfleet-sandbox")
APID = os.path.join(BUILD, "src", "apid", "tgfleet-apid")
DEPLOYD = os.path.join(BUILD, "src", "deployd", "tgfleet-deployd")
SOURCE = os.environ.get("TGFLEET_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))


class Skip(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Redis:
    """A private redis-server on a unix socket, AOF on with fsync always."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "redis.sock")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.sock, "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.ping(), what="redis-server")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        try:
            os.unlink(self.sock)
        except FileNotFoundError:
            pass

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-s", self.sock, *args], capture_output=True, text=True)
        return r.stdout.strip()

    def ping(self):
        try:
            return self.cli("PING") == "PONG"
        except Exception:
            return False

    @property
    def url(self):
        return "unix://" + self.sock

    def xlen(self, stream):
        return int(self.cli("XLEN", stream) or 0)

    def stream_field(self, stream, field):
        """Every value of @field in @stream, in order."""
        script = ("local out = {} "
                  "for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do "
                  "  local f = e[2] "
                  "  for i = 1, #f, 2 do if f[i] == ARGV[1] then table.insert(out, f[i + 1]) end end "
                  "end "
                  "return cjson.encode(out)")
        return json.loads(self.cli("--raw", "EVAL", script, "1", stream, field) or "[]")


class Notify:
    """A NOTIFY_SOCKET listener collecting sd_notify() messages."""

    def __init__(self, workdir, name="notify"):
        self.path = os.path.join(workdir, name + ".sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            with self.lock:
                self.messages.extend(data.decode().split("\n"))

    def seen(self, prefix):
        with self.lock:
            return [m for m in self.messages if m.startswith(prefix)]

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def pg_conninfo():
    """The conninfo of pg_virtualenv's throwaway cluster (password from PGPASSWORD), or Skip."""
    if "PGHOST" not in os.environ:
        raise Skip("no PostgreSQL (run under pg_virtualenv)")
    return "host={} port={} user={} dbname={}".format(
        os.environ["PGHOST"], os.environ.get("PGPORT", "5432"), os.environ.get("PGUSER", "postgres"),
        os.environ.get("PGDATABASE", "postgres"))


def psql(sql, dbname=None):
    env = dict(os.environ)
    if dbname:
        env["PGDATABASE"] = dbname
    r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        raise AssertionError("psql failed: " + r.stderr)
    return r.stdout.strip()


def psql_fails(sql, dbname=None):
    """Runs @sql, which must fail; returns psql's words, with the SQLSTATE ("ERROR:  P0002: …")."""
    env = dict(os.environ)
    if dbname:
        env["PGDATABASE"] = dbname
    r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-c", sql],
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0, "psql did not fail: " + r.stdout
    return r.stderr


class Webhookd:
    """tgfleet-webhookd run as systemd would: under systemd-socket-activate, with NOTIFY_SOCKET
    and WATCHDOG_USEC, config and credentials in a private directory."""

    def __init__(self, workdir, redis, config_extra="", database=None, watchdog_usec=2000000,
                 heleket_key="webhook-secret"):
        self.workdir = workdir
        self.redis = redis
        self.port = free_port()
        self.creds = os.path.join(workdir, "creds")
        os.makedirs(self.creds, exist_ok=True)
        self.write_cred("webhook-key", "integration-test-key\n")
        if heleket_key:
            self.write_cred("heleket-api-key", heleket_key)
        self.config = os.path.join(workdir, "tgfleet.conf")
        self.database = database or "host=127.0.0.1 port=1 dbname=none connect_timeout=1"
        self.write_config(config_extra)
        self.notify = Notify(workdir)
        self.watchdog_usec = watchdog_usec
        self.proc = None
        self.log = open(os.path.join(workdir, "webhookd.log"), "ab")

    def write_cred(self, name, value):
        path = os.path.join(self.creds, name)
        with open(path, "w") as f:
            f.write(value)
        os.chmod(path, 0o600)

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write("[Redis]\nURL={}\nCommandTimeoutSec=2\n[Database]\nURL={}\n".format(
                self.redis.url, self.database))
            # Telegram, Heleket and YooKassa are the sandbox here, on 127.0.0.1.
            f.write("[Webhook]\nTelegramAllowedAddresses=\nHeleketAllowedAddresses=\nYooKassaAllowedAddresses=\n"
                    "ConnectionTimeoutSec=2\n")
            f.write(extra)

    def start(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path, WATCHDOG_USEC=str(self.watchdog_usec))
        env.pop("WATCHDOG_PID", None)
        # systemd-socket-activate hands the child only the variables named with -E.
        passed = [a for v in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "TGFLEET_LOG_LEVEL", "PGPASSWORD")
                  if v in env for a in ("-E", v)]
        self.proc = subprocess.Popen(
            ["systemd-socket-activate", "-l", "127.0.0.1:{}".format(self.port), "--fdname=http", *passed,
             WEBHOOKD, "--config=" + self.config, "--credentials-dir=" + self.creds],
            env=env, stdout=self.log, stderr=self.log, start_new_session=True)
        # systemd-socket-activate listens at once and execs the daemon on the first connection.
        wait_for(lambda: self._listening(), what="socket")
        return self

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def kill(self, sig=signal.SIGKILL):
        """Sends @sig and waits; returns the exit status (None when not running). A daemon that
        had already died shows here with its own status, not @sig's."""
        if not self.proc:
            return None
        died_before = self.proc.poll()
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        status = self.proc.wait()
        self.proc = None
        assert died_before is None, "webhookd had died on its own, status %d" % died_before
        return status

    def stop(self):
        running = self.proc is not None and bool(self.notify.seen("READY=1"))
        status = self.kill(signal.SIGTERM)
        if running:
            assert status == 0, "webhookd exited with status %s on SIGTERM" % status
            try:
                wait_for(lambda: self.notify.seen("STOPPING=1"), timeout=5, what="STOPPING=1")
            except AssertionError:
                # Seen once in many runs under load: a clean exit (status 0, which only follows
                # the sd_notify call) whose STOPPING=1 datagram this listener never got. The log
                # line printed just before it must then be there; anything else fails.
                with open(self.log.name, errors="replace") as f:
                    stopped = "tgfleet-webhookd: Stopping." in f.read()
                with self.notify.lock:
                    assert stopped, "no STOPPING=1 and no stop logged; last notifications: %r" % self.notify.messages[-8:]
                print("WARNING: STOPPING=1 not received, stop logged and exit 0", flush=True)
        self.notify.close()
        self.log.close()
        # Under ASan/UBSan a report goes to the daemon's stderr: it fails the test.
        with open(self.log.name, errors="replace") as f:
            log = f.read()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in log, "sanitizer report in webhookd.log:\n" + log[log.index(marker) - 200:][:3000]

    def secret(self, bot):
        r = subprocess.run([CTL, "--credentials-dir=" + self.creds, "webhooks", "secret", bot],
                           capture_output=True, text=True, check=True)
        return r.stdout.strip()

    def request(self, method, path, body=None, headers=None, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            try:
                c.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError):
                # Answered (413) before the whole body was sent: read that answer, if the
                # connection still holds one (a killed server leaves none).
                if c.sock is None:
                    raise
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def post_update(self, bot, update_id, secret=None, extra="", timeout=5):
        body = '{"update_id":%d,"message":{"message_id":1,"date":1700000000,"chat":{"id":42,"type":"private"},' \
               '"text":"hi%s"}}' % (update_id, extra)
        return self.request("POST", "/tg/" + bot, body,
                            {"Content-Type": "application/json",
                             "X-Telegram-Bot-Api-Secret-Token": secret or self.secret(bot)}, timeout)


class Sandbox:
    """tgfleet-sandbox on a free port, with a Heleket merchant and a YooKassa shop configured."""

    HELEKET_MERCHANT = "8b03432e-385b-4670-8d06-064591096795"
    HELEKET_KEY = "sandbox-heleket-key"
    HELEKET_PAYOUT_KEY = "sandbox-heleket-payout-key"
    YOOKASSA_SHOP = "100500"
    YOOKASSA_SECRET = "test_sandbox_secret"

    def __init__(self, workdir, yookassa_notify=None, extra_args=(), local_http=True, port=None):
        self.dir = os.path.join(workdir, "sandbox")
        os.makedirs(os.path.join(self.dir, "creds"), exist_ok=True)
        for name, value in (("heleket-api-key", self.HELEKET_KEY), ("heleket-payout-key", self.HELEKET_PAYOUT_KEY),
                            ("yookassa-secret-key", self.YOOKASSA_SECRET)):
            with open(os.path.join(self.dir, "creds", name), "w") as f:
                f.write(value)
        conf = os.path.join(self.dir, "sandbox.conf")
        with open(conf, "w") as f:
            f.write("[Heleket]\nMerchant={}\n[YooKassa]\nShopId={}\n".format(self.HELEKET_MERCHANT, self.YOOKASSA_SHOP))
        self.port = port or free_port()
        args = [SANDBOX, "--listen=127.0.0.1:%d" % self.port, "--config=" + conf,
                "--credentials-dir=" + os.path.join(self.dir, "creds"), "--retry-ms=100", *extra_args]
        if local_http:   # tests' webhooks are http:// on 127.0.0.1
            args.append("--allow-local-http")
        if yookassa_notify:
            args.append("--yookassa-notify=" + yookassa_notify)
        self.log = open(os.path.join(workdir, "sandbox.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        wait_for(lambda: self._up(), what="sandbox")

    def _up(self):
        try:
            return self.call("GET", "/sandbox/health")[0] == 200
        except OSError:
            return False

    def call(self, method, path, body=None, headers=None):
        """(status, parsed JSON) of a request to the sandbox."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = dict(headers or {}, **{"Content-Type": "application/json"})
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None
        finally:
            c.close()

    def bot(self, username):
        status, info = self.call("POST", "/sandbox/bots", {"username": username})
        assert status == 200, info
        return info["token"]

    def api(self, token, method, **params):
        return self.call("POST", "/bot%s/%s" % (token, method), params)

    def user_sends(self, bot, user, text, language="ru"):
        return self.call("POST", "/sandbox/bots/%s/users/%d/send" % (bot, user), {"text": text, "language_code": language})

    def user_presses(self, bot, user, label):
        return self.call("POST", "/sandbox/bots/%s/users/%d/press" % (bot, user), {"label": label})

    def messages(self, bot, user):
        return self.call("GET", "/sandbox/bots/%s/users/%d/messages" % (bot, user))[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()
        with open(self.log.name, errors="replace") as f:
            log = f.read()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in log, "sanitizer report in sandbox.log:\n" + log[-3000:]


class BotChat:
    """One bot's private chats as its users see them in the sandbox: what they send and press, and
    what the bot shows. The base of each role's test driver (the master bot, the sales bot, …)."""

    def __init__(self, sandbox, bot):
        self.sandbox, self.bot = sandbox, bot

    def say(self, user, text, language="en"):
        status, answer = self.sandbox.user_sends(self.bot, user, text, language)
        assert status == 200, answer
        return answer

    def press(self, user, label):
        status, answer = self.sandbox.user_presses(self.bot, user, label)
        assert status == 200, (label, answer, self.texts(user)[-2:])
        return answer

    def press_data(self, user, data):
        """A press carrying @data whatever the buttons say (a forged or stale button); returns the
        pop-up answering it."""
        status, answer = self.sandbox.call("POST", "/sandbox/bots/%s/users/%d/press" % (self.bot, user),
                                           {"data": data})
        assert status == 200, answer
        return self.answer_of(answer["callback_query_id"])

    def press_answer(self, user, label):
        """Presses a button; returns the text of the pop-up answering the press."""
        return self.answer_of(self.press(user, label)["callback_query_id"])

    def answer_of(self, query):
        def answered():
            status, a = self.sandbox.call("GET", "/sandbox/bots/%s/callbacks/%s" % (self.bot, query))
            return a if status == 200 and a["answered"] else None
        return wait_for(answered, timeout=20, what="the answer to a press")["text"]

    def messages(self, user):
        return self.sandbox.messages(self.bot, user)

    def texts(self, user):
        return [m["html"] for m in self.messages(user) if m.get("from") == "bot"]

    def mark(self, user):
        """The chat as it is: wait(after=) then finds only messages sent or edited since."""
        return {(m["message_id"], m.get("html")) for m in self.messages(user)}

    def since(self, user, mark):
        """The messages sent or edited since @mark."""
        return [m for m in self.messages(user) if (m["message_id"], m.get("html")) not in mark]

    def wait(self, user, needle, after=(), timeout=20):
        """Waits for a bot message to @user containing @needle, sent or edited since the mark
        @after (any, by default); returns it."""
        def find():
            for m in self.since(user, after):
                if m.get("from") == "bot" and needle in m["html"]:
                    return m
            return None
        try:
            return wait_for(find, timeout=timeout, what=repr(needle))
        except AssertionError:
            raise AssertionError("no bot message with %r; chat: %r" % (needle, self.texts(user)))

    def buttons(self, message):
        return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def reference(name):
    if not REFERENCE or not os.path.exists(os.path.join(REFERENCE, name)):
        raise Skip("reference file " + name + " not available")
    with open(os.path.join(REFERENCE, name), "rb") as f:
        return f.read()


def run_tests(namespace):
    """Runs every test_* function of a module, each in a fresh temporary directory."""
    tests = sorted((n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f))
    only = sys.argv[1:]
    passed = failed = skipped = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        # Short: unix socket paths live under it.
        workdir = tempfile.mkdtemp(prefix="tgfleet-" + name[5:30] + "-")
        start = time.monotonic()
        try:
            fn(workdir)
            passed += 1
            print("PASS {} ({:.1f}s)".format(name, time.monotonic() - start), flush=True)
            shutil.rmtree(workdir, ignore_errors=True)
        except Skip as e:
            skipped += 1
            print("SKIP {}: {}".format(name, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL {} (work directory kept: {})".format(name, workdir), flush=True)
            traceback.print_exc()
            log = os.path.join(workdir, "webhookd.log")
            if os.path.exists(log):
                print("--- webhookd.log ---\n" + open(log, errors="replace").read()[-4000:])
    print("{} passed, {} failed, {} skipped".format(passed, failed, skipped))
    if failed:
        sys.exit(1)
    if passed == 0 and skipped > 0:
        sys.exit(77)


PAYMENTD = os.path.join(BUILD, "src", "paymentd", "tgfleet-paymentd")
BOTD = os.path.join(BUILD, "src", "botd", "tgfleet-botd")


def check_sanitizer_log(path, name):
    """Under ASan/UBSan a report goes to the daemon's stderr: it fails the test."""
    with open(path, errors="replace") as f:
        log = f.read()
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in log, "sanitizer report in %s:\n%s" % (name, log[max(log.index(marker) - 200, 0):][:3000])


def busctl_call(where, env, dest, path, iface, method, signature="", *args, user=None):
    """busctl call on the bus @where names (["--system"], ["--address=…"]), as @user if given;
    returns (exit status, JSON-decoded answer or the error text)."""
    cmd = ["busctl", *where, "--json=short", "call", dest, path, iface, method]
    if signature:
        cmd += [signature] + [str(a) for a in args]
    if user:
        cmd = ["setpriv", "--reuid=" + user, "--regid=65534", "--clear-groups"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **env))
    if r.returncode != 0:
        return r.returncode, r.stderr.strip()
    return 0, json.loads(r.stdout)["data"] if r.stdout.strip() else None


class BookingSocket:
    """Where tgfleet-bookingd listens ([Booking] Socket=), apart from the work directory: a short
    path (sun_path has 108 bytes), reachable by the unprivileged users the tests call from."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tgfleet-booking-")
        os.chmod(self.dir, 0o755)
        self.path = os.path.join(self.dir, "booking.socket")
        self.config = "[Booking]\nSocket={}\n".format(self.path)

    def call(self, method, signature="", *args, user=None):
        """A call of org.tgfleet.Booking1 over the socket, as busctl makes it (Hello first)."""
        return busctl_call(["--address=unix:path=" + self.path], {}, "org.tgfleet.Booking1", "/org/tgfleet/Booking1",
                           "org.tgfleet.Booking1", method, signature, *args, user=user)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class SystemBus:
    """A private dbus-daemon standing in for the system bus, running tgfleet's shipped policy."""

    def __init__(self, workdir, env=None):
        # Apart from the work directory: a short path (sun_path has 108 bytes), reachable by the
        # unprivileged user the policy tests call from.
        self.dir = tempfile.mkdtemp(prefix="tgfleet-bus-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "system_bus_socket")
        with open(os.path.join(SOURCE, "tests", "integration", "system-bus.conf.in")) as f:
            conf = f.read().replace("@SOCKET@", self.socket).replace("@POLICY_DIR@", os.path.join(SOURCE, "dbus"))
        path = os.path.join(self.dir, "system.conf")
        with open(path, "w") as f:
            f.write(conf)
        # @env: e.g. nss_wrapper's, for users the host does not have.
        self.proc = subprocess.Popen(["dbus-daemon", "--config-file=" + path, "--nofork", "--nopidfile"],
                                     env=dict(os.environ, **(env or {})), stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "ab"))
        wait_for(lambda: os.path.exists(self.socket), what="dbus-daemon")
        self.address = "unix:path=" + self.socket

    def env(self):
        return {"DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def call(self, dest, path, iface, method, signature="", *args, user=None):
        """busctl call; returns (exit status, JSON-decoded answer or the error text)."""
        return busctl_call(["--system"], self.env(), dest, path, iface, method, signature, *args, user=user)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Service:
    """A tgfleet daemon run as systemd would run a Type=notify service: NOTIFY_SOCKET, WATCHDOG_USEC,
    config and credentials given by option; READY=1 awaited."""

    def __init__(self, workdir, name, binary, args, env=None):
        self.workdir, self.name, self.binary, self.args = workdir, name, binary, list(args)
        self.env = dict(os.environ, **(env or {}))
        self.env.pop("WATCHDOG_PID", None)
        self.proc = None
        self.notify = None
        self.logpath = os.path.join(workdir, name + ".log")

    def start(self, wait=True):
        self.notify = Notify(self.workdir, self.name + "-notify") if self.notify is None else self.notify
        with self.notify.lock:
            self.notify.messages.clear()
        env = dict(self.env, NOTIFY_SOCKET=self.notify.path, WATCHDOG_USEC="3000000")
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([self.binary, *self.args], env=env, stdout=log, stderr=log)
        if wait:
            wait_for(lambda: self.notify.seen("READY=1") or self.proc.poll() is not None, timeout=20,
                     what=self.name + " READY=1")
            assert self.proc.poll() is None, "%s exited with %d:\n%s" % (self.name, self.proc.returncode, self.tail())
        return self

    def tail(self, n=3000):
        with open(self.logpath, errors="replace") as f:
            return f.read()[-n:]

    def kill(self, sig=signal.SIGKILL):
        if not self.proc:
            return None
        died_before = self.proc.poll()
        if died_before is None:
            self.proc.send_signal(sig)
        status = self.proc.wait()
        self.proc = None
        assert died_before is None, "%s had died on its own, status %d:\n%s" % (self.name, died_before, self.tail())
        return status

    def stop(self):
        if self.proc:
            status = self.kill(signal.SIGTERM)
            assert status == 0, "%s exited with status %s on SIGTERM:\n%s" % (self.name, status, self.tail())
        if self.notify:
            self.notify.close()
            self.notify = None
        check_sanitizer_log(self.logpath, self.name)


class Apid:
    """tgfleet-apid as tgfleet-apid.socket runs it: systemd-socket-activate on @port, the daemon
    started by the first connection; .service is its Service, request() its client."""

    TOKEN = "integration-api-token-0123456789abcdef"
    PASSED_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "PGPASSWORD", "PGHOST", "PGPORT", "PGUSER", "DBUS_SYSTEM_BUS_ADDRESS",
                  "ASAN_OPTIONS", "UBSAN_OPTIONS")

    def __init__(self, workdir, config, creds, env, port=None):
        self.port = port or free_port()
        passed = [a for v in self.PASSED_ENV for a in ("-E", v)]
        self.service = Service(workdir, "apid", "systemd-socket-activate",
                               ["-l", "127.0.0.1:%d" % self.port, "--fdname=http", *passed, APID,
                                "--config=" + config, "--credentials-dir=" + creds], env=env)
        self.service.start(wait=False)
        wait_for(self._listening, what="the API socket")

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def request(self, method, path, body=None, token=TOKEN, headers=None, raw=False):
        """(status, parsed JSON or text, headers) of an API request."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode()
            if raw or not r.getheader("Content-Type", "").startswith("application/json"):
                return r.status, data, r
            return r.status, json.loads(data), r
        finally:
            c.close()
