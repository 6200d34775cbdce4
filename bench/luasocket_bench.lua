-- LuaSocket `socket.http` (LuaSec `ssl.https` for https://) + lua-cjson:
-- what a plain-Lua script does without this library.  socket.http opens a
-- new connection for every request (it sends "Connection: close"), and over
-- HTTPS every request pays a full TLS handshake: that is how it works.
--
--   lua5.4 bench/luasocket_bench.lua get|cycle      (environment as konnect_bench.lua)

local bu = require "benchutil"
local ltn12 = require "ltn12"

local cfg = bu.config(arg[1] or "get")
local base, ca, token = cfg.base, cfg.ca, cfg.token
local tls = base:match("^https://") ~= nil
local http = tls and require("ssl.https") or require("socket.http")
local auth = "Bearer " .. token

-- request(method, path, body) -> status, decoded JSON (or nil)
local function request(method, path, body)
  local chunks = {}
  local headers = { ["Authorization"] = auth, ["Accept"] = "application/json" }
  if body then
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = tostring(#body)
  end
  local req = {
    url = base .. path, method = method, headers = headers, sink = ltn12.sink.table(chunks),
    source = body and ltn12.source.string(body) or nil,
  }
  if tls then
    req.cafile, req.verify, req.protocol, req.mode = ca, "peer", "any", "client"
    req.options = { "all", "no_sslv2", "no_sslv3", "no_tlsv1" }
  end
  local ok, status = http.request(req)
  if not ok then bu.die("luasocket_bench: " .. method .. " " .. path .. ": " .. tostring(status)) end
  local text = table.concat(chunks)
  return bu.decoded(status, text)
end

bu.rest(cfg, "luasocket_bench", "LuaSocket+cjson", request, { http_version = "1.1 (new connection per request)" })
