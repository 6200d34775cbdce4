-- konnect.http: the one request pipeline every call goes through, on every
-- transport:
--   new_call -> { before -> transport:request(call) -> after } -> value | nil, err
-- after() is the only place an attempt's outcome is decided (success, retry
-- after a wait, or the final error); the sequential loop below and
-- konnect.batch both use it.  Hooks and the log function run here, in Lua,
-- after the transport returns: never inside the C core, and only with
-- secrets redacted.

local errors    = require "konnect.errors"
local json      = require "konnect.json"
local retry     = require "konnect.retry"
local redact    = require "konnect.redact"
local transport = require "konnect.transport"
local meta      = require "konnect.meta"

local type, pairs, pcall, tostring = type, pairs, pcall, tostring
local format, find, sub, match, lower = string.format, string.find, string.sub, string.match, string.lower

local _M = {}

local redact_string, redact_headers, redact_body, redact_decoded = redact.string, redact.headers, redact.body,
  redact.decoded
local from_json, rate_limit, new_meta = json.decode, meta.rate_limit, meta.new

-- application/json or a structured type ending in +json, parameters allowed
-- (type and subtype are case-insensitive: RFC 9110, 8.3.1)
local function is_json(ctype)
  local mt = ctype and match(ctype, "^%s*([^;%s]+)")
  if not mt then return false end
  mt = lower(mt)
  return mt == "application/json" or find(mt, "^application/[%w!#$&^_.-]+%+json$") ~= nil
end

local function run_hook(c, fn, view)
  local ok, err = pcall(fn, view)
  if not ok and c.log then
    pcall(c.log, redact_string("konnect: hook failed: " .. tostring(err), c.secrets))
  end
end

-- The fields a failed call's error carries besides the message (what meta
-- would have said): headers (redacted), rate_limit, elapsed, http_version.
local function response_fields(e, res, secrets, elapsed)
  e.headers = redact_headers(res.headers, secrets)
  e.rate_limit = rate_limit(res.headers)
  e.elapsed, e.http_version = elapsed, res.http_version
  return e
end

-- The context an error of this call names (konnect.errors).
local function context(call)
  return { operation = call.op.id, method = call.method, url = call.url, attempts = call.attempts,
           retry_after = call.retry_after }
end

-- A 2xx answer for `op` -> value | nil, decode error
local function success(op, res, call, secrets, elapsed)
  if op.no_content then return true end
  -- (the C core hands the content type alone: its res.headers is built on first access)
  local ctype = res.content_type
  if ctype == nil then ctype = res.headers["content-type"] end
  local body = res.body
  local why
  if ctype ~= "application/json" and not is_json(ctype) then
    why = "expected a JSON response, got " .. (ctype and ("'" .. ctype .. "'") or "no content type")
  else
    -- The one redaction-then-decode sequence: a server may echo the caller's
    -- token into a value, so the caller's secrets are masked before decoding;
    -- when a form of one may have been there (an escape, say), the decoded
    -- strings are checked again (a token escaped twice decodes to its
    -- escaped form).
    local masked, maybe = redact_body(body, secrets)
    local v, derr = from_json(masked)
    if maybe and type(v) == "table" then redact_decoded(v, body, secrets) end
    if type(v) == "table" then
      why = op.check and op.check(v)
      if not why then return v end
    else
      why = v == nil and derr or "expected a JSON object"
    end
  end
  local e = context(call)
  e.message, e.status, e.body, e.request_id = why, res.status, errors.cap_body(body), res.headers["x-kong-request-id"]
  return nil, errors.new("decode", errors.scrub(response_fields(e, res, secrets, elapsed), secrets))
end

local function failure(res, call, secrets, elapsed)
  local body = res.body
  call.retry_after = retry.retry_after(res.headers["retry-after"]) or call.retry_after
  local decoded
  if body and body ~= "" then
    local v = from_json(body)
    if type(v) == "table" then decoded = v end
  end
  local e = errors.from_http(res.status, res.headers, body, decoded, context(call), secrets)
  return response_fields(e, res, secrets, elapsed)
end

--- new_call(sets, op, url, body[, copts]) -> call | nil, err
-- One call's state across its attempts, in one table that is also the
-- request the transport sends (the transport contract's `req`: method, url,
-- headers, header_lines, once[, body, timeout]), with op, attempts and t0
-- (when the current attempt started).  Only a call that has them carries
-- started (when its first attempt started, if not t0), secrets, policy and
-- gate (else the client's), base (its own server_url), ambiguous (an
-- earlier attempt may have reached the server) and retry_after: a smaller
-- table is made, filled and collected faster.  The client and the transport
-- travel beside the call (before, after).  `url` is konnect.ops' (under the
-- call's server_url when it has one), `sets` the transport's header sets
-- (konnect.transport.select), `copts` the call's own options
-- (konnect.ops.call_options: timeout, policy, headers, base; internal: auth,
-- secrets, gate).
function _M.new_call(sets, op, url, body, copts)
  local payload
  if body ~= nil then
    local perr
    payload, perr = json.encode(body)
    if not payload then
      return nil, errors.invalid_argument("cannot encode the request body: " .. tostring(perr), op.id)
    end
  end
  if payload == nil and copts == nil then
    return {
      method = op.method, url = url, headers = sets.headers, header_lines = sets.header_lines,
      once = not op.idempotent, -- the transport must never replay it by itself
      op = op, attempts = 0, t0 = 0,
    }
  end
  local headers, lines
  if payload then
    headers, lines = sets.headers_body, sets.header_lines_body
  else
    headers, lines = sets.headers, sets.header_lines
  end
  copts = copts or {}
  if copts.headers or copts.auth then
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
  return {
    method = op.method, url = url, headers = headers, header_lines = lines, once = not op.idempotent,
    body = payload, timeout = copts.timeout,
    op = op, attempts = 0, t0 = 0, started = false,
    secrets = copts.secrets, policy = copts.policy, gate = copts.gate, base = copts.base,
  }
end

--- before(c, t, call): start the next attempt over transport t (hooks see it first).
function _M.before(c, t, call)
  local attempts = call.attempts + 1
  call.attempts = attempts
  local now = t.now
  -- when the call started (max_elapsed counts from there): the first
  -- attempt's t0, unless a hook ran before it
  if attempts > 1 and not call.started then call.started = call.t0 end
  local hooks = c.hooks
  if hooks and hooks.before_request then
    if attempts == 1 then call.started = now() end
    local secret = call.secrets or c.secrets
    run_hook(c, hooks.before_request, {
      operation = call.op.id, method = call.method, url = redact_string(call.url, secret),
      attempt = attempts, headers = redact_headers(call.headers, secret), body = redact_string(call.body, secret),
    })
  end
  call.t0 = now()
end

-- A batch's shared rate limit (konnect.batch): a 429 with Retry-After, or a
-- response saying nothing remains, holds every call not yet started; the
-- least remaining count a round saw sizes the next one.
local function gate_note(gate, policy, res, rl, now)
  local policy_max = policy.max
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

-- A strict gate (the audit's, konnect.batch.strict_gate): at most one 429
-- per rate-limit window.  It learns what every response says; a hold after
-- a 429 is the server's Retry-After exactly, else its RateLimit-Reset, else
-- gate.wait (limits.RATE_LIMIT_WAIT), doubled when the probe after a hold
-- is refused too; a hold longer than gate.max_wait ends the run
-- (gate.abort).  After any hold the next request goes alone (gate.probe).
local function strict_hold(gate, now, after, why)
  if after > gate.max_wait then
    gate.abort = format("the server asks to wait %.15g s (%s), more than the %.15g s this run waits", after, why,
      gate.max_wait)
    return
  end
  if now + after > gate.hold then gate.hold = now + after end
  gate.waited = gate.waited + after
  gate.probe = true
end

local function strict_note(gate, res, rl, now)
  if rl then
    if rl.limit then gate.limit = rl.limit end
    local left = rl.remaining
    if left and (not gate.remaining or left < gate.remaining) then gate.remaining = left end
  end
  if res.status ~= 429 then
    gate.probe = false -- it went through: the window is open
    if rl and rl.remaining and rl.remaining <= 0 and rl.reset then
      strict_hold(gate, now, rl.reset, "RateLimit-Reset")
    end
    return
  end
  gate.limited = gate.limited + 1
  local after, why = retry.retry_after(res.headers["retry-after"]), "Retry-After"
  if not after and rl and rl.reset then after, why = rl.reset, "RateLimit-Reset" end
  if not after then
    -- the probe after a hold refused too (not another answer of the round that met the first 429)
    if gate.probe and now >= gate.hold then gate.wait = gate.wait * 2 end
    after, why = gate.wait, "no Retry-After"
  end
  strict_hold(gate, now, after, why)
end

--- refused(c, call) -> the error of a call a strict gate did not send (gate.abort)
function _M.refused(c, call)
  local e = context(call)
  e.message = "not sent: " .. tostring(call.gate.abort)
  return errors.new("rate_limited", errors.scrub(e, call.secrets or c.secrets))
end

--- after(c, t, call, res, terr) -> "done", value, err, meta | "retry", wait_seconds
-- The one place that decides what an attempt's outcome means.
function _M.after(c, t, call, res, terr)
  local op, attempt = call.op, call.attempts
  local secrets = call.secrets or c.secrets
  local tnow = t.now()
  local log, hooks = c.log, c.hooks
  if log then
    local path = sub(call.url, #(call.base or c.base) + 1)
    pcall(log, redact_string(format("konnect: %s %s %s -> %s attempt=%d %.1fms", op.id, op.method, path,
      tostring(res and res.status or (terr and terr.kind or "error")), attempt, (tnow - call.t0) * 1000), secrets))
  end
  if hooks and hooks.after_response then
    run_hook(c, hooks.after_response, {
      operation = op.id, method = call.method, url = redact_string(call.url, secrets), attempt = attempt,
      duration = tnow - call.t0, status = res and res.status, headers = res and redact_headers(res.headers, secrets),
      body = res and redact_string(res.body, secrets),
      error = terr and { kind = terr.kind, message = redact_string(tostring(terr.message), secrets),
                         sent = terr.sent },
    })
  end

  local total = tnow - (call.started or call.t0)
  if res then
    local heard = c.heard -- what the client heard from the server (konnect.batch paces by it)
    if not heard.any then heard.any = true end
    -- (the C core says when no rate-limit header came)
    local rl = not res.no_rate_limit and rate_limit(res.headers) or nil
    if rl then heard.rate_limit = { limit = rl.limit, remaining = rl.remaining, reset = rl.reset, at = tnow } end
    local status = res.status
    if status == 429 then heard.limited = true end -- konnect.batch starts with one call (cleared by a batch)
    local gate = call.gate
    if gate then
      if gate.strict then
        strict_note(gate, res, rl, tnow)
      else
        gate_note(gate, call.policy or c.policy, res, rl, tnow)
      end
    end
    if status >= 200 and status < 300 then
      local v, err = success(op, res, call, secrets, total)
      if err then return "done", nil, err end
      return "done", v, nil, new_meta(call, res, secrets, total, rl)
    end
    -- the transport sent it twice (a kept-alive connection died): the first
    -- copy may have been processed
    if res.resent then call.ambiguous = true end
    if status == 404 and op.gone_ok and call.ambiguous then
      -- an earlier delete did land; the token is gone either way
      return "done", true, nil, new_meta(call, res, secrets, total, rl)
    end
  end

  local gate = call.gate
  if res and res.status == 429 and gate and gate.strict then
    -- the gate decides when it goes again, not the call's retry policy
    if gate.abort then
      local e = failure(res, call, secrets, total)
      e.message = e.message .. " (" .. gate.abort .. ")"
      return "done", nil, e
    end
    call.limited = (call.limited or 0) + 1
    return "retry", 0
  end
  local policy = call.policy or c.policy
  local give_up = attempt - (call.limited or 0) >= policy.max_attempts or not retry.retryable(op.idempotent, res, terr)
  local wait
  if not give_up then
    local after = res and retry.retry_after(res.headers["retry-after"])
    wait = retry.delay(policy, attempt, after)
    if after then call.retry_after = after end
    give_up = total + wait > policy.max_elapsed
  end
  if give_up then
    if res then return "done", nil, failure(res, call, secrets, total) end
    local e = errors.from_transport(terr, context(call), secrets)
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

--- request(c, op, url, body[, copts]) -> value, nil, meta | nil, err
-- `c` is the client's internal state (see konnect.pats): base, secrets,
-- policy, tstate (konnect.transport), heard, log, hooks.
function _M.request(c, op, url, body, copts)
  local t, sets = transport.select(c.tstate)
  if not t then
    sets.operation = op.id
    return nil, sets
  end
  local call, err = _M.new_call(sets, op, url, body, copts)
  if not call then return nil, err end
  local before, after, gate = _M.before, _M.after, call.gate
  while true do
    if gate then -- a shared rate limit says wait (konnect.batch)
      if gate.abort then return nil, _M.refused(c, call) end
      local hold = gate.hold - t.now()
      if hold > 0 then t.sleep(hold) end
    end
    before(c, t, call)
    local state, a, b, m = after(c, t, call, t:request(call))
    if state == "done" then return a, b, m end
    if a > 0 then t.sleep(a) end
  end
end

return _M
