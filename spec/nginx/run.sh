#!/usr/bin/env bash
# spec/nginx/run.sh: the OpenResty integration specs.
#
# Starts a real nginx (nginx-light + libnginx-mod-http-lua, worker_processes 1)
# whose Lua app (spec/nginx/app/) drives konnect.pats in each nginx phase,
# then runs the busted specs spec/nginx/*_nginx.lua (Lua 5.4) against it over
# HTTP, and stops nginx.  The Kong plugin's specs (spec/nginx/kong_*_nginx.lua)
# start Kong nodes of their own (spec/nginx/kong_node.lua) and reset the fake, so
# they run at the same time in a second busted, with a fake Konnect of their own;
# the last line sums both summaries.  Builds nothing: it needs build/jit/konnect/core.so
# (`make build LUA=luajit`, for transport = "curl" inside nginx) and
# build/5.4/konnect/core.so (the specs' HTTP client).
# Uses the fake Konnect named by FAKE_KONNECT_HTTP/_HTTPS/_CA, or starts one
# (and then stops it).  Prints busted's summary line.
#   KEEP=1 bash spec/nginx/run.sh   keeps the temp prefix (conf, error.log)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
NGINX=${NGINX:-nginx}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/konnect-nginx.XXXXXX")
started_fake=0
cleanup() {
  scripts/nginx.sh stop "$tmp"
  if [ "$started_fake" = 1 ]; then fake_konnect/ctl stop --dir "$tmp/fake" >/dev/null 2>&1 || true; fi
  fake_konnect/ctl stop --dir "$tmp/fake-kong" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then echo "spec/nginx: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() { # message: not a test failure of ours, but count it as one
  echo "spec/nginx: $*" >&2
  echo "0 successes / 0 failures / 1 error / 0 pending : 0.0 seconds"
  exit 1
}

[ -f build/jit/konnect/core.so ] || fail "build/jit/konnect/core.so is missing: run make build LUA=luajit"
[ -f build/5.4/konnect/core.so ] || fail "build/5.4/konnect/core.so is missing: run make build LUA=lua5.4"
command -v "$NGINX" >/dev/null || fail "nginx not found (apt-get install nginx-light libnginx-mod-http-lua)"
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || fail "libnginx-mod-http-lua is not installed"

if [ -z "${FAKE_KONNECT_HTTP:-}" ]; then
  out=$(fake_konnect/ctl start --dir "$tmp/fake") || fail "could not start the fake Konnect"
  eval "$out"
  started_fake=1
fi
export FAKE_KONNECT_HTTP FAKE_KONNECT_HTTPS FAKE_KONNECT_CA

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$tmp/untrusted-key.pem" -out "$tmp/untrusted.pem" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost" > "$tmp/openssl.log" 2>&1 || fail "openssl failed"
out=$(scripts/nginx.sh start "$here/nginx.conf.in" "$tmp" "CA=$FAKE_KONNECT_CA") || fail "nginx did not start"
eval "$out"
port=$PORT p2=$TLS_PORT
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/ping" 2>/dev/null && break
  sleep 0.1
done

echo "== nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') + ngx_lua on 127.0.0.1:$port (prefix $tmp)"
export KONNECT_NGINX_URL="http://127.0.0.1:$port" KONNECT_NGINX_DIR="$tmp" KONNECT_NGINX_UNTRUSTED="https://localhost:$p2"
export LUA_CPATH="$root/build/5.4/?.so;;" LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;$root/spec/?.lua;;"
kong_out=$(fake_konnect/ctl start --dir "$tmp/fake-kong") || fail "could not start the Kong specs' fake Konnect"
( eval "$kong_out"
  exec lua5.4 /usr/bin/busted -o plainTerminal --pattern='^kong_.*_nginx' spec/nginx ) > "$tmp/kong.out" 2>&1 &
kong_pid=$!
lua5.4 /usr/bin/busted -o plainTerminal --pattern=_nginx --exclude-pattern='^kong_' spec/nginx > "$tmp/main.out" 2>&1
rc=$?
wait "$kong_pid" || rc=1
cat "$tmp/main.out"
echo "-- the Kong plugin's specs (Kong nodes of their own):"
cat "$tmp/kong.out"
# one summary line for scripts/test.sh: the sum of both
awk '/^[0-9]+ success(es)? \/ [0-9]+ failures? \/ [0-9]+ errors? \/ [0-9]+ pending : / {
       s += $1; f += $4; e += $7; p += $10; if ($13 > t) t = $13; n++ }
     END { if (n < 2) e += 2 - n
           printf "%d successes / %d failures / %d errors / %d pending : %.1f seconds\n", s, f, e, p, t }' \
  "$tmp/main.out" "$tmp/kong.out"
if [ $rc -ne 0 ] && [ -s "$tmp/error.log" ]; then
  echo "-- nginx error.log (errors only, last 20):"
  grep -E '\[(error|crit|alert|emerg)\]' "$tmp/error.log" | tail -n 20
fi
exit $rc
