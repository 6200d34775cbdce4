#!/usr/bin/env bash
# konnect-pats --secret-file with two local users: root runs the CLI, another
# user (nobody, or daemon; created if neither exists) pre-plants names in a
# shared sticky directory (mode 1777, like /tmp) and a shared non-sticky one
# (0777).  A planted symlink (to a file the other user can read, or to a pipe
# with the other user's reader attached), a planted pipe or a directory never
# receives the secret: without --force the CLI fails cleanly (exit 2, no token
# minted); with --force the link is replaced, not followed.  The other user
# also plants links at every name the old temporary scheme could pick
# (PATH.konnect-pats-<time><0000-9999>) in the second the CLI runs
# (KONNECT_TWO_USERS_PREDICTABLE=0 skips that slower case).
#
# Needs root and the fake Konnect (FAKE_KONNECT_HTTP); run by
# spec/cli_files_spec.lua, or by hand:
#   eval "$(fake_konnect/ctl start --dir $PWD/.run/fake)"; sudo -E bash spec/cli/two_users.sh
# Ends with "two users: N passed, M failed"; exit status 0 when none failed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LUA=${KONNECT_TEST_LUA:-lua5.4}
CLI=${KONNECT_CLI:-"$ROOT/bin/konnect-pats"}
: "${FAKE_KONNECT_HTTP:?start the fake Konnect first: eval \"\$(fake_konnect/ctl start)\"}"
ALICE=00000000-0000-4000-8000-0000000a11ce

if [ "$(id -u)" != 0 ]; then echo "two_users.sh: needs root"; exit 77; fi

OTHER=
for u in nobody daemon; do
  if getent passwd "$u" >/dev/null; then OTHER=$u; break; fi
done
if [ -z "$OTHER" ]; then
  useradd -r -M -s /usr/sbin/nologin nobody && OTHER=nobody || { echo "cannot create a second user"; exit 1; }
fi
OUID=$(id -u "$OTHER"); OGID=$(id -g "$OTHER")
as_other() {
  if command -v setpriv >/dev/null; then
    setpriv --reuid="$OUID" --regid="$OGID" --clear-groups -- "$@"
  else
    su -s /bin/sh "$OTHER" -c "$(printf '%q ' "$@")"
  fi
}

BASE=$(mktemp -d)
chmod 755 "$BASE"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  rm -rf "$BASE"
}
trap cleanup EXIT

passed=0; failed=0
check() { # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}

posts() {
  curl -s "$FAKE_KONNECT_HTTP/__fake/requests" |
    perl -ne 'print /"POST \/v3\/users\/'"$ALICE"'\/access-tokens":(\d+)/ ? $1 : 0'
}
reset() { curl -s -X POST "$FAKE_KONNECT_HTTP/__fake/reset" >/dev/null; }

# run the CLI as root: create a token with the secret in $1, extra args after
run_cli() {
  local path=$1; shift
  (cd "$BASE" && env -u KONNECT_CA_FILE KONNECT_TOKEN=kpat_fake_alice_bootstrap KONNECT_SERVER_URL="$FAKE_KONNECT_HTTP" \
    "$LUA" "$CLI" create --name two-users --ttl 1d --secret-file "$path" "$@" > "$BASE/out" 2> "$BASE/err" < /dev/null)
  echo $?
}

# a reader of the other user's, attached to a pipe; its output in $2
reader() {
  as_other timeout 30 sh -c 'cat 0<>"$1" > "$2"' sh "$1" "$2" < /dev/null > /dev/null 2>&1 &
  PIDS+=("$!")
  sleep 0.2
}
stop_readers() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; PIDS=(); sleep 0.1; }

no_token_in() { ! grep -qs 'kpat_' "$@"; }

for kind in sticky plain; do
  D="$BASE/$kind"
  mkdir "$D"
  if [ $kind = sticky ]; then chmod 1777 "$D"; else chmod 0777 "$D"; fi
  OD="$BASE/$kind-other"   # the other user's own files (readable by it)
  mkdir "$OD"; chown "$OUID:$OGID" "$OD"

  # 1. a symlink to a file the other user can read
  reset
  as_other sh -c 'echo bait > "$1/bait"; chmod 644 "$1/bait"; ln -s "$1/bait" "$2/s1"' sh "$OD" "$D"
  code=$(run_cli "$D/s1")
  check "$kind: symlink to a readable file, no --force: exit 2" test "$code" = 2
  check "$kind: symlink to a readable file: no token minted" test "$(posts)" = 0
  check "$kind: symlink to a readable file: the file untouched" test "$(cat "$OD/bait")" = bait
  code=$(run_cli "$D/s1" --force)
  check "$kind: symlink to a readable file, --force: exit 0" test "$code" = 0
  check "$kind: --force: the link replaced by root's 0600 regular file" \
    test "$(stat -c '%U %a %F' "$D/s1")" = "root 600 regular file"
  check "$kind: --force: the other user's file untouched" test "$(cat "$OD/bait")" = bait

  # 2. a symlink to a pipe with the other user's reader attached
  reset
  as_other sh -c 'mkfifo "$1/pipe"; ln -s "$1/pipe" "$2/s2"' sh "$OD" "$D"
  reader "$OD/pipe" "$OD/stolen2"
  code=$(run_cli "$D/s2")
  check "$kind: symlink to a pipe with a reader, no --force: exit 2" test "$code" = 2
  check "$kind: symlink to a pipe: no token minted" test "$(posts)" = 0
  code=$(run_cli "$D/s2" --force)
  stop_readers
  check "$kind: symlink to a pipe, --force: exit 0 (the link replaced)" test "$code" = 0
  check "$kind: symlink to a pipe: the reader got nothing" no_token_in "$OD/stolen2"

  # 3. a pipe planted at PATH, with a reader
  reset
  as_other mkfifo "$D/p3"
  reader "$D/p3" "$OD/stolen3"
  code=$(run_cli "$D/p3")
  check "$kind: a planted pipe, no --force: exit 2" test "$code" = 2
  code=$(run_cli "$D/p3" --force)
  check "$kind: a planted pipe, --force: exit 2" test "$code" = 2
  stop_readers
  check "$kind: a planted pipe: no token minted" test "$(posts)" = 0
  check "$kind: a planted pipe: the reader got nothing" no_token_in "$OD/stolen3"

  # 4. a directory planted at PATH
  reset
  as_other mkdir "$D/d4"
  check "$kind: a planted directory, no --force: exit 2" test "$(run_cli "$D/d4")" = 2
  check "$kind: a planted directory, --force: exit 2" test "$(run_cli "$D/d4" --force)" = 2
  check "$kind: a planted directory: no token minted" test "$(posts)" = 0
  check "$kind: a planted directory: still empty" test -z "$(ls -A "$D/d4")"

  # 5. (sticky only: it takes a few seconds) links at every name the old --force
  # temporary could take in the second the CLI runs (PATH.konnect-pats-<time><0000-9999>),
  # to a pipe with the other user's reader attached
  if [ $kind = sticky ] && [ "${KONNECT_TWO_USERS_PREDICTABLE:-1}" = 1 ]; then
    reset
    as_other mkfifo "$OD/pipe5"
    T=$(( $(date +%s) + 3 ))
    as_other perl -e 'my ($d, $p, $s) = @ARGV; for my $r (0 .. 9999) {
        symlink($p, sprintf("%s/s5.konnect-pats-%d%04d", $d, $s, $r)) }' "$D" "$OD/pipe5" "$T"
    as_other sh -c 'echo old > "$1/s5"' sh "$D"
    reader "$OD/pipe5" "$OD/stolen5"
    while [ "$(date +%s)" -lt "$T" ]; do sleep 0.05; done
    code=$(run_cli "$D/s5" --force)
    stop_readers
    check "$kind: predictable temporaries planted, --force: exit 0" test "$code" = 0
    check "$kind: predictable temporaries planted: the reader got nothing" no_token_in "$OD/stolen5"
    check "$kind: predictable temporaries planted: PATH is root's 0600 file" \
      test "$(stat -c '%U %a %F' "$D/s5")" = "root 600 regular file"
    check "$kind: no output carries the secret" no_token_in "$BASE/err"
    find "$D" -maxdepth 1 -name 's5.konnect-pats-*' -delete
  fi
done

echo "two users: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
