-- konnect.audit against the fake Konnect, over real sockets: the report is
-- the one computed straight from the server's state (spec/support/
-- audit_reference.lua), failures are rows and the audit goes on, the rate
-- limit is met with at most one 429 per window.  The minute-long audit of
-- the whole seeded organisation is spec/audit/org_audit.lua (a lane of its own).
local audit = require "konnect.audit"
local errors = require "konnect.errors"
local core = require "konnect.core"
local fake = require "support.fake"
local reference = require "support.audit_reference"
local contract = require "support.contract_check"

local SMALL = { users = 40, system_accounts = 5 }

-- the state and the audit's clock: the server's, in whole seconds
local function snapshot()
  local st = fake.state()
  return st, reference.epoch(st.now)
end

local function windows()
  local out = {}
  for _, w in ipairs(fake.ratelimit_report().windows) do out[#out + 1] = w.requests .. "/" .. w.limited end
  return table.concat(out, " ")
end

describe("konnect.audit", function()
  local admin, check
  before_each(function()
    fake.ratelimit(0)
    fake.reset(SMALL)
    check = contract.new()
    admin = fake.client { token = fake.ADMIN_TOKEN, hooks = check.hooks }
  end)
  after_each(function()
    fake.ratelimit(0)
    assert.same({}, check.violations)
  end)

  it("reports every token of the organisation exactly as the server's state has them", function()
    local st, now = snapshot()
    local report, err, run = audit.run(admin, { now = now })
    assert.is_nil(err)
    assert.same(reference.report(st, { now = now }), report)
    assert.is_true(report.complete)
    assert.equal(reference.requests(st), run.requests)
    assert.equal(run.requests, check.requests)
    -- the small organisation has every flag
    for _, f in ipairs { "expired_listed", "revoked_listed", "expiring", "never_used", "unused", "near_quota" } do
      assert.is_true(report.counts[f] > 0, f)
    end
    assert.is_true(report.counts.sats > 0 and report.counts.pats > 0)
  end)

  it("takes its thresholds from the options, and can leave out users or system accounts", function()
    local st, now = snapshot()
    local o = { now = now, expiring_within = 30 * 86400, unused_for = 10 * 86400, near_quota = 5 }
    assert.same(reference.report(st, o), (audit.run(admin, o)))
    local only_sa = assert(audit.run(admin, { now = now, users = false }))
    assert.same(reference.report(st, { now = now, users = false }), only_sa)
    assert.equal(0, only_sa.counts.pats)
    local only_users = assert(audit.run(admin, { now = now, system_accounts = false }))
    assert.same(reference.report(st, { now = now, system_accounts = false }), only_users)
  end)

  it("at the thresholds' edges: a token expiring at `now` is expired, one at now + expiring_within is expiring, " ..
    "one last used unused_for ago is unused; 0 for either threshold is allowed", function()
    local st = fake.state()
    local sat, pat
    for _, a in ipairs(st.system_accounts) do
      for _, t in ipairs(a.tokens) do
        if t.expires_at and t.last_used_at and reference.epoch(t.last_used_at) < reference.epoch(t.expires_at) - 2 then
          sat = sat or t
        end
      end
    end
    for _, u in ipairs(st.users) do
      for _, t in ipairs(u.tokens) do
        if t.state == "ACTIVE" and t.expires_at and t.last_used_at then pat = pat or t end
      end
    end
    assert.is_table(sat, "a system-account token with an expiry and a last use")
    assert.is_table(pat, "an active personal access token with an expiry and a last use")
    local function flags_of(report, id)
      for _, t in ipairs(report.tokens) do if t.id == id then return table.concat(t.flags, " ") end end
    end
    local exp, used = reference.epoch(sat.expires_at), reference.epoch(sat.last_used_at)
    local cases = {
      { now = exp, expiring_within = 0, unused_for = 0 },                    -- expired at its very second
      { now = exp - 1, expiring_within = 1, unused_for = 0 },                -- one second left: expiring
      { now = exp - 2, expiring_within = 1, unused_for = exp - 2 - used },   -- used exactly unused_for ago
      { now = exp - 2, expiring_within = 1, unused_for = exp - 1 - used },   -- a second short of it
      { now = reference.epoch(pat.expires_at) - 60, expiring_within = 60,
        unused_for = reference.epoch(pat.expires_at) - 60 - reference.epoch(pat.last_used_at) },
    }
    local want_flags = { "expired_listed unused", "expiring unused", "unused", "" }
    for i, o in ipairs(cases) do
      local got = assert(audit.run(admin, o))
      assert.same(reference.report(st, o), got, "case " .. i)
      if want_flags[i] then assert.equal(want_flags[i], flags_of(got, sat.id), "case " .. i) end
    end
    assert.matches("expiring unused", flags_of(assert(audit.run(admin, cases[5])), pat.id), 1, true)
  end)

  it("a 403 on one user's list is a row of failures, the audit goes on, the report says it is incomplete", function()
    local st, now = snapshot()
    local victim = st.users[7]
    local path = "^/v3/users/" .. victim.id:gsub("%-", "%%-") .. "/access%-tokens$"
    fake.fault { method = "GET", path = path, status = 403 }
    local report = assert(audit.run(admin, { now = now }))
    local expected = reference.report(st, { now = now, failed = { [victim.id] = {
      operation = "list-users-personal-access-tokens", kind = "forbidden", status = 403,
      message = "Fault injected by the fake Konnect" } } })
    assert.same(expected, report)
    assert.is_false(report.complete)
    assert.equal(1, #report.failures)
    assert.equal(victim.email, report.failures[1].owner.email)
  end)

  it("with a non-admin's token: every other user's list is 403, the system accounts' too, it still finishes", function()
    local st, now = snapshot()
    local alice = fake.client { hooks = check.hooks } -- a user without the org-admin role
    local report = assert(audit.run(alice, { now = now }))
    assert.is_false(report.complete)
    local forbidden = 0
    for _, f in ipairs(report.failures) do
      assert.equal("forbidden", f.kind)
      assert.equal(403, f.status)
      forbidden = forbidden + 1
    end
    -- the system accounts' list, and every user's list but alice's own
    assert.equal(1 + #st.users - 1, forbidden)
    assert.is_nil(report.failures[1].owner)
    assert.equal("get-system-accounts", report.failures[1].operation)
    assert.equal(0, report.counts.system_accounts)
    assert.equal(#st.users, report.counts.users)
    for _, o in ipairs(report.owners) do
      if o.id == fake.ALICE then assert.equal(0, o.count) else assert.is_true(o.failed) end
    end
  end)

  it("a user id from the server that is no UUID: that owner fails, nothing is sent for it, requests counts what was",
    function()
    local _, now = snapshot()
    fake.fault { method = "GET", path = "^/v3/users$", status = 200, body = '{"data":[{"id":"not-a-uuid",' ..
      '"email":"x@example.com","full_name":"X","active":true,"created_at":"2026-01-01T00:00:00Z",' ..
      '"updated_at":"2026-01-01T00:00:00Z"}],"meta":{"page":{"number":1,"size":100,"total":1}}}' }
    local before = fake.requests().total
    -- (not admin: its hooks hold every answer to the contract, which this one breaks on purpose)
    local report, _, run = audit.run(fake.client { token = fake.ADMIN_TOKEN }, { now = now })
    assert.equal(1, #report.failures)
    assert.equal("invalid_argument", report.failures[1].kind)
    assert.equal("list-users-personal-access-tokens", report.failures[1].operation)
    assert.equal(fake.requests().total - before, run.requests)
  end)

  it("a server that ignores page[number] is a decode failure of that list, not a walk to the page ceiling", function()
    local _, now = snapshot()
    -- every page of users is the same one (one user a page, five in all)
    fake.fault { method = "GET", path = "^/v3/users$", status = 200, count = 10,
      body = '{"data":[{"id":"' .. fake.BOB .. '",' ..
      '"email":"bob@example.test","full_name":"Bob","active":true,"created_at":"2026-01-01T00:00:00Z",' ..
      '"updated_at":"2026-01-01T00:00:00Z"}],"meta":{"page":{"number":1,"size":1,"total":5}}}' }
    local before = fake.requests().total
    local report, _, run = audit.run(fake.client { token = fake.ADMIN_TOKEN }, { now = now })
    assert.is_false(report.complete)
    assert.equal(1, #report.failures)
    assert.equal("decode", report.failures[1].kind)
    assert.equal("list-users", report.failures[1].operation)
    assert.equal("page 2 starts with the same item as page 1: the server seems to ignore page[number]",
      report.failures[1].message)
    assert.equal(fake.requests().total - before, run.requests)
  end)

  it("calls progress once per user, up to the total, with an estimate of the time left", function()
    local st, now = snapshot()
    local seen = {}
    assert(audit.run(admin, { now = now, progress = function(done, total, eta)
      seen[#seen + 1] = { done, total, eta }
      error("a progress function that raises is ignored")
    end }))
    assert.equal(#st.users, #seen)
    for i, p in ipairs(seen) do
      assert.same({ i, #st.users }, { p[1], p[2] })
      assert.is_true(type(p[3]) == "number" and p[3] >= 0)
    end
    assert.equal(0, seen[#seen][3])
  end)

  describe("under a rate limit", function()
    it("no Retry-After, no RateLimit headers: a 429 holds everything for rate_limit_wait; at most one 429 a window",
      function()
      local st, now = snapshot()
      local need = reference.requests(st)
      -- three windows' worth: at least two 429s
      fake.ratelimit { limit = math.ceil(need / 3), window = 1, retry_after = false, headers = false }
      local report, _, run = audit.run(admin, { now = now, rate_limit_wait = 1 })
      assert.same(reference.report(st, { now = now }), report)
      local rl = fake.ratelimit_report()
      assert.is_true(rl.max_limited_per_window <= 1, windows())
      assert.is_true(rl.limited_total >= 1, windows())
      assert.equal(rl.limited_total, run.rate_limited)
      assert.equal(need, run.requests - run.rate_limited)
      -- each 429 held everything for the wait (one window: the probe after it went through)
      assert.equal(run.rate_limited, run.waited)
    end)

    it("a wait shorter than the window doubles while the probe is refused: few 429s a window, never a flood", function()
      local st, now = snapshot()
      local need = reference.requests(st)
      fake.ratelimit { limit = math.ceil(need / 3), window = 1, retry_after = false, headers = false }
      local report, _, run = audit.run(admin, { now = now, rate_limit_wait = 0.25 })
      assert.same(reference.report(st, { now = now }), report)
      -- waits 0.25, 0.5, 1 …: at most 1 + log2(1 / 0.25) = 3 refusals in a window of 1 s
      assert.is_true(fake.ratelimit_report().max_limited_per_window <= 3, windows())
      assert.is_true(run.waited > 0.25 * run.rate_limited, "no wait doubled: " .. run.waited .. " s, " .. windows())
    end)

    it("Retry-After is honoured exactly; with RateLimit headers no 429 at all", function()
      local st, now = snapshot()
      local need = reference.requests(st)
      fake.ratelimit { limit = math.ceil(need / 3), window = 1, headers = false }
      local report, _, run = audit.run(admin, { now = now, rate_limit_wait = 60 })
      assert.same(reference.report(st, { now = now }), report)
      assert.is_true(fake.ratelimit_report().max_limited_per_window <= 1, windows())
      -- the fake's Retry-After is the whole seconds to its next window: 1 here (not rate_limit_wait)
      assert.is_true(run.rate_limited >= 1 and run.waited == run.rate_limited, "waited " .. run.waited)

      fake.ratelimit { limit = math.ceil(need / 3), window = 1 }
      report, _, run = audit.run(admin, { now = now, concurrency = 16 })
      assert.same(reference.report(st, { now = now }), report)
      assert.equal(0, fake.ratelimit_report().limited_total, windows())
      assert.equal(need, run.requests)
    end)

    it("429s never use up a call's retry attempts: a 503 after more 429s than max_attempts is still retried",
      function()
      local st, now = snapshot()
      -- the client's retry policy allows 3 attempts; the first request is refused 5 times, then fails once
      fake.fault { method = "GET", status = 429, retry_after = "0", count = 5 }
      fake.fault { method = "GET", status = 503, count = 1 }
      local report, _, run = audit.run(admin, { now = now })
      assert.same(reference.report(st, { now = now }), report)
      assert.equal(5, run.rate_limited)
      assert.equal(reference.requests(st) + 6, run.requests)
    end)

    it("the gate, not the call's retry policy, says when a refused call goes again: a Retry-After past max_elapsed",
      function()
      local st, now = snapshot()
      -- the client's policy would give up on a wait of 1 s (max_elapsed 0.5); the audit's gate waits it out
      fake.fault { method = "GET", status = 429, retry_after = "1", count = 1 }
      local c = fake.client { token = fake.ADMIN_TOKEN, hooks = check.hooks,
                              retries = { max_attempts = 3, max_elapsed = 0.5 } }
      local report, _, run = audit.run(c, { now = now })
      assert.same(reference.report(st, { now = now }), report)
      assert.equal(1, run.rate_limited)
      assert.equal(reference.requests(st) + 1, run.requests)
    end)

    it("a 429 that says nothing of when to come back holds the run rate_limit_wait, then goes on", function()
      local st, now = snapshot()
      fake.fault { method = "GET", plain_429 = true, count = 1 } -- no Retry-After, no RateLimit headers
      local report, _, run = audit.run(admin, { now = now, rate_limit_wait = 0.2 })
      assert.same(reference.report(st, { now = now }), report)
      assert.equal(1, run.rate_limited)
      assert.equal(0.2, run.waited)
      assert.equal(reference.requests(st) + 1, run.requests)
    end)

    it("a hold longer than rate_limit_max_wait ends the run: the rest are failures, nothing more is sent", function()
      local _, now = snapshot()
      -- one window of an hour, aligned on the clock: not one about to end
      if os.time() % 3600 > 3540 then core.sleep(3600 - os.time() % 3600 + 1) end
      fake.ratelimit { limit = 5, window = 3600, headers = false }
      local report, _, run = audit.run(admin, { now = now, rate_limit_max_wait = 30 })
      assert.is_false(report.complete)
      assert.equal(6, run.requests, "five served, one refused")
      assert.equal(1, fake.ratelimit_report().limited_total)
      local answered = 0
      for _, f in ipairs(report.failures) do
        assert.equal("rate_limited", f.kind)
        assert.matches("more than the 30 s this run waits", f.message, 1, true)
        -- the one the server refused says so (its 429); every other one says it was not sent
        if f.status == 429 then
          answered = answered + 1
          assert.is_nil(f.message:find("not sent", 1, true), f.message)
        else
          assert.is_nil(f.status)
          assert.matches("^not sent: the server asks to wait", f.message)
        end
      end
      assert.equal(1, answered)
    end)
  end)

  it("refuses what it cannot use, before any request", function()
    local cases = {
      { nil, {} }, { {}, {} }, { admin, { expiring_within = -1 } }, { admin, { near_quota = 11 } },
      { admin, { users = false, system_accounts = false } }, { admin, { concurency = 2 } },
      { admin, { progress = "yes" } }, { admin, { rate_limit_wait = 0 } }, { admin, "fast" },
      { admin, { near_quota = 0 } }, { admin, { near_quota = 2.5 } }, { admin, { unused_for = -1 } },
      { admin, { now = -1 } }, { admin, { rate_limit_wait = 5, rate_limit_max_wait = 4 } },
    }
    for i, c in ipairs(cases) do
      local r, err = audit.run(c[1], c[2])
      assert.is_nil(r, i)
      assert.is_true(errors.is(err, "invalid_argument"), i .. ": " .. tostring(err))
    end
    assert.equal(0, fake.requests().total)
  end)

  it("takes near_quota at both ends of 1 to the quota (10)", function()
    local _, now = snapshot()
    for _, n in ipairs { 1, 10 } do
      local report, err = audit.run(admin, { now = now, near_quota = n })
      assert.is_nil(err, n)
      assert.is_true(report.complete, n)
      assert.equal(n, report.settings.near_quota)
    end
  end)
end)
