-- konnect.http: the one request pipeline every operation goes through.
--   transport(req) inside a retry loop -> decode JSON -> value | nil, err
-- Hooks and the log function run here, in Lua, after the transport returns:
-- never inside the C core, and only with secrets redacted.

local errors    = require "konnect.errors"
local json      = require "konnect.json"
local retry     = require "konnect.retry"
local redact    = require "konnect.redact"
local transport = require "konnect.transport"

local type, pcall, tostring, format, find = type, pcall, tostring, string.format, string.find

local _M = {}

local redact_string, redact_headers = redact.string, redact.headers

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
    pcall(c.log, redact_string("konnect: hook failed: " .. tostring(err), c.secrets))
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
    if type(v) == "table" then
      why = op.check and op.check(v)
      if not why then return v end
    else
      why = v == nil and derr or "expected a JSON object"
    end
  end
  return nil, errors.new("decode", errors.scrub({
    message = why, status = res.status, operation = ctx.operation, method = ctx.method,
    url = ctx.url, attempts = ctx.attempts, body = errors.cap_body(body),
    request_id = res.headers["x-kong-request-id"],
  }, secret))
end

local function failure(res, ctx, secret)
  local body = res.body
  ctx.retry_after = retry.retry_after(res.headers["retry-after"]) or ctx.retry_after
  local decoded
  if body and body ~= "" then
    local v = json.decode(body)
    if type(v) == "table" then decoded = v end
  end
  return errors.from_http(res.status, res.headers, body, decoded, ctx, secret)
end

--- new_call(c, t, sets, op, path, body) -> call | nil, err
-- One call's state across its attempts: the request, the error context and the
-- retry bookkeeping.  `t` is the transport it goes through, `sets` its header
-- sets (konnect.transport.select).
function _M.new_call(c, t, sets, op, path, body)
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
      headers = payload and sets.headers_body or sets.headers,
      header_lines = payload and sets.header_lines_body or sets.header_lines,
    },
  }
end

--- before(call): start the next attempt (hooks see it first).
function _M.before(call)
  local c, req = call.c, call.req
  call.attempts = call.attempts + 1
  local hooks = c.hooks
  if hooks and hooks.before_request then
    local secret = c.secrets
    run_hook(c, hooks.before_request, {
      operation = call.operation, method = req.method, url = redact_string(req.url, secret),
      attempt = call.attempts, headers = redact_headers(req.headers, secret), body = redact_string(req.body, secret),
    })
  end
  call.t0 = call.t.now()
end

--- after(call, res, terr) -> "done", value, err | "retry", wait_seconds
-- The one place that decides what an attempt's outcome means.
function _M.after(call, res, terr)
  local c, op, req = call.c, call.op, call.req
  local ctx = call
  local secret, policy, attempt = c.secrets, c.policy, call.attempts
  local now = call.t.now
  local elapsed = now() - call.t0
  if c.log then
    pcall(c.log, redact_string(format("konnect: %s %s %s -> %s attempt=%d %.1fms", op.id, op.method, call.path,
      tostring(res and res.status or (terr and terr.kind or "error")), attempt, elapsed * 1000), secret))
  end
  local hooks = c.hooks
  if hooks and hooks.after_response then
    run_hook(c, hooks.after_response, {
      operation = op.id, method = req.method, url = redact_string(req.url, secret), attempt = attempt,
      duration = elapsed, status = res and res.status, headers = res and redact_headers(res.headers, secret),
      body = res and redact_string(res.body, secret),
      error = terr and { kind = terr.kind, message = redact_string(tostring(terr.message), secret),
                         sent = terr.sent },
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
    return "done", nil, errors.from_transport(terr, ctx, secret)
  end
  if terr then
    if terr.sent ~= false then call.ambiguous = true end
  elseif res.status >= 500 then
    call.ambiguous = true
  end
  return "retry", wait
end

--- request(c, op, path, body) -> value | nil, err
-- `c` is the client's internal state (see konnect.pats): base, secrets,
-- policy, tstate (konnect.transport), log, hooks.
function _M.request(c, op, path, body)
  local t, sets = transport.select(c.tstate)
  if not t then
    sets.operation = op.id
    return nil, sets
  end
  local call, err = _M.new_call(c, t, sets, op, path, body)
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
