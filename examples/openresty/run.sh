#!/usr/bin/env bash
# examples/openresty/run.sh: the OpenResty example against the fake Konnect,
# in one command.  Starts the fake (unless FAKE_KONNECT_HTTP is set), seeds
# three tokens for alice, starts nginx with examples/openresty/nginx.conf in a
# temp prefix, lets the timer audit (the 1-day token gets revoked), revokes the
# "leaked" token through POST /admin/tokens/<id>/revoke, prints the log
# lines, and stops what it started.  No C module needed: cosockets only.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
ALICE=00000000-0000-4000-8000-0000000a11ce
BOOTSTRAP=kpat_fake_alice_bootstrap

tmp=$(mktemp -d "${TMPDIR:-/tmp}/konnect-openresty.XXXXXX")
started_fake=0
cleanup() {
  scripts/nginx.sh stop "$tmp"
  [ "$started_fake" = 1 ] && fake_konnect/ctl stop --dir "$tmp/fake" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${FAKE_KONNECT_HTTP:-}" ]; then
  out=$(fake_konnect/ctl start --dir "$tmp/fake") || { echo "could not start the fake Konnect"; exit 1; }
  eval "$out"
  started_fake=1
fi
# nginx verifies certificates against DNS names, not IP addresses: use localhost
server=${FAKE_KONNECT_HTTPS/127.0.0.1/localhost}

create() { # name ttl -> id
  curl -sS --cacert "$FAKE_KONNECT_CA" -H "Authorization: Bearer $BOOTSTRAP" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$1\",\"ttl_seconds\":$2}" \
    "$server/v3/users/$ALICE/access-tokens" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4
}
short=$(create ci-short 86400)
long=$(create ci-long 7776000)
leaked=$(create leaked 2592000)
[ -n "$short" ] && [ -n "$long" ] && [ -n "$leaked" ] || { echo "seeding the fake Konnect failed"; exit 1; }
echo "== seeded alice's tokens: ci-short $short (1 day), ci-long $long (90 days), leaked $leaked (30 days)"

# the prefix: conf/, logs/, lua/ (lua-konnect), app/ (this example's modules)
mkdir -p "$tmp/conf" "$tmp/logs"
ln -s "$root/lua" "$tmp/lua"
ln -s "$here/lua" "$tmp/app"
ln -s "$FAKE_KONNECT_CA" "$tmp/conf/konnect-ca.pem"
# the example's conf, listening on a free port (scripts/nginx.sh picks it)
sed "s/127.0.0.1:8089/127.0.0.1:@PORT@/" "$here/nginx.conf" > "$tmp/nginx.conf.in"
out=$(KONNECT_TOKEN=$BOOTSTRAP KONNECT_SERVER_URL=$server KONNECT_CA_FILE=$tmp/conf/konnect-ca.pem \
  KONNECT_AUDIT_INTERVAL=3600 \
  KONNECT_AUDIT_WITHIN=$((7 * 86400)) KONNECT_AUDIT_ACTION=revoke \
  scripts/nginx.sh start --conf conf/nginx.conf "$tmp/nginx.conf.in" "$tmp") || { echo "nginx did not start"; exit 1; }
eval "$out"
port=$PORT
echo "== nginx on 127.0.0.1:$port (prefix $tmp), Konnect at $server"

for _ in $(seq 1 100); do grep -q "konnect-audit: done" "$tmp/logs/error.log" 2>/dev/null && break; sleep 0.1; done

echo "== POST /admin/tokens/$leaked/revoke"
curl -sS -X POST "http://127.0.0.1:$port/admin/tokens/$leaked/revoke"
echo "== POST /admin/tokens/not-a-uuid/revoke"
curl -sS -X POST "http://127.0.0.1:$port/admin/tokens/not-a-uuid/revoke"

echo "== audit and admin log lines (error.log)"
grep -E "konnect-(audit|admin)" "$tmp/logs/error.log" |
  sed -E -e 's/^[0-9\/]+ ([0-9:]+) \[([a-z]+)\].*\[lua\] [^:]+:[0-9]+: [^:]+\(\): /\1 [\2] /' -e 's/, (context|client): .*$//'
grep -q "konnect-audit: done" "$tmp/logs/error.log"
