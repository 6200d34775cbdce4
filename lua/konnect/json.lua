-- konnect.json: a private lua-cjson instance (the one JSON parser), so a
-- host that reconfigures the global `cjson` (Kong does) cannot change how
-- this module encodes or decodes.  JSON null never reaches the caller: such
-- fields are absent.  The walk that removes them (and, on Lua 5.3+, makes
-- integral numbers integers) is konnect.accel's: in C when the C core loads,
-- in Lua otherwise, with the same result.

local cjson  = require "cjson.safe" -- returns nil, message instead of raising
local accel  = require "konnect.accel"
local limits = require "konnect.limits"

local type, tostring, pairs, ipairs = type, tostring, pairs, ipairs
local floor, format, byte, gsub, find, concat, sort = math.floor, string.format, string.byte, string.gsub,
  string.find, table.concat, table.sort
local tointeger = math.tointeger -- nil before Lua 5.3

local MAX_DEPTH = limits.JSON_MAX_DEPTH
local codec = cjson.new()
codec.decode_max_depth(MAX_DEPTH)
codec.encode_invalid_numbers(false)
local NULL = codec.null
local decode, encode, json_clean, clean_lua = codec.decode, codec.encode, accel.json_clean, accel.clean_lua

local _M = {}

--- decode(s) -> value | nil, message
function _M.decode(s)
  if type(s) ~= "string" then return nil, "no body" end
  local v, err = decode(s)
  if v == nil then return nil, "invalid JSON: " .. gsub(tostring(err), "^.-:%d+: ", "") end
  if v == NULL then return nil, "JSON null" end
  -- without Lua 5.3's integers, only a null needs cleaning: none without "null"
  if type(v) == "table" and (tointeger or find(s, "null", 1, true)) and not json_clean(v, NULL) then
    clean_lua(v, NULL)
  end
  return v
end

--- encode(t) -> string | nil, message
function _M.encode(t)
  return encode(t)
end

_M.null = NULL

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
  if t == "table" and depth < MAX_DEPTH then
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
