# Sourced by the tenant scenarios and bench/tenants, after 10-install: Telegram is the sandbox
# (brought along in /mnt), deployd registers webhooks on webhookd's plain-HTTP port, and helpers
# call the REST API and create bots.

SB=http://127.0.0.1:8081
API=http://127.0.0.1:8000
TOKEN=$(cat /etc/credstore/api-token)

# Telegram is the sandbox; deployd registers webhooks on webhookd's plain-HTTP port.
systemd-run --quiet --unit=tgfleet-test-sandbox /mnt/tgfleet-sandbox --listen=127.0.0.1:8081 --config=/dev/null \
        --allow-local-http --retry-ms=200
wait_until 10 curl -sf $SB/sandbox/health >/dev/null ||
        fail "the sandbox does not answer: $(journalctl -u tgfleet-test-sandbox -n 20 --no-pager)"
cat > /etc/tgfleet/tgfleet.conf.d/20-platform.conf <<CONF
[Telegram]
URL=$SB
[Deploy]
PublicURL=http://127.0.0.1:8443
ReconcileIntervalSec=2
CONF
systemctl restart tgfleet-deployd.service
wait_prop 30 tgfleet-deployd.service ActiveState active
[ "$(prop tgfleet-deployd.service User)" = tgfleet-deployd ] || fail "deployd does not run as tgfleet-deployd"
[ "$(stat -c %a /var/lib/tgfleet-deployd/tokens)" = 700 ] || fail "the token directory is not 0700"

api() { # api METHOD PATH [BODY] → the body; the status goes to /tmp/status
        curl -s -o /tmp/answer -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
                -H 'Content-Type: application/json' ${3:+-d "$3"} "$API$2" > /tmp/status
        cat /tmp/answer
}
client_status() {
        api GET "/api/clients/$1" | jq -r .status
}
client_is() { # client_is ID STATUS
        [ "$(client_status "$1")" = "$2" ]
}
new_bot() { # new_bot USERNAME → its token
        curl -sf -X POST -H 'Content-Type: application/json' -d "{\"username\":\"$1\"}" $SB/sandbox/bots | jq -r .token
}


# A chat with the sandbox's bot $BOT, whose service is $UNIT (both set by the scenario).
say() { # say USER TEXT
        curl -sf -X POST -H 'Content-Type: application/json' -d "$(jq -n --arg t "$2" '{text: $t, language_code: "en"}')" \
                "$SB/sandbox/bots/$BOT/users/$1/send" >/dev/null || fail "the sandbox could not send '$2'"
}
press() { # press USER LABEL
        curl -sf -X POST -H 'Content-Type: application/json' -d "$(jq -n --arg l "$2" '{label: $l}')" \
                "$SB/sandbox/bots/$BOT/users/$1/press" >/dev/null || fail "no button '$2'"
}
said() { # said USER NEEDLE: a bot message to USER contains NEEDLE
        curl -s "$SB/sandbox/bots/$BOT/users/$1/messages" |
                jq -e --arg n "$2" '[.[] | select(.from == "bot") | .text] | any(contains($n))' >/dev/null
}
expect() { # expect USER NEEDLE
        wait_until 30 said "$1" "$2" ||
                fail "$BOT did not say '$2': $(journalctl -u "$UNIT" -n 20 --no-pager)"
}
