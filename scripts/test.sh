#!/usr/bin/env bash
# The test run behind `make test`: starts the fake Konnect server, runs the
# busted suite once per Lua interpreter, lints, stops the server, and ends with
# one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
LUAS=${*:-"lua5.4 luajit lua5.1 lua5.3"}
RUN=.run/test
mkdir -p "$RUN"

fake_dir=$PWD/$RUN/fake
if ! out=$(fake_konnect/ctl start --dir "$fake_dir"); then
  echo "could not start the fake Konnect server"; echo "0 passed, 1 failed"; exit 1
fi
eval "$out"
trap 'fake_konnect/ctl stop --dir "$fake_dir" >/dev/null 2>&1' EXIT

passed=0; failed=0
count() { # log file -> adds to passed/failed from busted's summary line
  local line s f e
  line=$(grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$1" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); echo "  (no summary from busted: counted as one failure)"; return; fi
  s=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $4}'); e=$(echo "$line" | awk '{print $7}')
  passed=$((passed + s)); failed=$((failed + f + e))
}

for lua in $LUAS; do
  case $lua in luajit) dir=jit ;; lua*) dir=${lua#lua} ;; esac
  echo "== busted on $lua ($($lua -v 2>&1 | head -n 1))"
  log=$RUN/busted-$dir.log
  LUA_CPATH="$PWD/build/$dir/?.so;;" LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/spec/?.lua;;" \
    KONNECT_TEST_LUA=$lua $lua /usr/bin/busted -o plainTerminal spec 2>&1 | tee "$log"
  count "$log"
done

if [ -d spec/nginx ] && [ -x spec/nginx/run.sh ]; then
  echo "== OpenResty / nginx integration"
  log=$RUN/nginx.log
  bash spec/nginx/run.sh 2>&1 | tee "$log"
  count "$log"
fi

echo "== LuaRocks install"
if bash scripts/rock-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== no secret in any test output"
# created tokens are kpat_ + 45 random characters; the fixtures are kpat_fake_…_bootstrap
if grep -EHn '[ks]pat_[A-Za-z0-9]{20,}|[ks]pat_fake_[a-z]+_bootstrap' "$RUN"/*.log; then
  failed=$((failed + 1)); echo "a secret appeared in the test output above"
else
  passed=$((passed + 1)); echo "none found"
fi

echo "== luacheck"
if luacheck -q lua spec bin fake_konnect examples bench > "$RUN/luacheck.log" 2>&1; then
  passed=$((passed + 1)); echo "luacheck: clean"
else
  failed=$((failed + 1)); cat "$RUN/luacheck.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
