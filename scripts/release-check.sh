#!/usr/bin/env bash
# `make release-check`: can this commit be released?  Works on a fresh clone of
# HEAD (committed files only), so what it checks is what a user would get.
#   1. `luarocks lint` on both rockspecs;
#   2. one version: lua/konnect/limits.lua's VERSION = the versioned rockspec's
#      version = its source tag (v<version>) = a CHANGELOG.md section; the two
#      rockspecs differ only in version and tag, and install every module of lua/;
#   3. `luarocks make --deps-mode=none` (no other flag) in the clone leaves nothing
#      in the source tree outside build/;
#   5. the Kong plugin's rock (kong-plugin-konnect-pat-rotator-<version>-1.rockspec):
#      lint, its version = the handler's VERSION (tag kong-plugin-konnect-pat-rotator-<version>),
#      it depends on lua-konnect and installs every module of the plugin as
#      kong.plugins.konnect-pat-rotator.*; packed, built into the LuaJIT (else 5.1) tree
#      on top of the lua-konnect rock, and its handler and schema load from there.
#   4. `luarocks pack` of the versioned rockspec gives a source rock that builds in
#      a fresh tree (--deps-mode=none, on top of Debian's lua-cjson), for Lua 5.4,
#      5.1 (run by lua5.1 and luajit) and a 5.1 tree built by LuaJIT, and passes a smoke test there against a
#      fake Konnect (started here unless FAKE_KONNECT_* are set): version, create, revoke, delete, konnect-pats;
#      the installed konnect-pats runs its tree's precompiled bundle (konnect/cli_bundle.luac) on the
#      interpreter that made it, and the sources on the other one (5.1 vs LuaJIT).
# Prints one line per check and ends with "release-check: ok" (exit 0) or the failure.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
work=$(mktemp -d /tmp/konnect-release.XXXXXX)
fake_dir=
cleanup() {
  [ -n "$fake_dir" ] && fake_konnect/ctl stop --dir "$fake_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "release-check: FAILED: $*"; exit 1; }
ok() { echo "  ok  $*"; }

[ -z "$(git status --porcelain --untracked-files=no)" ] ||
  echo "  note: uncommitted changes are not checked (a fresh clone of HEAD is)"

git clone -q "$ROOT" "$work/src" || fail "git clone"
cd "$work/src"

# 1. lint
for r in lua-konnect-scm-1.rockspec lua-konnect-*-1.rockspec; do
  [ -f "$r" ] || fail "$r missing"
  luarocks lint "$r" >"$work/lint.log" 2>&1 || { cat "$work/lint.log"; fail "luarocks lint $r"; }
done
ok "luarocks lint: $(ls lua-konnect-*.rockspec | tr '\n' ' ')"
prs=$(ls kong-plugin-konnect-pat-rotator-*-1.rockspec 2>/dev/null)
[ "$(echo "$prs" | wc -w)" = 1 ] || fail "exactly one kong-plugin-konnect-pat-rotator-<version>-1.rockspec, found: $prs"
luarocks lint "$prs" >"$work/lint.log" 2>&1 || { cat "$work/lint.log"; fail "luarocks lint $prs"; }
pversion=$(lua5.4 - "$prs" <<'LUA'
local file = ...
local function check(cond, msg) if not cond then io.stderr:write(msg, "\n"); os.exit(1) end end
local spec = {}
assert(loadfile(file, "t", spec))()
local dir = "examples/kong-plugin/kong/plugins/konnect-pat-rotator"
local handler = assert(io.open(dir .. "/handler.lua")):read("*a")
local hv = handler:match('VERSION = "([^"]+)"')
check(hv, "the handler has no VERSION")
check(spec.package == "kong-plugin-konnect-pat-rotator", "package must be kong-plugin-konnect-pat-rotator")
check(spec.version == hv .. "-1", "the plugin rockspec says " .. tostring(spec.version) .. ", the handler " .. hv)
check(file == "kong-plugin-konnect-pat-rotator-" .. hv .. "-1.rockspec", file .. " is not named after " .. hv)
check(spec.source.tag == "kong-plugin-konnect-pat-rotator-" .. hv, "source.tag must be kong-plugin-konnect-pat-rotator-" .. hv)
local dep
for _, d in ipairs(spec.dependencies) do if d:match("^lua%-konnect") then dep = d end end
check(dep, "the plugin must depend on lua-konnect")
local listed = {}
for name, path in pairs(spec.build.modules) do
  check(name == "kong.plugins.konnect-pat-rotator." .. path:match("([^/]+)%.lua$") and path:sub(1, #dir) == dir,
    name .. " -> " .. path .. ": modules install as kong.plugins.konnect-pat-rotator.<file>")
  listed[path] = true
end
local p = io.popen("find " .. dir .. " -name '*.lua' | sort")
for f in p:lines() do check(listed[f], f .. " is not in the plugin rockspec's build.modules") end
p:close()
io.write(hv)
LUA
) || fail "plugin rockspec consistency"
ok "luarocks lint $prs; version $pversion = the handler's VERSION; depends on lua-konnect; installs every plugin module"

# 2. one name, one version
version=$(lua5.4 -e 'package.path = "lua/?.lua;" .. package.path; io.write(require("konnect.limits").VERSION)') ||
  fail "cannot read limits.VERSION"
[ -f "lua-konnect-$version-1.rockspec" ] || fail "no lua-konnect-$version-1.rockspec for limits.VERSION $version"
lua5.4 - "$version" <<'LUA' || fail "rockspec consistency"
local version = ...
local function load_spec(file)
  local env = {}
  local chunk = assert(loadfile(file, "t", env))
  chunk()
  return env
end
local scm, rel = load_spec("lua-konnect-scm-1.rockspec"), load_spec("lua-konnect-" .. version .. "-1.rockspec")
local function check(cond, msg) if not cond then io.stderr:write(msg, "\n"); os.exit(1) end end
check(scm.package == "lua-konnect" and rel.package == "lua-konnect", "package must be lua-konnect")
check(rel.version == version .. "-1", "versioned rockspec says " .. tostring(rel.version))
check(rel.source.tag == "v" .. version, "source.tag must be v" .. version)
check(rel.description.homepage and scm.description.homepage, "homepage missing")
check(rel.description.license == "Apache-2.0", "license must be Apache-2.0 (LICENSE)")
-- the two differ only in version and tag
local function same(a, b, path)
  if type(a) ~= type(b) then return false, path end
  if type(a) ~= "table" then return a == b, path end
  for k, v in pairs(a) do
    local p = path .. "." .. tostring(k)
    if p ~= ".version" and p ~= ".source.tag" then
      local eq, where = same(v, b[k], p)
      if not eq then return false, where end
    end
  end
  for k in pairs(b) do
    local p = path .. "." .. tostring(k)
    if a[k] == nil and p ~= ".source.tag" then return false, p end
  end
  return true
end
local eq, where = same(scm, rel, "")
check(eq, "the rockspecs differ at " .. tostring(where))
-- every module of lua/ is installed
local listed = {}
for _, file in pairs(rel.build.install.lua) do listed[file] = true end
local p = io.popen("find lua -name '*.lua' | sort")
for file in p:lines() do check(listed[file], file .. " is not in the rockspecs' build.install.lua") end
p:close()
LUA
grep -q "^## \[$version\]" CHANGELOG.md || fail "CHANGELOG.md has no section ## [$version]"
grep -q "^## \[Unreleased\]" CHANGELOG.md || fail "CHANGELOG.md has no Unreleased section"
[ -f LICENSE ] && grep -q "Apache License" LICENSE || fail "LICENSE (Apache-2.0) missing"
ok "version $version: limits.VERSION, lua-konnect-$version-1.rockspec (tag v$version), CHANGELOG.md; rockspecs agree and list every module"

# 3. a build leaves nothing outside build/
luarocks --lua-version=5.4 make --deps-mode=none --tree "$work/tree-make" lua-konnect-scm-1.rockspec \
  >"$work/make.log" 2>&1 || { cat "$work/make.log"; fail "luarocks make --deps-mode=none"; }
make -s build LUA=lua5.4 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "make build"; }
left=$(git status --porcelain --ignored | grep -v '^!! build/$')
[ -z "$left" ] || { echo "$left"; fail "a build left files in the source tree outside build/"; }
ok "luarocks make --deps-mode=none and make build write only build/"

# 4. pack, build in a fresh tree, smoke test
git -c user.name=release-check -c user.email=release-check@invalid tag -f "v$version" >/dev/null
sed "s|url = \"git+https://[^\"]*\"|url = \"git+file://$work/src\"|" "lua-konnect-$version-1.rockspec" \
  > "$work/lua-konnect-$version-1.rockspec"
(cd "$work" && luarocks pack "lua-konnect-$version-1.rockspec") >"$work/pack.log" 2>&1 ||
  { cat "$work/pack.log"; fail "luarocks pack"; }
rock=$work/lua-konnect-$version-1.src.rock
[ -f "$rock" ] || fail "luarocks pack made no $rock"
ok "luarocks pack: $(basename "$rock") ($(wc -c <"$rock") bytes)"

cd "$ROOT"
if [ -z "${FAKE_KONNECT_HTTPS:-}" ]; then
  fake_dir=$work/fake
  out=$(fake_konnect/ctl start --dir "$fake_dir") || fail "could not start a fake Konnect"
  eval "$out"
fi
# LUA_INIT hook: which konnect.cli ran (the bundle's, preloaded, or a source file)
cat > "$work/which.lua" <<'LUA'
local exit = os.exit
os.exit = function(...)
  io.stderr:write("konnect.cli: ", package.preload["konnect.cli"] and "bundle" or "sources", "\n")
  return exit(...)
end
LUA
for t in 5.4 5.1 jit; do
  lv=$t extra=()
  [ "$t" = jit ] && { command -v luajit >/dev/null || continue; lv=5.1
                      extra=(LUA="$(command -v luajit)" LUA_INCDIR=/usr/include/luajit-2.1); }
  tree=$work/tree-$t
  (cd "$work" && luarocks --lua-version=$lv build --deps-mode=none --tree "$tree" "$rock" "${extra[@]}") \
    >"$work/build-$t.log" 2>&1 || { cat "$work/build-$t.log"; fail "luarocks build of the source rock for Lua $t"; }
  [ -f "$tree/lib/luarocks/rocks-$lv/lua-konnect/$version-1/completion/konnect-pats.bash" ] ||
    fail "the rock (Lua $t) has no completion/konnect-pats.bash"
  interps=lua$lv
  [ "$t" = 5.1 ] && command -v luajit >/dev/null && interps="lua5.1 luajit"
  [ "$t" = jit ] && interps=luajit
  for interp in $interps; do
  ( eval "$(luarocks --lua-version=$lv path --tree "$tree")"; export PATH="$tree/bin:$PATH"; cd /tmp
    KONNECT_TOKEN=kpat_fake_alice_bootstrap KONNECT_SERVER_URL=$FAKE_KONNECT_HTTPS KONNECT_CA_FILE=$FAKE_KONNECT_CA \
      $interp - "$version" "$tree" <<'LUA'
local version, tree = ...
local konnect = require "konnect"
local pats = require "konnect.pats"
local function check(cond, msg) if not cond then io.stderr:write("smoke: ", msg, "\n"); os.exit(1) end end
if package.searchpath then -- 5.2+
  check((package.searchpath("konnect.core", package.cpath) or ""):find(tree, 1, true), "konnect.core not from the tree")
end
check(konnect._VERSION == version and pats._VERSION == version, "_VERSION is " .. tostring(konnect._VERSION))
local client = pats.new { token = os.getenv("KONNECT_TOKEN"), server_url = os.getenv("KONNECT_SERVER_URL"),
                          ca_file = os.getenv("KONNECT_CA_FILE") }
check(client, "pats.new failed")
local tok, err = client:create("me", { name = "release-check", ttl_seconds = 86400 })
check(tok, "create: " .. tostring(err))
local r, rerr = client:revoke("me", tok.id)
check(r and r.state == "REVOKED", "revoke: " .. tostring(rerr))
local d, derr = client:delete("me", tok.id)
check(d == true, "delete: " .. tostring(derr))
LUA
  ) || fail "smoke test of the installed rock ($interp)"
  done
  v=$(PATH="$tree/bin:$PATH" LUA_PATH="$(luarocks --lua-version=$lv path --tree "$tree" --lr-path);;" \
      LUA_CPATH="$(luarocks --lua-version=$lv path --tree "$tree" --lr-cpath);;" konnect-pats --version 2>&1)
  case $v in *"lua-konnect $version"*) ;; *) fail "konnect-pats --version from the tree says: $v" ;; esac
  # the command as installed: no LUA_PATH, its shebang's interpreter, the bundle; another interpreter: the sources
  maker=lua$lv; [ "$t" = jit ] && maker=luajit
  head -n 1 "$tree/bin/konnect-pats" | grep -q "^#!/.*/$maker\$" || fail "konnect-pats (Lua $t) does not start $maker"
  for interp in $interps; do
    want=sources; [ "$interp" = "$maker" ] && want=bundle
    w=$(cd /tmp && env -u LUA_PATH -u LUA_CPATH -u LUA_INIT_5_4 LUA_INIT="@$work/which.lua" \
        KONNECT_TOKEN=kpat_fake_alice_bootstrap KONNECT_SERVER_URL=$FAKE_KONNECT_HTTPS KONNECT_CA_FILE=$FAKE_KONNECT_CA \
        $interp "$tree/bin/konnect-pats" whoami --json 2>&1)
    case $w in *00000000-0000-4000-8000-0000000a11ce*) ;;
      *) fail "konnect-pats whoami --json from the tree (Lua $t, run by $interp): $w" ;; esac
    case $w in *"konnect.cli: $want"*) ;;
      *) fail "konnect-pats from the tree (Lua $t) run by $interp did not use the $want: $w" ;; esac
  done
  ok "Lua $t: the source rock builds in a fresh tree; smoke test (create, revoke, delete) on $interps, konnect-pats --version, and konnect-pats whoami from its bundle ($maker) pass"
done

# 5. the Kong plugin's rock, on top of the lua-konnect rock (Kong runs LuaJIT)
cd "$work/src"
git -c user.name=release-check -c user.email=release-check@invalid tag -f "kong-plugin-konnect-pat-rotator-$pversion" >/dev/null
sed "s|url = \"git+https://[^\"]*\"|url = \"git+file://$work/src\"|" "$prs" > "$work/$prs"
(cd "$work" && luarocks pack "$prs") >"$work/ppack.log" 2>&1 || { cat "$work/ppack.log"; fail "luarocks pack $prs"; }
prock=$work/kong-plugin-konnect-pat-rotator-$pversion-1.src.rock
[ -f "$prock" ] || fail "luarocks pack made no $prock"
t=jit; lv=5.1; interp=luajit
command -v luajit >/dev/null || { t=5.1; interp=lua5.1; }
tree=$work/tree-$t
(cd "$work" && luarocks --lua-version=$lv build --tree "$tree" "$prock") >"$work/pbuild.log" 2>&1 ||
  { cat "$work/pbuild.log"; fail "luarocks build of $(basename "$prock") (Lua $t)"; }
( eval "$(luarocks --lua-version=$lv path --tree "$tree")"; cd /tmp
  $interp - "$pversion" <<'LUA'
local version = ...
local handler = require "kong.plugins.konnect-pat-rotator.handler"
local schema = require "kong.plugins.konnect-pat-rotator.schema"
assert(handler.VERSION == version and handler.PRIORITY, "the installed handler")
assert(schema.name == "konnect-pat-rotator", "the installed schema")
assert(require("konnect.pats")._VERSION, "lua-konnect from the tree")
LUA
) || fail "the installed plugin rock (Lua $t) does not load"
ok "luarocks pack: $(basename "$prock"); builds in the Lua $t tree on top of lua-konnect; handler and schema load"
cd "$ROOT"
echo "release-check: ok (lua-konnect $version, kong-plugin-konnect-pat-rotator $pversion)"
