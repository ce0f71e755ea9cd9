# SPDX-License-Identifier: MIT
"""Clients nobody here wrote, pointed at tgfleet-sandbox: grammY (Bot API), @a2seven/yoo-checkout
(YooKassa) and a client signing as Heleket's PHP SDK does. Each script (*.mjs beside this file)
fails on the first thing the sandbox does differently from the real service."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Sandbox, run_tests   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def node_modules():
    r = subprocess.run([os.path.join(HERE, "install.sh")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def node(workdir, script, **env):
    """Runs @script against a sandbox of its own; @env may name a bot to create (BOT=…), whose
    token it gets as TOKEN."""
    sb = Sandbox(workdir)
    try:
        if "BOT" in env:
            env["TOKEN"] = sb.bot(env["BOT"])
        r = subprocess.run(["node", os.path.join(HERE, script)], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, SANDBOX="http://127.0.0.1:%d" % sb.port, NODE_MODULES=node_modules(),
                                    **env))
        assert r.returncode == 0, "%s failed:\n%s%s" % (script, r.stdout, r.stderr)
        print(r.stdout.strip())
    finally:
        sb.stop()


def test_grammy(workdir):
    node(workdir, "telegram.mjs", BOT="conf_bot")


def test_yoo_checkout(workdir):
    node(workdir, "yookassa.mjs", SHOP_ID=Sandbox.YOOKASSA_SHOP, SECRET=Sandbox.YOOKASSA_SECRET)


def test_heleket_php_sdk_signing(workdir):
    node(workdir, "heleket.mjs", MERCHANT=Sandbox.HELEKET_MERCHANT, KEY=Sandbox.HELEKET_KEY)


if __name__ == "__main__":
    run_tests(globals())
