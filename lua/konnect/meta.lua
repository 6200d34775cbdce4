-- konnect.meta: what every call returns third on success (`value, nil, meta`)
-- and what an error carries in the same fields.
--
--   meta = { status, headers, request_id, attempts, elapsed, http_version,
--            operation, rate_limit = { limit, remaining, reset, window } | nil }
--
-- `headers` (a redacted copy, lower-case names) and `request_id`
-- (X-Kong-Request-Id, one bounded, redacted line) are made on first access:
-- redacting every header costs more than the rest of a GET's Lua work, and
-- most callers never look.  (So `pairs(meta)` lists them only once read.)

local redact = require "konnect.redact"
local limits = require "konnect.limits"

local type, ipairs, tonumber, setmetatable, rawset, match, sub, gsub, os_time =
  type, ipairs, tonumber, setmetatable, rawset, string.match, string.sub, string.gsub, os.time

local REQUEST_ID_MAX = limits.REQUEST_ID_MAX

local _M = {}

-- a number at the start of a header value: "10", "10, 10;w=1", " 2.5"
local function num(v)
  if type(v) ~= "string" then return nil end
  return tonumber(match(v, "^%s*(%d+%.?%d*)"))
end

-- A reset given as an epoch time (X-RateLimit-Reset at some APIs) becomes
-- seconds from now, like the others.
local function delta(reset, now)
  if reset and reset > 1e9 then
    reset = reset - (now or os_time())
    if reset < 0 then reset = 0 end
  end
  return reset
end

local WINDOWS = { "second", "minute", "hour", "day", "month", "year" }
local LEFT_KEYS, LIMIT_KEYS = {}, {}
for i, w in ipairs(WINDOWS) do
  LEFT_KEYS[i], LIMIT_KEYS[i] = "x-ratelimit-remaining-" .. w, "x-ratelimit-limit-" .. w
end

--- rate_limit(headers[, now]) -> { limit, remaining, reset, window } | nil.
-- Reads, in this order: RateLimit-Limit/-Remaining/-Reset; the structured
-- RateLimit header (limit=, remaining=, reset= or ;r= ;t= with
-- RateLimit-Policy ;q=); X-RateLimit-Limit/-Remaining/-Reset; Kong's
-- X-RateLimit-Remaining-<window> (the window with the least left).  Numbers
-- only; reset is in seconds from now.
function _M.rate_limit(h, now)
  local limit, remaining, reset = h["ratelimit-limit"], h["ratelimit-remaining"], h["ratelimit-reset"]
  if limit or remaining or reset then
    return { limit = num(limit), remaining = num(remaining), reset = delta(num(reset), now) }
  end
  local combined = h["ratelimit"]
  if type(combined) == "string" then
    local policy = h["ratelimit-policy"]
    local rl = {
      limit = tonumber(match(combined, "limit=(%d+)")) or
        (type(policy) == "string" and tonumber(match(policy, ";%s*q=(%d+)")) or nil),
      remaining = tonumber(match(combined, "remaining=(%d+)") or match(combined, ";%s*r=(%d+)")),
      reset = tonumber(match(combined, "reset=(%d+)") or match(combined, ";%s*t=(%d+)")),
    }
    if rl.limit or rl.remaining or rl.reset then return rl end
  end
  limit, remaining, reset = h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-reset"]
  if limit or remaining or reset then
    return { limit = num(limit), remaining = num(remaining), reset = delta(num(reset), now) }
  end
  local best
  for i = 1, #WINDOWS do
    local left = h[LEFT_KEYS[i]]
    if left then left = num(left) end
    if left and (not best or left < best.remaining) then
      best = { limit = num(h[LIMIT_KEYS[i]]), remaining = left, window = WINDOWS[i] }
    end
  end
  return best
end

--- request_id(value, secret) -> one bounded, redacted line | nil
local function request_id(v, secret)
  if type(v) ~= "string" then return nil end
  v = gsub(gsub(v, "%c+", " "), "^%s+", "")
  v = gsub(v, "%s+$", "")
  if v == "" then return nil end
  if #v > REQUEST_ID_MAX then v = sub(v, 1, REQUEST_ID_MAX) end
  return redact.string(v, secret)
end
_M.request_id = request_id

-- The response behind each meta not read yet (weak keys; with the C core
-- its headers are not even built yet), the secrets to redact them for in
-- res.meta_secrets.  Not a field of the meta: a caller who dumps the meta
-- (pairs, a JSON encoder) never meets the raw response, whose body may
-- carry a new token.
local raw = setmetatable({}, { __mode = "k" })

local meta_mt = { __name = "konnect.Meta" }
meta_mt.__index = function(m, k)
  if k ~= "headers" and k ~= "request_id" then return nil end
  local res = raw[m]
  if not res then return nil end
  raw[m] = nil
  local h, secret = res.headers, res.meta_secrets
  rawset(m, "headers", redact.headers(h, secret))
  rawset(m, "request_id", request_id(h["x-kong-request-id"], secret))
  return m[k]
end

--- new(call, res, secrets, elapsed, rate_limit) -> the meta of a call's
--- last response.  `call` is konnect.http's call state (op, attempts).
function _M.new(call, res, secrets, elapsed, rl)
  res.meta_secrets = secrets
  local m = setmetatable({
    status = res.status, attempts = call.attempts, elapsed = elapsed, http_version = res.http_version,
    operation = call.op.id, rate_limit = rl,
  }, meta_mt)
  raw[m] = res
  return m
end

return _M
