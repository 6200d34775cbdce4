-- Debian's lua-curl (the `curl` module: easy_init/setopt/perform, built for
-- Lua 5.1/5.2, so it runs here on LuaJIT) + lua-cjson: what a Lua user who
-- picks a plain libcurl binding writes.  One easy handle reused for every
-- request (keep-alive, TLS session kept), every body decoded with cjson.
--
--   luajit bench/luacurl_bench.lua get|cycle      (environment as konnect_bench.lua)

local bu = require "benchutil"
local curl = require "curl"

local cfg = bu.config(arg[1] or "get")
local base, ca, token = cfg.base, cfg.ca, cfg.token

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
  local code, err = easy:perform() -- this binding returns the CURLcode (0: done) and libcurl's message
  if code ~= 0 then bu.die("luacurl_bench: " .. method .. " " .. path .. ": " .. tostring(err or code)) end
  local status = status_line or 0
  local text = table.concat(chunks, "", 1, nchunks)
  return bu.decoded(status, text)
end

bu.rest(cfg, "luacurl_bench", "lua-curl (LuaJIT)", request)
easy = nil -- luacurl frees the handle in __gc
