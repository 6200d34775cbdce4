-- The point of the cosocket transport: while one request waits for Konnect,
-- the same (single) nginx worker keeps answering others.
local nginx = require "nginx.client"
local fake = require "support.fake"
local json = require "konnect.json"
local proc = require "support.proc"

local LIST = "GET /v3/users/" .. fake.ALICE .. "/access-tokens"
local LIST_PATH = "/v3/users/" .. fake.ALICE:gsub("%-", "%%-") .. "/access%-tokens$"
local DELAY = 2

local function read(path) return proc.read_file(path) or "" end

local function wait_until(fn, seconds)
  local deadline = nginx.clock() + seconds
  while nginx.clock() < deadline do
    local v = fn()
    if v then return v end
    os.execute("sleep 0.02")
  end
  return nil
end

-- Starts a slow Konnect call in the background (curl), waits until the fake
-- holds it, then times GET /ping.  -> ping seconds, slow call's outcome, slow seconds, pending_at_ping
local function race(client)
  fake.fault { method = "GET", path = LIST_PATH, delay = DELAY }
  local out = os.tmpname()
  local t0 = nginx.clock()
  os.execute(nginx.curl_post("/call", { op = "list", args = { fake.ALICE }, client = client }) ..
    " > " .. out .. " 2>&1 &")
  assert(wait_until(function() return fake.count(LIST) >= 1 end, DELAY), "the slow call never reached the fake")
  local status, body, ping = nginx.request("GET", "/ping")
  assert.equal(200, status)
  assert.equal("pong\n", body)
  local pending = read(out) == ""
  local outcome = wait_until(function()
    local s = read(out)
    return s:find("}%s*$") and s or nil
  end, DELAY + 10)
  local slow = nginx.clock() - t0
  os.remove(out)
  return ping, json.decode(outcome or "null"), slow, pending
end

describe("non-blocking", function()
  before_each(function() fake.reset() end)

  it("a request is answered promptly while another one's Konnect call is delayed " .. DELAY .. " s", function()
    local ping, outcome, slow, pending = race({ retries = "off" })
    io.stderr:write(string.format(
      "\n  [non-blocking] cosocket: /ping answered in %.1f ms while the delayed call was pending " ..
      "(that call took %.2f s in nginx, %.2f s end to end)\n", ping * 1000, outcome.elapsed, slow))
    assert.is_true(pending, "the slow call had already finished when /ping was answered")
    assert.is_true(ping < 0.5, "ping took " .. ping .. " s")
    assert.is_true(outcome.ok, outcome.err and outcome.err.text)
    assert.same({ "cosocket" }, outcome.transports)
    assert.is_true(outcome.elapsed >= DELAY - 0.05, "the slow call took only " .. outcome.elapsed)
  end)

  it("for contrast, transport = \"curl\" blocks the worker for the whole call", function()
    local ping, outcome = race({ retries = "off", transport = "curl" })
    io.stderr:write(string.format(
      "  [non-blocking] curl (blocking): /ping answered in %.2f s, after the delayed call\n", ping))
    assert.is_true(outcome.ok, outcome.err and outcome.err.text)
    assert.same({ "curl" }, outcome.transports)
    assert.is_true(ping > 1.0, "ping took only " .. ping .. " s")
  end)
end)
