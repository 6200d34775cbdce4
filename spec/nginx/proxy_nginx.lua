-- The cosocket transport's proxy handling (credentials, https:// proxies
-- refused, proxies named by host:port only) and its per-call timeouts
-- (req.timeout, req.connect_timeout).
local nginx = require "nginx.client"
local fake = require "support.fake"
local json = require "konnect.json"
local socket = require "socket"
local mime = require "mime"
local proc = require "support.proc"

local USER, PASS = "konnect-proxy-user", "pr0xy@pa55word"
local USERINFO = USER .. ":" .. PASS:gsub("@", "%%40")  -- as written in a URL
local BASIC = mime.b64(USER .. ":" .. PASS)
local FAKE_HOSTPORT = fake.http:match("^http://([^/]+)")

-- the proxy credentials, in every form they could leak in
local function assert_no_credentials(out)
  local text = json.encode(out)
  for _, s in ipairs { PASS, USERINFO, BASIC, "pa55word", "pr0xy%40" } do
    assert.is_nil(text:find(s, 1, true), "the proxy credentials leaked: " .. text)
  end
end

local function raw(spec)
  local status, out = nginx.request("POST", "/raw", spec)
  assert.equal(200, status)
  return out
end

-- A listener that never accepts and never answers: the kernel completes TCP
-- handshakes into its backlog, so a connection "succeeds" and then hangs.
local function silent_listener()
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  return srv, tonumber(port)
end

-- The request head a connection to `srv` sent (read after the call returned).
local function head_sent(srv)
  srv:settimeout(2)
  local c = assert(srv:accept())
  c:settimeout(2)
  local lines = {}
  while true do
    local line = c:receive("*l")
    if not line or line == "" then break end
    lines[#lines + 1] = line
  end
  c:close()
  return table.concat(lines, "\n")
end

describe("cosocket transport, proxy with credentials", function()
  before_each(function() fake.reset() end)

  it("an http:// proxy with user:pass@ gets Proxy-Authorization: Basic (percent-decoded credentials)", function()
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = {
      server = "http://konnect.example.test", allow_insecure_http = true, retries = "off", record_hooks = true,
      proxy = "http://" .. USERINFO .. "@" .. FAKE_HOSTPORT } }
    assert.is_true(out.ok, out.err and out.err.text)
    local log = fake.requests().log
    local seen = log[#log]
    assert.equal("/v3/users/" .. fake.ALICE .. "/access-tokens", seen.path)
    assert.equal("Basic " .. BASIC, seen.headers["proxy-authorization"])
    assert.equal(2, #out.hooks) -- before_request and after_response saw the call
    assert_no_credentials(out)
  end)

  it("an https URL through a CONNECT proxy: a tunnel to the server, TLS inside it, the call succeeds", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local pid = proc.read_cmd("lua5.4 spec/support/connect_proxy.lua " .. dir .. "/port " .. dir .. "/log "
      .. "> /dev/null 2>&1 & echo $!")
    finally(function() os.execute("kill " .. pid .. " 2>/dev/null; rm -rf " .. dir) end)
    local port
    for _ = 1, 100 do
      port = tonumber(proc.read_file(dir .. "/port") or "")
      if port then break end
      socket.sleep(0.05)
    end
    assert(port, "the CONNECT proxy did not start")
    -- a tunnel the proxy refuses (it only tunnels to loopback): connect, with the proxy's status
    local no = nginx.call { op = "list", args = { fake.ALICE }, client = {
      server = "https://konnect.example.test", retries = "off", proxy = "http://127.0.0.1:" .. port } }
    assert.equal("connect", no.err and no.err.kind)
    assert.matches("the proxy 127.0.0.1:" .. port .. " refused the tunnel: status 403", no.err.message, 1, true)
    os.remove(dir .. "/log")
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = {
      server = "https", retries = "off", proxy = "http://" .. USERINFO .. "@127.0.0.1:" .. port } }
    assert.is_true(out.ok, out.err and out.err.text)
    local authority = fake.https_localhost:match("^https://([^/]+)")
    local head = proc.read_file(dir .. "/log") or ""
    -- the proxy logs each head's lines (LuaSocket drops their CR), then a blank line
    assert.equal("CONNECT " .. authority .. " HTTP/1.1\nHost: " .. authority .. "\nProxy-Authorization: Basic "
      .. BASIC .. "\n\n", head)
    local log = fake.requests().log
    assert.equal("/v3/users/" .. fake.ALICE .. "/access-tokens", log[#log].path)
    assert.is_nil(log[#log].headers["proxy-authorization"], "the credentials went past the proxy")
  end)

  it("a proxy with credentials that cannot be reached: the error names host:port only", function()
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = {
      retries = "off", record_hooks = true, proxy = "http://" .. USERINFO .. "@127.0.0.1:1" } }
    assert.equal("connect", out.err.kind)
    assert.matches("the proxy 127.0.0.1:1", out.err.message, 1, true)
    assert.matches("the proxy 127.0.0.1:1", out.err.text, 1, true)
    assert.equal("connect", out.hooks[2].error.kind)
    assert_no_credentials(out)
    -- the transport alone (no konnect.redact behind it)
    local r = raw { url = fake.http .. "/", opts = { proxy = "http://" .. USERINFO .. "@127.0.0.1:1" } }
    assert.same({ kind = "connect", sent = false }, { kind = r.terr.kind, sent = r.terr.sent })
    assert.matches("127.0.0.1:1", r.terr.message, 1, true)
    assert_no_credentials(r)
  end)

  it("an https URL through a proxy with credentials: the CONNECT carries Proxy-Authorization", function()
    local srv, port = silent_listener()
    local r = raw { url = "https://konnect.example.test/v3/users/me", timeout = 0.5,
                    opts = { proxy = "http://" .. USERINFO .. "@127.0.0.1:" .. port } }
    local head = head_sent(srv)
    srv:close()
    assert.matches("^CONNECT konnect%.example%.test:443 HTTP/1%.1\n", head)
    assert.matches("\nProxy%-Authorization: Basic " .. BASIC:gsub("%p", "%%%0") .. "\n?", head)
    assert.same({ kind = "timeout", sent = false }, { kind = r.terr.kind, sent = r.terr.sent })
    assert.matches("the proxy 127.0.0.1:" .. port .. " refused the tunnel", r.terr.message, 1, true)
    assert_no_credentials(r)
  end)

  it("an https:// proxy is refused: invalid_argument, sent = false, nothing connected", function()
    local r = raw { url = fake.http .. "/", opts = { proxy = "https://" .. USERINFO .. "@127.0.0.1:3128" } }
    assert.same({ kind = "invalid_argument", sent = false }, { kind = r.terr.kind, sent = r.terr.sent })
    assert.matches("https:// proxy 127.0.0.1:3128 is not supported", r.terr.message, 1, true)
    assert.equal(0, r.stats.connects)
    assert_no_credentials(r)
    -- through konnect.pats: not retried, and no credentials in the error, tostring or hook views
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = {
      record_hooks = true, proxy = "https://" .. USERINFO .. "@127.0.0.1:3128" } }
    assert.equal("invalid_argument", out.err.kind)
    assert.equal(0, fake.requests().total)
    assert_no_credentials(out)
  end)
end)

describe("cosocket transport, per-call timeouts", function()
  after_each(function() fake.latency(0) end)

  it("req.timeout shorter than the transport's: a timeout near the per-call value", function()
    fake.latency(2000)
    local r = raw { url = fake.http .. "/v3/users/me", timeout = 0.4, opts = { timeout = 20 } }
    assert.equal("timeout", r.terr.kind)
    assert.is_true(r.elapsed >= 0.35 and r.elapsed < 1.5, "took " .. r.elapsed)
  end)

  it("connect_timeout (per call, or the transport's) bounds the TLS handshake, not the whole timeout", function()
    for _, c in ipairs {
      { "req.connect_timeout shorter than the transport's", 0.4, { timeout = 20, connect_timeout = 20 } },
      { "the transport's connect_timeout", nil, { timeout = 20, connect_timeout = 0.4 } },
    } do
      local srv, port = silent_listener()
      local r = raw { url = "https://localhost:" .. port .. "/", timeout = 20, connect_timeout = c[2], opts = c[3] }
      srv:close()
      assert.equal("timeout", r.terr.kind, c[1])
      assert.equal(false, r.terr.sent, c[1])
      assert.matches("TLS handshake with localhost timed out", r.terr.message, 1, true)
      assert.is_true(r.elapsed >= 0.35 and r.elapsed < 1.5, c[1] .. ": took " .. r.elapsed)
    end
  end)
end)
