-- LuaSocket `socket.http` (LuaSec `ssl.https` for https://) + lua-cjson:
-- what a plain-Lua script does without this library.  socket.http opens a
-- new connection for every request (it sends "Connection: close"), and over
-- HTTPS every request pays a full TLS handshake: that is how it works.
--
--   lua5.4 bench/luasocket_bench.lua get|cycle      (environment as konnect_bench.lua)

local bu = require "benchutil"
local ltn12 = require "ltn12"
local cjson = require "cjson"


local cfg = bu.config(arg[1] or "get")
local workload, base, user, ids, n, warmup, ca, label =
  cfg.workload, cfg.base, cfg.user, cfg.ids, cfg.n, cfg.warmup, cfg.ca, cfg.label
local token = cfg.token or bu.die("BENCH_TOKEN is not set")
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
  if text == "" then return status, nil end
  return status, cjson.decode(text)
end

local path_tokens = "/v3/users/" .. user .. "/access-tokens"

local function one_get()
  local status, v = request("GET", path_tokens .. "/" .. ids[1])
  if status ~= 200 or type(v) ~= "table" or v.id ~= ids[1] then bu.die("luasocket_bench: bad get " .. status) end
end

local create_body = cjson.encode({ name = "bench-cycle", ttl_seconds = 86400 })
local function one_cycle()
  local status, v = request("POST", path_tokens, create_body)
  if status ~= 201 or type(v) ~= "table" then bu.die("luasocket_bench: bad create " .. status) end
  local status2, r = request("PATCH", path_tokens .. "/" .. v.id .. "/revoke")
  if status2 ~= 200 or r.state ~= "REVOKED" then bu.die("luasocket_bench: bad revoke " .. status2) end
  local status3 = request("DELETE", path_tokens .. "/" .. v.id)
  if status3 ~= 204 then bu.die("luasocket_bench: bad delete " .. status3) end
end

local fn = workload == "get" and one_get or workload == "cycle" and one_cycle
  or bu.die("luasocket_bench: unknown workload " .. workload)
local times, total, cpu = bu.timed(fn, n, warmup)
bu.emit(bu.summarize("LuaSocket+cjson", label, times, total,
  { cpu_s = cpu, requests_per_call = workload == "cycle" and 3 or 1,
    http_version = "1.1 (new connection per request)" }))
