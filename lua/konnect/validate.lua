-- konnect.validate: every argument rule, checked before any I/O.
-- Each checker returns the (normalised) value, or nil and a message.

local type, pairs, tostring, floor = type, pairs, tostring, math.floor
local find, match, byte, format, concat, sort = string.find, string.match, string.byte,
  string.format, table.concat, table.sort
local os_date = os.date

local _M = { _VERSION = "0.1.0" }

local TTL_MIN, TTL_MAX = 86400, 31536000 -- the contract's bounds (1 day .. 365 days)
_M.TTL_MIN, _M.TTL_MAX = TTL_MIN, TTL_MAX
local NAME_MAX = 256

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

function _M.uuid(v, what)
  if type(v) ~= "string" then
    return nil, what .. " must be a string UUID, got " .. type(v)
  end
  if not find(v, UUID) then
    return nil, what .. " must be a UUID (8-4-4-4-12 hex digits)"
  end
  return v
end

function _M.user_id(v)
  if v == "me" then return v end
  return _M.uuid(v, "user_id")
end

-- Decode one UTF-8 sequence at i: code point and next index, or nil.
local function utf8_at(s, i)
  local c = byte(s, i)
  if c < 0x80 then return c, i + 1 end
  local n, cp, min
  if c >= 0xC2 and c <= 0xDF then n, cp, min = 1, c - 0xC0, 0x80
  elseif c >= 0xE0 and c <= 0xEF then n, cp, min = 2, c - 0xE0, 0x800
  elseif c >= 0xF0 and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000
  else return nil end
  for j = i + 1, i + n do
    local cc = byte(s, j)
    if not cc or cc < 0x80 or cc > 0xBF then return nil end
    cp = cp * 64 + (cc - 0x80)
  end
  if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return nil end
  return cp, i + n + 1
end

local INNER_PUNCT = { [32] = true, [95] = true, [45] = true, [46] = true, [39] = true } -- space _ - . '

-- Letter or digit as far as Lua can tell without Unicode tables: ASCII
-- alphanumerics, and any non-ASCII code point outside the C1 controls and the
-- common punctuation/space blocks.  The server has the last word.
local function is_alnum(cp)
  if cp < 0x80 then
    return (cp >= 48 and cp <= 57) or (cp >= 65 and cp <= 90) or (cp >= 97 and cp <= 122)
  end
  if cp <= 0xBF then return false end                     -- C1 controls, Latin-1 punctuation
  if cp == 0xD7 or cp == 0xF7 then return false end       -- × ÷
  if cp >= 0x2000 and cp <= 0x206F then return false end  -- general punctuation, spaces
  if cp >= 0x3000 and cp <= 0x303F then return false end  -- CJK punctuation
  if cp == 0xFEFF then return false end
  return true
end

--- A token name: the contract's PATName,
--- ^[\p{L}\p{N}][\p{L}\p{N} _\-\.']*[\p{L}\p{N}]$, 1..256 characters.
-- Note the pattern needs at least two characters although minLength is 1.
function _M.name(v)
  if type(v) ~= "string" then
    return nil, "name must be a string, got " .. type(v)
  end
  if v == "" then return nil, "name must not be empty" end
  local i, n, len, last = 1, 0, #v, nil
  while i <= len do
    local cp, nxt = utf8_at(v, i)
    if not cp then return nil, "name is not valid UTF-8" end
    if cp < 32 or cp == 127 or (cp >= 0x80 and cp <= 0x9F) then
      return nil, "name must not contain control characters"
    end
    n = n + 1
    if n > NAME_MAX then return nil, "name must be at most " .. NAME_MAX .. " characters" end
    local alnum = is_alnum(cp)
    if n == 1 and not alnum then
      return nil, "name must start with a letter or digit"
    end
    if not alnum and not INNER_PUNCT[cp] then
      return nil, format("name may only contain letters, digits, space, _ - . and ' (found %q)",
        v:sub(i, nxt - 1))
    end
    last = alnum
    i = nxt
  end
  if not last then return nil, "name must end with a letter or digit" end
  if n < 2 then return nil, "name must be at least 2 characters (the contract's PATName pattern)" end
  return v
end

local function is_integer(v)
  return type(v) == "number" and v == floor(v) and v == v
end

function _M.ttl_seconds(v)
  if type(v) ~= "number" or not is_integer(v) then
    local got = type(v) == "number" and tostring(v) or type(v)
    return nil, "ttl_seconds must be an integer number of seconds, got " .. got
  end
  if v < TTL_MIN or v > TTL_MAX then
    return nil, format("ttl_seconds must be between %d (1 day) and %d (365 days), got %d", TTL_MIN, TTL_MAX, v)
  end
  return floor(v)
end

local ISO = "^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)([Zz+-]?)(.*)$"

--- expires_at: an ISO-8601 date-time string, or epoch seconds (converted).
function _M.expires_at(v)
  if type(v) == "number" then
    if v ~= v or v < 0 or v > 253402300799 then return nil, "expires_at is not a valid epoch time" end
    return os_date("!%Y-%m-%dT%H:%M:%SZ", floor(v))
  end
  if type(v) ~= "string" then
    return nil, "expires_at must be an ISO-8601 date-time string or epoch seconds, got " .. type(v)
  end
  local y, mo, d, h, mi, s, frac, zone, rest = match(v, ISO)
  local ok = y ~= nil and (frac == "" or #frac > 1)
  if ok then
    mo, d, h, mi, s = mo + 0, d + 0, h + 0, mi + 0, s + 0
    ok = mo >= 1 and mo <= 12 and d >= 1 and d <= 31 and h <= 23 and mi <= 59 and s <= 60
    if zone == "Z" or zone == "z" then ok = ok and rest == ""
    elseif zone == "+" or zone == "-" then ok = ok and find(rest, "^%d%d:%d%d$") ~= nil
    else ok = false end -- the contract's date-time needs an offset
  end
  if not ok then
    return nil, "expires_at must be an RFC 3339 date-time such as 2030-01-31T00:00:00Z"
  end
  return v
end

function _M.token(v)
  if type(v) ~= "string" or v == "" then
    return nil, "token is required (a Konnect personal or system access token)"
  end
  if find(v, "[%s%c]") then
    return nil, "token must not contain whitespace or control characters"
  end
  return v
end

-- Reject keys we do not know, so `{ ttl = 86400 }` is caught, not ignored.
local function check_keys(opts, allowed, what)
  local unknown = {}
  for k in pairs(opts) do
    if not allowed[k] then unknown[#unknown + 1] = tostring(k) end
  end
  if #unknown > 0 then
    sort(unknown)
    local names = {}
    for k in pairs(allowed) do names[#names + 1] = k end
    sort(names)
    return nil, format("%s: unknown option%s %s (expected %s)", what,
      #unknown > 1 and "s" or "", concat(unknown, ", "), concat(names, ", "))
  end
  return true
end

local CREATE_KEYS = { name = true, ttl_seconds = true, expires_at = true }
local UPDATE_KEYS = { name = true }

--- The create request body, or nil and a message.
function _M.create_body(opts)
  if type(opts) ~= "table" then
    return nil, "create needs an options table { name =, ttl_seconds = }"
  end
  local ok, err = check_keys(opts, CREATE_KEYS, "create")
  if not ok then return nil, err end
  local name, ttl, exp
  name, err = _M.name(opts.name)
  if not name then return nil, err end
  if (opts.ttl_seconds == nil) == (opts.expires_at == nil) then
    return nil, "create needs exactly one of ttl_seconds and expires_at (deprecated)"
  end
  if opts.ttl_seconds ~= nil then
    ttl, err = _M.ttl_seconds(opts.ttl_seconds)
    if not ttl then return nil, err end
    return { name = name, ttl_seconds = ttl }
  end
  exp, err = _M.expires_at(opts.expires_at)
  if not exp then return nil, err end
  return { name = name, expires_at = exp }
end

--- The update request body, or nil and a message.
function _M.update_body(opts)
  if type(opts) ~= "table" then
    return nil, "update needs an options table { name = }"
  end
  local ok, err = check_keys(opts, UPDATE_KEYS, "update")
  if not ok then return nil, err end
  if opts.name == nil then return nil, "update needs name" end
  local name
  name, err = _M.name(opts.name)
  if not name then return nil, err end
  return { name = name }
end

local LOOPBACK = { localhost = true, ["[::1]"] = true }

--- server_url -> { scheme, host, port, prefix, base } | nil, message
function _M.server_url(v, allow_insecure_http)
  if type(v) ~= "string" then return nil, "server_url must be a string" end
  local scheme, authority, path = match(v, "^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil, "server_url must be an absolute http(s) URL" end
  scheme = scheme:lower()
  if scheme ~= "https" and scheme ~= "http" then
    return nil, "server_url must use https (or http to a loopback host)"
  end
  if find(authority, "@", 1, true) then
    return nil, "server_url must not carry credentials; use the token option"
  end
  local host, port = match(authority, "^(%[[%x:.]+%]):?(%d*)$")
  if not host then host, port = match(authority, "^([%w.-]+):?(%d*)$") end
  if not host or host == "" then return nil, "server_url has no valid host" end
  host = host:lower()
  if port ~= "" then
    port = port + 0
    if port < 1 or port > 65535 then return nil, "server_url port out of range" end
  else
    port = scheme == "https" and 443 or 80
  end
  if find(path, "[?#]") then return nil, "server_url must not have a query or fragment" end
  if find(path, "[%s%c]") then return nil, "server_url must not contain spaces" end
  path = path:gsub("/+$", "")
  if scheme == "http" and not allow_insecure_http then
    local loop = LOOPBACK[host] or find(host, "^127%.%d+%.%d+%.%d+$")
    if not loop then
      return nil, "refusing plain http to " .. host ..
        " (the token would travel in clear); use https, or allow_insecure_http = true"
    end
  end
  return {
    scheme = scheme, host = host, port = port, prefix = path,
    base = scheme .. "://" .. authority .. path,
  }
end

--- A positive number of seconds (timeouts and the like).
function _M.seconds(v, what)
  if type(v) ~= "number" or v ~= v or v <= 0 or v == 1/0 then
    return nil, what .. " must be a positive number of seconds"
  end
  return v
end

return _M
