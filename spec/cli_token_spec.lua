-- konnect-pats and the access token: where it comes from (--token-file, then
-- KONNECT_TOKEN_FILE, then KONNECT_TOKEN), and a secret pasted where an
-- argument goes, refused like --token, with the advice to rotate it, and
-- never echoed.
local cjson = require "cjson"
local fake = require "support.fake"
local h = require "support.cli"

local ALICE = fake.ALICE
local cli = h.cli

-- token-shaped, as a pasted secret is (a real one has kpat_ and 45 more characters)
local PASTED = "kpat_" .. ("Xy7"):rep(15)
local PASTED_SPAT = "spat_" .. ("q9Z"):rep(15)

local function refused(r, what)
  assert.equal(2, r.code, what .. ": " .. r.err)
  assert.equal("", r.out, what)
  assert.matches("shell history", r.err, 1, true)
  assert.matches("rotate", r.err, 1, true)
  -- never echoed, not even redacted, nor a piece of it
  assert.not_matches(PASTED:sub(6, 20), r.err, 1, true)
  assert.not_matches(PASTED_SPAT:sub(6, 20), r.err, 1, true)
  assert.not_matches("<redacted>", r.err, 1, true)
end

describe("konnect-pats: where the access token comes from", function()
  local dir
  h.per_test(before_each, after_each, function(_, d) dir = d end)

  local function token_file(name, token, mode)
    local path = dir .. "/" .. name
    h.spit(path, token .. "\n")
    os.execute("chmod " .. (mode or "600") .. " " .. h.q(path))
    return path
  end

  local function whoami(args, env)
    local r = cli(args, { env = env })
    assert.equal(0, r.code, r.err)
    return cjson.decode(r.out).id, r
  end

  it("KONNECT_TOKEN_FILE names a file holding the token (the CI convention)", function()
    local path = token_file("alice", fake.ALICE_TOKEN)
    assert.equal(ALICE, (whoami({ "whoami", "--json" }, { KONNECT_TOKEN = false, KONNECT_TOKEN_FILE = path })))
  end)

  it("--token-file wins over KONNECT_TOKEN_FILE and KONNECT_TOKEN", function()
    local alice, bob = token_file("alice", fake.ALICE_TOKEN), token_file("bob", fake.BOB_TOKEN)
    assert.equal(ALICE, (whoami({ "whoami", "--json", "--token-file", alice },
      { KONNECT_TOKEN = fake.BOB_TOKEN })))
    assert.equal(ALICE, (whoami({ "whoami", "--json", "--token-file", alice },
      { KONNECT_TOKEN = false, KONNECT_TOKEN_FILE = bob })))
    assert.equal(ALICE, (whoami({ "whoami", "--json", "--token-file", alice },
      { KONNECT_TOKEN = fake.BOB_TOKEN, KONNECT_TOKEN_FILE = bob })))
  end)

  it("KONNECT_TOKEN_FILE and KONNECT_TOKEN both set: usage error naming both, no request", function()
    local bob = token_file("bob", fake.BOB_TOKEN)
    local r = cli({ "whoami" }, { env = { KONNECT_TOKEN_FILE = bob } })
    assert.equal(2, r.code)
    assert.matches("both KONNECT_TOKEN and KONNECT_TOKEN_FILE are set", r.err, 1, true)
    assert.equal(0, fake.requests().total)
    -- an empty one counts as unset
    assert.equal(fake.BOB, (whoami({ "whoami", "--json" }, { KONNECT_TOKEN = "", KONNECT_TOKEN_FILE = bob })))
  end)

  it("KONNECT_TOKEN_FILE gets --token-file's checks: missing, empty, readable by others", function()
    local r = cli({ "whoami" }, { env = { KONNECT_TOKEN = false, KONNECT_TOKEN_FILE = dir .. "/nope" } })
    assert.equal(2, r.code)
    assert.matches("cannot read KONNECT_TOKEN_FILE", r.err, 1, true)
    local empty = token_file("empty", " ")
    r = cli({ "whoami" }, { env = { KONNECT_TOKEN = false, KONNECT_TOKEN_FILE = empty } })
    assert.equal(2, r.code)
    assert.matches("KONNECT_TOKEN_FILE " .. empty .. " is empty", r.err, 1, true)
    local open = token_file("open", fake.ALICE_TOKEN, "644")
    local _, ok = whoami({ "whoami", "--json" }, { KONNECT_TOKEN = false, KONNECT_TOKEN_FILE = open })
    assert.matches("can be read by others (mode 0644); chmod 600 " .. open .. " fixes it",
      cjson.decode(ok.err).warning, 1, true)
    assert.not_matches(fake.ALICE_TOKEN, ok.err, 1, true)
    assert.equal(1, fake.count("GET /v3/users/me"))
  end)

  it("no token at all: the message names the three sources", function()
    local r = cli({ "list" }, { env = { KONNECT_TOKEN = false } })
    assert.equal(2, r.code)
    for _, s in ipairs { "KONNECT_TOKEN ", "KONNECT_TOKEN_FILE", "--token-file" } do
      assert.matches(s, r.err, 1, true)
    end
  end)
end)

describe("konnect-pats: a secret pasted on the command line", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("is refused anywhere: as TOKEN, as the user, inside an option, after --; no request is made", function()
    for _, args in ipairs {
      { "get", PASTED },
      { "list", PASTED },
      { "revoke", "--user", PASTED, "ci" },
      { "create", "--name=" .. PASTED, "--ttl", "1d" },
      { "find", "--", PASTED },
      { "rename", "ci", PASTED_SPAT },
      { "whoami", PASTED_SPAT },
      { "help", PASTED },
      { "Bearer " .. PASTED },
    } do
      local what = table.concat(args, " ")
      refused(cli(args), what)
    end
    assert.equal(0, fake.requests().total)
  end)

  it("names the argument by its position, not its value; --json: kind invalid_argument", function()
    local r = cli({ "get", PASTED })
    assert.matches("^konnect%-pats: usage: argument 2 looks like an access token", r.err)
    -- the shortest token shape: kpat_ or spat_ and 20 letters, digits or _
    for _, shortest in ipairs { "kpat_" .. ("Ab_1"):rep(5), "spat_" .. ("Ab_1"):rep(5) } do
      r = cli({ "find", shortest })
      assert.equal(2, r.code, shortest)
      assert.matches("^konnect%-pats: usage: argument 2 looks like an access token", r.err)
    end
    -- "--token=" inside an argument is no --token option: the argument itself is refused
    r = cli({ "find", "ci--token=" .. PASTED })
    refused(r, "find ci--token=…")
    assert.matches("^konnect%-pats: usage: argument 2 looks like an access token", r.err)
    r = cli({ "--json", "get", PASTED })
    refused(r, "--json get")
    local e = cjson.decode(r.err)
    assert.equal("invalid_argument", e.kind)
    assert.matches("now in your shell history", e.message, 1, true)
  end)

  it("main(arg) as a Lua script passes it: arg[0] and below (the script, the interpreter) are no arguments",
    function()
      local outb, errb = {}, {}
      local code = require("konnect.cli").main({ [-1] = "lua5.4", [0] = "/srv/" .. PASTED .. "/run.lua", "whoami" }, {
        stdout = { write = function(_, ...) outb[#outb + 1] = table.concat({ ... }) end },
        stderr = { write = function(_, ...) errb[#errb + 1] = table.concat({ ... }) end },
        getenv = function(k) return ({ KONNECT_TOKEN = fake.ALICE_TOKEN, KONNECT_SERVER_URL = fake.http })[k] end,
      })
      assert.equal(0, code, table.concat(errb))
      assert.matches(ALICE, table.concat(outb), 1, true)
    end)

  it("--token with a token-shaped value: refused with the rotation advice too", function()
    for _, args in ipairs { { "list", "--token", PASTED }, { "--token=" .. PASTED, "list" } } do
      local r = cli(args)
      refused(r, table.concat(args, " "))
      assert.matches("--token is refused", r.err, 1, true)
    end
    -- a value that is no token: the plain refusal, nothing echoed
    local r = cli({ "list", "--token", "hunter2" })
    assert.equal(2, r.code)
    assert.matches("--token is refused", r.err, 1, true)
    assert.not_matches("hunter2", r.err, 1, true)
  end)

  it("short kpat_ words are names and paths, not secrets", function()
    assert(client:create(ALICE, { name = "kpat_ci", ttl_seconds = 86400 }))
    local r = cli({ "find", "kpat_ci", "--json" })
    assert.equal(0, r.code, r.err)
    assert.equal(1, #cjson.decode(r.out))
  end)
end)
