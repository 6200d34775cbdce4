#!/usr/bin/env bash
# scripts/mutate.sh: mutation testing by rule (`make mutate`; not part of make test or CI).
#
# 1. Coverage pass (cached per tree content under .run/mutate-cache/): every busted spec
#    file, the hostile suite's curl side and the fuzz run once on Lua 5.4 against an
#    instrumented copy of the tree (a gcc --coverage C core; the Lua line hook
#    scripts/mutate_cov.lua through LUA_INIT_5_4), so each line of lua/ and csrc/ knows
#    the suites that run it; the nginx suite and the hostile suite's cosocket side once,
#    plain.  This pass is also the baseline: a test that fails there never counts as a kill.
# 2. Plan (scripts/mutate_gen.lua, rules in scripts/mutate_rules.lua): every file under
#    lua/ and csrc/ yields its candidate mutants; MUTATE_N slots (at least 80) are spread
#    over the files in proportion to their mutable lines (lines with a candidate); each
#    file's candidates come in an order drawn from MUTATE_SEED (default: today's date,
#    UTC, so it changes daily).
#    Known equivalents (scripts/mutate_equivalents.lua) are never drawn.
# 3. Each slot: the file's next candidate in a scratch copy of the tree (.run/mutate/s<slot>;
#    the checkout is never touched); a C mutant rebuilds the Lua 5.4 core only, and one
#    that does not compile, or compiles to the very code and data of the real core (an
#    inactive #if branch: equivalent by construction), is discarded and replaced by the
#    file's next candidate.  Then
#    the suites that cover the mutated line run, cheapest first, each stopping at its
#    first failing test: a test that passed in the baseline and fails now kills the
#    mutant, and so does a suite that crashes or overruns FACTOR x its baseline time + 30 s
#    (a hang).  A Lua file that uses the nginx API, or a line no plain-Lua suite runs,
#    also gets the hostile suite's cosocket side and the nginx suite.
# 4. The score (killed / run), every survivor (file, the line, the mutant, the suites that
#    ran) on stdout and in mutate-report.txt (not committed: the issue notes keep scores).
#
#   make mutate                          80 mutants, today's seed (about 15-25 minutes on 2 cores)
#   MUTATE_SEED=7 MUTATE_N=10 make mutate  a small run with a chosen seed
#   JOBS=1 make mutate                   mutants at a time (default 2)
#   KEEP=1 make mutate                   keep every scratch copy and log
#   MUTANTS=list make mutate             the hand-picked regression set instead (scripts/mutate_list.sh)
# Logs: .run/mutate/logs/.  Exit status 0 when every mutant was killed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
case ${MUTANTS:-} in list|list:*) exec bash scripts/mutate_list.sh "$@" ;; esac
ROOT=$PWD
SEED=${MUTATE_SEED:-$(date -u +%Y%m%d)}
N=${MUTATE_N:-80}
JOBS=${JOBS:-2}
FACTOR=${FACTOR:-3}
RUN=$ROOT/.run/mutate
CACHE=$ROOT/.run/mutate-cache
case $SEED in ''|*[!0-9]*) echo "mutate: MUTATE_SEED must be a number"; exit 2 ;; esac
case $N in ''|*[!0-9]*) echo "mutate: MUTATE_N must be a number"; exit 2 ;; esac

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

stop_nginx_under() { # dir: stops every throwaway nginx started below dir
  local f p cwd
  while IFS= read -r f; do
    bash "$ROOT/scripts/nginx.sh" stop "$(dirname "$f")" >/dev/null 2>&1
  done < <(find "$1" -maxdepth 5 -name .nginx-master 2>/dev/null)
  for p in $(pgrep -f '^nginx: master' 2>/dev/null); do
    cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
    case $cwd in "$1"|"$1"/*) kill -TERM "$p" 2>/dev/null ;; esac
  done
}
mkdir -p "$ROOT/.run"
LOCK=$ROOT/.run/mutate.lock # one run at a time per checkout (either kind)
if ! mkdir "$LOCK" 2>/dev/null; then
  if kill -0 "$(cat "$LOCK/pid" 2>/dev/null)" 2>/dev/null; then
    echo "mutate: another make mutate (pid $(cat "$LOCK/pid")) is running in this checkout"; exit 2
  fi
  rm -rf "$LOCK"; mkdir "$LOCK" || exit 2
fi
echo $$ > "$LOCK/pid"
trap 'rm -rf "$LOCK"' EXIT
if [ -d "$RUN" ]; then
  for d in "$RUN"/fake-*; do [ -d "$d" ] && fake_konnect/ctl stop --dir "$d" >/dev/null 2>&1; done
  stop_nginx_under "$RUN"
  rm -rf "$RUN"
fi
mkdir -p "$RUN/logs" "$RUN/results" "$RUN/claims" "$RUN/discarded" "$CACHE"

# /tmp of every suite is the scratch copy's own (a private mount namespace) when possible
ISOLATE=0
mkdir -p "$RUN/probe"
if [ "$(id -u)" = 0 ] && unshare -m sh -c 'mount --bind "$1" /tmp' _ "$RUN/probe" 2>/dev/null; then ISOLATE=1; fi
rmdir "$RUN/probe"

copy_tree() { # dest: the working tree's files (tracked and new)
  mkdir -p "$1"
  git ls-files -z -c -o --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$1"
  git -C "$1" init -q # (a repository, empty: specs that list the tree's files with git ls-files -co work)
}

# -- the base copy, built ----------------------------------------------------------
BASE=$RUN/base
copy_tree "$BASE"
for l in lua5.4 luajit; do
  make -C "$BASE" --no-print-directory -s build LUA=$l > "$RUN/logs/build-base-$l.log" 2>&1 ||
    { cat "$RUN/logs/build-base-$l.log"; echo "mutate: the unmutated tree does not build"; exit 2; }
done
# the machine code and data of the 5.4 core (a C mutant that leaves them as they are
# changes nothing the compiler sees: an inactive #if branch, or what the optimizer erases)
code_of() { # tree out: the .text, .rodata and .data of the tree's 5.4 core, concatenated, into out
  local f
  : > "$2"
  for f in core.so core_impl.so; do
    objcopy -O binary -j .text -j .rodata -j .data "$1/build/5.4/konnect/$f" "$2.part" 2>/dev/null &&
      cat "$2.part" >> "$2"
  done
  rm -f "$2.part"
}
code_of "$BASE" "$RUN/base-code.bin"

# -- one fake Konnect per worker -----------------------------------------------------
FAKES=()
stop_fakes() { for d in "${FAKES[@]}"; do fake_konnect/ctl stop --dir "$d" >/dev/null 2>&1; done; }
trap 'stop_fakes; stop_nginx_under "$RUN"; rm -rf "$LOCK"' EXIT
for w in $(seq 1 "$JOBS"); do
  d=$RUN/fake-$w
  FAKES+=("$d")
  fake_konnect/ctl start --dir "$d" > "$RUN/fake-$w.env" || { echo "mutate: cannot start a fake Konnect"; exit 2; }
done

key() { echo "$1" | tr -c 'A-Za-z0-9\n' '_'; }

# run_suite dir unit limit log worker [extra env] -> SUITE_RC, SUITE_SECS, SUITE_TIMEOUT
#   unit: spec/<x>_spec.lua | hostile:curl | hostile:cosocket | fuzz | nginx
#   FAILFAST=1: busted stops at the first failing test
run_suite() {
  local dir=$1 unit=$2 limit=$3 log=$4 w=$5 extra=${6:-} inner t pid st ff=""
  [ "${FAILFAST:-0}" = 1 ] && ff=" --no-keep-going"
  case $unit in
    spec/*) inner="lua5.4 /usr/bin/busted -o plainTerminal$ff $unit" ;;
    nginx) inner="bash spec/nginx/run.sh" ;;
    hostile:curl|hostile:cosocket) inner="bash spec/hostile/run.sh ${unit#hostile:}$ff" ;;
    fuzz) inner="env LUA_PATH=\"\$PWD/lua/?.lua;\$PWD/lua/?/init.lua;\$PWD/spec/fuzz/?.lua;;\" \
lua5.4 /usr/bin/busted -o plainTerminal$ff --pattern=_fuzz spec/fuzz" ;;
    *) echo "unknown suite $unit" > "$log"; SUITE_RC=2; SUITE_SECS=0; SUITE_TIMEOUT=0; return ;;
  esac
  mkdir -p "$dir/tmp"
  chmod 1777 "$dir/tmp"
  {
    echo "set -u"
    [ "$ISOLATE" = 1 ] && echo "mount --bind '$dir/tmp' /tmp || exit 97"
    echo "cd '$dir'"
    cat "$RUN/fake-$w.env"
    echo "export TMPDIR=/tmp"
    [ "$ISOLATE" = 1 ] || echo "export TMPDIR='$dir/tmp'"
    echo "export LUA_CPATH=\"\$PWD/build/5.4/?.so;;\""
    echo "export LUA_PATH=\"\$PWD/lua/?.lua;\$PWD/lua/?/init.lua;\$PWD/spec/?.lua;\$PWD/?.lua;;\""
    [ -n "$extra" ] && echo "$extra"
    echo "exec $inner"
  } > "$dir/.mutate-suite.sh"
  t=$(now)
  if [ "$ISOLATE" = 1 ]; then
    setsid nice -n 10 unshare -m bash "$dir/.mutate-suite.sh" > "$log" 2>&1 < /dev/null &
  else
    setsid nice -n 10 bash "$dir/.mutate-suite.sh" > "$log" 2>&1 < /dev/null &
  fi
  pid=$!
  SUITE_TIMEOUT=0
  local start=$SECONDS
  while :; do
    st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
    [ -z "$st" ] || [ "$st" = Z ] && break
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      SUITE_TIMEOUT=1
      kill -TERM -- "-$pid" 2>/dev/null
      sleep 2
      kill -KILL -- "-$pid" 2>/dev/null
      break
    fi
    sleep 0.3
  done
  wait "$pid"
  SUITE_RC=$?
  SUITE_SECS=$(since "$t")
  stop_nginx_under "$dir"
}

worker() { # worker phase jobs...
  local w=$1 phase=$2 j
  shift 2
  for j in "$@"; do
    mkdir "$RUN/claims/$phase.$(key "$j")" 2>/dev/null || continue
    "${phase}_job" "$w" "$j"
  done
}
pool() { # phase jobs...
  local pids=() w
  for w in $(seq 1 "$JOBS"); do worker "$w" "$@" & pids+=($!); done
  for w in "${pids[@]}"; do wait "$w"; done
}

# -- 1. coverage pass and baseline (cached per tree content) --------------------------
TREEKEY=$( (git ls-files -c -o --exclude-standard -z lua csrc spec fake_konnect scripts/mutate_cov.lua \
  scripts/nginx.sh Makefile |
  sort -z | xargs -0 sha1sum) | sha1sum | cut -c1-16)
COV=$CACHE/$TREEKEY
UNITS=()
for f in $(cd "$BASE" && find spec -name '*_spec.lua' | sort); do UNITS+=("$f"); done
UNITS+=(hostile:curl fuzz)
PLAIN_UNITS=(hostile:cosocket nginx)

cov_job() { # worker unit
  local w=$1 unit=$2 k dir out
  k=$(key "$unit")
  dir=$COVWORK/t$w
  out=$COV.tmp/u/$k
  mkdir -p "$out/gcov"
  rm -rf "$dir/tmp"
  if [[ " ${PLAIN_UNITS[*]} " == *" $unit "* ]]; then
    run_suite "$dir" "$unit" 1200 "$out/log" "$w"
  else
    run_suite "$dir" "$unit" 1200 "$out/log" "$w" \
      "export LUA_INIT_5_4='@$ROOT/scripts/mutate_cov.lua' MUTATE_COV_OUT='$out' MUTATE_COV_ROOT='$dir' GCOV_PREFIX='$out/gcov'"
    # the C lines this unit ran (gcov, JSON), then its counters go
    local g
    while IFS= read -r g; do
      cp "$dir/build/5.4/konnect/"*.gcno "$(dirname "$g")/" 2>/dev/null
      (cd "$dir" && gcov -j -t -o "$(dirname "$g")" "$g" 2>/dev/null) |
        lua5.4 -e '
          local cjson = require "cjson"
          for l in io.lines() do
            local ok, doc = pcall(cjson.decode, l)
            if ok and type(doc) == "table" then
              for _, f in ipairs(doc.files or {}) do
                if f.file:match("^csrc/") then
                  for _, ln in ipairs(f.lines or {}) do print(("%s\t%d\t%d"):format(f.file, ln.line_number, ln.count)) end
                end
              end
            end
          end' >> "$out/c.lines"
    done < <(find "$out/gcov" -name '*.gcda')
    rm -rf "$out/gcov"
  fi
  lua5.4 scripts/mutate.lua parse "$out/log" > "$out/parse"
  printf '%s\t%s\n' "$unit" "$SUITE_SECS" > "$out/unit"
  printf '   %-36s %6ss  %s%s\n' "$unit" "$SUITE_SECS" "$(head -n 1 "$out/parse")" \
    "$([ "$(wc -l < "$out/parse")" -gt 1 ] && echo "  ($(($(wc -l < "$out/parse") - 1)) failing already: never a kill)")"
}

if [ -f "$COV/units.tsv" ]; then
  echo "== coverage and baseline: cached ($COV)"
else
  echo "== coverage pass and baseline: ${#UNITS[@]} suites instrumented, ${PLAIN_UNITS[*]} plain; $JOBS at a time"
  rm -rf "$COV.tmp"; mkdir -p "$COV.tmp/u"
  COVWORK=$RUN/cov
  for w in $(seq 1 "$JOBS"); do
    # one instrumented copy per worker (gcov data is written next to nothing of the other's)
    copy_tree "$COVWORK/t$w"
    make -C "$COVWORK/t$w" --no-print-directory -s build LUA=lua5.4 CFLAGS="-O0 -g --coverage" \
      > "$RUN/logs/build-cov-$w.log" 2>&1 || { cat "$RUN/logs/build-cov-$w.log"; echo "mutate: no coverage build"; exit 2; }
    make -C "$COVWORK/t$w" --no-print-directory -s build LUA=luajit > /dev/null 2>&1
  done
  pool cov "${PLAIN_UNITS[@]}" "${UNITS[@]}"
  for u in "${PLAIN_UNITS[@]}" "${UNITS[@]}"; do cat "$COV.tmp/u/$(key "$u")/unit"; done > "$COV.tmp/units.tsv"
  rm -rf "$COV"; mv "$COV.tmp" "$COV"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$COVWORK"
fi

# -- 2. the plan ------------------------------------------------------------------------
echo "== plan: seed $SEED, $N mutants"
lua5.4 scripts/mutate_gen.lua plan "$BASE" "$SEED" "$N" "$COV" "$RUN" || exit 2
mapfile -t SLOTS < <(cut -f1 "$RUN/slots.tsv")

# -- 3. the mutants ---------------------------------------------------------------------
slot_job() { # worker slot
  local w=$1 slot=$2 fkey cands line cid file units dir status detail t unit k limit log new sum bsum
  fkey=$(awk -F'\t' -v s="$slot" '$1 == s { print $3 }' "$RUN/slots.tsv")
  cands=$RUN/cands/$fkey.tsv
  t=$(now)
  status=empty; cid=""; detail=""
  while IFS=$'\t' read -r -u 3 cid file _ _ units _; do
    [ "$units" = - ] && units=""
    mkdir "$RUN/claims/cand.$cid" 2>/dev/null || continue # another slot of this file has it
    dir=$RUN/s$slot
    rm -rf "$dir"; cp -a "$BASE" "$dir"
    if ! lua5.4 scripts/mutate_gen.lua apply "$dir" "$cands" "$cid" > "$RUN/logs/$cid-apply.log" 2>&1; then
      echo "does not apply" > "$RUN/discarded/$cid"; continue
    fi
    if [[ $file == csrc/* ]] && ! make -C "$dir" --no-print-directory -s build LUA=lua5.4 \
        > "$RUN/logs/$cid-build.log" 2>&1; then
      echo "does not compile" > "$RUN/discarded/$cid"; rm -rf "$dir"; continue
    fi
    if [[ $file == csrc/* ]] && code_of "$dir" "$dir.code" && cmp -s "$dir.code" "$RUN/base-code.bin"; then
      echo "compiles to the same code" > "$RUN/discarded/$cid"; rm -rf "$dir"; continue
    fi
    status=survived
    for unit in $units; do
      k=$(key "$unit")
      local bsecs
      bsecs=$(awk -F'\t' -v u="$unit" '$1 == u { print $2 }' "$COV/units.tsv")
      limit=$(awk -v s="${bsecs:-60}" -v f="$FACTOR" 'BEGIN { printf "%d", s * f + 30 }')
      log=$RUN/logs/$cid-$k.log
      # stop at the first failing test, unless the baseline has failures of its own
      local ff=1
      [ "$(wc -l < "$COV/u/$k/parse")" -gt 1 ] && ff=0
      FAILFAST=$ff run_suite "$dir" "$unit" "$limit" "$log" "$w"
      if [ "$SUITE_TIMEOUT" = 1 ]; then status=killed; detail="$unit: overran its time limit (${limit}s)"; break; fi
      lua5.4 scripts/mutate.lua parse "$log" > "$log.parse"
      sum=$(head -n 1 "$log.parse"); bsum=$(head -n 1 "$COV/u/$k/parse")
      new=$(tail -n +2 "$log.parse" | sort -u | comm -23 - <(tail -n +2 "$COV/u/$k/parse" | sort -u))
      if [ -n "$new" ]; then status=killed; detail="$unit: $(echo "$new" | head -n 1)"; break; fi
      if [ "$sum" = NOSUMMARY ] && [ "$bsum" != NOSUMMARY ]; then
        status=killed; detail="$unit: the suite crashed (no busted summary; logs/$cid-$k.log)"; break
      fi
    done
    [ -z "$units" ] && detail="no suite runs this line"
    break
  done 3< "$cands"
  [ "$status" = empty ] && cid=""
  printf '%s\t%s\t%s\t%s\n' "$status" "$cid" "$(since "$t")" "$(printf '%s' "$detail" | tr '\t\n' '  ' | cut -c1-300)" \
    > "$RUN/results/$slot"
  printf '#%-3s %-8s %6ss  %s  %s\n' "$slot" "$status" "$(since "$t")" "$cid" "$(echo "$detail" | cut -c1-120)"
  rm -f "$RUN/s$slot.code"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$RUN/s$slot"
}

echo "== mutants ($JOBS at a time)"
pool slot "${SLOTS[@]}"

# -- 4. the score -------------------------------------------------------------------------
echo "== score"
lua5.4 scripts/mutate_gen.lua report "$RUN" "$SEED" "$N" "$ROOT/mutate-report.txt"
rc=$?
echo "wall time $(since "$T0") s (report: mutate-report.txt)"
exit $rc
