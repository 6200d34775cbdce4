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

local cfg = bu.config(arg[1] or "get")
local base, ca, token = cfg.base, cfg.ca, cfg.token
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
  return bu.decoded(status, text)
end

bu.rest(cfg, "luahttp_bench", "lua-http (LuaJIT)", request, { http_version = "new connection per request" })
