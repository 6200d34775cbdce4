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

--- reset([org]): back to the seed; org = { users =, system_accounts =, seed = }
--- (counts include the fixture users and accounts) rebuilds that organisation
--- instead of the one the fake was started with (see fake_konnect/README.md)
function M.reset(org) return control("POST", "/__fake/reset", org) end

--- state() -> { now, org, users = { {…, admin, tokens = {…}} }, system_accounts = { … } }:
--- every user with their PATs and every system account with its tokens, as
--- the API shows them (no secrets), straight from the server
function M.state() return control("GET", "/__fake/state") end

--- fault{ method=, path=, count=, status=, … } (see fake_konnect/README.md)
function M.fault(f) return control("POST", "/__fake/faults", f) end

function M.latency(ms) return control("POST", "/__fake/latency", { ms = ms }) end

--- ratelimit(per_second[, headers]): at most that many API requests per
--- second, 429 + Retry-After beyond; headers = false leaves out the
--- RateLimit-* headers (0 turns it off).
--- ratelimit{ limit =, window = seconds, retry_after = bool, headers = bool }
--- (or per_minute =): the same per window of any length, a 429 with or
--- without Retry-After.
function M.ratelimit(per_second, headers)
  if type(per_second) == "table" then return control("POST", "/__fake/ratelimit", per_second) end
  return control("POST", "/__fake/ratelimit", { per_second = per_second, headers = headers })
end

--- ratelimit_report() -> { limit, window, …, windows = { {start, start_epoch,
--- requests, limited} }, limited_total, max_limited_per_window }
function M.ratelimit_report() return control("GET", "/__fake/ratelimit") end

--- paging{ default_size =, max_size =, over_max = "clamp"|"reject",
--- total = "objects"|"pages" }: the paged lists' choices the contract leaves open
function M.paging(cfg) return control("POST", "/__fake/paging", cfg) end

--- expire(token_id): a PAT or a system-account token expires now
function M.expire(token_id) return control("POST", "/__fake/expire", { token_id = token_id }) end

--- requests() -> { total =, routes = { ["GET /v3/…"] = n }, statuses = { ["429"] = n }, log = { … } }
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
