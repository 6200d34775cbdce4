-- konnect.json: a private cjson instance, so a host that reconfigures the
-- global `cjson` (Kong does) cannot change how this module encodes or decodes.
-- JSON null never reaches the caller: such fields are absent.

local cjson = require "cjson"

local type, tostring, pcall, next = type, tostring, pcall, next
local tointeger = math.tointeger -- nil before Lua 5.3

local codec = cjson.new()
codec.decode_max_depth(64)
codec.encode_invalid_numbers(false)
local NULL = codec.null

local _M = { _VERSION = "0.1.0" }

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

--- decode(s) -> value | nil, message
function _M.decode(s)
  if type(s) ~= "string" then return nil, "no body" end
  local ok, v = pcall(codec.decode, s)
  if not ok then return nil, "invalid JSON: " .. tostring(v):gsub("^.-:%d+: ", "") end
  if v == NULL then return nil, "JSON null" end
  if type(v) == "table" then clean(v) end
  return v
end

--- encode(t) -> string | nil, message
function _M.encode(t)
  local ok, s = pcall(codec.encode, t)
  if not ok then return nil, s end
  return s
end

_M.null = NULL

return _M
