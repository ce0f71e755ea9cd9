# Install the package and configure it as the README tells an admin to; start tgfleet.target.
. /mnt/scenarios/common.sh

since=$(date '+%Y-%m-%d %H:%M:%S')
dpkg -i /mnt/tgfleet_*.deb
getent passwd tgfleet >/dev/null || fail "sysusers did not create the tgfleet user"
# The users exist before the D-Bus policies naming them land (preinst): dbus-daemon, which reads
# the policies at once, has nothing to warn of.
sleep 1
if journalctl --since "$since" -u dbus.service -o cat | grep -i "unknown user"; then
        fail "dbus-daemon warned of unknown users during the install"
fi
[ -d /etc/tgfleet/tgfleet.conf.d ] || fail "tmpfiles did not create /etc/tgfleet/tgfleet.conf.d"
[ -f /etc/tgfleet/tgfleet.conf ] || fail "no /etc/tgfleet/tgfleet.conf"
# Installing starts nothing: the admin decides.
[ "$(systemctl is-active tgfleet-webhookd.socket)" = inactive ] || fail "the package started the socket"

# Redis with AOF, PostgreSQL with a tgfleet role and database (peer authentication).
sed -i 's/^appendonly no/appendonly yes/' /etc/redis/redis.conf
systemctl enable --now redis-server.service postgresql.service
wait_until 30 su postgres -c "psql -Atc 'SELECT 1'"
su postgres -c "createuser tgfleet && createdb -O tgfleet tgfleet"
# webhookd, deployd and apid run as their own users, and tgfleetctl from a root shell, and all
# reach the database as role tgfleet: a peer map, as the README writes it (twice: it may be run
# again and adds nothing).
pgconf=$(ls -d /etc/postgresql/*/main)
for _ in 1 2; do
        for user in tgfleet tgfleet-webhookd tgfleet-deployd tgfleet-apid root; do
                grep -qx "tgfleet $user tgfleet" "$pgconf/pg_ident.conf" || echo "tgfleet $user tgfleet" >> "$pgconf/pg_ident.conf"
        done
        grep -q 'map=tgfleet' "$pgconf/pg_hba.conf" ||
                sed -i '0,/^local/s//local   tgfleet   tgfleet   peer map=tgfleet\nlocal/' "$pgconf/pg_hba.conf"
done
[ "$(grep -c 'map=tgfleet' "$pgconf/pg_hba.conf")" = 1 ] || fail "the pg_hba line was added twice"
[ "$(grep -c '^tgfleet ' "$pgconf/pg_ident.conf")" = 5 ] || fail "the pg_ident lines were added twice"
systemctl reload postgresql.service

cat > /etc/tgfleet/tgfleet.conf.d/10-site.conf <<CONF
[Database]
URL=postgresql:///tgfleet?host=/var/run/postgresql&user=tgfleet
[Heleket]
Merchant=8b03432e-385b-4670-8d06-064591096795
[Master]
Operators=1001
[Webhook]
# Telegram and Heleket are the sandbox on 127.0.0.1 here, not their published ranges.
TelegramAllowedAddresses=
HeleketAllowedAddresses=
CONF
# webhookd's one required credential, paymentd's Heleket key, the shop's, the master bot's and the
# sales bot's tokens, the API's bearer token; the other credentials are optional and absent here.
head -c 32 /dev/urandom | base64 > /etc/credstore/webhook-key
echo system-test-heleket-key > /etc/credstore/heleket-api-key
echo 123456:system-test-token > /etc/credstore/bot-token-shop
echo 123457:system-test-master-token > /etc/credstore/bot-token-master
echo 123458:system-test-sales-token > /etc/credstore/bot-token-sales
head -c 32 /dev/urandom | base64 > /etc/credstore/api-token
chmod 0600 /etc/credstore/webhook-key /etc/credstore/heleket-api-key /etc/credstore/bot-token-shop \
        /etc/credstore/bot-token-master /etc/credstore/bot-token-sales /etc/credstore/api-token

systemctl enable --now tgfleet.target
wait_prop 30 tgfleet-migrate.service ActiveState active
[ "$(prop tgfleet-migrate.service Result)" = success ] || fail "migrations failed"
# The admin's tgfleetctl from a root shell: through the peer map, the credential store's fallback.
tgfleetctl migrate | grep -q "up to date" || fail "tgfleetctl migrate does not work from a root shell"
tgfleetctl check-connections > /tmp/checks || true
grep -q '^postgresql *ok' /tmp/checks || fail "check-connections as root: $(cat /tmp/checks)"
grep -q '^heleket *FAILED' /tmp/checks || fail "check-connections did not try Heleket with the stored key: $(cat /tmp/checks)"
[ "$(su postgres -c "psql -d tgfleet -Atc 'SELECT count(*) FROM schema_migrations'")" -ge 1 ] || fail "no migration recorded"
[ "$(systemctl is-active tgfleet-webhookd.socket)" = active ] || fail "the socket is not active"
wait_prop 30 tgfleet-master.service ActiveState active
wait_prop 30 tgfleet-sales.service ActiveState active
[ "$(prop tgfleet-sales.service User)" = tgfleet-sales ] || fail "the sales bot does not run as tgfleet-sales"
