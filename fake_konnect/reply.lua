-- fake_konnect.reply: responses (problem+json errors, JSON results) and the
-- request-body checks every operation shares.  A response is
-- { status, headers, body } (body a string).

local json = require "fake_konnect.json"
local util = require "fake_konnect.util"

local _M = {}

local titles = {
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [409] = "Conflict",
  [413] = "Payload Too Large", [415] = "Unsupported Media Type",
  [429] = "Too Many Requests", [500] = "Internal Server Error",
  [502] = "Bad Gateway", [503] = "Service Unavailable", [504] = "Gateway Timeout",
}
_M.titles = titles

function _M.title(status)
  return titles[status] or (status >= 500 and "Server Error")
    or (status >= 400 and "Client Error") or "Status " .. status
end

--- problem(status, detail, invalid_parameters?) -> response
function _M.problem(status, detail, invalid)
  local body = {
    status = status,
    title = _M.title(status),
    type = "https://httpstatuses.com/" .. status,
    instance = "kong:trace:" .. util.random_digits(19),
    detail = detail,
  }
  if invalid then body.invalid_parameters = json.array(invalid) end
  return {
    status = status,
    headers = { ["Content-Type"] = "application/problem+json" },
    body = json.encode(body),
  }
end

function _M.ok_json(status, value)
  return {
    status = status,
    headers = { ["Content-Type"] = "application/json" },
    body = json.encode(value),
  }
end

function _M.no_content()
  return { status = 204, headers = {}, body = "" }
end

function _M.bad_request(invalid)
  return _M.problem(400, "Invalid Parameters", invalid)
end

--- param(field, rule, reason, source?, extra?) -> an invalid_parameters item
function _M.param(field, rule, reason, source, extra)
  local p = { field = field, rule = rule, reason = reason, source = source or "body" }
  if extra then for k, v in pairs(extra) do p[k] = v end end
  return p
end

function _M.not_allowed(allow)
  local res = _M.problem(405, "Method not allowed; allowed: " .. allow)
  res.headers["Allow"] = allow
  return res
end

---------------------------------------------------------------------------
-- request bodies

local param = _M.param

--- decode_object(body) -> table | nil, invalid_parameters
function _M.decode_object(body)
  if body == nil or body:match("^%s*$") then
    return nil, { param("body", "required", "a JSON object body is required") }
  end
  local v, err = json.decode(body)
  if v == nil and err then
    return nil, { param("body", "invalid", "is not valid JSON: " .. err) }
  end
  if type(v) ~= "table" or json.is_array_text(body) then
    return nil, { param("body", "is_object", "must be a JSON object") }
  end
  return v
end

--- check_unknown(obj, allowed, out): an unknown_property item per unknown key
function _M.check_unknown(obj, allowed, out)
  local unknown = {}
  for k in pairs(obj) do
    if type(k) ~= "string" or not allowed[k] then unknown[#unknown + 1] = tostring(k) end
  end
  table.sort(unknown)
  for _, k in ipairs(unknown) do
    out[#out + 1] = param(k, "unknown_property", "is an unknown property")
  end
end

function _M.is_integer(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
    and v == math.floor(v)
end

return _M
