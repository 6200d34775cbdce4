-- Soak test for konnect.core: thousands of requests mixing successes and
-- every transport error kind, plus close/gc paths, against a throwaway nginx
-- and LuaSocket listeners.  Prints RSS and open fd counts before and after.
-- Run by scripts/check.sh (under valgrind), or directly:
--
--   LUA_CPATH='build/5.4/?.so;;' lua5.4 spec/soak/core_soak.lua
--
-- Environment:
--   KONNECT_SOAK_N        iterations of the main loop (default 2000)
--   KONNECT_SOAK_WARMUP   iterations before the "before" snapshot (default 200)
--   KONNECT_SOAK_FD_SLACK allowed fd growth (default 8)
-- Exit status 0 when every outcome was as expected and fds did not grow.

local core = require "konnect.core"
local socket = require "socket"

local N = tonumber(os.getenv("KONNECT_SOAK_N")) or 2000
local WARMUP = tonumber(os.getenv("KONNECT_SOAK_WARMUP")) or 200
local FD_SLACK = tonumber(os.getenv("KONNECT_SOAK_FD_SLACK")) or 8

local server = require "support.coreserver"
local read_cmd, free_port = server.read_cmd, server.free_port
local start_nginx, stop_nginx = server.start, server.stop

-- ---------------------------------------------------------------- process stats

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or -1
end

local function fd_count()
  local ok, lfs = pcall(require, "lfs")
  if ok then
    local n = 0
    for name in lfs.dir("/proc/self/fd") do
      if name ~= "." and name ~= ".." then n = n + 1 end
    end
    return n - 1            -- the directory handle lfs.dir itself holds
  end
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*a"):match("^(%d+)")
  f:close()
  return tonumber(read_cmd("ls /proc/" .. pid .. "/fd | wc -l")) - 1   -- minus popen's pipe
end

-- ---------------------------------------------------------------- soak

local srv = start_nginx()
local hole = assert(socket.bind("127.0.0.1", 0, 128))    -- never accepts
local _, hole_port = hole:getsockname()
local HOLE = "http://127.0.0.1:" .. hole_port .. "/"
local CLOSED = "http://127.0.0.1:" .. free_port() .. "/"

local counts, bad = {}, {}
local function note(expect, res, terr)
  local got = res and (type(res.status) == "string" and res.status or "status " .. res.status)
    or (terr and terr.kind) or "?"
  counts[got] = (counts[got] or 0) + 1
  if got ~= expect then
    bad[#bad + 1] = ("expected %s, got %s (%s)"):format(expect, got, terr and terr.message or "")
  end
end

local plain = assert(core.new { timeout = 5 })
local small = assert(core.new { timeout = 5, max_body = 1024 })
local tls = assert(core.new { timeout = 5, ca_file = srv.ca })
local quick = assert(core.new { timeout = 0.05, connect_timeout = 1 })
local multi = assert(core.multi { timeout = 2, max_body = 32 * 1024, ca_file = srv.ca })
local closed = assert(core.new())
closed:close()
local prebuilt = assert(core.headers { "Accept: application/json", "X-Probe: pre" })
local cjson = require("cjson").new()

-- an outcome that is not a transfer's: true is `what`, anything else a miss
local function check(what, ok)
  note(what, ok and { status = what } or nil, { kind = "miss" })
end

local CASES = {
  function() note("status 200", plain:request("GET", srv.http .. "/json", { "Accept: application/json" })) end,
  function() note("status 200", plain:request("POST", srv.http .. "/method", { "Content-Type: x/y" }, "body")) end,
  function() note("status 204", plain:request("DELETE", srv.http .. "/204")) end,
  function() note("status 302", plain:request("GET", srv.http .. "/redirect")) end,
  function() note("status 200", plain:request("PATCH", srv.http .. "/echo", { "X-Probe: p" })) end,
  function() note("status 200", tls:request("GET", srv.https .. "/json")) end,
  function() note("too_large", small:request("GET", srv.http .. "/big")) end,
  function() note("too_large", small:request("GET", srv.http .. "/big-chunked")) end,
  function() note("network", plain:request("GET", srv.http .. "/drop")) end,
  function() note("connect", plain:request("GET", CLOSED)) end,
  function() note("invalid_argument", plain:request("GET", "ftp://127.0.0.1/")) end,
  function() note("invalid_argument", plain:request("GET", srv.http .. "/json", { "X: a\r\nY: b" })) end,
  function() note("status 200", plain:request("HEAD", srv.http .. "/big")) end,
  function() note("status 200", plain:request("GET", srv.http .. "/echo", prebuilt, nil, false, 3)) end,
  function() note("status 200", plain:request("PUT", srv.http .. "/method", { "X-Empty: " }, "put-body")) end,
  function() note("invalid_argument", plain:request("GET", srv.http .. "/json", nil, nil, false, 0 / 0)) end,
  function()   -- a header list built once, then left to the collector
    note("status 200", plain:request("GET", srv.http .. "/echo", assert(core.headers { "X-Probe: once" })))
  end,
  function() note("invalid_argument", plain:request(42, {}, 7, false)) end,
  function() note("invalid_argument", closed:request("GET", srv.http .. "/json")) end,
  function()   -- a fresh connection, closed explicitly
    local c = assert(core.new { timeout = 5 })
    note("status 200", c:request("GET", srv.http .. "/json"))
    c:close()
    c:close()
  end,
  function()   -- a fresh connection, left to the garbage collector
    local c = assert(core.new { timeout = 5, user_agent = "soak" })
    note("status 200", c:request("GET", srv.http .. "/big"))
  end,
  function()   -- options rejected
    local c, err = core.new { timeout = "soon" }
    note("invalid_argument", c, { kind = err and "invalid_argument" or "?" })
  end,
  function()   -- res.headers built on first access from the packed head
    local res = plain:request("GET", srv.http .. "/json", prebuilt)
    check("headers", res and res.headers["content-type"] == "application/json" and res.headers == res.headers)
  end,
  function()   -- the helpers behind konnect.accel: needle sets (some bad), searched, then collected
    local set = core.needles { "%", "\\", "kpat_soak_secret", ("ab"):rep(40) .. "c", "x" }
    local body = ('{"id":"%s","v":"%s"}'):format(("ab"):rep(60), ("a"):rep(300))
    check("needles", core.find_any(body, set) == false and core.find_any(body .. "kpat_soak_secret", set)
      and core.find_any(body, core.needles { "", 7 }) and core.find_any(nil, set))
  end,
  function()   -- the null walk over a decoded document
    local v = cjson.decode('{"a":null,"b":[1,null,{"c":null,"d":2.0}],"e":{"f":[null]}}')
    check("json_clean", core.json_clean(v, cjson.null) and v.a == nil and v.b[3].c == nil)
  end,
}

-- rarer, slower cases: every RARE iterations
local RARE_CASES = {
  function() note("timeout", quick:request("POST", HOLE, nil, "x")) end,
  function()
    local c = assert(core.new { timeout = 5 })          -- no CA: verification fails
    note("tls", c:request("GET", srv.https .. "/json"))
  end,
  function()
    local results = multi:request_many({
      { "GET", srv.http .. "/json" },
      { "GET", srv.https .. "/json" },
      { "GET", CLOSED },
      { "GET", srv.http .. "/drop" },
      { "GET", srv.http .. "/big" },
      { "POST", srv.http .. "/method", nil, "abc" },
      "junk",
      { "GET", srv.http .. "/echo", { "X-Probe: m" } },
    }, 3)
    local expect = { "status 200", "status 200", "connect", "network", "too_large",
                     "status 200", "invalid_argument", "status 200" }
    for i, e in ipairs(expect) do
      local r = results[i]
      if r and r.status then note(e, r) else note(e, nil, r) end
    end
  end,
  function()   -- HTTP/2 by default over https: one multiplexed connection
    local items = {}
    for k = 1, 4 do items[k] = { "GET", srv.https .. "/json", prebuilt, nil, false, k % 2 == 0 and 3 or nil } end
    for _, r in ipairs(multi:request_many(items, 4)) do
      if r.status then note("status 200", r) else note("status 200", nil, r) end
    end
  end,
  function()   -- a throwaway multi, gc'd with connections in its cache
    local m = assert(core.multi { timeout = 5 })
    local r = m:request_many({ { "GET", srv.http .. "/json" }, { "GET", srv.http .. "/204" } }, 2)
    note("status 200", r[1])
    note("status 204", r[2])
    if math.random() < 0.5 then m:close() end
  end,
}
local RARE = 25

local function step(i)
  CASES[i % #CASES + 1]()
  if i % RARE == 0 then RARE_CASES[math.floor(i / RARE) % #RARE_CASES + 1]() end
end

local t0 = socket.gettime()
for i = 1, WARMUP do step(i) end
collectgarbage()
collectgarbage()
local rss0, fd0 = rss_kb(), fd_count()
print(("soak: before  rss=%d kB  fds=%d  (after %d warm-up iterations)"):format(rss0, fd0, WARMUP))

for i = WARMUP + 1, WARMUP + N do step(i) end

collectgarbage()
collectgarbage()
local rss1, fd1 = rss_kb(), fd_count()
print(("soak: after   rss=%d kB  fds=%d  (%d iterations, %.1f s)"):format(rss1, fd1, N, socket.gettime() - t0))
print(("soak: delta   rss=%+d kB  fds=%+d"):format(rss1 - rss0, fd1 - fd0))

local keys = {}
for k in pairs(counts) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do print(("soak:   %-18s %d"):format(k, counts[k])) end

plain:close(); small:close(); tls:close(); quick:close(); multi:close()
hole:close()
collectgarbage()
stop_nginx(srv)

local failed = false
if #bad > 0 then
  failed = true
  print(("soak: %d unexpected outcomes, first ones:"):format(#bad))
  for i = 1, math.min(#bad, 10) do print("soak:   " .. bad[i]) end
end
if fd1 - fd0 > FD_SLACK then
  failed = true
  print(("soak: fd count grew by %d (allowed %d)"):format(fd1 - fd0, FD_SLACK))
end
print(failed and "soak: FAILED" or "soak: OK")
os.exit(failed and 1 or 0, true)   -- close the state: every __gc runs under valgrind
