-- Debian's lua-curl (the `curl` module: easy_init/setopt/perform, built for
-- Lua 5.1/5.2, so it runs here on LuaJIT) + lua-cjson: what a Lua user who
-- picks a plain libcurl binding writes.  One easy handle reused for every
-- request (keep-alive, TLS session kept), every body decoded with cjson.
--
--   luajit bench/luacurl_bench.lua get|cycle      (environment as konnect_bench.lua)

local bu = require "benchutil"
local curl = require "curl"
local cjson = require "cjson"

local cfg = bu.config(arg[1] or "get")
local workload, base, user, ids, n, warmup, ca, label =
  cfg.workload, cfg.base, cfg.user, cfg.ids, cfg.n, cfg.warmup, cfg.ca, cfg.label
local token = cfg.token or bu.die("BENCH_TOKEN is not set")

local easy = curl.easy_init()
local chunks, nchunks = {}, 0
local headers = { "Authorization: Bearer " .. token, "Accept: application/json" }
local body_headers = { headers[1], headers[2], "Content-Type: application/json" }
easy:setopt(curl.OPT_WRITEFUNCTION, function(s, len)
  nchunks = nchunks + 1
  chunks[nchunks] = s
  return len
end)
-- this binding has no getinfo: the status comes from the status line
local status_line
easy:setopt(curl.OPT_HEADERFUNCTION, function(s, len)
  local code = s:match("^HTTP/[%d.]+ (%d%d%d)")
  if code then status_line = tonumber(code) end
  return len
end)
easy:setopt(curl.OPT_NOSIGNAL, 1)
easy:setopt(curl.OPT_USERAGENT, "lua-curl-bench")
if ca and base:match("^https://") then easy:setopt(curl.OPT_CAINFO, ca) end

-- request(method, path, body) -> status, decoded JSON (or nil)
local function request(method, path, body)
  nchunks, status_line = 0, nil
  easy:setopt(curl.OPT_URL, base .. path)
  if body then
    easy:setopt(curl.OPT_HTTPHEADER, body_headers)
    easy:setopt(curl.OPT_CUSTOMREQUEST, method)
    easy:setopt(curl.OPT_POSTFIELDS, body)
  else
    easy:setopt(curl.OPT_HTTPHEADER, headers)
    easy:setopt(curl.OPT_HTTPGET, 1)
    easy:setopt(curl.OPT_CUSTOMREQUEST, method)
  end
  local ok, err = easy:perform()
  if not ok then bu.die("luacurl_bench: " .. method .. " " .. path .. ": " .. tostring(err)) end
  local status = status_line or 0
  local text = table.concat(chunks, "", 1, nchunks)
  if text == "" then return status, nil end
  return status, cjson.decode(text)
end

local path_tokens = "/v3/users/" .. user .. "/access-tokens"

local function one_get()
  local status, v = request("GET", path_tokens .. "/" .. ids[1])
  if status ~= 200 or type(v) ~= "table" or v.id ~= ids[1] then bu.die("luacurl_bench: bad get " .. status) end
end

local create_body = cjson.encode({ name = "bench-cycle", ttl_seconds = 86400 })
local function one_cycle()
  local status, v = request("POST", path_tokens, create_body)
  if status ~= 201 or type(v) ~= "table" then bu.die("luacurl_bench: bad create " .. status) end
  local status2, r = request("PATCH", path_tokens .. "/" .. v.id .. "/revoke")
  if status2 ~= 200 or r.state ~= "REVOKED" then bu.die("luacurl_bench: bad revoke " .. status2) end
  local status3 = request("DELETE", path_tokens .. "/" .. v.id)
  if status3 ~= 204 then bu.die("luacurl_bench: bad delete " .. status3) end
end

local fn = workload == "get" and one_get or workload == "cycle" and one_cycle
  or bu.die("luacurl_bench: unknown workload " .. workload)
local times, total, cpu = bu.timed(fn, n, warmup)
easy = nil -- luacurl frees the handle in __gc
bu.emit(bu.summarize("lua-curl (LuaJIT)", label, times, total,
  { cpu_s = cpu, requests_per_call = workload == "cycle" and 3 or 1 }))
