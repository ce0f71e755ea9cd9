# SPDX-License-Identifier: MIT
# Run inside the container of `scripts/run-local --container` (Debian 12, systemd as PID 1, the
# package and the sandbox in /mnt): the whole platform as an admin installs it, on the sandbox's
# Telegram, Heleket and YooKassa. The system test's install and platform steps do the installing;
# then the shop's, the master bot's and the sales bot's tokens come from the sandbox and the demo
# operator is user 1000001, the one `tgfleetctl sandbox chat` is by default.
. /mnt/scenarios/10-install.sh
. /mnt/scenarios/platform.sh

OPERATOR=1000001
cat > /etc/tgfleet/tgfleet.conf.d/30-demo.conf <<CONF
[Heleket]
URL=$SB
[YooKassa]
URL=$SB
ShopId=100500
TestShop=yes
[Shop]
CallbackURL=http://127.0.0.1:8443/pay/heleket
Support=@tgfleet_support
[Sales]
ReturnURL=https://t.me/platform_sales_bot
Support=@tgfleet_support
[Webhook]
YooKassaAllowedAddresses=
CONF
head -c 24 /dev/urandom | base64 > /etc/credstore/yookassa-secret-key
chmod 0600 /etc/credstore/yookassa-secret-key
# The sandbox again, now also as Heleket and YooKassa with the merchant, shop and keys paymentd
# has (YooKassa notifying webhookd), its update ids kept across a restart of the container's units.
systemctl stop tgfleet-test-sandbox.service
systemd-run --quiet --unit=tgfleet-demo-sandbox /mnt/tgfleet-sandbox --listen=127.0.0.1:8081 \
        --config=/etc/tgfleet/tgfleet.conf --credentials-dir=/etc/credstore --allow-local-http \
        --state-file=/var/lib/tgfleet-demo-sandbox.state --yookassa-notify=http://127.0.0.1:8443/pay/yookassa
wait_until 10 curl -sf $SB/sandbox/health >/dev/null || fail "the sandbox does not answer"

tgfleetctl sandbox bot stars_shop_bot > /etc/credstore/bot-token-shop
tgfleetctl sandbox bot master_ops_bot > /etc/credstore/bot-token-master
tgfleetctl sandbox bot platform_sales_bot > /etc/credstore/bot-token-sales
chmod 0600 /etc/credstore/bot-token-shop /etc/credstore/bot-token-master /etc/credstore/bot-token-sales
# The operator instead of the system test's (the master bot and deployd both tell them).
sed -i "s/^Operators=.*/Operators=$OPERATOR/" /etc/tgfleet/tgfleet.conf.d/10-site.conf
systemctl restart tgfleet-paymentd.service tgfleet-botd.service tgfleet-master.service tgfleet-deployd.service \
        tgfleet-sales.service tgfleet-webhookd.service
for bot in shop master sales; do
        tgfleetctl webhooks set $bot >/dev/null || fail "could not register the webhook of $bot"
done
for unit in tgfleet-botd tgfleet-master tgfleet-sales; do
        wait_prop 30 $unit.service ActiveState active
done
