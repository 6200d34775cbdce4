-- konnect.errors: the one error object every failure is reported with.
--
-- An error is a plain table with a shared metatable, so it prints
-- (`tostring`, `ngx.log`), concatenates (`"failed: " .. err`) and answers
-- `err:is("not_found")`.  Constructors never raise.

local type, tostring, setmetatable, getmetatable = type, tostring, setmetatable, getmetatable
local pairs, concat, sub, match = pairs, table.concat, string.sub, string.match

local _M = { _VERSION = "0.1.0" }

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

local BODY_CAP = 2048

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
mt.__concat = function(a, b)
  if getmetatable(a) == mt then a = describe(a) end
  if getmetatable(b) == mt then b = describe(b) end
  return tostring(a) .. tostring(b)
end

--- true when `e` is one of our errors (of `kind`, when given).
local function is(e, kind)
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

-- Trim a body for keeping in an error: bounded, and cut at a UTF-8 boundary.
function _M.cap_body(body)
  if type(body) ~= "string" or #body <= BODY_CAP then return body end
  local cut = BODY_CAP
  while cut > 0 do
    local b = body:byte(cut + 1)
    if not b or b < 0x80 or b >= 0xC0 then break end
    cut = cut - 1
  end
  return sub(body, 1, cut) .. "…"
end

local function one_line(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("[%c]+", " "):gsub("^%s+", ""):gsub("%s+$", "")
  if s == "" then return nil end
  if #s > 300 then s = sub(s, 1, 300) .. "…" end
  return s
end

--- from_http(status, headers, body, decoded, ctx) -> err
-- `decoded` is the JSON-decoded body when it decoded to a table, else nil.
-- `ctx` carries operation, method, url, attempts.
function _M.from_http(status, headers, body, decoded, ctx)
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
        for i, p in pairs(e.invalid_parameters) do
          if type(p) == "table" and i <= 5 then
            reasons[#reasons + 1] = tostring(p.field or "?") .. " " .. tostring(p.reason or p.rule or "is invalid")
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
  e.message = message
  if type(e.instance) == "string" and match(e.instance, "^kong:trace:") then
    e.trace_id = e.instance
  end
  return _M.new(_M.kind_for_status(status), e)
end

--- from_transport(terr, ctx) -> err, for a failure below HTTP.
function _M.from_transport(terr, ctx)
  local kind = terr and terr.kind
  if KINDS[kind] == nil or KINDS[kind] then kind = "network" end
  return _M.new(kind, {
    message = one_line(terr and terr.message) or kind,
    operation = ctx.operation, method = ctx.method, url = ctx.url,
    attempts = ctx.attempts, code = terr and terr.code,
  })
end

return _M
