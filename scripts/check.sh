#!/usr/bin/env bash
# `make check`: build konnect.core, then two soaks, each natively (RSS and
# open fds before/after) and under valgrind memcheck (any memory error or a
# "definitely lost" byte fails the run):
#   1. spec/soak/core_soak.lua: the C core alone, against its own nginx and
#      LuaSocket listeners;
#   2. spec/soak/pats_soak.lua: the whole library (konnect.pats) against the
#      fake Konnect server, mixing successes and every error kind.
#
# Environment:
#   LUA                    interpreter (default lua5.4; also luajit, lua5.1, lua5.3)
#   KONNECT_SOAK_N         iterations for the native run      (default 20000)
#   KONNECT_VALGRIND_N     iterations for the valgrind run    (default 2500)
#   KONNECT_SOAK_WARMUP    warm-up iterations before the "before" snapshot
#   KONNECT_PATS_SOAK_N    library calls, native run          (default 10000)
#   KONNECT_PATS_VALGRIND_N library calls under valgrind      (default 2000)
#   SKIP_VALGRIND=1        native soaks only
#   CALLGRIND=1            also count instructions per GET (valgrind callgrind, repeatable):
#                          konnect.core from Lua vs raw libcurl (bench/baselines/raw_curl.c),
#                          same nginx, same URL; per call = (I(3000) - I(1000)) / 2000
set -euo pipefail
cd "$(dirname "$0")/.."

LUA=${LUA:-lua5.4}
case $LUA in luajit) dir=jit ;; lua*) dir=${LUA#lua} ;; *) echo "check: unknown LUA=$LUA" >&2; exit 2 ;; esac
SOAK_N=${KONNECT_SOAK_N:-20000}
VG_N=${KONNECT_VALGRIND_N:-2500}

make --no-print-directory build LUA="$LUA"
export LUA_CPATH="build/$dir/?.so;;" LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;"

echo "== check: native soak on $LUA, $SOAK_N iterations"
KONNECT_SOAK_N=$SOAK_N "$LUA" spec/soak/core_soak.lua

# ---- the library soak, against the fake Konnect server
PATS_N=${KONNECT_PATS_SOAK_N:-10000}
PATS_VG_N=${KONNECT_PATS_VALGRIND_N:-2000}
fake_dir=$PWD/.run/check-fake
eval "$(fake_konnect/ctl start --dir "$fake_dir")"
trap 'fake_konnect/ctl stop --dir "$fake_dir" >/dev/null 2>&1' EXIT
echo "== check: library soak on $LUA, $PATS_N calls"
KONNECT_SOAK_N=$PATS_N "$LUA" spec/soak/pats_soak.lua

if [ "${SKIP_VALGRIND:-0}" = 1 ]; then
  echo "== check: valgrind skipped (SKIP_VALGRIND=1)"
  exit 0
fi
command -v valgrind >/dev/null || { echo "check: valgrind not installed" >&2; exit 1; }

# memcheck SCRIPT N WHAT: run a soak under valgrind; any error or definite leak fails.
memcheck() {
  local script=$1 n=$2 what=$3 log status=0
  log=$(mktemp /tmp/konnect-check-valgrind.XXXXXX)
  echo "== check: valgrind memcheck, $what on $LUA, $n iterations (log: $log)"
  KONNECT_SOAK_N=$n KONNECT_SOAK_WARMUP=${KONNECT_SOAK_WARMUP:-50} \
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 \
             --show-leak-kinds=definite --keep-debuginfo=yes --num-callers=30 --log-file="$log" \
             "$LUA" "$script" || status=$?
  grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' "$log" \
    | sed 's/^==[0-9]*== /  valgrind: /'
  if [ "$status" -ne 0 ]; then
    echo "== check: FAILED (exit $status); valgrind report:" >&2
    grep -vE '^==[0-9]+== *$' "$log" | head -200 >&2
    exit 1
  fi
  rm -f "$log"
}

memcheck spec/soak/core_soak.lua "$VG_N" "core soak"
memcheck spec/soak/pats_soak.lua "$PATS_VG_N" "library soak"

if [ "${CALLGRIND:-0}" = 1 ]; then
  echo "== check: callgrind, instructions per keep-alive GET (konnect.core vs raw libcurl)"
  cg=$(mktemp -d /tmp/konnect-check-callgrind.XXXXXX)
  cc -O2 -Wall -Wextra $(pkg-config --cflags libcurl 2>/dev/null) -o "$cg/raw_curl" \
    bench/baselines/raw_curl.c $(pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
  CG_DIR=$cg "$LUA" - <<'LUA'
local server = require "support.coreserver"
local dir = os.getenv("CG_DIR")
local lua = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
local srv = server.start()
local url = srv.http .. "/json"
local f = assert(io.open(dir .. "/loop.lua", "w"))
f:write(([[
local core = require "konnect.core"
local c = assert(core.new { timeout = 5 })
local h = assert(core.headers { "Authorization: Bearer kpat_fake_x_bootstrap", "Accept: application/json" })
for _ = 1, 50 + tonumber(arg[1]) do assert(c:request("GET", %q, h).status == 200) end
]]):format(url))
f:close()
local function instructions(cmd)
  local p = assert(io.popen("valgrind --tool=callgrind --callgrind-out-file=/dev/null " .. cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return assert(tonumber((out:match("Collected : (%d+)"))), out)
end
local function per_call(fmt)
  return (instructions(fmt:format(3000)) - instructions(fmt:format(1000))) / 2000
end
local core = per_call(lua .. " " .. dir .. "/loop.lua %d")
local raw = per_call(dir .. "/raw_curl url " .. url .. " kpat_fake_x_bootstrap - - %d 50")
print(("  konnect.core (%s): %.0f instructions per GET"):format(lua, core))
print(("  raw libcurl:        %.0f instructions per GET"):format(raw))
print(("  ratio:              %.3f"):format(core / raw))
server.stop(srv)
LUA
  rm -rf "$cg"
fi
echo "== check: OK"
