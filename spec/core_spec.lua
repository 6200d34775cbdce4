-- konnect.core (the C module) against real loopback servers: a throwaway
-- nginx (plain `return`/`alias` locations, no Lua module), plus LuaSocket
-- listeners for the transport failures nginx cannot produce.
--
--   LUA_CPATH='build/5.4/?.so;;' lua5.4 /usr/bin/busted spec/core_spec.lua
--   LUA_CPATH='build/jit/?.so;;' luajit /usr/bin/busted spec/core_spec.lua

local core = require "konnect.core"
local socket = require "socket"

local server = require "support.coreserver"
local BIG_SIZE = server.BIG_SIZE
local start_nginx, stop_nginx = server.start, server.stop
local blackhole, full_backlog, closed_url = server.blackhole, server.full_backlog, server.closed_url

local function assert_terr(terr, kind, sent)
  assert.is_table(terr)
  assert.equal(kind, terr.kind, terr.message)
  assert.is_string(terr.message)
  assert.is_true(#terr.message > 0)
  assert.is_nil(terr.status)
  if sent ~= nil then assert.equal(sent, terr.sent, terr.message) end
end

local function conn_id(res)
  return (assert(res.body:match("^(%d+) %d+$"), res.body))
end

describe("konnect.core", function()
  local srv

  lazy_setup(function() srv = start_nginx() end)
  lazy_teardown(function() stop_nginx(srv) end)

  describe("module", function()
    it("reports versions", function()
      assert.matches("^konnect%.core/%d+%.%d+%.%d+ libcurl/%d+%.%d+%.%d+$", core.version())
      assert.matches("^libcurl/", core.curl_version())
      assert.equal("0.1.0", core._VERSION)
    end)

    it("names its objects", function()
      local c = assert(core.new())
      assert.matches("^konnect%.core%.Connection: 0x%x+$", tostring(c))
      assert.equal("konnect.core.Connection", getmetatable(c).__name)
      local m = assert(core.multi())
      assert.matches("^konnect%.core%.Multi: ", tostring(m))
      c:close()
      m:close()
    end)

    it("rejects bad options with nil, message", function()
      local cases = {
        { "x", "options must be a table" },
        { { timeout = "1" }, "'timeout' must be a number" },
        { { timeout = -1 }, "'timeout' must be a number" },
        { { timeout = 0 }, "'timeout' must be a number" },
        { { timeout = 0 / 0 }, "'timeout' must be a number" },
        { { connect_timeout = true }, "'connect_timeout' must be a number" },
        { { max_body = 1.5 }, "'max_body' must be an integer" },
        { { max_body = 0 }, "'max_body' must be an integer" },
        { { http_version = "3" }, "'http_version' must be" },
        { { http_version = 2 }, "'http_version' must be" },
        { { ca_file = 1 }, "'ca_file' must be a string" },
        { { proxy = "" }, "'proxy' must be a non%-empty string" },
        { { user_agent = "a\0b" }, "without NUL" },
        { { bogus = 1 }, "unknown option 'bogus'" },
        { { 1 }, "option names must be strings" },
      }
      for _, case in ipairs(cases) do
        for _, ctor in ipairs { core.new, core.multi } do
          local obj, err = ctor(case[1])
          assert.is_nil(obj)
          assert.matches(case[2], err)
        end
      end
    end)
  end)

  describe("conn:request", function()
    local c
    before_each(function() c = assert(core.new { timeout = 5, connect_timeout = 2 }) end)
    after_each(function() c:close() end)

    it("returns status, lower-cased headers, body, time and version", function()
      local res = assert(c:request("GET", srv.http .. "/json", { "Accept: application/json" }))
      assert.equal(200, res.status)
      assert.equal('{"ok":true}', res.body)
      assert.equal("application/json", res.headers["content-type"])
      assert.equal("11", res.headers["content-length"])
      assert.equal("1.1", res.http_version)
      assert.is_number(res.time)
      assert.is_true(res.time >= 0 and res.time < 5)
      for name in pairs(res.headers) do assert.equal(name:lower(), name) end
    end)

    it("handles 204 and joins repeated headers", function()
      local res = assert(c:request("GET", srv.http .. "/204"))
      assert.equal(204, res.status)
      assert.equal("", res.body)
      res = assert(c:request("GET", srv.http .. "/echo", { "X-Probe: hello there" }))
      assert.equal("hello there", res.body)
      assert.equal("a, b", res.headers["x-multi"])
      assert.equal("yes", res.headers["x-mixed-case"])
      assert.is_nil(res.headers["X-Mixed-Case"])
    end)

    it("takes a header list built once with core.headers, request after request", function()
      local h = assert(core.headers { "X-Probe: built once", "Accept: application/json" })
      assert.matches("^konnect.core.Headers", tostring(h))
      for _ = 1, 3 do
        local res = assert(c:request("GET", srv.http .. "/echo", h))
        assert.equal("built once", res.body)
      end
      local m = assert(core.multi {})
      local results = m:request_many({ { "GET", srv.http .. "/echo", h }, { "GET", srv.http .. "/echo", h } }, 2)
      assert.equal("built once", results[1].body)
      assert.equal("built once", results[2].body)
      m:close()
      local bad, err = core.headers { "X-Bad: a\r\nInjected: 1" }
      assert.is_nil(bad)
      assert.matches("control characters", err)
      assert.is_nil((core.headers("X-Probe: no")))
    end)

    it("sleeps and keeps a monotonic clock", function()
      local t0 = core.monotime()
      core.sleep(0.05)
      local dt = core.monotime() - t0
      assert.is_true(dt >= 0.045 and dt < 1, "slept " .. dt)
    end)

    it("does not follow redirects", function()
      local res = assert(c:request("GET", srv.http .. "/redirect"))
      assert.equal(302, res.status)
      assert.matches("/json$", res.headers.location)
    end)

    it("reads a large body completely", function()
      local res = assert(c:request("GET", srv.http .. "/big"))
      assert.equal(200, res.status)
      assert.equal(#srv.big, #res.body)
      assert.equal(srv.big, res.body)
      res = assert(c:request("GET", srv.http .. "/big-chunked"))
      assert.equal(srv.big, res.body)
      assert.is_nil(res.headers["content-length"])
    end)

    it("keeps the connection alive between requests", function()
      local a = assert(c:request("GET", srv.http .. "/conn"))
      local b = assert(c:request("GET", srv.http .. "/conn"))
      assert.equal(conn_id(a), conn_id(b))
      assert.equal("2", b.body:match(" (%d+)$"))
    end)

    it("sends the default and a custom user agent", function()
      local res = assert(c:request("GET", srv.http .. "/ua"))
      assert.equal(core.version(), res.body)
      local c2 = assert(core.new { user_agent = "konnect-test/1" })
      assert.equal("konnect-test/1", assert(c2:request("GET", srv.http .. "/ua")).body)
      c2:close()
    end)

    it("switches methods and bodies correctly on one handle", function()
      local u = srv.http .. "/method"
      local function call(method, body, headers)
        return assert(c:request(method, u, headers, body)).body
      end
      assert.equal("POST|7|application/json|", call("POST", '{"a":1}', { "Content-Type: application/json" }))
      assert.equal("GET|||", call("GET"))
      assert.equal("DELETE|||", call("DELETE"))
      assert.equal("PATCH|2|application/json|", call("PATCH", "{}", { "Content-Type: application/json" }))
      assert.equal("PATCH|0||", call("PATCH"))
      assert.equal("POST|0||", call("POST"))
      assert.equal("PUT|3||", call("PUT", "abc"))
      assert.equal("DELETE|2||", call("DELETE", "{}"))
      assert.equal("GET|||", call("GET"))
      local res = assert(c:request("HEAD", srv.http .. "/json"))
      assert.equal(200, res.status)
      assert.equal("", res.body)
      assert.equal("GET|||", call("GET"))
      -- a large body must not trigger "Expect: 100-continue"
      assert.equal("POST|" .. (2 * 1024 * 1024) .. "||", call("POST", ("x"):rep(2 * 1024 * 1024)))
    end)

    it("delivers the request body", function()
      local res = assert(c:request("POST", srv.http .. "/body", { "Content-Type: text/plain" }, "payload-123"))
      assert.equal("POST|payload-123", res.body)
      res = assert(c:request("PATCH", srv.http .. "/body", nil, "patched"))
      assert.equal("PATCH|patched", res.body)
      res = assert(c:request("GET", srv.http .. "/body"))
      assert.equal("GET|", res.body)
    end)

    it("caps the response body (Content-Length and chunked)", function()
      local small = assert(core.new { max_body = 1024 })
      local res, terr = small:request("GET", srv.http .. "/big")
      assert.is_nil(res)
      assert_terr(terr, "too_large", true)
      assert.matches("1024", terr.message)
      res, terr = small:request("GET", srv.http .. "/big-chunked")
      assert.is_nil(res)
      assert_terr(terr, "too_large", true)
      assert.equal(23, terr.code)
      -- HEAD only announces the size: not too large
      res = assert(small:request("HEAD", srv.http .. "/big"))
      assert.equal(200, res.status)
      assert.equal(tostring(BIG_SIZE), res.headers["content-length"])
      assert.equal("", res.body)
      -- the handle is still usable afterwards
      res = assert(small:request("GET", srv.http .. "/json"))
      assert.equal('{"ok":true}', res.body)
      small:close()
    end)

    it("maps a refused connection to connect, sent = false", function()
      local res, terr = c:request("GET", closed_url())
      assert.is_nil(res)
      assert_terr(terr, "connect", false)
      assert.equal(7, terr.code)
    end)

    it("maps an unreachable proxy to connect", function()
      local p = assert(core.new { proxy = closed_url(), connect_timeout = 2 })
      local _, terr = p:request("GET", srv.http .. "/json")
      assert_terr(terr, "connect", false)
      p:close()
    end)

    it("times out a silent server with sent = true", function()
      local s, url = blackhole()
      local quick = assert(core.new { timeout = 0.3 })
      local t0 = socket.gettime()
      local res, terr = quick:request("POST", url .. "/x", nil, "body")
      local dt = socket.gettime() - t0
      assert.is_nil(res)
      assert_terr(terr, "timeout", true)
      assert.equal(28, terr.code)
      assert.is_true(dt >= 0.25 and dt < 2, "elapsed " .. dt)
      quick:close()
      s:close()
    end)

    it("times out mid-body", function()
      local quick = assert(core.new { timeout = 0.3 })
      local _, terr = quick:request("GET", srv.http .. "/slow")
      assert_terr(terr, "timeout", true)
      quick:close()
    end)

    it("times out connecting with sent = false, after a sent request", function()
      local s, url = blackhole()
      local q, qurl = full_backlog()
      local quick = assert(core.new { timeout = 0.5, connect_timeout = 0.2 })
      local _, terr = quick:request("GET", url)
      assert_terr(terr, "timeout", true)
      _, terr = quick:request("GET", qurl)
      assert_terr(terr, "timeout", false)
      quick:close()
      s:close()
      q.s:close()
      for _, f in ipairs(q.fill) do f:close() end
    end)

    it("maps a dropped connection to network, sent = true", function()
      local res, terr = c:request("GET", srv.http .. "/drop")
      assert.is_nil(res)
      assert_terr(terr, "network", true)
      assert.equal(52, terr.code)
    end)

    it("rejects other protocols and malformed URLs as invalid_argument", function()
      for _, url in ipairs { "ftp://127.0.0.1/", "file:///etc/passwd", "gopher://x/", "http://[::1" } do
        local res, terr = c:request("GET", url)
        assert.is_nil(res)
        assert_terr(terr, "invalid_argument", false)
        assert.is_number(terr.code)
      end
    end)

    it("verifies TLS: fails without the CA, works with ca_file / ca_path", function()
      local res, terr = c:request("GET", srv.https .. "/json")
      assert.is_nil(res)
      assert_terr(terr, "tls", false)
      assert.equal(60, terr.code)

      local t = assert(core.new { ca_file = srv.ca })
      res = assert(t:request("GET", srv.https .. "/json"))
      assert.equal(200, res.status)
      assert.equal('{"ok":true}', res.body)
      t:close()

      t = assert(core.new { ca_path = srv.capath })
      assert.equal(200, assert(t:request("GET", srv.https .. "/json")).status)
      t:close()

      t = assert(core.new { ca_file = srv.ca })
      res, terr = t:request("GET", "https://localhost.invalid.example:1/")
      assert.is_nil(res)
      assert_terr(terr, "connect", false)
      t:close()
    end)

    it("speaks HTTP/2 or HTTP/1.1 over TLS as asked", function()
      local h2 = assert(core.new { ca_file = srv.ca, http_version = "2" })
      local a = assert(h2:request("GET", srv.https .. "/conn"))
      local b = assert(h2:request("POST", srv.https .. "/method", nil, "xy"))
      local d = assert(h2:request("GET", srv.https .. "/conn"))
      assert.equal("2", a.http_version)
      assert.equal("POST|2||", b.body)
      assert.equal(conn_id(a), conn_id(d))
      h2:close()
      local h1 = assert(core.new { ca_file = srv.ca, http_version = "1.1" })
      assert.equal("1.1", assert(h1:request("GET", srv.https .. "/json")).http_version)
      h1:close()
    end)

    it("returns invalid_argument for garbage arguments, without raising", function()
      local u = srv.http .. "/json"
      local cases = {
        { nil, u }, { 42, u }, { "get", u }, { "GE T", u }, { "", u }, { "GET" }, { "GET", 5 },
        { "GET", "" }, { "GET", "http://x/ y" }, { "GET", "http://x/\r\nX: y" },
        { "GET", u, "X-A: b" }, { "GET", u, { 1 } }, { "GET", u, { "X-A: b", {} } },
        { "GET", u, { "X-A: b\r\nX-Evil: 1" } }, { "GET", u, { "X-A: b\0c" } }, { "GET", u, { "" } },
        { "GET", u, nil, {} }, { "POST", u, nil, 12 },
      }
      for i, args in ipairs(cases) do
        local ok, res, terr = pcall(c.request, c, args[1], args[2], args[3], args[4])
        assert.is_true(ok, "case " .. i .. " raised: " .. tostring(res))
        assert.is_nil(res, "case " .. i)
        assert_terr(terr, "invalid_argument", false)
        assert.is_nil(terr.code)
      end
      -- and the handle still works
      assert.equal(200, assert(c:request("GET", u)).status)
    end)

    it("raises only for a wrong self", function()
      assert.has_error(function() c.request(nil, "GET", "http://x/") end)
      assert.has_error(function() c.request({}, "GET", "http://x/") end)
    end)
  end)

  describe("lifecycle", function()
    it("close is idempotent and a closed conn returns invalid_argument", function()
      local c = assert(core.new())
      assert(c:request("GET", srv.http .. "/json"))
      assert.is_true(c:close())
      assert.is_true(c:close())
      local res, terr = c:request("GET", srv.http .. "/json")
      assert.is_nil(res)
      assert_terr(terr, "invalid_argument", false)
      assert.equal("connection is closed", terr.message)
      assert.matches("^konnect%.core%.Connection: ", tostring(c))
    end)

    it("collects conns and multis, open or closed", function()
      for i = 1, 50 do
        local c = assert(core.new())
        assert(c:request("GET", srv.http .. "/json"))
        if i % 2 == 0 then c:close() end
        local m = assert(core.multi())
        m:request_many({ { "GET", srv.http .. "/json" } }, 1)
        if i % 3 == 0 then m:close() end
      end
      collectgarbage()
      collectgarbage()
    end)

    if _VERSION == "Lua 5.4" then
      it("supports to-be-closed variables (Lua 5.4)", function()
        local run = assert(load([[
          local core, url = ...
          local keep
          do
            local c <close> = assert(core.new())
            local m <close> = assert(core.multi())
            keep = { c, m }
            assert(c:request("GET", url))
          end
          local _, terr = keep[1]:request("GET", url)
          local _, terr2 = keep[2]:request_many({}, 1)
          return terr, terr2
        ]]))
        local terr, terr2 = run(core, srv.http .. "/json")
        assert.equal("connection is closed", terr.message)
        assert.equal("connection is closed", terr2.message)
      end)
    end

    if jit then
      it("does not reuse a handle across fork (LuaJIT ffi)", function()
        local ffi = require "ffi"
        pcall(ffi.cdef, [[
          int fork(void);
          int waitpid(int pid, int *status, int options);
          void _exit(int status);
        ]])
        local c = assert(core.new())
        local before = conn_id(assert(c:request("GET", srv.http .. "/conn")))
        io.stdout:flush()
        local pid = ffi.C.fork()
        if pid == 0 then
          local ok, res = pcall(c.request, c, "GET", srv.http .. "/conn")
          local good = ok and res and res.status == 200 and conn_id(res) ~= before
          ffi.C._exit(good and 0 or 1)
        end
        assert.is_true(pid > 0)
        local st = ffi.new("int[1]")
        assert.equal(pid, ffi.C.waitpid(pid, st, 0))
        assert.equal(0, st[0], "child failed (status " .. st[0] .. ")")
        -- the parent's keep-alive connection survived the child
        assert.equal(before, conn_id(assert(c:request("GET", srv.http .. "/conn"))))
        c:close()

        -- same for a multi and its pool
        local m = assert(core.multi())
        local items = { { "GET", srv.http .. "/conn" } }
        local mbefore = conn_id(m:request_many(items, 1)[1])
        io.stdout:flush()
        pid = ffi.C.fork()
        if pid == 0 then
          local ok, r = pcall(m.request_many, m, items, 1)
          local good = ok and r and r[1].status == 200 and conn_id(r[1]) ~= mbefore
          ffi.C._exit(good and 0 or 1)
        end
        assert.equal(pid, ffi.C.waitpid(pid, st, 0))
        assert.equal(0, st[0], "multi child failed (status " .. st[0] .. ")")
        assert.equal(mbefore, conn_id(m:request_many(items, 1)[1]))
        m:close()
      end)
    end
  end)

  describe("multi", function()
    local m
    before_each(function() m = assert(core.multi { timeout = 5 }) end)
    after_each(function() m:close() end)

    it("returns results in input order", function()
      local items = {}
      for i = 1, 20 do items[i] = { "GET", srv.http .. "/echo", { "X-Probe: item-" .. i } } end
      local results = m:request_many(items, 3)
      assert.equal(20, #results)
      for i = 1, 20 do
        assert.equal(200, results[i].status)
        assert.equal("item-" .. i, results[i].body)
        assert.equal("a, b", results[i].headers["x-multi"])
      end
    end)

    it("mixes successes and every failure kind", function()
      local s, hole = blackhole()
      local quick = assert(core.multi { timeout = 0.3, max_body = 1024 })
      local results = quick:request_many({
        { "GET", srv.http .. "/json" },
        { "GET", closed_url() },
        "not a table",
        { "GET", "ftp://127.0.0.1/" },
        { "GET", hole },
        { "GET", srv.http .. "/drop" },
        { "GET", srv.http .. "/big" },
        { "POST", srv.http .. "/body", nil, "abc" },
        { 42, srv.http .. "/json" },
        { "GET", srv.https .. "/json" },
        { "GET", srv.http .. "/204" },
      }, 4)
      assert.equal(11, #results)
      assert.equal(200, results[1].status)
      assert_terr(results[2], "connect", false)
      assert_terr(results[3], "invalid_argument", false)
      assert_terr(results[4], "invalid_argument", false)
      assert_terr(results[5], "timeout", true)
      assert_terr(results[6], "network", true)
      assert_terr(results[7], "too_large", true)
      assert.equal("POST|abc", results[8].body)
      assert_terr(results[9], "invalid_argument", false)
      assert_terr(results[10], "tls", false)
      assert.equal(204, results[11].status)
      quick:close()
      s:close()
    end)

    it("keeps at most `concurrency` transfers in flight", function()
      local s, hole = blackhole()
      local quick = assert(core.multi { timeout = 0.3 })
      local items = {}
      for i = 1, 4 do items[i] = { "GET", hole .. "/" .. i } end
      local t0 = socket.gettime()
      local results = quick:request_many(items, 1)
      local serial = socket.gettime() - t0
      t0 = socket.gettime()
      local results2 = quick:request_many(items, 4)
      local parallel = socket.gettime() - t0
      for i = 1, 4 do
        assert_terr(results[i], "timeout", true)
        assert_terr(results2[i], "timeout", true)
      end
      assert.is_true(serial >= 1.15, "serial took " .. serial)
      assert.is_true(parallel < 1.1, "parallel took " .. parallel)
      quick:close()
      s:close()
    end)

    it("reuses connections within and across calls", function()
      local items = {}
      for i = 1, 5 do items[i] = { "GET", srv.http .. "/conn" } end
      local r1 = m:request_many(items, 1)
      local r2 = m:request_many(items, 1)
      local id = conn_id(r1[1])
      for i = 1, 5 do
        assert.equal(id, conn_id(r1[i]))
        assert.equal(id, conn_id(r2[i]))
      end
      local par = m:request_many(items, 5)
      local distinct = {}
      for i = 1, 5 do distinct[conn_id(par[i])] = true end
      local n = 0
      for _ in pairs(distinct) do n = n + 1 end
      assert.is_true(n >= 1 and n <= 5)
    end)

    it("multiplexes HTTP/2 over TLS", function()
      local h2 = assert(core.multi { ca_file = srv.ca, http_version = "2" })
      local items = {}
      for i = 1, 6 do items[i] = { "GET", srv.https .. "/conn" } end
      local results = h2:request_many(items, 6)
      local ids = {}
      for i = 1, 6 do
        assert.equal(200, results[i].status)
        assert.equal("2", results[i].http_version)
        ids[conn_id(results[i])] = true
      end
      local n = 0
      for _ in pairs(ids) do n = n + 1 end
      assert.equal(1, n)
      h2:close()
    end)

    it("handles empty batches and bad arguments without raising", function()
      assert.same({}, m:request_many({}, 4))
      assert.same({}, m:request_many({}))
      local res, terr = m:request_many("x", 1)
      assert.is_nil(res)
      assert_terr(terr, "invalid_argument", false)
      for _, conc in ipairs { 0, -1, 1.5, "2", true } do
        res, terr = m:request_many({ { "GET", srv.http .. "/json" } }, conc)
        assert.is_nil(res)
        assert_terr(terr, "invalid_argument", false)
      end
      local r = m:request_many({ { "GET", srv.http .. "/json" } }, 1000)
      assert.equal(200, r[1].status)
    end)

    it("close is idempotent", function()
      local mm = assert(core.multi())
      assert.is_true(mm:close())
      assert.is_true(mm:close())
      local res, terr = mm:request_many({ { "GET", srv.http .. "/json" } }, 1)
      assert.is_nil(res)
      assert.equal("connection is closed", terr.message)
    end)
  end)
end)
