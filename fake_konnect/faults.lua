-- fake_konnect.faults: the faults of POST /__fake/faults (see README.md):
-- parsing one, and the response a replacing fault sends instead of the API's.

local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"

local _M = {}

local function html_page(status)
  local line = status .. " " .. reply.title(status)
  return "<html>\r\n<head><title>" .. line .. "</title></head>\r\n<body>\r\n<center><h1>" ..
    line .. "</h1></center>\r\n<hr><center>fake-proxy</center>\r\n</body>\r\n</html>\r\n"
end

--- parse(obj) -> fault | nil, error: validate and normalise a fault from the control API
function _M.parse(obj)
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

--- replaces(f): does the fault replace the real response (the request is then NOT processed)?
function _M.replaces(f)
  return f.status or f.plain_429 or f.redirect or f.malformed or f.huge or f.empty
    or f.body or f.content_type
end

function _M.response(f)
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
      body = status .. " " .. reply.title(status) .. " (fault injected by the fake Konnect)\n"
      headers["Content-Type"] = ct
    else
      local p = reply.problem(status, "Fault injected by the fake Konnect",
        status == 400 and { { field = "body", rule = "invalid", reason = "fault injected", source = "body" } } or nil)
      body = p.body
      headers["Content-Type"] = ct or p.headers["Content-Type"]
    end
  end
  return { status = status, headers = headers, body = body }
end

return _M
