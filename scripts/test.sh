#!/usr/bin/env bash
# The test run behind `make test`.  Builds the core for every interpreter, then
# runs these lanes at the same time, each with servers of its own:
#   busted once per interpreter (a fake Konnect each); the fake's contract spec
#   (once, Lua 5.4), then the install check (scripts/rock-check.sh: LuaRocks trees
#   for Lua 5.4, 5.1 and LuaJIT and make install, one after the other from one
#   working copy, each run by its own interpreter, the 5.1 tree in nginx) and luacheck; the nginx
#   suite; the docs' shell, console and nginx.conf snippets in a sandbox
#   (spec/docs/run.sh); the hostile-server suite on both transports; the
#   decoding fuzz; the audit of the whole seeded organisation under a rate
#   limit (spec/audit/org_audit.lua: about a minute, mostly waiting);
# then scans every log for a secret.  Prints one line per stage with its duration, the
# total wall time, and ends with one line "N passed, N failed".
#   TEST_LUAS="lua5.4 luajit" bash scripts/test.sh   (or arguments) limits the interpreters
set -u
cd "$(dirname "$0")/.."
LUAS=${*:-${TEST_LUAS:-"lua5.4 luajit lua5.1 lua5.3"}}
RUN=.run/test
mkdir -p "$RUN"
rm -f "$RUN"/*.log "$RUN"/*.txt "$RUN"/*.secs "$RUN"/*.rc

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)
STAGES=()
passed=0; failed=0
add_stage() { # name seconds passed failed
  STAGES+=("$(printf '%-34s %6ss  %5d passed, %d failed' "$1" "$2" "$3" "$4")")
}
stage_start() { echo "== $1"; S0=$(now); SNAME=$1; SP=$passed; SF=$failed; }
stage_end() { add_stage "$SNAME" "$(since "$S0")" $((passed - SP)) $((failed - SF)); }
count() { # log file -> adds to passed/failed from busted's summary line
  local line s f e
  line=$(grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$1" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); echo "  (no summary from busted in $1: counted as one failure)"; return; fi
  s=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $4}'); e=$(echo "$line" | awk '{print $7}')
  passed=$((passed + s)); failed=$((failed + f + e))
}
lua_dir() { case $1 in luajit) echo jit ;; lua*) echo "${1#lua}" ;; esac; }
busted_env() { # interpreter -> runs the rest of the line with its paths set
  local dir; dir=$(lua_dir "$1"); shift
  LUA_CPATH="$PWD/build/$dir/?.so;;" LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/spec/?.lua;$PWD/?.lua;;" "$@"
}
timed() { # name cmd... -> runs cmd, writes its seconds to $RUN/<name>.secs and status to $RUN/<name>.rc
  local name=$1 t; shift
  t=$(now); "$@"; echo $? > "$RUN/$name.rc"; since "$t" > "$RUN/$name.secs"
}

stage_start "build (C core, 4 interpreters)"
for lua in lua5.4 luajit lua5.1 lua5.3; do
  # a build is not a test: only a failure counts
  make --no-print-directory -s build LUA=$lua > "$RUN/build-$lua.txt" 2>&1 || { failed=$((failed + 1)); cat "$RUN/build-$lua.txt"; }
done
stage_end

# Every lane below has its own servers (a fake Konnect each, the nginx suite's
# and the hostile suite's own nginx), so no lane resets another's state: they
# run at the same time (most of a run is waiting on sockets and timers, not CPU).
# TEST_SERIAL=1 runs them one after the other.
FAKES=()
stop_all() { for d in "${FAKES[@]}"; do fake_konnect/ctl stop --dir "$d" >/dev/null 2>&1; done; }
trap stop_all EXIT
with_fake() { # lane-name cmd... : runs cmd with a fake Konnect of the lane's own
  local d=$PWD/$RUN/fake-$1 out; shift
  out=$(fake_konnect/ctl start --dir "$d") || { echo "could not start a fake Konnect in $d"; return 1; }
  ( eval "$out"; "$@" )
  local rc=$?
  fake_konnect/ctl stop --dir "$d" >/dev/null 2>&1
  return $rc
}
PIDS=()
lane() { # runs "$@" in the background (or now, with TEST_SERIAL=1)
  if [ "${TEST_SERIAL:-0}" = 1 ]; then "$@"; else "$@" & PIDS+=($!); fi
}

busted_lane() { # interpreter
  local lua=$1 dir; dir=$(lua_dir "$1")
  { echo "   ($($lua -v 2>&1 | head -n 1))"
    busted_env "$lua" env KONNECT_TEST_LUA="$lua" "$lua" /usr/bin/busted -o plainTerminal spec
  } > "$RUN/busted-$dir.log" 2>&1
}
fuzz_lane() {
  local lua
  for lua in lua5.4 luajit; do
    busted_env $lua env LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/spec/fuzz/?.lua;;" \
      $lua /usr/bin/busted -o plainTerminal --pattern=_fuzz spec/fuzz > "$RUN/fuzz-$(lua_dir $lua).log" 2>&1
  done
}
audit_lane() { # the minute-long audit (issue 20's done-when), Lua 5.4, a fake of its own
  busted_env lua5.4 lua5.4 /usr/bin/busted -o plainTerminal --pattern=_audit spec/audit > "$RUN/audit.log" 2>&1
}
side_lane() {
  timed contract lua5.4 /usr/bin/busted -o plainTerminal fake_konnect/spec/contract_spec.lua > "$RUN/contract.log" 2>&1
  timed rock bash scripts/rock-check.sh > "$RUN/rock.log" 2>&1
  timed luacheck luacheck -q lua spec bin fake_konnect examples bench > "$RUN/luacheck.txt" 2>&1
}

echo "== running in parallel: busted on $LUAS; contract, rock check, luacheck; nginx; docs; hostile; fuzz; audit"
for lua in $LUAS; do
  FAKES+=("$PWD/$RUN/fake-$(lua_dir $lua)")
  lane timed "busted-$(lua_dir $lua)" with_fake "$(lua_dir $lua)" busted_lane "$lua"
done
FAKES+=("$PWD/$RUN/fake-side")
lane with_fake side side_lane
[ -x spec/nginx/run.sh ] && lane timed nginx bash spec/nginx/run.sh > "$RUN/nginx.log" 2>&1
lane timed docs bash spec/docs/run.sh > "$RUN/docs.log" 2>&1
lane timed hostile bash spec/hostile/run.sh > "$RUN/hostile.log" 2>&1
lane timed fuzz fuzz_lane
FAKES+=("$PWD/$RUN/fake-audit")
lane timed audit with_fake audit audit_lane
for p in "${PIDS[@]}"; do wait "$p"; done
echo "   all lanes done after $(since "$T0") s"

report() { # stage-name secs-file log... : prints the logs, counts their busted summaries
  local name=$1 secs=$2; shift 2
  echo "== $name"
  SP=$passed; SF=$failed
  local f; for f in "$@"; do cat "$f"; count "$f"; done
  add_stage "$name" "$(cat "$RUN/$secs.secs" 2>/dev/null || echo '?')" $((passed - SP)) $((failed - SF))
}
for lua in $LUAS; do report "busted on $lua" "busted-$(lua_dir $lua)" "$RUN/busted-$(lua_dir $lua).log"; done
report "fake Konnect contract (lua5.4)" contract "$RUN/contract.log"
[ -x spec/nginx/run.sh ] && report "OpenResty / nginx" nginx "$RUN/nginx.log"
report "docs: shell, console, nginx.conf" docs "$RUN/docs.log"

echo "== hostile servers (curl + cosocket)"
cat "$RUN/hostile.log"
SP=$passed; SF=$failed
for t in curl cosocket; do # one busted summary per transport
  sed -n "/^-- transport $t\$/,/^-- transport /p" "$RUN/hostile.log" > "$RUN/hostile-$t.txt"
  count "$RUN/hostile-$t.txt"
done
add_stage "hostile servers (curl + cosocket)" "$(cat "$RUN/hostile.secs" 2>/dev/null)" $((passed - SP)) $((failed - SF))

report "decoding fuzz (lua5.4, luajit)" fuzz "$RUN/fuzz-5.4.log" "$RUN/fuzz-jit.log"
report "org audit under a rate limit (lua5.4)" audit "$RUN/audit.log"

echo "== LuaRocks install"
cat "$RUN/rock.log"
if [ "$(cat "$RUN/rock.rc" 2>/dev/null)" = 0 ]; then
  passed=$((passed + 1)); add_stage "LuaRocks install" "$(cat "$RUN/rock.secs")" 1 0
else
  failed=$((failed + 1)); add_stage "LuaRocks install" "$(cat "$RUN/rock.secs" 2>/dev/null || echo '?')" 0 1
fi

echo "== luacheck"
if [ "$(cat "$RUN/luacheck.rc" 2>/dev/null)" = 0 ]; then
  passed=$((passed + 1)); echo "luacheck: clean"; add_stage "luacheck" "$(cat "$RUN/luacheck.secs")" 1 0
else
  failed=$((failed + 1)); cat "$RUN/luacheck.txt"
  add_stage "luacheck" "$(cat "$RUN/luacheck.secs" 2>/dev/null || echo '?')" 0 1
fi

stage_start "no secret in any test output"
# created tokens are kpat_ + 45 random characters; the fixtures are kpat_fake_…_bootstrap;
# the hostile and fuzz tokens are kpat_fake_…_not_real (all obviously fake)
if grep -EHn '[ks]pat_[A-Za-z0-9]{20,}|[ks]pat_fake_[a-z_]*(bootstrap|not_real)' "$RUN"/*.log; then
  failed=$((failed + 1)); echo "a secret appeared in the test output above"
else
  passed=$((passed + 1)); echo "none found"
fi
stage_end

echo "== stages (seconds each took; all but the build ran at the same time)"
for s in "${STAGES[@]}"; do echo "  $s"; done
echo "  $(printf '%-34s %6ss' "total (wall)" "$(since "$T0")")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
