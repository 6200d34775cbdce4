#!/usr/bin/env bash
# bench/lib/static_upstream.sh: a static nginx that answers every request with
# the exact reply of the fake Konnect to one PAT get (bench/lib/static_upstream.conf.in).
#
#   bench/lib/static_upstream.sh start DIR   -> shell lines STATIC_URL= STATIC_USER= STATIC_TOKEN=
#                                               STATIC_ID= STATIC_PID=   (eval them)
#   bench/lib/static_upstream.sh stop DIR
#
# start: runs the fake Konnect (fake_konnect/ctl, under DIR/fake) just long enough
# to create a token and GET it as the library does (Authorization, Accept), keeps
# that reply's body, Content-Type and x-kong-request-id, stops the fake, and
# starts nginx with them (scripts/nginx.sh, under DIR/static).  A GET of
# STATIC_URL/v3/users/STATIC_USER/access-tokens/STATIC_ID then gets the same
# bytes the fake would have sent.  STATIC_CPU=N pins that nginx (taskset).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
USER_ID=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap

die() { echo "static_upstream: $*" >&2; exit 1; }

start() {
  local dir=$1 base id body ct rid out
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  stop "$dir"
  out=$("$root/fake_konnect/ctl" start --dir "$dir/fake") || die "could not start the fake Konnect"
  eval "$out"
  base=$FAKE_KONNECT_HTTP
  id=$(curl -fsS -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
         --data-binary '{"name":"bench","ttl_seconds":86400}' "$base/v3/users/$USER_ID/access-tokens" |
       sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
  curl -fsS -D "$dir/get.head" -o "$dir/get.body" -H "Authorization: Bearer $TOKEN" -H "Accept: application/json" \
    "$base/v3/users/$USER_ID/access-tokens/$id" || die "the fake's GET failed"
  "$root/fake_konnect/ctl" stop --dir "$dir/fake" >/dev/null 2>&1 || true
  [ -n "$id" ] || die "could not create a token on the fake"
  hdr() { tr -d '\r' <"$dir/get.head" | sed -n "s/^$1: *//Ip" | tail -n 1; }
  ct=$(hdr content-type)
  rid=$(hdr x-kong-request-id)
  body=$(cat "$dir/get.body")
  # the body goes into a single-quoted nginx string and through bash's ${//}:
  # refuse what either would read as syntax rather than escape it
  case $body in *"'"*|*"\\"*|*'$'*|*'&'*|*$'\n'*) die "the fake's body has a character this template cannot carry" ;; esac
  [[ $ct =~ ^[A-Za-z0-9/.+-]+$ ]] || die "unexpected Content-Type from the fake: $ct"
  [[ $rid =~ ^[A-Za-z0-9-]*$ ]] || die "unexpected x-kong-request-id from the fake"
  [ "$(wc -c <"$dir/get.body")" = "${#body}" ] || die "the fake's body has bytes this template cannot carry"
  sed "s|default_type application/json;|default_type $ct;|" "$root/bench/lib/static_upstream.conf.in" >"$dir/static.conf.in"
  out=$("$root/scripts/nginx.sh" start "$dir/static.conf.in" "$dir/static" "BODY=$body" "REQUEST_ID=${rid:-static}") ||
    die "could not start the static nginx"
  local PORT="" PID=""
  eval "$out"
  if [ -n "${STATIC_CPU:-}" ] && command -v taskset >/dev/null; then
    for p in $PID $(pgrep -P "$PID" || true); do taskset -a -p -c "$STATIC_CPU" "$p" >/dev/null 2>&1 || true; done
  fi
  # the reply must be the fake's, byte for byte
  curl -fsS -o "$dir/static.body" "http://127.0.0.1:$PORT/v3/users/$USER_ID/access-tokens/$id" ||
    die "the static nginx does not answer"
  cmp -s "$dir/get.body" "$dir/static.body" || die "the static nginx's body differs from the fake's"
  printf 'STATIC_URL=http://127.0.0.1:%s\nSTATIC_USER=%s\nSTATIC_TOKEN=%s\nSTATIC_ID=%s\nSTATIC_PID=%s\n' \
    "$PORT" "$USER_ID" "$TOKEN" "$id" "$PID"
}

stop() {
  "$root/scripts/nginx.sh" stop "$1/static"
  [ -d "$1/fake" ] && { "$root/fake_konnect/ctl" stop --dir "$1/fake" >/dev/null 2>&1 || true; }
  return 0
}

case ${1:-} in
  start) [ $# -eq 2 ] || die "usage: start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: stop DIR"; stop "$2" ;;
  *) die "usage: bench/lib/static_upstream.sh start|stop DIR" ;;
esac
