-- konnect.batch: many calls at once, results in input order.
--
--   local results, failed = client:batch({
--     { "revoke", user_id, id1 }, { "get", user_id, id2 }, { "create", user_id, { name = "x", ttl_seconds = 86400 } },
--   }, { concurrency = 16 })
--   -- results[i] = { value = … } or { err = … }
--
-- Outside nginx the calls go through libcurl's multi interface (HTTP/2
-- multiplexing over TLS where the server offers it); inside nginx through
-- ngx.thread.spawn.  Every call keeps its own retry policy: the decisions are
-- made by konnect.http, exactly as for a single call.

local http      = require "konnect.http"
local errors    = require "konnect.errors"
local limits    = require "konnect.limits"
local ops       = require "konnect.ops"
local transport = require "konnect.transport"

local type, ipairs, rawget = type, ipairs, rawget
local unpack = table.unpack or unpack -- luacheck: ignore 143

local _M = {}

-- Run prepared calls through transport:request_many, round after round,
-- until each is done; a call that must retry waits for its own delay.
local function run_multi(t, calls, out, concurrency)
  local now, sleep = t.now, t.sleep
  local pending = {}
  for i = 1, #calls do
    if calls[i] then pending[#pending + 1] = i end
  end
  while #pending > 0 do
    local ready, later, soonest = {}, {}, nil
    local tnow = now()
    for _, i in ipairs(pending) do
      local at = calls[i].ready_at
      if not at or at <= tnow then
        ready[#ready + 1] = i
      else
        later[#later + 1] = i
        if not soonest or at < soonest then soonest = at end
      end
    end
    if #ready == 0 then
      sleep(soonest - tnow)
    else
      local reqs = {}
      for k, i in ipairs(ready) do
        http.before(calls[i])
        reqs[k] = calls[i].req
      end
      local results = t:request_many(reqs, concurrency)
      for k, i in ipairs(ready) do
        local r = results[k]
        local res, terr
        if r and r.status then res = r else terr = r or { kind = "network", message = "no result", sent = true } end
        local state, a, b = http.after(calls[i], res, terr)
        if state == "done" then
          out[i] = b and { err = b } or { value = a }
        else
          calls[i].ready_at = now() + a
          later[#later + 1] = i
        end
      end
    end
    pending = later
  end
end

-- Take calls one after another from a shared cursor until none is left.
local function drain(c, jobs, out, cursor)
  while cursor.next <= #jobs do
    local i = cursor.next
    cursor.next = i + 1
    local job = jobs[i]
    if job then
      local v, err = http.request(c, job.op, job.path, job.body)
      out[i] = err and { err = err } or { value = v }
    end
  end
end

-- Inside nginx: light threads draining one queue.
local function run_threads(ngx, c, jobs, out, concurrency)
  local cursor, threads = { next = 1 }, {}
  for k = 1, math.min(concurrency, #jobs) do
    threads[k] = ngx.thread.spawn(drain, c, jobs, out, cursor)
  end
  for k = 1, #threads do ngx.thread.wait(threads[k]) end
end

--- run(c, calls, opts) -> results, failed_count
function _M.run(c, calls, opts)
  if type(calls) ~= "table" then
    return nil, errors.invalid_argument("batch needs an array of calls such as { \"revoke\", user_id, token_id }")
  end
  opts = opts or {}
  if type(opts) ~= "table" then return nil, errors.invalid_argument("batch options must be a table") end
  local concurrency, cerr = limits.concurrency(opts.concurrency or limits.BATCH_CONCURRENCY)
  if not concurrency then return nil, errors.invalid_argument(cerr) end
  local OPS = ops.OPERATIONS

  local n = #calls
  local out, jobs = {}, {}
  for i = 1, n do
    local call = calls[i]
    local op = type(call) == "table" and OPS[call[1]]
    if not op then
      out[i] = { err = errors.invalid_argument(("batch call %d: expected { \"<operation>\", args… } with one of " ..
        "list, create, get, update, delete, revoke, me"):format(i)) }
      jobs[i] = false
    else
      local path, body = ops.build(c, op, unpack(call, 2, 1 + ops.nargs(op)))
      if not path then
        out[i] = { err = body }
        jobs[i] = false
      else
        jobs[i] = { op = op, path = path, body = body }
      end
    end
  end

  local t, sets = transport.select(c.tstate)
  if not t then
    local terr = sets
    for i = 1, n do out[i] = out[i] or { err = terr } end
  elseif t.request_many then
    local prepared = {}
    for i = 1, n do
      local job = jobs[i]
      if job then
        local call, err = http.new_call(c, t, sets, job.op, job.path, job.body)
        prepared[i] = call or false
        if not call then out[i] = { err = err } end
      else
        prepared[i] = false
      end
    end
    run_multi(t, prepared, out, concurrency)
  else
    local ngx = rawget(_G, "ngx")
    if ngx and ngx.thread then
      run_threads(ngx, c, jobs, out, concurrency)
    else -- a caller-supplied transport: one call at a time
      drain(c, jobs, out, { next = 1 })
    end
  end

  local failed = 0
  for i = 1, n do
    if out[i].err then failed = failed + 1 end
  end
  return out, failed
end

return _M
