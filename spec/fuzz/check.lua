-- spec/fuzz/check.lua: what "the token leaked" means, for the fuzz and the
-- hostile suite alike: the token (or its tail after the kpat_ prefix, its
-- base64, the base64 of "Bearer <token>", its \u-escaped JSON form) in any
-- string reachable from an outcome.
local M = {}

local floor, concat, format = math.floor, table.concat, string.format

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2, c3, c4 = floor(n / 262144) % 64, floor(n / 4096) % 64, floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return concat(out)
end
M.b64 = b64

--- forms(token) -> { {label, needle}, … }
function M.forms(token)
  local tail = token:match("^[ks]pat_(.+)$") or token
  local u = token:gsub(".", function(c) return format("\\u%04x", c:byte()) end)
  return {
    { "raw", token }, { "raw tail", tail }, { "base64", b64(token) },
    { "base64 of Bearer", b64("Bearer " .. token) }, { "\\u-escaped", u },
  }
end

--- collect(v, where, out) -> out with { where =, s = } for every string reachable from v (keys too)
function M.collect(v, where, out, seen)
  seen = seen or {}
  local t = type(v)
  if t == "string" then
    out[#out + 1] = { where = where, s = v }
  elseif t == "number" or t == "boolean" then
    out[#out + 1] = { where = where, s = tostring(v) }
  elseif t == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      M.collect(k, where .. "[key]", out, seen)
      M.collect(x, where .. "." .. (tostring(k):gsub("%c", "?")):sub(1, 40), out, seen)
    end
  end
  return out
end

--- leaks_in(strings, token) -> { "where (form)", … }
function M.leaks_in(strings, token)
  local found, forms = {}, M.forms(token)
  for _, item in ipairs(strings) do
    for _, f in ipairs(forms) do
      if item.s:find(f[2], 1, true) then found[#found + 1] = item.where .. " (" .. f[1] .. ")" end
    end
  end
  return found
end

--- judge(ok, v, err, strings, token) -> nil | problem: the fuzz properties for one call
-- (ok, v, err from pcall(call); strings already holds the hook views and log lines)
function M.judge(ok, v, err, strings, token)
  local errors = require "konnect.errors"
  if not ok then return "raised: " .. tostring(v):sub(1, 200):gsub("[ks]pat_[%w_]+", "<token>") end
  if v ~= nil then
    M.collect(v, "value", strings)
  else
    if not errors.is(err) then return "nil without an error object (got " .. type(err) .. ")" end
    if errors.KINDS[err.kind] == nil then return "unknown error kind " .. tostring(err.kind) end
    M.collect(err, "err", strings)
    local sok, s = pcall(tostring, err)
    if not sok then return "tostring(err) raised" end
    M.collect(s, "tostring(err)", strings)
  end
  -- a create's konnect_token is the new secret the server minted: it is meant to be returned
  local filtered = {}
  for _, item in ipairs(strings) do
    if item.where ~= "value.konnect_token" then filtered[#filtered + 1] = item end
  end
  local leaks = M.leaks_in(filtered, token)
  if #leaks > 0 then return "the token leaked: " .. concat(leaks, ", ") end
  return nil
end

return M
