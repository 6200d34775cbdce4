-- konnect.validate: every argument rule, checked before any I/O.
-- Each checker returns the (normalised) value, or nil and a message.

local limits = require "konnect.limits"

local type, pairs, ipairs, tostring, floor = type, pairs, ipairs, tostring, math.floor
local find, match, byte, format, concat, sort = string.find, string.match, string.byte,
  string.format, table.concat, table.sort

local _M = {}

_M.TTL_MIN, _M.TTL_MAX = limits.TTL_MIN, limits.TTL_MAX
local NAME_MAX = limits.NAME_MAX

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- The UUIDs that passed lately (the pattern costs ~5k instructions, and a
-- program asks about the same few ids again and again): at most
-- limits.UUIDS_REMEMBERED, then the set starts afresh.  A string that passed
-- once always passes.
local UUID_SEEN_MAX = limits.UUIDS_REMEMBERED
local uuid_seen, uuid_seen_n = {}, 0

_M.uuid_seen = uuid_seen -- (read-only elsewhere: konnect.ops's fast path; replaced when full)

function _M.uuid(v, what)
  if uuid_seen[v] then return v end
  if type(v) ~= "string" then
    return nil, what .. " must be a string UUID, got " .. type(v)
  end
  if not find(v, UUID) then
    return nil, what .. " must be a UUID (8-4-4-4-12 hex digits)"
  end
  if uuid_seen_n >= UUID_SEEN_MAX then
    uuid_seen, uuid_seen_n = {}, 0
    _M.uuid_seen = uuid_seen
  end
  uuid_seen[v], uuid_seen_n = true, uuid_seen_n + 1
  return v
end

function _M.user_id(v)
  if v == "me" then return v end
  if type(v) == "string" and #v == 2 and v:lower() == "me" then
    return nil, "user_id must be a UUID or \"me\" (lower case), got \"" .. v .. "\""
  end
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

--- ttl_seconds: limits.ttl (never raises, whatever the number)
_M.ttl_seconds = limits.ttl

local MAX_EPOCH = 253402300799 -- 9999-12-31T23:59:59Z

--- expires_at: an RFC 3339 date-time string (konnect.time.rfc3339), or
--- epoch seconds (converted).
function _M.expires_at(v)
  if type(v) == "number" then
    if not limits.is_number(v) or v < 0 or v > MAX_EPOCH then return nil, "expires_at is not a valid epoch time" end
    return require("konnect.time").iso(floor(v))
  end
  if type(v) ~= "string" then
    return nil, "expires_at must be an ISO-8601 date-time string or epoch seconds, got " .. type(v)
  end
  if not require("konnect.time").rfc3339(v) then
    return nil, "expires_at must be an RFC 3339 date-time such as 2030-01-31T00:00:00Z"
  end
  return v
end

--- token: limits.token (the message never contains the token)
_M.token = limits.token

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

--- A system-account token name.  The contract says only "string"; our rule
--- (the fake's choice too, fake_konnect/sysaccounts.lua): 1 to 256 characters
--- of valid UTF-8 without control characters.  Names are unique per account
--- (the server answers 409), so rotate needs a name free for the new token.
function _M.sa_name(v)
  if type(v) ~= "string" then return nil, "name must be a string, got " .. type(v) end
  if v == "" then return nil, "name must not be empty" end
  -- C0 controls and DEL here (tab too), the C1 ones (U+0080..U+009F) below
  if limits.has_ctl(v) or find(v, "\t", 1, true) then return nil, "name must not contain control characters" end
  local i, n, len = 1, 0, #v
  while i <= len do
    local cp, nxt = utf8_at(v, i)
    if not cp then return nil, "name is not valid UTF-8" end
    if cp >= 0x80 and cp <= 0x9F then return nil, "name must not contain control characters" end
    n = n + 1
    if n > NAME_MAX then return nil, "name must be at most " .. NAME_MAX .. " characters" end
    i = nxt
  end
  return v
end

local SA_CREATE_KEYS = { name = true, expires_at = true, ttl_seconds = true }

--- The body of create_sa_token, or nil and a message: name and expires_at,
--- both required by the contract (no ttl_seconds there).  ttl_seconds is our
--- convenience: turned into expires_at here, from this machine's clock.
function _M.sa_create_body(opts)
  if type(opts) ~= "table" then
    return nil, "create_sa_token needs an options table { name =, expires_at = }"
  end
  local ok, err = check_keys(opts, SA_CREATE_KEYS, "create_sa_token")
  if not ok then return nil, err end
  local name, exp
  name, err = _M.sa_name(opts.name)
  if not name then return nil, err end
  if (opts.ttl_seconds == nil) == (opts.expires_at == nil) then
    return nil, "create_sa_token needs expires_at (an RFC 3339 date-time or epoch seconds; the contract requires " ..
      "it), or ttl_seconds instead (turned into expires_at from this machine's clock)"
  end
  if opts.ttl_seconds ~= nil then
    local ttl = opts.ttl_seconds
    if not limits.is_integer(ttl) or ttl < 1 or ttl > limits.SA_TTL_MAX then
      return nil, "ttl_seconds must be a whole number of seconds from 1 to " .. limits.SA_TTL_MAX
    end
    return { name = name, expires_at = require("konnect.time").iso(os.time() + ttl) }
  end
  exp, err = _M.expires_at(opts.expires_at)
  if not exp then return nil, err end
  return { name = name, expires_at = exp }
end

--- The body of update_sa_token, or nil and a message: { name = } (required).
function _M.sa_update_body(opts)
  if type(opts) ~= "table" then return nil, "update_sa_token needs an options table { name = }" end
  local ok, err = check_keys(opts, UPDATE_KEYS, "update_sa_token")
  if not ok then return nil, err end
  if opts.name == nil then return nil, "update_sa_token needs name" end
  local name
  name, err = _M.sa_name(opts.name)
  if not name then return nil, err end
  return { name = name }
end

local QUERY_KEYS = { filter = true, page_size = true }

-- a whole number from lo to hi, or nil and a message
local function whole(v, what, lo, hi)
  if not limits.is_integer(v) or v < lo or v > hi then
    return nil, format("%s must be a whole number from %d to %d", what, lo, hi)
  end
  return v
end

--- query(q, filters, what, extra) -> { filters = { {field, op, value}, … } (by
--- field), page_size, page_number, max_pages } | nil, message.
--- A paged list's query: { filter = { field = { eq = s } | { contains = s } |
--- true | false }, page_size = n } plus the keys `extra` allows (page_number
--- for one page, max_pages for list_* and each_*).  `filters` is the list's
--- (konnect.operations): "string" takes eq or contains, "eq" eq only,
--- "boolean" true or false; the contract's "**one** of the operators".
function _M.query(q, filters, what, extra)
  if q == nil then return { filters = {} } end
  if type(q) ~= "table" then
    return nil, what .. ": the query must be a table { filter =, page_size = }, got " .. type(q)
  end
  for k in pairs(q) do
    if not QUERY_KEYS[k] and not (extra and extra[k]) then
      local names = { "filter", "page_size" }
      for x in pairs(extra or {}) do names[#names + 1] = x end
      sort(names)
      return nil, format("%s: unknown query key %s (expected %s)", what,
        type(k) == "string" and k or "(a " .. type(k) .. ")", concat(names, ", "))
    end
  end
  local out, err = { filters = {} }
  if q.page_size ~= nil then
    out.page_size, err = whole(q.page_size, what .. ": page_size", 1, limits.PAGE_SIZE_MAX)
    if not out.page_size then return nil, err end
  end
  if q.page_number ~= nil then
    out.page_number, err = whole(q.page_number, what .. ": page_number", 1, 2 ^ 31)
    if not out.page_number then return nil, err end
  end
  if q.max_pages ~= nil then
    out.max_pages, err = whole(q.max_pages, what .. ": max_pages", 1, limits.MAX_PAGES_CEILING)
    if not out.max_pages then return nil, err end
  end
  local f = q.filter
  if f == nil then return out end
  if type(f) ~= "table" then return nil, what .. ": filter must be a table such as { name = { eq = 'x' } }" end
  local names = {}
  for field in pairs(f) do
    local kind = type(field) == "string" and filters[field]
    if not kind then
      local known = {}
      for x in pairs(filters) do known[#known + 1] = x end
      sort(known)
      return nil, format("%s: cannot filter on %s (this list filters on %s)", what,
        type(field) == "string" and field or "(a " .. type(field) .. ")", concat(known, ", "))
    end
    names[#names + 1] = field
  end
  sort(names)
  for _, field in ipairs(names) do
    local v, kind, label = f[field], filters[field], what .. ": filter." .. field
    if kind == "boolean" then
      if type(v) ~= "boolean" then return nil, label .. " must be true or false" end
      out.filters[#out.filters + 1] = { field = field, value = v and "true" or "false" }
    else
      local ops = kind == "eq" and "{ eq = \"…\" }" or "{ eq = \"…\" } or { contains = \"…\" }"
      if type(v) ~= "table" then return nil, label .. " must be " .. ops end
      local op, value, n = nil, nil, 0
      for k, x in pairs(v) do
        n = n + 1
        if k ~= "eq" and (k ~= "contains" or kind == "eq") then return nil, label .. " must be " .. ops end
        op, value = k, x
      end
      if n ~= 1 then return nil, label .. " must be " .. ops .. " (one operator)" end
      if type(value) ~= "string" or value == "" or #value > limits.FILTER_MAX then
        return nil, format("%s.%s must be a non-empty string of at most %d bytes", label, op, limits.FILTER_MAX)
      end
      out.filters[#out.filters + 1] = { field = field, op = op, value = value }
    end
  end
  return out
end

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
  if not host then host, port = match(authority, "^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil, "server_url has no valid host" end
  local herr
  host, herr = limits.host(host)
  if not host then return nil, "server_url: " .. herr end
  if port ~= "" then
    port = port + 0
    if port < 1 or port > 65535 then return nil, "server_url port out of range" end
  else
    port = scheme == "https" and 443 or 80
  end
  if find(path, "[?#]") then return nil, "server_url must not have a query or fragment" end
  if find(path, "[%s%c]") then return nil, "server_url must not contain spaces" end
  path = path:gsub("/+$", "")
  if scheme == "http" and not allow_insecure_http and not limits.loopback(host) then
    return nil, "refusing plain http to " .. host ..
      " (the token would travel in clear); use https, or allow_insecure_http = true"
  end
  return {
    scheme = scheme, host = host, port = port, prefix = path,
    base = scheme .. "://" .. authority .. path,
  }
end

return _M
