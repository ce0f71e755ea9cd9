# The sales bot under systemd: a business owner buys a booking bot in Telegram and pays through
# YooKassa (the sandbox); the payment requests the deploy, the client's tgfleet-bot@ID.service
# runs, and the owner is told its link. The token is never in the journal or left in Redis. At
# the end of the paid time (the lifecycle run with a moved clock) the bot is stopped and the owner
# told; a payment starts it again.
. /mnt/scenarios/common.sh

. /mnt/scenarios/platform.sh

# The sandbox as YooKassa too, its notifications to webhookd's plain-HTTP port.
systemctl stop tgfleet-test-sandbox.service
mkdir -p /tmp/sales-sandbox
printf '[YooKassa]\nShopId=100500\n' > /tmp/sales-sandbox/sandbox.conf
printf '%s' sales-test-secret | tee /tmp/sales-sandbox/yookassa-secret-key > /etc/credstore/yookassa-secret-key
chmod 0600 /etc/credstore/yookassa-secret-key
systemd-run --quiet --unit=tgfleet-sales-sandbox /mnt/tgfleet-sandbox --listen=127.0.0.1:8081 \
        --config=/tmp/sales-sandbox/sandbox.conf --credentials-dir=/tmp/sales-sandbox --allow-local-http \
        --retry-ms=200 --yookassa-notify=http://127.0.0.1:8443/pay/yookassa
wait_until 10 curl -sf $SB/sandbox/health >/dev/null || fail "the sandbox does not answer"

OWNER=4242
BOT=platform_sales_bot   # the bot say, press and expect talk to
UNIT=tgfleet-sales
new_bot $BOT > /etc/credstore/bot-token-sales
cat > /etc/tgfleet/tgfleet.conf.d/25-sales.conf <<CONF
[YooKassa]
URL=$SB
ShopId=100500
TestShop=yes
[Sales]
ReturnURL=https://t.me/$BOT
Support=@platform_support
[Webhook]
YooKassaAllowedAddresses=
CONF
systemctl restart tgfleet-paymentd.service tgfleet-sales.service tgfleet-webhookd.service
wait_prop 30 tgfleet-sales.service ActiveState active
wait_prop 30 tgfleet-paymentd.service ActiveState active
tgfleetctl webhooks set sales >/dev/null || fail "could not register the sales bot's webhook"

say $OWNER /start
expect $OWNER "What would you like to do?"
press $OWNER "🚀 New booking bot"
expect $OWNER "Choose a plan"
press $OWNER "30 days — ₽299.00"
expect $OWNER "Step 1 of 3"
say $OWNER "Salon Anna"
expect $OWNER "Step 2 of 3"
press $OWNER "Moscow (UTC+3)"
expect $OWNER "Step 3 of 3"
token=$(new_bot anna_salon_bot)
say $OWNER "$token"
expect $OWNER "Bot @anna_salon_bot checked"
id=$(su postgres -c "psql -d tgfleet -Atc \"SELECT id FROM tenants WHERE bot_username = 'anna_salon_bot'\"")
[ -n "$id" ] && [ "$(client_status "$id")" = pending ] || fail "no pending client for the bot"
[ -f "/var/lib/tgfleet-deployd/tokens/$id" ] || fail "the token is not in deployd's store"
press $OWNER "💳 Pay"
expect $OWNER "Tap Pay to pay with YooKassa"
yk=$(su postgres -c "psql -d tgfleet -Atc \"SELECT provider_id FROM subscription_payments WHERE tenant_id = $id\"")
tgfleetctl sandbox yookassa succeed "$yk" >/dev/null || fail "the sandbox could not pay $yk"
expect $OWNER "is being set up"
expect $OWNER "Your booking bot @anna_salon_bot is live: https://t.me/anna_salon_bot"
wait_until 30 systemctl is-active --quiet "tgfleet-bot@$id.service" || fail "the client's bot does not run"
[ "$(client_status "$id")" = active ] || fail "the client is not active"
[ "$(api GET "/api/clients/$id" | jq -r '.paid_until != null')" = true ] || fail "the client has no paid-until"
journalctl -u tgfleet-sales -u tgfleet-deployd -u tgfleet-paymentd --no-pager | grep -qF "${token#*:}" &&
        fail "the token is in the journal"
[ "$(redis-cli XLEN updates:sales)" = 0 ] || fail "the sales bot's updates (one held a token) stay in Redis"

# The paid time over: stopped, the owner told; renewed: running again.
until=$(su postgres -c "psql -d tgfleet -Atc \"SELECT paid_until + interval '1 second' FROM tenants WHERE id = $id\"")
tgfleetctl subscriptions run --now="$until" | grep -q "client $id: paid time over, suspended" ||
        fail "the lifecycle did not suspend the client"
expect $OWNER "and the bot is stopped"
wait_until 60 client_is "$id" suspended || fail "the client is not suspended: $(client_status "$id")"
systemctl is-active --quiet "tgfleet-bot@$id.service" && fail "the client's bot still runs"
press $OWNER "🔁 Renew"
expect $OWNER "Choose a plan"
press $OWNER "30 days — ₽299.00"
expect $OWNER "The days are added to what is left"
press $OWNER "💳 Pay"
open_payment() { # YooKassa's id of the client's open payment, if any
        su postgres -c "psql -d tgfleet -Atc \"SELECT provider_id FROM subscription_payments WHERE tenant_id = $id AND status = 'pending'\"" | grep .
}
wait_until 30 open_payment || fail "no renewal payment opened"
yk=$(open_payment)
tgfleetctl sandbox yookassa succeed "$yk" >/dev/null || fail "the sandbox could not pay $yk"
expect $OWNER "and starting again"
wait_until 60 systemctl is-active --quiet "tgfleet-bot@$id.service" || fail "the client's bot does not run again"
wait_until 30 client_is "$id" active || fail "the client is not active again: $(client_status "$id")"

systemctl stop tgfleet-sales-sandbox.service
rm /etc/tgfleet/tgfleet.conf.d/25-sales.conf
systemctl restart tgfleet-paymentd.service tgfleet-webhookd.service
