# A reverse proxy on 443, as the README's "Reaching webhookd from Telegram" sets it up: webhookd on
# loopback in plain HTTP (a socket drop-in), nginx from Debian terminating TLS and forwarding /tg/
# and /pay/ with X-Forwarded-For, [Webhook] TrustedProxies= so that the allowlist applies to the
# real sender. Telegram (the sandbox, trusting the uploaded certificate) delivers through it.
# Then back to webhookd on *:8443 for the scenarios after this one.
. /mnt/scenarios/common.sh

SB=http://127.0.0.1:8081
systemd-run --quiet --unit=tgfleet-proxy-sandbox /mnt/tgfleet-sandbox --listen=127.0.0.1:8081 --config=/dev/null \
        --retry-ms=200
wait_until 10 curl -sf $SB/sandbox/health >/dev/null || fail "the sandbox does not answer"
token=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"username":"proxy_shop_bot"}' $SB/sandbox/bots | jq -r .token)
cp /etc/credstore/bot-token-shop /tmp/bot-token-shop.saved
printf '%s' "$token" > /etc/credstore/bot-token-shop

# The README's steps, HOST being 127.0.0.1; Telegram here is 127.0.0.1 and a test address.
mkdir -p /etc/systemd/system/tgfleet-webhookd.socket.d
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:8443\n' > /etc/systemd/system/tgfleet-webhookd.socket.d/proxy.conf
printf '[Webhook]\nTrustedProxies=127.0.0.1\nTelegramAllowedAddresses=127.0.0.1 10.9.9.9\n[Deploy]\nPublicURL=https://127.0.0.1\n[Telegram]\nURL=%s\n' \
        $SB > /etc/tgfleet/tgfleet.conf.d/47-proxy.conf
systemctl daemon-reload
systemctl restart tgfleet-webhookd.socket tgfleet-webhookd.service
ss -Htln | grep -q '127.0.0.1:8443' || fail "webhookd's socket is not on 127.0.0.1:8443: $(ss -Htln)"
ss -Htln | grep -qE '(\*|0.0.0.0|\[::\]):8443' && fail "webhookd still listens on every address"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout /etc/nginx/tgfleet.key -out /etc/nginx/tgfleet.pem 2>/dev/null || fail "openssl failed"
rm -f /etc/nginx/sites-enabled/default
cat > /etc/nginx/sites-enabled/tgfleet <<'NGINX'
server {
    listen 443 ssl;  server_name 127.0.0.1;
    ssl_certificate /etc/nginx/tgfleet.pem;
    ssl_certificate_key /etc/nginx/tgfleet.key;
    location ~ ^/(tg|pay)/ {
        proxy_pass http://127.0.0.1:8443;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
NGINX
systemctl start nginx.service
wait_until 10 curl -s -o /dev/null --cacert /etc/nginx/tgfleet.pem https://127.0.0.1/tg/shop ||
        fail "nginx does not answer: $(journalctl -u nginx -n 10 --no-pager)"

# The allowlist applies to the sender the proxy forwards for, not to the proxy.
ip addr add 10.9.9.9/32 dev lo
ip addr add 10.9.9.10/32 dev lo
through() { # through SOURCE UPDATE_ID → the HTTP status of an update posted through nginx from SOURCE
        curl -s -o /dev/null -w '%{http_code}' --interface "$1" --cacert /etc/nginx/tgfleet.pem \
                -H 'Content-Type: application/json' -H "X-Telegram-Bot-Api-Secret-Token: $(secret shop)" \
                -d "{\"update_id\":$2,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1,\"type\":\"private\"},\"text\":\"proxied\"}}" \
                https://127.0.0.1/tg/shop
}
[ "$(through 10.9.9.9 4701)" = 200 ] || fail "an allowed sender behind the proxy was refused"
[ "$(through 10.9.9.10 4702)" = 403 ] || fail "a sender outside the allowlist was let through the proxy"
journalctl -u tgfleet-webhookd -n 30 -o cat --no-pager | grep -q "10.9.9.10" ||
        fail "the refusal does not name the real sender"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert /etc/nginx/tgfleet.pem https://127.0.0.1/metrics)
[ "$code" = 404 ] || fail "/metrics answered $code through the proxy"
if curl -sf -m 2 http://10.9.9.9:8443/health >/dev/null; then fail "webhookd answers off loopback"; fi

# Telegram delivers through the proxy, trusting the certificate uploaded with setWebhook.
out=$(tgfleetctl webhooks set shop --certificate=/etc/nginx/tgfleet.pem) || fail "webhooks set: $out"
echo "$out" | grep -q "https://127.0.0.1/tg/shop" || fail "webhooks set said: $out"
curl -sf -X POST -H 'Content-Type: application/json' -d '{"text":"via nginx","language_code":"en"}' \
        $SB/sandbox/bots/proxy_shop_bot/users/4747/send >/dev/null || fail "the sandbox could not send"
delivered() { redis-cli --raw XREVRANGE updates:shop + - COUNT 20 | grep -q "via nginx"; }
wait_until 20 delivered || fail "the update did not arrive through nginx: $(curl -s "$SB/bot$token/getWebhookInfo")"
echo "delivered through nginx on 443; allowlist applied to X-Forwarded-For"

# Back to webhookd on *:8443 in plain HTTP.
tgfleetctl webhooks delete shop >/dev/null
systemctl stop nginx.service tgfleet-proxy-sandbox.service
ip addr del 10.9.9.9/32 dev lo
ip addr del 10.9.9.10/32 dev lo
rm -f /etc/systemd/system/tgfleet-webhookd.socket.d/proxy.conf /etc/tgfleet/tgfleet.conf.d/47-proxy.conf
mv /tmp/bot-token-shop.saved /etc/credstore/bot-token-shop
systemctl daemon-reload
systemctl restart tgfleet-webhookd.socket tgfleet-webhookd.service
wait_until 10 curl -sf http://127.0.0.1:8443/health >/dev/null || fail "webhookd is not back on *:8443"
