#!/usr/bin/env bash
# `make demo`: the tour of all six operations.  Against the fake Konnect
# server (started and stopped here), or real Konnect when KONNECT_TOKEN is set.
set -u
cd "$(dirname "$0")/.."
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/build/5.4/?.so;;"
if [ -n "${KONNECT_TOKEN:-}" ]; then
  echo "KONNECT_TOKEN is set: touring ${KONNECT_SERVER_URL:-real Konnect (https://global.api.konghq.com)}"
  exec lua5.4 examples/tour.lua
fi
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
