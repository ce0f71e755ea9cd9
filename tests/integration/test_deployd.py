# SPDX-License-Identifier: MIT
"""tgfleet-deployd on real Redis, PostgreSQL and a private system bus, without systemd: the
org.tgfleet.Deploy1 interface, token files, and the task queue's retries and dead-lettering (every
deploy ends in failure here, for want of systemd to start units; the system test deploys for
real)."""

import os
import stat
import subprocess
import time

from harness import BUILD, CTL, SOURCE, Redis, Sandbox, Service, SystemBus, psql, run_tests, wait_for
from test_ctl import fresh_database

DEPLOYD = os.path.join(BUILD, "src", "deployd", "tgfleet-deployd")
D = ("org.tgfleet.Deploy1", "/org/tgfleet/Deploy1", "org.tgfleet.Deploy1")
TOKEN = "123456:" + "A" * 35


class Deploy:
    def __init__(self, workdir, extra=""):
        self.redis = Redis(workdir)
        self.db, conninfo = fresh_database()
        self.bus = SystemBus(workdir)
        self.sandbox = Sandbox(workdir)
        status, bot = self.sandbox.call("POST", "/sandbox/bots", {"username": "tenant_bot", "token": TOKEN})
        assert status == 200, bot
        self.tokens = os.path.join(workdir, "tokens")
        creds = os.path.join(workdir, "creds")
        os.makedirs(self.tokens)
        os.makedirs(creds)
        with open(os.path.join(creds, "webhook-key"), "w") as f:
            f.write("k" * 32)
        conf = os.path.join(workdir, "tgfleet.conf")
        with open(conf, "w") as f:
            f.write("[Redis]\nURL={}\n[Database]\nURL={}\nMigrationsDirectory={}/migrations\n[Telegram]\n"
                    "URL=http://127.0.0.1:{}\n[Deploy]\nTokenDirectory={}\nPublicURL=https://bots.example.test\n"
                    "MaxAttempts=3\nRetrySec=0.2\n{}".format(self.redis.url, conninfo, SOURCE, self.sandbox.port,
                                                             self.tokens, extra))
        r = subprocess.run([CTL, "--config=" + conf, "migrate"], capture_output=True, text=True,
                           env=dict(os.environ, PGDATABASE=self.db))
        assert r.returncode == 0, r.stderr
        self.deployd = Service(workdir, "deployd", DEPLOYD, ["--config=" + conf, "--credentials-dir=" + creds],
                               env=self.bus.env()).start()

    def call(self, method, signature="", *args):
        return self.bus.call(*D, method, signature, *args)

    def wait_dead(self, task, timeout=30):
        """Waits for @task to be dead-lettered; returns its record."""
        def dead():
            status, info = self.call("GetTask", "s", task)
            return info[0] if status == 0 and info[0][4] == "dead" else None
        return wait_for(dead, timeout=timeout, what="task %s to be dead-lettered" % task)

    def tenant(self, bot_id=777):
        return int(psql("SELECT id FROM tenant_add('Salon', 42, %d, 'salon_bot', 'Europe/Moscow', 'test')" % bot_id,
                        self.db))

    def stop(self):
        self.deployd.stop()
        self.sandbox.stop()
        self.bus.stop()
        self.redis.stop()


def test_tokens_are_0600_files_and_bad_input_is_refused(workdir):
    d = Deploy(workdir)
    try:
        assert d.call("StoreToken", "xs", 5, TOKEN) == (0, None)
        path = os.path.join(d.tokens, "5")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as f:
            assert f.read() == TOKEN
        for args in ((5, "not-a-token"), (0, TOKEN), (5, "123:" + "A" * 10), (5, "12a:" + "A" * 35)):
            status, answer = d.call("StoreToken", "xs", *args)
            assert status != 0 and "well-formed bot token" in answer, answer
        for args in ((1, "explode", "test"), (0, "deploy", "test"), (1, "deploy", "")):
            status, answer = d.call("Enqueue", "xss", *args)
            assert status != 0 and "action" in answer, answer
        assert d.call("GetTask", "s", "999")[0] != 0
        assert d.call("Retry", "s", "abc")[0] != 0
        assert d.redis.xlen("deploy") == 0
    finally:
        d.stop()


def test_failing_task_is_retried_then_dead_lettered_and_retried_by_hand(workdir):
    d = Deploy(workdir)
    try:
        t = d.tenant()
        assert d.call("StoreToken", "xs", t, TOKEN) == (0, None)
        status, (task, position) = d.call("Enqueue", "xss", t, "deploy", "operator")
        assert status == 0 and position == 0
        info = d.wait_dead(task)
        # The webhook was registered; starting the unit failed each time, for want of systemd.
        assert info[1] == t and info[2] == "deploy" and info[3] == "operator" and info[5] == 3, info
        assert "starting tgfleet-bot@%d.service" % t in info[6] and "org.freedesktop.systemd1" in info[6], info
        status, hook = d.sandbox.api(TOKEN, "getWebhookInfo")
        assert hook["result"]["url"] == "https://bots.example.test/tg/tenant-%d" % t, hook
        assert d.redis.cli("HGET", "tenant:%d" % t, "name") == "Salon"
        assert psql("SELECT status FROM tenants WHERE id = %d" % t, d.db) == "failed"
        assert psql("SELECT count(*) FROM tenant_audit WHERE tenant_id = %d AND action = 'deploy_failed'" % t,
                    d.db) == "1"
        status, tasks = d.call("ListTasks")
        assert status == 0 and [x[0] for x in tasks[0]] == [task], tasks
        # By hand, once the cause is fixed: back on the queue, attempts from zero.
        status, position = d.call("Retry", "s", task)
        assert status == 0, position
        status, answer = d.call("Retry", "s", task)
        assert status != 0 and "not dead-lettered" in answer, answer
        d.wait_dead(task)
    finally:
        d.stop()


def test_transient_failures_are_retried_with_backoff(workdir):
    # Telegram unreachable: retried MaxAttempts times, then dead-lettered with the reason.
    d = Deploy(workdir, extra="[Telegram]\nURL=http://127.0.0.1:1\n")
    try:
        t = d.tenant()
        d.call("StoreToken", "xs", t, TOKEN)
        task = d.call("Enqueue", "xss", t, "deploy", "operator")[1][0]
        info = d.wait_dead(task)
        assert info[5] == 3 and "setWebhook failed" in info[6], info
        assert "retrying in" in d.deployd.tail()
    finally:
        d.stop()


def test_task_for_a_tenant_without_token_is_dead_at_once(workdir):
    d = Deploy(workdir)
    try:
        t = d.tenant()
        task = d.call("Enqueue", "xss", t, "deploy", "operator")[1][0]
        info = d.wait_dead(task)
        assert info[5] == 1 and "no token" in info[6], info
    finally:
        d.stop()


def test_reconciliation_without_systemd_says_so_once_not_at_every_pass(workdir):
    """Without systemd (as under scripts/run-local) every reconciliation pass fails to list the
    units; the log says so once and that it keeps trying, not once a pass."""
    d = Deploy(workdir, extra="ReconcileIntervalSec=0.2\n")
    try:
        wait_for(lambda: "cannot list units" in d.deployd.tail(), what="the first failed pass")
        time.sleep(2)   # about ten more passes
        said = d.deployd.tail().count("cannot list units")
        assert said == 1, d.deployd.tail()
        assert "it keeps trying" in d.deployd.tail()
    finally:
        d.stop()

if __name__ == "__main__":
    run_tests(globals())
