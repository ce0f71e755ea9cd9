# The operators' master bot under systemd: its own dynamic user, one refusal for a stranger, and a
# client added step by step in Telegram that ends with its tgfleet-bot@ID.service running and
# the operator told so.
. /mnt/scenarios/common.sh

. /mnt/scenarios/platform.sh

OP=1001
BOT=master_ops_bot   # the bot say, press and expect talk to
UNIT=tgfleet-master
master=$(new_bot $BOT)
printf '%s' "$master" > /etc/credstore/bot-token-master
systemctl restart tgfleet-master.service
wait_prop 30 tgfleet-master.service ActiveState active
[ "$(prop tgfleet-master.service DynamicUser)" = yes ] || fail "the master bot has no dynamic user"
# As the README registers it: the token stays in the credential store ([Deploy] PublicURL= is
# webhookd's plain-HTTP port here).
tgfleetctl webhooks set master >/dev/null || fail "could not register the master bot's webhook"
[ "$(curl -s "$SB/bot$master/getWebhookInfo" | jq -r .result.url)" = http://127.0.0.1:8443/tg/master ] ||
        fail "the master bot's webhook is not where it was set"

say 666 /start
expect 666 "operators of this service only"
say $OP /start
expect $OP "Operator menu"

token=$(new_bot barber_bot)
say $OP "➕ Add client"
expect $OP "step 1 of 3"
say $OP "$token"
expect $OP "Bot @barber_bot checked"
say $OP 4242
expect $OP "Step 3 of 3"
say $OP "Barber Ivan"
expect $OP "Add this client"
press $OP "✅ Add"
expect $OP "added. Deploy task"
expect $OP "bot @barber_bot is live"
id=$(api GET "/api/clients?q=Barber" | jq -r '.items[0].id')
[ "$(systemctl is-active "tgfleet-bot@$id.service")" = active ] || fail "the new client's bot does not run"
[ "$(api GET "/api/clients/$id" | jq -r '.audit[-1].actor')" = "api:master:$OP" ] || fail "the add is not audited as the operator's"
journalctl -u tgfleet-master -u tgfleet-apid -u tgfleet-deployd --no-pager | grep -qF "${token#*:}" &&
        fail "the token is in the journal"
[ "$(redis-cli XLEN updates:master)" = 0 ] || fail "the master bot's updates (one held a token) stay in Redis"
systemctl stop tgfleet-test-sandbox.service
