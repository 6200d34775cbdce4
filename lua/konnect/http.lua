-- konnect.http: the one request pipeline every operation goes through.
--   transport(req) inside a retry loop -> decode JSON -> value | nil, err
-- Hooks and the log function run here, in Lua, after the transport returns:
-- never inside the C core, and only with secrets redacted.

local errors = require "konnect.errors"
local json   = require "konnect.json"
local retry  = require "konnect.retry"

local type, pcall, pairs, tostring, format = type, pcall, pairs, tostring, string.format
local find, sub, gsub, concat = string.find, string.sub, string.gsub, table.concat

local _M = { _VERSION = "0.1.0" }

local REDACTED = "<redacted>"

--- redact(s, secret) -> s with the secret and any konnect_token value masked.
local function redact(s, secret)
  if type(s) ~= "string" then return s end
  if secret and secret ~= "" then
    local out, i = {}, 1
    while true do
      local a, b = find(s, secret, i, true)
      if not a then break end
      out[#out + 1] = sub(s, i, a - 1)
      out[#out + 1] = REDACTED
      i = b + 1
    end
    if i > 1 then
      out[#out + 1] = sub(s, i)
      s = concat(out)
    end
  end
  if find(s, "konnect_token", 1, true) then
    s = gsub(s, '("konnect_token"%s*:%s*)"[^"]*"', '%1"' .. REDACTED .. '"')
  end
  -- anything token-shaped that slipped through (a server echoing a secret)
  s = gsub(s, "([ks]pat_)[%w_]+", "%1" .. REDACTED)
  return s
end
_M.redact = redact

local function redacted_headers(headers)
  local h = {}
  for k, v in pairs(headers) do
    if k:lower() == "authorization" then
      h[k] = (v:match("^(%S+)") or "") .. " " .. REDACTED
    else
      h[k] = v
    end
  end
  return h
end

local last_json_ctype = "application/json"
local function is_json(ctype)
  if ctype == last_json_ctype then return true end
  if ctype ~= nil and (find(ctype, "^application/json") or find(ctype, "^application/[%w.+-]*%+json")) then
    last_json_ctype = ctype
    return true
  end
  return false
end

local function run_hook(c, fn, view)
  local ok, err = pcall(fn, view)
  if not ok and c.log then
    pcall(c.log, "konnect: hook failed: " .. redact(tostring(err), c.token))
  end
end

-- Decode a success response for `op`.
local function success(op, res, ctx, secret)
  if op.no_content then return true end
  local ctype = res.headers["content-type"]
  local body = res.body
  local why
  if not is_json(ctype) then
    why = "expected a JSON response, got " .. (ctype and ("'" .. ctype .. "'") or "no content type")
  else
    local v, derr = json.decode(body)
    if type(v) == "table" then return v end
    why = v == nil and derr or "expected a JSON object"
  end
  return nil, errors.new("decode", {
    message = why, status = res.status, operation = ctx.operation, method = ctx.method,
    url = ctx.url, attempts = ctx.attempts, body = errors.cap_body(redact(body, secret)),
    request_id = res.headers["x-kong-request-id"],
  })
end

local function failure(res, ctx, secret)
  local body = redact(res.body, secret)
  ctx.retry_after = retry.retry_after(res.headers["retry-after"]) or ctx.retry_after
  local decoded
  if body and body ~= "" then
    local v = json.decode(body)
    if type(v) == "table" then decoded = v end
  end
  return errors.from_http(res.status, res.headers, body, decoded, ctx)
end

--- prepare(c, t, op, path, body) -> call | nil, err
-- One call's state across its attempts: the request, the error context and the
-- retry bookkeeping.  `t` is the transport it goes through.
function _M.prepare(c, t, op, path, body)
  local payload
  if body ~= nil then
    local perr
    payload, perr = json.encode(body)
    if not payload then
      return nil, errors.invalid_argument("cannot encode the request body: " .. tostring(perr), op.id)
    end
  end
  local url = c.base .. path
  -- the call doubles as the error context (operation, method, url, attempts)
  return {
    c = c, t = t, op = op, path = path, attempts = 0, started = t.now(),
    operation = op.id, method = op.method, url = url,
    ambiguous = false, -- an earlier attempt may have reached the server
    req = {
      method = op.method, url = url, body = payload,
      once = not op.idempotent, -- the transport must never replay it by itself
      headers = payload and c.headers_body or c.headers,
      header_lines = payload and c.header_lines_body or c.header_lines,
    },
  }
end

--- before(call): start the next attempt (hooks see it first).
function _M.before(call)
  local c, req = call.c, call.req
  call.attempts = call.attempts + 1
  local hooks = c.hooks
  if hooks and hooks.before_request then
    run_hook(c, hooks.before_request, {
      operation = call.operation, method = req.method, url = req.url, attempt = call.attempts,
      headers = redacted_headers(req.headers), body = redact(req.body, c.token),
    })
  end
  call.t0 = call.t.now()
end

--- after(call, res, terr) -> "done", value, err | "retry", wait_seconds
-- The one place that decides what an attempt's outcome means.
function _M.after(call, res, terr)
  local c, op, req = call.c, call.op, call.req
  local ctx = call
  local secret, policy, attempt = c.token, c.policy, call.attempts
  local now = call.t.now
  local elapsed = now() - call.t0
  if c.log then
    pcall(c.log, format("konnect: %s %s %s -> %s attempt=%d %.1fms", op.id, op.method, call.path,
      res and res.status or (terr and terr.kind or "error"), attempt, elapsed * 1000))
  end
  local hooks = c.hooks
  if hooks and hooks.after_response then
    run_hook(c, hooks.after_response, {
      operation = op.id, method = req.method, url = req.url, attempt = attempt, duration = elapsed,
      status = res and res.status, headers = res and res.headers,
      body = res and redact(res.body, secret),
      error = terr and { kind = terr.kind, message = redact(terr.message, secret), sent = terr.sent },
    })
  end

  if res then
    local status = res.status
    if status >= 200 and status < 300 then
      return "done", success(op, res, ctx, secret)
    end
    -- the transport sent it twice (a kept-alive connection died): the first
    -- copy may have been processed
    if res.resent then call.ambiguous = true end
    if status == 404 and op.gone_ok and call.ambiguous then
      return "done", true -- an earlier delete did land; the token is gone either way
    end
  end

  local give_up = attempt >= policy.max_attempts or not retry.retryable(op.idempotent, res, terr)
  local wait
  if not give_up then
    local after = res and retry.retry_after(res.headers["retry-after"])
    wait = retry.delay(policy, attempt, after)
    if after then ctx.retry_after = after end
    give_up = now() - call.started + wait > policy.max_elapsed
  end
  if give_up then
    if res then return "done", nil, failure(res, ctx, secret) end
    return "done", nil, errors.from_transport(terr, ctx)
  end
  if terr then
    if terr.sent ~= false then call.ambiguous = true end
  elseif res.status >= 500 then
    call.ambiguous = true
  end
  return "retry", wait
end

--- request(c, op, path, body) -> value | nil, err
-- `c` is the client's internal state (see konnect.pats): base, token,
-- headers, header_lines, policy, transport(), log, hooks.
function _M.request(c, op, path, body)
  local t, terr = c:transport()
  if not t then
    terr.operation = op.id
    return nil, terr
  end
  local call, err = _M.prepare(c, t, op, path, body)
  if not call then return nil, err end
  local req, sleep = call.req, t.sleep
  while true do
    _M.before(call)
    local res, rerr = t:request(req)
    local state, a, b = _M.after(call, res, rerr)
    if state == "done" then return a, b end
    if a > 0 then sleep(a) end
  end
end

return _M
