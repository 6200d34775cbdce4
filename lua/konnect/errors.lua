-- konnect.errors: the one error object every failure is reported with.
--
-- An error is a plain table with a shared metatable, so it prints
-- (`tostring`, `ngx.log`), concatenates (`"failed: " .. err`) and answers
-- `err:is("not_found")`.  Constructors never raise.

local type, tostring, setmetatable, getmetatable = type, tostring, setmetatable, getmetatable
local pairs, ipairs, concat, sub, match = pairs, ipairs, table.concat, string.sub, string.match

local limits = require "konnect.limits"
local redact = require "konnect.redact"

local _M = {}

-- kind -> HTTP status it stands for (false: not an HTTP status kind)
local KINDS = {
  invalid_argument = false, invalid_context = false,
  bad_request = 400, unauthorized = 401, forbidden = 403, not_found = 404,
  conflict = 409, rate_limited = 429, server = false, http = false,
  timeout = false, connect = false, tls = false, network = false,
  too_large = false, decode = false,
  system = false, -- the local environment failed: out of memory, libcurl could not start, a file
}
_M.KINDS = KINDS

local STATUS_KIND = {}
for kind, status in pairs(KINDS) do
  if status then STATUS_KIND[status] = kind end
end

local BODY_CAP, MESSAGE_CAP, REQUEST_ID_MAX = limits.ERROR_BODY_CAP, limits.MESSAGE_CAP, limits.REQUEST_ID_MAX

local methods = {}
local mt = { __name = "konnect.Error", __index = methods }

local function describe(e)
  local parts = { "konnect: " }
  if e.operation then parts[#parts + 1] = e.operation .. ": " end
  parts[#parts + 1] = e.kind
  if e.status then parts[#parts + 1] = " (" .. e.status .. ")" end
  parts[#parts + 1] = ": " .. e.message
  if e.trace_id then parts[#parts + 1] = " [" .. e.trace_id .. "]" end
  return concat(parts)
end

mt.__tostring = describe
mt.__concat = function(a, b) -- tostring uses __tostring (describe) for an error
  return tostring(a) .. tostring(b)
end

-- The kind a mistyped one probably meant ("notfound", "NotFound", "404").
local function guess(kind)
  if type(kind) == "number" then return STATUS_KIND[kind] end
  if type(kind) ~= "string" then return nil end
  local squashed = kind:lower():gsub("[^%a]", "")
  local best, best_d
  for k in pairs(KINDS) do
    local kk = k:gsub("_", "")
    -- edit distance (the kind itself is 0 away, "connected" or "unauthoriz" 2), small strings only:
    -- the longest kind has 15 letters, so nothing much longer is within 2 edits of one
    local a, b = squashed, kk
    if #a <= 32 then
      local prev = {}
      for j = 0, #b do prev[j] = j end
      for i = 1, #a do
        local cur = { [0] = i }
        for j = 1, #b do
          local cost = a:byte(i) == b:byte(j) and 0 or 1
          local d = prev[j] + 1
          if cur[j - 1] + 1 < d then d = cur[j - 1] + 1 end
          if prev[j - 1] + cost < d then d = prev[j - 1] + cost end
          cur[j] = d
        end
        prev = cur
      end
      if prev[#b] <= 2 and (not best_d or prev[#b] < best_d) then best, best_d = k, prev[#b] end
    end
  end
  return best
end

--- is(e[, kind]) -> true when `e` is one of our errors (of `kind`, when
--- given).  A kind that does not exist is a caller's mistake: false and a
--- message that names the kind it probably meant (never raised).
local function is(e, kind)
  if kind ~= nil and (type(kind) ~= "string" or KINDS[kind] == nil) then
    local g = guess(kind)
    local shown = type(kind) == "string" and ("'" .. sub(kind, 1, 40) .. "'")
      or type(kind) == "number" and tostring(kind) or ("(a " .. type(kind) .. ")")
    return false, "unknown error kind " .. shown .. (g and (" (did you mean " .. g .. "?)") or "")
  end
  if getmetatable(e) ~= mt then return false end
  return kind == nil or e.kind == kind
end
_M.is = is
methods.is = is

--- The kind an unexpected HTTP status maps to.
function _M.kind_for_status(status)
  local kind = STATUS_KIND[status]
  if kind then return kind end
  if status >= 500 and status <= 599 then return "server" end
  return "http"
end

--- new(kind, fields) -> err.  `fields.message` defaults to the kind.
-- An existing error passes through unchanged.
function _M.new(kind, fields)
  if getmetatable(kind) == mt then return kind end
  local e = {}
  if fields then
    for k, v in pairs(fields) do e[k] = v end
  end
  if KINDS[kind] == nil then kind = "http" end
  e.kind = kind
  if type(e.message) ~= "string" or e.message == "" then
    e.message = kind:gsub("_", " ")
  end
  return setmetatable(e, mt)
end

--- Shorthand for the commonest error: a bad argument, found before any I/O.
function _M.invalid_argument(message, operation)
  return _M.new("invalid_argument", { message = message, operation = operation })
end

-- s cut to at most `cap` bytes, never inside a UTF-8 character, then "…"
local function cut(s, cap)
  local n = cap
  while n > 0 do
    local b = s:byte(n + 1)
    if not b or b < 0x80 or b >= 0xC0 then break end
    n = n - 1
  end
  return sub(s, 1, n) .. "…"
end

-- Trim a body for keeping in an error: bounded, and cut at a UTF-8 boundary.
function _M.cap_body(body)
  if type(body) ~= "string" or #body <= BODY_CAP then return body end
  return cut(body, BODY_CAP)
end

local function one_line(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("[%c]+", " "):gsub("^%s+", ""):gsub("%s+$", "")
  if s == "" then return nil end
  if #s > MESSAGE_CAP then s = cut(s, MESSAGE_CAP) end
  return s
end

local STRING_FIELDS = { "message", "body", "title", "detail", "type", "instance", "request_id", "url", "trace_id" }

--- scrub(fields, secret) -> fields, every string that came from outside
-- redacted (konnect.redact) and the request id made one bounded line.
function _M.scrub(e, secret)
  if e.request_id ~= nil then
    local id = type(e.request_id) == "string" and one_line(e.request_id) or nil
    if id and #id > REQUEST_ID_MAX then id = sub(id, 1, REQUEST_ID_MAX) end
    e.request_id = id
  end
  for _, k in ipairs(STRING_FIELDS) do
    if type(e[k]) == "string" then e[k] = redact.string(e[k], secret) end
  end
  if e.invalid_parameters ~= nil then e.invalid_parameters = redact.value(e.invalid_parameters, secret) end
  return e
end

--- from_http(status, headers, body, decoded, ctx, secret) -> err
-- `decoded` is the JSON-decoded body when it decoded to a table, else nil.
-- `ctx` carries operation, method, url, attempts; `secret` (konnect.redact)
-- is masked in every field.
function _M.from_http(status, headers, body, decoded, ctx, secret)
  local e = {
    status = status, operation = ctx.operation, method = ctx.method,
    url = ctx.url, attempts = ctx.attempts, retry_after = ctx.retry_after,
    request_id = headers and headers["x-kong-request-id"] or nil,
  }
  local message
  if type(decoded) == "table" then
    if decoded.title ~= nil or decoded.detail ~= nil or decoded.instance ~= nil then
      -- problem+json (RFC 7807), as the contract describes its errors
      for _, k in pairs { "title", "detail", "type", "instance" } do
        if type(decoded[k]) == "string" then e[k] = decoded[k] end
      end
      if type(decoded.invalid_parameters) == "table" then
        e.invalid_parameters = decoded.invalid_parameters
      end
      message = one_line(e.detail) or one_line(e.title)
      if e.invalid_parameters then
        local reasons = {}
        for i, p in ipairs(e.invalid_parameters) do -- an object instead of an array: no reasons
          if i > 5 then break end
          if type(p) == "table" then
            reasons[#reasons + 1] = (one_line(tostring(p.field or "?")) or "?") .. " "
              .. (one_line(tostring(p.reason or p.rule or "is invalid")) or "is invalid")
          end
        end
        if #reasons > 0 then message = (message or "invalid request") .. ": " .. concat(reasons, "; ") end
      end
    elseif type(decoded.message) == "string" then
      -- the plain {"message": …} body that Kong's rate limiting sends
      message = one_line(decoded.message)
    end
  end
  if not e.title and not e.detail then
    e.body = _M.cap_body(body)
  end
  if not message then
    local ctype = headers and headers["content-type"]
    if body == nil or body == "" then
      message = "HTTP " .. status .. " with an empty body"
    else
      message = "HTTP " .. status .. " (" .. (ctype and match(ctype, "^[^;]+") or "no content type") .. " body)"
    end
  end
  if status >= 300 and status < 400 then
    local loc = headers and headers["location"]
    message = "redirect not followed" .. (loc and (" (to " .. one_line(loc) .. ")") or "")
  end
  e.message = one_line(message) or ("HTTP " .. status)
  if type(e.instance) == "string" and match(e.instance, "^kong:trace:") then
    e.trace_id = one_line(e.instance)
  end
  return _M.new(_M.kind_for_status(status), _M.scrub(e, secret))
end

--- from_transport(terr, ctx, secret) -> err, for a failure below HTTP.
-- The transport's kind is kept when it is one of ours (system and
-- invalid_argument included); anything else is network.
function _M.from_transport(terr, ctx, secret)
  local kind = type(terr) == "table" and terr.kind or nil
  if type(kind) ~= "string" or KINDS[kind] ~= false then kind = "network" end
  return _M.new(kind, _M.scrub({
    message = one_line(type(terr) == "table" and terr.message or nil) or kind,
    operation = ctx.operation, method = ctx.method, url = ctx.url,
    attempts = ctx.attempts, code = type(terr) == "table" and type(terr.code) == "number" and terr.code or nil,
  }, secret))
end

return _M
