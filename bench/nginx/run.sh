#!/usr/bin/env bash
# bench/nginx/run.sh: GET inside nginx, konnect.pats (transport = "cosocket")
# against the hand-written pooled cosocket floor (bench/baselines/cosocket_floor.lua).
#
# Starts its own fake Konnect (fake_konnect/ctl start --dir …) and its own nginx
# (worker_processes 1; on a machine with 2+ CPUs the two are pinned to
# different CPUs), creates one token, then the nginx worker times N GETs of it
# per contender per round, in paired rounds (each round runs every contender
# once, the order rotating).  Prints, per contender, the median µs per call and
# the spread (min–max over the rounds), wall time and the nginx worker's CPU
# time (CLOCK_PROCESS_CPUTIME_ID: the client side alone), and the
# library/floor ratios (medians of the per-round ratios, with their spread).  Contenders:
#   floor      the hand-written loop (cjson.decode included)
#   library    client:get(user, id) through konnect.pats, transport = "cosocket"
#   transport  konnect.transport.cosocket:request alone (+ cjson.decode)
# Env: BENCH_NGINX_N=2000 BENCH_NGINX_ROUNDS=11 BENCH_NGINX_WARMUP=200
#      BENCH_NGINX_PROFILE=library|transport|floor (+ BENCH_NGINX_PROFILE_MODE=F|l|fl…):
#      a LuaJIT jit.p profile of one more loop of that contender, printed to stderr
#      BENCH_NGINX_JSON=path (also write the rounds and the summary as JSON: workload
#      "get_nginx", us/cpu_us per contender per round, median_us, median_cpu_us,
#      library_over_floor and transport_over_floor {wall, cpu, and their min/max})
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
NGINX=${NGINX:-nginx}
N=${BENCH_NGINX_N:-2000}
ROUNDS=${BENCH_NGINX_ROUNDS:-11}
WARMUP=${BENCH_NGINX_WARMUP:-200}
USER_ID=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap

say() { printf 'bench/nginx: %s\n' "$*" >&2; }
command -v "$NGINX" >/dev/null || { say "nginx not found (apt-get install nginx-light libnginx-mod-http-lua)"; exit 1; }
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || { say "libnginx-mod-http-lua is not installed"; exit 1; }

RUN=$(mktemp -d "${TMPDIR:-/tmp}/konnect-bench-nginx.XXXXXX")
cleanup() {
  if [ -f "$RUN/nginx.pid" ]; then
    pid=$(tr -dc '0-9' < "$RUN/nginx.pid")
    if [ -n "$pid" ]; then kill -QUIT "$pid" 2>/dev/null || true; fi
  fi
  fake_konnect/ctl stop --dir "$RUN/fake" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then say "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT

out=$(fake_konnect/ctl start --dir "$RUN/fake") || { say "could not start the fake Konnect"; exit 1; }
eval "$out"

user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
mkdir -p "$RUN/tmp"
port=""
for _ in $(seq 1 25); do
  p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
  sed -e "s|@USER_LINE@|$user_line|" -e "s|@DIR@|$RUN|g" -e "s|@ROOT@|$root|g" -e "s|@PORT@|$p|g" \
    "$here/nginx.conf.in" > "$RUN/nginx.conf"
  if "$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/error.log" 2> "$RUN/start.log"; then port=$p; break; fi
  grep -q "Address already in use" "$RUN/start.log" "$RUN/error.log" 2>/dev/null || { cat "$RUN/start.log" >&2; exit 1; }
done
[ -n "$port" ] || { say "no free port"; exit 1; }
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/ping" 2>/dev/null && break
  sleep 0.1
done

# the fake on CPU 1, the benchmarking nginx on CPU 0 (all their threads)
pin() { # cpu pidfile
  local master
  master=$(tr -dc '0-9' < "$2")
  for pid in $master $(pgrep -P "$master" || true); do taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || true; done
}
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin 1 "$RUN/fake/nginx.pid"
  pin 0 "$RUN/nginx.pid"
  pinned="fake Konnect on CPU 1, bench nginx on CPU 0"
else
  pinned="not pinned"
fi

token_id=$(curl -fsS -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"bench nginx","ttl_seconds":86400}' "$FAKE_KONNECT_HTTP/v3/users/$USER_ID/access-tokens" |
  sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
[ -n "$token_id" ] || { say "could not create the token to GET"; exit 1; }

say "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') + ngx_lua, worker_processes 1, $pinned"
say "$ROUNDS paired rounds x $N GETs per contender (after $WARMUP warm-up calls each)"
query="n=$N&rounds=$ROUNDS&warmup=$WARMUP&user=$USER_ID&token_id=$token_id&token=$TOKEN&upstream=$FAKE_KONNECT_HTTP"
if [ -n "${BENCH_NGINX_PROFILE:-}" ]; then
  query="$query&profile=$BENCH_NGINX_PROFILE&profile_mode=${BENCH_NGINX_PROFILE_MODE:-F}&profile_out=$RUN/profile.txt"
fi
json=$(curl -fsS --max-time 3600 "http://127.0.0.1:$port/bench?$query") || {
  say "the bench request failed"; tail -n 20 "$RUN/error.log" >&2; exit 1; }
if [ -n "${BENCH_NGINX_PROFILE:-}" ]; then
  say "LuaJIT profile (jit.p, mode ${BENCH_NGINX_PROFILE_MODE:-F}) of $BENCH_NGINX_PROFILE:"
  head -n 25 "$RUN/profile.txt" >&2 || true
fi
printf '%s\n' "$json" | OUT_JSON="${BENCH_NGINX_JSON:-}" LUA_PATH="$root/lua/?.lua;;" lua5.4 -e '
  local json = require "konnect.json"
  local d = json.decode(io.read("a"))
  local function sorted(t) local c = {} for i, v in ipairs(t) do c[i] = v end table.sort(c) return c end
  local function median(t) local c = sorted(t) local n = #c
    return n % 2 == 1 and c[(n + 1) / 2] or (c[n / 2] + c[n / 2 + 1]) / 2 end
  print(string.format("GET inside nginx, %d paired rounds x %d calls", d.rounds, d.n))
  print(string.format("  %-34s %12s %17s %12s %17s", "", "wall µs/call", "spread (min-max)", "CPU µs/call",
    "spread (min-max)"))
  for _, name in ipairs { "floor", "transport", "library" } do
    local u, c = sorted(d.us[name]), sorted(d.cpu_us[name])
    print(string.format("  %-34s %12.1f %8.1f - %-6.1f %12.1f %8.1f - %-6.1f", name, median(u), u[1], u[#u],
      median(c), c[1], c[#c]))
  end
  for _, name in ipairs { "library", "transport" } do
    local r, rc = {}, {}
    for i, v in ipairs(d.us[name]) do r[i] = v / d.us.floor[i]; rc[i] = d.cpu_us[name][i] / d.cpu_us.floor[i] end
    local s, sc = sorted(r), sorted(rc)
    print(string.format("  %-34s %11.2fx %8.2f - %-6.2f %11.2fx %8.2f - %-6.2f", name .. " / floor (per round)",
      median(r), s[1], s[#s], median(rc), sc[1], sc[#sc]))
    d[name .. "_over_floor"] = { wall = median(r), wall_min = s[1], wall_max = s[#s],
                                 cpu = median(rc), cpu_min = sc[1], cpu_max = sc[#sc] }
  end
  local path = os.getenv("OUT_JSON")
  if path and path ~= "" then -- the rounds and the summary, for bench/report.lua
    d.workload, d.median_us, d.median_cpu_us = "get_nginx", {}, {}
    for name, u in pairs(d.us) do d.median_us[name], d.median_cpu_us[name] = median(u), median(d.cpu_us[name]) end
    local f = assert(io.open(path, "w"))
    f:write(json.encode(d), "\n")
    f:close()
  end'
