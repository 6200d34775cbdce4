-- konnect.audit: every token of an organisation, who holds it, and what to
-- look at.
--
--   local audit = require "konnect.audit"
--   local report, err, run = audit.run(client, { expiring_within = 7 * 86400 })
--
-- It lists the users (paged), every user's personal access tokens (this
-- needs an org admin's token), the system accounts (paged) and every system
-- account's tokens (paged), and classifies each token (see classify).  A
-- failure on one owner's list is a row of report.failures and the audit goes
-- on (report.complete is then false).  Every request goes through the batch
-- machinery (konnect.batch.execute) behind one strict rate-limit gate
-- (konnect.batch.strict_gate, konnect.http's strict_note): at most one
-- request that the server may refuse is ever out, a 429 holds everything for
-- the server's Retry-After exactly (else its RateLimit-Reset, else
-- rate_limit_wait, doubled when the probe after it is refused too), so there
-- is at most one 429 per rate-limit window.  docs/API.md has the report's
-- shape and the rule's worst case.

local errors   = require "konnect.errors"
local limits   = require "konnect.limits"
local time     = require "konnect.time"
local batch    = require "konnect.batch"
local pages    = require "konnect.pages"
local pats     = require "konnect.pats"

local type, pairs, ipairs, pcall, getmetatable, format =
  type, pairs, ipairs, pcall, getmetatable, string.format

local _M = {}

local OPTIONS = {
  expiring_within = "number", unused_for = "number", near_quota = "number", users = "boolean",
  system_accounts = "boolean", concurrency = "number", progress = "function", now = "number",
  rate_limit_wait = "number", rate_limit_max_wait = "number",
}

local function bad(msg) return nil, errors.invalid_argument("audit: " .. msg) end

local function settings(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then return bad("the options must be a table") end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then return bad("unknown option " .. (type(k) == "string" and k or "(a " .. type(k) .. ")")) end
    if type(v) ~= want then return bad(format("%s must be a %s, got %s", k, want, type(v))) end
    if want == "number" and not limits.is_number(v) then return bad(k .. " must be a finite number") end
  end
  local s = {
    expiring_within = opts.expiring_within or limits.AUDIT_EXPIRING,
    unused_for = opts.unused_for or limits.AUDIT_UNUSED,
    near_quota = opts.near_quota or limits.AUDIT_NEAR_QUOTA,
    users = opts.users ~= false, system_accounts = opts.system_accounts ~= false,
    concurrency = opts.concurrency or limits.BATCH_CONCURRENCY,
    progress = opts.progress, now = opts.now or os.time(),
    max_wait = opts.rate_limit_max_wait or limits.RATE_LIMIT_MAX_WAIT,
  }
  s.wait = opts.rate_limit_wait or math.min(limits.RATE_LIMIT_WAIT, s.max_wait)
  if s.expiring_within < 0 or s.unused_for < 0 then return bad("expiring_within and unused_for must be >= 0") end
  if not limits.is_integer(s.near_quota) or s.near_quota < 1 or s.near_quota > limits.TOKEN_QUOTA then
    return bad("near_quota must be a whole number from 1 to " .. limits.TOKEN_QUOTA)
  end
  if not (s.users or s.system_accounts) then return bad("users and system_accounts are both false: nothing to do") end
  local ok, err = limits.concurrency(s.concurrency)
  if not ok then return bad(err) end
  if s.now < 0 then return bad("now must be epoch seconds") end
  if s.wait <= 0 or s.max_wait <= 0 or s.wait > s.max_wait then
    return bad("rate_limit_wait and rate_limit_max_wait must be above 0, rate_limit_wait at most rate_limit_max_wait")
  end
  return s
end

-- walk(run, jobs, on_done): every job's pages through the batch and the
-- gate.  job = { name = operation, p1 = id | nil, paged = bool }; it ends
-- with job.items (every item) or job.err.  Round k sends page k of every job
-- still going; on_done(job) as each job ends.
local function walk(run, jobs, on_done)
  local pending = {}
  for i, job in ipairs(jobs) do
    job.items, job.page = {}, 0
    pending[i] = job
  end
  local size = limits.PAGE_SIZE
  while #pending > 0 do
    local calls = {}
    for k, job in ipairs(pending) do
      job.page = job.page + 1
      local q = job.paged and { page_size = size, page_number = job.page } or nil
      if job.p1 then calls[k] = { job.name, job.p1, q } else calls[k] = { job.name, q } end
    end
    batch.execute(run.c, calls, run.concurrency, run.gate, nil, function(k, r)
      local job = pending[k]
      local m = r.meta or r.err
      run.requests = run.requests + (m and m.attempts or 0)
      if r.err then
        job.err, job.done = r.err, true
      else
        local data = r.value.data -- an array of objects: the rows' check
        for i = 1, #data do job.items[#job.items + 1] = data[i] end
        if not job.paged then
          job.done = true
        else
          local last, first = pages.judge(r.value, job.page, size, job.first)
          if last == nil then
            job.err, job.done = errors.new("decode", { operation = r.meta.operation, message = first }), true
          elseif last then
            job.done = true
          elseif job.page >= limits.MAX_PAGES_CEILING then
            job.err, job.done = errors.new("too_large", { operation = r.meta.operation, message = format(
              "more than %d pages of %d", limits.MAX_PAGES_CEILING, size) }), true
          end
          job.first = first
        end
      end
      if job.done and on_done then on_done(job) end
    end)
    local going = {}
    for _, job in ipairs(pending) do
      if not job.done then going[#going + 1] = job end
    end
    pending = going
  end
end

local function failure(owner, err, operation)
  return { owner = owner, operation = err.operation or operation, kind = err.kind, status = err.status,
           message = err.message }
end

-- The flags of one token, in this order:
--   expired_listed  PAT: state EXPIRED; system-account token: expires_at <= now
--   revoked_listed  PAT: state REVOKED
--   expiring        live (PAT ACTIVE; system-account token not expired) and
--                   expires_at <= now + expiring_within
--   never_used      no last_used_at
--   unused          last_used_at <= now - unused_for
--   near_quota      PAT of a user holding near_quota or more PATs
local function classify(kind, t, s, owner_near)
  local flags, now = {}, s.now
  local exp, used = time.rfc3339(t.expires_at), time.rfc3339(t.last_used_at)
  local live
  if kind == "pat" then
    if t.state == "EXPIRED" then flags[#flags + 1] = "expired_listed" end
    if t.state == "REVOKED" then flags[#flags + 1] = "revoked_listed" end
    live = t.state == "ACTIVE"
  else
    live = not (exp and exp <= now)
    if not live then flags[#flags + 1] = "expired_listed" end
  end
  if live and exp and exp - now <= s.expiring_within then flags[#flags + 1] = "expiring" end
  if not used then
    flags[#flags + 1] = "never_used"
  elseif now - used >= s.unused_for then
    flags[#flags + 1] = "unused"
  end
  if owner_near then flags[#flags + 1] = "near_quota" end
  return flags
end
_M.classify = classify

local function token_row(kind, owner, t, s, owner_near)
  return { kind = kind, owner = owner, id = t.id, name = t.name, state = kind == "pat" and t.state or nil,
           created_at = t.created_at, expires_at = t.expires_at, last_used_at = t.last_used_at,
           revoked_at = t.revoked_at, flags = classify(kind, t, s, owner_near) }
end

local COUNTED = { "expired_listed", "revoked_listed", "expiring", "never_used", "unused", "near_quota" }

--- run(client, opts) -> report, nil, run | nil, err
-- run = { requests, rate_limited, waited, elapsed }: what this run cost
-- (the report itself depends only on the organisation and opts.now).
function _M.run(client, opts)
  local mt = getmetatable(client)
  if type(client) ~= "table" or not mt or mt.__index ~= pats.Client then
    return bad("audit.run needs a client made by require(\"konnect.pats\").new")
  end
  local s, serr = settings(opts)
  if not s then return nil, serr end
  local t, terr = client:transport()
  if not t then return nil, terr end
  local t0 = t.now()
  local run = { c = client, concurrency = s.concurrency, requests = 0,
                gate = batch.strict_gate { wait = s.wait, max_wait = s.max_wait } }
  local report = {
    complete = true, generated_at = time.iso(s.now), tokens = {}, owners = {}, failures = {},
    settings = { expiring_within = s.expiring_within, unused_for = s.unused_for, near_quota = s.near_quota,
                 users = s.users, system_accounts = s.system_accounts },
  }
  local failures = report.failures

  -- the owners
  local users, accounts = {}, {}
  for _, part in ipairs { { s.users, "users_page", users }, { s.system_accounts, "system_accounts_page", accounts } } do
    if part[1] then
      local job = { name = part[2], paged = true }
      walk(run, { job })
      if job.err then
        failures[#failures + 1] = failure(nil, job.err)
      else
        for i, item in ipairs(job.items) do part[3][i] = item end
      end
    end
  end

  -- their tokens: the system accounts' first (a few), then the users' with progress
  local sa_jobs, user_jobs = {}, {}
  for i, a in ipairs(accounts) do
    sa_jobs[i] = { name = "sa_tokens_page", p1 = a.id, paged = true,
                   owner = { type = "system_account", id = a.id, name = a.name } }
  end
  walk(run, sa_jobs)
  for i, u in ipairs(users) do
    user_jobs[i] = { name = "list", p1 = u.id,
                     owner = { type = "user", id = u.id, name = u.full_name, email = u.email } }
  end
  local done, total, started = 0, #user_jobs, t.now()
  walk(run, user_jobs, s.progress and function()
    done = done + 1
    local tnow = t.now()
    local eta = (tnow - started) / done * (total - done)
    local hold = run.gate.hold - tnow
    if done < total and hold > eta then eta = hold end
    pcall(s.progress, done, total, eta) -- a progress function that raises is ignored
  end)

  -- the report, in list order: users, then system accounts
  local tokens, owners = report.tokens, report.owners
  local counts = { users = #users, system_accounts = #accounts, tokens = 0, pats = 0, sats = 0,
                   near_quota_users = 0 }
  for _, f in ipairs(COUNTED) do counts[f] = 0 end
  for _, jobs in ipairs { user_jobs, sa_jobs } do
    for _, job in ipairs(jobs) do
      local owner, kind = job.owner, job.name == "list" and "pat" or "sat"
      local row = { type = owner.type, id = owner.id, name = owner.name, email = owner.email }
      owners[#owners + 1] = row
      if job.err then
        row.failed = true
        failures[#failures + 1] = failure(owner, job.err)
      else
        local near = kind == "pat" and #job.items >= s.near_quota
        row.count, row.near_quota = #job.items, near
        if near then counts.near_quota_users = counts.near_quota_users + 1 end
        for _, tok in ipairs(job.items) do
          local r = token_row(kind, owner, tok, s, near)
          tokens[#tokens + 1] = r
          counts[kind .. "s"] = counts[kind .. "s"] + 1
          for _, f in ipairs(r.flags) do counts[f] = counts[f] + 1 end
        end
      end
    end
  end
  counts.tokens = counts.pats + counts.sats
  counts.failures = #failures
  report.counts = counts
  report.complete = #failures == 0
  return report, nil, { requests = run.requests, rate_limited = run.gate.limited, waited = run.gate.waited,
                        elapsed = t.now() - t0 }
end

return _M
