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

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- n GETs of url in one request_many on a new multi handle (opts): every answer
-- a 200 over HTTP/2, all of them on one connection
local function assert_h2_one_connection(opts, url, n)
  local h2 = assert(core.multi(opts))
  local items = {}
  for i = 1, n do items[i] = { "GET", url } end
  local results = h2:request_many(items, n)
  local ids = {}
  for i = 1, n do
    assert.equal(200, results[i].status)
    assert.equal("2", results[i].http_version)
    ids[conn_id(results[i])] = true
  end
  assert.equal(1, count_keys(ids))
  h2:close()
end

-- ---------------------------------------------------------------- subprocesses
-- Some servers must act while konnect.core blocks in libcurl: they run as a
-- child interpreter (the same one as the spec), and so do clients that need
-- their own environment (proxy variables, LD_PRELOAD).

local LUA = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))

local function shq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local tmpdir
local function tmpfile(name, text)
  if not tmpdir then tmpdir = server.read_cmd("mktemp -d /tmp/konnect-core-spec.XXXXXX") end
  local path = tmpdir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function child_env()
  return "LUA_CPATH=" .. shq(package.cpath) .. " LUA_PATH=" .. shq(package.path) .. " "
end

-- A one-connection HTTP server in a child process.  Modes:
--   head N     a 200 whose head (status line to the blank line) is exactly N bytes
--   trickle    a response head sent one byte per second, forever
--   raw N PRE SUF   the bytes of file PRE, then N pieces of 64 KiB of "a" (fewer if the
--              client hangs up), then the bytes of file SUF, then close
local SERVER = [[
local socket = require "socket"
local mode, n = arg[1], tonumber(arg[2])
local s = assert(socket.bind("127.0.0.1", 0))
local _, port = s:getsockname()
io.stdout:write(port, "\n")
io.stdout:flush()
s:settimeout(20)
local c = s:accept()
if not c then os.exit(1) end
c:settimeout(20)
local got = {}
repeat local line = c:receive("*l"); got[#got + 1] = line until not line or line == ""
if mode == "echo" then
  local body = table.concat(got, "\n")
  c:send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body)
  c:settimeout(2)
  c:receive("*a")
elseif mode == "head" then
  local status, tail = "HTTP/1.1 200 OK\r\n", "Connection: close\r\nContent-Length: 2\r\n\r\n"
  local left, lines, i = n - #status - #tail, {}, 0
  while left > 0 do
    i = i + 1
    local name = ("X-Fill-%d: "):format(i)
    local len = math.min(1000, left)
    if left - len > 0 and left - len < 16 then len = left - 16 end
    lines[#lines + 1] = name .. ("a"):rep(len - #name - 2) .. "\r\n"
    left = left - len
  end
  c:send(status .. table.concat(lines) .. tail .. "ok")
  c:settimeout(2)
  c:receive("*a")
elseif mode == "raw" then
  local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local data = f:read("*a")
    f:close()
    return data
  end
  local ok = c:send(slurp(arg[3]))
  local piece = ("a"):rep(65536)
  for _ = 1, n do
    if not ok then break end
    ok = c:send(piece)
  end
  if ok then c:send(slurp(arg[4])) end
elseif mode == "trickle" then
  local head = "HTTP/1.1 200 OK\r\nX-Slow: " .. ("a"):rep(100)
  for i = 1, #head do
    if not c:send(head:sub(i, i)) then break end
    socket.sleep(1)
  end
end
c:close()
]]

local function child_server(mode, n, ...)
  local script = tmpfile("server.lua", SERVER)
  local extra = ""
  for _, a in ipairs { ... } do extra = extra .. " " .. shq(a) end
  local p = assert(io.popen(child_env() .. LUA .. " " .. script .. " " .. mode .. " " .. (n or 0) .. extra))
  local port = assert(tonumber(p:read("*l")), "child server did not start")
  return "http://127.0.0.1:" .. port, p
end

-- A child server answering one GET with `prefix`, `flood` pieces of 64 KiB of "a" (until
-- the client hangs up), `suffix`, then closing: a misbehaving server, byte for byte.
local raw_count = 0
local function raw_server(prefix, flood, suffix)
  raw_count = raw_count + 1
  local pre = tmpfile("raw" .. raw_count .. ".pre", prefix)
  local suf = tmpfile("raw" .. raw_count .. ".suf", suffix or "")
  return child_server("raw", flood or 0, pre, suf)
end

-- Run CODE in a child interpreter with extra environment ENV; returns its stdout.
local function child_run(env, code)
  local script = tmpfile("client.lua", code)
  local p = assert(io.popen(env .. " " .. child_env() .. LUA .. " " .. script .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

describe("konnect.core", function()
  local srv

  lazy_setup(function() srv = start_nginx() end)
  lazy_teardown(function()
    stop_nginx(srv)
    if tmpdir then server.sh("rm -rf " .. tmpdir) end
  end)

  describe("module", function()
    it("reports versions", function()
      -- the library's version lives only in konnect.limits: C names itself and libcurl
      assert.matches("^konnect%.core libcurl/%d+%.%d+%.%d+$", core.version())
      assert.matches("^libcurl/", core.curl_version())
      assert.is_nil(core._VERSION)
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

    it("its objects' metamethods called on another value raise a Lua error naming the type, never crash", function()
      local objects = { core.new(), core.multi(), core.headers({ "X-A: 1" }) }
      for _, obj in ipairs(objects) do
        local mt = getmetatable(obj)
        for _, name in ipairs { "__gc", "__tostring", "__close" } do
          if mt[name] then
            for _, other in ipairs { 42, {}, "x", io.stdout } do
              local ok, err = pcall(mt[name], other)
              assert.is_false(ok, mt.__name .. "." .. name)
              assert.matches(mt.__name .. " expected", err, 1, true)
            end
          end
        end
        for _, other in ipairs { 42, {} } do -- methods too
          for mname, fn in pairs(mt.__index) do
            local ok, err = pcall(fn, other)
            assert.is_false(ok, mt.__name .. ":" .. mname)
            assert.matches(mt.__name .. " expected", err, 1, true)
          end
        end
      end
      objects[1]:close()
      objects[2]:close()
    end)

    it("rejects bad options with nil, message, \"invalid_argument\"", function()
      local cases = {
        { "x", "options must be a table" },
        { { timeout = "1" }, "'timeout' must be a number" },
        { { timeout = -1 }, "'timeout' must be a number" },
        { { timeout = 0 }, "'timeout' must be a number" },
        { { timeout = 0 / 0 }, "'timeout' must be a number" },
        { { connect_timeout = true }, "'connect_timeout' must be a number" },
        { { timeout = 86400.5 }, "'timeout' must be a number" },
        { { max_body = 1.5 }, "'max_body' must be a whole number" },
        { { max_body = 0 }, "'max_body' must be a whole number" },
        { { max_body = 1023 }, "'max_body' must be a whole number of bytes from 1024" },
        { { user_agent = "a\r\nX-Injected: 1" }, "'user_agent' must be at most 8192 bytes without control" },
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
          local obj, err, kind = ctor(case[1])
          assert.is_nil(obj)
          assert.matches(case[2], err)
          assert.equal("invalid_argument", kind)
        end
      end
    end)
  end)

  describe("conn:request", function()
    local c
    before_each(function() c = assert(core.new { timeout = 5, connect_timeout = 2 }) end)
    after_each(function() c:close() end)

    it("returns status, lower-cased headers, body and version", function()
      local res = assert(c:request("GET", srv.http .. "/json", { "Accept: application/json" }))
      assert.equal(200, res.status)
      assert.equal('{"ok":true}', res.body)
      assert.equal("application/json", res.headers["content-type"])
      assert.equal("11", res.headers["content-length"])
      assert.equal("1.1", res.http_version)
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

    it("switches header lists and URLs correctly on one handle", function()
      local function probe(h, path) return assert(c:request("GET", srv.http .. (path or "/echo"), h)).body end
      do  -- the lists are collected after the block, while the handle still points at one
        local a = assert(core.headers { "X-Probe: a" })
        local b = assert(core.headers { "X-Probe: b" })
        local none = assert(core.headers {})  -- an empty list: nothing to set after a per-request one
        assert.equal("a", probe(a))
        assert.equal("a", probe(a))
        assert.equal("b", probe(b))
        assert.equal("t", probe({ "X-Probe: t" }))
        assert.equal("", probe(none), "the per-request list is gone with its request")
        assert.equal("b", probe(b))
        assert.equal("", probe(nil))
        assert.equal("a", probe(a))
        assert.equal(core.version(), probe(a, "/ua"))
        assert.equal("a", probe(a, "/echo?x=1"))
        assert.equal("a", probe(a))
      end
      collectgarbage()
      collectgarbage()
      assert.equal("c", probe(assert(core.headers { "X-Probe: c" })))
    end)

    it("sends a header with an empty value (libcurl would drop \"Name: \")", function()
      local url, p = child_server("echo")
      local res = assert(c:request("GET", url, { "X-Empty: ", "X-Blank:  \t", "X-Full: v" }))
      p:close()
      assert.matches("\nX%-Empty:[ ]?\n", res.body)
      assert.matches("\nX%-Blank:[ ]?\n", res.body)
      assert.matches("\nX%-Full: v\n", res.body)
    end)

    it("sends each empty-valued header whole, a longer name before a shorter one", function()
      -- (each "Name;" is built in one buffer: the shorter must not keep the longer's tail)
      local url, p = child_server("echo")
      local res = assert(c:request("GET", url, { "X-Much-Longer-Name:", "X-E: ", "X-Mid-Name:\t", "X-F:" }))
      p:close()
      for _, name in ipairs { "X%-Much%-Longer%-Name", "X%-E", "X%-Mid%-Name", "X%-F" } do
        assert.matches("\n" .. name .. ":[ ]?\n", res.body)
      end
    end)

    it("sends a header written without a space after the colon whole, a one-character value too", function()
      for _, v in ipairs { "v", "vw", "  v" } do
        local res = assert(c:request("GET", srv.http .. "/echo", { "X-Probe:" .. v }))
        assert.equal((v:gsub("^%s+", "")), res.body, ("%q"):format(v))
      end
    end)

    it("sleeps and keeps a monotonic clock", function()
      local t0 = core.monotime()
      core.sleep(0.05)
      local dt = core.monotime() - t0
      assert.is_true(dt >= 0.045 and dt < 1, "slept " .. dt)
    end)

    it("returns at once, and nothing, for a zero, negative or NaN time", function()
      local t0 = core.monotime()
      for _, s in ipairs { 0, -1, -1e300, 0 / 0 } do
        assert.equal(0, select("#", core.sleep(s)), tostring(s))
      end
      assert.equal(0, select("#", core.sleep(0.001)))
      assert.is_true(core.monotime() - t0 < 0.5)
    end)

    it("sleeps a time beyond a day for a day (capped), not for no time at all", function()
      -- a child asked to sleep 1e300 s is still asleep when `timeout` ends it (exit 124);
      -- an uncapped time would overflow time_t and return at once.  (Correct code can never
      -- finish within the second, whatever the load: no timing assumption.)
      local script = tmpfile("sleep.lua", [[require("konnect.core").sleep(1e300) io.write("returned")]])
      local p = assert(io.popen(child_env() .. "timeout 1 " .. LUA .. " " .. script .. "; echo \" $?\""))
      local out = p:read("*a")
      p:close()
      assert.equal(" 124\n", out)
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
      -- every transition between the handle's method states (only what changes is set)
      assert.equal("", assert(c:request("HEAD", u)).body)
      assert.equal("POST|3||", call("POST", "abc"))
      assert.equal("", assert(c:request("HEAD", u)).body)
      assert.equal("PUT|1||", call("PUT", "x"))
      assert.equal("PATCH|2||", call("PATCH", "xy"))
      assert.equal("PUT|0||", call("PUT"))
      assert.equal("OPTIONS|||", call("OPTIONS"))
      assert.equal("DELETE|||", call("DELETE"))
      assert.equal("GET|2||", call("GET", "ab"))
      assert.equal("POST|1||", call("POST", "a"))
      assert.equal("POST|2||", call("POST", "ab"))
      assert.equal("", assert(c:request("HEAD", u)).body)
      assert.equal("DELETE|||", call("DELETE"))
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

    it("caps the response head at limits.MAX_HEADER_BYTES, counted as it arrives", function()
      local limits = require "konnect.limits"
      local cap = limits.MAX_HEADER_BYTES
      assert.equal(64 * 1024, cap)
      local url, p = child_server("head", cap)
      local res = assert(c:request("GET", url))
      assert.equal(200, res.status)
      assert.equal("ok", res.body)
      assert.equal(("a"):rep(1000 - #"X-Fill-1: " - 2), res.headers["x-fill-1"])
      p:close()
      url, p = child_server("head", cap + 1)
      local _, terr = c:request("GET", url)
      assert_terr(terr, "too_large", true)
      assert.matches("response headers larger than 65536 bytes", terr.message)
      p:close()
    end)

    it("gives an attempt one absolute deadline: a server trickling a byte a second fails in time", function()
      local url, p = child_server("trickle")
      local quick = assert(core.new { timeout = 2 })
      local t0 = socket.gettime()
      local res, terr = quick:request("GET", url)
      local dt = socket.gettime() - t0
      assert.is_nil(res)
      assert_terr(terr, "timeout", true)
      assert.is_true(dt >= 1.9 and dt < 3.5, "elapsed " .. dt)
      quick:close()
      p:close()
    end)

    it("takes a per-call timeout (6th argument) for that attempt only", function()
      local s, hole = blackhole()
      local c1 = assert(core.new { timeout = 1.2 })
      local function timed(...)
        local t0 = socket.gettime()
        local res, terr = c1:request(...)
        return socket.gettime() - t0, res, terr
      end
      local dt, _, terr = timed("GET", hole, nil, nil, false, 0.2)
      assert_terr(terr, "timeout", true)
      assert.is_true(dt < 0.9, "per-call 0.2 s took " .. dt)
      dt, _, terr = timed("GET", hole)                 -- the connection's own timeout again
      assert_terr(terr, "timeout", true)
      assert.is_true(dt >= 1.1, "restored 1.2 s took " .. dt)
      dt, _, terr = timed("GET", hole, nil, nil, nil, 1.6)  -- longer than the connection's
      assert_terr(terr, "timeout", true)
      assert.is_true(dt >= 1.5, "per-call 1.6 s took " .. dt)
      for _, bad in ipairs { 0, -1, 0 / 0, 1 / 0, 86400.5, "1", true } do
        local res
        res, terr = c1:request("GET", srv.http .. "/json", nil, nil, false, bad)
        assert.is_nil(res)
        assert_terr(terr, "invalid_argument", false)
        assert.matches("timeout", terr.message)
      end
      assert.equal(200, assert(c1:request("GET", srv.http .. "/json", nil, nil, false, 86400)).status)
      c1:close()
      s:close()
    end)

    it("ignores http_proxy, HTTPS_PROXY and ALL_PROXY when no proxy is given", function()
      local trap = assert(socket.bind("127.0.0.1", 0))   -- records connections, answers none
      local _, port = trap:getsockname()
      local purl = "http://127.0.0.1:" .. port
      local env = ("env -u NO_PROXY -u no_proxy http_proxy=%s HTTP_PROXY=%s https_proxy=%s HTTPS_PROXY=%s "
        .. "ALL_PROXY=%s all_proxy=%s"):format(purl, purl, purl, purl, purl, purl)
      local out = child_run(env, ([[
        local core = require "konnect.core"
        local c = assert(core.new { timeout = 3, connect_timeout = 2 })
        local res, terr = c:request("GET", %q)
        io.write(res and ("status " .. res.status .. " " .. res.body) or ("error " .. terr.kind .. " " .. terr.message))
      ]]):format(srv.http .. "/conn"))
      trap:settimeout(0)
      local sneaked = trap:accept()
      trap:close()
      assert.is_nil(sneaked, "a connection reached the proxy from the environment")
      assert.matches("^status 200 %d+ %d+$", out)
    end)

    it("uses a given proxy for every host, whatever NO_PROXY says", function()
      local trap = assert(socket.bind("127.0.0.1", 0))   -- the proxy: accepts, never answers
      local _, port = trap:getsockname()
      local out = child_run("env NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost", ([[
        local core = require "konnect.core"
        local c = assert(core.new { proxy = %q, timeout = 0.5, connect_timeout = 0.5 })
        local res, terr = c:request("GET", %q)
        io.write(res and ("status " .. res.status) or ("error " .. terr.kind))
      ]]):format("http://127.0.0.1:" .. port, srv.http .. "/json"))
      trap:settimeout(0)
      local seen = trap:accept()
      trap:close()
      assert.is_not_nil(seen, "the request went around the proxy: " .. out)
      seen:close()
      assert.equal("error timeout", out)
    end)

    it("never puts a proxy's credentials in a message", function()
      for _, proxy in ipairs {
        "http://proxyuser:s3cr3t-pw@127.0.0.1:" .. server.free_port(),
        "http://proxyuser:s3cr3t-pw@proxy.invalid:3128",
        "socks5://proxyuser:s3cr3t-pw@127.0.0.1:" .. server.free_port(),
      } do
        local p = assert(core.new { proxy = proxy, connect_timeout = 2, timeout = 3 })
        local _, terr = p:request("GET", srv.http .. "/json")
        assert.is_table(terr)
        assert.is_nil(terr.message:find("s3cr3t", 1, true), terr.message)
        assert.is_nil(terr.message:find("proxyuser", 1, true), terr.message)
        p:close()
      end
    end)

    it("raises only for a wrong self", function()
      assert.has_error(function() c.request(nil, "GET", "http://x/") end)
      assert.has_error(function() c.request({}, "GET", "http://x/") end)
    end)
  end)

  -- The hostile-server suite's framing cases (spec/hostile/cases.lua), here against the
  -- C core alone: the cosocket transport classifies the same bytes the same way.
  describe("a misbehaving server", function()
    local c
    before_each(function() c = assert(core.new { timeout = 5 }) end)
    after_each(function() c:close() end)

    -- GET url from a raw_server(...) -> res, terr (and the child is reaped)
    local function fetch(conn, prefix, flood, suffix, method)
      local url, p = raw_server(prefix, flood, suffix)
      local res, terr = conn:request(method or "GET", url)
      p:close()
      return res, terr
    end

    it("reports a header line beyond libcurl's own 100 KiB line limit as too_large, not system", function()
      -- libcurl refuses such a line with CURLE_OUT_OF_MEMORY before our 64 KiB head cap sees it
      local cases = {
        { "a 1 MiB status line", "HTTP/1.1 200 ", 16, "\r\nContent-Length: 2\r\n\r\n{}" },
        { "an endless header line", "HTTP/1.1 200 OK\r\nX-Big: ", 4096 },
        { "a 256 KiB header line, then a body", "HTTP/1.1 200 OK\r\nX-Big: ", 4, "\r\nContent-Length: 2\r\n\r\n{}" },
        { "a 128 KiB line after 1xx blocks", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Big: ", 2,
          "\r\nContent-Length: 2\r\n\r\n{}" },
      }
      for _, case in ipairs(cases) do
        local res, terr = fetch(c, case[2], case[3], case[4])
        assert.is_nil(res, case[1])
        assert_terr(terr, "too_large", true)
        assert.equal("response headers larger than 65536 bytes", terr.message, case[1])
      end
      -- the handle still works
      assert.equal(200, assert(c:request("GET", srv.http .. "/json")).status)
    end)

    it("reads content_type and the rate-limit headers wherever they stand in the head, first included", function()
      for _, case in ipairs {
        { "Content-Type: application/json\r\nX-A: 1\r\n", "application/json", true },
        { "X-A: 1\r\nContent-Type: application/json\r\n", "application/json", true },
        { "RateLimit-Remaining: 5\r\nContent-Type: text/plain\r\n", "text/plain", nil },
        { "X-RateLimit-Remaining-Minute: 5\r\nX-A: 1\r\n", nil, nil },
        { "X-RateLimix: 5\r\nRateLimiX: 5\r\n", nil, true },  -- only the whole prefix counts
      } do
        local res = assert(fetch(c, "HTTP/1.1 200 OK\r\n" .. case[1] .. "Content-Length: 2\r\n\r\n{}"))
        assert.equal(case[2], res.content_type, case[1])
        assert.equal(case[3], res.no_rate_limit, case[1])
      end
    end)

    it("res.headers holds every header of the head, empty values as \"\" wherever they stand, last included", function()
      for _, case in ipairs {
        { "Content-Length: 2\r\nX-Empty:\r\n", { ["content-length"] = "2", ["x-empty"] = "" } },
        { "Content-Length: 2\r\nX-Empty:   \r\n", { ["content-length"] = "2", ["x-empty"] = "" } },
        { "X-Empty:\r\nContent-Length: 2\r\n", { ["content-length"] = "2", ["x-empty"] = "" } },
        { "Content-Length: 2\r\nX-E: a\r\nX-E:\r\n", { ["content-length"] = "2", ["x-e"] = "a, " } },
        { "Content-Length: 2\r\nA:\r\nB:\r\n", { ["content-length"] = "2", a = "", b = "" } },
      } do
        local res = assert(fetch(c, "HTTP/1.1 200 OK\r\n" .. case[1] .. "\r\n{}"))
        assert.same(case[2], res.headers, case[1])
      end
    end)

    it("fails differing Content-Length values as network (RFC 9112 6.3), accepts repeats of one", function()
      local bad = {
        "Content-Length: 2\r\nContent-Length: 40\r\n",
        "Content-Length: 2, 40\r\n",
        "Content-Length: 2\r\ncontent-length: 02\r\n",
        "Content-Length: 2x\r\nContent-Length: 2\r\n",
      }
      local body = "{}" .. (" "):rep(38)
      for _, h in ipairs(bad) do
        local res, terr = fetch(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" .. h .. "\r\n" .. body)
        assert.is_nil(res, h)
        assert_terr(terr, "network", true)
        assert.equal("the response has conflicting or invalid Content-Length values", terr.message)
      end
      local good = {
        { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 200, "{}" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}", 200, "{}" },
        -- Transfer-Encoding wins over Content-Length (the cosocket transport ignores it too)
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
          .. "2\r\n{}\r\n0\r\n\r\n", 200, "{}" },
        -- a 1xx block's headers are not the response's
        { "HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
          200, "{}" },
        -- no body to frame
        { "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n", 204, "" },
      }
      for _, g in ipairs(good) do
        local res = assert(fetch(c, g[1]))
        assert.equal(g[2], res.status, g[1])
        assert.equal(g[3], res.body, g[1])
      end
    end)

    it("fails a connection closed in the middle of the response headers as network", function()
      for _, head in ipairs {
        "HTTP/1.1 200 OK\r\nContent-Type: appl",
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: b\r\n",
      } do
        local res, terr = fetch(c, head)
        assert.is_nil(res, head)
        assert_terr(terr, "network", true)
        assert.equal("the connection closed in the middle of the response headers", terr.message)
        assert.is_nil(terr.code)
      end
      -- a complete head with a body read to the close is still an answer
      local res = assert(fetch(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}"))
      assert.equal("{}", res.body)
    end)

    it("fails a bad status line and an HTTP/0.9 answer as network, not invalid_argument", function()
      for _, answer in ipairs {
        "HTTP/1.1 abc\r\nContent-Length: 2\r\n\r\n{}",
        '{"data":[],"meta":{"page":{"total":0}}}',
        "HTTP/9.9 200 OK\r\nContent-Length: 2\r\n\r\n{}",
      } do
        local res, terr = fetch(c, answer)
        assert.is_nil(res, answer)
        assert_terr(terr, "network", true)
        assert.is_number(terr.code)
      end
      -- a caller's URL with another scheme is still invalid_argument, sent = false
      local _, terr = c:request("GET", "ftp://127.0.0.1/")
      assert_terr(terr, "invalid_argument", false)
    end)

    it("classifies the same answers the same way in a batch", function()
      local m = assert(core.multi { timeout = 5 })
      local answers = {
        { "HTTP/1.1 200 ", 16, "\r\n\r\n", kind = "too_large" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}" .. (" "):rep(38), kind = "network" },
        { "HTTP/1.1 200 OK\r\nContent-Type: appl", kind = "network" },
        { "HTTP/1.1 abc\r\nContent-Length: 2\r\n\r\n{}", kind = "network" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" },
      }
      local items, procs = {}, {}
      for i, a in ipairs(answers) do
        local url, p = raw_server(a[1], a[2], a[3])
        items[i], procs[i] = { "GET", url }, p
      end
      local results = m:request_many(items, #items)
      for _, p in ipairs(procs) do p:close() end
      for i, a in ipairs(answers) do
        if a.kind then
          assert_terr(results[i], a.kind, true)
        else
          assert.equal("{}", results[i].body)
        end
      end
      m:close()
    end)
  end)

  describe("a failing environment", function()
    -- A real failure of libcurl or of memory cannot be provoked on demand, so a
    -- small LD_PRELOAD library, compiled here, makes the named libcurl entry
    -- points fail (KC_FAIL=easy_init,multi_init,multi_add,slist,global) in a
    -- child interpreter; everything else is the real libcurl.
    local SHIM = [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
static int failing(const char *what) { const char *f = getenv("KC_FAIL"); return f && strstr(f, what); }
/* core.so loads libcurl privately (RTLD_LOCAL): look it up by name */
static void *curl_lib(void) {
  static void *lib;
  if (!lib) lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) lib = dlopen("libcurl.so.4", RTLD_LAZY);
  return lib;
}
#define REAL(name) ((__typeof__(&name))dlsym(curl_lib(), #name))
CURLcode curl_global_init(long flags) {
  return failing("global") ? CURLE_FAILED_INIT : REAL(curl_global_init)(flags); }
/* KC_EASY_FAIL_IF=<path>: curl_easy_init fails while that file exists (from a point the child chooses) */
CURL *curl_easy_init(void) {
  const char *flag = getenv("KC_EASY_FAIL_IF");
  return failing("easy_init") || (flag && access(flag, F_OK) == 0) ? NULL : REAL(curl_easy_init)(); }
CURLM *curl_multi_init(void) { return failing("multi_init") ? NULL : REAL(curl_multi_init)(); }
CURLMcode curl_multi_add_handle(CURLM *m, CURL *e) {
  return failing("multi_add") ? CURLM_OUT_OF_MEMORY : REAL(curl_multi_add_handle)(m, e); }
struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s) {
  return failing("slist") && strncmp(s, "X-Fail", 6) == 0 ? NULL : REAL(curl_slist_append)(l, s); }
/* KC_MULTI_FAIL_IF=<path>: curl_multi_perform fails while that file exists, with
 * CURLM_OUT_OF_MEMORY if it holds "oom", else CURLM_INTERNAL_ERROR (the codes that
 * curl_multi_perform(3) can return besides CURLM_OK) */
CURLMcode curl_multi_perform(CURLM *m, int *running) {
  const char *flag = getenv("KC_MULTI_FAIL_IF");
  char what[4] = "";
  FILE *f = flag ? fopen(flag, "r") : NULL;
  if (f == NULL) return REAL(curl_multi_perform)(m, running);
  if (fread(what, 1, 3, f) != 3) what[0] = '\0';
  fclose(f);
  *running = 0;
  return strncmp(what, "oom", 3) == 0 ? CURLM_OUT_OF_MEMORY : CURLM_INTERNAL_ERROR; }
/* "perform": every transfer after the first runs out of memory before it starts */
CURLcode curl_easy_perform(CURL *e) {
  static int calls;
  return failing("perform") && ++calls >= 2 ? CURLE_OUT_OF_MEMORY : REAL(curl_easy_perform)(e); }
]]
    local shim

    local function shim_lib()
      if not shim then
        local src = tmpfile("shim.c", SHIM)
        shim = tmpdir .. "/shim.so"
        local cc = "cc -shared -fPIC -o %s %s $(pkg-config --cflags libcurl 2>/dev/null) -ldl"
        assert(server.sh(cc:format(shim, src)),
          "cannot compile the LD_PRELOAD shim")
      end
      return shim
    end

    local function run_failing(what, code)
      return child_run("KC_FAIL=" .. what .. " LD_PRELOAD=" .. shim_lib(), [[
        local core = require "konnect.core"
        local url = ...
        local function show(v, err, kind)
          if type(v) == "table" and v.kind then return ("terr %s %s %s"):format(v.kind, tostring(v.sent), v.message) end
          if v then return "ok" end
          if type(err) == "table" then return ("terr %s %s %s"):format(err.kind, tostring(err.sent), err.message) end
          return ("fail %s %s"):format(tostring(kind), tostring(err))
        end
        ]] .. code)
    end

    it("reports curl_global_init, curl_easy_init and curl_multi_init failures as kind system", function()
      local code = [[io.write(show(core.new()), "\n", show(core.multi()))]]
      assert.equal("fail system curl_global_init failed\nfail system curl_global_init failed",
        run_failing("global", code))
      -- (libcurl's own curl_multi_init makes an easy handle too, so that one fails first)
      assert.matches("^fail system curl_easy_init failed\nfail system curl_[a-z]+_init failed$",
        run_failing("easy_init", code))
      assert.equal("ok\nfail system curl_multi_init failed", run_failing("multi_init", code))
    end)

    it("keeps running out of memory before a request went out system, sent = false, not too_large", function()
      -- (too_large is for a head over the cap, which libcurl also reports as out of memory:
      -- only while a response head arrives; the previous transfer's figures do not count)
      local out = run_failing("perform", ([[
        local c = assert(core.new())
        io.write(show(c:request("GET", %q)), "\n")
        io.write(show(c:request("GET", %q)))
      ]]):format(srv.http .. "/json", srv.http .. "/json"))
      assert.equal("ok\nterr system false Out of memory", out)
    end)

    it("reports a handle the multi refuses, and a failed allocation, as kind system, sent = false", function()
      local out = run_failing("multi_add", ([[
        local m = assert(core.multi())
        local r = m:request_many({ { "GET", %q } }, 1)
        io.write(show(r[1]))
      ]]):format(srv.http .. "/json"))
      assert.equal("terr system false curl_multi_add_handle failed", out)
      out = run_failing("slist", ([[
        local c = assert(core.new())
        io.write(show(c:request("GET", %q, { "X-Fail: 1" })), "\n")
        io.write(show(core.headers { "X-Fail: 1" }), "\n")
        local m = assert(core.multi())
        io.write(show(m:request_many({ { "GET", %q, { "X-Fail: 1" } } }, 1)[1]), "\n")
        io.write(show(c:request("GET", %q, { "X-Ok: 1" })))
      ]]):format(srv.http .. "/json", srv.http .. "/json", srv.http .. "/json"))
      assert.equal("terr system false out of memory\nfail system out of memory\n"
        .. "terr system false out of memory\nok", out)
    end)

    it("a request whose options libcurl cannot take (out of memory) is system, sent = false", function()
      -- a shim of its own: curl_easy_setopt(CURLOPT_URL) answers CURLE_OUT_OF_MEMORY, what libcurl
      -- says when it cannot copy the string (CURLOPT_URL(3)); every other option goes through, passed
      -- on by its type class (CURLOPTTYPE_* in curl.h)
      local src = tmpfile("setopt.c", [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#define CURL_DISABLE_TYPECHECK /* (curl.h's checking macro would hide the function) */
#include <curl/curl.h>
typedef CURLcode (*setopt_fn)(CURL *, CURLoption, ...);
CURLcode curl_easy_setopt(CURL *h, CURLoption o, ...) {
  static setopt_fn real;
  va_list ap;
  CURLcode rc;
  if (!real) {
    void *lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD);
    if (!lib) lib = dlopen("libcurl.so.4", RTLD_LAZY);
    real = (setopt_fn)dlsym(lib, "curl_easy_setopt");
  }
  if (o == CURLOPT_URL) return CURLE_OUT_OF_MEMORY;
  va_start(ap, o);
  if (o < CURLOPTTYPE_OBJECTPOINT) rc = real(h, o, va_arg(ap, long));
  else if (o < CURLOPTTYPE_FUNCTIONPOINT) rc = real(h, o, va_arg(ap, void *));
  else if (o < CURLOPTTYPE_OFF_T) rc = real(h, o, va_arg(ap, void (*)(void)));
  else if (o < CURLOPTTYPE_BLOB) rc = real(h, o, va_arg(ap, curl_off_t));
  else rc = real(h, o, va_arg(ap, void *));
  va_end(ap);
  return rc;
}
]])
      local lib = tmpdir .. "/setopt.so"
      assert(server.sh(("cc -shared -fPIC -o %s %s $(pkg-config --cflags libcurl 2>/dev/null) -ldl"):format(lib, src)),
        "cannot compile the setopt shim")
      local out = child_run("LD_PRELOAD=" .. lib, ([[
        local core = require "konnect.core"
        local c = assert(core.new())
        for _, h in ipairs { false, { "X-A: 1" } } do
          local res, terr = c:request("GET", %q, h or nil)
          io.write(tostring(res), " ", terr.kind, " ", tostring(terr.sent), " ", terr.message, "\n")
        end
      ]]):format(srv.http .. "/json"))
      assert.equal("nil system false out of memory\nnil system false out of memory\n", out)
    end)

    it("a multi slot that cannot get a handle: that item is system, sent = false, in its place", function()
      local flag = tmpfile("easy-fails", "") -- (removed: the child makes it when the time comes)
      os.remove(flag)
      local out = child_run("KC_EASY_FAIL_IF=" .. flag .. " LD_PRELOAD=" .. shim_lib(), ([[
        local core = require "konnect.core"
        local m = assert(core.multi())           -- (its handles are made lazily, per slot)
        assert(io.open(%q, "w")):close()         -- from now on curl_easy_init fails
        local r = m:request_many({ { "GET", %q }, { "GET", %q }, "not a request" }, 2)
        for i = 1, 3 do
          local t = r[i]
          io.write(i, " ", t and t.kind or "nil", " ", tostring(t and t.sent), " ", tostring(t and t.message), "\n")
        end
      ]]):format(flag, srv.http .. "/json", srv.http .. "/json"))
      os.remove(flag)
      assert.equal("1 system false curl_easy_init failed\n2 system false curl_easy_init failed\n"
        .. "3 invalid_argument false an item must be a table { method, url, headers, body, once, timeout }\n", out)
    end)

    it("an option that cannot be copied (out of memory) fails core.new and core.multi as system", function()
      -- a shim of its own: malloc of exactly KC_MALLOC_FAIL bytes fails (what malloc(3) does when memory
      -- runs out: NULL); every other size goes to glibc's own allocator (__libc_malloc).  Lua 5.4 allocates
      -- with realloc, so only the copy of a string option of KC_MALLOC_FAIL - 1 bytes meets it.
      local src = tmpfile("malloc.c", [[
#include <stdlib.h>
extern void *__libc_malloc(size_t);
void *malloc(size_t n) {
  static long fail = -1;
  if (fail < 0) { const char *f = getenv("KC_MALLOC_FAIL"); fail = f ? atol(f) : 0; }
  return fail > 0 && n == (size_t)fail ? NULL : __libc_malloc(n);
}
]])
      local lib = tmpdir .. "/malloc.so"
      assert(server.sh(("cc -shared -fPIC -o %s %s"):format(lib, src)), "cannot compile the malloc shim")
      local out = child_run("KC_MALLOC_FAIL=3001 LD_PRELOAD=" .. lib, [[
        local core = require "konnect.core"
        local ua = ("u"):rep(3000)
        for _, make in ipairs { core.new, core.multi } do
          local v, msg, kind = make { user_agent = ua }
          io.write(tostring(v), " ", tostring(kind), " ", tostring(msg), "\n")
        end
        local v, msg, kind = core.new { user_agent = ua:sub(2) } -- another size: no failure
        io.write(tostring(v and "conn"), " ", tostring(kind), " ", tostring(msg), "\n")
      ]])
      assert.equal("nil system out of memory\nnil system out of memory\nconn nil nil\n", out)
    end)

    it("a multi handle that fails mid-run fails each item in flight (system for out of memory, else network), "
      .. "never hangs, and works again once it recovers", function()
      local flag = tmpfile("multi-fails", "")
      os.remove(flag)
      -- (timeout: a run loop that lost track of its transfers would spin forever)
      local out = child_run("KC_MULTI_FAIL_IF=" .. flag .. " LD_PRELOAD=" .. shim_lib() .. " timeout 30 env", ([[
        local core = require "konnect.core"
        local flag, url = %q, %q
        local m = assert(core.multi())
        local function run(n, conc)
          local items = {}
          for i = 1, n do items[i] = { "GET", url } end
          local r = m:request_many(items, conc)
          local count = 0
          for _ in pairs(r) do count = count + 1 end
          for i = 1, n do
            local t = r[i]
            local what = t.status and ("ok " .. t.body)
              or (t.kind .. " " .. tostring(t.sent) .. " " .. tostring(t.code) .. " " .. t.message)
            io.write(i, " ", what, "\n")
          end
          io.write("= ", count, "\n")
        end
        run(2, 2)                                -- connections made, two transfer slots
        for _, what in ipairs { "oom", "internal" } do
          local f = assert(io.open(flag, "w")); f:write(what); f:close()
          io.write(what, "\n")
          run(3, 2)
          run(1, 1)                              -- one slot idle: only the item in flight fails
          os.remove(flag)
          run(3, 2)
        end
      ]]):format(flag, srv.http .. "/json"))
      os.remove(flag)
      local function lines(n, line)
        local t = {}
        for i = 1, n do t[i] = i .. " " .. line .. "\n" end
        return table.concat(t) .. "= " .. n .. "\n"
      end
      local ok = '{"ok":true}'
      local oom, internal = "system true nil Out of memory", "network true nil Internal error"
      assert.equal(lines(2, "ok " .. ok)
        .. "oom\n" .. lines(3, oom) .. lines(1, oom) .. lines(3, "ok " .. ok)
        .. "internal\n" .. lines(3, internal) .. lines(1, internal) .. lines(3, "ok " .. ok), out)
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

    it("close gives back the connection's socket at once, and so does a multi's close", function()
      local function sockets() -- of this process (the shell's parent)
        local n, p = 0, io.popen("ls -l /proc/$PPID/fd 2>/dev/null")
        for l in p:lines() do if l:find("socket:", 1, true) then n = n + 1 end end
        p:close()
        return n
      end
      collectgarbage()
      collectgarbage()
      collectgarbage("stop") -- (no earlier test's conn may be collected, and its socket closed, meanwhile)
      finally(function() collectgarbage("restart") end)
      local before = sockets()
      local c = assert(core.new())
      local id = conn_id(assert(c:request("GET", srv.http .. "/conn")))
      assert.equal(id, conn_id(assert(c:request("GET", srv.http .. "/conn"))), "kept alive")
      assert.is_true(sockets() > before)
      assert.is_true(c:close())
      assert.equal(before, sockets())
      local m = assert(core.multi())
      m:request_many({ { "GET", srv.http .. "/conn" }, { "GET", srv.http .. "/conn" } }, 2)
      assert.is_true(sockets() > before)
      m:close()
      assert.equal(before, sockets())
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
      -- only the black hole times out (its own timeout, the item's 6th field): the
      -- others have the multi's 5 s, so a loaded machine cannot turn them into timeouts
      local quick = assert(core.multi { timeout = 5, max_body = 1024 })
      local results = quick:request_many({
        { "GET", srv.http .. "/json" },
        { "GET", closed_url() },
        "not a table",
        { "GET", "ftp://127.0.0.1/" },
        { "GET", hole, nil, nil, false, 0.3 },
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
      assert_h2_one_connection({ ca_file = srv.ca, http_version = "2" }, srv.https .. "/conn", 6)
    end)

    it("takes a per-item timeout (6th field) for that item only", function()
      local s, hole = blackhole()
      local mm = assert(core.multi { timeout = 1.5 })
      local t0 = socket.gettime()
      local r = mm:request_many({ { "GET", hole, nil, nil, false, 0.2 } }, 1)
      local dt = socket.gettime() - t0
      assert_terr(r[1], "timeout", true)
      assert.is_true(dt < 1, "per-item 0.2 s took " .. dt)
      t0 = socket.gettime()
      r = mm:request_many({ { "GET", hole } }, 1)          -- same slot, the multi's timeout again
      dt = socket.gettime() - t0
      assert_terr(r[1], "timeout", true)
      assert.is_true(dt >= 1.4, "restored 1.5 s took " .. dt)
      r = mm:request_many({ { "GET", srv.http .. "/json", nil, nil, false, -1 }, { "GET", srv.http .. "/json" } }, 2)
      assert_terr(r[1], "invalid_argument", false)
      assert.equal(200, r[2].status)
      mm:close()
      s:close()
    end)

    it("over https without http_version, multiplexes a batch on one HTTP/2 connection", function()
      assert_h2_one_connection({ ca_file = srv.ca }, srv.https .. "/conn", 8)
    end)

    it("never opens more connections than the concurrency (HTTP/1.1, plain and TLS)", function()
      -- each /conn-slow answer takes about a second: every slot stays busy
      for _, case in ipairs {
        { url = srv.http, opts = {}, n = 8, batches = 2 },
        { url = srv.https, opts = { ca_file = srv.ca, http_version = "1.1" }, n = 4, batches = 1 },
      } do
        local mm = assert(core.multi(case.opts))
        local items = {}
        for i = 1, case.n do items[i] = { "GET", case.url .. "/conn-slow" } end
        local conns = {}
        for _ = 1, case.batches do
          local results = mm:request_many(items, case.n / 2)
          for i = 1, case.n do
            assert.equal(200, results[i].status, results[i].message)
            assert.equal("1.1", results[i].http_version)
            conns[results[i].headers["x-conn"]] = true
          end
        end
        -- at most the concurrency, and a second batch reuses the first one's connections
        assert.is_true(count_keys(conns) <= case.n / 2, count_keys(conns) .. " connections for " .. case.url)
        mm:close()
      end
    end)

    it("keeps no more idle connections than the last batch's concurrency", function()
      -- client sockets ESTABLISHED to the server's port, from the kernel's table (/proc/net/tcp:
      -- rem_address "ADDR:PORT" in hex, st 01 = ESTABLISHED); nginx keeps them for 75 s
      local port = tonumber(srv.http:match(":(%d+)$"))
      local function open_to_server()
        local f = assert(io.open("/proc/net/tcp"))
        local n = 0
        for line in f:lines() do
          local rport, st = line:match("^%s*%d+: %x+:%x+ %x+:(%x+) (%x%x)")
          if rport and tonumber(rport, 16) == port and st == "01" then n = n + 1 end
        end
        f:close()
        return n
      end
      local mm = assert(core.multi {})
      local slow, quick = {}, {}
      for i = 1, 4 do slow[i], quick[i] = { "GET", srv.http .. "/conn-slow" }, { "GET", srv.http .. "/conn" } end
      local before = open_to_server()
      for _, r in ipairs(mm:request_many(slow, 4)) do assert.equal(200, r.status, r.message) end
      assert.equal(before + 4, open_to_server(), "four slow answers at once: four connections")
      for _, case in ipairs { { conc = 2, open = 2 }, { conc = 1, open = 1 } } do
        for _, r in ipairs(mm:request_many(quick, case.conc)) do assert.equal(200, r.status, r.message) end
        assert.equal(before + case.open, open_to_server(), "after a batch at concurrency " .. case.conc)
      end
      mm:close()
      assert.equal(before, open_to_server(), "close closes them all")
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
      -- above the cap (limits.BATCH_MAX_CONCURRENCY) is refused, not clamped
      for _, conc in ipairs { 257, 1000, 1 / 0, 0 / 0 } do
        res, terr = m:request_many({ { "GET", srv.http .. "/json" } }, conc)
        assert.is_nil(res)
        assert_terr(terr, "invalid_argument", false)
      end
      local r = m:request_many({ { "GET", srv.http .. "/json" } }, 256)
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
