-- fake_konnect.util: time, ids, randomness, the PAT name rule.

local floor = math.floor

local _M = {}

function _M.seed()
  local seed = floor(ngx.now() * 1000) + ngx.worker.pid() * 7919
  local f = io.open("/dev/urandom", "rb")
  if f then
    local b = f:read(4)
    f:close()
    if b and #b == 4 then
      local b1, b2, b3, b4 = b:byte(1, 4)
      seed = seed + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    end
  end
  math.randomseed(seed % 2147483647)
end

--- now_ms() -> integer milliseconds since the epoch (fresh, not the cached time)
function _M.now_ms()
  ngx.update_time()
  return floor(ngx.now() * 1000 + 0.5)
end

--- fmt_time(ms) -> "2026-11-27T21:00:00.000Z"
function _M.fmt_time(ms)
  local sec = floor(ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", sec) .. string.format(".%03dZ", ms - sec * 1000)
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function is_leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

local mdays = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

--- parse_time(s) -> ms since the epoch | nil   (RFC 3339 date-time)
function _M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, frac, zone =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if frac == "." then return nil end
  if mo < 1 or mo > 12 or d < 1 then return nil end
  local dim = mdays[mo]
  if mo == 2 and is_leap(y) then dim = 29 end
  if d > dim or h > 23 or mi > 59 or sec > 60 then return nil end
  local offset
  if zone == "Z" or zone == "z" then
    offset = 0
  else
    local sign, oh, om = zone:match("^([+-])(%d%d):(%d%d)$")
    if not sign then return nil end
    oh, om = tonumber(oh), tonumber(om)
    if oh > 23 or om > 59 then return nil end
    offset = (oh * 60 + om) * 60
    if sign == "-" then offset = -offset end
  end
  local ms = 0
  if #frac > 1 then
    ms = floor(tonumber("0" .. frac) * 1000 + 0.5)
  end
  local epoch = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec - offset
  return epoch * 1000 + ms
end

local hex = "0123456789abcdef"
local alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

local function pick(alphabet, n)
  local out = {}
  for i = 1, n do
    local k = math.random(1, #alphabet)
    out[i] = alphabet:sub(k, k)
  end
  return table.concat(out)
end

function _M.random_hex(n) return pick(hex, n) end
function _M.random_alnum(n) return pick(alnum, n) end
function _M.random_digits(n) return pick("0123456789", n) end

--- uuid4() -> a random version 4 UUID, lower case
function _M.uuid4()
  local v = math.random(1, 4)
  local variant = ("89ab"):sub(v, v)
  return pick(hex, 8) .. "-" .. pick(hex, 4) .. "-4" .. pick(hex, 3) .. "-" ..
    variant .. pick(hex, 3) .. "-" .. pick(hex, 12)
end

--- is_uuid(s) -> boolean (any version, either case)
function _M.is_uuid(s)
  return type(s) == "string" and
    s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

--- utf8_chars(s) -> array of the characters of s (a lead byte plus its
-- continuation bytes; invalid sequences are split byte-wise, which is enough
-- for a length count)
function _M.utf8_chars(s)
  local chars = {}
  for ch in s:gmatch("[%z\1-\127\192-\255][\128-\191]*") do
    chars[#chars + 1] = ch
  end
  -- stray continuation bytes at the start
  local lead = s:match("^[\128-\191]+")
  if lead then
    for i = 1, #lead do table.insert(chars, i, lead:sub(i, i)) end
  end
  return chars
end

-- \p{L}\p{N} approximated as ASCII letters and digits plus any non-ASCII character.
local function is_letter_or_digit(ch)
  return ch:match("^[%w]$") ~= nil or ch:byte(1) >= 128
end

local function is_middle(ch)
  return is_letter_or_digit(ch) or ch:match("^[ _%-%.']$") ~= nil
end

--- name_matches(s) -> boolean: ^[\p{L}\p{N}][\p{L}\p{N} _\-\.']*[\p{L}\p{N}]$
function _M.name_matches(s)
  local chars = _M.utf8_chars(s)
  local n = #chars
  if n < 2 then return false end
  if not is_letter_or_digit(chars[1]) or not is_letter_or_digit(chars[n]) then
    return false
  end
  for i = 2, n - 1 do
    if not is_middle(chars[i]) then return false end
  end
  return true
end

return _M
