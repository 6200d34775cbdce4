-- A throwaway nginx (plain `return`/`alias` locations, no Lua module) with a
-- self-signed certificate, plus LuaSocket listeners for the transport failures
-- nginx cannot produce.  Shared by spec/core_spec.lua and spec/soak/core_soak.lua.
local socket = require "socket"

local M = {}

local BIG_SIZE = 64 * 1024
-- the checkout (this file is spec/support/coreserver.lua), for scripts/nginx.sh
local ROOT = (debug.getinfo(1, "S").source:match("^@(.-)/?spec/support/[^/]*$") or ".")
if ROOT == "" then ROOT = "." end

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local read_cmd = require("support.proc").read_cmd

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function wait_port(port)
  for _ = 1, 200 do
    local c = socket.tcp()
    c:settimeout(0.05)
    if c:connect("127.0.0.1", port) then
      c:close()
      return true
    end
    c:close()
    socket.sleep(0.025)
  end
  error("nothing listening on port " .. port)
end

-- scripts/nginx.sh fills in @DIR@ and the free ports @HTTP_PORT@ / @HTTPS_PORT@
-- (and adds `daemon on`, `user root` when root); a block added here uses the same @…@ names.
local NGINX_CONF = [[
worker_processes 1;
error_log @DIR@/error.log warn;
pid @DIR@/nginx.pid;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path @DIR@/tmp_body;
  proxy_temp_path @DIR@/tmp_proxy;
  fastcgi_temp_path @DIR@/tmp_fastcgi;
  uwsgi_temp_path @DIR@/tmp_uwsgi;
  scgi_temp_path @DIR@/tmp_scgi;
  keepalive_requests 1000000;
  client_max_body_size 16m;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:@HTTP_PORT@;
    listen 127.0.0.1:@HTTPS_PORT@ ssl http2;
    ssl_certificate @DIR@/cert.pem;
    ssl_certificate_key @DIR@/key.pem;
    location = /json { default_type application/json; return 200 '{"ok":true}'; }
    location = /204 { return 204; }
    location = /big { default_type application/octet-stream; alias @DIR@/big.bin; }
    location = /big-chunked {
      default_type text/plain; alias @DIR@/big.bin;
      sub_filter_types *; sub_filter 'never-there' 'x'; sub_filter_once off;
    }
    location = /slow { default_type text/plain; alias @DIR@/big.bin; limit_rate 4k; }
    location = /redirect { return 302 /json; }
    location = /echo {
      default_type text/plain;
      add_header X-Multi a; add_header X-Multi b; add_header X-Mixed-Case yes;
      return 200 "$http_x_probe";
    }
    location = /ua { default_type text/plain; return 200 "$http_user_agent"; }
    location = /conn { default_type text/plain; return 200 "$connection $connection_requests"; }
    location = /method {
      default_type text/plain;
      return 200 "$request_method|$http_content_length|$http_content_type|$http_expect";
    }
    location = /body {
      proxy_pass http://127.0.0.1:@HTTP_PORT@/body-echo;
      proxy_set_header X-Body $request_body;
    }
    location = /body-echo { default_type text/plain; return 200 "$request_method|$http_x_body"; }
    location = /drop { return 444; }
    # slow enough (48k of 64k at once, the rest ~0.3 s later) that a batch
    # keeps every slot busy; X-Conn names the connection that served it
    location = /conn-slow {
      default_type application/octet-stream; alias @DIR@/big.bin; limit_rate 48k;
      add_header X-Conn $connection;
    }
  }
}
]]

local function start_nginx()
  local dir = read_cmd("mktemp -d /tmp/konnect-core-server.XXXXXX")
  assert(dir:match("^/tmp/konnect%-core%-server"), "mktemp failed")
  assert(sh(("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out %s/cert.pem "
    .. "-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
    .. ">/dev/null 2>&1"):format(dir, dir)), "openssl failed")
  -- a CA directory for ca_path (hashed names)
  assert(sh(("mkdir -p %s/capath && cp %s/cert.pem %s/capath/ && openssl rehash %s/capath >/dev/null 2>&1")
    :format(dir, dir, dir, dir)))
  local big = {}
  for i = 1, BIG_SIZE / 64 do big[i] = ("%063d\n"):format(i) end
  big = table.concat(big)
  local f = assert(io.open(dir .. "/big.bin", "wb"))
  f:write(big)
  f:close()
  f = assert(io.open(dir .. "/nginx.conf.in", "w"))
  f:write(NGINX_CONF)
  f:close()
  local out = read_cmd(("%s/scripts/nginx.sh start %s/nginx.conf.in %s 2>%s/start.log"):format(ROOT, dir, dir, dir))
  local vars = { http = tonumber(out:match("HTTP_PORT=(%d+)")), https = tonumber(out:match("HTTPS_PORT=(%d+)")) }
  assert(vars.http and vars.https,
    "nginx did not start: " .. read_cmd("cat " .. dir .. "/start.log " .. dir .. "/error.log"))
  wait_port(vars.http)
  wait_port(vars.https)
  return {
    dir = dir, big = big, ca = dir .. "/cert.pem", capath = dir .. "/capath",
    http = "http://127.0.0.1:" .. vars.http,
    https = "https://127.0.0.1:" .. vars.https,
  }
end

local function stop_nginx(srv)
  if not srv then return end
  sh(("%s/scripts/nginx.sh stop %s >/dev/null 2>&1"):format(ROOT, srv.dir))
  sh("rm -rf " .. srv.dir)
end

-- A listener that never accepts nor answers: the kernel completes the TCP
-- handshake, so a request goes out and then waits forever.
local function blackhole()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  return s, "http://127.0.0.1:" .. port
end

-- A listener whose accept queue is full: a new connection is never
-- established (SYNs are dropped), so connecting times out.
local function full_backlog()
  local s = assert(socket.bind("127.0.0.1", 0, 0))
  local _, port = s:getsockname()
  local fill = {}
  for i = 1, 4 do
    local c = socket.tcp()
    c:settimeout(0)
    c:connect("127.0.0.1", port)
    fill[i] = c
  end
  return { s = s, fill = fill }, "http://127.0.0.1:" .. port
end

local function closed_url()
  return "http://127.0.0.1:" .. free_port() .. "/"
end

M.BIG_SIZE = BIG_SIZE
M.sh, M.read_cmd, M.free_port, M.wait_port = sh, read_cmd, free_port, wait_port
M.start, M.stop = start_nginx, stop_nginx
M.blackhole, M.full_backlog, M.closed_url = blackhole, full_backlog, closed_url

return M
