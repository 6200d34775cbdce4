-- Test support: talk to the fake Konnect server started by scripts/test.sh
-- (or by hand: eval "$(fake_konnect/ctl start)").  Control calls go through
-- konnect.core directly, over real sockets like everything else.
local core = require "konnect.core"
local json = require "konnect.json"
local pats = require "konnect.pats"

local M = {}

local function env(name)
  local v = os.getenv(name)
  if not v or v == "" then
    error(name .. " is not set: run `make test`, or `eval \"$(fake_konnect/ctl start)\"` first", 0)
  end
  return v
end

M.http = env("FAKE_KONNECT_HTTP")
M.https = env("FAKE_KONNECT_HTTPS")
M.ca = env("FAKE_KONNECT_CA")
M.https_localhost = M.https:gsub("127%.0%.0%.1", "localhost")

-- the seeded ids and credentials: one source, shared with the fake server
do
  -- found from this file's place, whatever the working directory and LUA_PATH
  local here = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "spec/support"
  for k, v in pairs(dofile(here .. "/../../fake_konnect/fixtures.lua")) do M[k] = v end
end

local conn = assert(core.new { timeout = 10, connect_timeout = 5 })

local function control(method, path, body)
  local headers = { "Content-Type: application/json", "Accept: application/json" }
  local res, err = conn:request(method, M.http .. path, headers, body and json.encode(body) or nil)
  if not res then error("fake control " .. path .. ": " .. tostring(err.message), 2) end
  if res.status >= 300 then error("fake control " .. path .. ": HTTP " .. res.status .. " " .. res.body, 2) end
  return res.body ~= "" and json.decode(res.body) or true
end

function M.reset() return control("POST", "/__fake/reset") end

--- fault{ method=, path=, count=, status=, … } (see fake_konnect/README.md)
function M.fault(f) return control("POST", "/__fake/faults", f) end

function M.latency(ms) return control("POST", "/__fake/latency", { ms = ms }) end

--- ratelimit(per_second[, headers]): at most that many API requests per
--- second, 429 + Retry-After beyond; headers = false leaves out the
--- RateLimit-* headers (0 turns it off).
function M.ratelimit(per_second, headers)
  return control("POST", "/__fake/ratelimit", { per_second = per_second, headers = headers })
end

function M.expire(token_id) return control("POST", "/__fake/expire", { token_id = token_id }) end

--- requests() -> { total =, routes = { ["GET /v3/…"] = n }, log = { … } }
function M.requests() return control("GET", "/__fake/requests") end

--- How many requests the server saw for "METHOD path".
function M.count(route)
  return M.requests().routes[route] or 0
end

--- A client for alice over plain HTTP (loopback), retries fast for tests.
function M.client(opts)
  local o = { token = M.ALICE_TOKEN, server_url = M.http,
              retries = { max_attempts = 3, initial = 0.01, max = 0.05, max_elapsed = 5 } }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.retries == "off" then o.retries = false end
  return assert(pats.new(o))
end

return M
