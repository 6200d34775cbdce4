-- Connection pools and trust inside nginx.  nginx verifies a new TLS
-- connection against the lua_ssl_trusted_certificate of the location making
-- the call (a timer: of the location that made it), which Lua cannot read.
-- A connection verified under one store must never serve a call made under
-- another: https connections are pooled only under the trust a client names
-- (ca_file / ca_path); a client that names none verifies every connection.
-- The server's default store (nginx.conf.in) is the fake's CA; /trust/system
-- trusts only the system bundle, /trust/other only another CA file.
local nginx = require "nginx.client"
local fake = require "support.fake"

local FAKE_CA = os.getenv("FAKE_KONNECT_CA")
local SYSTEM = "/etc/ssl/certs/ca-certificates.crt"
local n = 0
local function unique(what)
  n = n + 1
  return what .. "-" .. n .. "-" .. os.time() .. "-" .. math.random(1e6)
end

local function list(where, client, cache)
  return nginx.call({ op = "list", args = { fake.ALICE }, client = client, cache = cache }, where)
end

describe("cosocket pools and trust", function()
  before_each(function() fake.reset() end)

  local LOCATIONS = {
    { "/trust/system", "the system bundle", SYSTEM },
    { "/trust/other", "another CA file", (os.getenv("KONNECT_NGINX_DIR") or "") .. "/untrusted.pem" },
  }

  for _, loc in ipairs(LOCATIONS) do
    local where, what, store = loc[1], loc[2], loc[3]

    it("no ca_file: a call where only " .. what .. " is trusted fails verification, even right after a " ..
      "verified call elsewhere", function()
      -- verified under the fake's CA (the default location), twice: a pool would hold it now
      local a
      for _ = 1, 2 do
        a = list("/call", { server = "https", retries = "off" })
        assert.is_true(a.ok, a.err and a.err.text)
      end
      local b = list(where, { server = "https", retries = "off" })
      assert.is_false(b.ok, "a connection verified under another store served this call")
      assert.equal("tls", b.err.kind)
      assert.equal(0, a.stats.reused, "an https connection without a named trust was reused")
    end)

    it("ca_file naming each location's store: reuse within a store, never across (" .. what .. ")", function()
      local cache = unique("trust")
      local a = list("/call", { server = "https", retries = "off", ca_file = FAKE_CA }, cache)
      assert.is_true(a.ok, a.err and a.err.text)
      local a2 = list("/call", { server = "https", retries = "off", ca_file = FAKE_CA }, cache)
      assert.is_true(a2.ok)
      assert.is_true(a2.stats.reused >= 1, "the named store's pool is reused")
      local b = list(where, { server = "https", retries = "off", ca_file = store })
      assert.is_false(b.ok)
      assert.equal("tls", b.err.kind)
    end)
  end

  it("a timer made in a location that trusts only the system bundle is verified under it", function()
    assert.is_true(list("/call", { server = "https", retries = "off" }).ok)
    local b = list("/trust/system/timer", { server = "https", retries = "off" })
    assert.equal("timer", b.phase)
    assert.is_false(b.ok)
    assert.equal("tls", b.err.kind)
  end)

  it("plain http (no trust involved) is pooled without ca_file", function()
    local cache = unique("plain")
    assert.is_true(list("/call", { server = "http", retries = "off" }, cache).ok)
    local b = list("/call", { server = "http", retries = "off" }, cache)
    assert.is_true(b.ok)
    assert.is_true(b.stats.reused >= 1)
  end)
end)
