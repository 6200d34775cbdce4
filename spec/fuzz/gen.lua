-- spec/fuzz/gen.lua: deterministic generator of hostile HTTP responses for the
-- decoding fuzz (spec/fuzz/decode_fuzz.lua) and its real-socket sample
-- (spec/hostile/sample_hostile.lua).  Pure Lua, same sequence on 5.1, 5.3, 5.4
-- and LuaJIT for a given seed.
--   local g = gen.new(seed, token)
--   g:response() -> { status =, headers = { lower = value }, body = }   (transport form)
--               or nil, terr                                            (a transport failure)
--   gen.raw(res) -> the response as bytes on the wire (HTTP/1.1, Content-Length framing)
--   gen.copy(v) -> a deep copy of a generated response or failure (nil stays nil)
local M = {}

local floor, char, concat, format = math.floor, string.char, table.concat, string.format

local G = {}
G.__index = G

function M.new(seed, token)
  return setmetatable({ s = floor(seed) % 2147483647 + 1, token = token }, G)
end

-- Park-Miller minimal standard (exact in doubles)
function G:next()
  self.s = (self.s * 16807) % 2147483647
  return self.s
end
function G:int(a, b) return a + self:next() % (b - a + 1) end
function G:chance(p) return self:next() / 2147483647 < p end
function G:pick(t) return t[self:int(1, #t)] end

local b64 = require("check").b64

-- the forms in which a server might echo the token
function G:echo()
  local t = self.token
  return self:pick {
    t, "Bearer " .. t, b64(t), b64("Bearer " .. t),
    (t:gsub("[^%w]", function(c) return format("%%%02X", c:byte()) end)),
    (t:gsub(".", function(c) return format("\\u%04x", c:byte()) end)),
    "kong:trace:" .. t, "https://evil.example/?t=" .. t,
  }
end

function G:bytes(n)
  local t = {}
  for i = 1, n do t[i] = char(self:int(0, 255)) end
  return concat(t)
end

function G:str()
  local r = self:int(1, 10)
  if r == 1 then return self:echo() end
  if r == 2 then return self:bytes(self:int(0, 12)) end
  if r == 3 then return "" end
  if r == 4 then return "2024-01-15T09:30:00Z" end
  if r == 5 then return self:pick { "1899-12-31T23:59:60Z", "9999-99-99T99:99:99Z", "0000-00-00T00:00:00+25:00" } end
  if r == 6 then return "00000000-0000-4000-8000-0000000a11ce" end
  if r == 7 then return self:pick { "ACTIVE", "REVOKED", "EXPIRED", "SOMETHING_NEW" } end
  return ("n"):rep(self:int(1, 30))
end

local json_string -- forward

function G:json_value(depth)
  local r = self:int(1, depth > 4 and 6 or 9)
  if r == 1 then return "null" end
  if r == 2 then return self:pick { "true", "false" } end
  if r == 3 then
    return self:pick { "0", "-1", "1e309", "-1e309", "1e300", "9007199254740993", "0.5", "-0", "2e-400" }
  end
  if r <= 6 then return json_string(self:str()) end
  if r <= 8 then -- object
    local keys = { "id", "name", "data", "meta", "created_at", "expires_at", "updated_at", "last_used_at", "state",
      "konnect_token", "status", "title", "detail", "instance", "type", "invalid_parameters", "field", "reason",
      "rule", "message", "page", "total", "x" }
    local parts = {}
    for i = 1, self:int(0, 6) do
      parts[i] = json_string(self:pick(keys)) .. ":" .. self:json_value(depth + 1)
    end
    return "{" .. concat(parts, ",") .. "}"
  end
  local parts = {}
  for i = 1, self:int(0, 4) do parts[i] = self:json_value(depth + 1) end
  return "[" .. concat(parts, ",") .. "]"
end

json_string = function(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return format("\\u%04x", c:byte())
  end) .. '"'
end

-- a plausible body: a token, a list, a problem, with random fields swapped in
function G:shaped_body()
  local r = self:int(1, 5)
  local tok = '{"id":' .. self:json_value(3) .. ',"name":' .. self:json_value(3) .. ',"created_at":'
    .. self:json_value(3) .. ',"expires_at":' .. self:json_value(3) .. ',"state":' .. self:json_value(3) .. '}'
  if r == 1 then return tok end
  if r == 2 then return '{"data":[' .. tok .. "," .. self:json_value(2) .. '],"meta":' .. self:json_value(2) .. "}" end
  if r == 3 then
    return '{"data":' .. self:json_value(1) .. ',"meta":{"page":{"total":' .. self:json_value(3) .. "}}}"
  end
  if r == 4 then
    return '{"status":' .. self:json_value(3) .. ',"title":' .. self:json_value(3) .. ',"detail":'
      .. self:json_value(3) .. ',"instance":' .. self:json_value(3) .. ',"invalid_parameters":'
      .. self:json_value(2) .. "}"
  end
  return self:json_value(0)
end

function G:body()
  local r = self:int(1, 12)
  local b
  if r <= 6 then b = self:shaped_body()
  elseif r == 7 then b = self:bytes(self:int(0, 200))
  elseif r == 8 then b = "<html><body>" .. self:echo() .. "</body></html>"
  elseif r == 9 then b = ""
  elseif r == 10 then b = string.rep("[", self:int(1, 3000))
  elseif r == 11 then b = "\239\187\191" .. self:shaped_body() -- a UTF-8 BOM
  else b = self:shaped_body():gsub(".", "%0\0") end -- UTF-16LE-ish
  if self:chance(0.2) and #b > 0 then b = b:sub(1, self:int(0, #b - 1)) end -- truncated
  return b
end

local STATUSES = { 200, 200, 200, 201, 204, 206, 299, 100, 101, 199, 300, 302, 304, 400, 401, 403, 404, 409,
  418, 429, 499, 500, 502, 503, 504, 599, 0, 600, 999 }
local CTYPES = { "application/json", "application/json; charset=utf-8", "application/problem+json",
  "APPLICATION/JSON", "application/vnd.x+json", "text/html", "text/plain", "", "application/jsonx",
  "application/json\0", "multipart/mixed; boundary=x" }

function G:response()
  if self:chance(0.05) then
    return nil, { kind = self:pick { "timeout", "connect", "tls", "network", "too_large", "system" },
                  message = "transport failed: " .. self:echo(), sent = self:chance(0.5),
                  code = self:chance(0.5) and self:int(0, 99) or nil }
  end
  local h = {}
  if not self:chance(0.1) then h["content-type"] = self:pick(CTYPES) end
  if self:chance(0.3) then
    h["retry-after"] = self:pick { "0", "-1", "1", "1e9", "99999999999999999999", "soon", "",
      "Mon, 01 Jan 1900 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
      "Sun, 06 Nov 1994 08:49:37 GMT", "Tue, 30 Feb 2024 25:61:61 GMT", self:echo() }
  end
  if self:chance(0.3) then h["x-kong-request-id"] = self:chance(0.5) and self:echo() or self:str() end
  if self:chance(0.2) then h["location"] = self:echo() end
  if self:chance(0.2) then h["x-echo"] = self:echo() end
  if self:chance(0.1) then
    h[self:pick { "www-authenticate", "set-cookie", "link", "x-" .. self:int(1, 9) }] = self:str()
  end
  return { status = self:pick(STATUSES), headers = h, body = self:body() }
end

-- the calls a response is decoded for (every operation and the helpers that read lists)
local ALICE = "00000000-0000-4000-8000-0000000a11ce"
local TOKEN_ID = "00000000-0000-4000-8000-00000000c0de"
M.CALLS = {
  function(c) return c:list(ALICE) end,
  function(c) return c:get(ALICE, TOKEN_ID) end,
  function(c) return c:create(ALICE, { name = "fuzz", ttl_seconds = 86400 }) end,
  function(c) return c:update(ALICE, TOKEN_ID, { name = "fuzz2" }) end,
  function(c) return c:delete(ALICE, TOKEN_ID) end,
  function(c) return c:revoke(ALICE, TOKEN_ID) end,
  function(c) return c:me() end,
  function(c) return c:find_by_name(ALICE, "fuzz") end,
}

--- raw(res) -> the response on the wire (header values made one line; the status
-- kept to three digits as HTTP/1.1 requires, else the server would not be HTTP)
function M.raw(res)
  local status = res.status
  if status < 100 or status > 599 then status = 500 end
  if status < 200 or status == 204 or status == 304 then status = 200 end -- no 1xx/bodiless framing here
  local t = { format("HTTP/1.1 %d X\r\n", status) }
  for k, v in pairs(res.headers) do
    t[#t + 1] = k .. ": " .. v:gsub("[%z\r\n]", " ") .. "\r\n"
  end
  t[#t + 1] = "Content-Length: " .. #res.body .. "\r\nConnection: close\r\n\r\n" .. res.body
  return concat(t)
end

function M.copy(v)
  if type(v) ~= "table" then return v end
  local o = {}
  for k, x in pairs(v) do o[k] = M.copy(x) end
  return o
end

return M
