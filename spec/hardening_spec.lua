-- Hostile servers and hostile inputs (issue 10, the Lua side): the token never
-- leaves the library in any output, nothing raises, every option is checked
-- at new(), the proxy rules.  Real sockets throughout: the fake Konnect server
-- (fault injection) and a small misbehaving server of our own
-- (spec/support/hostile.lua).
local fake    = require "support.fake"
local hostile = require "support.hostile"
local pats    = require "konnect.pats"
local core    = require "konnect.core"
local redact  = require "konnect.redact"

local ALICE = fake.ALICE
local UUID = "00000000-0000-4000-8000-00000000beef"
-- a secret that is not token-shaped, so only the redaction of *this* secret
-- can hide it (the kpat_/spat_ catch-all cannot)
local SECRET = "Zq9-secret/Value.7781xyz"

local function pct(s)
  return (s:gsub(".", function(c) return ("%%%02X"):format(c:byte()) end))
end
local function json_u(s)
  return (s:gsub(".", function(c) return ("\\u%04x"):format(c:byte()) end))
end

local assert_clean = require("support.proc").assert_clean

-- A few tests need the round-two core (no proxy from the environment, the
-- per-call timeout); it is the one that names the kind of a setup failure.
local new_core = select(3, core.new { timeout = -1 }) ~= nil

describe("hardening", function()
  before_each(function() fake.reset() end)

  describe("redaction of everything that leaves the library", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    local function client(extra)
      local o = { token = SECRET, server_url = srv.url, retries = false }
      for k, v in pairs(extra or {}) do o[k] = v end
      return assert(pats.new(o))
    end

    it("a Location header echoing the token is masked in err.message and tostring(err) (fake server)", function()
      local c = fake.client { retries = false }
      fake.fault { method = "GET", redirect = "http://127.0.0.1:9/steal?t=" .. fake.ALICE_TOKEN }
      local v, err = c:list(ALICE)
      assert.is_nil(v)
      assert.equal(302, err.status)
      assert.matches("redirect not followed", err.message)
      assert_clean(err, fake.ALICE_TOKEN, "err")
      assert.is_nil(tostring(err):find(fake.ALICE_TOKEN, 1, true))
      assert.is_nil(("x" .. err):find(fake.ALICE_TOKEN, 1, true))
    end)

    it("redaction keeps no state per secret without bound: 20,000 distinct secrets, a flat Lua heap", function()
      local function heap() collectgarbage("collect"); collectgarbage("collect"); return collectgarbage("count") end
      local body = '{"note":"50% off \\o/"}' -- a % and a backslash: every secret's forms are looked for
      for i = 1, 100 do redact.body(body, ("kpat_fake_%08d_not_real"):format(i)) end
      local before = heap()
      for i = 101, 20100 do
        local secret = ("kpat_fake_%08d_not_real"):format(i)
        assert.equal(body, (redact.body(body, secret)))
        assert.equal(body, (redact.body(body, { secret })))
        assert.equal("Bearer <redacted>", redact.string("Bearer " .. secret, secret))
      end
      local grown = heap() - before
      assert.is_true(grown < 512, ("the Lua heap grew by %.0f KiB"):format(grown))
    end)

    it("redact.base64, which the forms below are built with, is RFC 4648 base64 (its test vectors)", function()
      local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
                        foobar = "Zm9vYmFy", ["\0\0\0"] = "AAAA", ["\255\254\253"] = "//79", ["\251\255"] = "+/8=" }
      for plain, enc in pairs(vectors) do assert.equal(enc, redact.base64(plain), plain) end
    end)

    it("the token echoed plain, percent-encoded, JSON-escaped and in base64 is masked everywhere", function()
      local forms = {
        SECRET, pct(SECRET), pct(SECRET):lower(), json_u(SECRET), (SECRET:gsub("/", "\\/")),
        redact.base64("Bearer " .. SECRET), redact.base64("user:" .. SECRET), redact.base64(SECRET),
      }
      for i, form in ipairs(forms) do
        srv:respond(hostile.response("302 Found", {
          "Location: https://evil.example/?a=" .. form,
          "X-Kong-Request-Id: req-" .. form,
          "Content-Type: text/plain",
        }, "echo " .. form))
        local views, lines = {}, {}
        local c = client {
          log = function(l) lines[#lines + 1] = l end,
          hooks = { before_request = function(x) views[#views + 1] = x end,
                    after_response = function(x) views[#views + 1] = x end },
        }
        local v, err = c:list(ALICE)
        assert.is_nil(v)
        assert.equal(302, err.status, "form " .. i)
        for _, needle in ipairs { SECRET, form } do
          assert_clean(err, needle, "err (form " .. i .. ")")
          assert.is_nil(tostring(err):find(needle, 1, true), "tostring(err), form " .. i)
          assert_clean(views, needle, "hook views (form " .. i .. ")")
          assert_clean(lines, needle, "log lines (form " .. i .. ")")
        end
        assert.equal(2, #views)
        assert.equal("Bearer <redacted>", views[1].headers.Authorization)
        assert.matches("req%-", views[2].headers["x-kong-request-id"])
        assert.matches("^req%-", err.request_id)
      end
    end)

    it("problem+json fields (title, detail, instance, invalid_parameters) are masked", function()
      local b64 = redact.base64("Bearer " .. SECRET)
      srv:respond(hostile.response("400 Bad Request", { "Content-Type: application/problem+json" },
        '{"title":"bad ' .. SECRET .. '","detail":"got ' .. json_u(SECRET) .. '","instance":"kong:trace:' .. b64 ..
        '","invalid_parameters":[{"field":"' .. SECRET .. '","reason":"x ' .. pct(SECRET) .. '"}]}'))
      local _, err = client():list(ALICE)
      assert.equal("bad_request", err.kind)
      assert.matches("^bad <redacted>", err.title)
      assert_clean(err, SECRET, "err")
      assert_clean(err, b64, "err")
      assert_clean(err, pct(SECRET), "err")
      assert.is_nil(tostring(err):find(SECRET, 1, true))
    end)

    it("a request id is one bounded line", function()
      srv:respond(hostile.response("500 Internal Server Error",
        { "X-Kong-Request-Id: " .. ("a"):rep(5000), "Content-Type: text/plain" }, "boom"))
      local _, err = client():list(ALICE)
      assert.equal("server", err.kind)
      assert.equal(128, #err.request_id)
    end)

    it("a decode error's body is masked", function()
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" },
        '{"broken ' .. redact.base64(SECRET)))
      local _, err = client():list(ALICE)
      assert.equal("decode", err.kind)
      assert_clean(err, redact.base64(SECRET), "err")
    end)
  end)

  describe("nothing raises on hostile answers", function()
    local c
    before_each(function() c = fake.client { retries = false } end)

    it("invalid_parameters that is an object, not an array", function()
      fake.fault { method = "GET", status = 400, content_type = "application/problem+json",
                   body = '{"title":"Bad","detail":"no","invalid_parameters":{"a":{"field":"x","reason":"y"}}}' }
      local ok, v, err = pcall(c.list, c, ALICE)
      assert.is_true(ok, tostring(v))
      assert.is_nil(v)
      assert.equal("bad_request", err.kind)
      assert.equal("no", err.message)
    end)

    it("a Retry-After HTTP-date before 1970 means retry at once", function()
      local retry = require "konnect.retry"
      assert.equal(0, retry.retry_after("Thu, 01 Jan 1953 00:00:00 GMT", 1000))
      assert.equal(0, retry.retry_after("Mon, 01 Jan 0001 00:00:00 GMT", 1000))
      -- one second before the epoch: mktime's error value, on which os.time raises (5.3+) or gives nil
      assert.equal(0, retry.retry_after("Wed, 31 Dec 1969 23:59:59 GMT", 1000))
      local rc = fake.client { retries = { max_attempts = 2, initial = 0.01, max = 1, max_elapsed = 5 } }
      fake.fault { method = "GET", status = 503, retry_after = "Wed, 31 Dec 1969 23:59:59 GMT" }
      local ok, v = pcall(rc.list, rc, ALICE)
      assert.is_true(ok, tostring(v))
      assert.is_table(v)
    end)

    for _, case in ipairs {
      { '{"data":{"a":{"name":"x"}}}', "an object" },
      { '{"data":[1,2,3]}', "numbers" },
      { '{"data":["ci"]}', "strings" },
      { '{"meta":{"page":{"total":0}}}', "no data at all" },
      { '{"data":"tokens"}', "a string" },
    } do
      it("a list answer whose data is " .. case[2] .. " is a decode error (list and find_by_name)", function()
        fake.fault { method = "GET", path = "/access%-tokens$", body = case[1], count = 2 }
        local ok, v, err = pcall(c.list, c, ALICE)
        assert.is_true(ok, tostring(v))
        assert.is_nil(v)
        assert.equal("decode", err.kind)
        ok, v, err = pcall(c.find_by_name, c, ALICE, "ci")
        assert.is_true(ok, tostring(v))
        assert.is_nil(v)
        assert.equal("decode", err.kind)
      end)
    end
  end)

  describe("caller input", function()
    it("ttl_seconds of ±inf, NaN, 1e300, 2^63 is invalid_argument, also inside a batch", function()
      local c = fake.client()
      for _, ttl in ipairs { 1 / 0, -1 / 0, 0 / 0, 1e300, 2 ^ 63, -2 ^ 63, 2 ^ 53 } do
        local ok, v, err = pcall(c.create, c, ALICE, { name = "huge", ttl_seconds = ttl })
        assert.is_true(ok, "raised for " .. tostring(ttl) .. ": " .. tostring(v))
        assert.is_nil(v)
        assert.equal("invalid_argument", err.kind)
        assert.matches("ttl_seconds", err.message)
      end
      local ok, results, failed = pcall(c.batch, c, {
        { "create", ALICE, { name = "fine", ttl_seconds = 86400 } },
        { "create", ALICE, { name = "inf", ttl_seconds = 1 / 0 } },
        { "create", ALICE, { name = "big", ttl_seconds = 2 ^ 63 } },
      })
      assert.is_true(ok, tostring(results))
      assert.equal(2, failed)
      assert.equal("fine", results[1].value.name)
      assert.equal("invalid_argument", results[2].err.kind)
      assert.equal("invalid_argument", results[3].err.kind)
    end)

    it("an id with anything before or after the UUID never reaches the path", function()
      local c = fake.client()
      local bad = { "../../" .. UUID, "x" .. UUID, UUID .. "x", UUID .. "/../me", " " .. UUID, "me/" .. UUID }
      for _, id in ipairs(bad) do
        local v, err = c:list(id)
        assert.is_nil(v, id)
        assert.equal("invalid_argument", err.kind, id)
        v, err = c:get(ALICE, id)
        assert.is_nil(v, id)
        assert.equal("invalid_argument", err.kind, id)
        v, err = c:revoke(id, UUID)
        assert.is_nil(v, id)
        assert.equal("invalid_argument", err.kind, id)
      end
      assert.equal(0, fake.requests().total)
    end)

    it("CR or LF inside a token name is refused", function()
      local c = fake.client()
      for _, name in ipairs { "ci\rtoken", "ci\ntoken", "ci\r\nX-Injected: 1", "a\r", "\nab" } do
        local v, err = c:create(ALICE, { name = name, ttl_seconds = 86400 })
        assert.is_nil(v)
        assert.equal("invalid_argument", err.kind, ("%q"):format(name))
        v, err = c:update(ALICE, UUID, { name = name })
        assert.is_nil(v)
        assert.equal("invalid_argument", err.kind)
      end
      assert.equal(0, fake.requests().total)
    end)

    it("the curl transport returns nil, err for headers the core refuses (it never raises)", function()
      local curl = require "konnect.transport.curl"
      local t = curl.new { timeout = 5, connect_timeout = 5 }
      local ok, res, terr = pcall(t.request, t, { method = "GET", url = fake.http .. "/v3/users/me",
                                                  headers = { ["X-Bad"] = "a\1b" } })
      assert.is_true(ok, tostring(res))
      assert.is_nil(res)
      assert.equal("invalid_argument", terr.kind)
      assert.is_false(terr.sent)
      local out = t:request_many({
        { method = "GET", url = fake.http .. "/v3/users/me", headers = { ["X-Bad"] = "a\1b" } },
        { method = "GET", url = fake.http .. "/v3/users/me",
          headers = { Authorization = "Bearer " .. fake.ALICE_TOKEN } },
      }, 2)
      assert.equal("invalid_argument", out[1].kind)
      assert.equal(200, out[2].status)
      t:close()
    end)
  end)

  describe("a caller's transport function", function()
    it("that raises, or returns what is no response, gives nil, err (network); nothing raises", function()
      local answers = {
        function() error("boom " .. fake.ALICE_TOKEN) end,
        function() return 42 end,
        function() return { status = "x" } end,
        function() return { status = 200.5 } end,
        function() return { status = 200, body = {} } end,
        function() return nil, "plain string" end,
      }
      for i, fn in ipairs(answers) do
        local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false, transport = fn })
        local ok, v, err = pcall(c.get, c, "me", ALICE)
        assert.is_true(ok, "case " .. i .. " raised: " .. tostring(v))
        assert.is_nil(v, "case " .. i)
        assert.equal("network", err.kind, "case " .. i .. ": " .. tostring(err))
        assert.is_nil(tostring(err):find(fake.ALICE_TOKEN, 1, true), "case " .. i)
      end
    end)

    it("with odd headers still yields a readable answer", function()
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, transport = function()
        return { status = 200, headers = { ["Content-Type"] = "application/json", [1] = {}, x = {} },
                 body = '{"id":"' .. ALICE .. '"}' }
      end })
      local me = assert(c:me())
      assert.equal(ALICE, me.id)
    end)
  end)

  describe("every option is checked at new()", function()
    local cases = {
      { { user_agent = "x\r\nX-Injected: 1" }, "user_agent" },
      { { user_agent = "a\1b" }, "user_agent" },
      { { user_agent = "tab\tok\127" }, "user_agent" },
      { { user_agent = "" }, "user_agent" },
      { { headers = { ["X-A"] = "a\1b" } }, "control characters" },
      { { headers = { ["X-A"] = "a\0b" } }, "control characters" },
      { { headers = { ["X-A"] = "a\127b" } }, "control characters" },
      { { headers = { ["Proxy-Authorization"] = "Basic x" } }, "set by the library" },
      { { ca_file = "" }, "ca_file" },
      { { ca_path = "/etc/ssl\0/certs" }, "ca_path" },
      { { timeout = 86401 }, "timeout" },
      { { timeout = 1 / 0 }, "timeout" },
      { { connect_timeout = 1e9 }, "connect_timeout" },
      { { connect_timeout = 0 }, "connect_timeout" },
      { { server_url = "https://exa mple.com" }, "server_url" },
      { { server_url = "https://-bad-.example.com" }, "server_url" },
      { { server_url = "https://a..b.example.com" }, "server_url" },
      { { server_url = "https://under_score.example.com" }, "server_url" },
      { { server_url = "https://999.1.1.1" }, "server_url" },
      { { proxy = "127.0.0.1:3128" }, "proxy" },
      { { proxy = "socks5://127.0.0.1:1080" }, "proxy" },
      { { proxy = "http://" }, "proxy" },
      { { proxy = "http://proxy.example.com:99999" }, "port" },
      { { proxy = "http://proxy.example.com:3128/path" }, "path" },
      { { proxy = "http://bad host:3128" }, "proxy" },
      { { proxy = "http://proxy..example.com" }, "proxy" },
      { { proxy = "http://proxy.example.com:3128" }, "refusing plain http" }, -- plain http server, plain http proxy
    }
    for _, case in ipairs(cases) do
      it(("refuses %s"):format(next(case[1]) .. " = " .. ("%q"):format(tostring(select(2, next(case[1]))))), function()
        local o = { token = "kpat_x", server_url = "http://127.0.0.1:9" }
        for k, v in pairs(case[1]) do o[k] = v end
        local ok, c, err = pcall(pats.new, o)
        assert.is_true(ok, tostring(c))
        assert.is_nil(c)
        assert.equal("invalid_argument", err.kind)
        assert.matches(case[2], err.message, 1, true)
      end)
    end

    it("never repeats proxy credentials in a refusal, an error or tostring(client)", function()
      local _, err = pats.new { token = "kpat_x", proxy = "http://user:hunter2-pw@proxy..example:1" }
      assert.is_nil(tostring(err):find("hunter2", 1, true))
      local port = require("support.coreserver").free_port()
      local c = assert(pats.new { token = "kpat_x", server_url = "http://127.0.0.1:9", retries = false,
                                  proxy = "http://user:hunter2-pw@127.0.0.1:" .. port })
      assert.is_nil(tostring(c):find("hunter2", 1, true))
      local v
      v, err = c:list(ALICE)
      assert.is_nil(v)
      assert_clean(err, "hunter2", "err")
      assert.is_nil(tostring(err):find("hunter2", 1, true))
    end)

    it("accepts what is fine", function()
      for _, o in ipairs {
        { user_agent = "my-app/1.0 (tab\there; é)" }, { timeout = 86400, connect_timeout = 0.5 },
        { server_url = "https://Global.API.KongHQ.com." }, { server_url = "https://[::1]:8443" },
        { proxy = "http://127.0.0.1:3128", server_url = "http://127.0.0.1:9" },
        { proxy = "https://user:pw@proxy.example.com", server_url = "http://127.0.0.1:9" },
        { proxy = "http://proxy.example.com:3128" }, -- https server: a CONNECT tunnel
        { proxy = "http://proxy.example.com:3128", server_url = "http://127.0.0.1:9", allow_insecure_http = true },
        { proxy = "env" },
      } do
        o.token = "kpat_x"
        assert(pats.new(o))
      end
    end)
  end)

  describe("proxies", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    it("an explicit loopback proxy receives the request (absolute form)", function()
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" },
        '{"id":"' .. ALICE .. '","email":"a@example.com"}'))
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = "http://konnect.localhost:9",
                                  proxy = srv.url, retries = false })
      local me = assert(c:me())
      assert.equal(ALICE, me.id)
      assert.matches("^GET http://konnect%.localhost:9/v3/users/me HTTP/1%.1\r\n", srv:last_request())
    end)

    it("a proxy's credentials, percent-decoded as they travel, are masked wherever they are echoed", function()
      local b64 = require("konnect.redact").base64
      local basic = b64("us:p@ss w0rd")
      srv:respond(hostile.response("400 Bad Request", { "Content-Type: application/problem+json",
        "Location: http://x/?auth=Basic%20" .. basic },
        '{"title":"bad","detail":"got Proxy-Authorization: Basic ' .. basic .. ' from p@ss w0rd"}'))
      local seen = {}
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = "http://konnect.localhost:9",
                                  proxy = "http://us:p%40ss%20w0rd@" .. srv.url:match("//(.*)$"), retries = false,
                                  log = function(line) seen[#seen + 1] = line end })
      local _, err = c:me()
      assert.equal("bad_request", err.kind)
      assert.truthy(srv:last_request():find("Proxy-Authorization: Basic " .. basic, 1, true))
      for _, s in ipairs { tostring(err), err.detail or "", err.message, table.concat(seen, "\n") } do
        assert.is_nil(s:find(basic, 1, true), s)
        assert.is_nil(s:find("p@ss w0rd", 1, true), s)
        assert.is_nil(s:find("p%40ss", 1, true), s)
      end
    end)

    local function run_child(env, proxy)
      local script = ([[
        local pats = require "konnect.pats"
        local c, err = pats.new { token = "kpat_x", server_url = %q, proxy = %s, retries = false,
                                  timeout = 5, connect_timeout = 2 }
        if not c then print("NEW " .. err.kind) return end
        local v, e = c:me()
        print(v and ("OK " .. tostring(v.id)) or ("ERR " .. e.kind))
      ]]):format(fake.http, proxy and ("%q"):format(proxy) or "nil")
      local f = assert(io.open(srv.dir .. "/child.lua", "w"))
      f:write(script)
      f:close()
      local cmd = ("env -u http_proxy -u https_proxy -u HTTPS_PROXY -u HTTP_PROXY -u all_proxy -u ALL_PROXY "
        .. "-u no_proxy -u NO_PROXY %s LUA_PATH='%s' LUA_CPATH='%s' %s %s/child.lua 2>&1"):format(
        env, package.path, package.cpath, hostile.interpreter(), srv.dir)
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      return out
    end

    it('proxy = "env" takes http_proxy for an http URL, and NO_PROXY excludes hosts', function()
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, '{"id":"' .. UUID .. '"}'))
      assert.matches("OK " .. UUID, run_child("http_proxy=" .. srv.url, "env"), 1, true)
      assert.matches("^GET " .. fake.http:gsub("%p", "%%%0") .. "/v3/users/me", srv:last_request())
      -- NO_PROXY: straight to the fake server (which knows no kpat_x: 401)
      assert.matches("ERR unauthorized", run_child("http_proxy=" .. srv.url .. " NO_PROXY=localhost,127.0.0.1", "env"))
      assert.matches("ERR unauthorized", run_child("http_proxy=" .. srv.url .. " no_proxy='*'", "env"))
      -- HTTP_PROXY (upper case) is not read for http URLs, as curl does not
      assert.matches("ERR unauthorized", run_child("HTTP_PROXY=" .. srv.url, "env"))
      -- a malformed proxy from the environment is refused at new()
      assert.matches("NEW invalid_argument", run_child("http_proxy=socks9://x", "env"))
    end)

    it("without the proxy option the environment is ignored", function()
      if not new_core then
        pending("needs the new C core (no proxy option => CURLOPT_PROXY \"\")")
        return
      end
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, '{"id":"' .. UUID .. '"}'))
      assert.matches("ERR unauthorized", run_child("http_proxy=" .. srv.url .. " ALL_PROXY=" .. srv.url, nil))
    end)
  end)

  describe("limits.proxy_from_env", function()
    local limits = require "konnect.limits"
    local function env(t) return function(k) return t[k] end end
    it("reads the variables curl reads", function()
      local e = env { https_proxy = "http://s:1", HTTPS_PROXY = "http://S:1", http_proxy = "http://h:1",
                      HTTP_PROXY = "http://H:1", ALL_PROXY = "http://A:1" }
      assert.equal("http://s:1", limits.proxy_from_env(e, "https", "konnect.example"))
      assert.equal("http://h:1", limits.proxy_from_env(e, "http", "konnect.example"))
      assert.equal("http://S:1", limits.proxy_from_env(env { HTTPS_PROXY = "http://S:1" }, "https", "k"))
      assert.equal("http://A:1", limits.proxy_from_env(env { HTTP_PROXY = "http://H:1", ALL_PROXY = "http://A:1" },
        "http", "k"))
      assert.equal("http://a:1", limits.proxy_from_env(env { all_proxy = "a:1" }, "https", "k"))
      assert.is_nil(limits.proxy_from_env(env {}, "https", "k"))
      assert.is_nil(limits.proxy_from_env(env { https_proxy = "" }, "https", "k"))
    end)
    it("honours NO_PROXY: comma list, suffix match, *", function()
      local function np(list, host) return limits.no_proxy(list, host) end
      assert.is_true(np("*", "anything"))
      assert.is_true(np("example.com", "api.example.com"))
      assert.is_true(np(".example.com", "api.example.com"))
      assert.is_true(np("foo, example.com ,bar", "example.com"))
      assert.is_false(np("example.com", "badexample.com"))
      assert.is_false(np("api.example.com", "example.com"))
      assert.is_true(np("127.0.0.1", "127.0.0.1"))
      assert.is_true(np("[::1]", "[::1]"))
      assert.is_true(np("example.com:443", "example.com"))
      assert.is_false(np("", "example.com"))
      assert.is_nil(limits.proxy_from_env(env { https_proxy = "http://s:1", no_proxy = "konghq.com" },
        "https", "global.api.konghq.com"))
      assert.is_nil(limits.proxy_from_env(env { https_proxy = "http://s:1", NO_PROXY = "*" }, "https", "k"))
    end)
  end)

  describe("the curl transport", function()
    local coreserver = require "support.coreserver"

    it("passes a core setup failure on with its kind (a bad option is the caller's mistake)", function()
      local curl = require "konnect.transport.curl"
      local t = curl.new { timeout = -1 }
      local ok, res, terr = pcall(t.request, t, { method = "GET", url = fake.http .. "/v3/users/me", headers = {} })
      assert.is_true(ok, tostring(res))
      assert.is_nil(res)
      assert.equal("invalid_argument", terr.kind)
      assert.is_false(terr.sent)
      local out = t:request_many({ { method = "GET", url = fake.http .. "/v3/users/me", headers = {} } }, 1)
      assert.equal("invalid_argument", out[1].kind)
    end)

    it("honours req.timeout, a per-call override of the attempt timeout", function()
      if not new_core then
        pending("needs the new C core (conn:request's 6th argument)")
        return
      end
      local curl = require "konnect.transport.curl"
      local t = curl.new { timeout = 8, connect_timeout = 2 }
      local s, url = coreserver.blackhole()
      local t0 = core.monotime()
      local res, terr = t:request { method = "GET", url = url, headers = {}, timeout = 0.5 }
      local dt = core.monotime() - t0
      s:close()
      t:close()
      assert.is_nil(res)
      assert.equal("timeout", terr.kind)
      assert.is_true(dt < 4, "took " .. dt .. " s")
    end)
  end)

  describe("error kinds", function()
    local errors = require "konnect.errors"
    it("from_transport keeps system and invalid_argument, and maps the unknown to network", function()
      local ctx = { operation = "op" }
      assert.equal("system", errors.from_transport({ kind = "system", message = "m", sent = false }, ctx).kind)
      assert.equal("invalid_argument", errors.from_transport({ kind = "invalid_argument", message = "m" }, ctx).kind)
      assert.equal("network", errors.from_transport({ kind = "weird", message = "m" }, ctx).kind)
      assert.equal("network", errors.from_transport({ kind = "not_found", message = "m" }, ctx).kind)
      assert.equal("network", errors.from_transport(nil, ctx).kind)
    end)
  end)
end)
