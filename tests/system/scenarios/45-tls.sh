# webhookd's own TLS on 8443, as the README's "Reaching webhookd from Telegram" sets it up: a
# self-signed certificate and key as credentials, the webhook registered by tgfleetctl with the
# certificate uploaded, and Telegram (the sandbox, taking only https:// on its four ports, as
# Telegram does) delivering an update over TLS trusting that certificate. Then back to plain
# HTTP for the scenarios after this one.
. /mnt/scenarios/common.sh

SB=http://127.0.0.1:8081
systemd-run --quiet --unit=tgfleet-tls-sandbox /mnt/tgfleet-sandbox --listen=127.0.0.1:8081 --config=/dev/null \
        --retry-ms=200
wait_until 10 curl -sf $SB/sandbox/health >/dev/null || fail "the sandbox does not answer"
token=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"username":"tls_shop_bot"}' $SB/sandbox/bots | jq -r .token)

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout /etc/credstore/tls-key -out /etc/credstore/tls-certificate 2>/dev/null || fail "openssl failed"
chmod 0600 /etc/credstore/tls-key
cp /etc/credstore/bot-token-shop /tmp/bot-token-shop.saved
printf '%s' "$token" > /etc/credstore/bot-token-shop
printf '[Telegram]\nURL=%s\n[Deploy]\nPublicURL=https://127.0.0.1:8443\n' $SB > /etc/tgfleet/tgfleet.conf.d/45-tls.conf
systemctl restart tgfleet-webhookd.service
wait_until 10 curl -sf --cacert /etc/credstore/tls-certificate https://127.0.0.1:8443/health >/dev/null ||
        fail "webhookd does not answer over TLS: $(journalctl -u tgfleet-webhookd -n 10 --no-pager)"
journalctl -u tgfleet-webhookd -n 20 --no-pager | grep -q "with TLS" || fail "webhookd does not say it serves TLS"
if curl -sf -m 2 http://127.0.0.1:8443/health >/dev/null; then fail "plain HTTP answered on the TLS port"; fi

out=$(tgfleetctl webhooks set shop --certificate=/etc/credstore/tls-certificate) || fail "webhooks set: $out"
echo "$out" | grep -q "https://127.0.0.1:8443/tg/shop (with its certificate)" || fail "webhooks set said: $out"
tgfleetctl webhooks info shop | grep -q "self-signed, uploaded" || fail "the certificate was not uploaded"
curl -sf -X POST -H 'Content-Type: application/json' -d '{"text":"over TLS","language_code":"en"}' \
        $SB/sandbox/bots/tls_shop_bot/users/4545/send >/dev/null || fail "the sandbox could not send"
delivered() { redis-cli --raw XREVRANGE updates:shop + - COUNT 20 | grep -q "over TLS"; }
wait_until 20 delivered || fail "the update did not arrive over TLS: $(curl -s "$SB/bot$token/getWebhookInfo")"

# Back to plain HTTP on 8443 for what follows.
tgfleetctl webhooks delete shop >/dev/null
rm -f /etc/credstore/tls-key /etc/credstore/tls-certificate /etc/tgfleet/tgfleet.conf.d/45-tls.conf
mv /tmp/bot-token-shop.saved /etc/credstore/bot-token-shop
systemctl restart tgfleet-webhookd.service
wait_until 10 curl -sf http://127.0.0.1:8443/health >/dev/null || fail "webhookd is not back on plain HTTP"
systemctl stop tgfleet-tls-sandbox.service
