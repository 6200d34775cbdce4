-- examples/kong-plugin (konnect-pat-rotator) inside the test nginx, with a
-- kong shim (kong.log, configuration from schema.lua defaults).  Kong itself
-- is not installed here: see examples/kong-plugin/README.md.
local nginx = require "nginx.client"
local fake = require "support.fake"

local function state() local _, s = nginx.request("GET", "/kong/state"); return s end
local function run(overrides) local _, s = nginx.request("POST", "/kong/run", overrides or {}); return s end

local function bob_tokens()
  local c = fake.client { token = fake.BOB_TOKEN }
  local by_id = {}
  for _, t in ipairs(assert(c:list(fake.BOB)).data) do by_id[t.id] = t end
  return by_id
end

local function assert_no_secret_in(lines)
  for _, line in ipairs(lines) do
    assert.is_nil(line:find("kpat_", 1, true), "a secret in the log: " .. line)
  end
end

describe("kong plugin konnect-pat-rotator", function()
  it("follows Kong's conventions: PRIORITY, VERSION, schema defaults", function()
    local s = state()
    assert.is_number(s.handler.PRIORITY)
    assert.matches("^%d+%.%d+%.%d+$", s.handler.VERSION)
    assert.equal(fake.BOB, s.config.user_id)  -- set by the test
    assert.equal(10, s.config.timeout)      -- a schema default, not set by the test
    assert.equal("konnect_pats", s.config.shm)
    assert.equal(3600, s.config.check_interval)
  end)

  it("init_worker started the timer, whose first run created the managed token (https, cosocket)", function()
    local s = state()
    assert.equal("true", s.init_worker)
    assert.matches("^kpat_", s.secret)
    assert.is_string(s.id)
    assert.equal("kong-rotated", s.name)
    assert.matches("created token " .. s.id:gsub("%-", "%%-"), table.concat(s.log, "\n"))
    assert_no_secret_in(s.log)
  end)

  it("leaves a fresh token alone", function()
    local before = state()
    local s = run()
    assert.equal("fresh", s.status)
    assert.equal(before.id, s.id)
  end)

  it("rotates when due: new token stored, old one revoked", function()
    fake.reset()
    -- the reset forgot the managed token: the plugin notices and starts over from the bootstrap token
    local s = run { rotate_before = 90000 }
    assert.equal("recreated", s.status, s.err)
    local first = s.id
    assert.equal("ACTIVE", bob_tokens()[first].state)

    s = run { rotate_before = 90000 }
    assert.equal("rotated", s.status, s.err)
    assert.are_not.equal(first, s.id)
    local tokens = bob_tokens()
    assert.equal("REVOKED", tokens[first].state)
    assert.equal("ACTIVE", tokens[s.id].state)
    assert.equal("kong-rotated", tokens[s.id].name)

    -- the stored secret is the new token's, and it works
    local c = fake.client { token = s.secret }
    assert.equal(s.id, assert(c:get(fake.BOB, s.id)).id)
    assert_no_secret_in(s.log)
  end)
end)
