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

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function read_cmd(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return (out:gsub("%s+$", ""))
end

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function wait_port(port)
  for _ = 1, 400 do
    local c = socket.tcp()
    c:settimeout(0.05)
    if c:connect("127.0.0.1", port) then
      c:close()
      return
    end
    c:close()
    socket.sleep(0.025)
  end
  error("nothing listening on port " .. port)
end

-- ---------------------------------------------------------------- server

local CONF = [[
worker_processes 1;
${user}
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp_body;
  proxy_temp_path ${dir}/tmp_proxy;
  fastcgi_temp_path ${dir}/tmp_fastcgi;
  uwsgi_temp_path ${dir}/tmp_uwsgi;
  scgi_temp_path ${dir}/tmp_scgi;
  keepalive_requests 1000000;
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:${http};
    listen 127.0.0.1:${https} ssl http2;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location = /json { default_type application/json; return 200 '{"ok":true}'; }
    location = /204 { return 204; }
    location = /big { default_type application/octet-stream; alias ${dir}/big.bin; }
    location = /big-chunked {
      default_type text/plain; alias ${dir}/big.bin;
      sub_filter_types *; sub_filter 'never-there' 'x'; sub_filter_once off;
    }
    location = /redirect { return 302 /json; }
    location = /echo { default_type text/plain; add_header X-Multi a; add_header X-Multi b;
                       return 200 "$http_x_probe"; }
    location = /method { default_type text/plain; return 200 "$request_method|$http_content_length"; }
    location = /drop { return 444; }
  }
}
]]

local function start_nginx()
  local dir = read_cmd("mktemp -d /tmp/konnect-core-soak.XXXXXX")
  assert(dir:match("^/tmp/konnect%-core%-soak"), "mktemp failed")
  assert(sh(("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out %s/cert.pem "
    .. "-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
    .. ">/dev/null 2>&1"):format(dir, dir)), "openssl failed")
  local f = assert(io.open(dir .. "/big.bin", "wb"))
  f:write(("0123456789abcdef"):rep(4096))     -- 64 KiB
  f:close()
  local vars = { dir = dir, http = free_port(), https = free_port(),
                 user = read_cmd("id -u") == "0" and "user root;" or "" }
  f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write((CONF:gsub("%${(%w+)}", function(k) return tostring(vars[k]) end)))
  f:close()
  assert(sh(("nginx -p %s -c %s/nginx.conf -g 'daemon on;' >%s/start.log 2>&1"):format(dir, dir, dir)),
    "nginx did not start")
  wait_port(vars.http)
  wait_port(vars.https)
  return { dir = dir, ca = dir .. "/cert.pem",
           http = "http://127.0.0.1:" .. vars.http, https = "https://127.0.0.1:" .. vars.https }
end

local function stop_nginx(srv)
  sh(("nginx -p %s -c %s/nginx.conf -s stop >/dev/null 2>&1"):format(srv.dir, srv.dir))
  for _ = 1, 200 do
    local f = io.open(srv.dir .. "/nginx.pid")
    if not f then break end
    f:close()
    socket.sleep(0.02)
  end
  sh("rm -rf " .. srv.dir)
end

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
  local got = res and ("status " .. res.status) or (terr and terr.kind) or "?"
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
