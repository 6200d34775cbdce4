-- The helpers beyond the six operations (me, "me", find_by_name, rotate),
-- against the fake Konnect server.
local errors = require "konnect.errors"
local fake = require "support.fake"

local ALICE, BOB = fake.ALICE, fake.BOB
local NO_SUCH = "00000000-0000-4000-8000-00000000f00d"
local DAY = 86400

local function epoch(s)
  local y, mo, d, h, mi, sec = s:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)")
  return os.time { year = y, month = mo, day = d, hour = h, min = mi, sec = sec, isdst = false }
end

-- lifetime of a token in seconds (to the second)
local function lifetime(tok)
  return epoch(tok.expires_at) - epoch(tok.created_at)
end

describe("client helpers", function()
  local client

  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  describe("me()", function()
    it("returns the caller's user object", function()
      local me, err = client:me()
      assert.is_nil(err)
      assert.equal(ALICE, me.id)
      assert.equal("alice@example.test", me.email)
      local bob = assert(fake.client { token = fake.BOB_TOKEN }:me())
      assert.equal(BOB, bob.id)
    end)

    it("fails with unauthorized for an unknown token", function()
      local me, err = fake.client { token = "kpat_not_a_real_one" }:me()
      assert.is_nil(me)
      assert.is_true(errors.is(err, "unauthorized"), tostring(err))
      assert.equal(401, err.status)
      assert.matches("^kong:trace:", err.trace_id)
    end)
  end)

  describe('"me" as a user id', function()
    it("works for every operation and is resolved once per client", function()
      local tok = assert(client:create("me", { name = "via-me", ttl_seconds = DAY }))
      assert.equal(ALICE, tok.user_id)
      assert.equal(1, #assert(client:list("me")).data)
      assert.equal(tok.id, assert(client:get("me", tok.id)).id)
      assert.equal("renamed", assert(client:update("me", tok.id, { name = "renamed" })).name)
      assert.equal("REVOKED", assert(client:revoke("me", tok.id)).state)
      assert.is_true(assert(client:delete("me", tok.id)))
      assert.same({}, assert(client:find_by_name("me", "renamed")))
      assert.equal(1, fake.count("GET /v3/users/me"))
      -- explicit ids never ask
      assert(client:list(ALICE))
      assert.equal(1, fake.count("GET /v3/users/me"))
    end)

    it("is resolved per client: another client asks again", function()
      assert(client:list("me"))
      local other = fake.client { token = fake.BOB_TOKEN }
      local list = assert(other:list("me"))
      assert.same({}, list.data)
      assert.equal(2, fake.count("GET /v3/users/me"))
    end)

    it("a failed resolution is not cached; the error is the /users/me one, named after the call", function()
      fake.fault { method = "GET", path = "^/v3/users/me$", status = 401 }
      local list, err = client:list("me")
      assert.is_nil(list)
      assert.equal("unauthorized", err.kind)
      assert.equal("list-users-personal-access-tokens", err.operation)
      assert.matches('^resolving "me" %(GET /v3/users/me%) failed: ', err.message)
      assert.matches("/v3/users/me$", err.url)
      assert(client:list("me"))
      assert.equal(2, fake.count("GET /v3/users/me"))
    end)

    it("invalid arguments are rejected before resolving me", function()
      local tok, err = client:create("me", { name = "x", ttl_seconds = 10 })
      assert.is_nil(tok)
      assert.equal("invalid_argument", err.kind)
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("find_by_name()", function()
    it("returns every token with that name, and only those", function()
      local a = assert(client:create(ALICE, { name = "deploy", ttl_seconds = DAY }))
      assert(client:create(ALICE, { name = "other", ttl_seconds = DAY }))
      local b = assert(client:create(ALICE, { name = "deploy", ttl_seconds = 2 * DAY }))
      assert(client:create(ALICE, { name = "deploy2", ttl_seconds = DAY }))
      local found, err = client:find_by_name(ALICE, "deploy")
      assert.is_nil(err)
      assert.equal(2, #found)
      local ids = { [found[1].id] = true, [found[2].id] = true }
      assert.same({ [a.id] = true, [b.id] = true }, ids)
      for _, t in ipairs(found) do
        assert.equal("deploy", t.name)
        assert.is_nil(t.konnect_token)
      end
    end)

    it("is an exact, case-sensitive match, and empty when nothing matches", function()
      assert(client:create("me", { name = "Deploy", ttl_seconds = DAY }))
      assert.same({}, assert(client:find_by_name("me", "deploy")))
      assert.same({}, assert(client:find_by_name("me", "Deplo")))
      assert.equal(1, #assert(client:find_by_name("me", "Deploy")))
    end)

    it("includes revoked tokens (their state tells)", function()
      local t = assert(client:create("me", { name = "old", ttl_seconds = DAY }))
      assert(client:revoke("me", t.id))
      local found = assert(client:find_by_name("me", "old"))
      assert.equal(1, #found)
      assert.equal("REVOKED", found[1].state)
    end)

    it("rejects a missing name and a bad user id before any I/O", function()
      for _, name in ipairs { "", false, 42 } do
        local found, err = client:find_by_name("me", name)
        assert.is_nil(found)
        assert.equal("invalid_argument", err.kind)
      end
      local found, err = client:find_by_name("not-a-uuid", "x1")
      assert.is_nil(found)
      assert.equal("invalid_argument", err.kind)
      assert.equal(0, fake.requests().total)
    end)

    it("passes API errors through", function()
      local found, err = client:find_by_name(BOB, "x1")
      assert.is_nil(found)
      assert.equal("forbidden", err.kind)
      assert.equal(403, err.status)
    end)
  end)

  describe("rotate()", function()
    -- round two: the default is old = "delete" (revoke, then delete); the
    -- revoke-only behaviour these tests asserted before is old = "revoke"
    it("creates a replacement with the same name and lifetime, then revokes and deletes the old token", function()
      local old = assert(client:create(ALICE, { name = "ci deploy", ttl_seconds = 30 * DAY }))
      local new, err = client:rotate(ALICE, old.id)
      assert.is_nil(err)
      assert.are_not.equal(old.id, new.id)
      assert.equal("ci deploy", new.name)
      assert.equal("ACTIVE", new.state)
      assert.matches("^kpat_", new.konnect_token)
      assert.are_not.equal(old.konnect_token, new.konnect_token)
      assert.is_true(math.abs(lifetime(new) - 30 * DAY) <= 2, "lifetime " .. lifetime(new))
      local _, gerr = client:get(ALICE, old.id)
      assert.equal("not_found", gerr.kind)
      assert.equal(1, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. old.id .. "/revoke"))
      assert.equal(1, fake.count("DELETE /v3/users/" .. ALICE .. "/access-tokens/" .. old.id))
      -- the new secret works, the old one no longer does
      assert(fake.client { token = new.konnect_token }:me())
      local _, oerr = fake.client { token = old.konnect_token }:me()
      assert.equal("unauthorized", oerr.kind)
    end)

    it("takes a new name and ttl_seconds, and works with \"me\"", function()
      local old = assert(client:create("me", { name = "before", ttl_seconds = DAY }))
      local new = assert(client:rotate("me", old.id, { name = "after", ttl_seconds = 7 * DAY, old = "revoke" }))
      assert.equal("after", new.name)
      assert.is_true(math.abs(lifetime(new) - 7 * DAY) <= 2)
      assert.equal(ALICE, new.user_id)
      assert.equal("REVOKED", assert(client:get("me", old.id)).state)
    end)

    it("can rotate the very token the client authenticates with", function()
      local old = assert(client:create("me", { name = "self", ttl_seconds = DAY }))
      local self_client = fake.client { token = old.konnect_token }
      local new, err = self_client:rotate("me", old.id)
      assert.is_nil(err)
      -- revoked with the old secret, then deleted with the new one (the old one is dead by then)
      local _, gerr = client:get("me", old.id)
      assert.equal("not_found", gerr.kind)
      assert.equal(1, #assert(client:list("me")).data)
      assert(fake.client { token = new.konnect_token }:me())
      local revoked = assert(fake.client { token = old.konnect_token, retries = "off" })
      assert.equal("unauthorized", select(2, revoked:me()).kind)
    end)

    it("a created token that came back without its secret is a decode error, and the old token stays", function()
      local old = assert(client:create(ALICE, { name = "keep me", ttl_seconds = DAY }))
      local id = "00000000-0000-4000-8000-00000000c0de"
      local body = '{"id":"' .. id .. '","name":"keep me","state":"ACTIVE","user_id":"' .. ALICE .. '",' ..
        '"created_at":"2026-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z"}'
      for _, call in ipairs {
        function() return client:create(ALICE, { name = "x1", ttl_seconds = DAY }) end,
        function() return client:rotate(ALICE, old.id) end,
      } do
        fake.fault { method = "POST", status = 201, body = body, count = 1 }
        local v, err = call()
        assert.is_nil(v)
        assert.equal("decode", err.kind)
        assert.equal(201, err.status)
        assert.equal("the server created a token (" .. id .. ") but its konnect_token (the secret) is missing or " ..
          "unusable, so the token cannot be used: delete it and create another", err.message)
      end
      assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
      assert.equal(0, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. old.id .. "/revoke"))
    end)

    it("returns the new token AND the error when the revoke is refused (403)", function()
      local old = assert(client:create(ALICE, { name = "keep me", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 403 }
      local new, err = client:rotate(ALICE, old.id)
      assert.is_table(new, "the new token must not be lost")
      assert.matches("^kpat_", new.konnect_token)
      assert.equal("keep me", new.name)
      assert.is_true(errors.is(err, "forbidden"), tostring(err))
      assert.equal(403, err.status)
      assert.equal(new.id, err.new_token_id)
      assert.matches(new.id, err.message, 1, true)
      assert.matches("revoking the old one failed", tostring(err), 1, true)
      -- both tokens are still active; the new secret authenticates
      assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
      assert.equal("ACTIVE", assert(client:get(ALICE, new.id)).state)
      assert(fake.client { token = new.konnect_token }:me())
      assert.equal(1, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. old.id .. "/revoke"))
    end)

    it("returns the new token AND the error when 500s exhaust the revoke's retries", function()
      local old = assert(client:create(ALICE, { name = "flaky", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 500, count = 3 }
      local new, err = client:rotate(ALICE, old.id)
      assert.is_table(new)
      assert.matches("^kpat_", new.konnect_token)
      assert.equal("server", err.kind)
      assert.equal(500, err.status)
      assert.equal(3, err.attempts)
      assert.equal(new.id, err.new_token_id)
      assert.equal(3, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. old.id .. "/revoke"))
      assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
      assert.equal(2, fake.count("POST /v3/users/" .. ALICE .. "/access-tokens"), "the old token and one replacement")
    end)

    it("succeeds when a 500 on the revoke is followed by a success (retried)", function()
      local old = assert(client:create(ALICE, { name = "flaky", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 503, count = 2 }
      local new, err = client:rotate(ALICE, old.id, { old = "revoke" })
      assert.is_nil(err)
      assert.is_table(new)
      assert.equal("REVOKED", assert(client:get(ALICE, old.id)).state)
    end)

    it("creates nothing and revokes nothing when the old token does not exist", function()
      local new, err = client:rotate(ALICE, NO_SUCH)
      assert.is_nil(new)
      assert.equal("not_found", err.kind)
      assert.equal(0, fake.count("POST /v3/users/" .. ALICE .. "/access-tokens"))
    end)

    it("sends no create it cannot encode: an old token whose name came back as NaN", function()
      -- (lua-cjson reads the NaN literal a broken server may write; JSON has no NaN to send)
      local old = assert(client:create(ALICE, { name = "nan", ttl_seconds = 30 * DAY }))
      fake.fault { method = "GET", path = "/access%-tokens/" .. old.id:gsub("%-", "%%-") .. "$",
        body = '{"id":"' .. old.id .. '","name":NaN,"created_at":"2024-01-15T09:30:00Z",'
          .. '"expires_at":"2024-02-14T09:30:00Z","state":"ACTIVE"}' }
      local new, err = client:rotate(ALICE, old.id)
      assert.is_nil(new)
      assert.equal("invalid_argument", err.kind)
      assert.matches("cannot encode the request body", err.message, 1, true)
      assert.equal(1, fake.count("POST /v3/users/" .. ALICE .. "/access-tokens"), "only the first create")
      assert.equal(0, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. old.id .. "/revoke"))
    end)

    it("revokes nothing when the create fails (409: ten tokens already)", function()
      local first
      for i = 1, 10 do
        local t = assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = DAY }))
        first = first or t
      end
      local new, err = client:rotate(ALICE, first.id)
      assert.is_nil(new)
      assert.equal("conflict", err.kind)
      assert.equal("ACTIVE", assert(client:get(ALICE, first.id)).state)
      assert.equal(0, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. first.id .. "/revoke"))
    end)

    it("rejects bad options before any I/O", function()
      local cases = {
        { { ttl = DAY } },             -- unknown option
        { { ttl_seconds = 60 } },      -- out of range
        { { name = "" } },
        { "not a table" },
      }
      for _, c in ipairs(cases) do
        local new, err = client:rotate(ALICE, NO_SUCH, c[1])
        assert.is_nil(new)
        assert.equal("invalid_argument", err.kind, tostring(err))
      end
      local new, err = client:rotate(ALICE, "nope")
      assert.is_nil(new)
      assert.equal("invalid_argument", err.kind)
      assert.equal(0, fake.requests().total)
    end)

    it("is forbidden for another user's token, and creates nothing", function()
      local bobs = assert(fake.client { token = fake.BOB_TOKEN }:create(BOB, { name = "bobs", ttl_seconds = DAY }))
      local new, err = client:rotate(BOB, bobs.id)
      assert.is_nil(new)
      assert.equal("forbidden", err.kind)
      assert.equal(1, fake.count("POST /v3/users/" .. BOB .. "/access-tokens"), "only bob's own create")
      assert.equal(0, fake.count("PATCH /v3/users/" .. BOB .. "/access-tokens/" .. bobs.id .. "/revoke"))
    end)
  end)
end)
