-- The numbers docs/API.md promises, held at their boundaries through the public
-- API (each literal below is the document's, not read from konnect.limits: a
-- change of a cap is a change of the contract, and must show here).
local pats = require "konnect.pats"
local fake = require "support.fake"

local ALICE = fake.ALICE

local function new(o)
  o.token = o.token or fake.ALICE_TOKEN
  o.server_url = o.server_url or fake.http
  return pats.new(o)
end

local function refused(o)
  local c, err = new(o)
  assert.is_nil(c)
  assert.equal("invalid_argument", err.kind)
end

describe("the numbers docs/API.md states", function()
  before_each(function() fake.reset() end)

  it("token: at most 4096 bytes", function()
    assert.is_table((new { token = "kpat_" .. ("x"):rep(4096 - 5) }))
    refused { token = "kpat_" .. ("x"):rep(4097 - 5) }
  end)

  it("user_agent, and header values as for it: at most 8 KiB", function()
    assert.is_table((new { user_agent = ("u"):rep(8192) }))
    refused { user_agent = ("u"):rep(8193) }
    assert.is_table((new { headers = { ["X-Team"] = ("v"):rep(8192) } }))
    refused { headers = { ["X-Team"] = ("v"):rep(8193) } }
  end)

  it("max_body: 1024 … 1 GiB", function()
    assert.is_table((new { max_body = 1024 }))
    refused { max_body = 1023 }
    assert.is_table((new { max_body = 1024 * 1024 * 1024 }))
    refused { max_body = 1024 * 1024 * 1024 + 1 }
  end)

  it("max_body: 4194304 (4 MiB) by default", function()
    local c = assert(new { retries = false })
    fake.fault { method = "GET", huge = 4194304 }
    assert.is_table((c:list(ALICE)))
    fake.fault { method = "GET", huge = 4194305 }
    local v, err = c:list(ALICE)
    assert.is_nil(v)
    assert.equal("too_large", err.kind)
  end)

  it("an error's body: the raw body capped at 2 KiB", function()
    local body = ("0123456789abcdef"):rep(1000)
    fake.fault { method = "GET", status = 502, content_type = "text/plain", body = body }
    local _, err = assert(new { retries = false }):list(ALICE)
    assert.equal("server", err.kind)
    assert.equal(body:sub(1, 2048) .. "…", err.body)
  end)

  it("batch concurrency: 8 by default (a client that heard nothing yet starts one wave of it)", function()
    local starts, answers = 0, 0
    local first_wave
    local c = assert(new { hooks = {
      before_request = function() starts = starts + 1 end,
      after_response = function()
        answers = answers + 1
        first_wave = first_wave or starts -- calls started before the first answer came
      end } })
    local calls = {}
    for i = 1, 20 do calls[i] = { "me" } end
    local _, failed = c:batch(calls)
    assert.equal(0, failed)
    assert.equal(20, answers)
    assert.equal(8, first_wave)
  end)
end)
