# SPDX-License-Identifier: MIT
# Run inside the container of `scripts/run-local --container` (Debian 12, systemd as PID 1, the
# package and the sandbox in /mnt): the whole platform as an admin installs it, on the sandbox's
# Telegram and Heleket. The system test's install and platform steps do the installing; then the
# shop's and the master bot's tokens come from the sandbox and the demo operator is user 1000001,
# the one `tgfleetctl sandbox chat` is by default.
. /mnt/scenarios/10-install.sh
. /mnt/scenarios/platform.sh

OPERATOR=1000001
# The sandbox again, now also as Heleket with the merchant and key paymentd has, its update ids
# kept across a restart of the container's units.
systemctl stop tgfleet-test-sandbox.service
systemd-run --quiet --unit=tgfleet-demo-sandbox /mnt/tgfleet-sandbox --listen=127.0.0.1:8081 \
        --config=/etc/tgfleet/tgfleet.conf --credentials-dir=/etc/credstore --allow-local-http \
        --state-file=/var/lib/tgfleet-demo-sandbox.state
wait_until 10 curl -sf $SB/sandbox/health >/dev/null || fail "the sandbox does not answer"

tgfleetctl sandbox bot stars_shop_bot > /etc/credstore/bot-token-shop
tgfleetctl sandbox bot master_ops_bot > /etc/credstore/bot-token-master
chmod 0600 /etc/credstore/bot-token-shop /etc/credstore/bot-token-master
cat > /etc/tgfleet/tgfleet.conf.d/30-demo.conf <<CONF
[Heleket]
URL=$SB
[YooKassa]
URL=$SB
[Shop]
CallbackURL=http://127.0.0.1:8443/pay/heleket
Support=@tgfleet_support
CONF
# The operator instead of the system test's (the master bot and deployd both tell them).
sed -i "s/^Operators=.*/Operators=$OPERATOR/" /etc/tgfleet/tgfleet.conf.d/10-site.conf
systemctl restart tgfleet-paymentd.service tgfleet-botd.service tgfleet-master.service tgfleet-deployd.service
for bot in shop master; do
        tgfleetctl webhooks set $bot >/dev/null || fail "could not register the webhook of $bot"
done
wait_prop 30 tgfleet-botd.service ActiveState active
wait_prop 30 tgfleet-master.service ActiveState active
