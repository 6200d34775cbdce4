-- fake_konnect/spec/contract_org.lua: the fake's own machinery for the token
-- surface: the seeded organisation and GET /__fake/state, reset with an
-- organisation, the per-window rate limiter, POST /__fake/paging.  Run from
-- contract_spec.lua as dofile("contract_org.lua")(T), like contract_tokens.lua.

return function(T)
  local describe, it, assert = T.describe, T.it, T.assert
  local api, control, epoch, F = T.api, T.control, T.epoch, T.fixtures
  local is_null = T.openapi.is_null
  local ADMIN_BOOT, ALICE_BOOT = F.ADMIN_TOKEN, F.ALICE_TOKEN
  local DAY, HOUR = 86400, 3600

  local function dump()
    local res = control("GET", "state")
    assert.equal(200, res.status)
    return res.json, res.body
  end

  local function reset(org)
    local res = control("POST", "reset", org)
    assert(res.status == 204, "reset: " .. res.status .. " " .. res.body)
  end

  local function every_time(st, f)
    for _, u in ipairs(st.users) do
      for _, t in ipairs(u.tokens) do
        for _, k in ipairs { "created_at", "updated_at", "expires_at", "last_used_at", "revoked_at" } do
          if not is_null(t[k]) then f(epoch(t[k]), k, t, u) end
        end
      end
    end
    for _, a in ipairs(st.system_accounts) do
      for _, t in ipairs(a.tokens) do
        for _, k in ipairs { "created_at", "updated_at", "expires_at", "last_used_at" } do
          if not is_null(t[k]) then f(epoch(t[k]), k, t, a) end
        end
      end
    end
  end

  describe("the seeded organisation (GET /__fake/state)", function()
    it("1,000 users and 20 system accounts by default, fixtures first, the roles, no secret", function()
      local st, raw = dump()
      assert.same({ users = 1000, system_accounts = 20, seed = 1 }, st.org)
      assert.equal(1000, #st.users)
      assert.equal(20, #st.system_accounts)
      assert.same({ F.ALICE, F.BOB, F.ADMIN }, { st.users[1].id, st.users[2].id, st.users[3].id })
      assert.same({ false, false, true }, { st.users[1].admin, st.users[2].admin, st.users[3].admin })
      assert.equal(0, #st.users[1].tokens + #st.users[2].tokens + #st.users[3].tokens)
      assert.same({ F.SYSTEM_ACCOUNT, F.PLAIN_SYSTEM_ACCOUNT }, { st.system_accounts[1].id, st.system_accounts[2].id })
      assert.is_true(st.system_accounts[1].admin)
      assert.is_false(st.system_accounts[2].admin)
      assert.is_nil(raw:find("pat_", 1, true))
      assert.is_nil(raw:find('"token"', 1, true))
      assert.is_nil(raw:find("konnect_token", 1, true))
      local seen = {}
      for _, u in ipairs(st.users) do
        assert.is_nil(seen[u.id])
        seen[u.id] = true
        for _, t in ipairs(u.tokens) do
          assert.is_nil(seen[t.id])
          seen[t.id] = true
        end
      end
    end)

    it("tokens in every state an audit looks for", function()
      local st = dump()
      local now = epoch(st.now)
      local c = { users_8_to_10 = 0, ACTIVE = 0, REVOKED = 0, EXPIRED = 0, never_used = 0, unused_90d = 0,
                  expiring_7d = 0, sat_never = 0, sat_expired = 0, sat_expiring_7d = 0, sat_used = 0 }
      for _, u in ipairs(st.users) do
        if #u.tokens >= 8 then c.users_8_to_10 = c.users_8_to_10 + 1 end
        assert.is_true(#u.tokens <= 10)
        for _, t in ipairs(u.tokens) do
          c[t.state] = c[t.state] + 1
          local created, expires = epoch(t.created_at), epoch(t.expires_at)
          assert.is_true(expires - created <= 365 * DAY, "a PAT lives at most a year")
          assert.is_true(epoch(t.updated_at) >= created)
          if is_null(t.last_used_at) then
            c.never_used = c.never_used + 1
          else
            local used = epoch(t.last_used_at)
            assert.is_true(used >= created and used <= now)
            if now - used > 90 * DAY then c.unused_90d = c.unused_90d + 1 end
          end
          if t.state == "REVOKED" then
            assert.is_true(t.revoked_by == u.id or t.revoked_by == F.ADMIN)
            assert.is_true(epoch(t.revoked_at) >= created)
          else
            assert.is_true(is_null(t.revoked_at) and is_null(t.revoked_by))
          end
          if t.state == "EXPIRED" then assert.is_true(expires <= now) end
          if t.state == "ACTIVE" and expires - now < 7 * DAY then c.expiring_7d = c.expiring_7d + 1 end
        end
      end
      for _, a in ipairs(st.system_accounts) do
        for _, t in ipairs(a.tokens) do
          local expires = epoch(t.expires_at)
          if is_null(t.last_used_at) then c.sat_never = c.sat_never + 1 else c.sat_used = c.sat_used + 1 end
          if expires <= now then c.sat_expired = c.sat_expired + 1
          elseif expires - now < 7 * DAY then c.sat_expiring_7d = c.sat_expiring_7d + 1 end
        end
      end
      for k, n in pairs(c) do assert(n >= 3, k .. ": only " .. n) end
      assert.is_true(c.users_8_to_10 >= 50)
    end)

    it("no seeded time lies within an hour of a whole number of days from the reset", function()
      reset()
      local st = dump() -- within a second or two of the reset
      local now = epoch(st.now)
      local n = 0
      every_time(st, function(t)
        local r = (t - now) % DAY
        assert(r > HOUR - 60 and r < DAY - HOUR + 60, "a seeded time too close to a whole day: " .. r)
        n = n + 1
      end)
      assert.is_true(n > 5000)
    end)

    it("is deterministic from the seed, relative to the reset; another seed gives another org", function()
      local a = dump()
      os.execute("sleep 1.1")
      reset()
      local b = dump()
      local shift = epoch(b.now) - epoch(a.now)
      assert.is_true(shift >= 1)
      local deltas = {}
      local ta = {}
      every_time(a, function(t) ta[#ta + 1] = t end)
      local i = 0
      every_time(b, function(t)
        i = i + 1
        deltas[t - ta[i]] = true
      end)
      assert.equal(#ta, i)
      local d = next(deltas)
      assert.is_nil(next(deltas, d)) -- every time moved by the same whole seconds
      assert.is_true(math.abs(d - shift) <= 2)
      for k, u in ipairs(a.users) do
        assert.equal(u.id, b.users[k].id)
        assert.equal(u.email, b.users[k].email)
        assert.equal(#u.tokens, #b.users[k].tokens)
      end
      reset { seed = 2 }
      local c = dump()
      assert.equal(2, c.org.seed)
      assert.are_not.equal(a.users[4].id, c.users[4].id)
      assert.equal(F.ALICE, c.users[1].id)
    end)

    it("reset takes an organisation; a smaller one is a prefix of the larger; a bodiless reset goes back", function()
      local big = dump()
      reset { users = 50, system_accounts = 5 }
      local small = dump()
      assert.same({ users = 50, system_accounts = 5, seed = 1 }, small.org)
      assert.equal(50, #small.users)
      assert.equal(5, #small.system_accounts)
      for k = 1, 50 do assert.equal(big.users[k].id, small.users[k].id) end
      for k = 1, 5 do assert.equal(big.system_accounts[k].id, small.system_accounts[k].id) end
      local page = api("GET", "/v3/users?page%5Bsize%5D=100", { token = ADMIN_BOOT }).json
      assert.equal(50, page.meta.page.total)
      reset { users = 3, system_accounts = 2 }
      assert.equal(3, #dump().users)
      reset()
      assert.equal(1000, #dump().users)
    end)

    it("reset rejects a bad organisation (400) and keeps the state", function()
      for _, bad in ipairs { { users = 2 }, { system_accounts = 1 }, { users = "many" }, { seed = -1 },
                             { users = 1.5 }, { people = 10 } } do
        assert.equal(400, control("POST", "reset", bad).status)
      end
      assert.equal(400, control("POST", "reset", "[1]").status)
      assert.equal(1000, #dump().users)
    end)

    it("shows what the API changed: created, revoked, renamed tokens (never their secrets)", function()
      local t = T.create_ok("audited")
      assert.equal(200, api("PATCH", T.tokens_path(F.ALICE, t.id, "revoke"), { token = ALICE_BOOT }).status)
      local sat = api("POST", "/v3/system-accounts/" .. F.PLAIN_SYSTEM_ACCOUNT .. "/access-tokens",
        { token = ADMIN_BOOT, body = { name = "audited sat", expires_at = "2031-01-01T00:00:00Z" } }).json
      local st, raw = dump()
      local mine = st.users[1].tokens[1]
      assert.equal(t.id, mine.id)
      assert.equal("REVOKED", mine.state)
      assert.equal(F.ALICE, mine.revoked_by)
      local s = st.system_accounts[2].tokens[1]
      assert.equal(sat.id, s.id)
      assert.equal("2031-01-01T00:00:00Z", s.expires_at)
      assert.is_true(is_null(s.last_used_at))
      assert.is_nil(raw:find(t.konnect_token, 1, true))
      assert.is_nil(raw:find(sat.token, 1, true))
    end)
  end)

  describe("the rate limiter per window (POST /__fake/ratelimit)", function()
    local ME = "/v3/users/me"
    local function me() return api("GET", ME, { token = ALICE_BOOT }) end
    -- start well inside a clock-aligned minute, so a few requests share one window
    local function inside_minute()
      while os.time() % 60 > 55 do os.execute("sleep 0.5") end
    end
    local function set(obj)
      local res = control("POST", "ratelimit", obj)
      assert(res.status == 200, "ratelimit: " .. res.status .. " " .. res.body)
      return res.json
    end

    it("limit per window, 429 without Retry-After or RateLimit headers when asked; counted per window", function()
      inside_minute()
      assert.same({ limit = 3, window = 60, per_minute = 3, headers = false, retry_after = false },
        set { limit = 3, window = 60, retry_after = false, headers = false })
      local statuses = {}
      for i = 1, 5 do
        local res = me()
        statuses[i] = res.status
        assert.is_nil(res.headers["retry-after"])
        assert.is_nil(res.headers["ratelimit-limit"])
        assert.is_nil(res.headers["x-ratelimit-limit-minute"])
        if res.status == 429 then
          assert.equal("application/problem+json", res.headers["content-type"])
          assert.equal(429, res.json.status)
          assert.is_truthy(res.json.instance:match("^kong:trace:%d+$"))
        end
      end
      assert.same({ 200, 200, 200, 429, 429 }, statuses)
      local r = control("GET", "ratelimit").json
      assert.equal(1, #r.windows)
      assert.equal(5, r.windows[1].requests)
      assert.equal(2, r.windows[1].limited)
      assert.equal(0, r.windows[1].start_epoch % 60)
      assert.equal(2, r.limited_total)
      assert.equal(2, r.max_limited_per_window)
      assert.equal(2, control("GET", "requests").json.statuses["429"])
    end)

    it("per_minute with Kong's headers and Retry-After (seconds to the window's end)", function()
      inside_minute()
      set { per_minute = 2 }
      local a, b, c = me(), me(), me()
      assert.same({ 200, 200, 429 }, { a.status, b.status, c.status })
      assert.equal("2", a.headers["ratelimit-limit"])
      assert.equal("1", a.headers["ratelimit-remaining"])
      assert.equal("2", a.headers["x-ratelimit-limit-minute"])
      assert.equal("0", c.headers["x-ratelimit-remaining-minute"])
      local wait = tonumber(c.headers["retry-after"])
      assert.is_true(wait >= 1 and wait <= 60)
      assert.equal(c.headers["ratelimit-reset"], c.headers["retry-after"])
      assert.is_true(math.abs((os.time() + wait) % 60) <= 2 or math.abs((os.time() + wait) % 60 - 60) <= 2)
    end)

    it("a window that is no Kong period gets only the RateLimit-* headers; per_second still works", function()
      set { limit = 50, window = 7 }
      local res = me()
      assert.equal("50", res.headers["ratelimit-limit"])
      assert.is_nil(res.headers["x-ratelimit-limit-second"])
      assert.is_nil(res.headers["x-ratelimit-limit-minute"])
      assert.same({ limit = 5, window = 1, per_second = 5, headers = true, retry_after = true },
        set { per_second = 5 })
      res = me()
      assert.equal("5", res.headers["x-ratelimit-limit-second"])
    end)

    it("every window is reported with its own count of 429s", function()
      set { per_second = 2, retry_after = false }
      local seen = 0
      for _ = 1, 2 do
        for _ = 1, 4 do
          if me().status == 429 then seen = seen + 1 end
        end
        os.execute("sleep 1.05")
      end
      local r = control("GET", "ratelimit").json
      local requests, limited = 0, 0
      assert.is_true(#r.windows >= 2)
      for _, w in ipairs(r.windows) do
        requests = requests + w.requests
        limited = limited + w.limited
        assert.equal(math.max(0, w.requests - 2), w.limited)
      end
      assert.equal(8, requests)
      assert.equal(seen, limited)
      assert.equal(seen, r.limited_total)
    end)

    it("a limited request is not processed; 0 and reset turn it off", function()
      inside_minute()
      set { per_minute = 1 }
      assert.equal(200, me().status)
      local res = api("POST", T.tokens_path(F.ALICE),
        { token = ALICE_BOOT, body = { name = "ci", ttl_seconds = 86400 } })
      assert.equal(429, res.status)
      set { per_minute = 0 }
      assert.equal(0, #api("GET", T.tokens_path(F.ALICE), { token = ALICE_BOOT }).json.data)
      set { per_second = 1 }
      reset()
      assert.same({ limit = 0, window = 1, per_second = 0, headers = false, retry_after = false,
                    windows = {}, limited_total = 0, max_limited_per_window = 0 },
        control("GET", "ratelimit").json)
    end)

    it("rejects a setting it does not understand (400)", function()
      for _, bad in ipairs { { per_second = 1, per_minute = 1 }, { window = 5 }, { limit = 5, window = 0 },
                             { per_minute = 1, window = 5 }, { limit = -1 }, { per_second = 1, retry_after = "no" },
                             { per_second = 1, headers = 1 }, { per_hour = 1 }, {} } do
        assert.equal(400, control("POST", "ratelimit", bad).status)
      end
    end)
  end)

  describe("POST /__fake/paging", function()
    it("reads and sets the choices the contract leaves open; reset restores them", function()
      local defaults = { default_size = 10, max_size = 100, over_max = "clamp", total = "objects" }
      assert.same(defaults, control("GET", "paging").json)
      local res = control("POST", "paging", { default_size = 3, max_size = 5 })
      assert.equal(200, res.status)
      local body = api("GET", "/v3/users", { token = ADMIN_BOOT }).json
      assert.equal(3, #body.data)
      body = api("GET", "/v3/users?page%5Bsize%5D=50", { token = ADMIN_BOOT }).json
      assert.same({ number = 1, size = 5, total = 1000 }, body.meta.page)
      for _, bad in ipairs { { default_size = 0 }, { total = "users" }, { over_max = "truncate" },
                             { default_size = 20, max_size = 10 }, { page = 1 } } do
        assert.equal(400, control("POST", "paging", bad).status)
      end
      reset()
      assert.same(defaults, control("GET", "paging").json)
    end)
  end)
end
