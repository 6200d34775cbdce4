-- System accounts and their access tokens against the fake Konnect, over
-- real sockets: every operation round-trips with its documented errors,
-- every request and answer checked against spec/konnect-tokens-openapi.yaml
-- (spec/support/contract_check.lua), creates never repeated, the spat_
-- secret redacted everywhere, find_system_account, rotate_sa_token and
-- prune_sa_tokens.
local errors = require "konnect.errors"
local json = require "konnect.json"
local fake = require "support.fake"
local contract = require "support.contract_check"

local SA, PLAIN = fake.SYSTEM_ACCOUNT, fake.PLAIN_SYSTEM_ACCOUNT
local TOKENS = "/v3/system-accounts/" .. SA .. "/access-tokens"
local FUTURE = "2031-01-31T00:00:00Z"

local function assert_err(kind, status, v, err)
  assert.is_nil(v)
  assert.is_true(errors.is(err), "expected an error object, got " .. tostring(err))
  assert.equal(kind, err.kind, tostring(err))
  assert.equal(status, err.status, tostring(err))
  return err
end

-- every string anywhere in v (keys too), for looking for a secret
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do strings(k, out, seen); strings(x, out, seen) end
  end
  return out
end

describe("system accounts and their tokens", function()
  local check, admin
  before_each(function()
    fake.reset()
    check = contract.new()
    admin = fake.client { token = fake.ADMIN_TOKEN, hooks = check.hooks }
  end)
  after_each(function() assert.same({}, check.violations) end)

  it("every operation round-trips", function()
    local accounts, err, meta = admin:list_system_accounts()
    assert.is_nil(err)
    assert.equal(20, #accounts.data)
    assert.equal(1, accounts.pages)
    assert.equal("get-system-accounts", meta.operation)
    local sa = assert(admin:get_system_account(SA))
    assert.equal(fake.SYSTEM_ACCOUNT_NAME, sa.name)

    local tok, _, cmeta = admin:create_sa_token(SA, { name = "ci", expires_at = FUTURE })
    assert.equal(201, cmeta.status)
    assert.matches("^spat_%w+$", tok.token)
    assert.equal("ci", tok.name)
    assert.equal(FUTURE, tok.expires_at)
    local got = assert(admin:get_sa_token(SA, tok.id))
    assert.is_nil(got.token, "the secret is shown once")
    assert.is_nil(got.state, "system-account tokens have no state")
    assert.equal("ci 2", assert(admin:update_sa_token(SA, tok.id, { name = "ci 2" })).name)
    local list = assert(admin:list_sa_tokens(SA))
    assert.equal(1, #list.data)
    assert.equal("ci 2", list.data[1].name)
    local n = 0
    for t, e in admin:each_sa_token(SA, { filter = { name = { contains = "ci" } } }) do
      assert.is_nil(e)
      assert.equal(tok.id, t.id)
      n = n + 1
    end
    assert.equal(1, n)
    local ok, _, dmeta = admin:delete_sa_token(SA, tok.id)
    assert.is_true(ok)
    assert.equal(204, dmeta.status)
    assert_err("not_found", 404, admin:get_sa_token(SA, tok.id))
    for _, id in ipairs { "get-system-accounts", "get-system-accounts-id", "get-system-account-id-access-tokens",
                          "post-system-accounts-id-access-tokens", "get-system-accounts-id-access-tokens-id",
                          "patch-system-accounts-id-access-tokens-id", "delete-system-accounts-id-access-tokens-id" } do
      assert.is_true((check.seen[id] or 0) > 0, id)
    end
  end)

  it("checks every argument before any request: ids, the name, expires_at (required), the query", function()
    local bad = {
      { admin:create_sa_token(SA, { name = "ci" }) },                                      -- no expires_at
      { admin:create_sa_token(SA, { name = "ci", expires_at = FUTURE, ttl_seconds = 86400 }) },
      { admin:create_sa_token(SA, { name = "ci", expires_at = "tomorrow" }) },
      { admin:create_sa_token(SA, { name = "", expires_at = FUTURE }) },
      { admin:create_sa_token(SA, { name = "a\nb", expires_at = FUTURE }) },
      { admin:create_sa_token(SA, { name = ("x"):rep(257), expires_at = FUTURE }) },
      { admin:create_sa_token(SA, { name = "ci", expires_at = FUTURE, state = "ACTIVE" }) },
      { admin:create_sa_token(SA, { name = "ci", ttl_seconds = 0 }) },
      { admin:create_sa_token("not-an-id", { name = "ci", expires_at = FUTURE }) },
      { admin:get_sa_token(SA, "../../users") },
      { admin:update_sa_token(SA, fake.UNKNOWN_TOKEN_ID, {}) },
      { admin:delete_sa_token(nil, fake.UNKNOWN_TOKEN_ID) },
      { admin:get_system_account("me") },
      { admin:list_sa_tokens(SA, { filter = { description = { eq = "x" } } }) },
      { admin:list_system_accounts({ filter = { name = "x" } }) },
      { admin:list_system_accounts({ filter = { konnect_managed = "true" } }) },
      { admin:list_system_accounts({ filter = { name = { eq = "x", contains = "y" } } }) },
      { admin:list_system_accounts({ page_size = 0 }) },
      { admin:list_system_accounts({ page_number = 2 }) },
      { admin:get_sa_token(SA, fake.UNKNOWN_TOKEN_ID, {}, "extra") },
    }
    for i, r in ipairs(bad) do
      assert.is_nil(r[1], i)
      assert.is_true(errors.is(r[2], "invalid_argument"), i .. ": " .. tostring(r[2]))
    end
    assert.matches("expires_at", bad[1][2].message, 1, true)
    assert.equal(0, fake.requests().total)
  end)

  it("ttl_seconds is turned into expires_at here (the contract has no ttl_seconds for these tokens)", function()
    local before = os.time()
    local tok = assert(admin:create_sa_token(SA, { name = "ttl", ttl_seconds = 3 * 86400 }))
    local sent = json.decode(fake.requests().log[1].body)
    assert.same({ "expires_at", "name" }, (function() local k = {} for x in pairs(sent) do k[#k + 1] = x end
      table.sort(k) return k end)())
    local at = require("konnect.time").rfc3339(tok.expires_at)
    assert.is_true(at >= before + 3 * 86400 and at <= os.time() + 3 * 86400 + 1)
  end)

  it("409 on a duplicate name (create and rename); a create is sent once", function()
    local a = assert(admin:create_sa_token(SA, { name = "dup", expires_at = FUTURE }))
    local b = assert(admin:create_sa_token(SA, { name = "other", expires_at = FUTURE }))
    local err = assert_err("conflict", 409, admin:create_sa_token(SA, { name = "dup", expires_at = FUTURE }))
    assert.equal("post-system-accounts-id-access-tokens", err.operation)
    assert.equal(1, err.attempts)
    assert.matches("dup", err.message, 1, true)
    assert_err("conflict", 409, admin:update_sa_token(SA, b.id, { name = "dup" }))
    assert.equal(3, fake.count("POST " .. TOKENS))
    assert.equal(a.name, assert(admin:update_sa_token(SA, a.id, { name = "dup" })).name, "its own name is fine")
  end)

  it("403 without the org-admin role, 404 for what does not exist, 401 for an unknown token", function()
    local alice = fake.client { hooks = check.hooks }
    assert_err("forbidden", 403, alice:list_system_accounts())
    assert_err("forbidden", 403, alice:create_sa_token(SA, { name = "x", expires_at = FUTURE }))
    local plain = fake.client { token = fake.PLAIN_SYSTEM_ACCOUNT_TOKEN, hooks = check.hooks }
    assert_err("forbidden", 403, plain:get_system_account(PLAIN))
    assert_err("forbidden", 403, plain:list_sa_tokens(PLAIN))
    assert_err("not_found", 404, admin:get_system_account(fake.UNKNOWN_ACCOUNT_ID))
    assert_err("not_found", 404, admin:list_sa_tokens(fake.UNKNOWN_ACCOUNT_ID))
    assert_err("not_found", 404, admin:create_sa_token(fake.UNKNOWN_ACCOUNT_ID, { name = "x", expires_at = FUTURE }))
    assert_err("not_found", 404, admin:get_sa_token(SA, fake.UNKNOWN_TOKEN_ID))
    assert_err("not_found", 404, admin:update_sa_token(SA, fake.UNKNOWN_TOKEN_ID, { name = "x" }))
    assert_err("not_found", 404, admin:delete_sa_token(SA, fake.UNKNOWN_TOKEN_ID))
    local nobody = fake.client { token = "spat_fake_nobody_not_real", hooks = check.hooks }
    assert_err("unauthorized", 401, nobody:get_system_account(SA))
  end)

  it("a created spat_ token authenticates where the contract allows, and nowhere else", function()
    local tok = assert(admin:create_sa_token(SA, { name = "robot", expires_at = FUTURE }))
    local robot = fake.client { token = tok.token, hooks = check.hooks }
    -- users and system accounts (the admin account's role)
    assert.equal(1000, #assert(robot:list_users()).data)
    assert(robot:get_user(fake.ALICE))
    assert(robot:get_system_account(SA))
    local seen = assert(admin:get_sa_token(SA, tok.id))
    assert.is_string(seen.last_used_at, "using it sets last_used_at")
    -- not the PAT operations (the contract lists personal, Konnect and service tokens there), not "me"
    assert_err("forbidden", 403, robot:list(fake.ALICE))
    local merr = assert_err("unauthorized", 401, robot:me())
    assert.matches("not system-account tokens", merr.hint, 1, true)
    -- deleted: it no longer authenticates
    assert(admin:delete_sa_token(SA, tok.id))
    assert_err("unauthorized", 401, robot:get_system_account(SA))
  end)

  describe("a create is never sent twice", function()
    it("not on a 5xx, nor after a dropped connection (the token may exist): one POST each", function()
      fake.fault { method = "POST", status = 503 }
      local err = assert_err("server", 503, admin:create_sa_token(SA, { name = "a", expires_at = FUTURE }))
      assert.equal(1, err.attempts)
      fake.fault { method = "POST", drop = "after_body" }
      local v, derr = admin:create_sa_token(SA, { name = "b", expires_at = FUTURE })
      assert.is_nil(v)
      assert.equal("network", derr.kind)
      assert.equal(1, derr.attempts)
      assert.equal(2, fake.count("POST " .. TOKENS))
      -- the server did create it: one token, one secret (lost, never a second)
      assert.equal(1, #assert(admin:list_sa_tokens(SA)).data)
    end)

    it("but on a 429 (the server did not act on it), and when the request surely never left", function()
      fake.fault { method = "POST", status = 429, retry_after = "0" }
      local tok, _, m = admin:create_sa_token(SA, { name = "after 429", expires_at = FUTURE })
      assert.equal("after 429", tok.name)
      assert.equal(2, m.attempts)
      local nowhere = fake.client { server_url = "http://127.0.0.1:1", token = fake.ADMIN_TOKEN }
      local _, err = nowhere:create_sa_token(SA, { name = "x", expires_at = FUTURE })
      assert.equal("connect", err.kind)
      assert.equal(3, err.attempts)
    end)
  end)

  it("the spat_ secret never reaches hooks, the log, errors or tostring", function()
    local views, lines = {}, {}
    local watched = fake.client { token = fake.ADMIN_TOKEN, log = function(l) lines[#lines + 1] = l end, hooks = {
      before_request = function(v) views[#views + 1] = v end, after_response = function(v) views[#views + 1] = v end,
    } }
    local tok = assert(watched:create_sa_token(SA, { name = "secret", expires_at = FUTURE }))
    local secret = tok.token
    assert.matches("^spat_", secret)
    -- a server that echoes the new secret into an error (a proxy, a bug)
    fake.fault { method = "GET", status = 400, content_type = "application/problem+json", body = json.encode {
      status = 400, title = "Bad Request", instance = "kong:trace:1", detail = "bad token " .. secret,
      invalid_parameters = { { field = "token", reason = secret } } } }
    local _, err = watched:get_sa_token(SA, tok.id)
    assert.equal("bad_request", err.kind)
    -- the new token as a client's own token, echoed back in a body that is not JSON
    local robot = fake.client { token = secret, log = function(l) lines[#lines + 1] = l end, hooks = {
      before_request = function(v) views[#views + 1] = v end, after_response = function(v) views[#views + 1] = v end,
    } }
    fake.fault { method = "GET", status = 502, content_type = "text/plain", body = "upstream said " .. secret,
                 count = 3 }
    local _, rerr = robot:get_system_account(SA)
    assert.equal("server", rerr.kind)
    local all = strings { views, lines, err, rerr, tostring(err), tostring(rerr), tostring(robot) }
    assert.is_true(#all > 20)
    for _, s in ipairs(all) do
      local at = s:find(secret:sub(6), 1, true)
      -- (the message shows where, never the secret: test logs are scanned for tokens)
      assert.is_nil(at, "the secret leaked at " .. tostring(at) .. " of a string of " .. #s .. " bytes: " ..
        s:sub(1, (at or 1) - 1) .. "<SECRET>")
    end
    -- the created token's answer in the hook view: its token field masked
    local masked
    for _, v in ipairs(views) do
      if v.status == 201 then masked = json.decode(v.body).token end
    end
    assert.equal("<redacted>", masked)
  end)

  describe("find_system_account", function()
    it("by id, by exact name; none is not_found; several are refused with their ids", function()
      assert.equal(fake.SYSTEM_ACCOUNT_NAME, assert(admin:find_system_account(SA)).name)
      local a, _, m = admin:find_system_account("terraform-02")
      assert.equal("terraform-02", a.name)
      assert.equal("get-system-accounts", m.operation)
      assert.matches("?filter%5Bname%5D%5Beq%5D=terraform-02&", check.urls[#check.urls], 1, true)
      local err = assert_err("not_found", nil, admin:find_system_account("terraform"))
      assert.matches('"terraform"', err.message, 1, true)
      -- two accounts of one name (the fake has none: a server that answers so)
      local twin = { id = "00000000-0000-4000-8000-0000000005b1", name = "twin", konnect_managed = false }
      local twin2 = { id = "00000000-0000-4000-8000-0000000005b2", name = "twin", konnect_managed = false }
      fake.fault { method = "GET", path = "^/v3/system%-accounts$", body = json.encode {
        data = { twin, twin2 }, meta = { page = { number = 1, size = 100, total = 2 } } } }
      local _, terr = admin:find_system_account("twin")
      assert.equal("invalid_argument", terr.kind)
      assert.matches(twin.id .. ", " .. twin2.id, terr.message, 1, true)
      assert_err("invalid_argument", nil, admin:find_system_account(""))
    end)

    it("a name or id that is no string, empty or over 1024 bytes is refused, nothing sent, nothing raised", function()
      local before = fake.requests().total
      for _, bad in ipairs { 42, true, {}, "", ("n"):rep(1025) } do
        local ok, v, err = pcall(admin.find_system_account, admin, bad)
        assert.is_true(ok, tostring(v))
        assert_err("invalid_argument", nil, v, err)
        assert.matches("system account's name or id", err.message, 1, true)
      end
      assert_err("invalid_argument", nil, admin:find_system_account(nil))
      assert.equal(before, fake.requests().total)
      assert_err("not_found", nil, admin:find_system_account(("n"):rep(1024)))
    end)
  end)

  describe("rotate_sa_token", function()
    it("creates the replacement under the old name and lifetime, deletes the old one; the new secret works", function()
      local old = assert(admin:create_sa_token(SA, { name = "deploy", expires_at = FUTURE }))
      local new, err, meta = admin:rotate_sa_token(SA, old.id)
      assert.is_nil(err)
      assert.equal("deploy", new.name)
      assert.matches("^spat_", new.token)
      assert.not_equal(old.id, new.id)
      assert.equal(4, #meta.calls, "get, create (under a temporary name), delete, rename")
      local list = assert(admin:list_sa_tokens(SA)).data
      assert.equal(1, #list)
      assert.equal(new.id, list[1].id)
      assert.equal("deploy", list[1].name)
      local life = require("konnect.time").rfc3339(new.expires_at) - require("konnect.time").rfc3339(new.created_at)
      local old_life = require("konnect.time").rfc3339(old.expires_at) - require("konnect.time").rfc3339(old.created_at)
      assert.is_true(math.abs(life - old_life) <= 2)
      assert(fake.client { token = new.token }:get_system_account(SA))
      -- the POST carried a temporary name: the old token still held "deploy"
      local posted
      for _, e in ipairs(fake.requests().log) do if e.method == "POST" then posted = json.decode(e.body).name end end
      assert.matches("^deploy %(rotating %d+T%d+Z%)$", posted)
    end)

    it("a 256-character name is cut by whole characters for the temporary name, which stays 256", function()
      -- "À" is C3 80: its second byte is the smallest continuation byte
      for _, ch in ipairs { "\195\128", "\244\143\191\191", "a" } do
        fake.reset()
        local name = ch:rep(256)
        local old = assert(admin:create_sa_token(SA, { name = name, expires_at = FUTURE }))
        local new = assert(admin:rotate_sa_token(SA, old.id))
        assert.equal(name, new.name)
        local posted
        for _, e in ipairs(fake.requests().log) do if e.method == "POST" then posted = json.decode(e.body).name end end
        local suffix = posted:match(" %(rotating %d+T%d+Z%)$")
        assert.is_string(suffix, posted)
        assert.equal(ch:rep(256 - #suffix) .. suffix, posted)
      end
    end)

    it("with a new name: no rename; old = \"keep\" needs one and keeps the old token", function()
      local old = assert(admin:create_sa_token(SA, { name = "v1", expires_at = FUTURE }))
      local v2, _, meta = admin:rotate_sa_token(SA, old.id, { name = "v2", ttl_seconds = 86400 })
      assert.equal("v2", v2.name)
      assert.equal(3, #meta.calls)
      local before = fake.requests().total
      assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, v2.id, { old = "keep" }))
      local bad = assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, v2.id, { old = "revoke" }))
      assert.matches('old must be "delete" or "keep" (system-account tokens have no revoke), got "revoke"',
        bad.message, 1, true)
      bad = assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, v2.id, { old = true }))
      assert.matches("got boolean", bad.message, 1, true)
      -- a long value is quoted by its first 40 bytes only
      bad = assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, v2.id, { old = string.rep("d", 39) .. "XY" }))
      assert.matches(', got "' .. string.rep("d", 39) .. 'X"$', bad.message)
      assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, v2.id, { name = "x", expires_at = "soon" }))
      assert.equal(before, fake.requests().total)
      local v3 = assert(admin:rotate_sa_token(SA, v2.id, { old = "keep", name = "v3" }))
      assert.equal(2, #assert(admin:list_sa_tokens(SA)).data)
      assert.equal("v3", v3.name)
    end)

    it("a client rotating its own token renames with the new one (the old is gone)", function()
      local own = assert(admin:create_sa_token(SA, { name = "self", expires_at = FUTURE }))
      local robot = fake.client { token = own.token }
      local new, err = robot:rotate_sa_token(SA, own.id)
      assert.is_nil(err)
      assert.equal("self", new.name)
      assert.equal("self", assert(admin:get_sa_token(SA, new.id)).name)
    end)

    it("when the delete fails the new token is returned with the error; when the rename fails too", function()
      local old = assert(admin:create_sa_token(SA, { name = "keep me", expires_at = FUTURE }))
      fake.fault { method = "DELETE", status = 403 }
      local new, err = admin:rotate_sa_token(SA, old.id)
      assert.matches("^spat_", new.token, "the secret is never lost")
      assert.equal("forbidden", err.kind)
      assert.equal("delete", err.step)
      assert.equal(new.id, err.new_token_id)
      assert.matches("deleting the old one failed", err.message, 1, true)
      assert.is_nil(tostring(err):find(new.token, 1, true))
      assert.equal(2, #assert(admin:list_sa_tokens(SA)).data)
      -- the rename after a delete that worked
      fake.fault { method = "PATCH", status = 500, count = 3 }
      local newer, rerr = admin:rotate_sa_token(SA, new.id, { name = new.name })
      assert.matches("^spat_", newer.token)
      assert.equal("rename", rerr.step)
      assert.matches("rotating", rerr.message, 1, true)
    end)

    it("refuses options that are no table and a bad name before any request; a missing token is not_found", function()
      local old = assert(admin:create_sa_token(SA, { name = "stays", expires_at = FUTURE }))
      local before = fake.requests().total
      local bad = assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, old.id, "fast"))
      assert.matches("rotate_sa_token options must be a table", bad.message, 1, true)
      bad = assert_err("invalid_argument", nil, admin:rotate_sa_token(SA, old.id, { name = "" }))
      assert.matches("name must not be empty", bad.message, 1, true)
      assert.equal(before, fake.requests().total)
      -- the look-up of the old token fails: that is the error, nothing is created
      assert_err("not_found", 404, admin:rotate_sa_token(SA, fake.MISSING))
      assert.equal(1, #assert(admin:list_sa_tokens(SA)).data)
    end)
  end)

  describe("prune_sa_tokens", function()
    it("deletes the expired ones (dry_run says which), older_than counts from the expiry", function()
      local a = assert(admin:create_sa_token(SA, { name = "a", expires_at = FUTURE }))
      local b = assert(admin:create_sa_token(SA, { name = "b", expires_at = FUTURE }))
      assert(admin:create_sa_token(SA, { name = "c", expires_at = FUTURE }))
      fake.expire(a.id)
      fake.expire(b.id)
      local would = assert(admin:prune_sa_tokens(SA, { dry_run = true }))
      assert.equal(2, #would)
      assert.equal(0, #assert(admin:prune_sa_tokens(SA, { older_than = 3600 })))
      local deleted, err, meta = admin:prune_sa_tokens(SA)
      assert.is_nil(err)
      assert.equal(2, #deleted)
      assert.equal(3, #meta.calls, "one list, two deletes")
      assert.equal(1, #assert(admin:list_sa_tokens(SA)).data)
      assert_err("invalid_argument", nil, admin:prune_sa_tokens(SA, { states = { "EXPIRED" } }))
      assert_err("invalid_argument", nil, admin:prune_sa_tokens("x"))
    end)

    it("takes per-call options (each list and delete under them); bad ones are refused before any call", function()
      for i = 1, 2 do fake.expire(assert(admin:create_sa_token(SA, { name = "t" .. i, expires_at = FUTURE })).id) end
      assert.equal(2, #assert(admin:prune_sa_tokens(SA, { dry_run = true }, { timeout = 10 })))
      local deleted, err, meta = admin:prune_sa_tokens(SA, nil, { timeout = 10, headers = { ["X-Trace"] = "p1" } })
      assert.is_nil(err)
      assert.equal(2, #deleted)
      assert.equal(3, #meta.calls, "one list, two deletes")
      assert_err("invalid_argument", nil, admin:prune_sa_tokens(SA, nil, { timeout = -1 }))
      assert_err("invalid_argument", nil, admin:prune_sa_tokens(SA, nil, { nope = 1 }))
    end)

    it("options that are not its own, or of the wrong type, are refused by name before any call", function()
      fake.expire(assert(admin:create_sa_token(SA, { name = "t1", expires_at = FUTURE })).id)
      local before = fake.requests().total
      local cases = {
        { "x", "must be a table" },
        { { nope = true }, "nope" },
        { { dry_run = "yes" }, "dry_run must be a boolean" },
        { { older_than = -1 }, "older_than must be a number" },
        { { older_than = "1" }, "older_than must be a number" },
        { { states = { "revoked" } }, "drop states" },
        { { ids = "x" }, "ids" },
      }
      for _, case in ipairs(cases) do
        local err = assert_err("invalid_argument", nil, admin:prune_sa_tokens(SA, case[1]))
        assert.matches(case[2], err.message, 1, true)
      end
      assert.equal(before, fake.requests().total)
      assert.equal(1, #assert(admin:list_sa_tokens(SA)).data, "nothing deleted")
    end)

    it("ids: deletes only those of the given tokens that are still expired", function()
      local t = {}
      for i = 1, 4 do t[i] = assert(admin:create_sa_token(SA, { name = "t" .. i, expires_at = FUTURE })) end
      for i = 1, 3 do fake.expire(t[i].id) end
      local ids = { t[1].id, t[3].id, t[4].id } -- t4 is not expired; t2 expired but not given
      assert(admin:delete_sa_token(SA, t[3].id)) -- gone meanwhile
      local deleted, err, meta = admin:prune_sa_tokens(SA, { ids = ids })
      assert.is_nil(err)
      assert.equal(1, #deleted)
      assert.equal(t[1].id, deleted[1].id)
      assert.equal(2, #meta.calls, "one list, one delete")
      assert(admin:get_sa_token(SA, t[2].id))
      assert(admin:get_sa_token(SA, t[4].id))
      for _, bad in ipairs { "x", { "x" }, { 1 }, { [3] = t[2].id } } do
        assert_err("invalid_argument", nil, admin:prune_sa_tokens(SA, { ids = bad }))
      end
    end)

    it("stops at the first failure, with what it deleted so far", function()
      for i = 1, 3 do fake.expire(assert(admin:create_sa_token(SA, { name = "t" .. i, expires_at = FUTURE })).id) end
      fake.fault { method = "DELETE", path = "/access%-tokens/", status = 403, count = 1 }
      local deleted, err = admin:prune_sa_tokens(SA)
      assert.equal(0, #deleted)
      assert.equal("forbidden", err.kind)
      assert.equal(0, err.deleted)
      assert.matches("pruned 0 of 3", err.message, 1, true)
      assert.equal(3, #assert(admin:prune_sa_tokens(SA)))
    end)
  end)

  it("a method called with a dot is reported, an iterator too", function()
    local _, err = admin.list_sa_tokens(SA)
    assert.equal("invalid_argument", err.kind)
    local it = admin.each_user()
    local v, ierr = it()
    assert.is_false(v)
    assert.matches("colon", ierr.message, 1, true)
    assert.is_nil(it())
    assert.equal(0, fake.requests().total)
  end)
end)
