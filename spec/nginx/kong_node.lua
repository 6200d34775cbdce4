-- spec/nginx/kong_node.lua: Kong nodes for the kong specs: each a throwaway
-- nginx (scripts/nginx.sh, template spec/nginx/kong_node.conf.in) running the
-- kong shim (spec/nginx/app/konnect_test/kong.lua) with the plugin of
-- KONG_PLUGIN_ROOT (default examples/kong-plugin: point it at another checkout's
-- examples/kong-plugin to run these specs against that plugin).
local json = require "konnect.json"
local core = require "konnect.core"
local socket = require "socket"
local fake = require "support.fake"

local _M = {}

local ROOT = (io.popen("pwd"):read("*l"))
_M.ROOT = ROOT
_M.PLUGIN_ROOT = os.getenv("KONG_PLUGIN_ROOT") or (ROOT .. "/examples/kong-plugin")
_M.NAME = "konnect-pat-rotator"
_M.ADMIN = "kpat_fake_bob_bootstrap" -- the fixture admin token, read through {vault://env/kong-test-konnect-admin}
_M.FAKE_HTTPS = (os.getenv("FAKE_KONNECT_HTTPS") or ""):gsub("127%.0%.0%.1", "localhost")
_M.FAKE_PORT = tonumber(_M.FAKE_HTTPS:match(":(%d+)$"))

local conn = assert(core.new { timeout = 30, connect_timeout = 5 })

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end
_M.sh = sh

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local base = os.getenv("KONNECT_NGINX_DIR") or (io.popen("mktemp -d /tmp/konnect-kong.XXXXXX"):read("*l"))
local certs

-- a CA that signed nothing (the "empty" trust store) and a self-signed impostor certificate for localhost
function _M.certs()
  if certs then return certs end
  local dir = base .. "/kong-certs"
  sh("mkdir -p " .. q(dir))
  for _, name in ipairs { "empty-ca", "impostor" } do
    assert(sh(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 " ..
      "-keyout %s/%s-key.pem -out %s/%s.pem -subj /CN=localhost -addext subjectAltName=DNS:localhost " ..
      ">%s/openssl.log 2>&1"):format(dir, name, dir, name, dir)), "openssl failed")
  end
  certs = { empty_ca = dir .. "/empty-ca.pem", impostor = dir .. "/impostor.pem",
            impostor_key = dir .. "/impostor-key.pem" }
  return certs
end

local Node = {}
Node.__index = Node

--- new{ name =, workers = 2, env = { KONG_…= }, decl = {…}, extra = "nginx text" }
function _M.new(o)
  local self = setmetatable({ workers = o.workers or 2, env = o.env or {}, decl = o.decl, extra = o.extra or "" }, Node)
  self.dir = base .. "/kong-node-" .. o.name
  sh("rm -rf " .. q(self.dir) .. " && mkdir -p " .. q(self.dir))
  self:write_decl(o.decl)
  local f = assert(io.open(self.dir .. "/extra.conf", "w"))
  f:write(self.extra)
  f:close()
  return self
end

function Node:write_decl(decl)
  self.decl = decl
  local f = assert(io.open(self.dir .. "/kong.json", "w"))
  f:write(json.encode(decl))
  f:close()
end

function Node:start()
  local c = _M.certs()
  local env = { KONG_SHIM_CA = fake.ca, KONG_TEST_KONNECT_ADMIN = _M.ADMIN }
  for k, v in pairs(self.env) do env[k] = v end
  local parts = {}
  for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. q(v) end
  local cmd = ("env %s bash %s/scripts/nginx.sh start %s/spec/nginx/kong_node.conf.in %s WORKERS=%d CA=%s " ..
    "EMPTY_CA=%s PLUGIN_ROOT=%s 2>&1"):format(table.concat(parts, " "), ROOT, ROOT, q(self.dir), self.workers,
    q(fake.ca), q(c.empty_ca), q(_M.PLUGIN_ROOT))
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  self.proxy = out:match("PROXY_PORT=(%d+)")
  self.control = out:match("CONTROL_PORT=(%d+)")
  assert(self.proxy and self.control, "node " .. self.dir .. " did not start: " .. out)
  return self
end

function Node:pid()
  local f = io.open(self.dir .. "/nginx.pid")
  local pid = f and f:read("*l")
  if f then f:close() end
  return pid
end

--- stop(): `kong stop` (nginx -s stop: TERM, fast shutdown); done when the master
--- removed its pid file on exit.  (scripts/nginx.sh stop also waits for the exited
--- master to be reaped, which PID 1 of this machine does ~1.7 s late: 30 restarts
--- would spend 50 s in it.  `finish` runs it once per node, at the end.)
function Node:stop()
  local pid = self:pid()
  if not pid then return end
  sh("kill -TERM " .. pid)
  for _ = 1, 400 do
    if not self:pid() then return end
    socket.sleep(0.025)
  end
  error("node " .. self.dir .. " did not stop")
end

function Node:finish()
  if self:pid() then sh("bash " .. ROOT .. "/scripts/nginx.sh stop " .. q(self.dir)) end
end

--- reload(): nginx -s reload (HUP): new workers start while the old ones finish
function Node:reload()
  local pid = assert(self:pid(), "no master pid")
  assert(sh("kill -HUP " .. pid))
end

function Node:request(port, method, path, body, headers)
  local h = { "Accept: application/json, application/problem+json" }
  -- a kept-alive connection would stay with an old worker across a reload
  if port == self.control then h[#h + 1] = "Connection: close" end
  for _, l in ipairs(headers or {}) do h[#h + 1] = l end
  if body then h[#h + 1] = "Content-Type: application/json" end
  local res, err = conn:request(method, "http://127.0.0.1:" .. port .. path, h, body and json.encode(body) or nil)
  if not res then return nil, err end
  local ok, v = pcall(json.decode, res.body)
  return res.status, ok and v or res.body, res.headers
end

--- get(path[, headers]) through the proxy -> status, body, headers
function Node:get(path, headers) return self:request(self.proxy, "GET", path, nil, headers) end

function Node:state(plugin)
  local status, s = self:request(self.control, "GET", "/kong/state?plugin=" .. (plugin or 1))
  if status ~= 200 then return nil end
  return s
end

function Node:run(body)
  local status, s = self:request(self.control, "POST", "/kong/run", body or {})
  return s, status
end

function Node:reconfigure() return self:request(self.control, "POST", "/kong/reconfigure", {}) end

--- wait(fn, seconds, what): polls fn every 50 ms until it returns a true value
function _M.wait(fn, seconds, what)
  local deadline = socket.gettime() + (seconds or 20)
  while true do
    local v = fn()
    if v then return v end
    if socket.gettime() > deadline then error("timed out waiting for " .. (what or "a condition"), 2) end
    socket.sleep(0.05)
  end
end

--- ready([plugin]) -> state once the plugin's manager has a token (status ready)
function Node:ready(plugin, since)
  return _M.wait(function()
    local s = self:state(plugin)
    return s and s.status and s.status.state == "ready" and s.secret_md5 and (not since or s.status.at >= since) and s
  end, 30, "node " .. self.dir .. " to be ready")
end

function Node:read_log() return (require "support.proc").read_file(self.dir .. "/error.log") or "" end

-- the common declarative configuration: a Service (the fake, https, tls_verify
-- unless told), a Route /konnect, the plugin on the Service.  `service` may add
-- ca_certificates = true: the Service then verifies with a CA Certificate entity
-- of its own (Kong does that without the plugin's help).
_M.CA_ID = "00000000-0000-4000-8000-0000000000ca"
function _M.config(overrides, service)
  local conf = {
    server_url = _M.FAKE_HTTPS, admin_token = "{vault://env/kong-test-konnect-admin}", user_id = fake.BOB,
    token_name = "kong-test", ttl_seconds = 86400, rotate_before = 3600, check_interval = 600,
  }
  for k, v in pairs(overrides or {}) do conf[k] = v end
  local svc = { name = "konnect", protocol = "https", host = "localhost", port = _M.FAKE_PORT, tls_verify = true }
  for k, v in pairs(service or {}) do svc[k] = v end
  if svc.tls_verify == false then svc.tls_verify = nil end
  local cas = {}
  if svc.ca_certificates then
    svc.ca_certificates = { _M.CA_ID }
    cas[1] = { id = _M.CA_ID, cert_file = fake.ca }
  end
  return {
    ca_certificates = cas,
    services = { svc },
    routes = { { name = "konnect", service = "konnect", paths = { "/konnect" } } },
    plugins = { { name = _M.NAME, service = "konnect", config = conf } },
  }
end

--- the user's tokens (bob: the plugin's user in every kong spec)
function _M.tokens(prefix)
  local out = {}
  for _, t in ipairs(assert(fake.client { token = fake.BOB_TOKEN }:list(fake.BOB)).data) do
    if not prefix or t.name:sub(1, #prefix) == prefix then out[#out + 1] = t end
  end
  return out
end

return _M
