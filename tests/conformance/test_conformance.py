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


def node(script, sb, **env):
    base = "http://127.0.0.1:%d" % sb.port
    r = subprocess.run(["node", os.path.join(HERE, script)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, SANDBOX=base, NODE_MODULES=node_modules(), **env))
    assert r.returncode == 0, "%s failed:\n%s%s" % (script, r.stdout, r.stderr)
    print(r.stdout.strip())


def test_grammy(workdir):
    sb = Sandbox(workdir)
    try:
        node("telegram.mjs", sb, TOKEN=sb.bot("conf_bot"), BOT="conf_bot")
    finally:
        sb.stop()


def test_yoo_checkout(workdir):
    sb = Sandbox(workdir)
    try:
        node("yookassa.mjs", sb, SHOP_ID=Sandbox.YOOKASSA_SHOP, SECRET=Sandbox.YOOKASSA_SECRET)
    finally:
        sb.stop()


def test_heleket_php_sdk_signing(workdir):
    sb = Sandbox(workdir)
    try:
        node("heleket.mjs", sb, MERCHANT=Sandbox.HELEKET_MERCHANT, KEY=Sandbox.HELEKET_KEY)
    finally:
        sb.stop()


if __name__ == "__main__":
    run_tests(globals())
