#!/usr/bin/env bash
# bench/run.sh: lua-konnect against the alternatives, all against one fake
# Konnect server, in one run.  `make bench` builds konnect.core for Lua 5.4 and
# LuaJIT, then runs this.  Results: bench/results/{results.json,results.txt,chart.png}.
#
# Counts (env; BENCH_SCALE multiplies every default, e.g. BENCH_SCALE=0.1):
#   BENCH_N_GET=10000    (a) sequential get, HTTP keep-alive
#   BENCH_N_TLS=2000     (b) sequential get, HTTPS
#   BENCH_N_CYCLE=500    (c) create -> revoke -> delete cycles
#   BENCH_N_CLI=300      curl CLI iterations for (a)/(b) (cycles: a third)
#   BENCH_N_REVOKE=200   (d) revokes, sequential and as one batch
#   BENCH_CONCURRENCY=16 BENCH_LATENCY_MS=20 BENCH_BATCH_REPS=3
#   BENCH_N_MEM=100000 BENCH_MEM_AT=1000   (e) RSS after MEM_AT and after N_MEM gets
#   BENCH_WARMUP=50      untimed calls before each timed loop
# Filters: BENCH_CONTENDERS="raw k54 kjit luasocket python node cli"
#          BENCH_WORKLOADS="get_http get_https cycle memory latency"
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$root"

RUN="$root/.run/bench"
OUT="$here/results"
RES="$RUN/results.jsonl"
LOG="$RUN/bench.log"
mkdir -p "$RUN/lib/5.4" "$RUN/lib/jit" "$OUT"
: > "$RES"
: > "$LOG"

scale=${BENCH_SCALE:-1}
scaled() { awk -v v="$1" -v s="$scale" 'BEGIN { n = int(v * s + 0.5); if (n < 1) n = 1; print n }'; }
N_GET=${BENCH_N_GET:-$(scaled 10000)}
N_TLS=${BENCH_N_TLS:-$(scaled 2000)}
N_CYCLE=${BENCH_N_CYCLE:-$(scaled 500)}
N_CLI=${BENCH_N_CLI:-$(scaled 300)}
N_REVOKE=${BENCH_N_REVOKE:-$(scaled 200)}
N_MEM=${BENCH_N_MEM:-$(scaled 100000)}
MEM_AT=${BENCH_MEM_AT:-1000}
[ "$MEM_AT" -lt "$N_MEM" ] || MEM_AT=$(( N_MEM / 10 > 0 ? N_MEM / 10 : 1 ))
CONC=${BENCH_CONCURRENCY:-16}
LATENCY_MS=${BENCH_LATENCY_MS:-20}
REPS=${BENCH_BATCH_REPS:-3}
WARMUP=${BENCH_WARMUP:-50}
CONTENDERS=${BENCH_CONTENDERS:-raw k54 kjit luasocket python node cli}
WORKLOADS=${BENCH_WORKLOADS:-get_http get_https cycle memory latency}
PY=/usr/bin/python3
USER_ID=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap

say() { printf 'bench: %s\n' "$*"; }
want() { case " ${2//,/ } " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has_pkg() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'; }

# ---- tools ---------------------------------------------------------------
missing=()
for p in lua-socket lua-sec lua-cjson python3-requests gnuplot-nox; do
  has_pkg "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]}"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}") >"$RUN/apt.log" 2>&1 || say "apt-get failed (see $RUN/apt.log); missing contenders are skipped"
  else
    say "missing Debian packages (contenders using them are skipped): ${missing[*]}"
    say "  sudo apt-get install -y ${missing[*]}"
  fi
fi
for t in lua5.4 luajit cc curl; do
  command -v "$t" >/dev/null || { say "$t is required"; exit 1; }
done
[ -f build/5.4/konnect/core.so ] || { say "build/5.4/konnect/core.so missing: run make build LUA=lua5.4"; exit 1; }
[ -f build/jit/konnect/core.so ] || say "build/jit/konnect/core.so missing: LuaJIT contender skipped"

CURL_CFLAGS=$(pkg-config --cflags libcurl 2>/dev/null || true)
CURL_LIBS=$(pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
# shellcheck disable=SC2086
cc -O2 -Wall -Wextra $CURL_CFLAGS -o "$RUN/raw_curl" bench/baselines/raw_curl.c $CURL_LIBS
cc -O2 -Wall -Wextra -fPIC -shared -I/usr/include/lua5.4 -o "$RUN/lib/5.4/benchclock.so" bench/lib/benchclock.c
cc -O2 -Wall -Wextra -fPIC -shared -I/usr/include/luajit-2.1 -o "$RUN/lib/jit/benchclock.so" bench/lib/benchclock.c

# shared with profile.sh: lua_env (LUA_ENV for an interpreter) and stop_server
# shellcheck source=bench/lib/common.sh
. "$root/bench/lib/common.sh"

# ---- the fake Konnect ----------------------------------------------------
trap stop_server EXIT
stop_server
eval "$(fake_konnect/ctl start --dir "$RUN/fake")"
HTTP_BASE=$FAKE_KONNECT_HTTP
HTTPS_BASE=$FAKE_KONNECT_HTTPS
CA=$FAKE_KONNECT_CA
say "fake Konnect at $HTTP_BASE and $HTTPS_BASE"

api() { # METHOD PATH [BODY] -> body
  local args=(-sS --fail-with-body -X "$1" -H "Authorization: Bearer $TOKEN" -H "Accept: application/json")
  [ $# -ge 3 ] && args+=(-H "Content-Type: application/json" --data-binary "$3")
  curl "${args[@]}" "$HTTP_BASE$2"
}
first_id() { grep -o '"id":"[0-9a-f-]*"' | head -1 | cut -d'"' -f4; }
latency() { api POST /__fake/latency "{\"ms\":$1}" >/dev/null; }

api POST /__fake/reset >/dev/null
latency 0
BENCH_ID=$(api POST "/v3/users/$USER_ID/access-tokens" '{"name":"bench","ttl_seconds":86400}' | first_id)
[ -n "$BENCH_ID" ] || { say "could not create the bench token"; exit 1; }

# ---- running one contender on one workload -------------------------------
fails=0
run() { # CONTENDER LABEL MODE BASE N WARMUP IDS
  local who=$1 label=$2 mode=$3 base=$4 n=$5 warm=$6 ids=$7 ca=""
  want "$who" "$CONTENDERS" || return 0
  case "$base" in https://*) ca=$CA ;; esac
  local common=(BENCH_BASE="$base" BENCH_USER="$USER_ID" BENCH_TOKEN="$TOKEN" BENCH_IDS="$ids"
                BENCH_N="$n" BENCH_WARMUP="$warm" BENCH_CA="$ca" BENCH_LABEL="$label"
                BENCH_CONCURRENCY="$CONC" BENCH_REPS="$REPS" BENCH_MEM_AT="$MEM_AT")
  local cmd
  case "$who" in
    raw)       cmd=("$RUN/raw_curl" "$mode" "$base" "$TOKEN" "$USER_ID" "$ids" "$n" "$warm" "$ca") ;;
    k54)       lua_env 5.4; cmd=("${LUA_ENV[@]}" lua5.4 bench/konnect_bench.lua "$mode") ;;
    kjit)      [ -f build/jit/konnect/core.so ] || return 0
               lua_env jit; cmd=("${LUA_ENV[@]}" luajit bench/konnect_bench.lua "$mode") ;;
    luasocket) has_pkg lua-socket || return 0
               lua_env 5.4; cmd=("${LUA_ENV[@]}" lua5.4 bench/luasocket_bench.lua "$mode") ;;
    python)    has_pkg python3-requests || return 0
               cmd=("$PY" bench/python_bench.py requests "$mode") ;;
    node)      command -v node >/dev/null || return 0
               cmd=(NODE_EXTRA_CA_CERTS="$CA" node bench/node_bench.mjs "$mode") ;;
    cli)       cmd=("$PY" bench/python_bench.py curl-cli "$mode") ;;
  esac
  printf 'bench:   %-10s %-20s n=%-7s ' "$who" "$label" "$n"
  local t0 out
  t0=$(date +%s.%N)
  echo "== $who $label" >>"$LOG"
  if out=$(env "${common[@]}" "${cmd[@]}" 2>>"$LOG") && [ -n "$out" ]; then
    printf '%s\n' "$out" >>"$RES"
    awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1fs\n", t1 - t0 }'
  else
    fails=$((fails + 1))
    echo "FAILED (see $LOG)"
  fi
}

started=$(date +%s)
small() { echo $(( $1 / 10 < WARMUP ? ($1 / 10 > 0 ? $1 / 10 : 1) : WARMUP )); }

if want get_http "$WORKLOADS"; then
  say "(a) $N_GET sequential get over HTTP keep-alive"
  for c in raw k54 kjit luasocket python node; do
    run "$c" get_http get "$HTTP_BASE" "$N_GET" "$(small "$N_GET")" "$BENCH_ID"
  done
  run cli get_http get "$HTTP_BASE" "$N_CLI" 3 "$BENCH_ID"
fi

if want get_https "$WORKLOADS"; then
  say "(b) $N_TLS sequential get over HTTPS"
  for c in raw k54 kjit python node; do
    run "$c" get_https get "$HTTPS_BASE" "$N_TLS" "$(small "$N_TLS")" "$BENCH_ID"
  done
  # ssl.https: a new connection and TLS handshake per request; fewer iterations
  n=$(( N_TLS < N_CLI ? N_TLS : N_CLI ))
  run luasocket get_https get "$HTTPS_BASE" "$n" 3 "$BENCH_ID"
  run cli get_https get "$HTTPS_BASE" "$N_CLI" 3 "$BENCH_ID"
fi

if want cycle "$WORKLOADS"; then
  say "(c) $N_CYCLE create -> revoke -> delete cycles over HTTP"
  for c in raw k54 kjit luasocket python node; do
    run "$c" cycle_http cycle "$HTTP_BASE" "$N_CYCLE" "$(small "$N_CYCLE")" -
  done
  cli_cycles=$(( N_CLI / 3 > 0 ? N_CLI / 3 : 1 ))
  run cli cycle_http cycle "$HTTP_BASE" "$cli_cycles" 1 -
fi

if want memory "$WORKLOADS"; then
  say "(e) RSS after $MEM_AT and after $N_MEM get calls, one process"
  for c in k54 kjit; do
    run "$c" memory memory "$HTTP_BASE" "$N_MEM" 0 "$BENCH_ID"
  done
fi

if want latency "$WORKLOADS"; then
  say "(d) $N_REVOKE revokes with ${LATENCY_MS} ms server latency: sequential vs batch (concurrency $CONC)"
  # a user holds at most 10 tokens: start clean, create 10, revoke them in
  # turn (revoking a revoked token answers 200 on the fake, as on Konnect)
  api POST /__fake/reset >/dev/null
  ids=()
  for i in $(seq 1 10); do
    ids+=("$(api POST "/v3/users/$USER_ID/access-tokens" "{\"name\":\"bench-revoke-$i\",\"ttl_seconds\":86400}" \
      | first_id)")
  done
  IDS=$(IFS=,; echo "${ids[*]}")
  latency "$LATENCY_MS"
  for c in raw k54; do
    run "$c" revoke_seq revoke_seq "$HTTP_BASE" "$N_REVOKE" 2 "$IDS"
  done
  for c in k54 kjit; do
    run "$c" revoke_batch_http revoke_batch "$HTTP_BASE" "$N_REVOKE" 1 "$IDS"
    run "$c" revoke_batch_https revoke_batch "$HTTPS_BASE" "$N_REVOKE" 1 "$IDS"
  done
  latency 0
fi

elapsed=$(( $(date +%s) - started ))
stop_server
trap - EXIT

# ---- report ----------------------------------------------------------------
curl_ver=$(curl-config --version 2>/dev/null || echo "libcurl ?")
lua_env 5.4
core_ver=$(env "${LUA_ENV[@]}" lua5.4 -e 'print(require("konnect.core").version())' 2>/dev/null || echo "?")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
system="$(. /etc/os-release && echo "$PRETTY_NAME"), $(nproc) cores ($cpu), $curl_ver; $core_ver;"
system="$system $(lua5.4 -v 2>&1 | cut -d' ' -f1-2), $(luajit -v | cut -d' ' -f1-2), $("$PY" --version),"
system="$system Node $(node --version 2>/dev/null || echo -); load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$RUN/meta.json" <<EOF
import json, sys, time
json.dump({
  "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
  "system": """$system""", "elapsed_s": $elapsed,
  "n_get": $N_GET, "n_tls": $N_TLS, "n_cycle": $N_CYCLE, "n_cli": $N_CLI, "n_revoke": $N_REVOKE,
  "n_mem": $N_MEM, "mem_at": $MEM_AT, "concurrency": $CONC, "latency_ms": $LATENCY_MS,
  "batch_reps": $REPS, "warmup": $WARMUP, "command": "make bench",
}, open(sys.argv[1], "w"))
EOF
echo
env "${LUA_ENV[@]}" lua5.4 bench/report.lua "$RES" "$OUT" "$RUN/chart.dat" "$RUN/meta.json"

if ! command -v gnuplot >/dev/null; then
  say "gnuplot not found: no chart (apt-get install -y gnuplot-nox)"
else
  term=png
  gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 && term=pngcairo
  if gnuplot -e "datafile='$RUN/chart.dat'; outfile='$OUT/chart.png'; term='$term'" bench/chart.gp \
     2>>"$LOG"; then
    say "chart: ${OUT#"$root"/}/chart.png"
  else
    say "gnuplot failed (see $LOG)"
  fi
fi
say "results: ${OUT#"$root"/}/results.json, ${OUT#"$root"/}/results.txt ($elapsed s of benchmarks)"
if [ "$fails" -gt 0 ]; then
  say "$fails run(s) failed; see $LOG"
  exit 1
fi
