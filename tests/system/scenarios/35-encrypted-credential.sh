# An encrypted credential, as the README shows: systemd-creds encrypt into the encrypted
# credential store, LoadCredentialEncrypted= in a drop-in; a Heleket webhook signed with that key
# is then accepted, proving the daemon got the decrypted key.
. /mnt/scenarios/common.sh

key=heleket-test-key-$$
mkdir -p /etc/credstore.encrypted
printf '%s' "$key" | systemd-creds encrypt --name=heleket-api-key - /etc/credstore.encrypted/heleket-api-key
grep -q "$key" /etc/credstore.encrypted/heleket-api-key && fail "the stored credential is not encrypted"
mkdir -p /etc/systemd/system/tgfleet-webhookd.service.d
printf '[Service]\nLoadCredentialEncrypted=heleket-api-key\n' > /etc/systemd/system/tgfleet-webhookd.service.d/30-heleket.conf
systemctl daemon-reload
systemctl restart tgfleet-webhookd.service
wait_prop 10 tgfleet-webhookd.service SubState running

# Signed as Heleket signs: md5(base64(body without sign) . key); this body is already compact.
body='{"type":"payment","uuid":"u-enc-1","order_id":"o-1","amount":"10.00","status":"paid"}'
sign=$(printf '%s%s' "$(printf '%s' "$body" | base64 -w0)" "$key" | md5sum | cut -d' ' -f1)
signed="${body%\}},\"sign\":\"$sign\"}"
post() {
        curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$1" http://127.0.0.1:8443/pay/heleket
}
[ "$(post "$signed")" = 200 ] || fail "a webhook signed with the encrypted key was refused"
[ "$(post "${body%\}},\"sign\":\"00000000000000000000000000000000\"}")" = 403 ] || fail "a wrong sign was not refused"
[ "$(redis-cli XLEN payments)" = 1 ] || fail "the payment event is not in its stream"
