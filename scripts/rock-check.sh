#!/usr/bin/env bash
# Install with `luarocks make --deps-mode=none` into a throwaway tree and run
# the README's example and the CLI from that tree against the fake server
# (FAKE_KONNECT_* must be set).  Prints "rock: ok" or the failure.
set -u
cd "$(dirname "$0")/.."
tree=$(mktemp -d /tmp/konnect-rock.XXXXXX)
trap 'rm -rf "$tree"' EXIT
log=$tree/luarocks.log
# build from a copy (the make build writes build/rock/ only, but other lanes share the checkout)
src=$tree/src
mkdir -p "$src"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src"
if ! (cd "$src" && luarocks --lua-version=5.4 make --deps-mode=none --tree "$tree" lua-konnect-scm-1.rockspec) >"$log" 2>&1; then
  cat "$log"; echo "rock: luarocks make failed"; exit 1
fi
eval "$(luarocks --lua-version=5.4 path --tree "$tree")"
export PATH="$tree/bin:$PATH"
( cd /tmp && lua5.4 - <<'LUA'
local pats = require "konnect.pats"
assert(package.searchpath("konnect.core", package.cpath):find("/tmp/konnect%-rock"), "core not from the tree")
local client = assert(pats.new { token = "kpat_fake_alice_bootstrap",
  server_url = os.getenv("FAKE_KONNECT_HTTPS"), ca_file = os.getenv("FAKE_KONNECT_CA") })
local me = assert(client:me())
local tok, err = client:create(me.id, { name = "from the rock", ttl_seconds = 86400 })
assert(tok, tostring(err))
assert(client:revoke(me.id, tok.id))
assert(client:delete(me.id, tok.id))
LUA
) || { echo "rock: the README example failed from the installed tree"; exit 1; }
who=$(cd /tmp && KONNECT_TOKEN=kpat_fake_alice_bootstrap KONNECT_SERVER_URL=$FAKE_KONNECT_HTTPS \
      konnect-pats --ca-file "$FAKE_KONNECT_CA" whoami --json) || { echo "rock: konnect-pats from the tree failed"; exit 1; }
case $who in *00000000-0000-4000-8000-0000000a11ce*) ;; *) echo "rock: unexpected whoami: $who"; exit 1 ;; esac
echo "rock: ok (luarocks make into $tree, README example and konnect-pats whoami from the tree)"
