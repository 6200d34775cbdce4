#!/usr/bin/env bash
# spec/docs/run.sh: the docs as a tested contract.  Runs every shell, console
# and nginx.conf snippet of README.md and docs/API.md (spec/docs/snippets_docs.lua;
# the Lua blocks are spec/docs_spec.lua's, on every interpreter) the way a new
# user would: README's Install in a fresh copy of the checkout, its first
# script and an example with what was installed, the OpenResty install and
# nginx.conf in a throwaway nginx, the CLI session, the rest against the fake.
#
# A user's commands write to the system (luarocks into /usr/local, /opt, nginx's
# logs), so they run in a sandbox of their own: new mount, network and pid
# namespaces (unshare; as root, or a user namespace otherwise) where
#   /usr/local, /opt, /var/log/nginx and /var/lib/nginx are empty tmpfs,
#   HOME is a temporary directory,
#   the network is loopback only (nothing can leave the machine, and port 8080
#     is free for the README's nginx.conf),
#   /etc/ssl/certs/ca-certificates.crt, the system CA bundle, is the fake
#     Konnect's CA: the snippets written for real Konnect trust the fake as
#     they would trust Konnect, without a line changed,
# and a fake Konnect of its own runs inside.  Everything ends with the pid
# namespace.  Prints busted's summary line (scripts/test.sh counts it).
#   bash spec/docs/run.sh [busted options, e.g. --filter=OpenResty]
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

fail() { # not a test failure of ours, but count it as one
  echo "spec/docs: $*" >&2
  echo "0 successes / 0 failures / 1 error / 0 pending : 0.0 seconds"
  exit 1
}

if [ -z "${KONNECT_DOCS_SANDBOX:-}" ]; then
  command -v unshare >/dev/null || fail "unshare (util-linux) not found"
  ns=(unshare --mount --net --pid --fork --mount-proc)
  [ "$(id -u)" = 0 ] || ns=(unshare --map-root-user --mount --net --pid --fork --mount-proc)
  "${ns[@]}" true 2>/dev/null || fail "cannot make the sandbox (${ns[*]}): run make test as root, or allow user namespaces"
  exec env KONNECT_DOCS_SANDBOX=1 "${ns[@]}" bash "$0" "$@"
fi

# inside the sandbox
command -v ip >/dev/null || fail "ip (iproute2) not found"
ip link set lo up || fail "cannot bring up loopback in the sandbox"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/konnect-docs.XXXXXX")
for d in /usr/local /opt /var/log/nginx /var/lib/nginx; do
  mkdir -p "$d" 2>/dev/null
  mount -t tmpfs -o mode=0755 tmpfs "$d" || fail "cannot mount a tmpfs on $d"
done
mkdir -p /var/lib/nginx/body /var/lib/nginx/proxy /var/lib/nginx/fastcgi /var/lib/nginx/uwsgi /var/lib/nginx/scgi
mkdir -p "$tmp/home"
export HOME=$tmp/home
unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 KONNECT_TOKEN KONNECT_TOKEN_FILE KONNECT_SERVER_URL KONNECT_CA_FILE
out=$(fake_konnect/ctl start --dir "$tmp/fake") || fail "could not start the fake Konnect"
eval "$out"
mount --bind "$FAKE_KONNECT_CA" /etc/ssl/certs/ca-certificates.crt || fail "cannot put the fake's CA in the system bundle"
export KONNECT_DOCS_TMP=$tmp

echo "== docs snippets in a sandbox (tmpfs /usr/local /opt, HOME=$HOME, loopback only, fake Konnect at $FAKE_KONNECT_HTTPS)"
LUA_CPATH="$root/build/5.4/?.so;;" \
LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;$root/spec/?.lua;;" \
  lua5.4 /usr/bin/busted -o plainTerminal --pattern=_docs "$@" spec/docs
rc=$?
fake_konnect/ctl stop --dir "$tmp/fake" >/dev/null 2>&1
[ "${KEEP:-0}" = 1 ] && echo "spec/docs: kept $tmp (inside the sandbox only: its tmpfs are gone)" >&2 || rm -rf "$tmp"
exit $rc
