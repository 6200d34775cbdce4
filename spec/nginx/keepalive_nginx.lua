-- The keepalive pool: reuse, and a pooled connection the server had closed.
local nginx = require "nginx.client"
local fake = require "support.fake"

local LIST_PATH = "/v3/users/" .. fake.ALICE:gsub("%-", "%%-") .. "/access%-tokens$"
local n = 0

-- a client cached in the nginx worker under a name unique to this test
local function cached(client)
  n = n + 1
  local name = "keepalive-" .. n .. "-" .. os.time()
  return function(op, args)
    return nginx.call { op = op or "list", args = args or { fake.ALICE }, client = client, cache = name }
  end
end

describe("cosocket keepalive", function()
  before_each(function() fake.reset() end)

  for _, server in ipairs { "http", "https" } do
    it("the second call reuses the pooled connection (" .. server .. ")", function()
      -- over https, pooled under the trust the client names (trust_nginx.lua)
      local call = cached { server = server, retries = "off",
                            ca_file = server == "https" and os.getenv("FAKE_KONNECT_CA") or nil }
      local a = call()
      assert.is_true(a.ok, a.err and a.err.text)
      local b = call()
      assert.is_true(b.ok, b.err and b.err.text)
      assert.is_true(b.stats.reused >= 1, "reused " .. b.stats.reused)
      assert.is_true(b.stats.pooled >= 2)
      -- a third call, a different request: still the same connection
      local c = call("me", {})
      assert.is_true(c.ok)
      assert.equal(b.stats.reused + 1, c.stats.reused)
      assert.equal(b.stats.connects, c.stats.connects)
    end)
  end

  it("a pooled connection the server dropped is retried once on a fresh one", function()
    local call = cached { retries = "off" }
    assert.is_true(call().ok)   -- the connection goes back to the pool
    -- the server closes the next request's connection without a byte of response
    fake.fault { method = "GET", path = LIST_PATH, drop = "before_body" }
    local out = call()
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal(1, out.stats.stale_retries)
    assert.equal(3, fake.count("GET /v3/users/" .. fake.ALICE .. "/access-tokens"))
  end)

  it("a create on a pooled connection that drops is never sent twice", function()
    local call = cached { retries = "off" }
    assert.is_true(call().ok)
    -- the server mints the token, then closes the connection without answering
    fake.fault { method = "POST", drop = "after_body" }
    local out = call("create", { fake.ALICE, { name = "only once", ttl_seconds = 86400 } })
    assert.equal("network", out.err.kind)
    assert.equal(1, fake.count("POST /v3/users/" .. fake.ALICE .. "/access-tokens"))
    local list = call()
    assert.equal(1, #list.value.data, "exactly one token was minted")
  end)

  it("a delete whose pooled connection dropped after deleting still succeeds", function()
    local call = cached { retries = "off" }
    local created = call("create", { fake.ALICE, { name = "to delete", ttl_seconds = 86400 } })
    assert.is_true(created.ok, created.err and created.err.text)
    fake.fault { method = "DELETE", drop = "after_body" }
    local out = call("delete", { fake.ALICE, created.value.id })
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal(2, fake.count("DELETE /v3/users/" .. fake.ALICE .. "/access-tokens/" .. created.value.id))
  end)

  it("on a fresh connection the same drop is an error (no transport retry)", function()
    fake.fault { method = "GET", path = LIST_PATH, drop = "before_body" }
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = { server = "http", retries = "off" } }
    assert.equal("network", out.err.kind)
    assert.equal(1, fake.count("GET /v3/users/" .. fake.ALICE .. "/access-tokens"))
  end)

  it("after a chunked response the connection is reused (its last chunk and trailer were read)", function()
    local name = "chunked-" .. os.time() .. "-" .. math.random(1e6)
    local _, a = nginx.request("POST", "/raw", { url = "/mock/x", cache = name })
    assert.is_nil(a.terr)
    assert.equal("chunked", a.res.headers["transfer-encoding"])
    assert.equal(1, a.stats.pooled)
    local _, b = nginx.request("POST", "/raw", { url = "/mock/x", cache = name })
    assert.is_nil(b.terr)
    assert.equal(a.stats.connects, b.stats.connects, "a second connection was opened")
    assert.equal(a.stats.reused + 1, b.stats.reused)
    -- the same through konnect.pats
    local call = cached { server = "mock", retries = "off" }
    local first = call()
    assert.is_true(first.ok)
    local out = call()
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal(first.stats.connects, out.stats.connects)
    assert.equal(first.stats.reused + 1, out.stats.reused)
  end)

  it("a trailer that arrives late is waited for, and the connection reused", function()
    local name = "trailer-" .. os.time() .. "-" .. math.random(1e6)
    local opts = { ca_file = "/" .. name } -- a keepalive pool of its own (ca_file is in the pool name)
    local _, a = nginx.request("POST", "/raw", { url = "/hostile/late_trailer", cache = name, opts = opts })
    assert.is_nil(a.terr, a.terr and a.terr.message)
    assert.equal("{}", a.res.body)
    local _, b = nginx.request("POST", "/raw", { url = "/hostile/late_trailer", cache = name, opts = opts })
    assert.is_nil(b.terr, b.terr and b.terr.message)
    -- every counter: two requests, one connection made, reused once, pooled after each
    assert.same({ requests = 2, connects = 1, reused = 1, pooled = 2, stale_retries = 0 }, b.stats)
  end)

  it("after a failed body read the next call succeeds on a fresh connection", function()
    local name = "stall-" .. os.time() .. "-" .. math.random(1e6)
    local opts = { ca_file = "/" .. name } -- a keepalive pool of its own (ca_file is in the pool name)
    -- 10 bytes, then 0.6 s of silence: the 0.3 s attempt times out mid-body
    local _, a = nginx.request("POST", "/raw", { url = "/stall", cache = name, timeout = 0.3, opts = opts })
    assert.equal("timeout", a.terr.kind)
    assert.equal(0, a.stats.pooled)
    -- the rest of that body is still on its way: a pooled connection would
    -- hand it to this call as its response
    local _, b = nginx.request("POST", "/raw", { url = "/mock/x", cache = name, timeout = 5 })
    assert.is_nil(b.terr, b.terr and b.terr.message)
    assert.equal(200, b.res.status)
    assert.equal("mocked", b.res.body:match('"name":"(%w+)"'))
    assert.equal(0, b.stats.reused)
    assert.equal(2, b.stats.connects)
  end)

  it("a response with Connection: close is not pooled", function()
    local _, a = nginx.request("POST", "/raw", { url = "/mock-close/x", cache = "close" })
    local _, b = nginx.request("POST", "/raw", { url = "/mock-close/x", cache = "close" })
    assert.equal("close", a.res.headers.connection)
    assert.equal(200, b.res.status)
    assert.equal(0, b.stats.pooled)
  end)
end)
