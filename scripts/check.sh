#!/usr/bin/env bash
# `make check`: build konnect.core, then soak it (spec/soak/core_soak.lua):
#   1. natively, many iterations: RSS and open fd counts before/after;
#   2. under valgrind memcheck (fewer iterations): any memory error or a
#      "definitely lost" leak fails the run.
# The soak starts its own nginx and LuaSocket listeners on loopback.
#
# Environment:
#   LUA                    interpreter (default lua5.4; also luajit, lua5.1, lua5.3)
#   KONNECT_SOAK_N         iterations for the native run      (default 20000)
#   KONNECT_VALGRIND_N     iterations for the valgrind run    (default 2500)
#   KONNECT_SOAK_WARMUP    warm-up iterations before the "before" snapshot
#   SKIP_VALGRIND=1        native soak only
set -euo pipefail
cd "$(dirname "$0")/.."

LUA=${LUA:-lua5.4}
case $LUA in luajit) dir=jit ;; lua*) dir=${LUA#lua} ;; *) echo "check: unknown LUA=$LUA" >&2; exit 2 ;; esac
SOAK_N=${KONNECT_SOAK_N:-20000}
VG_N=${KONNECT_VALGRIND_N:-2500}

make --no-print-directory build LUA="$LUA"
export LUA_CPATH="build/$dir/?.so;;"

echo "== check: native soak on $LUA, $SOAK_N iterations"
KONNECT_SOAK_N=$SOAK_N "$LUA" spec/soak/core_soak.lua

if [ "${SKIP_VALGRIND:-0}" = 1 ]; then
  echo "== check: valgrind skipped (SKIP_VALGRIND=1)"
  exit 0
fi
command -v valgrind >/dev/null || { echo "check: valgrind not installed" >&2; exit 1; }

log=$(mktemp /tmp/konnect-check-valgrind.XXXXXX)
echo "== check: valgrind memcheck soak on $LUA, $VG_N iterations (log: $log)"
status=0
KONNECT_SOAK_N=$VG_N KONNECT_SOAK_WARMUP=${KONNECT_SOAK_WARMUP:-50} \
  valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 \
           --show-leak-kinds=definite --num-callers=30 --log-file="$log" \
           "$LUA" spec/soak/core_soak.lua || status=$?

grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' "$log" | sed 's/^==[0-9]*== /  valgrind: /'
if [ "$status" -ne 0 ]; then
  echo "== check: FAILED (exit $status); valgrind report:" >&2
  grep -vE '^==[0-9]+== *$' "$log" | head -200 >&2
  exit 1
fi
rm -f "$log"
echo "== check: OK"
