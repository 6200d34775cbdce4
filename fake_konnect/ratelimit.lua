-- fake_konnect.ratelimit: POST /__fake/ratelimit.  At most `limit` API
-- requests per fixed window of `window` seconds, shared by every caller;
-- beyond it a 429 problem+json, and the request is NOT processed.
--
-- Windows are aligned on the clock (start = floor(now / window) * window), as
-- Kong's rate-limiting plugin aligns its second/minute/hour periods.  The 429
-- carries `Retry-After` (whole seconds to the next window, at least 1) unless
-- `retry_after` is false: Konnect only says a 429 "might" carry it.  With
-- `headers` (default true) every API response also carries what Kong's
-- rate-limiting plugin sends (Kong/docs.konghq.com,
-- app/_hub/kong-inc/rate-limiting/_index.md): RateLimit-Limit,
-- RateLimit-Remaining, RateLimit-Reset and, when the window is one of Kong's
-- periods (1, 60, 3600, 86400 s), X-RateLimit-Limit-<Period> and
-- X-RateLimit-Remaining-<Period>.  Konnect documents none of them: `headers:
-- false` is the documented world.
--
-- Every window that saw a request is kept (the last MAX_WINDOWS) with how
-- many requests it saw and how many got 429, for GET /__fake/ratelimit: a test
-- asserts "at most one 429 per window" from it.

local json = require "fake_konnect.json"
local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"
local util = require "fake_konnect.util"

local floor, ceil = math.floor, math.ceil

local _M = {}

_M.MAX_WINDOWS = 1000

local PERIODS = { [1] = "Second", [60] = "Minute", [3600] = "Hour", [86400] = "Day" }

--- configure(obj) -> setting | nil, message
-- { per_second = N } | { per_minute = N } | { limit = N, window = S },
-- plus headers = bool (default true), retry_after = bool (default true).
-- A limit of 0 turns it off.
function _M.configure(obj)
  local limit, window
  local forms = 0
  for k, v in pairs(obj) do
    if k == "per_second" or k == "per_minute" or k == "limit" then
      if type(v) ~= "number" or v < 0 or v ~= floor(v) then
        return nil, k .. " must be an integer >= 0 (0 turns rate limiting off)"
      end
      forms = forms + 1
      limit = v
      window = k == "per_minute" and 60 or 1
    elseif k == "window" then
      if type(v) ~= "number" or v < 1 or v ~= floor(v) then
        return nil, "window must be a whole number of seconds >= 1"
      end
    elseif k == "headers" or k == "retry_after" then
      if type(v) ~= "boolean" then return nil, k .. " must be a boolean" end
    else
      return nil, "unknown property: " .. tostring(k)
    end
  end
  if forms ~= 1 then return nil, "give exactly one of per_second, per_minute or limit (with window)" end
  if obj.window ~= nil then
    if obj.limit == nil then return nil, "window goes with limit" end
    window = obj.window
  end
  state.ratelimit_windows = {}
  if limit == 0 then
    state.ratelimit = nil
  else
    state.ratelimit = { limit = limit, window = window, headers = obj.headers ~= false,
                        retry_after = obj.retry_after ~= false, current = nil }
  end
  return _M.setting()
end

function _M.setting()
  local rl = state.ratelimit
  if not rl then
    return { limit = 0, window = 1, per_second = 0, headers = false, retry_after = false }
  end
  return { limit = rl.limit, window = rl.window, per_second = rl.window == 1 and rl.limit or nil,
           per_minute = rl.window == 60 and rl.limit or nil, headers = rl.headers, retry_after = rl.retry_after }
end

local function window_view(w)
  return { start = util.fmt_time(w.start * 1000), start_epoch = w.start, requests = w.requests,
           limited = w.limited }
end

--- report() -> the setting plus every window seen (oldest first), the total of
-- 429s and the most in one window
function _M.report()
  local out = _M.setting()
  local windows = json.array()
  local limited, most = 0, 0
  local all = state.ratelimit_windows
  local n = #all
  for i = 1, n do windows[i] = window_view(all[i]) end
  local cur = state.ratelimit and state.ratelimit.current
  if cur then windows[#windows + 1] = window_view(cur) end
  for _, w in ipairs(windows) do
    limited = limited + w.limited
    if w.limited > most then most = w.limited end
  end
  out.windows = windows
  out.limited_total = limited
  out.max_limited_per_window = most
  return out
end

--- check() -> nil | 429 response, extra headers for every response
function _M.check()
  local rl = state.ratelimit
  if not rl then return nil end
  ngx.update_time()
  local now = ngx.now()
  local start = floor(now / rl.window) * rl.window
  local cur = rl.current
  if not cur or cur.start ~= start then
    if cur then
      local all = state.ratelimit_windows
      all[#all + 1] = cur
      if #all > _M.MAX_WINDOWS then table.remove(all, 1) end
    end
    cur = { start = start, requests = 0, limited = 0 }
    rl.current = cur
  end
  cur.requests = cur.requests + 1
  local left = rl.limit - cur.requests
  local reset = math.max(1, ceil(start + rl.window - now))
  local extra = {}
  if rl.headers then
    local remaining = tostring(left < 0 and 0 or left)
    extra["RateLimit-Limit"] = tostring(rl.limit)
    extra["RateLimit-Remaining"] = remaining
    extra["RateLimit-Reset"] = tostring(reset)
    local period = PERIODS[rl.window]
    if period then
      extra["X-RateLimit-Limit-" .. period] = tostring(rl.limit)
      extra["X-RateLimit-Remaining-" .. period] = remaining
    end
  end
  if left < 0 then
    cur.limited = cur.limited + 1
    local per = rl.window == 1 and "per second" or rl.window == 60 and "per minute"
      or ("per " .. rl.window .. " seconds")
    local res = reply.problem(429, "API rate limit exceeded: at most " .. rl.limit .. " requests " .. per)
    if rl.retry_after then res.headers["Retry-After"] = tostring(reset) end
    for k, v in pairs(extra) do res.headers[k] = v end
    return res, extra
  end
  return nil, extra
end

return _M
