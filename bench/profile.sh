#!/usr/bin/env bash
# bench/profile.sh: where konnect.pats spends a `get` (workload (a)).
# Not part of `make bench` (valgrind is slow).  Needs build/5.4 (make build), and
# build/jit for PROFILE_LUA=luajit (make build LUA=luajit).
#   1. perf stat: lua5.4 konnect_bench get vs the raw libcurl loop (same N; whole process, start-up included)
#   2. callgrind: $PROFILE_LUA konnect_bench get; instructions per call (the whole run's total
#      minus a run with no calls), self cost per call by object and function
#   3. Lua sampling profile (VM instructions) of the same loop
#   4. the CLI's start-up: what `konnect-pats get USER TOKEN --json` requires, and
#      what loading konnect.core (libcurl and its libraries) costs next to `curl`
# Output under .run/bench-profile/; summary on stdout.
# Env: PROFILE_N (perf stat, 5000), PROFILE_N_CG (callgrind, 1000), PROFILE_LUA (the interpreter of
# steps 2 and 3: lua5.4, the default, or luajit).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$root"
RUN="$root/.run/bench-profile"
mkdir -p "$RUN/lib/5.4" "$RUN/lib/jit"
N=${PROFILE_N:-5000}
N_CG=${PROFILE_N_CG:-1000}
PLUA=${PROFILE_LUA:-lua5.4}
case $PLUA in lua5.4) PDIR=5.4 PINC=/usr/include/lua5.4 ;; luajit) PDIR=jit PINC=/usr/include/luajit-2.1 ;;
  *) echo "PROFILE_LUA must be lua5.4 or luajit" >&2; exit 2 ;; esac
USER_ID=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap

cc -O2 -g -Wall -Wextra -o "$RUN/raw_curl" bench/baselines/raw_curl.c -lcurl
cc -O2 -g -Wall -Wextra -fPIC -shared -I/usr/include/lua5.4 -o "$RUN/lib/5.4/benchclock.so" bench/lib/benchclock.c
[ "$PDIR" = 5.4 ] || cc -O2 -g -Wall -Wextra -fPIC -shared -I"$PINC" -o "$RUN/lib/$PDIR/benchclock.so" bench/lib/benchclock.c
# shellcheck source=bench/lib/common.sh
. "$root/bench/lib/common.sh"
lua_env 5.4
trap stop_server EXIT
stop_server
eval "$(fake_konnect/ctl start --dir "$RUN/fake")"
curl -sS -X POST "$FAKE_KONNECT_HTTP/__fake/reset" >/dev/null
ID=$(curl -sS -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  --data-binary '{"name":"bench","ttl_seconds":86400}' "$FAKE_KONNECT_HTTP/v3/users/$USER_ID/access-tokens" |
  grep -o '"id":"[0-9a-f-]*"' | head -1 | cut -d'"' -f4)
export BENCH_BASE=$FAKE_KONNECT_HTTP BENCH_USER=$USER_ID BENCH_TOKEN=$TOKEN BENCH_IDS=$ID BENCH_WARMUP=20

echo "== perf stat, $N gets (client process only; the server is another process)"
if perf stat -e task-clock true >/dev/null 2>&1; then
  for who in raw k54; do
    if [ $who = raw ]; then cmd=("$RUN/raw_curl" get "$BENCH_BASE" "$TOKEN" "$USER_ID" "$ID" "$N" 20)
    else cmd=(env "${LUA_ENV[@]}" BENCH_N="$N" lua5.4 bench/konnect_bench.lua get); fi
    perf stat -e task-clock,context-switches,cycles,instructions,page-faults -x, -o "$RUN/perf-$who.csv" \
      "${cmd[@]}" >"$RUN/perf-$who.json"
    awk -F, -v who="$who" -v n="$N" '$3 ~ /task-clock|instructions|cycles|context-switches|page-faults/ {
        v = $1; u = $3
        if (v ~ /not/) printf "  %-4s %-18s %10s\n", who, u, "n/a (no PMU in this VM)"
        else if (u == "task-clock") printf "  %-4s %-18s %10.1f µs CPU/call\n", who, u, v * 1000 / n
        else printf "  %-4s %-18s %10.2f /call\n", who, u, v / n }' "$RUN/perf-$who.csv"
  done
else
  echo "  perf stat is not usable here (kernel.perf_event_paranoid?)"
fi

echo "== callgrind, $PLUA get: $N_CG timed calls, minus a run with none (start-up)"
lua_env "$PDIR"
cg() { # N OUT
  env "${LUA_ENV[@]}" BENCH_N="$1" valgrind --tool=callgrind --callgrind-out-file="$2" \
    "$PLUA" bench/konnect_bench.lua get >/dev/null 2>>"$RUN/callgrind.log"
}
: >"$RUN/callgrind.log"
cg 0 "$RUN/callgrind0.out"
cg "$N_CG" "$RUN/callgrind.out"
awk -v n="$N_CG" '/^summary:/ { ir[++k] = $2 } END { printf "  %.0f instructions per get (total of the run with the calls minus the one without)\n", (ir[2] - ir[1]) / n }' \
  "$RUN/callgrind0.out" "$RUN/callgrind.out"
for f in callgrind0 callgrind; do
  callgrind_annotate --threshold=100 "$RUN/$f.out" 2>/dev/null >"$RUN/$f-self.txt"
done
callgrind_annotate --inclusive=yes "$RUN/callgrind.out" 2>/dev/null | sed -n '1,80p' >"$RUN/callgrind-inclusive.txt"
# self Ir per shared object and per function, start-up run subtracted, per call
awk -v n="$N_CG" '
  FNR == 1 { run++ }
  /^ *[0-9,]+ \([ 0-9.]+%\) / && !/PROGRAM TOTALS/ {
    ir = $1; gsub(",", "", ir)
    obj = $0; sub(/.*\[/, "", obj); sub(/\].*/, "", obj); if (obj == $0) obj = "?"
    sub(/.*\//, "", obj)
    fn = $0; sub(/^ *[0-9,]+ \([ 0-9.]+%\) +/, "", fn); sub(/ \[.*/, "", fn); sub(/.*:/, "", fn)
    sign = (run == 1) ? -1 : 1
    o[obj] += sign * ir; f[obj " " fn] += sign * ir; total += sign * ir
  }
  END {
    printf "  per call: %.0f Ir (self, all objects)\n  by object:\n", total / n
    for (k in o) if (o[k] / n >= 100) printf "    %9.0f Ir %5.1f%%  %s\n", o[k] / n, 100 * o[k] / total, k | "sort -rn"
    close("sort -rn")
    print "  top functions:"
    for (k in f) if (f[k] / n >= 300) printf "    %9.0f Ir %5.1f%%  %s\n", f[k] / n, 100 * f[k] / total, k | "sort -rn | head -25"
    close("sort -rn | head -25")
  }' "$RUN/callgrind0-self.txt" "$RUN/callgrind-self.txt"
echo "  konnect.core functions (csrc/, inclusive, whole run):"
{ grep -E 'csrc/[a-z]+\.c:' "$RUN/callgrind-inclusive.txt" || true; } | head -8 | sed 's/^/    /'

echo "== Lua sampling profile, $PLUA, $N gets"
env "${LUA_ENV[@]}" BENCH_N="$N" "$PLUA" bench/lua_profile.lua bench/konnect_bench.lua get \
  >/dev/null 2>"$RUN/lua-profile.txt"
sed 's/^/  /' "$RUN/lua-profile.txt"
lua_env 5.4
echo "== CLI start-up: konnect-pats get USER TOKEN --json (requires, inclusive CPU)"
KONNECT_TOKEN=$TOKEN KONNECT_SERVER_URL=$BENCH_BASE env -u LUA_PATH -u LUA_CPATH \
  LUA_INIT_5_4="@$root/bench/lib/require_profile.lua" lua5.4 bin/konnect-pats get "$USER_ID" "$ID" --json \
  2>&1 >/dev/null | sed 's/^/  /'
echo "  whole process, median of 10 runs (CPU ms: user + system, os.wait4):"
cpu_ms() { # CMD... -> median CPU ms and median wall ms of 10 runs
  /usr/bin/python3 - "$@" <<'PYEOF'
import os, subprocess, sys, time
cpu, wall = [], []
for _ in range(11):
    t0 = time.monotonic()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    wall.append((time.monotonic() - t0) * 1000)
    cpu.append((ru.ru_utime + ru.ru_stime) * 1000)
cpu, wall = sorted(cpu[1:]), sorted(wall[1:])
print("CPU %.2f ms, wall %.2f ms" % ((cpu[4] + cpu[5]) / 2, (wall[4] + wall[5]) / 2))
PYEOF
}
printf '    %-44s %s\n' "lua5.4 -e ''" "$(cpu_ms lua5.4 -e '')"
printf '    %-44s %s\n' "lua5.4 -e 'require \"konnect.pats\"'" \
  "$(cpu_ms env "${LUA_ENV[@]}" lua5.4 -e 'require "konnect.pats"')"
printf '    %-44s %s\n' "lua5.4 -e 'require \"konnect.core\"'" \
  "$(cpu_ms env "${LUA_ENV[@]}" lua5.4 -e 'require "konnect.core"')"
printf '    %-44s %s\n' "curl --version" "$(cpu_ms curl --version)"
printf '    %-44s %s\n' "curl -s (one get)" "$(cpu_ms curl -s -H "Authorization: Bearer $TOKEN" \
  "$BENCH_BASE/v3/users/$USER_ID/access-tokens/$ID")"
printf '    %-44s %s\n' "konnect-pats get --json (5.4)" "$(KONNECT_TOKEN=$TOKEN KONNECT_SERVER_URL=$BENCH_BASE \
  cpu_ms env -u LUA_PATH -u LUA_CPATH lua5.4 bin/konnect-pats get "$USER_ID" "$ID" --json)"
echo "(files: ${RUN#"$root"/}/)"
