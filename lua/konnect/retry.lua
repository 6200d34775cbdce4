-- konnect.retry: which outcomes are retried, and how long to wait.
--
-- Idempotent calls (list, get, update, delete, revoke, me) retry on 429, 500,
-- 502, 503, 504 and on transport failures.  A create (POST) retries only on 429
-- or when the request surely never left, so a retry can never mint a second
-- secret.  400, 401, 403, 404 and 409 are never retried.

local type, pairs, tonumber, tostring, floor = type, pairs, tonumber, tostring, math.floor
local match, os_time, os_clock = string.match, os.time, os.clock

local limits = require "konnect.limits"

local _M = {}

local DEFAULTS = limits.RETRIES
_M.DEFAULTS = DEFAULTS

local RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
-- transport failures worth another try (a certificate problem or an oversize
-- body will not get better)
local RETRY_TRANSPORT = { timeout = true, connect = true, network = true }

--- policy(opts[, base]) -> normalised policy | nil, message.  `false` turns
--- retries off; keys a table leaves out come from `base` (a normalised policy:
--- the client's, for a call's retries option), else from the defaults.
function _M.policy(opts, base)
  base = base or DEFAULTS
  if opts == false then
    return { max_attempts = 1, initial = 0, max = 0, max_elapsed = base.max_elapsed, off = true }
  end
  if base.off then base = DEFAULTS end -- retries turned off lend no zeros to a call's own policy
  if opts == nil or opts == true then
    if base ~= DEFAULTS then return base end
    opts = {}
  end
  if type(opts) ~= "table" then return nil, "retries must be a table, true or false" end
  local p = {}
  for k, default in pairs(DEFAULTS) do
    local v = opts[k]
    if v == nil then v = base[k] end
    if v == nil then v = default end
    if type(v) ~= "number" or v ~= v or v < 0 or v == 1 / 0 then
      return nil, "retries." .. k .. " must be a non-negative number"
    end
    p[k] = v
  end
  for k in pairs(opts) do
    if DEFAULTS[k] == nil then return nil, "retries: unknown option " .. tostring(k) end
  end
  p.max_attempts = floor(p.max_attempts)
  if p.max_attempts < 1 then return nil, "retries.max_attempts must be at least 1" end
  return p
end

--- retryable(idempotent, res, terr) -> boolean
function _M.retryable(idempotent, res, terr)
  if res then
    return RETRY_STATUS[res.status] == true and (idempotent or res.status == 429)
  end
  if idempotent then return RETRY_TRANSPORT[terr.kind] == true end
  -- create: only when nothing can have reached the server
  return terr.sent == false and (terr.kind == "connect" or terr.kind == "timeout")
end

--- retry_after(value, now) -> seconds | nil.  Delta-seconds or an HTTP-date
-- (konnect.time.http_date: any year, before 1970 included, never raises).
function _M.retry_after(value, now)
  if type(value) ~= "string" then return nil end
  local n = tonumber(match(value, "^%s*(%d+%.?%d*)%s*$"))
  if n then return n end
  local at = require("konnect.time").http_date(value)
  if at then
    local wait = at - (now or os_time())
    return wait > 0 and wait or 0
  end
  return nil
end

-- A private generator for the jitter: math.random is the host's (and is not
-- seeded at all on Lua 5.1 and LuaJIT, so every process would wait the same
-- "random" delays and retry in step).  Seeded from the clock and an address.
local seed = (os_time() * 1000 + floor(os_clock() * 1e6)
  + (tonumber(match(tostring({}), "0x(%x+)") or "0", 16) or 0)) % 2147483647
if seed == 0 then seed = 1 end
local function random() -- Park-Miller minimal standard, in [0, 1)
  seed = seed * 16807 % 2147483647
  return (seed - 1) / 2147483646
end
_M.random = random

--- delay(policy, attempt, retry_after) -> seconds to wait before attempt+1.
-- Full jitter: uniform in [0, min(max, initial * 2^(attempt-1))]; a server's
-- Retry-After wins, clamped to the policy's maximum.
function _M.delay(policy, attempt, retry_after)
  if retry_after then
    return retry_after < policy.max and retry_after or policy.max
  end
  local cap = policy.initial * 2 ^ (attempt - 1)
  if cap > policy.max then cap = policy.max end
  return cap * random()
end

return _M
