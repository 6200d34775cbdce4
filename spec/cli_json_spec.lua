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

-- one object's shape: "token" (a personal access token: a state), "sa_token"
-- (a system account's: no state, no user, an expiry), "user", "account",
-- "report" (audit's), or "object"
local function object_shape(v)
  if type(v) ~= "table" then return type(v) end
  if type(v.id) == "string" and type(v.state) == "string" and type(v.name) == "string" then return "token" end
  if type(v.id) == "string" and type(v.name) == "string" and type(v.expires_at) == "string" and v.state == nil
    and v.user_id == nil and v.email == nil then return "sa_token" end
  if type(v.id) == "string" and type(v.email) == "string" then return "user" end
  if type(v.id) == "string" and type(v.name) == "string" and type(v.konnect_managed) == "boolean" then
    return "account"
  end
  if type(v.complete) == "boolean" and type(v.tokens) == "table" and type(v.owners) == "table"
    and type(v.failures) == "table" and type(v.counts) == "table" then return "report" end
  return "object"
end

-- the shape of a value: an object's, or "tokens", "sa_tokens", "users",
-- "accounts" (an array of those objects, all of one shape), "[]" (empty)
local function shape_of(v)
  if type(v) ~= "table" then return type(v) end
  if next(v) == nil then return "[]" end
  if #v == 0 then return object_shape(v) end
  local first = object_shape(v[1])
  for _, t in ipairs(v) do
    if object_shape(t) ~= first then return "array" end
  end
  return ({ token = "tokens", sa_token = "sa_tokens", user = "users", account = "accounts" })[first] or "array"
end

-- what a README row says -> the shape (the phrases are checked in this order)
local PHRASES = {
  { "an array of system-account token objects", "sa_tokens" },
  { "an array of token objects", "tokens" },
  { "an array of user objects", "users" },
  { "an array of system account objects", "accounts" },
  { "the audit report", "report" },
  { "the user object", "user" },
  { "system-account token object", "sa_token" },
  { "token object", "token" },
}

-- README.md's table of --json shapes: { ["list"] = "tokens", ["list --system-account"] = "sa_tokens", … }:
-- a row names one or more commands (`list`, `find NAME`, …), for a system
-- account's tokens when it says `--system-account ACCOUNT`
local function documented_shapes()
  local f = assert(io.open(h.ROOT .. "/README.md", "rb"))
  local text = f:read("*a")
  f:close()
  local section = assert(text:match("\n### `%-%-json`\n(.-)\n##"), "README.md has no ### `--json` section")
  local tbl = assert(section:match("\n| command | stdout with `%-%-json` |\n| %-%-%- | %-%-%- |\n(.-)\n\n"),
    "no table of shapes")
  local commands = require("konnect.cli.options").COMMANDS
  local shapes = {}
  for line in (tbl .. "\n"):gmatch("([^\n]*)\n") do
    local cell, what = line:match("^| (.-) | (.-) |$")
    assert(cell, "not a row: " .. line)
    local sa = cell:find("--system-account", 1, true) and " --system-account" or ""
    local shape = "unknown: " .. what
    for _, p in ipairs(PHRASES) do
      if what:find(p[1], 1, true) then shape = p[2]; break end
    end
    for word in cell:gmatch("`([%a%-]+)[^`]*`") do
      if commands[word] then
        assert(shapes[word .. sa] == nil, "two rows for " .. word .. sa)
        shapes[word .. sa] = shape
      end
    end
  end
  return shapes, section
end

describe("konnect-pats --json", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("README.md documents a shape for every command, and for each that takes --system-account", function()
    local shapes = documented_shapes()
    for name, cmd in pairs(require("konnect.cli.options").COMMANDS) do
      assert.is_string(shapes[name], "no --json row for " .. name)
      assert.is_nil(shapes[name]:match("^unknown"), name .. ": " .. shapes[name])
      local sa = shapes[name .. " --system-account"]
      if cmd.options["system-account"] then
        assert.is_string(sa, "no --json row for " .. name .. " --system-account")
        assert.is_nil(sa:match("^unknown"), name .. " --system-account: " .. sa)
      else
        assert.is_nil(sa, name .. " takes no --system-account")
      end
    end
  end)

  it("every command prints the shape its README row says: an array for a list, the object for one", function()
    local shapes = documented_shapes()
    fake.reset { users = 6, system_accounts = 3 } -- a small organisation: users and audit print all of it
    assert(client:create(ALICE, { name = "alpha", ttl_seconds = DAY }))
    local b = assert(client:create(ALICE, { name = "beta", ttl_seconds = 2 * DAY }))
    local gone = assert(client:create(ALICE, { name = "gone", ttl_seconds = DAY }))
    assert(client:revoke(ALICE, gone.id))
    -- a system account's tokens, with the admin's token
    local admin = fake.client { token = fake.ADMIN_TOKEN }
    local SA = fake.SYSTEM_ACCOUNT_NAME
    assert(admin:create_sa_token(fake.SYSTEM_ACCOUNT, { name = "s-alpha", ttl_seconds = DAY }))
    local sb = assert(admin:create_sa_token(fake.SYSTEM_ACCOUNT, { name = "s-beta", ttl_seconds = DAY }))
    fake.expire(assert(admin:create_sa_token(fake.SYSTEM_ACCOUNT, { name = "s-dead", ttl_seconds = DAY })).id)
    local ADMIN = { KONNECT_TOKEN = fake.ADMIN_TOKEN }
    local runs = {
      { "whoami" }, { "list" }, { "find", "alpha" }, { "get", "alpha" }, { "rename", b.id, "beta2" },
      { "revoke", "beta2" }, { "create", "--name", "new", "--ttl", "1d" }, { "rotate", "alpha" },
      { "prune", "--dry-run" }, { "delete", "beta2" },
      { "list", "--system-account", SA, env = ADMIN }, { "find", "s-alpha", "--system-account", SA, env = ADMIN },
      { "get", "s-alpha", "--system-account", SA, env = ADMIN },
      { "rename", sb.id, "s-beta2", "--system-account", SA, env = ADMIN },
      { "create", "--name", "s-new", "--ttl", "1d", "--system-account", SA, env = ADMIN },
      { "rotate", "s-alpha", "--system-account", SA, env = ADMIN },
      { "prune", "--dry-run", "--system-account", SA, env = ADMIN },
      { "delete", "s-beta2", "--system-account", SA, env = ADMIN },
      { "users", env = ADMIN }, { "system-accounts", env = ADMIN }, { "audit", env = ADMIN },
    }
    local seen = {}
    for _, args in ipairs(runs) do
      local key = args[1] .. (args[#args - 1] == "--system-account" and " --system-account" or "")
      seen[key] = true
      args[#args + 1] = "--json"
      local r = cli(args, { env = args.env })
      local what = table.concat(args, " ")
      assert.equal(0, r.code, what .. ": " .. r.err)
      assert.equal(1, select(2, r.out:gsub("\n", "")), what .. ": one JSON document on one line")
      local v = decode(r.out)
      assert.equal(shapes[key], shape_of(v), what .. " printed " .. r.out)
      local array = ({ tokens = true, sa_tokens = true, users = true, accounts = true })[shapes[key]]
      assert.equal(array and "[" or "{", r.out:sub(1, 1), what)
    end
    for key in pairs(shapes) do assert.is_true(seen[key], "no run for the row of " .. key) end
    -- a secret where create and rotate promise one, in the field the README names; none elsewhere
    local created = decode(cli({ "create", "--name", "other", "--ttl", "1d", "--json" }).out)
    assert.matches("^kpat_", created.konnect_token)
    assert.is_nil(created.token)
    assert.is_nil(decode(cli({ "get", created.id, "--user", ALICE, "--json" }).out).konnect_token)
    local sat = decode(cli({ "create", "--name", "s-other", "--ttl", "1d", "--system-account", SA, "--json" },
      { env = ADMIN }).out)
    assert.matches("^spat_", sat.token)
    assert.is_nil(sat.konnect_token)
    assert.is_nil(decode(cli({ "get", sat.id, "--system-account", SA, "--json" }, { env = ADMIN }).out).token)
  end)

  it("list, find, prune, users and system-accounts print [] when there is nothing, never {}", function()
    assert.equal("[]\n", cli({ "list", "--json" }).out)
    assert.equal("[]\n", cli({ "find", "nobody", "--json" }).out)
    assert.equal("[]\n", cli({ "prune", "--json" }).out)
    local ADMIN = { KONNECT_TOKEN = fake.ADMIN_TOKEN }
    for _, args in ipairs { { "list" }, { "find", "nobody" }, { "prune" } } do
      args[#args + 1], args[#args + 2], args[#args + 3] = "--system-account", fake.SYSTEM_ACCOUNT_NAME, "--json"
      assert.equal("[]\n", cli(args, { env = ADMIN }).out, table.concat(args, " "))
    end
    assert.equal("[]\n", cli({ "users", "--email", "nobody@example.test", "--json" }, { env = ADMIN }).out)
    assert.equal("[]\n", cli({ "system-accounts", "--name", "nobody", "--json" }, { env = ADMIN }).out)
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
        -- the documented fields, null when absent, and no other (candidates: a name several have)
        for _, k in ipairs { "kind", "status", "message", "trace_id", "request_id" } do
          assert.is_not_nil(e[k], table.concat(args, " ") .. ": " .. k)
        end
        for k in pairs(e) do
          local known = { kind = 1, status = 1, message = 1, trace_id = 1, request_id = 1, candidates = 1 }
          assert.truthy(known[k], table.concat(args, " ") .. ": field " .. k)
        end
      end
      -- an answer of the wrong shape
      fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = '{"data": 5}', count = 3 }
      assert.equal("decode", json_error({ "list", "--json" }).kind)
    end)

    it("an error that is no error object (a string, a number, false) is kind system with its text", function()
      local render = require "konnect.cli.render"
      assert.equal("konnect-pats: system: disk full?", render.error_line("disk full\1"))
      for _, err in ipairs { "disk full", 42, false } do
        assert.same({ kind = "system", message = tostring(err), status = cjson.null, trace_id = cjson.null,
                      request_id = cjson.null }, render.error_object(err, nil, cjson.null))
        assert.equal("konnect-pats: system: " .. tostring(err), render.error_line(err))
      end
    end)

    it("--json after \"--\" is an argument, not the option: plain output and plain errors", function()
      local r = cli({ "find", "--", "--json" })
      assert.equal(0, r.code, r.err)
      assert.equal('(no tokens named "--json")\n', r.out)
      r = cli({ "list", "x", "--", "--json" })
      assert.equal(2, r.code)
      assert.matches("^konnect%-pats: usage: too many arguments: list ", r.err)
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
