-- fake_konnect.json: decoding through lua-cjson, encoding by hand so that
-- arrays and objects are explicit (lua-cjson 2.1.0 encodes an empty table as
-- `{}`, but an empty PAT list must be `"data":[]`) and key order is stable.

local cjson = require "cjson"

local codec = cjson.new()
codec.decode_max_depth(64)

local _M = {}

_M.null = codec.null

local array_mt = { __name = "fake_konnect.json.array" }

--- array(t) -> t, marked so that it is encoded as a JSON array (even when empty)
function _M.array(t)
  return setmetatable(t or {}, array_mt)
end

--- is_array_text(s) -> boolean: does the JSON text start with `[`?
-- (lua-cjson decodes `[]` and `{}` to the same empty table.)
function _M.is_array_text(s)
  return s:match("^%s*%[") ~= nil
end

--- decode(s) -> value | nil, message
function _M.decode(s)
  if type(s) ~= "string" then return nil, "no body" end
  local ok, v = pcall(codec.decode, s)
  if not ok then
    return nil, (tostring(v):gsub("^.-:%d+: ", ""))
  end
  return v
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then
    error("cannot encode a non-finite number")
  end
  if n == math.floor(n) and n > -2^53 and n < 2^53 then
    return string.format("%d", n)
  end
  local s = string.format("%.14g", n)
  if tonumber(s) ~= n then s = string.format("%.17g", n) end
  return s
end

local encode

local function is_sequence(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

encode = function(v, out)
  local tv = type(v)
  if v == nil or v == _M.null then
    out[#out + 1] = "null"
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "table" then
    if getmetatable(v) == array_mt or is_sequence(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = encode_string(k)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode(val, out)
      end
      out[#out + 1] = "}"
    end
  else
    error("cannot encode a " .. tv)
  end
end

--- encode(v) -> string
function _M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

return _M
