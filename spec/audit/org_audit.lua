-- The audit's done-when (issue 20): an audit of the default seeded
-- organisation (1,000 users, 20 system accounts) against the fake Konnect
-- limited to R requests a minute, in the documented world (no RateLimit
-- headers; the 429 carries Retry-After).  A lane of its own in `make test`
-- (scripts/test.sh: audit), with its own fake server: it takes about a
-- minute, mostly waiting.
--
-- The limit: L requests per clock-aligned window of W = 20 s (the fake's
-- windows start at multiples of W since the epoch), so never more than
-- R = 3L in any aligned minute.  L is picked from the requests the audit
-- needs (N, computed from the state: one page more than fit in full pages of
-- users and of system accounts, one list per user, one page more than fit
-- per system account) so that N takes m full windows after the one the
-- audit starts in, plus a tail of a few requests: R is then about N.
--
-- The time the limit allows: the audit starts at t0, δ seconds into window 0;
-- window i serves at most L requests, so the N requests cannot all have been
-- served before window m opens, at B_m = window 0's start + m·W.  An
-- infinitely fast client finishes right after B_m: T_allow = B_m − t0.  The
-- audit must finish within 1.10 × T_allow; the tail (a few requests) and the
-- whole-second rounding of Retry-After come out of the 10%.  The fake's own
-- per-window counts (GET /__fake/ratelimit) must show the N requests served
-- in exactly m + 1 windows, the last one opening at B_m, and at most one 429
-- in any window.  m is picked so that T_allow is 50 to 70 s.
local audit = require "konnect.audit"
local core = require "konnect.core"
local fake = require "support.fake"
local reference = require "support.audit_reference"

local W = 20   -- seconds per window
local TAIL = 10 -- requests left for the last window, at most

-- the wall clock, to the millisecond: date(1) once, then the monotonic clock
local wall
do
  local p = assert(io.popen("date +%s.%N"))
  local epoch = tonumber(p:read("*l"))
  p:close()
  local offset = epoch - core.monotime()
  wall = function() return core.monotime() + offset end
end

describe("the audit of the seeded organisation under a rate limit", function()
  it("finishes within 1.10 x the time the limit allows, with at most one 429 a window, and the state's report",
    function()
    fake.ratelimit(0)
    fake.reset() -- the default organisation
    local st = fake.state()
    assert.equal(1000, #st.users)
    assert.equal(20, #st.system_accounts)
    local now = reference.epoch(st.now)
    local N = reference.requests(st)

    -- where in its window the audit will start; a start in a window's last
    -- 5 s waits for the next window (it must be able to spend window 0)
    local delta = wall() % W
    if delta > W - 5 then
      core.sleep(W - delta + 0.05)
      delta = wall() % W
    end
    local m = math.ceil((50 + delta) / W)
    local L = math.ceil((N - TAIL) / m)
    assert.is_true(N - m * L >= 1 and N - m * L <= TAIL)
    fake.ratelimit { limit = L, window = W, headers = false, retry_after = true }

    local admin = fake.client { token = fake.ADMIN_TOKEN }
    local t0 = wall()
    local report, err, run = audit.run(admin, { now = now })
    local t1 = wall()
    assert.is_nil(err)

    -- the report is the one the state gives
    assert.same(reference.report(st, { now = now }), report)
    assert.is_true(report.complete)

    -- the fake's own counts
    local rl = fake.ratelimit_report()
    local served, seen, lines = 0, 0, {}
    for _, w in ipairs(rl.windows) do
      if w.requests > 0 then
        seen = seen + 1
        served = served + w.requests - w.limited
        lines[#lines + 1] = string.format("%s %d/%d", w.start, w.requests, w.limited)
      end
    end
    local last = rl.windows[#rl.windows]
    local allowed = last.start_epoch - t0
    local elapsed = t1 - t0
    print(string.format("\n  org audit: N = %d requests (+%d refused), L = %d per %d s window (R = %d a minute), "
      .. "m = %d, started %.2f s into its window; windows: %s; elapsed %.2f s, allowed %.2f s (ratio %.3f), "
      .. "held %d s, most 429s in a window %d",
      N, run.rate_limited, L, W, L * 60 / W, m, delta, table.concat(lines, ", "), elapsed, allowed,
      elapsed / allowed, run.waited, rl.max_limited_per_window))
    assert.equal(N, served)
    assert.equal(N + run.rate_limited, run.requests)
    assert.equal(m + 1, seen, "the requests took more windows than the limit needs")
    assert.is_true(rl.max_limited_per_window <= 1, "more than one 429 in a window")
    assert.is_true(math.abs(allowed - (m * W - delta)) < 0.5, "the last window opened at " .. last.start)
    assert.is_true(elapsed <= 1.10 * allowed, string.format("took %.2f s, the limit allows %.2f s", elapsed, allowed))
  end)
end)
