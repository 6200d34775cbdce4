-- konnect.json: a private cjson instance, so a host that reconfigures the
-- global `cjson` (Kong does) cannot change how this module encodes or decodes.
-- JSON null never reaches the caller: such fields are absent.

local cjson = require "cjson"

local type, tostring, pcall, next, pairs, ipairs = type, tostring, pcall, next, pairs, ipairs
local loaded = package.loaded
local floor, format, byte, gsub, find, concat, sort = math.floor, string.format, string.byte, string.gsub,
  string.find, table.concat, table.sort
local tointeger = math.tointeger -- nil before Lua 5.3

local codec = cjson.new()
codec.decode_max_depth(64)
codec.encode_invalid_numbers(false)
local NULL = codec.null

local _M = {}

-- Remove nulls (and, on Lua 5.3+, turn integral floats back into integers, as
-- lua-cjson decodes every number as a float there).
local function clean(t)
  for k, v in next, t do
    local tv = type(v)
    if tv == "table" then
      clean(v)
    elseif tv == "number" then
      if tointeger then
        local i = tointeger(v)
        if i then t[k] = i end
      end
    elseif v == NULL then -- cjson.null is a lightuserdata
      t[k] = nil
    end
  end
  return t
end

-- The same walk in C (konnect.core.json_clean), and the common case decoded
-- in one pass in C (konnect.core.json_decode: strict JSON, an object or an
-- array at the top, no escapes in strings; the same result as cjson + clean,
-- nil for anything else), once the C core is loaded anyway (the curl
-- transport): never loaded for them.  false until then.
local c_clean, c_decode = false, false
local function c_core()
  local core = loaded["konnect.core"]
  if type(core) == "table" then c_clean, c_decode = core.json_clean or false, core.json_decode or false end
end
local function clean_fast(t)
  if not c_clean then
    c_core()
    if not c_clean then return clean(t) end
  end
  if not c_clean(t, NULL) then clean(t) end
  return t
end

--- decode(s) -> value | nil, message
function _M.decode(s)
  if type(s) ~= "string" then return nil, "no body" end
  if not c_decode then c_core() end
  if c_decode then
    local v = c_decode(s)
    if v ~= nil then return v end
  end
  local ok, v = pcall(codec.decode, s)
  if not ok then return nil, "invalid JSON: " .. tostring(v):gsub("^.-:%d+: ", "") end
  if v == NULL then return nil, "JSON null" end
  -- without Lua 5.3's integers, only a null needs cleaning: none without "null"
  if type(v) == "table" and (tointeger or find(s, "null", 1, true)) then clean_fast(v) end
  return v
end

--- encode(t) -> string | nil, message
function _M.encode(t)
  local ok, s = pcall(codec.encode, t)
  if not ok then return nil, s end
  return s
end

_M.null = NULL
_M.clean_lua = clean -- for the specs: the walk json_clean must agree with

-- encode_sorted(v) -> string: a stable rendering for people and diffs (the
-- CLI's --json): object keys sorted, an empty table as [] (the only empty
-- tables in the API's objects are arrays), integral numbers without a
-- fraction, non-finite numbers as null.  Never raises.
local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
              ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function esc(c) return ESC[c] or format("\\u%04x", byte(c)) end
local function str(s) return '"' .. gsub(s, '[%c"\\]', esc) .. '"' end

local function enc(v, buf, depth)
  local t = type(v)
  if t == "table" and depth < 64 then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    if n == #v then
      buf[#buf + 1] = "["
      for i = 1, n do
        if i > 1 then buf[#buf + 1] = "," end
        enc(v[i], buf, depth + 1)
      end
      buf[#buf + 1] = "]"
    else
      local keys, orig = {}, {}
      for k in pairs(v) do
        local ks = tostring(k)
        keys[#keys + 1] = ks
        orig[ks] = k
      end
      sort(keys)
      buf[#buf + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then buf[#buf + 1] = "," end
        buf[#buf + 1] = str(k) .. ":"
        enc(v[orig[k]], buf, depth + 1)
      end
      buf[#buf + 1] = "}"
    end
  elseif t == "string" then
    buf[#buf + 1] = str(v)
  elseif t == "number" then
    if v ~= v or v == 1 / 0 or v == -1 / 0 then
      buf[#buf + 1] = "null"
    elseif v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
      buf[#buf + 1] = format("%d", v)
    else
      buf[#buf + 1] = format("%.17g", v)
    end
  elseif t == "boolean" then
    buf[#buf + 1] = tostring(v)
  else
    buf[#buf + 1] = "null"
  end
end

function _M.encode_sorted(v)
  local buf = {}
  enc(v, buf, 0)
  return concat(buf)
end

return _M
