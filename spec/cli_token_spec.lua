-- konnect-pats and the access token: a secret pasted where an argument goes
-- is refused like --token, with the advice to rotate it, and never echoed.
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
    r = cli({ "--json", "get", PASTED })
    refused(r, "--json get")
    local e = cjson.decode(r.err)
    assert.equal("invalid_argument", e.kind)
    assert.matches("now in your shell history", e.message, 1, true)
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
