#!/usr/bin/env bash
# spec/hostile/run.sh [curl|cosocket [busted options]]: the hostile-server suite on one transport,
# or on both (the default, in parallel).  Starts its own nginx
# (spec/hostile/nginx.conf.in, via scripts/nginx.sh), runs
# spec/hostile/suite_hostile.lua with busted (Lua 5.4) once per transport, and
# stops nginx.  Needs build/5.4/konnect/core.so (`make build LUA=lua5.4`).
# Prints busted's summary line per transport.  KEEP=1 keeps the nginx prefix.
#   bash spec/hostile/run.sh cosocket --filter=trickle     only the matching cases
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
which=${1:-both}
shift || true # the rest goes to busted, e.g. --filter=reset
fail() { echo "spec/hostile: $*" >&2; echo "0 successes / 0 failures / 1 error / 0 pending : 0.0 seconds"; exit 1; }
[ -f build/5.4/konnect/core.so ] || fail "build/5.4/konnect/core.so is missing: run make build LUA=lua5.4"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/konnect-hostile.XXXXXX")
rst_pid=""
cleanup() {
  [ -n "$rst_pid" ] && kill "$rst_pid" 2>/dev/null
  scripts/nginx.sh stop "$tmp"
  if [ "${KEEP:-0}" = 1 ]; then echo "spec/hostile: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
out=$(scripts/nginx.sh start "$here/nginx.conf.in" "$tmp") || fail "nginx did not start"
eval "$out"
# the resetting server (LuaSocket: SO_LINGER 0), for the "reset" case
LUA_CPATH=";;" lua5.4 spec/hostile/rst_server.lua "$tmp/rst.port" &
rst_pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/rst.port" ] && break; sleep 0.05; done
RST_PORT=$(cat "$tmp/rst.port" 2>/dev/null) || fail "the resetting server did not start"
echo "== hostile server: nginx on 127.0.0.1:$PORT (prefix $tmp), resets from 127.0.0.1:$RST_PORT"

run_one() { # transport
  KONNECT_HOSTILE_URL="http://127.0.0.1:$PORT" KONNECT_HOSTILE_TRANSPORT=$1 KONNECT_HOSTILE_RST_PORT=$RST_PORT \
  LUA_CPATH="$root/build/5.4/?.so;;" \
  LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;$root/spec/hostile/?.lua;$root/spec/fuzz/?.lua;$root/spec/?.lua;;" \
    lua5.4 /usr/bin/busted -o plainTerminal --pattern=_hostile "${@:2}" spec/hostile
}
rc=0
case $which in
  curl|cosocket) echo "-- transport $which"; run_one "$which" "$@" || rc=1 ;;
  both)
    run_one curl > "$tmp/curl.out" 2>&1 & a=$!
    run_one cosocket > "$tmp/cosocket.out" 2>&1 & b=$!
    wait $a || rc=1
    wait $b || rc=1
    echo "-- transport curl"; cat "$tmp/curl.out"
    echo "-- transport cosocket"; cat "$tmp/cosocket.out"
    ;;
  *) fail "usage: spec/hostile/run.sh [curl|cosocket]" ;;
esac
if [ $rc -ne 0 ] && [ -s "$tmp/error.log" ]; then
  echo "-- nginx error.log (errors only, last 10):"
  grep -E '\[(error|crit|alert|emerg)\]' "$tmp/error.log" | tail -n 10
fi
exit $rc
