-- konnect.http: the one request pipeline every operation goes through.
--   transport(req) inside a retry loop -> decode JSON -> value | nil, err
-- Hooks and the log function run here, in Lua, after the transport returns:
-- never inside the C core, and only with secrets redacted.

local errors    = require "konnect.errors"
local json      = require "konnect.json"
local retry     = require "konnect.retry"
local redact    = require "konnect.redact"
local transport = require "konnect.transport"
local meta      = require "konnect.meta"

local type, pairs, pcall, tostring, format, find = type, pairs, pcall, tostring, string.format, string.find

local _M = {}

local redact_string, redact_headers, redact_body = redact.string, redact.headers, redact.body
local json_decode, rate_limit, needles_of = json.decode, meta.rate_limit, redact.needles_of

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

-- The fields a failed call's error carries besides the message (what meta
-- would have said): headers (redacted), rate_limit, elapsed, http_version.
local function response_fields(e, res, call, elapsed)
  e.headers = redact_headers(res.headers, call.secrets)
  e.rate_limit = meta.rate_limit(res.headers)
  e.elapsed, e.http_version = elapsed, res.http_version
  return e
end

-- Decode a success response for `op`.
local function success(op, res, call, elapsed)
  if op.no_content then return true end
  -- (the C core hands the content type alone: its res.headers is built on first access)
  local ctype = res.content_type
  if ctype == nil then ctype = res.headers["content-type"] end
  local body = res.body
  local why
  if not is_json(ctype) then
    why = "expected a JSON response, got " .. (ctype and ("'" .. ctype .. "'") or "no content type")
  else
    -- a server may echo the caller's token into a value: mask it before decoding
    local masked, maybe = redact_body(body, call.secrets)
    local v, derr = json_decode(masked)
    if type(v) == "table" then
      -- no form of a secret in the body, not even escaped: nothing to recheck
      if maybe then redact.decoded(v, body, call.secrets) end
      why = op.check and op.check(v)
      if not why then return v end
    else
      why = v == nil and derr or "expected a JSON object"
    end
  end
  return nil, errors.new("decode", errors.scrub(response_fields({
    message = why, status = res.status, operation = call.operation, method = call.method,
    url = call.url, attempts = call.attempts, body = errors.cap_body(body),
    request_id = res.headers["x-kong-request-id"],
  }, res, call, elapsed), call.secrets))
end

local function failure(res, call, elapsed)
  local body = res.body
  call.retry_after = retry.retry_after(res.headers["retry-after"]) or call.retry_after
  local decoded
  if body and body ~= "" then
    local v = json.decode(body)
    if type(v) == "table" then decoded = v end
  end
  local e = errors.from_http(res.status, res.headers, body, decoded, call, call.secrets)
  return response_fields(e, res, call, elapsed)
end

--- new_call(c, t, sets, op, path, body[, copts]) -> call | nil, err
-- One call's state across its attempts: the request, the error context and the
-- retry bookkeeping.  `t` is the transport it goes through, `sets` its header
-- sets (konnect.transport.select), `copts` the call's own options
-- (konnect.ops.call_options: timeout, policy, headers, base; internal: auth,
-- secrets, gate).
function _M.new_call(c, t, sets, op, path, body, copts)
  local payload
  if body ~= nil then
    local perr
    payload, perr = json.encode(body)
    if not payload then
      return nil, errors.invalid_argument("cannot encode the request body: " .. tostring(perr), op.id)
    end
  end
  local url = (copts and copts.base or c.base) .. path
  local headers = payload and sets.headers_body or sets.headers
  local lines = payload and sets.header_lines_body or sets.header_lines
  if copts and (copts.headers or copts.auth) then
    local h = {}
    for k, v in pairs(headers) do h[k] = v end
    if copts.headers then
      for k, v in pairs(copts.headers) do
        for hk in pairs(h) do -- a call's header replaces the client's of the same name, any case
          if hk:lower() == k:lower() then h[hk] = nil end
        end
        h[k] = v
      end
    end
    if copts.auth then h["Authorization"] = "Bearer " .. copts.auth end
    headers, lines = h, nil
  end
  -- the call doubles as the error context (operation, method, url, attempts)
  return {
    c = c, t = t, op = op, path = path, attempts = 0,
    operation = op.id, method = op.method, url = url,
    policy = copts and copts.policy or c.policy,
    secrets = copts and copts.secrets or c.secrets,
    gate = copts and copts.gate or nil,
    ambiguous = false, -- an earlier attempt may have reached the server
    req = {
      method = op.method, url = url, body = payload,
      once = not op.idempotent, -- the transport must never replay it by itself
      headers = headers, header_lines = lines,
      timeout = copts and copts.timeout or nil,
    },
  }
end

--- before(call): start the next attempt (hooks see it first).
function _M.before(call)
  local c, req = call.c, call.req
  local attempts = call.attempts + 1
  call.attempts = attempts
  local now = call.t.now
  local hooks = c.hooks
  if hooks and hooks.before_request then
    if attempts == 1 then call.started = now() end -- max_elapsed counts from here
    local secret = call.secrets
    run_hook(c, hooks.before_request, {
      operation = call.operation, method = req.method, url = redact_string(req.url, secret),
      attempt = attempts, headers = redact_headers(req.headers, secret), body = redact_string(req.body, secret),
    })
    call.t0 = now()
  else
    local t0 = now()
    if attempts == 1 then call.started = t0 end
    call.t0 = t0
  end
end

-- A batch's shared rate limit (konnect.batch): a 429 with Retry-After, or a
-- response saying nothing remains, holds every call not yet started; the
-- least remaining count a round saw sizes the next one.
local function gate_note(gate, call, res, rl, now)
  local policy_max = call.policy.max
  if res.status == 429 then
    local after = retry.retry_after(res.headers["retry-after"])
    if after then
      if after > policy_max then after = policy_max end
      if now + after > gate.hold then gate.hold = now + after end
      gate.limited = true
    end
  end
  if rl then
    if rl.limit then gate.limit = rl.limit end
    local left = rl.remaining
    if left then
      if left <= 0 and rl.reset then
        local reset = rl.reset > policy_max and policy_max or rl.reset
        if now + reset > gate.hold then gate.hold = now + reset end
      end
      if not gate.remaining or left < gate.remaining then gate.remaining = left end
    end
  end
end

--- after(call, res, terr) -> "done", value, err, meta | "retry", wait_seconds
-- The one place that decides what an attempt's outcome means.
function _M.after(call, res, terr)
  local c, op, req = call.c, call.op, call.req
  local secret, policy, attempt = call.secrets, call.policy, call.attempts
  local now = call.t.now
  local tnow = now()
  local elapsed = tnow - call.t0
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

  local total = tnow - call.started
  if res then
    local heard = c.heard -- what the client heard from the server (konnect.batch paces by it)
    if not heard.any then heard.any = true end
    -- (the C core says when no rate-limit header came)
    local rl = not res.no_rate_limit and rate_limit(res.headers) or nil
    if rl then heard.rate_limit = { limit = rl.limit, remaining = rl.remaining, reset = rl.reset, at = tnow } end
    local status = res.status
    if status == 429 then heard.limited = true end -- konnect.batch starts with one call (cleared by a batch)
    if call.gate then gate_note(call.gate, call, res, rl, tnow) end
    if status >= 200 and status < 300 then
      local v, err = success(op, res, call, total)
      if err then return "done", nil, err end
      return "done", v, nil, meta.new(call, res, total, rl)
    end
    -- the transport sent it twice (a kept-alive connection died): the first
    -- copy may have been processed
    if res.resent then call.ambiguous = true end
    if status == 404 and op.gone_ok and call.ambiguous then
      -- an earlier delete did land; the token is gone either way
      return "done", true, nil, meta.new(call, res, total, rl)
    end
  end

  local give_up = attempt >= policy.max_attempts or not retry.retryable(op.idempotent, res, terr)
  local wait
  if not give_up then
    local after = res and retry.retry_after(res.headers["retry-after"])
    wait = retry.delay(policy, attempt, after)
    if after then call.retry_after = after end
    give_up = total + wait > policy.max_elapsed
  end
  if give_up then
    if res then return "done", nil, failure(res, call, total) end
    local e = errors.from_transport(terr, call, secret)
    e.elapsed = total
    return "done", nil, e
  end
  if terr then
    if terr.sent ~= false then call.ambiguous = true end
  elseif res.status >= 500 then
    call.ambiguous = true
  end
  return "retry", wait
end

-- The common call's first attempt, with nothing to watch it (no hooks, no
-- log, no per-call options, no body) over a transport that returns the
-- response as values and decodes in C with the redaction check
-- (konnect.transport.curl): no call state, no request or response table.
-- It ends the call only when the answer is a 2xx JSON value that decodes and
-- passes the operation's check (what after() would make of it too; a
-- rate-limit header is read and heard as after() reads it) -> nil, value,
-- meta.  Anything else, a transport error too, goes to the general pipeline
-- as that call's first attempt: -> call, res, terr.
local function first_attempt(c, t, sets, op, path)
  local t0 = t.now()
  local secrets = c.secrets
  local status, body, ctype, rl, http_version, time, head, resent =
    t:request_values(op.method, c.base .. path, sets.header_lines, nil, not op.idempotent, nil, secrets)
  local res
  if status and status >= 200 and status < 300 and not op.no_content then
    local heard = c.heard
    if not heard.any then heard.any = true end
    if rl then -- a rate-limit header came (the C core says so): read it as after() does
      res = t.response(status, body, ctype, rl, http_version, time, head, resent)
      rl = rate_limit(res.headers)
      if rl then
        heard.rate_limit = { limit = rl.limit, remaining = rl.remaining, reset = rl.reset, at = t.now() }
      end
    end
    if ctype ~= nil and (ctype == last_json_ctype or is_json(ctype)) then
      -- the needle set of the client's secrets (made on the first answer to check,
      -- cached by konnect.redact for that secrets table; the client is not written)
      local needles = needles_of(secrets)
      -- one C call: no form of any secret in the body (not even an escape),
      -- then the decode; v == nil: held = a form may be there, mask first
      -- (redact.body, redact.decoded), or JSON the C decoder leaves to cjson
      local v, held = t.json_decode(body, needles)
      if v == nil then
        if held then
          local masked, maybe = redact_body(body, secrets)
          v = json_decode(masked)
          if maybe and type(v) == "table" then redact.decoded(v, body, secrets) end
        else
          v = json_decode(body)
        end
      end
      if type(v) == "table" then
        local check = op.check
        -- (elapsed: the transfer's own time, as libcurl measured it)
        if not (check and check(v)) then
          return nil, v, meta.first(op.id, status, http_version, head, time, rl or nil)
        end
      end
    end
  end
  local terr
  if status then
    -- (res made above when a rate-limit header came; after() reads it again, as for any attempt)
    res = res or t.response(status, body, ctype, rl, http_version, time, head, resent)
  else
    terr = body
  end
  local call = _M.new_call(c, t, sets, op, path, nil, nil)
  call.attempts, call.started, call.t0 = 1, t0, t0
  return call, res, terr
end

--- request(c, op, path, body[, copts]) -> value, nil, meta | nil, err
-- `c` is the client's internal state (see konnect.pats): base, secrets,
-- policy, tstate (konnect.transport), log, hooks.
function _M.request(c, op, path, body, copts)
  local t, sets = transport.select(c.tstate)
  if not t then
    sets.operation = op.id
    return nil, sets
  end
  local call, res, rerr
  if copts == nil and body == nil and t.request_values and t.json_decode and sets.header_lines and not c.hooks
     and not c.log then
    local v, m
    call, v, m = first_attempt(c, t, sets, op, path)
    if not call then return v, nil, m end
    res, rerr = v, m
  else
    local err
    call, err = _M.new_call(c, t, sets, op, path, body, copts)
    if not call then return nil, err end
  end
  local req, sleep, gate = call.req, t.sleep, call.gate
  while true do
    if call.attempts > 0 then -- an attempt went out (first_attempt's, or the loop's)
      local state, a, b, m = _M.after(call, res, rerr)
      if state == "done" then return a, b, m end
      if a > 0 then sleep(a) end
    end
    if gate then -- a shared rate limit says wait (konnect.batch)
      local hold = gate.hold - t.now()
      if hold > 0 then sleep(hold) end
    end
    _M.before(call)
    res, rerr = t:request(req)
  end
end

return _M
