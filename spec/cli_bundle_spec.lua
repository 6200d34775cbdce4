-- The CLI's cold start (issues 12 and 18): lazy requires, and the installed
-- command's bundle of precompiled modules (scripts/bundle.lua, loaded by
-- konnect.cli.bundle; bin/konnect-pats uses it only when installed).
--
-- The bundle is made here by this interpreter ($KONNECT_TEST_LUA), as rock.mk and
-- `make install` make it, and loaded in-process.  The installed command itself
-- (three LuaRocks trees and `make install`, each run by its own interpreter,
-- using its bundle) is scripts/rock-check.sh's, in `make test`'s LuaRocks stage.
local fake = require "support.fake"
local h = require "support.cli"
local q, slurp, spit, sh = h.q, h.slurp, h.spit, h.sh

local LUA = h.LUA
local ROOT = h.ROOT
local ALICE = fake.ALICE

-- another interpreter, whose bundle this one must refuse (5.1 and LuaJIT share lib/lua/5.1)
local OTHER = { ["lua5.4"] = "lua5.3", ["lua5.3"] = "lua5.4", ["lua5.1"] = "luajit", ["luajit"] = "lua5.1" }
local BUILD = { ["lua5.4"] = "5.4", ["lua5.3"] = "5.3", ["lua5.1"] = "5.1", luajit = "jit" }

local function has(cmd) return sh("command -v " .. cmd .. " >/dev/null 2>&1") == 0 end

-- LUA scripts/bundle.lua OUT, as rock.mk runs it -> status
local function make_bundle(lua, out)
  return sh("cd " .. q(ROOT) .. " && " .. lua .. " scripts/bundle.lua " .. q(out) ..
    " lua-konnect-scm-1.rockspec >/dev/null")
end

describe("konnect-pats cold start", function()
  describe("lazy requires", function()
    local MODULES = { "konnect.cli", "konnect.cli.help", "konnect.cli.args", "konnect.cli.commands",
                      "konnect.cli.render", "konnect.cli.options", "konnect.cli.suggest", "konnect.cli.secret",
                      "konnect.cli.terminal", "konnect.lifecycle", "konnect.batch", "konnect.time",
                      "konnect.cli.org", "konnect.cli.audit", "konnect.audit", "konnect.accounts", "konnect.pages" }
    -- what a get never needs
    local RARE = { "konnect.cli.help", "konnect.lifecycle", "konnect.batch", "konnect.time", "konnect.cli.suggest",
                   "konnect.cli.secret", "konnect.cli.terminal", "konnect.cli.org", "konnect.cli.audit",
                   "konnect.audit", "konnect.accounts", "konnect.pages" }
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

    it("get --json loads neither the help texts nor lifecycle, batch, time, did-you-mean, secrets, terminals, " ..
      "nor users, system accounts or the audit",
      function()
        local tok = assert(fake.client():create("me", { name = "lazy", ttl_seconds = 86400 }))
        local code, out = main({ "get", ALICE, tok.id, "--json" })
        assert.equal(0, code)
        assert.matches('"id":"' .. tok.id .. '"', out, 1, true)
        for _, m in ipairs(RARE) do
          assert.is_nil(package.loaded[m], m .. " was loaded by get --json")
        end
      end)

    it("users loads konnect.cli.org and not the audit; audit loads konnect.cli.audit and konnect.audit", function()
      assert.equal(0, (main({ "users", "--email", "alice@example.test", "--json" })))
      assert.is_table(package.loaded["konnect.cli.org"])
      for _, m in ipairs { "konnect.cli.audit", "konnect.audit", "konnect.cli.help" } do
        assert.is_nil(package.loaded[m], m .. " was loaded by users")
      end
      local code = main({ "audit", "--json" }) -- alice's: incomplete, but it ran
      assert.equal(5, code)
      assert.is_table(package.loaded["konnect.cli.audit"])
      assert.is_table(package.loaded["konnect.audit"])
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

  describe("konnect.cli.bundle", function()
    local work, bundle, good, bundle_mod
    local saved

    setup(function()
      work = h.tmpdir()
      -- konnect/core.so is only looked up on package.cpath (the bundle sits next to it), never loaded
      bundle = work .. "/konnect/cli_bundle.luac"
      assert.equal(0, sh("mkdir -p " .. q(work .. "/konnect") .. " && : > " .. q(work .. "/konnect/core.so")))
      assert.equal(0, make_bundle(LUA, bundle))
      good = slurp(bundle)
      bundle_mod = require "konnect.cli.bundle"
    end)
    teardown(function() os.execute("rm -rf " .. q(work)) end)

    -- preload() with package.cpath pointing at the bundle's directory and an empty
    -- package.preload -> ok, why, the preload table it left
    local function preload(content)
      if content then spit(bundle, content) else os.remove(bundle) end
      saved = { cpath = package.cpath, preload = package.preload }
      package.cpath, package.preload = work .. "/?.so;" .. package.cpath, {}
      local ok, why = bundle_mod.preload()
      local got = package.preload
      package.cpath, package.preload = saved.cpath, saved.preload
      return ok, why, got
    end

    it("puts the CLI's modules, compiled by this interpreter, into package.preload", function()
      local jit = rawget(_G, "jit")
      assert.equal("KONNECT-CLI-BUNDLE 1\n" .. (jit and jit.version or _VERSION) .. " lua-konnect " ..
        require("konnect.limits").VERSION .. "\n", good:match("^[^\n]*\n[^\n]*\n"))
      local ok, why, got = preload(good)
      assert.is_true(ok, why)
      for _, m in ipairs { "konnect.cli", "konnect.cli.args", "konnect.cli.commands", "konnect.pats", "konnect.http",
                           "konnect.transport.curl", "konnect.cli.help", "konnect.lifecycle" } do
        assert.is_function(got[m], m)
      end
      -- not what needs nginx, nor the loader itself
      for _, m in ipairs { "konnect.transport.cosocket", "konnect.transport.http1", "konnect.cli.bundle" } do
        assert.is_nil(got[m], m)
      end
      -- the bundled konnect.cli is the command line (its own modules from package.loaded here)
      local cli = got["konnect.cli"]("konnect.cli")
      local out = {}
      local code = cli.main({ "--version" }, { stdout = { write = function(self, s) out[#out + 1] = s return self end },
        stderr = io.stderr, getenv = function() return nil end })
      assert.equal(0, code)
      assert.matches("lua-konnect " .. require("konnect.limits").VERSION, table.concat(out), 1, true)
    end)

    it("leaves no file open (the bundle and konnect/limits.lua it reads are closed at once)", function()
      -- files only: a socket or pipe of an earlier test's transfer may close meanwhile
      -- (in a whole run one socket closed between the two counts)
      local function open_files()
        local n, p = 0, io.popen("find /proc/$PPID/fd -lname '/*'")
        for _ in p:lines() do n = n + 1 end
        p:close()
        return n
      end
      collectgarbage("collect")
      collectgarbage("stop") -- (a collection would close a forgotten handle too)
      local before = open_files()
      local ok, why = preload(good)
      local after = open_files()
      collectgarbage("restart")
      assert.is_true(ok, why)
      assert.equal(before, after)
    end)

    it("preloads nothing, and says which of missing, foreign, stale or damaged it is", function()
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
        assert.equal(0, make_bundle(other, out))
        variants["made by " .. other] = slurp(out)
        -- its bytecode under this interpreter's tag: refused by load()
        variants[other .. " bytecode, our tag"] = with_size(slurp(out):match("^[^\n]*\n[^\n]*\n[^\n]*\n(.*)$"))
      end
      -- the reason given, where it is the module's own words
      local reasons = {
        missing = "no konnect/cli_bundle.luac next to konnect/core.so",
        empty = "not a bundle",
        truncated = "its length is not ",
        appended = "its length is not ",
        ["flipped tag"] = "made for ",
        ["other VERSION"] = "made for ",
        ["text, not bytecode"] = "not bytecode",
        ["raises"] = "bundle boom",
        ["not a table of loaders"] = "no loader for konnect.cli",
      }
      if other then reasons["made by " .. other] = "made for " end
      for name, content in pairs(variants) do
        local ok, why, got = preload(content)
        assert.is_nil(ok, name)
        assert.is_string(why, name)
        if reasons[name] then assert.matches(reasons[name], why, 1, true, name) end
        assert.is_nil(next(got), name .. ": something was preloaded")
      end
    end)

    it("is never used from a checkout, even with a valid bundle next to its core", function()
      local dir = BUILD[LUA] and ROOT .. "/build/" .. BUILD[LUA] .. "/konnect"
      if not (dir and slurp(dir .. "/core.so")) then return pending("no build for " .. LUA) end
      -- a checkout of links: lua/ and the built core are this one's, the bundle a valid one of our own
      local co = work .. "/checkout"
      assert.equal(0, sh("mkdir -p " .. q(co .. "/bin") .. " " .. q(co .. "/build/" .. BUILD[LUA] .. "/konnect") ..
        " && ln -s " .. q(ROOT .. "/lua") .. " " .. q(co .. "/lua") ..
        " && cp " .. q(ROOT .. "/bin/konnect-pats") .. " " .. q(co .. "/bin/") ..
        " && ln -s " .. q(dir .. "/core.so") .. " " .. q(co .. "/build/" .. BUILD[LUA] .. "/konnect/core.so")))
      spit(co .. "/build/" .. BUILD[LUA] .. "/konnect/cli_bundle.luac", good)
      local hook, evidence = work .. "/hook.lua", work .. "/evidence"
      spit(hook, "local exit = os.exit\n" ..
        "os.exit = function(...) local f = io.open(" .. ("%q"):format(evidence) .. ", 'w')\n" ..
        "  f:write(package.preload['konnect.cli'] and 'bundle' or 'sources') f:close() return exit(...) end\n")
      local code = sh("cd /tmp && env -u LUA_PATH -u LUA_CPATH -u LUA_INIT_5_4 -u LUA_INIT_5_3 LUA_INIT=@" .. q(hook) ..
        " " .. LUA .. " " .. q(co .. "/bin/konnect-pats") .. " --version >/dev/null 2>&1")
      assert.equal(0, code)
      assert.equal("sources", slurp(evidence))
    end)
  end)
end)
