#!/usr/bin/env bash
# The install check of `make test` (scripts/test.sh's side lane; FAKE_KONNECT_HTTP
# must be set): the README's Install commands, one after the other, from ONE working
# copy of this checkout (a copy because other lanes read this checkout's build/):
#   make install LUA=lua5.1  (before any rock build)
#   luarocks --lua-version=5.4 make …        -> tree 5.4
#   luarocks --lua-version=5.1 make …        -> tree 5.1
#   luarocks --lua-version=5.1 make … LUA=luajit LUA_INCDIR=…  -> tree jit
#   make install LUA=luajit  (after them), then make uninstall
# Each result is run with its own interpreter: the library's get against the fake
# server, and the installed konnect-pats run as a user runs it (no LUA_PATH, its
# shebang): --version names the interpreter, get --json prints the same bytes
# everywhere and comes from the precompiled bundle.  Then the 5.1 tree's modules
# are loaded in a throwaway nginx and make one call over the cosocket transport.
# Prints one line per check, then "rock: ok" or "rock: FAILED: …" (exit 1).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
ALICE=00000000-0000-4000-8000-0000000a11ce
TOKEN=kpat_fake_alice_bootstrap
work=$(mktemp -d /tmp/konnect-rock.XXXXXX)
nginx_dir=
cleanup() {
  [ -n "$nginx_dir" ] && "$ROOT/scripts/nginx.sh" stop "$nginx_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "rock: FAILED: $*"; exit 1; }
ok() { echo "  ok  $*"; }
[ -n "${FAKE_KONNECT_HTTP:-}" ] || fail "FAKE_KONNECT_HTTP is not set (eval \"\$(fake_konnect/ctl start)\")"
command -v luajit >/dev/null || fail "luajit not found (make deps)"

src=$work/src
mkdir -p "$src"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src"
version=$(cd "$src" && lua5.4 -e 'package.path = "lua/?.lua"; io.write(require("konnect.limits").VERSION)')

# a token to get, created with curl (not with the code under test); its secret is never printed
id=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
       -d '{"name":"rock-check","ttl_seconds":86400}' "$FAKE_KONNECT_HTTP/v3/users/$ALICE/access-tokens" |
     grep -o '"id":"[0-9a-f-]*"' | head -n 1 | cut -d'"' -f4)
[ -n "$id" ] || fail "could not create a token on the fake server"

# LUA_INIT hook (read by every interpreter but 5.4 and 5.3, which read LUA_INIT_5_x
# first: unset): says on stderr, at exit, whether konnect.cli came from the bundle
cat > "$work/which.lua" <<'LUA'
local exit = os.exit
os.exit = function(...)
  io.stderr:write("konnect.cli: ", package.preload["konnect.cli"] and "bundle" or "sources", "\n")
  return exit(...)
end
LUA

reference=
# check NAME INTERP LV BIN SHARE LIB: what got installed, run by INTERP
check() {
  local name=$1 interp=$2 lv=$3 bin=$4 share=$5 lib=$6 path want out
  path=$(command -v "$interp")
  [ "$(head -n 1 "$bin")" = "#!$path" ] || fail "$name: konnect-pats starts with $(head -n 1 "$bin"), not #!$path"
  case $interp in luajit) want="LuaJIT" ;; *) want="Lua $lv" ;; esac
  out=$(cd /tmp && env -u LUA_PATH -u LUA_CPATH "$bin" --version 2>&1) || fail "$name: konnect-pats --version: $out"
  case $out in *"lua-konnect $version, $want"*) ;; *) fail "$name: konnect-pats --version says: $out" ;; esac
  out=$(cd /tmp && env -u LUA_PATH -u LUA_CPATH -u LUA_INIT_5_4 -u LUA_INIT_5_3 LUA_INIT="@$work/which.lua" \
        KONNECT_TOKEN=$TOKEN KONNECT_SERVER_URL=$FAKE_KONNECT_HTTP "$bin" get "$ALICE" "$id" --json 2>"$work/err") ||
    fail "$name: konnect-pats get --json: $out $(cat "$work/err")"
  [ "$(cat "$work/err")" = "konnect.cli: bundle" ] || fail "$name: konnect-pats did not run its bundle: $(cat "$work/err")"
  case $out in *"\"id\":\"$id\""*"\"name\":\"rock-check\""*) ;; *) fail "$name: konnect-pats get --json printed: $out" ;; esac
  [ -z "$reference" ] && reference=$out
  [ "$out" = "$reference" ] || fail "$name: konnect-pats get --json printed $out, the first install printed $reference"
  # the library, from this tree only (and Debian's lua-cjson)
  out=$(cd /tmp && LUA_PATH="$share/?.lua;$share/?/init.lua;;" LUA_CPATH="$lib/?.so;;" "$interp" - "$ALICE" "$id" <<'LUA' 2>&1
local alice, id = ...
local pats = require "konnect.pats"
local client = assert(pats.new { token = "kpat_fake_alice_bootstrap", server_url = os.getenv("FAKE_KONNECT_HTTP") })
local tok, err = client:get(alice, id)
if not tok then error(tostring(err), 0) end
local core = "none"
for line in io.lines("/proc/self/maps") do core = line:match("%s(/%S+/konnect/core%.so)$") or core end
io.write(tok.name, " ", core, "\n")
LUA
) || fail "$name: the library's get with $interp: $out"
  [ "$out" = "rock-check $lib/konnect/core.so" ] || fail "$name: the library's get with $interp: $out"
  ok "$name: konnect-pats (#!$path) --version, get --json from its bundle; the library's get run by $interp"
}

cd "$src"
make -s install LUA=lua5.1 PREFIX="$work/usr-5.1" >"$work/install-5.1.log" 2>&1 ||
  { cat "$work/install-5.1.log"; fail "make install LUA=lua5.1"; }
for t in 5.4:lua5.4 5.1:lua5.1 jit:luajit; do
  lv=${t%%:*} interp=${t#*:} extra=()
  [ "$lv" = jit ] && { lv=5.1; extra=(LUA="$(command -v luajit)" LUA_INCDIR=/usr/include/luajit-2.1); }
  luarocks --lua-version=$lv make --deps-mode=none --tree "$work/tree-${t%%:*}" lua-konnect-scm-1.rockspec \
    "${extra[@]}" >"$work/luarocks-${t%%:*}.log" 2>&1 ||
    { cat "$work/luarocks-${t%%:*}.log"; fail "luarocks --lua-version=$lv make ${extra[*]}"; }
done
make -s install LUA=luajit PREFIX="$work/usr-jit" >"$work/install-jit.log" 2>&1 ||
  { cat "$work/install-jit.log"; fail "make install LUA=luajit"; }
cd /tmp
ok "from one working copy: make install LUA=lua5.1; luarocks make for Lua 5.4, 5.1, LuaJIT; make install LUA=luajit"

for t in 5.4:lua5.4 5.1:lua5.1 jit:luajit; do
  tree=$work/tree-${t%%:*} interp=${t#*:} lv=5.1
  [ "$interp" = lua5.4 ] && lv=5.4
  check "tree $interp" "$interp" "$lv" "$tree/bin/konnect-pats" "$tree/share/lua/$lv" "$tree/lib/lua/$lv"
done
for t in 5.1:lua5.1 jit:luajit; do
  p=$work/usr-${t%%:*}
  check "make install LUA=${t#*:}" "${t#*:}" 5.1 "$p/bin/konnect-pats" "$p/share/lua/5.1" "$p/lib/lua/5.1"
done
(cd "$src" && make -s uninstall LUA=luajit PREFIX="$work/usr-jit" >/dev/null 2>&1) || fail "make uninstall LUA=luajit"
left=$(find "$work/usr-jit" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall LUA=luajit removes every file make install put there"

# the 5.1 tree's modules inside nginx (LuaJIT), cosocket transport, one call
nginx_dir=$work/nginx
tree=$work/tree-5.1
cat > "$work/nginx.conf.in" <<'NGINX'
@USER_LINE@
worker_processes 1;
error_log @DIR@/error.log;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
events { worker_connections 16; }
http {
  access_log off;
  client_body_temp_path @DIR@/tmp/client_body;
  proxy_temp_path @DIR@/tmp/proxy;
  fastcgi_temp_path @DIR@/tmp/fastcgi;
  uwsgi_temp_path @DIR@/tmp/uwsgi;
  scgi_temp_path @DIR@/tmp/scgi;
  lua_package_path "@TREE@/share/lua/5.1/?.lua;@TREE@/share/lua/5.1/?/init.lua;;";
  lua_package_cpath "@TREE@/lib/lua/5.1/?.so;;";
  server {
    listen 127.0.0.1:@PORT@;
    location = /get {
      content_by_lua_block {
        local pats = require "konnect.pats"
        local client = assert(pats.new { token = "@TOKEN@", server_url = "@URL@", transport = "cosocket" })
        local tok, err = client:get("@ALICE@", "@ID@")
        ngx.say(tok and tok.name or tostring(err), " ", debug.getinfo(pats.new, "S").source)
      }
    }
  }
}
NGINX
out=$(cd "$ROOT" && scripts/nginx.sh start "$work/nginx.conf.in" "$nginx_dir" TREE="$tree" TOKEN=$TOKEN \
        URL="$FAKE_KONNECT_HTTP" ALICE=$ALICE ID="$id" 2>&1) || fail "nginx did not start: $out"
eval "$out"
out=$(curl -s "http://127.0.0.1:$PORT/get")
[ "$out" = "rock-check @$tree/share/lua/5.1/konnect/pats.lua" ] ||
  fail "nginx with the 5.1 tree's modules answered: $out $(tail -n 5 "$nginx_dir/error.log")"
ok "nginx: the 5.1 tree's modules, one get over the cosocket transport"
echo "rock: ok (lua-konnect $version: three LuaRocks trees and two make installs from one working copy)"
