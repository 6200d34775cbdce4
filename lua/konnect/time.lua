-- konnect.time: the one place dates are turned into numbers.  Public API
-- (docs/API.md, "require "konnect.time""):
--   rfc3339(s)   -> epoch seconds (UTC) | nil, message  (offsets honoured)
--   http_date(s) -> epoch seconds | nil                  (IMF-fixdate, RFC 9110)
--   civil(y, m, d, h, mi, s) -> epoch seconds, whatever the local time zone
--   iso(epoch)   -> "YYYY-MM-DDThh:mm:ssZ"
--   relative(t[, now]) -> "in 7 days", "3 hours ago", … | nil, message
-- Pure arithmetic: never os.time with a table (which reads it as local time,
-- depends on TZ, and raises or returns nil before 1970 on some platforms).

local type, tonumber, floor, match = type, tonumber, math.floor, string.match

local _M = {}

local DAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

local function leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

--- civil(y, mo, d, h, mi, s) -> epoch seconds (proleptic Gregorian, UTC)
local function civil(y, mo, d, h, mi, s)
  if mo <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return (era * 146097 + doe - 719468) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0)
end
_M.civil = civil

local function valid(y, mo, d, h, mi, s)
  if mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s > 60 then return false end
  if d > DAYS[mo] or (mo == 2 and d == 29 and not leap(y)) then return false end
  return true
end

local RFC3339 = "^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$"

--- rfc3339(s) -> epoch seconds (fraction dropped) | nil, message.
-- The contract's date-time: a full date, a time and an offset (Z or ±hh:mm).
function _M.rfc3339(s)
  if type(s) ~= "string" then return nil, "not a date-time string" end
  local y, mo, d, h, mi, sec, frac, zone = match(s, RFC3339)
  if not y or frac == "." then
    return nil, "not an RFC 3339 date-time such as 2030-01-31T00:00:00Z"
  end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if not valid(y, mo, d, h, mi, sec) then return nil, "not a valid calendar date-time" end
  local offset
  if zone == "Z" or zone == "z" then
    offset = 0
  else
    local sign, oh, om = match(zone, "^([+-])(%d%d):(%d%d)$")
    if not sign then return nil, "an RFC 3339 date-time needs an offset (Z or +hh:mm)" end
    oh, om = tonumber(oh), tonumber(om)
    if oh > 23 or om > 59 then return nil, "invalid offset in date-time" end
    offset = (oh * 3600 + om * 60) * (sign == "-" and -1 or 1)
  end
  return civil(y, mo, d, h, mi, sec) - offset
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

--- http_date(s) -> epoch seconds | nil.  IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
-- (dates before 1970 give negative numbers; nothing raises).
function _M.http_date(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, h, mi, sec = match(s, "^%s*%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT%s*$")
  local m = MONTHS[mon]
  if not m then return nil end
  y, d, h, mi, sec = tonumber(y), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if not valid(y, m, d, h, mi, sec) then return nil end
  return civil(y, m, d, h, mi, sec)
end

--- iso(epoch) -> "YYYY-MM-DDThh:mm:ssZ" (UTC), for epochs from 0 to 9999-12-31.
function _M.iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

--- relative(t[, now]) -> "in 7 days", "35 hours ago", "in under a minute",
--- "just now" | nil, message.  t: an RFC 3339 string (as rfc3339 reads it)
--- or epoch seconds; now: epoch seconds, default os.time() (the current time,
--- which depends on no time zone).  The difference is rounded to the nearest
--- unit: minutes under an hour, hours under two days, days under two years,
--- then years (365 days).  One second ahead counts as now: os.time() reads a
--- coarse clock (time(2)) that can trail a stamp the server made this second.
--- The CLI's "EXPIRES" and examples/list.lua both print this.
function _M.relative(t, now)
  if type(t) ~= "number" then
    local err
    t, err = _M.rfc3339(t)
    if not t then return nil, err end
  end
  local d = t - (now or os.time())
  local future = d > 1
  d = d < 0 and -d or d
  if d < 60 then return future and "in under a minute" or "just now" end
  local n, unit
  if d < 3600 then
    n, unit = floor(d / 60 + 0.5), "minute"
  elseif d < 2 * 86400 then
    n, unit = floor(d / 3600 + 0.5), "hour"
  elseif d < 2 * 365 * 86400 then
    n, unit = floor(d / 86400 + 0.5), "day"
  else
    n, unit = floor(d / (365 * 86400) + 0.5), "year"
  end
  local phrase = n .. " " .. unit .. (n == 1 and "" or "s")
  return future and ("in " .. phrase) or (phrase .. " ago")
end

return _M
