-- fake_konnect.app: the nginx entry point. Control API under /__fake/,
-- everything else goes through latency, fault injection and fake_konnect.api.

local json = require "fake_konnect.json"
local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local api = require "fake_konnect.api"

local _M = {}

function _M.init()
  state.reset()
end

function _M.init_worker()
  util.seed()
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

local function control_json(status, value)
  return send(api.ok_json(status, value))
end

local function control_error(status, detail)
  return send(api.problem(status, detail,
    status == 400 and { { field = "body", rule = "invalid", reason = detail, source = "body" } } or nil))
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
-- faults

local function html_page(status)
  local line = status .. " " .. api.title(status)
  return "<html>\r\n<head><title>" .. line .. "</title></head>\r\n<body>\r\n<center><h1>" ..
    line .. "</h1></center>\r\n<hr><center>fake-proxy</center>\r\n</body>\r\n</html>\r\n"
end

-- Validate and normalise a fault from the control API -> fault | nil, error
local function parse_fault(obj)
  if type(obj) ~= "table" then return nil, "the body must be a JSON object" end
  local f = {}
  if obj.method ~= nil then
    if type(obj.method) ~= "string" then return nil, "method must be a string" end
    f.method = obj.method:upper()
  end
  if obj.path ~= nil then
    if type(obj.path) ~= "string" then return nil, "path must be a string (a Lua pattern)" end
    local ok, err = pcall(string.find, "", obj.path)
    if not ok then return nil, "path is not a valid Lua pattern: " .. tostring(err) end
    f.path = obj.path
  end
  local count = obj.count == nil and 1 or obj.count
  if type(count) ~= "number" or count < 1 or count ~= math.floor(count) then
    return nil, "count must be an integer >= 1"
  end
  f.count = count
  f.remaining = count

  local actions = 0
  if obj.status ~= nil then
    if type(obj.status) ~= "number" or obj.status < 100 or obj.status > 599 or obj.status ~= math.floor(obj.status) then
      return nil, "status must be an integer HTTP status"
    end
    f.status = obj.status
    actions = actions + 1
  end
  if obj.body ~= nil then
    if type(obj.body) ~= "string" then return nil, "body must be a string" end
    f.body = obj.body
    actions = actions + 1
  end
  if obj.content_type ~= nil then
    if type(obj.content_type) ~= "string" then return nil, "content_type must be a string" end
    f.content_type = obj.content_type
    actions = actions + 1
  end
  if obj.retry_after ~= nil then
    if type(obj.retry_after) ~= "string" and type(obj.retry_after) ~= "number" then
      return nil, "retry_after must be a string (seconds or an HTTP-date)"
    end
    f.retry_after = type(obj.retry_after) == "number" and string.format("%d", obj.retry_after) or obj.retry_after
    actions = actions + 1
  end
  for _, flag in ipairs { "plain_429", "malformed", "truncate", "empty" } do
    if obj[flag] ~= nil then
      if type(obj[flag]) ~= "boolean" then return nil, flag .. " must be a boolean" end
      if obj[flag] then f[flag] = true; actions = actions + 1 end
    end
  end
  if obj.delay ~= nil then
    if type(obj.delay) ~= "number" or obj.delay < 0 then return nil, "delay must be a number of seconds >= 0" end
    f.delay = obj.delay
    actions = actions + 1
  end
  if obj.drop ~= nil then
    if obj.drop ~= "before_body" and obj.drop ~= "after_body" then
      return nil, 'drop must be "before_body" or "after_body"'
    end
    f.drop = obj.drop
    actions = actions + 1
  end
  if obj.huge ~= nil then
    if type(obj.huge) ~= "number" or obj.huge < 1 or obj.huge ~= math.floor(obj.huge) then
      return nil, "huge must be a number of bytes >= 1"
    end
    f.huge = obj.huge
    actions = actions + 1
  end
  if obj.drip ~= nil then
    local d = obj.drip
    if type(d) ~= "table" then return nil, "drip must be an object { chunks, interval }" end
    local chunks = d.chunks == nil and 4 or d.chunks
    local interval = d.interval == nil and 0.1 or d.interval
    if type(chunks) ~= "number" or chunks < 1 or chunks ~= math.floor(chunks) then
      return nil, "drip.chunks must be an integer >= 1"
    end
    if type(interval) ~= "number" or interval < 0 then
      return nil, "drip.interval must be a number of seconds >= 0"
    end
    f.drip = { chunks = chunks, interval = interval }
    actions = actions + 1
  end
  if obj.redirect ~= nil then
    if type(obj.redirect) ~= "string" then return nil, "redirect must be a URL string" end
    f.redirect = obj.redirect
    actions = actions + 1
  end
  local known = {
    method = 1, path = 1, count = 1, status = 1, body = 1, content_type = 1, retry_after = 1,
    plain_429 = 1, malformed = 1, truncate = 1, empty = 1, delay = 1, drop = 1, huge = 1,
    drip = 1, redirect = 1,
  }
  for k in pairs(obj) do
    if not known[k] then return nil, "unknown fault property: " .. tostring(k) end
  end
  if actions == 0 then return nil, "a fault needs at least one action" end
  state.fault_seq = state.fault_seq + 1
  f.id = state.fault_seq
  return f
end

-- Does the fault replace the real response (the request is then NOT processed)?
local function replaces(f)
  return f.status or f.plain_429 or f.redirect or f.malformed or f.huge or f.empty
    or f.body or f.content_type
end

local function fault_response(f)
  local headers = {}
  local status, body
  if f.plain_429 then
    status = f.status or 429
    headers["Content-Type"] = "application/json; charset=utf-8"
    body = '{"message":"API rate limit exceeded"}'
  elseif f.redirect then
    status = f.status or 302
    headers["Location"] = f.redirect
    body = f.body or ""
    if f.content_type then headers["Content-Type"] = f.content_type end
  elseif f.malformed then
    status = f.status or 200
    headers["Content-Type"] = f.content_type or "application/json"
    body = f.body or '{"data":[{"id":"00000000-0000-4000-8000-00000000000f","name":"broken",'
  elseif f.huge then
    status = f.status or 200
    headers["Content-Type"] = f.content_type or "application/json"
    local head, tail = '{"data":[],"meta":{"number":1,"size":0,"total":0},"padding":"', '"}'
    local pad = f.huge - #head - #tail
    if pad >= 0 then
      body = head .. string.rep("x", pad) .. tail
    elseif f.huge >= 2 then
      body = string.rep(" ", f.huge - 2) .. "{}"
    else
      body = "0"
    end
  elseif f.empty then
    status = f.status or 200
    if f.content_type then headers["Content-Type"] = f.content_type end
    body = ""
  else
    status = f.status or 200
    local ct = f.content_type
    if f.body then
      body = f.body
      headers["Content-Type"] = ct or "application/json"
    elseif ct and ct:lower():find("html", 1, true) then
      body = html_page(status)
      headers["Content-Type"] = ct
    elseif ct and not ct:lower():find("json", 1, true) then
      body = status .. " " .. api.title(status) .. " (fault injected by the fake Konnect)\n"
      headers["Content-Type"] = ct
    else
      local p = api.problem(status, "Fault injected by the fake Konnect",
        status == 400 and { { field = "body", rule = "invalid", reason = "fault injected", source = "body" } } or nil)
      body = p.body
      headers["Content-Type"] = ct or p.headers["Content-Type"]
    end
  end
  return { status = status, headers = headers, body = body }
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

-- rate limiting (POST /__fake/ratelimit): a fixed one-second window
local function rate_check()
  local rl = state.ratelimit
  if not rl then return nil end
  ngx.update_time()
  local now = ngx.now()
  local window = math.floor(now)
  if rl.window ~= window then rl.window, rl.used = window, 0 end
  rl.used = rl.used + 1
  local left = rl.per_second - rl.used
  local reset = math.max(1, math.ceil(window + 1 - now))
  local extra = {}
  if rl.headers then
    extra["RateLimit-Limit"] = tostring(rl.per_second)
    extra["RateLimit-Remaining"] = tostring(left < 0 and 0 or left)
    extra["RateLimit-Reset"] = tostring(reset)
    extra["X-RateLimit-Limit-Second"] = tostring(rl.per_second)
    extra["X-RateLimit-Remaining-Second"] = tostring(left < 0 and 0 or left)
  end
  if left < 0 then
    local res = api.problem(429, "API rate limit exceeded: at most " .. rl.per_second .. " requests per second")
    res.headers["Retry-After"] = tostring(reset)
    for k, v in pairs(extra) do res.headers[k] = v end
    return res, extra
  end
  return nil, extra
end

---------------------------------------------------------------------------
-- control API

local function fault_view(f)
  local v = {}
  for k, x in pairs(f) do v[k] = x end
  return v
end

local function control(method, path)
  local function body_obj()
    local body = read_body()
    if body == nil or body:match("^%s*$") then return {} end
    local v, err = json.decode(body)
    if v == nil then return nil, "invalid JSON: " .. tostring(err) end
    if type(v) ~= "table" or json.is_array_text(body) then return nil, "the body must be a JSON object" end
    return v
  end

  if path == "/__fake/health" and method == "GET" then
    return control_json(200, { ok = true })
  elseif path == "/__fake/reset" and method == "POST" then
    state.reset()
    return send({ status = 204, headers = {}, body = "" })
  elseif path == "/__fake/faults" then
    if method == "POST" then
      local obj, err = body_obj()
      if not obj then return control_error(400, err) end
      local f
      f, err = parse_fault(obj)
      if not f then return control_error(400, err) end
      state.faults[#state.faults + 1] = f
      return control_json(201, fault_view(f))
    elseif method == "GET" then
      local list = json.array()
      for _, f in ipairs(state.faults) do list[#list + 1] = fault_view(f) end
      return control_json(200, { faults = list })
    elseif method == "DELETE" then
      state.faults = {}
      return send({ status = 204, headers = {}, body = "" })
    end
  elseif path == "/__fake/requests" and method == "GET" then
    local log = json.array()
    for i, e in ipairs(state.log) do log[i] = e end
    return control_json(200, { total = state.total, routes = state.routes, log = log })
  elseif path == "/__fake/latency" then
    if method == "POST" then
      local obj, err = body_obj()
      if not obj then return control_error(400, err) end
      local ms = obj.ms
      if type(ms) ~= "number" or ms < 0 then return control_error(400, "ms must be a number >= 0") end
      state.latency_ms = ms
      return control_json(200, { ms = ms })
    elseif method == "GET" then
      return control_json(200, { ms = state.latency_ms })
    end
  elseif path == "/__fake/ratelimit" then
    if method == "POST" then
      local obj, err = body_obj()
      if not obj then return control_error(400, err) end
      local n = obj.per_second
      if type(n) ~= "number" or n < 0 or n ~= math.floor(n) then
        return control_error(400, "per_second must be an integer >= 0 (0 turns rate limiting off)")
      end
      if obj.headers ~= nil and type(obj.headers) ~= "boolean" then
        return control_error(400, "headers must be a boolean")
      end
      for k in pairs(obj) do
        if k ~= "per_second" and k ~= "headers" then return control_error(400, "unknown property: " .. tostring(k)) end
      end
      state.ratelimit = n > 0 and { per_second = n, headers = obj.headers ~= false, used = 0 } or nil
      return control_json(200, { per_second = n, headers = n > 0 and obj.headers ~= false })
    elseif method == "GET" then
      local rl = state.ratelimit
      return control_json(200, { per_second = rl and rl.per_second or 0, headers = rl and rl.headers or false })
    end
  elseif path == "/__fake/expire" and method == "POST" then
    local obj, err = body_obj()
    if not obj then return control_error(400, err) end
    local id = obj.token_id
    if type(id) ~= "string" then return control_error(400, "token_id is required") end
    local t = state.tokens[id:lower()]
    if not t then return send(api.problem(404, "Personal access token not found: [" .. id .. "]")) end
    local now = util.now_ms()
    t.expires_at = now - 1000
    return control_json(200, api.token_view(t, now))
  else
    return send(api.problem(404, "No control endpoint [" .. method .. " " .. path .. "]"))
  end
  return send(api.problem(405, "Method not allowed for [" .. path .. "]"))
end

---------------------------------------------------------------------------
-- entry point

function _M.handle()
  local method = ngx.req.get_method()
  local path = ngx.var.uri
  ngx.ctx.request_id = util.random_hex(32)

  if path:sub(1, 8) == "/__fake/" then
    return control(method, path)
  end

  local headers = ngx.req.get_headers(100)
  local entry = { method = method, path = path, status = 0, headers = redact_headers(headers), body = json.null }
  state.record(entry)

  if state.latency_ms > 0 then ngx.sleep(state.latency_ms / 1000) end

  local limited, rl_headers = rate_check() -- a limited request consumes no fault
  local fault = not limited and state.take_fault(method, path) or nil
  if fault and fault.delay and fault.delay > 0 then ngx.sleep(fault.delay) end
  if fault and fault.drop == "before_body" then
    entry.status = 444
    return ngx.exit(444)
  end

  local body = read_body()
  if body and #body > 0 then
    entry.body = #body > state.LOG_BODY_MAX and body:sub(1, state.LOG_BODY_MAX) or body
  end

  local res
  if limited then
    res = limited
  elseif fault and replaces(fault) then
    res = fault_response(fault)
  else
    local ok, r = pcall(api.dispatch, method, path, headers, body)
    if ok then
      res = r
    else
      ngx.log(ngx.ERR, "fake_konnect: ", r)
      res = api.problem(500, "The fake Konnect failed: " .. tostring(r))
    end
  end
  if fault and fault.retry_after then
    res.headers["Retry-After"] = fault.retry_after
  end
  for k, v in pairs(rl_headers or {}) do res.headers[k] = res.headers[k] or v end
  res = negotiate(res, headers)

  if fault and fault.drop == "after_body" then
    entry.status = 444
    return ngx.exit(444)
  end
  entry.status = res.status
  return send(res, fault)
end

return _M
