-- The documentation is kept true by running it.
--   * every ```lua block of README.md and docs/API.md runs, unchanged, in a fresh
--     interpreter of the kind running this spec (KONNECT_TEST_LUA, set by
--     scripts/test.sh), against the fake Konnect server through the environment
--     real users set (KONNECT_TOKEN, KONNECT_SERVER_URL, KONNECT_CA_FILE);
--     a block preceded by the visible line "*Not run by the tests: REASON.*"
--     is skipped and must say why (spec/support/markdown.lua); the shell,
--     console and nginx.conf blocks are spec/docs/'s (a lane of their own);
--   * docs/API.md names every public method, option, per-call option, error kind,
--     error field, meta field and hook field (the lists come from the code and
--     from real calls, not from a copy of them);
--   * the examples run from a checkout and print a usage line without arguments;
--   * one version: the versioned rockspec is limits.VERSION's.
local fake = require "support.fake"
local pats = require "konnect.pats"
local errors = require "konnect.errors"
local limits = require "konnect.limits"

local LUA = os.getenv("KONNECT_TEST_LUA")
  or (rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+")))

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- run(code | nil, env, argv) -> output (stdout and stderr), exit status
local function run(file, env, args)
  local parts = {}
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. sh_quote(v) end
  local cmd = "env " .. table.concat(parts, " ") .. " " .. LUA .. " " .. sh_quote(file)
  for _, a in ipairs(args or {}) do cmd = cmd .. " " .. sh_quote(a) end
  local p = assert(io.popen(cmd .. " 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out:gsub("rc=%d+%s*$", ""), rc
end

-- an org admin's personal access token: the system-account operations and the
-- audit need one (the PAT examples work with any user's)
local ENV = {
  KONNECT_TOKEN = fake.ADMIN_TOKEN, KONNECT_SERVER_URL = fake.https, KONNECT_CA_FILE = fake.ca,
  -- the proxy option is off unless asked for; an environment proxy must not matter either
  http_proxy = "", https_proxy = "", ALL_PROXY = "",
}

--- blocks(doc) -> its ```lua blocks (spec/support/markdown.lua: the others are spec/docs/'s)
local function lua_blocks(doc)
  local out = {}
  for _, b in ipairs(require("support.markdown").blocks(doc)) do
    if b.lang == "lua" then out[#out + 1] = b end
  end
  return out
end

-- What every docs/API.md example assumes (its first block says so).
local PRELUDE = 'local pats = require "konnect.pats"\nlocal client = assert(pats.from_env())\n'

for _, doc in ipairs { "README.md", "docs/API.md" } do
  describe(doc .. " code blocks (" .. LUA .. ")", function()
    local list = lua_blocks(doc)
    it("has Lua blocks to run", function()
      assert.is_true(#list > 0)
    end)
    for _, b in ipairs(list) do
      if b.skip then
        it("line " .. b.line .. ": not run, and says why", function()
          assert.is_true(#b.skip >= 10, "a not-run block must say why")
        end)
      else
        it("line " .. b.line .. " runs against the fake Konnect", function()
          fake.reset()
          local tmp = os.tmpname()
          local f = assert(io.open(tmp, "wb"))
          -- API.md's examples assume its first block; README's blocks stand alone
          f:write(doc == "docs/API.md" and PRELUDE or "", "do\n", b.code, "end\n")
          f:close()
          local out, rc = run(tmp, ENV)
          os.remove(tmp)
          assert(rc == 0, doc .. ":" .. b.line .. " failed (exit " .. tostring(rc) .. "):\n" .. out)
          assert.is_nil(out:find(ENV.KONNECT_TOKEN, 1, true), "the token was printed")
          assert.is_nil(out:find("spat_%w%w%w%w%w%w%w%w%w%w"), "a system-account token's secret was printed")
        end)
      end
    end
  end)
end

describe("links", function()
  for _, doc in ipairs { "README.md", "docs/API.md", "CHANGELOG.md" } do
    it(doc .. ": every relative link names a file of the checkout, every #anchor a heading", function()
      local text = read(doc)
      local dir = doc:match("^(.*)/") or "."
      local anchors = {}
      for h in text:gmatch("\n#+ ([^\n]+)") do
        anchors[h:lower():gsub("[^%w_%- ]", ""):gsub(" ", "-")] = true
      end
      for target in text:gmatch("%]%(([^)%s]+)%)") do
        if target:sub(1, 1) == "#" then
          assert(anchors[target:sub(2)], doc .. ": no heading for " .. target)
        elseif not target:find("^%a+:") then
          local f = io.open(dir .. "/" .. target:gsub("#.*$", ""), "r")
          assert(f, doc .. ": " .. target .. " does not exist")
          f:close()
        end
      end
    end)
  end
end)

describe("docs/API.md covers the public API", function()
  local api = read("docs/API.md")
  local function mentions(pattern) return api:find(pattern, 1, true) ~= nil end
  local function row(name) return mentions("| `" .. name .. "` |") or mentions("| `" .. name .. "`,") or
    mentions(", `" .. name .. "` |") or mentions(", `" .. name .. "`,") end
  local function sorted_keys(t)
    local o = {}
    for k in pairs(t) do o[#o + 1] = k end
    table.sort(o)
    return o
  end
  local function missing(names, check)
    local out = {}
    for _, n in ipairs(names) do if not check(n) then out[#out + 1] = n end end
    return table.concat(out, ", ")
  end

  it("every client method, as a heading and a Syntax line", function()
    local names = {}
    for name, v in pairs(pats.Client) do
      if type(v) == "function" then names[#names + 1] = name end
    end
    table.sort(names)
    assert.is_true(#names >= 13)
    assert.equal("", missing(names, function(n)
      return mentions("### client:" .. n .. "\n") and mentions("client:" .. n .. "(")
    end))
  end)

  it("every function and field of konnect.pats and konnect", function()
    local names = {}
    for _, k in ipairs(sorted_keys(pats)) do names[#names + 1] = "pats." .. k end
    for _, k in ipairs(sorted_keys(require "konnect")) do names[#names + 1] = "konnect." .. k end
    assert.equal("", missing(names, function(n) return mentions("`" .. n) end))
    assert.is_true(mentions("`errors.KINDS`") and mentions("`errors.is("))
  end)

  it("every option of pats.new (its OPTIONS table)", function()
    local src = read("lua/konnect/pats.lua")
    local body = assert(src:match("\nlocal OPTIONS = (%b{})"), "pats.lua has no OPTIONS table")
    local options = assert((loadstring or load)("return " .. body))()
    local names = sorted_keys(options)
    assert.is_true(#names >= 16)
    assert.equal("", missing(names, row))
  end)

  it("every per-call option", function()
    local call_options = require("konnect.ops").CALL_OPTIONS
    assert.is_table(call_options)
    assert.equal("", missing(sorted_keys(call_options), row))
  end)

  it("every error kind (errors.KINDS), with its row in the kinds table", function()
    local kinds = sorted_keys(errors.KINDS)
    assert.is_true(#kinds >= 17)
    assert.equal("", missing(kinds, row))
  end)

  it("an Errors list for each operation and helper, naming only real kinds (or methods)", function()
    local n = 0
    for name in api:gmatch("\n### client:([%w_]+)\n") do
      local head = "\n### client:" .. name .. "\n"
      local text = api:match(head .. "(.-)\n##") or api:match(head .. "(.*)$")
      if name ~= "close" and name ~= "transport" then
        n = n + 1
        local errs = text:match("%*%*Errors[^*]*%*%*(.-)\n\n")
        assert(errs, "client:" .. name .. " has no **Errors:** paragraph")
        for word in errs:gsub("%b()", ""):gmatch("`([%w_]+)`") do
          assert(errors.KINDS[word] ~= nil or pats.Client[word] ~= nil,
            "client:" .. name .. " lists `" .. word .. "`, which is no error kind")
        end
      end
    end
    assert.is_true(n >= 11)
  end)

  it("every field of real errors, meta and hook views", function()
    fake.reset()
    local before, after
    local client = fake.client { server_url = fake.https, ca_file = fake.ca, hooks = {
      before_request = function(v) before = v end, after_response = function(v) after = v end } }
    local me, _, meta = client:me()
    assert.is_table(me)
    local fields = {}
    local function add(t)
      for k in pairs(t) do fields[k] = true end
    end
    assert.is_string(meta.request_id or "") -- headers and request_id are made on first access
    local _ = meta.headers
    add(meta); add(me); add(before); add(after)
    local _, e404 = client:get("me", fake.MISSING)
    add(e404)
    local _, econn = pats.new { token = "kpat_x", server_url = "http://127.0.0.1:1", retries = false }:get(fake.ALICE,
      fake.MISSING)
    add(econn)
    local tok = assert(client:create("me", { name = "docs", ttl_seconds = 86400 }))
    add(tok)
    local list = assert(client:list("me"))
    add(list); add(list.meta)
    assert.equal("", missing(sorted_keys(fields), function(n) return row(n) or mentions("`" .. n .. "`") end))
  end)
end)

describe("the examples run from a checkout", function()
  for _, ex in ipairs { "create", "list", "revoke", "tour" } do
    it(ex .. ".lua without arguments or KONNECT_TOKEN prints a usage line and exits 2", function()
      local out, rc = run("examples/" .. ex .. ".lua", { KONNECT_TOKEN = "", LUA_PATH = ";;", LUA_CPATH = ";;" })
      assert.equal(2, rc)
      assert.matches("^usage: ", out)
    end)
  end

  it("create, list and revoke work from a checkout with no LUA_PATH (they find lua/ and build/)", function()
    fake.reset()
    local env = {}
    for k, v in pairs(ENV) do env[k] = v end
    env.LUA_PATH, env.LUA_CPATH = ";;", ";;"
    local out, rc = run("examples/revoke.lua", env)
    assert.equal(2, rc, out)
    assert.matches("^usage: ", out)
    out, rc = run("examples/create.lua", env, { "docs-example", "86400" })
    assert.equal(0, rc, out)
    out, rc = run("examples/list.lua", env)
    assert.equal(0, rc, out)
    local id = assert(out:match("(%x+%-%x+%-%x+%-%x+%-%x+)%s+ACTIVE%s+.-docs%-example"), out)
    out, rc = run("examples/revoke.lua", env, { id })
    assert.equal(0, rc, out)
    assert.matches("revoked " .. id:gsub("%-", "%%-"), out)
  end)
end)

describe("make demo (scripts/demo.sh)", function()
  -- it starts a fake Konnect of its own in .run/demo: one interpreter lane only
  if LUA ~= "lua5.4" then return end
  local function demo(env)
    local parts = {}
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. sh_quote(v) end
    local p = assert(io.popen("env " .. table.concat(parts, " ") .. " bash scripts/demo.sh 2>&1; echo \"rc=$?\""))
    local out = p:read("*a")
    p:close()
    return out:gsub("rc=%d+%s*$", ""), tonumber(out:match("rc=(%d+)%s*$"))
  end
  -- a server that is surely not Konnect: nothing listens on port 1
  local NOWHERE = "https://127.0.0.1:1"

  it("tours the fake Konnect even when KONNECT_TOKEN is exported", function()
    local out, rc = demo { KONNECT_TOKEN = "kpat_not_a_real_one", KONNECT_SERVER_URL = NOWHERE,
                           KONNECT_DEMO_TARGET = "" }
    assert.equal(0, rc, out)
    assert.matches("KONNECT_TOKEN is set but ignored", out, 1, true)
    assert.matches("fake Konnect at https://127.0.0.1:", out, 1, true)
    assert.matches("tour complete", out, 1, true)
  end)

  it("KONNECT=real says what it will create before it calls anything, and needs KONNECT_TOKEN", function()
    local out, rc = demo { KONNECT_DEMO_TARGET = "real", KONNECT_TOKEN = "" }
    assert.equal(2, rc, out)
    assert.matches("needs KONNECT_TOKEN", out, 1, true)
    out, rc = demo { KONNECT_DEMO_TARGET = "real", KONNECT_DEMO_WAIT = "0", KONNECT_TOKEN = "kpat_not_a_real_one",
                     KONNECT_SERVER_URL = NOWHERE }
    assert.not_equal(0, rc)
    local notice = out:find("It will create one token named", 1, true)
    local failed = out:find("tour failed: konnect: get-users-me: connect", 1, true)
    assert(notice and failed and notice < failed, out)
    assert.is_nil(out:find("fake Konnect at", 1, true))
  end)
end)

describe("one version", function()
  local function spec_of(file)
    local env = {}
    assert((loadstring and function(s) local f = loadstring(s); setfenv(f, env); return f end or
      function(s) return load(s, file, "t", env) end)(read(file)))()
    return env
  end

  it("lua-konnect-<limits.VERSION>-1.rockspec exists and says that version and tag", function()
    local rel = spec_of("lua-konnect-" .. limits.VERSION .. "-1.rockspec")
    assert.equal("lua-konnect", rel.package)
    assert.equal(limits.VERSION .. "-1", rel.version)
    assert.equal("v" .. limits.VERSION, rel.source.tag)
    assert.equal(limits.VERSION, pats._VERSION)
    assert.equal(limits.VERSION, require("konnect")._VERSION)
  end)

  it("README.md and docs/API.md name no other version of lua-konnect", function()
    for _, doc in ipairs { "README.md", "docs/API.md" } do
      local text, n = read(doc), 0
      local patterns = { "lua%-konnect[ /%-](%d+%.%d+%.%d+)", "[Vv]ersion (%d+%.%d+%.%d+)", "\"(%d+%.%d+%.%d+)\"" }
      for _, pat in ipairs(patterns) do
        for v in text:gmatch(pat) do
          n = n + 1
          assert.equal(limits.VERSION, v, doc .. " names version " .. v)
        end
      end
      assert.is_true(n > 0, doc .. " names no version")
    end
  end)

  it("both rockspecs install every Lua module, the same way", function()
    local scm, rel = spec_of("lua-konnect-scm-1.rockspec"), spec_of("lua-konnect-" .. limits.VERSION .. "-1.rockspec")
    assert.same(scm.build, rel.build)
    local listed = {}
    for _, file in pairs(scm.build.install.lua) do listed[file] = true end
    local p = assert(io.popen("find lua -name '*.lua'"))
    for file in p:lines() do assert(listed[file], file .. " is not installed by the rockspecs") end
    p:close()
  end)

  it("the README's claim about assert on this interpreter holds", function()
    -- in a fresh interpreter: busted's own assert is not the builtin
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    f:write([[
local _, err = require("konnect.pats").new { token = "" }
local ok, raised = pcall(function() return assert(nil, err) end)
assert(not ok)
if _VERSION == "Lua 5.1" and not rawget(_G, "jit") then
  print(rawequal(raised, err) and "object" or tostring(raised))
else
  print(rawequal(raised, err) and "object" or "other", tostring(raised))
end
]])
    f:close()
    local out, rc = run(tmp, {})
    os.remove(tmp)
    assert.equal(0, rc, out)
    if LUA == "lua5.1" then
      assert.matches("bad argument #2 to 'assert' %(string expected, got table%)", out)
    else
      assert.matches("^object\tkonnect: invalid_argument: token is required", out)
    end
  end)
end)
