#!/usr/bin/env bash
# bench/run.sh: lua-konnect against the alternatives, all against one fake
# Konnect server, in one run.  `make bench` builds konnect.core for Lua 5.4 and
# LuaJIT, then runs this.  Results: bench/results/{results.json,results.txt,chart.png}.
#
# Method (what makes a figure trustworthy on a shared 2-core machine):
#   - paired rounds: every cell is the median of BENCH_ROUNDS rounds; each round
#     runs every contender of the workload once, in an order that rotates from
#     round to round; ratios are taken within a round, then the median; the
#     spread (min–max over the rounds) is printed next to every median;
#   - client CPU (user + system, getrusage of the client process over the timed
#     loop) next to wall time;
#   - the server pinned to CPU 1 and the client to CPU 0 (taskset) when the
#     machine has 2 cores or more (BENCH_PIN=off to disable); the output says so;
#   - connections (and TLS handshakes) counted on the server side: nginx's
#     connection serial, logged per request by the bench's own log format
#     (bench/lib/nginx_wrap.sh).
#
# Counts (env; BENCH_SCALE multiplies every default, e.g. BENCH_SCALE=0.2):
#   BENCH_ROUNDS=5       paired rounds per workload (scaling: BENCH_SCALING_ROUNDS=3)
#   BENCH_N_GET=10000    (a) sequential get, HTTP keep-alive (calls over all rounds)
#   BENCH_PAIR_ROUNDS=15 (a') raw libcurl, konnect.core+cjson and konnect.pats (5.4, LuaJIT) alone, rounds of N_GET/2 calls: the targets
#   BENCH_N_TLS=4000     (b) sequential get, HTTPS
#   BENCH_N_CYCLE=1000   (c) create -> revoke -> delete cycles
#   BENCH_N_CLI=300      per-request-process contenders (curl CLI; TLS per request)
#   BENCH_N_BATCH=200 BENCH_BATCH_CONCURRENCY=64 BENCH_LATENCY_MS=20   (d) batch
#   BENCH_SCALING="1 10 100 1000"   (f) batch sizes, library default and 64 concurrency
#   BENCH_N_MEM=100000   (e) RSS after N_MEM calls and N_MEM batched calls (batched: on to
#                        BENCH_N_MEM_BATCH = 3 × N_MEM, to see whether it keeps growing)
#   BENCH_CLI_ROUNDS=30  (g) konnect-pats get --json vs curl -s, whole processes
#   BENCH_WARMUP=50      untimed calls before each timed loop
#   BENCH_OUT=DIR        where results.{json,txt} and chart.png go (default bench/results)
# Filters: BENCH_CONTENDERS="raw core54 corejit k54 kjit luacurl luahttp luasocket python node cli"
#          BENCH_WORKLOADS="get_http get_https cycle batch scaling memory cli_start nginx floors"
# Inside nginx: bench/nginx/run.sh, when present, is run with BENCH_NGINX_ROUNDS
# (max(BENCH_ROUNDS, 5)), BENCH_NGINX_N (2000, scaled) and BENCH_NGINX_JSON=FILE;
# FILE's per-round figures ({"us": {contender: [µs per round]}, "cpu_us": …})
# join the results as workload nginx_get (reference: contender "floor"); its
# printed summary is kept in bench/results/nginx.txt.
# Floors (issue 18's targets): bench/floors.sh, its own static upstream, run last;
# its table (instructions per get against libcurl+lua-cjson and lua-curl+cjson,
# the nginx CPU ratio, each target met or not) is printed after the report and
# kept in bench/results/floors.{txt,json}.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$root"

RUN="$root/.run/bench"
OUT=${BENCH_OUT:-"$here/results"}
RES="$RUN/results.jsonl"
LOG="$RUN/bench.log"
mkdir -p "$RUN/lib/5.4" "$RUN/lib/jit" "$OUT"
: > "$RES"
: > "$LOG"

scale=${BENCH_SCALE:-1}
scaled() { awk -v v="$1" -v s="$scale" 'BEGIN { n = int(v * s + 0.5); if (n < 1) n = 1; print n }'; }
ROUNDS=${BENCH_ROUNDS:-5}
SROUNDS=${BENCH_SCALING_ROUNDS:-3}
per_round() { local n=$(( $1 / ROUNDS )); [ "$n" -ge 1 ] || n=1; echo "$n"; }
N_GET=$(per_round "${BENCH_N_GET:-$(scaled 10000)}")
N_TLS=$(per_round "${BENCH_N_TLS:-$(scaled 4000)}")
N_CYCLE=$(per_round "${BENCH_N_CYCLE:-$(scaled 1000)}")
N_CLI=$(per_round "${BENCH_N_CLI:-$(scaled 300)}")
N_BATCH=${BENCH_N_BATCH:-200}
BATCH_CONC=${BENCH_BATCH_CONCURRENCY:-64}
SCALING=${BENCH_SCALING:-1 10 100 1000}
N_MEM=${BENCH_N_MEM:-$(scaled 100000)}
CLI_ROUNDS=${BENCH_CLI_ROUNDS:-$(scaled 30)}
[ "$CLI_ROUNDS" -ge 3 ] || CLI_ROUNDS=3
LATENCY_MS=${BENCH_LATENCY_MS:-20}
WARMUP=${BENCH_WARMUP:-50}
CONTENDERS=${BENCH_CONTENDERS:-raw core54 corejit k54 kjit luacurl luahttp luasocket python node cli}
WORKLOADS=${BENCH_WORKLOADS:-get_http get_https cycle batch scaling memory cli_start nginx floors}
PY=/usr/bin/python3
USER_ID=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap

say() { printf 'bench: %s\n' "$*"; }
want() { case " ${2//,/ } " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has_pkg() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'; }

# ---- tools ---------------------------------------------------------------
missing=()
for p in lua-socket lua-sec lua-cjson python3-requests gnuplot-nox lua-curl lua-http; do
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

# ---- pinning -------------------------------------------------------------
PIN="not pinned"
CLIENT=()
SERVER_CPU=""
if [ "${BENCH_PIN:-auto}" != off ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_CPU=1
  CLIENT=(taskset -c 0)
  PIN="server (nginx) pinned to CPU 1, client to CPU 0 (taskset)"
elif [ "$(nproc)" -lt 2 ]; then
  PIN="not pinned ($(nproc) core)"
fi
say "$PIN"

# ---- the fake Konnect ----------------------------------------------------
# Started by fake_konnect/ctl as usual; $NGINX points at our wrapper, which
# adds the connection log and the server's CPU affinity.
trap stop_server EXIT
stop_server
rm -f "$RUN/fake/conn.log"
eval "$(BENCH_SERVER_CPU=$SERVER_CPU NGINX="$root/bench/lib/nginx_wrap.sh" fake_konnect/ctl start --dir "$RUN/fake")"
HTTP_BASE=$FAKE_KONNECT_HTTP
HTTPS_BASE=$FAKE_KONNECT_HTTPS
HTTPS_PORT=${HTTPS_BASE##*:}
CA=$FAKE_KONNECT_CA
CONN_LOG="$RUN/fake/conn.log"
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

# server-side connection count since a mark (a line count of the conn log):
# distinct nginx connection serials; those on the TLS port are TLS handshakes
conn_mark() { [ -f "$CONN_LOG" ] && wc -l <"$CONN_LOG" || echo 0; }
conn_count() { # MARK -> "CONNS TLS_CONNS REQUESTS"
  [ -f "$CONN_LOG" ] || { echo "null null null"; return; }
  tail -n +"$(( $1 + 1 ))" "$CONN_LOG" | awk -v tls="$HTTPS_PORT" '
    { if (!($1 in seen)) { seen[$1] = 1; c++; if ($2 == tls) t++ } r++ }
    END { printf "%d %d %d\n", c, t, r }'
}

# the server's CPU time so far, in µs: the run time (/proc/PID/schedstat, ns)
# of the fake's nginx workers, so each run also reports what the server spent
srv_cpu() {
  local master t=0 p a
  master=$(cat "$RUN/fake/nginx.pid" 2>/dev/null) || { echo null; return; }
  for p in $(pgrep -P "$master"); do
    read -r a _ <"/proc/$p/schedstat" 2>/dev/null && t=$((t + a))
  done
  echo $((t / 1000))
}

# ---- running one contender on one workload -------------------------------
fails=0
ROUND=0
run() { # CONTENDER LABEL MODE BASE N WARMUP IDS [ENV=V...]
  local who=$1 label=$2 mode=$3 base=$4 n=$5 warm=$6 ids=$7 ca=""
  shift 7
  want "$who" "$CONTENDERS" || return 0
  case "$base" in https://*) ca=$CA ;; esac
  local common=(BENCH_BASE="$base" BENCH_USER="$USER_ID" BENCH_TOKEN="$TOKEN" BENCH_IDS="$ids"
                BENCH_N="$n" BENCH_WARMUP="$warm" BENCH_CA="$ca" BENCH_LABEL="$label" "$@")
  local cmd
  case "$who" in
    raw)       cmd=("$RUN/raw_curl" "$mode" "$base" "$TOKEN" "$USER_ID" "$ids" "$n" "$warm" "$ca") ;;
    k54)       lua_env 5.4; cmd=("${LUA_ENV[@]}" lua5.4 bench/konnect_bench.lua "$mode") ;;
    core54)    lua_env 5.4; cmd=("${LUA_ENV[@]}" lua5.4 bench/baselines/core_floor.lua "$mode") ;;
    corejit)   [ -f build/jit/konnect/core.so ] || return 0
               lua_env jit; cmd=("${LUA_ENV[@]}" luajit bench/baselines/core_floor.lua "$mode") ;;
    kjit)      [ -f build/jit/konnect/core.so ] || return 0
               lua_env jit; cmd=("${LUA_ENV[@]}" luajit bench/konnect_bench.lua "$mode") ;;
    luacurl)   has_pkg lua-curl || return 0
               lua_env jit; cmd=("${LUA_ENV[@]}" luajit bench/luacurl_bench.lua "$mode") ;;
    luahttp)   has_pkg lua-http || return 0
               lua_env jit; cmd=("${LUA_ENV[@]}" luajit bench/luahttp_bench.lua "$mode") ;;
    luasocket) has_pkg lua-socket || return 0
               lua_env 5.4; cmd=("${LUA_ENV[@]}" lua5.4 bench/luasocket_bench.lua "$mode") ;;
    python)    has_pkg python3-requests || return 0
               cmd=("$PY" bench/python_bench.py requests "$mode") ;;
    node)      command -v node >/dev/null || return 0
               cmd=(NODE_EXTRA_CA_CERTS="$CA" node bench/node_bench.mjs "$mode") ;;
    cli)       cmd=("$PY" bench/python_bench.py curl-cli "$mode") ;;
  esac
  echo "== round $ROUND $who $label" >>"$LOG"
  local out mark cpu0 cpu1
  mark=$(conn_mark)
  cpu0=$(srv_cpu)
  if out=$(env "${common[@]}" "${CLIENT[@]}" env "${cmd[@]}" 2>>"$LOG") && [ -n "$out" ]; then
    cpu1=$(srv_cpu)
    [ "$cpu0" = null ] || [ "$cpu1" = null ] && cpu1=null || cpu1=$((cpu1 - cpu0))
    # shellcheck disable=SC2046
    set -- $(conn_count "$mark")
    printf '%s\n' "${out%\}},\"round\":$ROUND,\"server_conns\":$1,\"server_tls_conns\":$2,\"server_requests\":$3,\"server_cpu_us\":$cpu1}" >>"$RES"
  else
    fails=$((fails + 1))
    say "  $who $label round $ROUND FAILED (see $LOG)"
  fi
}

# paired rounds: rounds N WORKLOAD-FUNCTION CONTENDER...; the function is
# called as FN CONTENDER for each contender, in an order rotating per round
rounds() {
  local n=$1 fn=$2 r k i m
  shift 2
  local cs=("$@")
  m=${#cs[@]}
  for ((r = 1; r <= n; r++)); do
    ROUND=$r
    k=$(( (r - 1) % m ))
    for ((i = 0; i < m; i++)); do "$fn" "${cs[$(( (k + i) % m ))]}"; done
    printf '.'
  done
  echo
}

started=$(date +%s)
small() { echo $(( $1 / 10 < WARMUP ? ($1 / 10 > 0 ? $1 / 10 : 1) : WARMUP )); }

if want get_http "$WORKLOADS"; then
  say "(a) get over HTTP keep-alive: $ROUNDS paired rounds of $N_GET calls per contender (curl CLI: $N_CLI)"
  w_get_http() {
    case $1 in
      cli) run cli get_http get "$HTTP_BASE" "$N_CLI" 2 "$BENCH_ID" ;;
      *)   run "$1" get_http get "$HTTP_BASE" "$N_GET" "$(small "$N_GET")" "$BENCH_ID" ;;
    esac
  }
  rounds "$ROUNDS" w_get_http raw core54 corejit k54 kjit luacurl luahttp luasocket python node cli
  # The targets' ratios: raw libcurl, 5.4 and LuaJIT alone, back to back, in
  # more and shorter rounds (a pair runs within a second or so: a change of
  # load from outside the bench hits both runs of a pair).
  PAIR_ROUNDS=${BENCH_PAIR_ROUNDS:-$(( 3 * ROUNDS ))}
  N_PAIR=$(( N_GET / 2 > 0 ? N_GET / 2 : 1 ))
  say "(a') the same, raw libcurl / konnect.core+cjson / konnect.pats only: $PAIR_ROUNDS paired rounds of $N_PAIR calls (the targets)"
  w_pair() { run "$1" get_http_pair get "$HTTP_BASE" "$N_PAIR" "$(small "$N_PAIR")" "$BENCH_ID"; }
  rounds "$PAIR_ROUNDS" w_pair raw core54 corejit k54 kjit
fi

if want get_https "$WORKLOADS"; then
  say "(b) get over HTTPS: $ROUNDS paired rounds of $N_TLS calls (a TLS handshake per request: $N_CLI)"
  w_get_https() {
    case $1 in
      cli|luasocket|luahttp) run "$1" get_https get "$HTTPS_BASE" "$N_CLI" 2 "$BENCH_ID" ;;
      *) run "$1" get_https get "$HTTPS_BASE" "$N_TLS" "$(small "$N_TLS")" "$BENCH_ID" ;;
    esac
  }
  rounds "$ROUNDS" w_get_https raw k54 kjit luacurl luahttp luasocket python node cli
fi

if want cycle "$WORKLOADS"; then
  say "(c) create -> revoke -> delete over HTTP: $ROUNDS paired rounds of $N_CYCLE cycles"
  w_cycle() { run "$1" cycle_http cycle "$HTTP_BASE" "$N_CYCLE" "$(small "$N_CYCLE")" -; }
  rounds "$ROUNDS" w_cycle raw k54 kjit luacurl luahttp luasocket python node
fi

if want batch "$WORKLOADS"; then
  say "(d) one cold batch of $N_BATCH gets, ${LATENCY_MS} ms server latency: $ROUNDS paired rounds"
  latency "$LATENCY_MS"
  w_batch() {
    case $1 in
      k54-http)     run k54 batch_http batch "$HTTP_BASE" "$N_BATCH" 0 "$BENCH_ID" BENCH_CONCURRENCY="$BATCH_CONC" ;;
      kjit-http)    run kjit batch_http batch "$HTTP_BASE" "$N_BATCH" 0 "$BENCH_ID" BENCH_CONCURRENCY="$BATCH_CONC" ;;
      k54-https)    run k54 batch_https batch "$HTTPS_BASE" "$N_BATCH" 0 "$BENCH_ID" BENCH_CONCURRENCY="$BATCH_CONC" ;;
      k54-https-d)  run k54 batch_https_default batch "$HTTPS_BASE" "$N_BATCH" 0 "$BENCH_ID" ;;
      raw-http)     run raw batch_http batch "$HTTP_BASE" "$N_BATCH" 0 "$BENCH_ID" BENCH_CONCURRENCY="$BATCH_CONC" ;;
      raw-https)    run raw batch_https batch "$HTTPS_BASE" "$N_BATCH" 0 "$BENCH_ID" BENCH_CONCURRENCY="$BATCH_CONC" ;;
    esac
  }
  rounds "$ROUNDS" w_batch raw-http k54-http kjit-http raw-https k54-https k54-https-d
  latency 0
fi

if want scaling "$WORKLOADS"; then
  say "(f) scaling: one cold batch of N gets (N = $SCALING), ${LATENCY_MS} ms latency, library default and 64 concurrency: $SROUNDS paired rounds"
  latency "$LATENCY_MS"
  for sn in $SCALING; do
    w_scale() {
      run k54 "scale_${sn}_c$1" batch "$HTTP_BASE" "$sn" 0 "$BENCH_ID" BENCH_CONCURRENCY="$1"
    }
    rounds "$SROUNDS" w_scale default 64
  done
  latency 0
fi

if want memory "$WORKLOADS"; then
  # batched: the RSS of a process that keeps 1000 results alive at a time steps
  # up while the GC's heap peaks find their height (LuaJIT: up to ~90 batches)
  # and swings by ±0.5 MiB (Lua 5.4); so the batched run goes on to
  # N_MEM_BATCH (3 × N_MEM), its mark is the RSS after N_MEM calls, and flat
  # means: from there on it does not keep growing (bench/report.lua)
  N_MEM_BATCH=${BENCH_N_MEM_BATCH:-$(( 3 * N_MEM ))}
  say "(e) RSS over $N_MEM get calls, and over $N_MEM_BATCH calls in batches of 1000, one process each"
  mem_at=$(( N_MEM / 10 > 0 ? N_MEM / 10 : 1 ))
  mem_batch_at=$(( N_MEM < N_MEM_BATCH ? N_MEM : mem_at ))
  ROUND=1
  for c in k54 kjit; do
    run "$c" memory memory "$HTTP_BASE" "$N_MEM" 0 "$BENCH_ID" BENCH_MEM_AT="$mem_at"
    run "$c" memory_batch memory_batch "$HTTP_BASE" "$N_MEM_BATCH" 0 "$BENCH_ID" BENCH_MEM_AT="$mem_batch_at"
  done
fi

if want cli_start "$WORKLOADS"; then
  say "(g) one get as a whole process: konnect-pats get --json vs curl -s, $CLI_ROUNDS paired rounds"
  lua_env 5.4
  # The installed CLI, as a user runs it: `luarocks make` into trees of our own
  # (Lua 5.4; a 5.1 tree built and run by LuaJIT), from a copy of the checkout
  # (rock.mk writes build/rock/, which another build may share), and the
  # checkout's `lua bin/konnect-pats` (sources, never the bundle) next to them.
  cli_trees=()
  rm -rf "$RUN/cli-src"
  mkdir -p "$RUN/cli-src"
  git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$RUN/cli-src"
  for t in 5.4:lua5.4 5.1:luajit; do
    lv=${t%%:*} interp=${t#*:}
    tree=$RUN/cli-tree-$interp
    rm -rf "$tree" "$RUN/cli-src/build"
    extra=()
    [ "$interp" = luajit ] && extra=(LUA="$(command -v luajit)" LUA_INCDIR=/usr/include/luajit-2.1)
    if (cd "$RUN/cli-src" && luarocks --lua-version="$lv" make --deps-mode=none --tree "$tree" \
          lua-konnect-scm-1.rockspec "${extra[@]}") >"$RUN/cli-tree-$interp.log" 2>&1; then
      cli_trees+=("$interp=$tree")
    else
      say "  luarocks make for $interp failed (see $RUN/cli-tree-$interp.log): its installed CLI is skipped"
    fi
  done
  spec="$RUN/cli_start.json"
  "$PY" - "$spec" "$CLI_ROUNDS" "$HTTP_BASE" "$TOKEN" "$USER_ID" "$BENCH_ID" "${cli_trees[@]}" <<'PYEOF'
import json, sys
spec, rounds, base, token, user, tid = sys.argv[1:7]
trees = dict(a.split("=", 1) for a in sys.argv[7:])
cli_env = {"KONNECT_TOKEN": token, "KONNECT_SERVER_URL": base}
# each CLI finds its modules itself; nothing from the caller's Lua setup
cli_unset = ["LUA_PATH", "LUA_CPATH", "LUA_INIT", "LUA_INIT_5_4", "LUA_PATH_5_4", "LUA_CPATH_5_4",
             "LUA_PATH_5_1", "LUA_CPATH_5_1"]
get = ["get", user, tid, "--json"]
commands = []
for name, interp in (("5.4", "lua5.4"), ("LuaJIT", "luajit")):
    if interp in trees:  # the installed command: its shebang names the tree's interpreter
        commands.append({"contender": "konnect-pats %s installed" % name,
                         "argv": [trees[interp] + "/bin/konnect-pats"] + get, "env": cli_env, "unset": cli_unset})
    commands.append({"contender": "konnect-pats %s checkout" % name, "argv": [interp, "bin/konnect-pats"] + get,
                     "env": cli_env, "unset": cli_unset})
commands.append({"contender": "curl -s", "argv": ["curl", "-s", "-H", "Authorization: Bearer " + token,
                                                  "-H", "Accept: application/json",
                                                  base + "/v3/users/" + user + "/access-tokens/" + tid]})
json.dump({"workload": "cli_get", "rounds": int(rounds), "warmup": 1, "commands": commands}, open(spec, "w"))
PYEOF
  if ! "${CLIENT[@]}" "$PY" bench/lib/procbench.py "$spec" >>"$RES" 2>>"$LOG"; then
    fails=$((fails + 1))
    say "  cli_start FAILED (a command exited non-zero; see $RES)"
  fi
fi

if want nginx "$WORKLOADS"; then
  if [ -f bench/nginx/run.sh ]; then
    say "(h) get inside nginx: bench/nginx/run.sh (its own fake and nginx, pinned by it)"
    rm -f "$RUN/nginx.json"
    if BENCH_NGINX_ROUNDS=${BENCH_NGINX_ROUNDS:-$(( ROUNDS > 5 ? ROUNDS : 5 ))} \
       BENCH_NGINX_N=${BENCH_NGINX_N:-$(scaled 2000)} BENCH_NGINX_JSON="$RUN/nginx.json" \
       bash bench/nginx/run.sh >"$RUN/nginx.out" 2>>"$LOG"; then
      cp "$RUN/nginx.out" "$OUT/nginx.txt"
      # its summary (us / cpu_us per contender, one entry per round) as result lines
      "$PY" - "$RUN/nginx.json" >>"$RES" <<'PYEOF' || say "  bench/nginx/run.sh: no usable JSON summary"
import json, sys
d = json.load(open(sys.argv[1]))
for name, us in d["us"].items():
    cpu = d.get("cpu_us", {}).get(name, [])
    for i, v in enumerate(us):
        print(json.dumps({"workload": "nginx_get", "contender": name, "round": i + 1, "n": d.get("n"),
                          "mean_us": v, "cpu_us": cpu[i] if i < len(cpu) else None}))
PYEOF
    else
      fails=$((fails + 1))
      say "  bench/nginx/run.sh FAILED (see $LOG, $RUN/nginx.out)"
    fi
  else
    say "(h) get inside nginx: bench/nginx/run.sh not present, skipped"
  fi
fi

floors_ok=false
if want floors "$WORKLOADS"; then
  say "(i) floors: bash bench/floors.sh (static upstream; callgrind, paired rounds, inside nginx)"
  if FLOORS_OUT="$OUT" bash bench/floors.sh >"$RUN/floors.out" 2>>"$LOG"; then
    floors_ok=true
  else
    fails=$((fails + 1))
    say "  bench/floors.sh FAILED (see $LOG, .run/floors/floors.log)"
  fi
fi

elapsed=$(( $(date +%s) - started ))
stop_server
trap - EXIT

# ---- report ----------------------------------------------------------------
curl_ver=$(curl-config --version 2>/dev/null || echo "libcurl ?")
lua_env 5.4
core_ver=$(env "${LUA_ENV[@]}" lua5.4 -e 'print(require("konnect.core").version())' 2>/dev/null || echo "?")
default_conc=$(env "${LUA_ENV[@]}" lua5.4 -e 'print(require("konnect.limits").BATCH_CONCURRENCY)' 2>/dev/null || echo 8)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
system="$(. /etc/os-release && echo "$PRETTY_NAME"), $(nproc) cores ($cpu), $curl_ver; $core_ver;"
system="$system $(lua5.4 -v 2>&1 | cut -d' ' -f1-2), $(luajit -v | cut -d' ' -f1-2), $("$PY" --version),"
system="$system Node $(node --version 2>/dev/null || echo -); load avg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$RUN/meta.json" <<EOF
import json, sys, time
json.dump({
  "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
  "system": """$system""", "pinning": "$PIN", "elapsed_s": $elapsed,
  "rounds": $ROUNDS, "scaling_rounds": $SROUNDS, "cli_rounds": $CLI_ROUNDS,
  "n_get": $N_GET, "n_tls": $N_TLS, "n_cycle": $N_CYCLE, "n_cli": $N_CLI, "n_batch": $N_BATCH,
  "batch_concurrency": $BATCH_CONC, "default_concurrency": $default_conc, "scaling": "$SCALING",
  "n_mem": $N_MEM, "latency_ms": $LATENCY_MS, "warmup": $WARMUP, "scale": "$scale", "command": "make bench",
}, open(sys.argv[1], "w"))
EOF
echo
env "${LUA_ENV[@]}" lua5.4 bench/report.lua "$RES" "$OUT" "$RUN" "$RUN/meta.json"

if ! command -v gnuplot >/dev/null; then
  say "gnuplot not found: no chart (apt-get install -y gnuplot-nox)"
else
  term=png
  gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 && term=pngcairo
  gp="datafile='$RUN/chart.dat'; outfile='$OUT/chart.png'; term='$term'"
  [ "$(grep -vc '^#' "$RUN/scaling.dat")" -gt 0 ] && gp="$gp; scalefile='$RUN/scaling.dat'"
  if [ "$(grep -vc '^#' "$RUN/chart.dat")" -eq 0 ]; then
    say "no per-request figures: no chart"
  elif gnuplot -e "$gp" bench/chart.gp 2>>"$LOG"; then
    say "chart: ${OUT#"$root"/}/chart.png"
  else
    say "gnuplot failed (see $LOG)"
  fi
fi
if $floors_ok; then
  echo
  cat "$RUN/floors.out"
  echo
fi
say "results: ${OUT#"$root"/}/results.json, ${OUT#"$root"/}/results.txt ($elapsed s of benchmarks)"
$floors_ok && say "floors: ${OUT#"$root"/}/floors.txt, ${OUT#"$root"/}/floors.json"
if [ "$fails" -gt 0 ]; then
  say "$fails run(s) failed; see $LOG"
  exit 1
fi
