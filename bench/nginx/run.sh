#!/usr/bin/env bash
# bench/nginx/run.sh: GET inside nginx, konnect.pats (transport = "cosocket")
# against the hand-written pooled cosocket floor (bench/baselines/cosocket_floor.lua).
#
# Starts its own nginx (scripts/nginx.sh, worker_processes 1) and, unless given
# an upstream, its own fake Konnect with one token; then the nginx worker times
# N GETs of that token per contender per round, in paired rounds (each round
# runs every contender once, the order rotating).  On a machine with 2+ CPUs the
# bench nginx runs on CPU 0 (BENCH_NGINX_CPU=N|off) and the fake it starts on
# CPU 1 (a given upstream is left where it is).  Prints, per
# contender, the median wall µs and worker CPU µs per call with the spread
# (min–max over the rounds), and the library/floor ratios (medians of the
# per-round ratios, with their spread).  Worker CPU: /proc/thread-self/schedstat
# around each loop (bench/nginx/bench.lua).  Contenders:
#   floor      the hand-written loop (cjson.decode included)
#   library    client:get(user, id) through konnect.pats, transport = "cosocket"
#   transport  konnect.transport.cosocket:request alone (+ cjson.decode), while
#              that internal API exists (skipped otherwise)
# Env: BENCH_NGINX_N=2000 BENCH_NGINX_ROUNDS=11 BENCH_NGINX_WARMUP=200
#      BENCH_NGINX_CONTENDERS=floor,library,transport
#      BENCH_NGINX_UPSTREAM=http://127.0.0.1:PORT BENCH_NGINX_TOKEN_ID=ID: GET that
#      upstream (e.g. bench/lib/static_upstream.sh's) instead of a fake started here
#      BENCH_NGINX_PROFILE=library|transport|floor (+ BENCH_NGINX_PROFILE_MODE=F|l|fl…):
#      a LuaJIT jit.p profile of one more loop of that contender, printed to stderr
#      BENCH_NGINX_JSON=path (also write the rounds and the summary as JSON: workload
#      "get_nginx", us/cpu_us per contender per round, median_us, median_cpu_us,
#      library_over_floor and transport_over_floor {wall, cpu, and their min/max})
#      BENCH_NGINX_CALLGRIND=1: instead of rounds, nginx runs under valgrind
#      --tool=callgrind and each contender's loop of N calls is counted alone
#      (callgrind's client requests from the worker: bench/nginx/benchcg.c);
#      prints instructions per call and writes {"workload": "get_nginx_callgrind",
#      "n": N, "ir_per_get": {contender: Ir}} to BENCH_NGINX_JSON
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
N=${BENCH_NGINX_N:-2000}
ROUNDS=${BENCH_NGINX_ROUNDS:-11}
WARMUP=${BENCH_NGINX_WARMUP:-200}
CONTENDERS=${BENCH_NGINX_CONTENDERS:-floor,library,transport}
USER_ID=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap

say() { printf 'bench/nginx: %s\n' "$*" >&2; }
command -v "${NGINX:-nginx}" >/dev/null || { say "nginx not found (apt-get install nginx-light libnginx-mod-http-lua)"; exit 1; }
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || { say "libnginx-mod-http-lua is not installed"; exit 1; }

RUN=$(mktemp -d "${TMPDIR:-/tmp}/konnect-bench-nginx.XXXXXX")
cleanup() {
  scripts/nginx.sh stop "$RUN/nginx" || true
  [ -d "$RUN/fake" ] && { fake_konnect/ctl stop --dir "$RUN/fake" >/dev/null 2>&1 || true; }
  if [ "${KEEP:-0}" = 1 ]; then say "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT

pin() { # CPU PID: the process and its children, all threads
  for p in $2 $(pgrep -P "$2" || true); do taskset -a -p -c "$1" "$p" >/dev/null 2>&1 || true; done
}
can_pin=false
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && can_pin=true
BENCH_CPU=${BENCH_NGINX_CPU:-0}
[ "$BENCH_CPU" = off ] && can_pin=false

if [ -n "${BENCH_NGINX_UPSTREAM:-}" ]; then
  upstream=$BENCH_NGINX_UPSTREAM
  token_id=${BENCH_NGINX_TOKEN_ID:?BENCH_NGINX_TOKEN_ID goes with BENCH_NGINX_UPSTREAM}
  upstream_name="upstream $upstream (given)"
else
  out=$(fake_konnect/ctl start --dir "$RUN/fake") || { say "could not start the fake Konnect"; exit 1; }
  eval "$out"
  upstream=$FAKE_KONNECT_HTTP
  $can_pin && pin 1 "$(tr -dc '0-9' < "$RUN/fake/nginx.pid")"
  token_id=$(curl -fsS -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"bench nginx","ttl_seconds":86400}' "$upstream/v3/users/$USER_ID/access-tokens" |
    sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
  [ -n "$token_id" ] || { say "could not create the token to GET"; exit 1; }
  upstream_name="fake Konnect"
  $can_pin && upstream_name="$upstream_name on CPU 1"
fi

CALLGRIND=${BENCH_NGINX_CALLGRIND:-0}
if [ "$CALLGRIND" = 1 ]; then
  command -v valgrind >/dev/null || { say "valgrind not found"; exit 1; }
  cc -O2 -Wall -Wextra -fPIC -shared -o "$RUN/benchcg.so" "$here/benchcg.c"
  mkdir -p "$RUN/cg"
  # the nginx binary, under callgrind (master and worker: valgrind follows fork)
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/cg/callgrind.%%p %s "$@"\n' \
    "$RUN" "$(command -v "${NGINX:-nginx}")" >"$RUN/nginx-callgrind.sh"
  chmod +x "$RUN/nginx-callgrind.sh"
  out=$(NGINX="$RUN/nginx-callgrind.sh" scripts/nginx.sh start "$here/nginx.conf.in" "$RUN/nginx") ||
    { say "could not start the bench nginx under callgrind"; exit 1; }
else
  out=$(scripts/nginx.sh start "$here/nginx.conf.in" "$RUN/nginx") || { say "could not start the bench nginx"; exit 1; }
fi
PORT="" PID=""
eval "$out"
pinned="not pinned"
if $can_pin; then pin "$BENCH_CPU" "$PID"; pinned="bench nginx on CPU $BENCH_CPU"; fi

say "nginx $("${NGINX:-nginx}" -v 2>&1 | sed 's/.*nginx\///') + ngx_lua, worker_processes 1, $pinned; $upstream_name"
say "$ROUNDS paired rounds x $N GETs per contender (after $WARMUP warm-up calls each)"
query="n=$N&rounds=$ROUNDS&warmup=$WARMUP&user=$USER_ID&token_id=$token_id&token=$TOKEN&upstream=$upstream"
query="$query&contenders=$CONTENDERS"
if [ "$CALLGRIND" = 1 ]; then
  say "callgrind: each contender's loop of $N calls counted alone (after $WARMUP warm-up calls)"
  curl -fsS --max-time 3600 -o /dev/null "http://127.0.0.1:$PORT/bench?$query&rounds=1&callgrind=$RUN/benchcg.so" || {
    say "the bench request failed"; tail -n 20 "$RUN/nginx/error.log" >&2; exit 1; }
  # one dump per contender: "desc: Trigger: Client Request: NAME" ... "summary: IR"
  json="{\"workload\":\"get_nginx_callgrind\",\"n\":$N,\"ir_per_get\":{"
  sep=""
  printf 'GET inside nginx, instructions per call (callgrind, %d calls counted alone per contender)\n' "$N"
  for f in "$RUN"/cg/callgrind.*; do
    name=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
    [ -n "$name" ] || continue
    ir=$(sed -n 's/^summary: *//p' "$f")
    per=$(awk -v a="$ir" -v n="$N" 'BEGIN { printf "%.0f", a / n }')
    printf '  %-34s %12s Ir\n' "$name" "$per"
    json="$json$sep\"$name\":$per"
    sep=","
  done
  [ -n "$sep" ] || { say "no callgrind dump from the worker (see $RUN/cg)"; KEEP=1; exit 1; }
  [ -z "${BENCH_NGINX_JSON:-}" ] || printf '%s}}\n' "$json" >"$BENCH_NGINX_JSON"
  exit 0
fi
if [ -n "${BENCH_NGINX_PROFILE:-}" ]; then
  query="$query&profile=$BENCH_NGINX_PROFILE&profile_mode=${BENCH_NGINX_PROFILE_MODE:-F}&profile_out=$RUN/profile.txt"
fi
json=$(curl -fsS --max-time 3600 "http://127.0.0.1:$PORT/bench?$query") || {
  say "the bench request failed"; tail -n 20 "$RUN/nginx/error.log" >&2; exit 1; }
if [ -n "${BENCH_NGINX_PROFILE:-}" ]; then
  say "LuaJIT profile (jit.p, mode ${BENCH_NGINX_PROFILE_MODE:-F}) of $BENCH_NGINX_PROFILE:"
  head -n 25 "$RUN/profile.txt" >&2 || true
fi
printf '%s\n' "$json" | OUT_JSON="${BENCH_NGINX_JSON:-}" LUA_PATH=";;" LUA_CPATH=";;" lua5.4 -e '
  local json = require "cjson"
  local d = json.decode(io.read("a"))
  local function sorted(t) local c = {} for i, v in ipairs(t) do c[i] = v end table.sort(c) return c end
  local function median(t) local c = sorted(t) local n = #c
    return n % 2 == 1 and c[(n + 1) / 2] or (c[n / 2] + c[n / 2 + 1]) / 2 end
  print(string.format("GET inside nginx, %d paired rounds x %d calls (worker CPU: /proc/thread-self/schedstat)",
    d.rounds, d.n))
  print(string.format("  %-34s %12s %17s %12s %17s", "", "wall µs/call", "spread (min-max)", "CPU µs/call",
    "spread (min-max)"))
  for _, name in ipairs { "floor", "transport", "library" } do
    if d.us[name] then
      local u, c = sorted(d.us[name]), sorted(d.cpu_us[name])
      print(string.format("  %-34s %12.1f %8.1f - %-6.1f %12.1f %8.1f - %-6.1f", name, median(u), u[1], u[#u],
        median(c), c[1], c[#c]))
    end
  end
  for _, name in ipairs { "library", "transport" } do
    if d.us[name] and d.us.floor then
      local r, rc = {}, {}
      for i, v in ipairs(d.us[name]) do r[i] = v / d.us.floor[i]; rc[i] = d.cpu_us[name][i] / d.cpu_us.floor[i] end
      local s, sc = sorted(r), sorted(rc)
      print(string.format("  %-34s %11.2fx %8.2f - %-6.2f %11.2fx %8.2f - %-6.2f", name .. " / floor (per round)",
        median(r), s[1], s[#s], median(rc), sc[1], sc[#sc]))
      d[name .. "_over_floor"] = { wall = median(r), wall_min = s[1], wall_max = s[#s],
                                   cpu = median(rc), cpu_min = sc[1], cpu_max = sc[#sc] }
    end
  end
  local path = os.getenv("OUT_JSON")
  if path and path ~= "" then -- the rounds and the summary, for bench/report.lua and bench/floors.sh
    d.workload, d.median_us, d.median_cpu_us = "get_nginx", {}, {}
    for name, u in pairs(d.us) do d.median_us[name], d.median_cpu_us[name] = median(u), median(d.cpu_us[name]) end
    local f = assert(io.open(path, "w"))
    f:write(json.encode(d), "\n")
    f:close()
  end'
