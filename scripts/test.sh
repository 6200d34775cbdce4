#!/usr/bin/env bash
# The test run behind `make test`: builds the core for every interpreter,
# starts the fake Konnect server, runs the busted suite once per Lua
# interpreter, the fake's contract spec once, the nginx suite, the hostile
# suite on both transports, the decoding fuzz, the rock check, the secret scan
# and luacheck.  Prints one line per stage with its duration, a total, and
# ends with one line "N passed, N failed".
#   TEST_LUAS="lua5.4 luajit" bash scripts/test.sh   (or arguments) limits the interpreters
set -u
cd "$(dirname "$0")/.."
LUAS=${*:-${TEST_LUAS:-"lua5.4 luajit lua5.1 lua5.3"}}
RUN=.run/test
mkdir -p "$RUN"
rm -f "$RUN"/*.log

now() { date +%s.%N; }
T0=$(now)
STAGES=()
passed=0; failed=0
stage_start() { echo "== $1"; S0=$(now); SNAME=$1; SP=$passed; SF=$failed; }
stage_end() {
  local d
  d=$(awk -v a="$S0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  STAGES+=("$(printf '%-28s %6ss  %5d passed, %d failed' "$SNAME" "$d" $((passed - SP)) $((failed - SF)))")
}
count() { # log file -> adds to passed/failed from busted's summary line
  local line s f e
  line=$(grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$1" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); echo "  (no summary from busted: counted as one failure)"; return; fi
  s=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $4}'); e=$(echo "$line" | awk '{print $7}')
  passed=$((passed + s)); failed=$((failed + f + e))
}
lua_dir() { case $1 in luajit) echo jit ;; lua*) echo "${1#lua}" ;; esac; }
busted_env() { # interpreter -> runs the rest of the line with its paths set
  local dir; dir=$(lua_dir "$1"); shift
  LUA_CPATH="$PWD/build/$dir/?.so;;" LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/spec/?.lua;$PWD/?.lua;;" "$@"
}

stage_start "build (C core, 4 interpreters)"
for lua in lua5.4 luajit lua5.1 lua5.3; do
  # a build is not a test: only a failure counts
  make --no-print-directory -s build LUA=$lua > "$RUN/build-$lua.txt" 2>&1 || { failed=$((failed + 1)); cat "$RUN/build-$lua.txt"; }
done
stage_end

fake_dir=$PWD/$RUN/fake
if ! out=$(fake_konnect/ctl start --dir "$fake_dir"); then
  echo "could not start the fake Konnect server"; echo "0 passed, 1 failed"; exit 1
fi
eval "$out"
trap 'fake_konnect/ctl stop --dir "$fake_dir" >/dev/null 2>&1' EXIT

for lua in $LUAS; do
  stage_start "busted on $lua"
  echo "   ($($lua -v 2>&1 | head -n 1))"
  log=$RUN/busted-$(lua_dir $lua).log
  busted_env $lua env KONNECT_TEST_LUA=$lua $lua /usr/bin/busted -o plainTerminal spec 2>&1 | tee "$log"
  count "$log"
  stage_end
done

stage_start "fake Konnect contract (lua5.4)"
log=$RUN/contract.log
lua5.4 /usr/bin/busted -o plainTerminal fake_konnect/spec/contract_spec.lua 2>&1 | tee "$log"
count "$log"
stage_end

if [ -x spec/nginx/run.sh ]; then
  stage_start "OpenResty / nginx"
  log=$RUN/nginx.log
  bash spec/nginx/run.sh 2>&1 | tee "$log"
  count "$log"
  stage_end
fi

stage_start "hostile servers (curl + cosocket)"
log=$RUN/hostile.log
bash spec/hostile/run.sh 2>&1 | tee "$log"
# one busted summary per transport
for t in curl cosocket; do
  sed -n "/^-- transport $t\$/,/^-- transport /p" "$log" > "$RUN/hostile-$t.txt"
  count "$RUN/hostile-$t.txt"
done
stage_end

stage_start "decoding fuzz (lua5.4, luajit)"
for lua in lua5.4 luajit; do
  log=$RUN/fuzz-$(lua_dir $lua).log
  busted_env $lua env LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/spec/fuzz/?.lua;;" \
    $lua /usr/bin/busted -o plainTerminal --pattern=_fuzz spec/fuzz 2>&1 | tee "$log"
  count "$log"
done
stage_end

stage_start "LuaRocks install"
if bash scripts/rock-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
stage_end

stage_start "no secret in any test output"
# created tokens are kpat_ + 45 random characters; the fixtures are kpat_fake_…_bootstrap
if grep -EHn '[ks]pat_[A-Za-z0-9]{20,}|[ks]pat_fake_[a-z]+_bootstrap' "$RUN"/*.log; then
  failed=$((failed + 1)); echo "a secret appeared in the test output above"
else
  passed=$((passed + 1)); echo "none found"
fi
stage_end

stage_start "luacheck"
if luacheck -q lua spec bin fake_konnect examples bench > "$RUN/luacheck.txt" 2>&1; then
  passed=$((passed + 1)); echo "luacheck: clean"
else
  failed=$((failed + 1)); cat "$RUN/luacheck.txt"
fi
stage_end

echo "== stages"
for s in "${STAGES[@]}"; do echo "  $s"; done
echo "  $(printf '%-28s %6ss' total "$(awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
