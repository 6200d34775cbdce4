-- The CLI's cold start (issue 12, item 5): lazy requires, and the installed
-- command's bundle of precompiled modules (scripts/bundle.lua, bin/konnect-pats).
--
-- The installed CLI is a real `luarocks make --deps-mode=none --tree` of a copy
-- of this checkout, once per interpreter ($KONNECT_TEST_LUA; LuaJIT: a 5.1 tree
-- built and run by luajit).  Whether a run used the bundle is read back from
-- the process itself: a LUA_INIT hook writes, at os.exit, whether
-- package.preload holds konnect.cli and where konnect.cli's code came from.
local fake = require "support.fake"
local h = require "support.cli"
local q, slurp, spit, sh = h.q, h.slurp, h.spit, h.sh

local LUA = h.LUA
local ROOT = h.ROOT
local ALICE, NO_SUCH = fake.ALICE, "00000000-0000-4000-8000-00000000f00d"

-- the tree's Lua version, what `luarocks make` needs to build it with this interpreter
local TREES = {
  ["lua5.4"] = { lv = "5.4", dir = "5.4" },
  ["lua5.3"] = { lv = "5.3", dir = "5.3" },
  ["lua5.1"] = { lv = "5.1", dir = "5.1" },
  ["luajit"] = { lv = "5.1", dir = "jit", vars = "LUA=$(command -v luajit) LUA_INCDIR=/usr/include/luajit-2.1" },
}
-- another interpreter, whose bundle this one must refuse (5.1 and LuaJIT share lib/lua/5.1)
local OTHER = { ["lua5.4"] = "lua5.3", ["lua5.3"] = "lua5.4", ["lua5.1"] = "luajit", ["luajit"] = "lua5.1" }

local HOOK = [[
local exit = os.exit
os.exit = function(...) -- luacheck: ignore 122
  local f = io.open(os.getenv("KONNECT_TEST_EVIDENCE"), "w")
  local cli = package.loaded["konnect.cli"]
  f:write(package.preload["konnect.cli"] and "preload" or "none", "\n",
    cli and debug.getinfo(cli.main, "S").source or "?", "\n")
  f:close()
  return exit(...)
end
]]

local function has(cmd) return sh("command -v " .. cmd .. " >/dev/null 2>&1") == 0 end

describe("konnect-pats cold start", function()
  describe("lazy requires", function()
    local MODULES = { "konnect.cli", "konnect.cli.help", "konnect.cli.args", "konnect.cli.commands",
                      "konnect.cli.render", "konnect.lifecycle", "konnect.batch", "konnect.time" }
    local saved

    before_each(function()
      saved = {}
      for _, m in ipairs(MODULES) do saved[m], package.loaded[m] = package.loaded[m], nil end
      fake.reset()
    end)
    after_each(function()
      for _, m in ipairs(MODULES) do package.loaded[m] = saved[m] end
    end)

    local function main(argv)
      local out, err = {}, {}
      local function w(b) return { write = function(self, ...) for _, s in ipairs { ... } do b[#b + 1] = s end
        return self end } end
      local env = { KONNECT_TOKEN = fake.ALICE_TOKEN, KONNECT_SERVER_URL = fake.http }
      local code = require("konnect.cli").main(argv, { stdout = w(out), stderr = w(err),
                                                       getenv = function(k) return env[k] end })
      return code, table.concat(out), table.concat(err)
    end

    it("get --json loads neither the help texts nor lifecycle, batch or time", function()
      local tok = assert(fake.client():create("me", { name = "lazy", ttl_seconds = 86400 }))
      local code, out = main({ "get", ALICE, tok.id, "--json" })
      assert.equal(0, code)
      assert.matches('"id":"' .. tok.id .. '"', out, 1, true)
      for _, m in ipairs { "konnect.cli.help", "konnect.lifecycle", "konnect.batch", "konnect.time" } do
        assert.is_nil(package.loaded[m], m .. " was loaded by get --json")
      end
    end)

    it("list loads no help text; --help, a usage error and an unknown command still print theirs", function()
      assert.equal(0, (main({ "list", "--json" })))
      assert.is_nil(package.loaded["konnect.cli.help"])
      local code, out = main({ "get", "--help" })
      assert.equal(0, code)
      assert.matches("^usage: konnect%-pats get TOKEN", out)
      assert.is_table(package.loaded["konnect.cli.help"])
      local _, _, err = main({ "gett" })
      assert.matches("unknown command gett; did you mean get?", err, 1, true)
      _, _, err = main({ "list", "--jsn" })
      assert.matches("unknown option --jsn; did you mean --json?", err, 1, true)
    end)
  end)

  describe("the installed command", function()
    local T = TREES[LUA]
    local work, src, tree, bundle, good, evidence, hook
    local ready, why

    setup(function()
      if not T then why = "no tree layout known for " .. LUA return end
      if not has("luarocks") or not has("git") then why = "luarocks or git missing" return end
      work = h.tmpdir()
      src, tree = work .. "/src", work .. "/tree"
      evidence, hook = work .. "/evidence", work .. "/hook.lua"
      spit(hook, HOOK)
      -- from a copy: rock.mk writes build/rock/, which other builds of this checkout may share
      assert.equal(0, sh("mkdir -p " .. q(src) .. " && cd " .. q(ROOT) ..
        " && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t " .. q(src)))
      local rc = sh("cd " .. q(src) .. " && luarocks --lua-version=" .. T.lv .. " make --deps-mode=none --tree " ..
        q(tree) .. " lua-konnect-scm-1.rockspec " .. (T.vars or "") .. " > " .. q(work .. "/luarocks.log") .. " 2>&1")
      assert(rc == 0, "luarocks make failed: " .. tostring(slurp(work .. "/luarocks.log")))
      bundle = tree .. "/lib/lua/" .. T.lv .. "/konnect/cli_bundle.luac"
      good = slurp(bundle)
      ready = true
    end)

    teardown(function()
      if work then os.execute("rm -rf " .. q(work)) end
    end)

    before_each(function()
      if not ready then return end
      fake.reset()
      if good then spit(bundle, good) end
    end)

    -- run(argv0, args, env) -> { code, out, err, bundle = true|false, source = where konnect.cli came from }
    local function run(argv0, args, env)
      local parts = { "env -u LUA_PATH -u LUA_CPATH -u LUA_INIT_5_4 -u LUA_INIT_5_3",
                      "-u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_PATH_5_3 -u LUA_CPATH_5_3",
                      "-u KONNECT_TOKEN -u KONNECT_SERVER_URL -u KONNECT_CA_FILE",
                      "LUA_INIT=@" .. q(hook), "KONNECT_TEST_EVIDENCE=" .. q(evidence),
                      "KONNECT_SERVER_URL=" .. q(fake.http) }
      env = env or {}
      local token = env.KONNECT_TOKEN == nil and fake.ALICE_TOKEN or env.KONNECT_TOKEN
      if token then parts[#parts + 1] = "KONNECT_TOKEN=" .. q(token) end
      parts[#parts + 1] = argv0
      for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
      os.remove(evidence)
      local outf, errf = work .. "/out", work .. "/err"
      local code = sh("cd /tmp && " .. table.concat(parts, " ") .. " > " .. q(outf) .. " 2> " .. q(errf) ..
        " < /dev/null")
      local ev = slurp(evidence) or ""
      local pre, source = ev:match("^(%w+)\n([^\n]*)\n")
      return { code = code, out = slurp(outf), err = slurp(errf), bundle = pre == "preload", source = source }
    end
    local function installed(args, env) return run(q(tree .. "/bin/konnect-pats"), args, env) end
    local function checkout(args, env) return run(LUA .. " " .. q(ROOT .. "/bin/konnect-pats"), args, env) end

    -- the cases compared, with the exit status each must have
    local function cases(id)
      return {
        { { "get", ALICE, id, "--json" }, 0 }, { { "get", id }, 0 }, { { "list" }, 0 }, { { "list", "--json" }, 0 },
        { { "--help" }, 0 }, { { "get", "--help" }, 0 }, { { "help", "rotate" }, 0 }, { { "--version" }, 0 },
        { { "prune", "--dry-run" }, 0 }, { { "prune", "--dry-run", "--json" }, 0 }, -- konnect.lifecycle
        { { "frob" }, 2 }, { { "list", "--jsn" }, 2 }, { { "get", NO_SUCH }, 1 }, { { "get", NO_SUCH, "--json" }, 1 },
        { { "whoami" }, 4, { KONNECT_TOKEN = "kpat_unknown_token_value" } },
        { { "list", "--json" }, 2, { KONNECT_TOKEN = false } },
      }
    end

    -- what differs from one request to the next: the server's trace and request ids
    local function norm(s)
      return (s:gsub("kong:trace:%d+", "kong:trace:N"):gsub('"request_id":"[^"]*"', '"request_id":"N"'))
    end

    local function same_as_checkout(list, want_bundle)
      for _, c in ipairs(list) do
        local what = table.concat(c[1], " ")
        local a, b = installed(c[1], c[3]), checkout(c[1], c[3])
        assert.equal(c[2], b.code, what .. " (checkout): " .. b.err)
        assert.equal(b.code, a.code, what .. ": exit status")
        assert.equal(norm(b.out), norm(a.out), what .. ": stdout")
        assert.equal(norm(b.err), norm(a.err), what .. ": stderr")
        assert.equal(want_bundle, a.bundle, what .. ": bundle used? source " .. tostring(a.source))
        if want_bundle then
          assert.not_matches("^@", a.source, what)
        else
          assert.equal("@" .. tree .. "/bin/../share/lua/" .. T.lv .. "/konnect/cli.lua", a.source, what)
        end
        assert.is_false(b.bundle, what .. ": the checkout used a bundle")
        assert.matches("^@.*/lua/konnect/cli%.lua$", b.source, what)
      end
    end

    local function token_id()
      return assert(fake.client():create("me", { name = "bundled", ttl_seconds = 30 * 86400 })).id
    end

    it("is the tree's interpreter running the stub (no wrapper), and loads the modules from the bundle", function()
      if not ready then return pending(why) end
      local f = assert(io.open(tree .. "/bin/konnect-pats", "rb"))
      local first = f:read("*l")
      f:close()
      assert.matches("^#!/%S+/" .. (LUA == "luajit" and "luajit" or LUA:gsub("%.", "%%.")) .. "$", first)
      assert.is_string(good, "no konnect/cli_bundle.luac installed in the tree's lib/lua/" .. T.lv)
      local head = good:match("^[^\n]*\n[^\n]*\n")
      local jit = rawget(_G, "jit")
      assert.equal("KONNECT-CLI-BUNDLE 1\n" .. (jit and jit.version or _VERSION) .. " lua-konnect " ..
        require("konnect.limits").VERSION .. "\n", head)
      local r = installed({ "--version" })
      assert.equal(0, r.code, r.err)
      assert.is_true(r.bundle, "the bundle was not used; konnect.cli from " .. tostring(r.source))
    end)

    it("prints exactly what the checkout's CLI prints: get, list, --help, errors, exit statuses", function()
      if not ready then return pending(why) end
      same_as_checkout(cases(token_id()), true)
    end)

    it("falls back to the sources, same output and status, when the bundle is missing, corrupt or foreign", function()
      if not ready then return pending(why) end
      assert.is_string(good, "no bundle installed")
      local id = token_id()
      local all = cases(id)
      local some = { all[1], all[3], all[6], all[9], all[11], all[13] } -- get, list, help, prune, usage, 404
      local header = good:match("^[^\n]*\n[^\n]*\n")
      local function with_size(s) return header .. #s .. "\n" .. s end
      local dump = string.dump
      local function chunk(text) return dump(assert((rawget(_G, "loadstring") or load)(text))) end
      local variants = {
        missing = false,
        empty = "",
        truncated = good:sub(1, #good - 100),
        appended = good .. "x",
        ["flipped tag"] = good:gsub("lua%-konnect", "lua-konnekt", 1),
        ["other VERSION"] = good:gsub("lua%-konnect [^\n]+", "lua-konnect 0.0.1", 1),
        ["text, not bytecode"] = with_size("return { ['konnect.cli'] = function() return {} end }"),
        garbage = with_size("\27" .. ("\0\255"):rep(200)),
        ["raises"] = with_size(chunk("error('bundle boom')")),
        ["not a table of loaders"] = with_size(chunk("return { ['konnect.cli'] = 42 }")),
      }
      local other = OTHER[LUA]
      if other and has(other) then
        local out = work .. "/other.luac"
        assert.equal(0, sh("cd " .. q(src) .. " && " .. other .. " scripts/bundle.lua " .. q(out) ..
          " lua-konnect-scm-1.rockspec >/dev/null"))
        variants["made by " .. other] = slurp(out)
        -- its bytecode under this interpreter's tag: refused by load()
        variants[other .. " bytecode, our tag"] = with_size(slurp(out):match("^[^\n]*\n[^\n]*\n[^\n]*\n(.*)$"))
      end
      for name, content in pairs(variants) do
        if content then spit(bundle, content) else os.remove(bundle) end
        local ok, err = pcall(same_as_checkout, some, false)
        assert(ok, name .. ": " .. tostring(err))
      end
    end)

    it("make install puts the bundle next to core.so, and the stub installed there uses it", function()
      if not ready then return pending(why) end
      local dest = work .. "/root"
      local rc = sh("cd " .. q(ROOT) .. " && make -s install LUA=" .. LUA .. " DESTDIR=" .. q(dest) ..
        " PREFIX=/usr > " .. q(work .. "/install.log") .. " 2>&1")
      assert(rc == 0, tostring(slurp(work .. "/install.log")))
      local lib = dest .. "/usr/lib/lua/" .. T.lv .. "/konnect/"
      assert.is_string(slurp(lib .. "cli_bundle.luac"))
      local r = run(LUA .. " " .. q(dest .. "/usr/bin/konnect-pats"), { "--version" })
      assert.equal(0, r.code, r.err)
      assert.is_true(r.bundle, "konnect.cli from " .. tostring(r.source))
      os.remove(lib .. "cli_bundle.luac")
      r = run(LUA .. " " .. q(dest .. "/usr/bin/konnect-pats"), { "--version" })
      assert.equal(0, r.code, r.err)
      assert.is_false(r.bundle)
      assert.equal("@" .. dest .. "/usr/bin/../share/lua/" .. T.lv .. "/konnect/cli.lua", r.source)
    end)

    it("is never used from a checkout, even one with a valid bundle next to its core", function()
      if not ready then return pending(why) end
      local dir = src .. "/build/" .. T.dir .. "/konnect"
      local built = ROOT .. "/build/" .. T.dir .. "/konnect/"
      assert.equal(0, sh("mkdir -p " .. q(dir) .. " && cp " .. q(built .. "core.so") .. " " ..
        q(dir) .. "/ && cp " .. q(bundle) .. " " .. q(dir) .. "/"))
      local r = run(LUA .. " " .. q(src .. "/bin/konnect-pats"), { "--version" })
      assert.equal(0, r.code, r.err)
      assert.is_false(r.bundle)
      assert.equal("@" .. src .. "/bin/../lua/konnect/cli.lua", r.source)
    end)
  end)
end)
