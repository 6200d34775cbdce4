-- Debian's lua-http (daurnimator's http, on cqueues; Debian builds its C
-- dependencies for 5.1, so it runs here on LuaJIT) + lua-cjson, through its
-- documented high-level API, http.request: new_from_uri, headers, go,
-- get_body_as_string.  That API opens a new connection for every request
-- (lua-http 0.4 keeps no connection pool); over HTTPS it negotiates HTTP/2 by
-- ALPN and pays a TLS handshake per request.
--
--   luajit bench/luahttp_bench.lua get|cycle      (environment as konnect_bench.lua)

local bu = require "benchutil"
local http_request = require "http.request"
local http_tls = require "http.tls"
local openssl_ctx = require "openssl.ssl.context"
local cjson = require "cjson"

local cfg = bu.config(arg[1] or "get")
local workload, base, user, ids, n, warmup, ca, label =
  cfg.workload, cfg.base, cfg.user, cfg.ids, cfg.n, cfg.warmup, cfg.ca, cfg.label
local token = cfg.token or bu.die("BENCH_TOKEN is not set")
local auth = "Bearer " .. token
local TIMEOUT = 10

local ctx
if base:match("^https://") then
  ctx = http_tls.new_client_context()
  ctx:setVerify(openssl_ctx.VERIFY_PEER)
  if ca then ctx:getStore():add(ca) end
end

-- request(method, path, body) -> status, decoded JSON (or nil)
local function request(method, path, body)
  local req = http_request.new_from_uri(base .. path)
  if ctx then req.ctx = ctx end
  req.headers:upsert(":method", method)
  req.headers:upsert("authorization", auth)
  req.headers:upsert("accept", "application/json")
  if body then
    req.headers:upsert("content-type", "application/json")
    req:set_body(body)
  end
  local headers, stream = req:go(TIMEOUT)
  if not headers then bu.die("luahttp_bench: " .. method .. " " .. path .. ": " .. tostring(stream)) end
  local text, err = stream:get_body_as_string(TIMEOUT)
  if not text then bu.die("luahttp_bench: body: " .. tostring(err)) end
  stream:shutdown()
  local status = tonumber(headers:get(":status"))
  if text == "" then return status, nil end
  return status, cjson.decode(text)
end

local path_tokens = "/v3/users/" .. user .. "/access-tokens"

local function one_get()
  local status, v = request("GET", path_tokens .. "/" .. ids[1])
  if status ~= 200 or type(v) ~= "table" or v.id ~= ids[1] then bu.die("luahttp_bench: bad get " .. status) end
end

local create_body = cjson.encode({ name = "bench-cycle", ttl_seconds = 86400 })
local function one_cycle()
  local status, v = request("POST", path_tokens, create_body)
  if status ~= 201 or type(v) ~= "table" then bu.die("luahttp_bench: bad create " .. status) end
  local status2, r = request("PATCH", path_tokens .. "/" .. v.id .. "/revoke")
  if status2 ~= 200 or r.state ~= "REVOKED" then bu.die("luahttp_bench: bad revoke " .. status2) end
  local status3 = request("DELETE", path_tokens .. "/" .. v.id)
  if status3 ~= 204 then bu.die("luahttp_bench: bad delete " .. status3) end
end

local fn = workload == "get" and one_get or workload == "cycle" and one_cycle
  or bu.die("luahttp_bench: unknown workload " .. workload)
local times, total, cpu = bu.timed(fn, n, warmup)
bu.emit(bu.summarize("lua-http (LuaJIT)", label, times, total,
  { cpu_s = cpu, requests_per_call = workload == "cycle" and 3 or 1,
    http_version = "new connection per request" }))
