-- konnect.redact: the one redaction function.  Every string that leaves the
-- library (error fields, tostring(err), hook views, log lines, CLI output)
-- goes through it.
--
--   redact.string(s, secret)   -> s with the secret masked
--   redact.headers(map, secret) -> copy, Authorization masked, every value redacted
--   redact.value(v, secret)    -> deep copy of a decoded value, strings redacted
--
-- `secret` is a string or an array of strings (the token, a proxy's
-- credentials).  Besides the plain secret, the forms a server may echo it in
-- are caught: percent-encoded (any subset of bytes, either hex case), JSON
-- escaped (\uXXXX, \/, \\, \"), and base64 (standard or URL alphabet, at any
-- alignment, which covers "Bearer <secret>" and "user:<secret>").  Any
-- "konnect_token" or "token" JSON value (a new PAT's or system-account
-- token's secret) and any token-shaped kpat_/spat_ string are masked too.

local type, pairs, tostring, setmetatable, byte, char, sub, find, gsub, format, lower, concat =
  type, pairs, tostring, setmetatable, string.byte, string.char, string.sub, string.find, string.gsub,
  string.format, string.lower, table.concat
local floor = math.floor

local accel  = require "konnect.accel"
local limits = require "konnect.limits"

local find_any, new_needles = accel.find_any, accel.needles
local MAX_DEPTH = limits.REDACT_MAX_DEPTH

local _M = {}

local MASK = "<redacted>"
_M.MASK = MASK

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local B64_BYTE = { byte(B64, 1, 64) } -- [v + 1] = the byte of base64 digit v
local PAD = 61                          -- "="
local function base64(s)
  local out, n = {}, 0
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local d4 = v % 64
    v = (v - d4) / 64
    local d3 = v % 64
    v = (v - d3) / 64
    local d2 = v % 64
    n = n + 1
    out[n] = char(B64_BYTE[(v - d2) / 64 + 1], B64_BYTE[d2 + 1], b and B64_BYTE[d3 + 1] or PAD,
                  c and B64_BYTE[d4 + 1] or PAD)
  end
  return concat(out)
end
_M.base64 = base64

local HEX = "0123456789abcdef"

-- The index after secret byte c written at i in s as %XX or \u00XX (either
-- hex case) or \<byte> (JSON's \/ \\ \"), or nil.
local function escape_at(s, i, c)
  local sc = byte(s, i)
  if sc == 37 then -- %XX
    local want = sub(HEX, floor(c / 16) + 1, floor(c / 16) + 1) .. sub(HEX, c % 16 + 1, c % 16 + 1)
    if lower(sub(s, i + 1, i + 2)) == want then return i + 3 end
  elseif sc == 92 then -- JSON: \uXXXX, or \/ \\ \"
    local u = byte(s, i + 1)
    if (u == 117 or u == 85) and lower(sub(s, i + 2, i + 5)) == format("%04x", c) then return i + 6 end
    if u == c and (c == 47 or c == 92 or c == 34) then return i + 2 end
  end
  return nil
end

-- Does s match `secret` at i (from its byte k0, default 1), each secret byte as
-- itself or escaped (escape_at)?  Returns the index after the match.  A secret's
-- own % or \ may be itself or start its own escape (%25, \\, \u005C): the escape
-- is tried first, then the byte itself; `failed` remembers (i, k) tried in vain,
-- so a hostile text costs at most one try per position and secret byte.
local function match_at(s, i, secret, k0, failed)
  local n, len = #s, #secret
  for k = k0 or 1, len do
    if i > n then return nil end
    local c = byte(secret, k)
    if byte(s, i) == c then
      if c == 37 or c == 92 then
        local e = escape_at(s, i, c)
        local key = e and e * (len + 1) + k
        if e and not (failed and failed[key]) then
          failed = failed or {}
          local rest = match_at(s, e, secret, k + 1, failed)
          if rest then return rest end
          failed[key] = true
        end
      end
      i = i + 1
    else
      i = escape_at(s, i, c)
      if not i then return nil end
    end
  end
  return i
end

-- The base64 fragments that appear whenever `secret` is base64-encoded at
-- any of the three alignments (the characters that depend on its bytes only).
-- Cached for the last limits.SECRETS_CACHED secrets at most: a weak table
-- never lets go of string keys, and a process may see any number of secrets
-- over its life.
local FRAGMENTS_KEPT = limits.SECRETS_CACHED
local fragments_cache, fragments_cached = {}, 0
local function b64_fragments(secret)
  local f = fragments_cache[secret]
  if f then return f end
  f = {}
  local n = #secret
  for k = 0, 2 do
    local enc = base64(("\0"):rep(k) .. secret)
    local g0 = k > 0 and 1 or 0
    local g1 = floor((k + n) / 3) - 1
    if g1 - g0 >= 1 then
      local frag = sub(enc, 4 * g0 + 1, 4 * (g1 + 1))
      f[#f + 1] = frag
      local url = gsub(frag, "[+/]", { ["+"] = "-", ["/"] = "_" })
      if url ~= frag then f[#f + 1] = url end
    end
  end
  if fragments_cached >= FRAGMENTS_KEPT then fragments_cache, fragments_cached = {}, 0 end
  fragments_cached = fragments_cached + 1
  fragments_cache[secret] = f
  return f
end

local function mask_one(s, secret)
  if type(secret) ~= "string" or #secret < 4 then return s end
  -- plain, percent- and JSON-escaped forms
  local first = sub(secret, 1, 1)
  if find(first, "%W") then first = "%" .. first end
  local set = "[" .. first .. "%%\\]"
  if find(s, set) then
    local out, o, i, from = {}, 0, 1, 1
    while true do
      local a = find(s, set, i)
      if not a then break end
      local e = match_at(s, a, secret)
      if e then
        o = o + 1; out[o] = sub(s, from, a - 1)
        o = o + 1; out[o] = MASK
        from, i = e, e
      else
        i = a + 1
      end
    end
    if from > 1 then
      o = o + 1; out[o] = sub(s, from)
      s = concat(out)
    end
  end
  -- base64 forms
  local frags = b64_fragments(secret)
  for k = 1, #frags do
    local frag = frags[k]
    if find(s, frag, 1, true) then
      local out, o, i = {}, 0, 1
      while true do
        local a, b = find(s, frag, i, true)
        if not a then break end
        o = o + 1; out[o] = sub(s, i, a - 1)
        o = o + 1; out[o] = MASK
        i = b + 1
      end
      o = o + 1; out[o] = sub(s, i)
      s = concat(out)
    end
  end
  return s
end

-- Could any form of `secret` be in s?  Plain finds only (cheap): the secret
-- itself, a percent or backslash escape anywhere, or one of its base64
-- fragments.  False means mask_one would change nothing.
local function may_hold(s, secret)
  if type(secret) ~= "string" or #secret < 4 then return false end
  if find(s, secret, 1, true) or find(s, "%", 1, true) or find(s, "\\", 1, true) then return true end
  local frags = b64_fragments(secret)
  for k = 1, #frags do
    if find(s, frags[k], 1, true) then return true end
  end
  return false
end

-- The strings any of which may_hold looks for, for a whole secrets array:
-- "%", "\\", each secret (>= 4 bytes) and its base64 fragments, without a
-- string that contains another one of the set (finding the longer one
-- implies finding the shorter), as a konnect.accel needle set.  Made once per
-- secrets table (a client's).
local needles_cache = setmetatable({}, { __mode = "k" })
local function needles_of(secrets)
  local set = needles_cache[secrets]
  if set then return set end
  local all = { "%", "\\" }
  for i = 1, #secrets do
    local secret = secrets[i]
    if type(secret) == "string" and #secret >= 4 then
      all[#all + 1] = secret
      local frags = b64_fragments(secret)
      for k = 1, #frags do all[#all + 1] = frags[k] end
    end
  end
  set = {}
  for i = 1, #all do
    local a, keep = all[i], true
    for j = 1, #all do
      local b = all[j]
      if j ~= i and #b <= #a and find(a, b, 1, true) and (#b < #a or j < i) then keep = false; break end
    end
    if keep then set[#set + 1] = a end
  end
  set = new_needles(set)
  needles_cache[secrets] = set
  return set
end
_M.needles_of = needles_of

--- body(s, secrets) -> s, maybe: s with the caller's own secrets masked, and
-- nothing else touched (a new token's konnect_token stays): for a response
-- body before it is decoded, so a value the library returns never carries the
-- token a server echoed into it.  Costs one search for the secrets' needle
-- set (konnect.accel: one C call, or a few plain finds) when there is nothing
-- to mask.  maybe is false when no form of any secret can be in s, not even
-- escaped (then decoded(v, s, secrets) has nothing to do either).
function _M.body(s, secrets)
  if type(s) ~= "string" or s == "" then return s, false end
  if type(secrets) ~= "table" then
    secrets = { secrets }
  elseif not find_any(s, needles_cache[secrets] or needles_of(secrets)) then
    return s, false
  end
  local maybe = false
  for i = 1, #secrets do
    if may_hold(s, secrets[i]) then
      maybe = true
      s = mask_one(s, secrets[i])
    end
  end
  return s, maybe
end

local function mask_in_place(t, secrets, depth)
  if depth > MAX_DEPTH then return end
  for k, v in pairs(t) do
    local tv = type(v)
    if tv == "string" then
      local m = _M.body(v, secrets)
      if m ~= v then t[k] = m end
    elseif tv == "table" then
      mask_in_place(v, secrets, depth + 1)
    end
  end
end

--- decoded(v, body, secrets) -> v: after decoding a body that held an escape
-- (a backslash), the strings it produced are checked again, in place, for the
-- caller's secrets (a token escaped twice decodes to its escaped form).
function _M.decoded(v, body, secrets)
  if type(v) == "table" and type(body) == "string" and find(body, "\\", 1, true) then
    if type(secrets) ~= "table" then secrets = { secrets } end
    mask_in_place(v, secrets, 0)
  end
  return v
end

--- string(s, secret) -> s redacted (non-strings pass through unchanged)
function _M.string(s, secret)
  if type(s) ~= "string" then return s end
  if type(secret) == "table" then
    for i = 1, #secret do s = mask_one(s, secret[i]) end
  else
    s = mask_one(s, secret)
  end
  if find(s, "konnect_token", 1, true) then
    s = gsub(s, '("konnect_token"%s*:%s*)"[^"]*"', '%1"' .. MASK .. '"')
    s = gsub(s, "(konnect_token=)[^&%s]+", "%1" .. MASK)
  end
  -- a created system-account token's secret is its "token" field (contract:
  -- SystemAccountAccessTokenCreated)
  if find(s, '"token"', 1, true) then
    s = gsub(s, '("token"%s*:%s*)"[^"]*"', '%1"' .. MASK .. '"')
  end
  -- anything token-shaped that slipped through (a server echoing a secret)
  s = gsub(s, "([ks]pat_)[%w_]+", "%1" .. MASK)
  return s
end
local redact_string = _M.string

local SECRET_HEADERS = { authorization = true, ["proxy-authorization"] = true, cookie = true, ["set-cookie"] = true }

--- headers(map, secret) -> a copy: credentials masked, every name and value redacted
function _M.headers(map, secret)
  local h = {}
  if type(map) ~= "table" then return h end
  for k, v in pairs(map) do
    local name = redact_string(tostring(k), secret)
    if SECRET_HEADERS[lower(name)] then
      local scheme = type(v) == "string" and v:match("^(%a[%w-]*) ") or nil
      h[name] = scheme and (scheme .. " " .. MASK) or MASK
    else
      h[name] = redact_string(type(v) == "string" and v or tostring(v), secret)
    end
  end
  return h
end

local function value(v, secret, depth)
  local t = type(v)
  if t == "string" then return redact_string(v, secret) end
  if t ~= "table" then return v end
  if depth > MAX_DEPTH then return MASK end
  local o = {}
  for k, x in pairs(v) do
    o[value(k, secret, depth + 1)] = value(x, secret, depth + 1)
  end
  return o
end

--- value(v, secret) -> deep copy with every string (keys too) redacted
function _M.value(v, secret)
  return value(v, secret, 0)
end

return _M
