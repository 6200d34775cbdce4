-- "me" is resolved with GET /v3/users/me before the call itself: when that
-- fails, the error names the operation the caller called and says that
-- resolving "me" failed (not get-users-me, an operation nobody called).
local fake = require "support.fake"
local pats = require "konnect.pats"

local BAD = "kpat_fake_nobody_at_all_not_real"

describe('an error resolving "me"', function()
  before_each(function() fake.reset() end)

  local function client(token)
    return assert(pats.new { token = token or BAD, server_url = fake.http, retries = false })
  end

  it("names the operation called: list, get, create, revoke, delete, update", function()
    local c = client()
    local id = fake.MISSING
    for _, call in ipairs {
      { "list-users-personal-access-tokens", function() return c:list("me") end },
      { "get-personal-access-token-details", function() return c:get("me", id) end },
      { "create-personal-access-token", function() return c:create("me", { name = "x1", ttl_seconds = 86400 }) end },
      { "revoke-personal-access-token", function() return c:revoke("me", id) end },
      { "delete-personal-access-token", function() return c:delete("me", id) end },
      { "update-personal-access-token-details", function() return c:update("me", id, { name = "x2" }) end },
    } do
      local v, err = call[2]()
      assert.is_nil(v)
      assert.equal("unauthorized", err.kind)
      assert.equal(401, err.status)
      assert.equal(call[1], err.operation)
      assert.matches('^konnect: ' .. call[1]:gsub("%-", "%%-") .. ': unauthorized %(401%): resolving "me" %(GET ' ..
        '/v3/users/me%) failed: ', tostring(err))
      assert.not_matches(BAD, tostring(err), 1, true)
    end
  end)

  it("through find_by_name, rotate, prune and batch too", function()
    local c = client()
    local _, e1 = c:find_by_name("me", "ci")
    assert.equal("list-users-personal-access-tokens", e1.operation)
    local _, e2 = c:rotate("me", fake.MISSING)
    assert.equal("create-personal-access-token", e2.operation)
    assert.matches('resolving "me"', e2.message, 1, true)
    local _, e3 = c:prune("me")
    assert.equal("delete-personal-access-token", e3.operation)
    local results = c:batch({ { "list", "me" } })
    assert.equal("list-users-personal-access-tokens", results[1].err.operation)
    assert.matches('resolving "me"', results[1].err.message, 1, true)
  end)

  it("client:me() itself is still get-users-me, without the prefix", function()
    local _, err = client():me()
    assert.equal("get-users-me", err.operation)
    assert.not_matches("resolving", err.message, 1, true)
  end)

  it("a /users/me answer without an id: decode, named after the operation called", function()
    fake.fault { method = "GET", path = "/users/me$", status = 200, body = '{"email":"x@example.test"}', count = 1 }
    local _, err = client(fake.ALICE_TOKEN):list("me")
    assert.equal("decode", err.kind)
    assert.equal("list-users-personal-access-tokens", err.operation)
    assert.matches('resolving "me"', err.message, 1, true)
  end)
end)
