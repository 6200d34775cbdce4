-- konnect.batch: many calls at once, results in input order.
--
--   local results, failed = client:batch({
--     { "revoke", user_id, id1 }, { "get", user_id, id2 }, { "create", user_id, { name = "x", ttl_seconds = 86400 } },
--   }, { concurrency = 16 })
--   -- results[i] = { value = …, meta = … } or { err = … }
--
-- Outside nginx the calls go through libcurl's multi interface (HTTP/2
-- multiplexing over TLS where the server offers it); inside nginx through
-- ngx.thread.spawn.  Every call keeps its own retry policy: the decisions are
-- made by konnect.http, exactly as for a single call.  The calls share one
-- rate limit: a 429 with Retry-After holds back every call not yet started.

local http      = require "konnect.http"
local errors    = require "konnect.errors"
local limits    = require "konnect.limits"
local ops       = require "konnect.ops"
local transport = require "konnect.transport"
local lifecycle = require "konnect.lifecycle"

local type, pairs, ipairs, rawget = type, pairs, ipairs, rawget
local unpack = table.unpack or unpack -- luacheck: ignore 143

local _M = {}

-- Run prepared calls through transport:request_many, round after round,
-- until each is done; a call that must retry waits for its own delay and
-- goes first once ready.  While the server has said nothing about a rate
-- limit, a round holds every ready call (the multi interface keeps
-- `concurrency` in flight and starts the next as soon as a slot frees).  The
-- calls share one rate limit (the gate, see konnect.http): after a 429 with
-- Retry-After, or a response saying nothing remains, no call starts before
-- the hold ends; from then on a round holds at most what the server says
-- remains (RateLimit-Remaining), or `concurrency` calls without that header.
--
-- A strict gate (the audit's, see strict_gate) sends a round only as large
-- as it knows the server will take: what RateLimit-Remaining said remains,
-- else one call (a probe), and one call after every hold; so at most one
-- request that can be refused is ever out.
local function round_size(gate, queued)
  local size = queued
  if gate.strict then
    local left = gate.remaining
    if gate.probe or not left or left < 1 then return 1 end
    return left < size and left or size
  end
  if gate.remaining then
    size = gate.remaining > 0 and gate.remaining or 1
  elseif gate.capacity then -- learned: what one window let through, then one probe at a time
    size = gate.capacity - gate.window_ok
    if size < 1 then size = 1 end
  end
  if gate.first and size > gate.first then size = gate.first end -- nothing heard yet: see _M.run
  return size
end

local function run_multi(c, t, calls, out, concurrency, gate, on_done)
  local now, sleep = t.now, t.sleep
  local queue = {}
  for i = 1, #calls do
    if calls[i] then queue[#queue + 1] = i end
  end
  while #queue > 0 do
    if gate.abort then -- a strict gate's hold was longer than it may wait: nothing more is sent
      for _, i in ipairs(queue) do
        out[i] = { err = http.refused(c, calls[i]) }
        if on_done then on_done(i, out[i]) end
      end
      return
    end
    local tnow = now()
    if gate.hold > tnow then
      sleep(gate.hold - tnow)
      tnow = now()
      -- a new window (a strict gate probes it first instead)
      if gate.strict then gate.remaining = nil else gate.remaining = gate.limit end
    end
    local size = round_size(gate, #queue)
    local ready, rest, soonest = {}, {}, nil
    for _, i in ipairs(queue) do
      local at = calls[i].ready_at
      if #ready < size and (not at or at <= tnow) then
        ready[#ready + 1] = i
      else
        rest[#rest + 1] = i
        if at and at > tnow and (not soonest or at < soonest) then soonest = at end
      end
    end
    if #ready == 0 then
      sleep(soonest - tnow)
    else
      local reqs = {}
      for k, i in ipairs(ready) do
        http.before(c, t, calls[i])
        reqs[k] = calls[i] -- a call is its own request (konnect.http.new_call)
      end
      gate.remaining = nil
      local results = t:request_many(reqs, concurrency)
      local retried, ok, limited = {}, 0, false
      for k, i in ipairs(ready) do
        local r = results[k]
        if r and r.status then
          gate.first = nil
          if r.status == 429 then limited, gate.saw429 = true, true elseif r.status < 500 then ok = ok + 1 end
        end
        local res, terr
        if r and r.status then res = r else terr = r or { kind = "network", message = "no result", sent = true } end
        local state, a, b, m = http.after(c, t, calls[i], res, terr)
        if state == "done" then
          out[i] = b and { err = b } or { value = a, meta = m }
          if on_done then on_done(i, out[i]) end
        else
          calls[i].ready_at = now() + a
          retried[#retried + 1] = i
        end
      end
      if not gate.strict then -- (a strict gate learns in konnect.http, from each response)
        if limited and gate.hold > now() then -- a window closed: what it let through is its capacity
          local seen = gate.window_ok + ok
          if not gate.capacity or seen > gate.capacity then gate.capacity = seen end
          gate.window_ok = 0
        else
          gate.window_ok = gate.window_ok + ok
        end
      end
      for _, i in ipairs(rest) do retried[#retried + 1] = i end
      queue = retried
    end
  end
end

-- Take calls one after another from a shared cursor until none is left.
local function drain(c, jobs, out, cursor, on_done)
  while cursor.next <= #jobs do
    local i = cursor.next
    cursor.next = i + 1
    local job = jobs[i]
    if job then
      local v, err, m = http.request(c, job.op, job.url, job.body, job.copts)
      out[i] = err and { err = err } or { value = v, meta = m }
      if on_done then on_done(i, out[i]) end
    end
  end
end

-- Inside nginx: light threads draining one queue.
local function run_threads(ngx, c, jobs, out, concurrency, on_done)
  local cursor, threads = { next = 1 }, {}
  for k = 1, math.min(concurrency, #jobs) do
    threads[k] = ngx.thread.spawn(drain, c, jobs, out, cursor, on_done)
  end
  for k = 1, #threads do ngx.thread.wait(threads[k]) end
end

--- strict_gate{ wait =, max_wait = } -> a gate for execute() that never has
--- more than one request out that the server may refuse (see run_multi and
--- konnect.http's strict_note): the audit's.
function _M.strict_gate(o)
  return { strict = true, hold = 0, wait = o.wait or limits.RATE_LIMIT_WAIT,
           max_wait = o.max_wait or limits.RATE_LIMIT_MAX_WAIT, probe = false, limited = 0, waited = 0 }
end

local BATCH_OPTIONS = { concurrency = true }

-- A call's per-call options over the batch's (the call's own keys win).
local function merged(batch_copts, own)
  if batch_copts == nil then return own end
  if type(own) ~= "table" then return own == nil and batch_copts or own end
  local m = {}
  for k, v in pairs(batch_copts) do m[k] = v end
  for k, v in pairs(own) do m[k] = v end
  return m
end

--- run(c, calls, opts, copts) -> results, failed_count
function _M.run(c, calls, opts, copts)
  if type(calls) ~= "table" then
    return nil, errors.invalid_argument("batch needs an array of calls such as { \"revoke\", user_id, token_id }")
  end
  opts = opts or {}
  if type(opts) ~= "table" then return nil, errors.invalid_argument("batch options must be a table") end
  for k in pairs(opts) do
    if not BATCH_OPTIONS[k] then
      return nil, errors.invalid_argument("batch: unknown option " .. (type(k) == "string" and k or
        "(a " .. type(k) .. ")") .. " (expected concurrency; per-call options go in the third table)")
    end
  end
  local concurrency, cerr = limits.concurrency(opts.concurrency or limits.BATCH_CONCURRENCY)
  if not concurrency then return nil, errors.invalid_argument(cerr) end
  if copts ~= nil then -- checked once, for a clear error before anything runs
    local ok, err = ops.call_options(c, copts, "batch")
    if not ok then return nil, err end
  end
  local OPS = ops.OPERATIONS
  -- The shared rate limit, starting from what the client last heard.  Until a
  -- round hears the server, a round holds at most `first` calls: for a client
  -- that never heard it, `concurrency` (one wave: the multi interface would
  -- not start more at once anyway, so a fresh client pays no extra round trip,
  -- and a server that limits it meets at most one wave unawares); one probing
  -- call when the client has heard a 429 and no current RateLimit figures say
  -- more (a batch that meets no 429 clears that).
  local heard = c.heard
  local gate = { hold = 0, window_ok = 0, first = not heard.any and concurrency or nil }
  local known = heard.rate_limit
  if known then
    local t0 = transport.select(c.tstate)
    local tnow = t0 and t0.now() or 0
    if not known.reset or known.at + known.reset > tnow then
      gate.limit, gate.remaining = known.limit, known.remaining
      if known.remaining == 0 and known.reset then gate.hold = known.at + known.reset end
      known = true
    else
      known = false
    end
  end
  if heard.limited and not known then gate.first = 1 end

  local out = _M.execute(c, calls, concurrency, gate, copts)
  local failed = 0
  for i = 1, #calls do
    local r = out[i]
    if r.err then
      failed = failed + 1
      if r.err.kind == "conflict" and r.err.operation == OPS.create.id and not r.err.quota then
        lifecycle.explain_quota(c, nil, r.err) -- no extra call per failure: the static reason
      end
    end
  end
  return out, failed
end

--- names() -> "list, create, …": the operations a batch call may name
function _M.names()
  local names = {}
  for name in pairs(ops.OPERATIONS) do names[#names + 1] = name end
  table.sort(names)
  return table.concat(names, ", ")
end

--- execute(c, calls, concurrency, gate[, copts[, on_done]]) -> results: the
--- calls (as client:batch takes them, checked here) through the gate;
--- on_done(i, result) as each one ends.  client:batch and the audit use it.
function _M.execute(c, calls, concurrency, gate, copts, on_done)
  local OPS = ops.OPERATIONS
  local n = #calls
  local out, jobs = {}, {}
  for i = 1, n do
    local call = calls[i]
    local op = type(call) == "table" and OPS[call[1]]
    if not op then
      out[i] = { err = errors.invalid_argument(("batch call %d: expected { \"<operation>\", args… } with one of " ..
        "%s"):format(i, _M.names())) }
      jobs[i] = false
      if on_done then on_done(i, out[i]) end
    else
      local nargs = ops.nargs(op)
      local args = { unpack(call, 2, 1 + nargs) }
      args[nargs + 1] = merged(copts, call[2 + nargs])
      local url, body, jcopts = ops.build(c, op, unpack(args, 1, nargs + 2))
      if not url then
        out[i] = { err = body }
        jobs[i] = false
        if on_done then on_done(i, out[i]) end
      else
        jcopts = jcopts or {}
        jcopts.gate = gate
        jobs[i] = { op = op, url = url, body = body, copts = jcopts }
      end
    end
  end

  local t, sets = transport.select(c.tstate)
  if not t then
    local terr = sets
    for i = 1, n do
      if not out[i] then
        out[i] = { err = terr }
        if on_done then on_done(i, out[i]) end
      end
    end
  elseif t.request_many then
    local prepared = {}
    for i = 1, n do
      local job = jobs[i]
      if job then
        local call, err = http.new_call(sets, job.op, job.url, job.body, job.copts)
        prepared[i] = call or false
        if not call then
          out[i] = { err = err }
          if on_done then on_done(i, out[i]) end
        end
      else
        prepared[i] = false
      end
    end
    run_multi(c, t, prepared, out, concurrency, gate, on_done)
    if not gate.saw429 and not gate.strict then c.heard.limited = nil end -- a whole batch went through unlimited
  else
    local ngx = rawget(_G, "ngx")
    if ngx and ngx.thread and not gate.strict then
      run_threads(ngx, c, jobs, out, concurrency, on_done)
    else -- a caller-supplied transport, or a strict gate: one call at a time
      drain(c, jobs, out, { next = 1 }, on_done)
    end
  end

  return out
end

return _M
