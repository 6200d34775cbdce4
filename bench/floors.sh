#!/usr/bin/env bash
# bench/floors.sh: konnect.pats's `get` against floors we did not write (issue 18),
# all against one static upstream (bench/lib/static_upstream.sh: nginx `return 200`
# with the fake Konnect's exact reply to a PAT get).  Also run by `make bench`.
#
#   Lua 5.4:  client:get(user, id) (curl transport)  vs  bench/baselines/curl_cjson.c
#             (libcurl + lua-cjson into a Lua table, plain C)           target ≤ 1.45×
#   LuaJIT:   client:get(user, id) (curl transport)  vs  bench/baselines/luacurl_cjson.lua
#             (Debian's lua-curl + lua-cjson)                           target ≤ 1.30×
#   nginx:    client:get(user, id) (cosocket transport)  vs  bench/baselines/cosocket_floor.lua,
#             the worker's CPU per get (bench/nginx/run.sh)             target ≤ 1.30×
#
# Figures:
#   - instructions per get (callgrind, deterministic): each program runs twice
#     under valgrind --tool=callgrind, with W warm-up gets and then 0 or N timed
#     gets; (Ir of the second - Ir of the first) / N is the cost of one get in a
#     warm process: start-up, loading and the first connection cancel out.
#     User-space instructions only (the kernel's share of send/recv/poll is not
#     counted; that is what the wall and CPU columns show);
#   - wall and CPU per get: FLOORS_ROUNDS paired rounds, each running every
#     contender once (a process each: W warm-up gets, then N timed), in an
#     order that rotates from round to round; medians, spread (min–max), and
#     ratios taken within a round, then their median;
#   - inside nginx: bench/nginx/run.sh with floor and library only, the worker
#     thread's CPU from /proc/thread-self/schedstat around each loop (paired
#     rounds, the target's measure); then once more with nginx under callgrind,
#     each loop of N gets counted alone (callgrind client requests from the
#     worker: bench/nginx/benchcg.c), the deterministic figure beside it.
# Everything runs on one CPU (see "Pinning" below).
#
# Env: FLOORS_N_CG=1000 FLOORS_WARMUP=50 FLOORS_ROUNDS=21 FLOORS_N=2000
#      FLOORS_NGINX_ROUNDS=21 FLOORS_NGINX_N=2000 FLOORS_CPU=N|off (default: the last CPU)
#      FLOORS_OUT=DIR (floors.txt, floors.json; default .run/floors)
#      FLOORS_PARTS="callgrind wall nginx" (a subset to run)
# Needs: make build for lua5.4 and luajit (done here), valgrind, nginx + ngx_lua,
# lua-cjson, and Debian's lua-curl (installed here when run as root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$root"
RUN="$root/.run/floors"
OUT=${FLOORS_OUT:-$RUN}
N_CG=${FLOORS_N_CG:-1000}
W=${FLOORS_WARMUP:-50}
ROUNDS=${FLOORS_ROUNDS:-21}
N=${FLOORS_N:-2000}
PARTS=${FLOORS_PARTS:-callgrind wall nginx}

say() { printf 'floors: %s\n' "$*" >&2; }
part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has_pkg() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'; }

mkdir -p "$RUN/lib/5.4" "$RUN/lib/jit" "$OUT"
rm -f "$RUN"/cg-*.out "$RUN"/cg-*.txt "$RUN/cg.txt" "$RUN/objects.txt" "$RUN/wall.txt" "$RUN"/nginx*.json
: >"$RUN/floors.log"

# ---- tools and builds ------------------------------------------------------
# lua-curl is the LuaJIT floor, not a dependency of the project: installed here
# (as run.sh installs its contenders' packages), never by make deps
if ! has_pkg lua-curl; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's lua-curl (the LuaJIT floor)"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lua-curl) \
      >>"$RUN/floors.log" 2>&1 || say "apt-get install lua-curl failed (see $RUN/floors.log)"
  fi
  has_pkg lua-curl || say "lua-curl is not installed (apt-get install lua-curl): the LuaJIT floor is skipped"
fi
for t in lua5.4 luajit cc valgrind nginx curl; do
  command -v "$t" >/dev/null || { say "$t is required"; exit 1; }
done
make --no-print-directory build LUA=lua5.4 >>"$RUN/floors.log" 2>&1 || { say "make build LUA=lua5.4 failed"; exit 1; }
make --no-print-directory build LUA=luajit >>"$RUN/floors.log" 2>&1 || { say "make build LUA=luajit failed"; exit 1; }
# shellcheck disable=SC2046
cc -O2 -g -Wall -Wextra $(pkg-config --cflags libcurl lua5.4) -o "$RUN/curl_cjson" bench/baselines/curl_cjson.c \
  $(pkg-config --libs libcurl lua5.4)
cc -O2 -Wall -Wextra -fPIC -shared -I/usr/include/lua5.4 -o "$RUN/lib/5.4/benchclock.so" bench/lib/benchclock.c
cc -O2 -Wall -Wextra -fPIC -shared -I/usr/include/luajit-2.1 -o "$RUN/lib/jit/benchclock.so" bench/lib/benchclock.c

# shellcheck source=bench/lib/common.sh
. "$root/bench/lib/common.sh" # lua_env: LUA_ENV for an interpreter (bench/lib, lua/, build/<v>, $RUN/lib/<v>)

# Pinning: the static upstream, every client and the bench nginx share ONE CPU
# (FLOORS_CPU, default the last; "off": none).  On this kind of VM a round trip
# between two CPUs costs an idle vCPU's wake-up on each side: measured here, a
# get of the C floor took ~200 µs of wall and ~70 µs of its CPU across CPUs
# against ~45 µs and ~23 µs on one, which would dilute every ratio.  On one CPU
# the client and the server take turns: wall = client + server + two switches.
CLIENT=()
PIN_CPU=${FLOORS_CPU:-$(( $(nproc) - 1 ))}
PIN="not pinned"
if [ "$PIN_CPU" != off ] && command -v taskset >/dev/null; then
  CLIENT=(taskset -c "$PIN_CPU")
  PIN="static upstream, clients and the bench nginx all on CPU $PIN_CPU"
else
  PIN_CPU=""
fi

# ---- the static upstream ---------------------------------------------------
trap 'bench/lib/static_upstream.sh stop "$RUN/up"' EXIT
eval "$(STATIC_CPU=$PIN_CPU bench/lib/static_upstream.sh start "$RUN/up")"
URL="$STATIC_URL/v3/users/$STATIC_USER/access-tokens/$STATIC_ID"
say "static upstream at $STATIC_URL ($(wc -c <"$RUN/up/get.body") bytes of JSON, the fake Konnect's reply); $PIN"

# cmd CONTENDER WARMUP N -> ENV (assignments) and CMD (the command line) that run it
cmd() {
  ENV=()
  case $1 in
    c54)   CMD=("$RUN/curl_cjson" "$URL" "$STATIC_TOKEN" "$2" "$3") ;;
    k54)   lua_env 5.4; ENV=("${LUA_ENV[@]}")
           CMD=(lua5.4 bench/library_get.lua "$STATIC_URL" "$STATIC_USER" "$STATIC_ID" "$STATIC_TOKEN" "$2" "$3") ;;
    lcjit) lua_env jit; ENV=("${LUA_ENV[@]}")
           CMD=(luajit bench/baselines/luacurl_cjson.lua "$URL" "$STATIC_TOKEN" "$2" "$3") ;;
    kjit)  lua_env jit; ENV=("${LUA_ENV[@]}")
           CMD=(luajit bench/library_get.lua "$STATIC_URL" "$STATIC_USER" "$STATIC_ID" "$STATIC_TOKEN" "$2" "$3") ;;
  esac
}
CONTENDERS=(c54 k54 kjit)
has_pkg lua-curl && CONTENDERS=(c54 k54 lcjit kjit)
# each must run before it is measured
for c in "${CONTENDERS[@]}"; do
  cmd "$c" 1 1
  env "${ENV[@]}" "${CMD[@]}" >/dev/null 2>>"$RUN/floors.log" || { say "$c failed (see $RUN/floors.log)"; exit 1; }
done

# ---- instructions per get (callgrind) --------------------------------------
if part callgrind; then
  say "callgrind: each contender with $W warm-up gets, then 0 and $N_CG more; ${#CONTENDERS[@]} x 2 runs"
  : >"$RUN/cg.txt"
  for c in "${CONTENDERS[@]}"; do
    for n in 0 "$N_CG"; do
      cmd "$c" "$W" "$n"
      env "${ENV[@]}" valgrind --tool=callgrind --callgrind-out-file="$RUN/cg-$c-$n.out" "${CMD[@]}" \
        >/dev/null 2>>"$RUN/floors.log" ||
        { say "$c under callgrind failed (see $RUN/floors.log)"; exit 1; }
    done
    ir0=$(sed -n 's/^summary: *//p' "$RUN/cg-$c-0.out")
    ir1=$(sed -n 's/^summary: *//p' "$RUN/cg-$c-$N_CG.out")
    echo "$c $ir0 $ir1 $N_CG" >>"$RUN/cg.txt"
    # self instructions per get by shared object (the same subtraction)
    for n in 0 "$N_CG"; do
      callgrind_annotate --threshold=100 "$RUN/cg-$c-$n.out" 2>/dev/null >"$RUN/cg-$c-$n.txt" || true
    done
    awk -v c="$c" -v n="$N_CG" '
      FNR == 1 { run++ }
      /^ *[0-9,]+ \([ 0-9.]+%\) +[^=].*\[.*\]$/ {
        ir = $1; gsub(",", "", ir)
        obj = $0; sub(/.*\[/, "", obj); sub(/\].*/, "", obj); sub(/.*\//, "", obj)
        o[obj] += (run == 1 ? -ir : ir)
      }
      END { for (k in o) if (o[k] / n >= 500) printf "%s %s %.0f\n", c, k, o[k] / n }' \
      "$RUN/cg-$c-0.txt" "$RUN/cg-$c-$N_CG.txt" >>"$RUN/objects.txt"
  done
fi

# ---- wall and CPU per get, paired rounds -----------------------------------
if part wall; then
  say "wall: $ROUNDS paired rounds of $N gets per contender (after $W warm-up gets), rotating order"
  : >"$RUN/wall.txt"
  m=${#CONTENDERS[@]}
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < m; i++)); do
      c=${CONTENDERS[$(( (r - 1 + i) % m ))]}
      cmd "$c" "$W" "$N"
      line=$(env "${ENV[@]}" "${CLIENT[@]}" "${CMD[@]}" 2>>"$RUN/floors.log") || { say "$c round $r failed (see $RUN/floors.log)"; exit 1; }
      echo "$r $c $line" >>"$RUN/wall.txt"
    done
  done
fi

# ---- inside nginx ----------------------------------------------------------
if part nginx; then
  say "nginx: bench/nginx/run.sh, floor vs library against the static upstream"
  BENCH_NGINX_UPSTREAM=$STATIC_URL BENCH_NGINX_TOKEN_ID=$STATIC_ID BENCH_NGINX_CONTENDERS=floor,library \
    BENCH_NGINX_CPU=${PIN_CPU:-off} \
    BENCH_NGINX_ROUNDS=${FLOORS_NGINX_ROUNDS:-21} BENCH_NGINX_N=${FLOORS_NGINX_N:-2000} \
    BENCH_NGINX_JSON="$RUN/nginx.json" bash bench/nginx/run.sh >"$RUN/nginx.txt" 2>>"$RUN/floors.log" ||
    { say "bench/nginx/run.sh failed (see $RUN/floors.log)"; exit 1; }
  say "nginx: the same loops under callgrind, each counted alone"
  BENCH_NGINX_UPSTREAM=$STATIC_URL BENCH_NGINX_TOKEN_ID=$STATIC_ID BENCH_NGINX_CONTENDERS=floor,library \
    BENCH_NGINX_CPU=${PIN_CPU:-off} BENCH_NGINX_CALLGRIND=1 BENCH_NGINX_N="$N_CG" \
    BENCH_NGINX_JSON="$RUN/nginx-callgrind.json" bash bench/nginx/run.sh >"$RUN/nginx-callgrind.txt" 2>>"$RUN/floors.log" ||
    { say "bench/nginx/run.sh under callgrind failed (see $RUN/floors.log)"; exit 1; }
fi

bench/lib/static_upstream.sh stop "$RUN/up"
trap - EXIT

# ---- report ----------------------------------------------------------------
load=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
git diff --quiet HEAD -- lua csrc 2>/dev/null || rev="$rev+changes"
when="$(date -u '+%Y-%m-%d %H:%M UTC'), commit $rev, $(nproc) CPUs"
LUA_PATH=";;" LUA_CPATH=";;" lua5.4 bench/lib/floors_report.lua "$RUN" "$OUT" "$when; $PIN; load average at the end: $load" \
  "$N_CG" "$W" "$ROUNDS" "$N"
