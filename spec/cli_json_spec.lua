-- konnect-pats --json: the shapes a script relies on, as README.md's "Command
-- line" section documents them (the table is read from the README, so the
-- test fails when a command's shape and its documented row disagree), and
-- error objects whose kind is always one of errors.KINDS.
local cjson = require "cjson"
local fake = require "support.fake"
local errors = require "konnect.errors"
local h = require "support.cli"

local ALICE = fake.ALICE
local DAY = 86400
local cli, q = h.cli, h.q

local function decode(s)
  local ok, v = pcall(cjson.decode, s)
  assert(ok and type(v) == "table", "expected one JSON document, got: " .. tostring(s))
  return v
end

local function is_array(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v or (n == 0 and v == cjson.empty_array) or next(v) == nil
end

-- the shape of a value: "tokens" (an array of token objects), "token", "user"
local function shape_of(v)
  if type(v) ~= "table" then return type(v) end
  if #v > 0 or next(v) == nil then
    for _, t in ipairs(v) do
      if type(t) ~= "table" or type(t.id) ~= "string" or type(t.state) ~= "string" then return "array" end
    end
    return "tokens"
  end
  if type(v.id) == "string" and type(v.state) == "string" and type(v.name) == "string" then return "token" end
  if type(v.id) == "string" and type(v.email) == "string" then return "user" end
  return "object"
end

-- README.md's table of --json shapes: { command = "tokens" | "token" | "user" }
local function documented_shapes()
  local f = assert(io.open(h.ROOT .. "/README.md", "rb"))
  local text = f:read("*a")
  f:close()
  local section = assert(text:match("\n### `%-%-json`\n(.-)\n##"), "README.md has no ### `--json` section")
  local shapes = {}
  for cmd, what in section:gmatch("\n| `(%a+)[^`]*` | ([^|\n]+) |") do
    assert(shapes[cmd] == nil, "two rows for " .. cmd)
    if what:find("an array of token objects", 1, true) then
      shapes[cmd] = "tokens"
    elseif what:find("the user object", 1, true) then
      shapes[cmd] = "user"
    elseif what:find("token object", 1, true) then
      shapes[cmd] = "token"
    else
      shapes[cmd] = "unknown: " .. what
    end
  end
  return shapes, section
end

describe("konnect-pats --json", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("README.md documents a shape for every command", function()
    local shapes = documented_shapes()
    for name in pairs(require("konnect.cli.args").COMMANDS) do
      assert.is_string(shapes[name], "no --json row for " .. name)
      assert.is_nil(shapes[name]:match("^unknown"), name .. ": " .. shapes[name])
    end
  end)

  it("every command prints the shape its README row says: an array for a list, the object for one", function()
    local shapes = documented_shapes()
    assert(client:create(ALICE, { name = "alpha", ttl_seconds = DAY }))
    local b = assert(client:create(ALICE, { name = "beta", ttl_seconds = 2 * DAY }))
    local gone = assert(client:create(ALICE, { name = "gone", ttl_seconds = DAY }))
    assert(client:revoke(ALICE, gone.id))
    local runs = {
      whoami = { "whoami" },
      list = { "list" },
      find = { "find", "alpha" },
      get = { "get", "alpha" },
      rename = { "rename", b.id, "beta2" },
      revoke = { "revoke", "beta2" },
      create = { "create", "--name", "new", "--ttl", "1d" },
      rotate = { "rotate", "alpha" },
      prune = { "prune", "--dry-run" },
      delete = { "delete", "beta2" },
    }
    local order = { "whoami", "list", "find", "get", "rename", "revoke", "create", "rotate", "prune", "delete" }
    for _, name in ipairs(order) do
      local args = runs[name]
      args[#args + 1] = "--json"
      local r = cli(args)
      local what = table.concat(args, " ")
      assert.equal(0, r.code, what .. ": " .. r.err)
      assert.equal(1, select(2, r.out:gsub("\n", "")), what .. ": one JSON document on one line")
      local v = decode(r.out)
      assert.equal(shapes[name], shape_of(v), what .. " printed " .. r.out)
      if shapes[name] == "tokens" then assert.is_true(is_array(v), what) end
    end
    -- a secret where create and rotate promise one; none elsewhere
    local created = decode(cli({ "create", "--name", "other", "--ttl", "1d", "--json" }).out)
    assert.matches("^kpat_", created.konnect_token)
    assert.is_nil(decode(cli({ "get", created.id, "--user", ALICE, "--json" }).out).konnect_token)
  end)

  it("list and find print [] when there is nothing, never {}", function()
    assert.equal("[]\n", cli({ "list", "--json" }).out)
    assert.equal("[]\n", cli({ "find", "nobody", "--json" }).out)
    assert.equal("[]\n", cli({ "prune", "--json" }).out)
  end)

  it("delete prints the token it deleted, as prune prints those it deleted", function()
    local t = assert(client:create(ALICE, { name = "doomed", ttl_seconds = DAY }))
    local r = cli({ "delete", t.id, "--json" })
    assert.equal(0, r.code, r.err)
    local v = decode(r.out)
    assert.equal(t.id, v.id)
    assert.equal("doomed", v.name)
    assert.equal("ACTIVE", v.state)
    assert.is_nil(v.konnect_token)
    assert.equal("not_found", select(2, client:get(ALICE, t.id)).kind)
    local by_name = assert(client:create(ALICE, { name = "doomed2", ttl_seconds = DAY }))
    r = cli({ "delete", "doomed2" })
    assert.equal(0, r.code, r.err)
    assert.equal('deleted token "doomed2" (' .. by_name.id .. ')\n', r.out)
  end)

  it("prune --dry-run --json | jq 'map(.name)' works, as a process", function()
    local a = assert(client:create(ALICE, { name = "old-one", ttl_seconds = DAY }))
    assert(client:revoke(ALICE, a.id))
    assert(client:create(ALICE, { name = "alive", ttl_seconds = DAY }))
    local out = os.tmpname()
    local env = "KONNECT_TOKEN=" .. q(fake.ALICE_TOKEN) .. " KONNECT_SERVER_URL=" .. q(fake.http)
    local rc = h.sh("cd " .. q(h.ROOT) .. " && env " .. env .. " " .. h.LUA .. " " .. q(h.CLI) ..
      " prune --dry-run --json | jq -c 'map(.name)' > " .. out)
    assert.equal(0, rc)
    assert.equal('["old-one"]\n', h.slurp(out))
    os.remove(out)
  end)

  describe("errors", function()
    local function json_error(args, env)
      local r = cli(args, { env = env })
      local what = table.concat(args, " ")
      assert.equal("", r.out, what)
      assert.equal(1, select(2, r.err:gsub("\n", "")), what .. ": one line: " .. r.err)
      local e = decode(r.err)
      assert(errors.KINDS[e.kind] ~= nil, what .. ": kind " .. tostring(e.kind) .. " is not one of errors.KINDS")
      return e, r.code
    end

    it("every failure's kind is one of errors.KINDS: usage, ambiguous, not found, API, network, shape", function()
      for i = 1, 2 do assert(client:create(ALICE, { name = "dup", ttl_seconds = i * DAY })) end
      local cases = {
        { { "frobnicate" }, 2, "invalid_argument" },
        { { "list", "--frob" }, 2, "invalid_argument" },
        { { "get" }, 2, "invalid_argument" },
        { {}, 2, "invalid_argument" },
        { { "create", "--name", "x" }, 2, "invalid_argument" },
        { { "get", "bad!" }, 2, "invalid_argument" },
        { { "get", "dup" }, 2, "invalid_argument" },
        { { "get", "absent" }, 1, "not_found" },
        { { "get", fake.MISSING }, 1, "not_found" },
        { { "list" }, 4, "unauthorized", { KONNECT_TOKEN = "kpat_fake_unknown_not_real" } },
        { { "list" }, 3, "connect", { KONNECT_SERVER_URL = "http://127.0.0.1:1" } },
        { { "list" }, 2, "invalid_argument", { KONNECT_TOKEN = false } },
      }
      for _, c in ipairs(cases) do
        local args = { "--json" }
        for _, a in ipairs(c[1]) do args[#args + 1] = a end
        local e, code = json_error(args, c[4])
        assert.equal(c[3], e.kind, table.concat(args, " "))
        assert.equal(c[2], code, table.concat(args, " "))
      end
      -- an answer of the wrong shape
      fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = '{"data": 5}', count = 3 }
      assert.equal("decode", json_error({ "list", "--json" }).kind)
    end)

    it("an internal error is kind system, still one object", function()
      local errb = {}
      local code = require("konnect.cli").main({ "whoami", "--json" }, {
        stdout = { write = function() end },
        stderr = { write = function(_, ...) errb[#errb + 1] = table.concat({ ... }) end },
        getenv = function(k)
          if k == "KONNECT_TOKEN" then return fake.ALICE_TOKEN end
          error("environment exploded")
        end,
      })
      assert.equal(1, code)
      local e = decode(table.concat(errb))
      assert.equal("system", e.kind)
      assert.matches("^internal error: ", e.message)
    end)

    it("a name several tokens have: the message lists them (no dangling colon), candidates are token objects",
      function()
        local a = assert(client:create(ALICE, { name = "dup", ttl_seconds = DAY }))
        local b = assert(client:create(ALICE, { name = "dup", ttl_seconds = 7 * DAY }))
        local e, code = json_error({ "revoke", "dup", "--json" })
        assert.equal(2, code)
        assert.equal("invalid_argument", e.kind)
        assert.not_matches(":%s*$", e.message)
        assert.matches(a.id .. " (ACTIVE, expires in 24 hours)", e.message, 1, true)
        assert.matches(b.id .. " (ACTIVE, expires in 7 days)", e.message, 1, true)
        assert.equal("tokens", shape_of(e.candidates))
        assert.equal(2, #e.candidates)
        local r = cli({ "revoke", "dup" })
        assert.equal(2, r.code)
        assert.equal("konnect-pats: invalid_argument: " .. e.message .. "\n", r.err)
        assert.equal("ACTIVE", assert(client:get(ALICE, a.id)).state)
      end)

    it("prune failing half way: deleted holds the token objects deleted before the failure", function()
      local a = assert(client:create(ALICE, { name = "r1", ttl_seconds = DAY }))
      local b = assert(client:create(ALICE, { name = "r2", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, a.id))
      assert(client:revoke(ALICE, b.id))
      fake.fault { method = "DELETE", path = "/access%-tokens/" .. b.id:gsub("%-", "%%-") .. "$", status = 500,
                   count = 3, retry_after = "0" }
      local e, code = json_error({ "prune", "--json" })
      assert.equal(1, code)
      assert.equal("server", e.kind)
      assert.equal("tokens", shape_of(e.deleted))
      assert.equal(a.id, e.deleted[1].id)
      assert.equal(1, #e.deleted)
    end)
  end)
end)
