# Log lines are in the journal with their structured fields, and no secret or payload.
. /mnt/scenarios/common.sh

code=$(post_update shop_bot 2 wrong-secret-0123456789)
[ "$code" = 401 ] || fail "a wrong secret was answered $code"
wait_until 10 sh -c "journalctl -u tgfleet-webhookd.service MESSAGE_ID=657af4a830d144409ee19e0d5b6b61ec -o json | grep -q bad_secret"
entry=$(journalctl -u tgfleet-webhookd.service MESSAGE_ID=657af4a830d144409ee19e0d5b6b61ec -o json -n 1)
for field in '"REASON":"bad_secret"' '"BOT":"shop_bot"' '"ROUTE":"telegram"' '"REMOTE_ADDR":"127.0.0.1"' '"PRIORITY":"4"'; do
        echo "$entry" | grep -q "$field" || fail "journal entry lacks $field: $entry"
done
if journalctl -u tgfleet-webhookd.service -o cat | grep -q -e wrong-secret-0123456789 -e '"/start"'; then
        fail "a secret or a payload reached the journal"
fi
# Each source field once (json -o gives an array for a field sent twice), naming the caller.
for field in CODE_FILE CODE_LINE CODE_FUNC; do
        echo "$entry" | jq -e --arg f "$field" '.[$f] | type == "string"' >/dev/null ||
                fail "$field is not one value: $(echo "$entry" | jq -c --arg f "$field" '.[$f]')"
done
echo "$entry" | jq -e '.CODE_FILE | endswith("webhookd.c")' >/dev/null || fail "CODE_FILE does not name the caller: $entry"
