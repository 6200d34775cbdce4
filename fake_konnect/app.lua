-- fake_konnect.app: the nginx entry point. Control API under /__fake/,
-- everything else goes through latency, fault injection and fake_konnect.api.

local json = require "fake_konnect.json"
local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local api = require "fake_konnect.api"
local reply = require "fake_konnect.reply"
local faults = require "fake_konnect.faults"
local ratelimit = require "fake_konnect.ratelimit"
local control = require "fake_konnect.control"

local _M = {}

--- init(org?): the organisation every bodiless reset returns to, from
-- fake_konnect/ctl start --users N --system-accounts M --seed S
function _M.init(org)
  if org then
    local o = assert(control.org(org, state.start_org))
    state.start_org = o
  end
end

-- the one worker builds the seed (it owns all state; nothing is shared)
function _M.init_worker()
  util.seed()
  state.reset()
end

---------------------------------------------------------------------------
-- helpers

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body == nil then
    local file = ngx.req.get_body_file()
    if file then
      local f = io.open(file, "rb")
      if f then
        body = f:read("*a")
        f:close()
      end
    end
  end
  return body
end

local function send(res, fault)
  ngx.status = res.status
  for k, v in pairs(res.headers or {}) do ngx.header[k] = v end
  ngx.header["x-kong-request-id"] = ngx.ctx.request_id
  local body = res.body or ""
  if fault and fault.truncate then
    -- promise more than we send, then close the connection
    ngx.header["Content-Length"] = #body + 64
    ngx.print(body)
    ngx.flush(true)
    return ngx.exit(444)
  end
  if fault and fault.drip and #body > 0 then
    ngx.header["Content-Length"] = #body
    local n = math.max(1, math.min(fault.drip.chunks, #body))
    local size = math.ceil(#body / n)
    local pos = 1
    while pos <= #body do
      if pos > 1 and fault.drip.interval > 0 then ngx.sleep(fault.drip.interval) end
      ngx.print(body:sub(pos, pos + size - 1))
      ngx.flush(true)
      pos = pos + size
    end
    return ngx.exit(ngx.OK)
  end
  if res.status ~= 204 and res.status ~= 304 then
    ngx.header["Content-Length"] = #body
  end
  if #body > 0 then ngx.print(body) end
  return ngx.exit(ngx.OK)
end

local function redact_headers(h)
  local out = {}
  for k, v in pairs(h) do
    k = k:lower()
    if k == "authorization" then
      local first = type(v) == "table" and v[1] or v
      local scheme = tostring(first):match("^(%S+)")
      v = (scheme or "") .. " <redacted>"
    end
    out[k] = v
  end
  return out
end

---------------------------------------------------------------------------
-- strict content negotiation (RFC 9110 12.5.1): an API response whose media
-- type the request's Accept does not admit becomes 406.  No Accept admits
-- everything; */*, type/* and the exact type admit with q > 0.

local function accepts(accept, mtype)
  if accept == nil then return true end
  if type(accept) == "table" then accept = table.concat(accept, ",") end
  local main = mtype:match("^([^/]+)/")
  for range in accept:gmatch("[^,]+") do
    local r = range:match("^%s*([^;%s]+)"):lower()
    local q = tonumber(range:match(";%s*[qQ]%s*=%s*([%d.]+)")) or 1
    if q > 0 and (r == "*/*" or r == main .. "/*" or r == mtype) then return true end
  end
  return false
end

local function negotiate(res, headers)
  local ctype = res.headers and res.headers["Content-Type"]
  if type(ctype) ~= "string" then return res end
  local mtype = ctype:match("^%s*([^;%s]+)"):lower()
  if mtype ~= "application/json" and mtype ~= "application/problem+json" then return res end
  if accepts(headers["accept"], mtype) then return res end
  return {
    status = 406,
    headers = { ["Content-Type"] = "text/plain" },
    body = "406 Not Acceptable: the response is " .. mtype .. ", which the request's Accept (" ..
      tostring(headers["accept"]) .. ") does not admit\n",
  }
end

---------------------------------------------------------------------------
-- entry point

function _M.handle()
  local method = ngx.req.get_method()
  local path = ngx.var.uri
  ngx.ctx.request_id = util.random_hex(32)

  if path:sub(1, 8) == "/__fake/" then
    return send(control.handle(method, path, read_body))
  end

  local headers = ngx.req.get_headers(100)
  local entry = { method = method, path = path, status = 0, headers = redact_headers(headers), body = json.null }
  state.record(entry)

  if state.latency_ms > 0 then ngx.sleep(state.latency_ms / 1000) end

  local limited, rl_headers = ratelimit.check() -- a limited request consumes no fault
  local fault = not limited and state.take_fault(method, path) or nil
  if fault and fault.delay and fault.delay > 0 then ngx.sleep(fault.delay) end
  if fault and fault.drop == "before_body" then
    entry.status = 444
    state.count_status(444)
    return ngx.exit(444)
  end

  local body = read_body()
  if body and #body > 0 then
    entry.body = #body > state.LOG_BODY_MAX and body:sub(1, state.LOG_BODY_MAX) or body
  end

  local res
  if limited then
    res = limited
  elseif fault and faults.replaces(fault) then
    res = faults.response(fault)
  else
    local ok, r = pcall(api.dispatch, method, path, headers, body, ngx.req.get_uri_args(100))
    if ok then
      res = r
    else
      ngx.log(ngx.ERR, "fake_konnect: ", r)
      res = reply.problem(500, "The fake Konnect failed: " .. tostring(r))
    end
  end
  if fault and fault.retry_after then
    res.headers["Retry-After"] = fault.retry_after
  end
  for k, v in pairs(rl_headers or {}) do res.headers[k] = res.headers[k] or v end
  res = negotiate(res, headers)

  if fault and fault.drop == "after_body" then
    entry.status = 444
    state.count_status(444)
    return ngx.exit(444)
  end
  entry.status = res.status
  state.count_status(res.status)
  return send(res, fault)
end

return _M
