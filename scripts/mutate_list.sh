#!/usr/bin/env bash
# scripts/mutate_list.sh: the hand-picked mutants of scripts/mutants.lua, a regression set
# (`MUTANTS=list make mutate`, `MUTANTS=list:3,7,10-12 make mutate`); the score that counts is
# the sampled one of scripts/mutate.sh.
#
# Applies each mutant of the fixed list scripts/mutants.lua -- one realistic
# single edit of lua/konnect/*.lua, lua/konnect/transport/*.lua, the CLI or the
# C core -- to a scratch copy of the tree (.run/mutate/m<id>; the checkout is
# never touched), rebuilds the C core when the mutant is in csrc/, runs the
# suites the mutant names (busted specs on Lua 5.4 against a fake Konnect, the
# nginx suite, the hostile-server suite on one transport, the fuzz run), in the
# listed order, until one of them fails, and prints per mutant: killed (by
# which test) or survived; then the score and the survivors.
#
# A test that already fails on the unmutated tree does not count as a kill:
# every suite used is first run once on an unmutated copy (the baseline), and
# only tests that pass there and fail under the mutant kill it (or a suite that
# crashes or overruns its time limit: FACTOR x its baseline time + 30 s).
# A mutant whose text no longer occurs exactly once stops the run before
# anything is executed: update scripts/mutants.lua, never skip it.
#
#   MUTANTS=list make mutate              every mutant (about 12 minutes on 2 cores)
#   MUTANTS=list:3,7,10-12 make mutate    a subset
#   JOBS=1 MUTANTS=list make mutate       mutants at a time (default 2)
#   KEEP=1 MUTANTS=list make mutate       keep the scratch copies and logs of every mutant
#   bash scripts/mutate_list.sh --list    the list, nothing run
# Logs: .run/mutate/logs/<id>-<suite>.log.  Exit status 0 when every mutant was
# killed (or survived and is marked equivalent in the list), 1 otherwise.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SEL=${MUTANTS:-}
SEL=${SEL#list}; SEL=${SEL#:}
JOBS=${JOBS:-2}
FACTOR=${FACTOR:-3}
RUN=$ROOT/.run/mutate-list
LUA=lua5.4

if [ "${1:-}" = --list ]; then
  lua5.4 scripts/mutate.lua list "$SEL" | awk -F'\t' '{ printf "#%-3s %-40s %-44s %s\n", $1, $2, $3, $4 }'
  exit
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

# Everything of a previous run goes, except its scratch copies' nginx (stopped first).
stop_nginx_under() { # dir: stops every throwaway nginx started below dir
  local f p cwd
  # by its pid file (scripts/nginx.sh), then any master still working in dir
  while IFS= read -r f; do
    bash "$ROOT/scripts/nginx.sh" stop "$(dirname "$f")" >/dev/null 2>&1
  done < <(find "$1" -maxdepth 5 -name .nginx-master 2>/dev/null)
  for p in $(pgrep -f '^nginx: master' 2>/dev/null); do
    cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
    case $cwd in "$1"|"$1"/*) kill -TERM "$p" 2>/dev/null ;; esac
  done
}
mkdir -p "$ROOT/.run"
# one run at a time per checkout (a second one would delete the first one's copies)
LOCK=$ROOT/.run/mutate.lock
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
mkdir -p "$RUN/logs" "$RUN/base-info" "$RUN/results" "$RUN/claims"

lua5.4 scripts/mutate.lua list "$SEL" > "$RUN/list.tsv" || exit 2
if ! lua5.4 scripts/mutate.lua check "$ROOT" "$SEL"; then
  echo "mutate: the mutants above no longer apply to this tree; update scripts/mutants.lua (nothing was run)"
  exit 2
fi
NMUT=$(wc -l < "$RUN/list.tsv")
IDS=($(cut -f1 "$RUN/list.tsv"))
# the distinct suites, in first-use order
mapfile -t SUITES < <(cut -f3 "$RUN/list.tsv" | tr ' ' '\n' | awk 'NF && !seen[$0]++')

# /tmp of every suite is the scratch copy's own (a private mount namespace), so
# a suite killed at its time limit leaves nothing behind outside the copy.
ISOLATE=0
mkdir -p "$RUN/probe"
if [ "$(id -u)" = 0 ] && unshare -m sh -c 'mount --bind "$1" /tmp' _ "$RUN/probe" 2>/dev/null; then ISOLATE=1; fi
rmdir "$RUN/probe"

echo "== mutate: $NMUT mutants, suites: ${SUITES[*]}; $JOBS at a time"

# -- the base copy: the working tree's files (tracked and new), built -----------
BASE=$RUN/base
mkdir -p "$BASE"
git ls-files -z -c -o --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$BASE"
for l in lua5.4 luajit; do
  make -C "$BASE" --no-print-directory -s build LUA=$l > "$RUN/logs/build-base-$l.log" 2>&1 ||
    { cat "$RUN/logs/build-base-$l.log"; echo "mutate: the unmutated tree does not build"; exit 2; }
done

# -- one fake Konnect per worker --------------------------------------------------
FAKES=()
stop_fakes() { for d in "${FAKES[@]}"; do fake_konnect/ctl stop --dir "$d" >/dev/null 2>&1; done; }
trap 'stop_fakes; stop_nginx_under "$RUN"; rm -rf "$LOCK"' EXIT
for w in $(seq 1 "$JOBS"); do
  d=$RUN/fake-$w
  FAKES+=("$d")
  fake_konnect/ctl start --dir "$d" > "$RUN/fake-$w.env" || { echo "mutate: cannot start a fake Konnect"; exit 2; }
done

key() { echo "$1" | tr -c 'A-Za-z0-9_\n' '_'; }

# run_suite dir suite limit log worker -> sets SUITE_RC, SUITE_SECS, SUITE_TIMEOUT
run_suite() {
  local dir=$1 suite=$2 limit=$3 log=$4 w=$5 inner t pid st
  case $suite in
    busted:*)
      local files="" f
      for f in $(echo "${suite#busted:}" | tr ',' ' '); do files="$files spec/${f}_spec.lua"; done
      inner="lua5.4 /usr/bin/busted -o plainTerminal$files" ;;
    nginx) inner="bash spec/nginx/run.sh" ;;
    hostile:curl|hostile:cosocket) inner="bash spec/hostile/run.sh ${suite#hostile:}" ;;
    fuzz) inner="env LUA_PATH=\"\$PWD/lua/?.lua;\$PWD/lua/?/init.lua;\$PWD/spec/fuzz/?.lua;;\" \
lua5.4 /usr/bin/busted -o plainTerminal --pattern=_fuzz spec/fuzz" ;;
    *) echo "unknown suite $suite" > "$log"; SUITE_RC=2; SUITE_SECS=0; SUITE_TIMEOUT=0; return ;;
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
    echo "exec $inner"
  } > "$dir/.mutate-suite.sh"
  t=$(now)
  if [ "$ISOLATE" = 1 ]; then
    setsid unshare -m bash "$dir/.mutate-suite.sh" > "$log" 2>&1 < /dev/null &
  else
    setsid bash "$dir/.mutate-suite.sh" > "$log" 2>&1 < /dev/null &
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

# -- the baseline: every suite on the unmutated tree --------------------------------
baseline_job() { # worker suite-index
  local w=$1 suite=${SUITES[$2]} k dir
  k=$(key "$suite")
  dir=$RUN/b$2
  cp -a "$BASE" "$dir"
  run_suite "$dir" "$suite" 900 "$RUN/logs/base-$k.log" "$w"
  lua5.4 scripts/mutate.lua parse "$RUN/logs/base-$k.log" > "$RUN/base-info/$k.parse"
  echo "$SUITE_SECS" > "$RUN/base-info/$k.secs"
  local sum nf
  sum=$(head -n 1 "$RUN/base-info/$k.parse")
  nf=$(($(wc -l < "$RUN/base-info/$k.parse") - 1))
  printf '   baseline %-34s %6ss  %s%s\n' "$suite" "$SUITE_SECS" "$sum" \
    "$([ "$nf" -gt 0 ] && echo "  ($nf failing already: not counted as kills)")"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
}

mutant_job() { # worker id
  local w=$1 id=$2 line file suites what dir k limit status="survived" detail="" t
  line=$(awk -F'\t' -v id="$id" '$1 == id' "$RUN/list.tsv")
  file=$(echo "$line" | cut -f2); suites=$(echo "$line" | cut -f3); what=$(echo "$line" | cut -f4)
  dir=$RUN/m$id
  t=$(now)
  cp -a "$BASE" "$dir"
  if ! lua5.4 scripts/mutate.lua apply "$dir" "$id" > "$RUN/logs/$id-apply.log" 2>&1; then
    status="INVALID"; detail="did not apply: $(cat "$RUN/logs/$id-apply.log")"
  elif [[ $file == csrc/* ]]; then
    local l
    for l in lua5.4 luajit; do
      if ! make -C "$dir" --no-print-directory -s build LUA=$l > "$RUN/logs/$id-build-$l.log" 2>&1; then
        status="INVALID"; detail="does not compile (logs/$id-build-$l.log)"; break
      fi
    done
  fi
  if [ "$status" != INVALID ]; then
    local suite
    for suite in $suites; do
      k=$(key "$suite")
      local bsecs bsum log
      bsecs=$(cat "$RUN/base-info/$k.secs")
      bsum=$(head -n 1 "$RUN/base-info/$k.parse")
      limit=$(awk -v s="$bsecs" -v f="$FACTOR" 'BEGIN { printf "%d", s * f + 30 }')
      log=$RUN/logs/$id-$k.log
      run_suite "$dir" "$suite" "$limit" "$log" "$w"
      if [ "$SUITE_TIMEOUT" = 1 ]; then
        status="killed"; detail="$suite: overran its time limit (${limit}s)"; break
      fi
      lua5.4 scripts/mutate.lua parse "$log" > "$log.parse"
      local sum new
      sum=$(head -n 1 "$log.parse")
      # failing tests that pass on the unmutated tree
      new=$(tail -n +2 "$log.parse" | sort -u | comm -23 - <(tail -n +2 "$RUN/base-info/$k.parse" | sort -u))
      if [ -n "$new" ]; then
        status="killed"
        detail="$suite: $(echo "$new" | head -n 1)"
        local more; more=$(($(echo "$new" | wc -l) - 1))
        [ "$more" -gt 0 ] && detail="$detail (+$more more)"
        break
      fi
      if [ "$sum" = NOSUMMARY ] && [ "$bsum" != NOSUMMARY ]; then
        status="killed"; detail="$suite: the suite crashed (no busted summary; see logs/$id-$k.log)"; break
      fi
    done
  fi
  printf '%s\t%s\t%s\n' "$status" "$(since "$t")" "$detail" > "$RUN/results/$id"
  printf '#%-3s %-8s %6ss  %s: %s\n' "$id" "$status" "$(since "$t")" "$file" "$what"
  [ -n "$detail" ] && printf '      <- %s\n' "$detail"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
}

worker() { # worker phase jobs...
  local w=$1 phase=$2 j
  shift 2
  for j in "$@"; do
    mkdir "$RUN/claims/$phase.$j" 2>/dev/null || continue
    "${phase}_job" "$w" "$j"
  done
}
pool() { # phase jobs...
  local pids=() w
  for w in $(seq 1 "$JOBS"); do worker "$w" "$@" & pids+=($!); done
  for w in "${pids[@]}"; do wait "$w"; done
}

echo "== baseline (the unmutated tree)"
pool baseline $(seq 0 $((${#SUITES[@]} - 1)))
echo "== mutants"
pool mutant "${IDS[@]}"

# -- the score ---------------------------------------------------------------------
killed=0; survived=0; invalid=0; equiv=0
SURV=()
for id in "${IDS[@]}"; do
  st=$(cut -f1 "$RUN/results/$id" 2>/dev/null || echo INVALID)
  what=$(awk -F'\t' -v id="$id" '$1 == id { print $2 ": " $4 }' "$RUN/list.tsv")
  case $st in
    killed) killed=$((killed + 1)) ;;
    survived)
      survived=$((survived + 1))
      eq=$(lua5.4 -e "for _, m in ipairs(dofile('scripts/mutants.lua')) do
        if m.id == $id and m.equivalent then io.write(m.equivalent) end end")
      if [ -n "$eq" ]; then equiv=$((equiv + 1)); SURV+=("#$id $what (equivalent: $eq)")
      else SURV+=("#$id $what"); fi ;;
    *) invalid=$((invalid + 1)); SURV+=("#$id INVALID $what: $(cut -f3 "$RUN/results/$id" 2>/dev/null)") ;;
  esac
done
echo "== all mutants, by id"
for id in "${IDS[@]}"; do
  IFS=$'\t' read -r st secs detail < "$RUN/results/$id" 2>/dev/null || { st=INVALID; secs=0; detail="no result"; }
  what=$(awk -F'\t' -v id="$id" '$1 == id { print $2 ": " $4 }' "$RUN/list.tsv")
  printf '#%-3s %-8s %s\n' "$id" "$st" "$what"
  [ -n "$detail" ] && printf '     %s\n' "$detail"
done
echo "== score"
awk -v k=$killed -v n="$NMUT" -v e=$equiv 'BEGIN {
  printf "killed %d of %d mutants: %.1f%%", k, n, n ? 100 * k / n : 0
  if (e > 0) printf " (%.1f%% of the %d that are not equivalent)", (n - e) ? 100 * k / (n - e) : 0, n - e
  printf "\n" }'
if [ ${#SURV[@]} -gt 0 ]; then
  echo "survivors:"
  for s in "${SURV[@]}"; do echo "  $s"; done
fi
echo "wall time $(since "$T0") s"
[ $((survived - equiv + invalid)) -eq 0 ]
