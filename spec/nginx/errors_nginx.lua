-- Error kinds, retries and response framings through the cosocket transport.
local nginx = require "nginx.client"
local fake = require "support.fake"
local coreserver = require "support.coreserver"

local LIST = "GET /v3/users/" .. fake.ALICE .. "/access-tokens"
local LIST_PATH = "/v3/users/" .. fake.ALICE:gsub("%-", "%%-") .. "/access%-tokens$"

local function list(client)
  return nginx.call { op = "list", args = { fake.ALICE }, client = client }
end

describe("cosocket transport errors", function()
  before_each(function() fake.reset() end)

  it("connect: nothing listens", function()
    local out = list { server = "http://127.0.0.1:1", retries = "off" }
    assert.equal("connect", out.err.kind)
    assert.matches("cannot connect to 127.0.0.1:1", out.err.message, 1, true)
  end)

  it("connect errors are retried (nothing was sent)", function()
    local out = list { server = "http://127.0.0.1:1" }
    assert.equal("connect", out.err.kind)
    assert.equal(3, out.err.attempts)
    -- no proxy: the message names the server itself
    assert.matches("cannot connect to 127.0.0.1:1: ", out.err.message, 1, true)
  end)

  it("timeout: the per-attempt timeout", function()
    fake.fault { method = "GET", path = LIST_PATH, delay = 1.5 }
    local out = list { timeout = 0.3, retries = "off" }
    assert.equal("timeout", out.err.kind)
    assert.is_true(out.elapsed < 1.2, "took " .. out.elapsed)
  end)

  it("tls: a certificate for DNS names, reached by IP address", function()
    for _ = 1, 5 do
      local out = list { server = "https_ip", retries = "off" }
      assert.equal("tls", out.err.kind)
      assert.matches("use a host name", out.err.message, 1, true)
    end
  end)

  it("tls: a certificate from a CA that lua_ssl_trusted_certificate does not hold", function()
    for _ = 1, 5 do -- the handshake completes synchronously or not: both paths must say tls
      local out = list { server = os.getenv("KONNECT_NGINX_UNTRUSTED"), retries = "off" }
      assert.equal("tls", out.err.kind)
      assert.matches("lua_ssl_trusted_certificate", out.err.message, 1, true)
    end
  end)

  it("tls: https to a plain http port", function()
    local out = list { server = "https_on_http_port", retries = "off" }
    assert.equal("tls", out.err.kind)
  end)

  it("too_large: Content-Length over max_body", function()
    fake.fault { method = "GET", path = LIST_PATH, huge = 200000 }
    local out = list { max_body = 100000, retries = "off" }
    assert.equal("too_large", out.err.kind)
  end)

  it("network: the server drops the connection, and create is not retried", function()
    fake.fault { method = "POST", drop = "after_body" }
    local out = nginx.call { op = "create", args = { fake.ALICE, { name = "once", ttl_seconds = 86400 } } }
    assert.equal("network", out.err.kind)
    assert.equal(1, out.err.attempts)
    assert.equal(1, fake.count("POST /v3/users/" .. fake.ALICE .. "/access-tokens"))
  end)

  it("network: a truncated body", function()
    fake.fault { method = "GET", path = LIST_PATH, truncate = true }
    local out = list { retries = "off" }
    assert.equal("network", out.err.kind)
  end)

  it("HTTP statuses map to kinds: unauthorized, not_found", function()
    local out = list { token = "kpat_not_a_real_token_at_all" }
    assert.equal("unauthorized", out.err.kind)
    assert.equal(401, out.err.status)
    out = nginx.call { op = "get", args = { fake.ALICE, fake.MISSING } }
    assert.equal("not_found", out.err.kind)
    assert.is_string(out.err.request_id)
  end)

  it("retries 503 and succeeds", function()
    fake.fault { method = "GET", path = LIST_PATH, status = 503, count = 2 }
    local out = list()
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal(3, fake.count(LIST))
  end)

  it("429 with Retry-After: waits, then succeeds", function()
    fake.fault { method = "GET", path = LIST_PATH, status = 429, retry_after = 1 }
    local out = list { retries = { max_attempts = 2, initial = 0.01, max = 2, max_elapsed = 10 } }
    assert.is_true(out.ok, out.err and out.err.text)
    assert.is_true(out.elapsed >= 0.9, "waited " .. out.elapsed)
  end)

  it("rate_limited after the last attempt carries retry_after", function()
    fake.fault { method = "GET", path = LIST_PATH, plain_429 = true, retry_after = 7, count = 5 }
    local out = list { retries = "off" }
    assert.equal("rate_limited", out.err.kind)
    assert.equal(7, out.err.retry_after)
  end)

  it("a slow (dripping) body within the timeout is read in full", function()
    fake.fault { method = "GET", path = LIST_PATH, drip = { chunks = 4, interval = 0.05 } }
    local out = list { retries = "off" }
    assert.is_true(out.ok, out.err and out.err.text)
  end)
end)

describe("cosocket transport framings (local mock)", function()
  it("chunked bodies", function()
    local out = list { server = "mock", retries = "off" }
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal("mocked", out.value.data[1].name)
  end)

  it("bodies that end when the server closes", function()
    local out = list { server = "mock_close", retries = "off" }
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal("mocked", out.value.data[1].name)
  end)

  it("too_large while reading a chunked body", function()
    local out = list { server = "mock", retries = "off", max_body = 50000, headers = { ["X-Mock"] = "huge" } }
    assert.equal("too_large", out.err.kind)
  end)

  it("too_large while reading a body that ends on close", function()
    local out = list { server = "mock_close", retries = "off", max_body = 50000, headers = { ["X-Mock"] = "huge" } }
    assert.equal("too_large", out.err.kind)
  end)

  it("an http:// proxy gets the absolute-form request line (the fake stands in for the proxy)", function()
    fake.reset()
    local out = list { server = "http://konnect.example.test", allow_insecure_http = true, proxy = fake.http,
                       retries = "off" }
    assert.is_true(out.ok, out.err and out.err.text)
    local log = fake.requests().log
    assert.equal("/v3/users/" .. fake.ALICE .. "/access-tokens", log[#log].path)
    assert.equal("konnect.example.test", log[#log].headers.host)
  end)

  it("response headers: lower-case names, repeated ones joined with \", \"", function()
    local _, out = nginx.request("POST", "/raw", { url = "/mock/x" })
    assert.is_nil(out.terr)
    assert.equal(200, out.res.status)
    assert.equal("one, two", out.res.headers["x-repeated"])
    assert.equal("mock-request", out.res.headers["x-kong-request-id"])
    assert.equal("chunked", out.res.headers["transfer-encoding"])
    assert.matches("^ngx_lua/0%.%d+%.%d+$", out.user_agent_suffix)
  end)

  it("timeout, sent = false: connecting outlasts connect_timeout (a listener whose accept queue is full)", function()
    local q, url = coreserver.full_backlog()
    local port = tonumber(url:match(":(%d+)$"))
    local _, out = nginx.request("POST", "/raw", { url = url .. "/", timeout = 2, connect_timeout = 0.2 })
    q.s:close()
    for _, f in ipairs(q.fill) do f:close() end
    assert.same({ kind = "timeout", sent = false }, { kind = out.terr.kind, sent = out.terr.sent })
    assert.equal(("connecting to 127.0.0.1:%d timed out"):format(port), out.terr.message)
  end)

  it("the User-Agent names the ngx_lua version as major.minor.patch", function()
    local versions, want = {}, {}
    for v, s in pairs { [10026] = "ngx_lua/0.10.26", [9003] = "ngx_lua/0.9.3", [1002003] = "ngx_lua/1.2.3",
                        [999999] = "ngx_lua/0.999.999", [1000000] = "ngx_lua/1.0.0", [2010000] = "ngx_lua/2.10.0" } do
      versions[#versions + 1], want[#want + 1] = v, s
    end
    local _, out = nginx.request("POST", "/ua_suffix", { versions = versions })
    assert.same(want, out.suffixes)
    local v = out.real_version
    assert.equal(("ngx_lua/%d.%d.%d"):format(math.floor(v / 1000000), math.floor(v / 1000) % 1000, v % 1000), out.real)
  end)

  it("terr shapes: sent = false only when nothing was written", function()
    local _, out = nginx.request("POST", "/raw", { url = "http://127.0.0.1:1/" })
    assert.same({ kind = "connect", sent = false }, { kind = out.terr.kind, sent = out.terr.sent })
    _, out = nginx.request("POST", "/raw", { url = fake.http:gsub("^http://127%.0%.0%.1", "https://localhost") })
    assert.same({ kind = "tls", sent = false }, { kind = out.terr.kind, sent = out.terr.sent })
    -- count = 2: if a pooled connection is used, its one stale-connection retry is dropped too
    fake.fault { method = "GET", path = "^/raw%-drop$", drop = "before_body", count = 2 }
    _, out = nginx.request("POST", "/raw", { url = fake.http .. "/raw-drop" })
    assert.same({ kind = "network", sent = true }, { kind = out.terr.kind, sent = out.terr.sent })
  end)
end)
