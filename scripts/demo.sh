#!/usr/bin/env bash
# `make demo`: the tour of all six operations.  Against the fake Konnect
# server (started and stopped here), always, even when KONNECT_TOKEN is
# exported; against real Konnect only when asked: `make demo KONNECT=real`
# (KONNECT_DEMO_TARGET=real), which says what it will create before it does.
set -u
cd "$(dirname "$0")/.."
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/build/5.4/?.so;;"
case ${KONNECT_DEMO_TARGET:-} in
  real)
    if [ -z "${KONNECT_TOKEN:-}" ]; then
      echo "make demo KONNECT=real needs KONNECT_TOKEN (a kpat_… token of your Konnect user)"; exit 2
    fi
    echo "KONNECT=real: touring ${KONNECT_SERVER_URL:-real Konnect (https://global.api.konghq.com)} as the owner of KONNECT_TOKEN."
    echo "It will create one token named \"lua-konnect tour\" (one-day TTL) in your organisation, rename,"
    echo "revoke and delete it.  Starting in 5 seconds; Ctrl-C to stop."
    sleep "${KONNECT_DEMO_WAIT:-5}"
    exec lua5.4 examples/tour.lua ;;
  ""|fake) ;;
  *) echo "make demo: KONNECT=${KONNECT_DEMO_TARGET} is not known (KONNECT=real for real Konnect; default: the fake server)"
     exit 2 ;;
esac
[ -n "${KONNECT_TOKEN:-}" ] &&
  echo "(KONNECT_TOKEN is set but ignored: make demo uses the fake Konnect; make demo KONNECT=real for real Konnect)"
dir=$PWD/.run/demo
out=$(fake_konnect/ctl start --dir "$dir") || { echo "could not start the fake Konnect server"; exit 1; }
eval "$out"
trap 'fake_konnect/ctl stop --dir "$dir" >/dev/null 2>&1' EXIT
rm -f "$dir/demo-secret"
echo "fake Konnect at $FAKE_KONNECT_HTTPS (TLS, throwaway CA) — signed in as the seeded user alice"
export KONNECT_TOKEN=kpat_fake_alice_bootstrap KONNECT_SERVER_URL=$FAKE_KONNECT_HTTPS KONNECT_CA_FILE=$FAKE_KONNECT_CA
lua5.4 examples/tour.lua || exit 1
if [ -x bin/konnect-pats ]; then
  echo; echo "== the same from the command line (bin/konnect-pats)"
  for cmd in "whoami" "create --name demo-cli --ttl 1d --json" "list"; do
    echo "\$ konnect-pats $cmd"
    if [ "${cmd#create}" != "$cmd" ]; then
      lua5.4 bin/konnect-pats $cmd --secret-file "$dir/demo-secret" || exit 1
      echo "(secret written to a 0600 file, not shown)"
    else
      lua5.4 bin/konnect-pats $cmd || exit 1
    fi
  done
fi
