# Purging the package stops everything and leaves no running process.
. /mnt/scenarios/common.sh

dpkg --purge tgfleet 2>/tmp/purge.log
grep -q "Left in place" /tmp/purge.log || fail "purge does not say what it leaves: $(cat /tmp/purge.log)"
sleep 1
if pgrep -fa tgfleet; then fail "tgfleet processes still run"; fi
ss -Htln 'sport = :8443' | grep -q LISTEN && fail "something still listens on :8443"
for u in tgfleet.target tgfleet-webhookd.socket tgfleet-webhookd.service tgfleet-migrate.service; do
        state=$(systemctl is-active "$u" || true)
        [ "$state" = inactive ] || [ "$state" = unknown ] || fail "$u is $state after purge"
done
[ ! -e /lib/systemd/system/tgfleet-webhookd.service ] || fail "unit files left"
[ ! -e /etc/tgfleet/tgfleet.conf ] || fail "the conffile survived purge"
[ ! -e /var/lib/tgfleet-deployd ] || fail "the clients' tokens survived purge: $(ls -la /var/lib/tgfleet-deployd)"
