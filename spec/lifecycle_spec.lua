-- Round two's lifecycle helpers against the fake Konnect server: rotate's
-- old = "delete" | "revoke" | "keep", prune, and the 409 that says why.
local errors = require "konnect.errors"
local fake = require "support.fake"

local ALICE = fake.ALICE
local TOKENS = "/v3/users/" .. ALICE .. "/access-tokens"
local DAY = 86400

local function states(client)
  local out = {}
  for _, t in ipairs(assert(client:list(ALICE)).data) do out[t.state] = (out[t.state] or 0) + 1 end
  return out
end

describe("token lifecycle", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  describe("rotate", function()
    it("30 default rotations in a row never hit 409 and leave exactly one token", function()
      local tok = assert(client:create(ALICE, { name = "nightly", ttl_seconds = DAY }))
      for i = 1, 30 do
        local new, err = client:rotate(ALICE, tok.id)
        assert.is_nil(err, "rotation " .. i .. ": " .. tostring(err))
        tok = new
      end
      local list = assert(client:list(ALICE)).data
      assert.equal(1, #list)
      assert.equal(tok.id, list[1].id)
      assert.equal("ACTIVE", list[1].state)
      assert(fake.client { token = tok.konnect_token }:me())
    end)

    it("a token whose lifetime cannot be read is replaced by one that lives 30 days", function()
      local time = require "konnect.time"
      local old = assert(client:create(ALICE, { name = "forever", ttl_seconds = DAY }))
      -- the server answers the old token without an expiry (the contract's expires_at is not required)
      fake.fault { method = "GET", path = (old.id:gsub("%-", "%%-")) .. "$", count = 1,
        body = ('{"id":"%s","name":"forever","created_at":"%s","updated_at":"%s","expires_at":null,"state":"ACTIVE"}')
          :format(old.id, old.created_at, old.created_at) }
      local new = assert(client:rotate(ALICE, old.id))
      assert.equal(30 * DAY, time.rfc3339(new.expires_at) - time.rfc3339(new.created_at))
    end)

    it("old = \"revoke\" keeps the old token listed as REVOKED; \"keep\" leaves it ACTIVE", function()
      local a = assert(client:create(ALICE, { name = "a1", ttl_seconds = DAY }))
      local b = assert(client:rotate(ALICE, a.id, { old = "revoke" }))
      assert.equal("REVOKED", assert(client:get(ALICE, a.id)).state)
      local c = assert(client:rotate(ALICE, b.id, { old = "keep" }))
      assert.equal("ACTIVE", assert(client:get(ALICE, b.id)).state)
      assert.equal("ACTIVE", assert(client:get(ALICE, c.id)).state)
      assert.equal(1, fake.count("PATCH " .. TOKENS .. "/" .. a.id .. "/revoke"))
      assert.equal(0, fake.count("PATCH " .. TOKENS .. "/" .. b.id .. "/revoke"))
      assert.equal(0, fake.count("DELETE " .. TOKENS .. "/" .. b.id))
      assert.same({ ACTIVE = 2, REVOKED = 1 }, states(client))
    end)

    it("rotates an expired or revoked token without revoking it again", function()
      local old = assert(client:create(ALICE, { name = "lapsed", ttl_seconds = DAY }))
      fake.expire(old.id)
      local new, err = client:rotate(ALICE, old.id)
      assert.is_nil(err)
      assert.equal("lapsed", new.name)
      assert.equal(0, fake.count("PATCH " .. TOKENS .. "/" .. old.id .. "/revoke"))
      assert.equal(1, fake.count("DELETE " .. TOKENS .. "/" .. old.id))
      local again = assert(client:create(ALICE, { name = "gone", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, again.id))
      assert(client:rotate(ALICE, again.id, { old = "revoke" }))
      assert.equal(1, fake.count("PATCH " .. TOKENS .. "/" .. again.id .. "/revoke"), "revoked once, by the test")
    end)

    it("a failing delete returns the new token and the error; the old one is already revoked", function()
      local old = assert(client:create(ALICE, { name = "sticky", ttl_seconds = DAY }))
      fake.fault { method = "DELETE", status = 500, count = 3 }
      local new, err, meta = client:rotate(ALICE, old.id)
      assert.matches("^kpat_", new.konnect_token)
      assert.equal("server", err.kind)
      assert.equal("delete", err.step)
      assert.equal(new.id, err.new_token_id)
      assert.matches("deleting it failed", err.message, 1, true)
      assert.equal("REVOKED", assert(client:get(ALICE, old.id)).state, "the old secret is dead anyway")
      assert.is_table(meta)
      assert(fake.client { token = new.konnect_token }:me())
    end)

    it("a failing revoke (default mode) returns the new token, says so, and deletes nothing", function()
      local old = assert(client:create(ALICE, { name = "sticky", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 403 }
      local new, err = client:rotate(ALICE, old.id)
      assert.matches("^kpat_", new.konnect_token)
      assert.equal("revoke", err.step)
      assert.equal(0, fake.count("DELETE " .. TOKENS .. "/" .. old.id))
    end)

    it("refuses an unknown old mode before any I/O", function()
      for _, mode in ipairs { "remove", true, 1 } do
        local new, err = client:rotate(ALICE, fake.MISSING, { old = mode })
        assert.is_nil(new)
        assert.equal("invalid_argument", err.kind)
      end
      -- a long one is quoted up to 40 characters
      local _, err = client:rotate(ALICE, fake.MISSING, { old = ("d"):rep(39) .. "xyz" })
      assert.matches('got "' .. ("d"):rep(39) .. 'x"', err.message, 1, true)
      assert.equal(0, fake.requests().total)
    end)

    it("refuses a misspelt option before any I/O, naming it (a typo never rotates with the defaults)", function()
      local tok = assert(client:create(ALICE, { name = "typo", ttl_seconds = DAY }))
      local before = fake.requests().total
      local new, err = client:rotate(ALICE, tok.id, { nmae = "renamed" })
      assert.is_nil(new)
      assert.equal("invalid_argument", err.kind)
      assert.equal("rotate: unknown option nmae (expected name, old, ttl_seconds)", err.message)
      assert.equal(before, fake.requests().total)
    end)

    it("returns meta: the last call's, with every call listed", function()
      local old = assert(client:create(ALICE, { name = "meta", ttl_seconds = DAY }))
      local _, err, meta = client:rotate(ALICE, old.id)
      assert.is_nil(err)
      local ops = {}
      for i, m in ipairs(meta.calls) do ops[i] = m.operation end
      assert.same({ "get-personal-access-token-details", "create-personal-access-token",
                    "revoke-personal-access-token", "delete-personal-access-token" }, ops)
      assert.equal(204, meta.status)
    end)
  end)

  describe("a 409 on create", function()
    it("says how many tokens the user holds, of at most 10, and how to free a slot", function()
      for i = 1, 10 do assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = DAY })) end
      local list = assert(client:list(ALICE)).data
      assert(client:revoke(ALICE, list[1].id))
      local tok, err = client:create(ALICE, { name = "eleventh", ttl_seconds = DAY })
      assert.is_nil(tok)
      assert.equal("conflict", err.kind)
      assert.equal(409, err.status)
      assert.matches("holds 10 of at most 10 personal access tokens (9 ACTIVE, 1 REVOKED)", err.message, 1, true)
      assert.matches("client:prune", err.message, 1, true)
      assert.same({ used = 10, limit = 10, states = { ACTIVE = 9, REVOKED = 1 } }, err.quota)
    end)

    it("says \"at most 10\" when the list fails too", function()
      fake.fault { method = "POST", status = 409 }
      fake.fault { method = "GET", status = 403 }
      local _, err = client:create(ALICE, { name = "x1", ttl_seconds = DAY })
      assert.equal("conflict", err.kind)
      assert.matches("a user holds at most 10 personal access tokens", err.message, 1, true)
    end)
  end)

  describe("prune", function()
    it("deletes revoked and expired tokens, returns them, and leaves active ones", function()
      local keep = assert(client:create(ALICE, { name = "keep", ttl_seconds = DAY }))
      local r = assert(client:create(ALICE, { name = "revoked", ttl_seconds = DAY }))
      local e = assert(client:create(ALICE, { name = "expired", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, r.id))
      fake.expire(e.id)
      local deleted, err, meta = client:prune(ALICE)
      assert.is_nil(err)
      local names = {}
      for i, t in ipairs(deleted) do names[i] = t.name end
      table.sort(names)
      assert.same({ "expired", "revoked" }, names)
      local list = assert(client:list(ALICE)).data
      assert.equal(1, #list)
      assert.equal(keep.id, list[1].id)
      assert.equal(3, #meta.calls, "one list, two deletes")
    end)

    it("dry_run deletes nothing and returns what it would delete", function()
      local r = assert(client:create(ALICE, { name = "revoked", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, r.id))
      local would = assert(client:prune("me", { dry_run = true }))
      assert.equal(1, #would)
      assert.equal(r.id, would[1].id)
      assert.equal(0, fake.count("DELETE " .. TOKENS .. "/" .. r.id))
      assert.equal(1, #assert(client:list(ALICE)).data)
    end)

    it("states and older_than choose what goes (revoked_at for REVOKED, expires_at for EXPIRED)", function()
      local r = assert(client:create(ALICE, { name = "revoked", ttl_seconds = DAY }))
      local e = assert(client:create(ALICE, { name = "expired", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, r.id))
      fake.expire(e.id)
      assert.same({}, assert(client:prune(ALICE, { older_than = 3600 })), "both died just now")
      local only = assert(client:prune(ALICE, { states = { "expired" }, dry_run = true }))
      assert.equal(1, #only)
      assert.equal(e.id, only[1].id)
      assert.equal(2, #assert(client:list(ALICE)).data)
    end)

    it("ids: deletes only those of the given tokens that still match, none other", function()
      local all = {}
      for i = 1, 4 do
        local t = assert(client:create(ALICE, { name = "r" .. i, ttl_seconds = DAY }))
        assert(client:revoke(ALICE, t.id))
        all[i] = t
      end
      local live = assert(client:create(ALICE, { name = "live", ttl_seconds = DAY }))
      -- shown: r1, r2 (upper case: ids are matched whatever their case), r3 and the live one; r3 is
      -- deleted by someone else meanwhile; r4 was not shown
      local ids = { all[1].id, all[2].id:upper(), all[3].id, live.id }
      assert(client:delete(ALICE, all[3].id))
      local would = assert(client:prune(ALICE, { ids = ids, dry_run = true }))
      assert.equal(2, #would)
      local deleted, err, meta = client:prune(ALICE, { ids = ids })
      assert.is_nil(err)
      local got = {}
      for i, t in ipairs(deleted) do got[i] = t.id end
      table.sort(got)
      local want = { all[1].id, all[2].id }
      table.sort(want)
      assert.same(want, got)
      assert.equal(3, #meta.calls, "one list, two deletes")
      assert.equal("REVOKED", assert(client:get(ALICE, all[4].id)).state, "r4 was not in ids")
      assert.equal("ACTIVE", assert(client:get(ALICE, live.id)).state, "an ACTIVE token in ids is still not pruned")
      assert.same({}, assert(client:prune(ALICE, { ids = {} })), "ids = {}: nothing")
      assert.equal(1, #assert(client:prune(ALICE, { dry_run = true })))
    end)

    it("older_than keeps what died recently and takes what died long ago (updated_at, created_at when missing)",
      function()
      local function ago(days) return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - days * DAY) end
      local function tok(n, fields)
        local t = { '"id":"00000000-0000-4000-8000-00000000000' .. n .. '"', '"name":"t' .. n .. '"' }
        for k, v in pairs(fields) do t[#t + 1] = '"' .. k .. '":"' .. v .. '"' end
        return "{" .. table.concat(t, ",") .. "}"
      end
      fake.fault { method = "GET", path = "/access%-tokens$", body = '{"data":[' .. table.concat({
        tok(1, { state = "REVOKED", revoked_at = ago(60), created_at = ago(90), updated_at = ago(60) }),
        tok(2, { state = "REVOKED", revoked_at = ago(1), created_at = ago(90), updated_at = ago(1) }),
        tok(3, { state = "EXPIRED", expires_at = ago(45), created_at = ago(90), updated_at = ago(90) }),
        tok(4, { state = "REVOKED", created_at = ago(90), updated_at = ago(40) }), -- no revoked_at
        tok(5, { state = "REVOKED", created_at = ago(50) }),                      -- nor updated_at
        tok(6, { state = "EXPIRED", expires_at = ago(2), created_at = ago(90), updated_at = ago(90) }),
      }, ",") .. '],"meta":{"page":{"number":1,"size":10,"total":6}}}' }
      local doomed = assert(client:prune(ALICE, { older_than = 30 * DAY, dry_run = true }))
      local ids = {}
      for _, t in ipairs(doomed) do ids[#ids + 1] = t.id:sub(-1) end
      assert.same({ "1", "3", "4", "5" }, ids)
    end)

    it("for \"me\", a failed look-up of who that is is the error, and nothing is listed", function()
      fake.fault { method = "GET", path = "^/v3/users/me$", status = 403, count = 1 }
      local deleted, err = client:prune("me")
      assert.is_nil(deleted)
      assert.equal("forbidden", err.kind)
      assert.is_nil(err.hint) -- (the spat_ hint is for system-account tokens only)
      assert.is_nil(err.message:find("spat_", 1, true))
      assert.equal(0, fake.count("GET /v3/users/" .. ALICE .. "/access-tokens"))
    end)

    it("refuses ACTIVE, unknown options and bad values before any I/O", function()
      for _, o in ipairs { { states = { "ACTIVE" } }, { state = { "REVOKED" } }, { older_than = -1 },
                           { dry_run = "yes" }, { states = {} }, "all", { ids = "x" }, { ids = { "x" } },
                           { ids = { [2] = fake.MISSING } }, { ids = { ALICE, 5 } } } do
        local v, err = client:prune(ALICE, o)
        assert.is_nil(v)
        assert.equal("invalid_argument", err.kind)
      end
      -- what the message says, where the caller reads it
      for _, case in ipairs {
        { ALICE, { states = { 5 } }, 'prune: states must be an array of state names such as "REVOKED"' },
        { ALICE, { states = { "REVOKED", "" } }, 'prune: states must be an array of state names such as "REVOKED"' },
        { "../x", nil, "user_id must be a UUID (8-4-4-4-12 hex digits)" },
      } do
        local v, err = client:prune(case[1], case[2])
        assert.is_nil(v)
        assert.equal("invalid_argument", err.kind)
        assert.equal(case[3], err.message)
      end
      assert.equal(0, fake.requests().total)
    end)

    it("a failed list is the error, and nothing is deleted", function()
      local t = assert(client:create(ALICE, { name = "gone", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, t.id))
      fake.fault { method = "GET", status = 403, count = 1 }
      local deleted, err = client:prune(ALICE)
      assert.is_nil(deleted)
      assert.equal("forbidden", err.kind)
      assert.equal(0, fake.count("DELETE " .. TOKENS .. "/" .. t.id))
    end)

    it("stops at the first failed delete and returns what it deleted with the error", function()
      for i = 1, 3 do
        local t = assert(client:create(ALICE, { name = "r" .. i, ttl_seconds = DAY }))
        assert(client:revoke(ALICE, t.id))
      end
      fake.fault { method = "DELETE", status = 403, count = 1 }
      local deleted, err = client:prune(ALICE)
      assert.same({}, deleted)
      assert.equal("forbidden", err.kind)
      assert.matches("pruned 0 of 3", err.message, 1, true)
    end)
  end)

  it("helpers called with a dot report it instead of raising", function()
    for _, name in ipairs { "rotate", "prune", "find_by_name", "batch", "close", "transport", "me", "list" } do
      local ok, v, err = pcall(client[name], ALICE, fake.MISSING)
      assert.is_true(ok, name .. " raised: " .. tostring(v))
      assert.is_nil(v)
      assert.is_true(errors.is(err, "invalid_argument"), name)
      assert.matches("call client:" .. name .. "(…) with a colon", err.message, 1, true)
    end
  end)

  it("every method of a client called with a dot reports it, raises nothing and sends nothing", function()
    local methods, n = getmetatable(client).__index, 0
    fake.reset()
    for name, fn in pairs(methods) do
      if type(fn) == "function" and name:sub(1, 1) ~= "_" then
        n = n + 1
        local ok, v, err = pcall(fn, ALICE, fake.MISSING, {}, {})
        assert.is_true(ok, name .. " raised: " .. tostring(v))
        if name:find("^each_") then -- an iterator, whose first step says it
          ok, v, err = pcall(v)
          assert.is_true(ok, name .. "'s iterator raised: " .. tostring(v))
          assert.is_false(v, name)
        else
          assert.is_nil(v, name)
        end
        assert.is_true(errors.is(err, "invalid_argument"), name)
        assert.matches("call client:" .. name .. "(…) with a colon", err.message, 1, true)
      end
    end
    assert.is_true(n >= 20, "methods found: " .. n)
    assert.equal(0, fake.requests().total)
  end)
end)
