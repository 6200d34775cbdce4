-- The floor of our own C core: konnect.core's connection + lua-cjson with the
-- least glue a Lua caller can write (no konnect.pats layer: no argument
-- checks, retries, redaction, null stripping, meta or error objects).  Next
-- to "raw libcurl" (bench/baselines/raw_curl.c) it shows what the C core
-- costs; next to "konnect.pats" what the Lua layer costs.
--
--   lua5.4|luajit bench/baselines/core_floor.lua get|cycle   (environment as konnect_bench.lua)

local bu = require "benchutil"
local core = require "konnect.core"

local cfg = bu.config(arg[1] or "get")
local base = cfg.base
local jit = rawget(_G, "jit")

local conn = assert(core.new { ca_file = cfg.ca })
local auth = "Authorization: Bearer " .. cfg.token
local get_headers = assert(core.headers { auth, "Accept: application/json" })
local body_headers = assert(core.headers { auth, "Accept: application/json", "Content-Type: application/json" })

-- request(method, path, body) -> status, decoded JSON (or nil)
local function request(method, path, body)
  local res, err = conn:request(method, base .. path, body and body_headers or get_headers, body, method == "POST")
  if not res then bu.die("core_floor: " .. method .. " " .. path .. ": " .. tostring(err and err.message)) end
  return bu.decoded(res.status, res.body)
end

bu.rest(cfg, "core_floor", "konnect.core+cjson " .. (jit and "LuaJIT" or _VERSION:gsub("Lua ", "")), request)
conn:close()
