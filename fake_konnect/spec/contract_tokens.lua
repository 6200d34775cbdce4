-- fake_konnect/spec/contract_tokens.lua: the users and system-account
-- operations of spec/konnect-tokens-openapi.yaml against the fake, with the
-- roles and token kinds.  Run from contract_spec.lua (which owns the HTTP
-- client, the contract checks and the coverage test) as
--   dofile("contract_tokens.lua")(T)
-- T carries busted's functions and the shared helpers.  Every request's query
-- is validated against the contract too (openapi.validate_query).

return function(T)
  local describe, it, assert = T.describe, T.it, T.assert
  local api, control, check, ext = T.api, T.control, T.check, T.check_extension
  local assert_param, epoch, openapi, F = T.assert_param, T.epoch, T.openapi, T.fixtures
  local ALICE, BOB, NOBODY, ADMIN = F.ALICE, F.BOB, F.MISSING, F.ADMIN
  local ALICE_BOOT, ADMIN_BOOT, SERVICE = F.ALICE_TOKEN, F.ADMIN_TOKEN, F.SERVICE_TOKEN
  local SA_BOOT, PLAIN_BOOT = F.SYSTEM_ACCOUNT_TOKEN, F.PLAIN_SYSTEM_ACCOUNT_TOKEN

  local function enc(s)
    return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
  end

  --- query{ {"page[size]", 10}, … } -> "page%5Bsize%5D=10&…" (in that order)
  local function query(list)
    local parts = {}
    for i, kv in ipairs(list) do parts[i] = enc(kv[1]) .. "=" .. enc(kv[2]) end
    return table.concat(parts, "&")
  end

  --- get(op, path, token, q?, outside?) -> res; the query is checked against
  -- the operation's parameters first (outside: it must NOT fit the contract)
  local function get(op, path, token, q, outside)
    local qs = q and query(q) or ""
    if q then
      local ok, err = openapi.validate_query(op, qs)
      if outside then
        assert(not ok, op .. ": expected the query " .. qs .. " to be outside the contract")
      else
        assert(ok, err)
      end
    end
    return api("GET", path .. (qs ~= "" and "?" .. qs or ""), { token = token })
  end

  local function dump() return control("GET", "state").json end

  local function sa_path(aid, suffix) return "/v3/system-accounts/" .. aid .. (suffix or "") end
  local function sat_path(aid, tid) return sa_path(aid, "/access-tokens" .. (tid and "/" .. tid or "")) end

  local function future(days)
    return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + days * 86400)
  end

  local function create_sat(aid, name, token, expires)
    local body = { name = name, expires_at = expires or future(30) }
    assert(openapi.validate_request("post-system-accounts-id-access-tokens", body))
    return api("POST", sat_path(aid), { token = token or SA_BOOT, body = body })
  end

  local function create_sat_ok(aid, name, token)
    return check("post-system-accounts-id-access-tokens", create_sat(aid, name, token), 201)
  end

  -- a generated system account with at least `n` tokens, from the state dump
  local function account_with_tokens(st, n)
    for _, a in ipairs(st.system_accounts) do
      if #a.tokens >= n and not a.admin then return a end
    end
    error("no system account with " .. n .. " tokens in the seeded organisation")
  end

  local function assert_seconds(s)
    assert(type(s) == "string" and s:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"),
      "not a UTC timestamp in whole seconds: " .. tostring(s))
  end

  local function ids(list)
    local out = {}
    for i, x in ipairs(list) do out[i] = x.id end
    return out
  end

  describe("list-users", function()
    local op = "list-users"

    it("200: the first page by default (10), fixture users first, total counts users", function()
      local body = check(op, get(op, "/v3/users", ADMIN_BOOT), 200)
      assert.equal(10, #body.data)
      assert.same({ number = 1, size = 10, total = 1000 }, body.meta.page)
      assert.same({ ALICE, BOB, ADMIN }, { body.data[1].id, body.data[2].id, body.data[3].id })
      assert.equal("alice@example.test", body.data[1].email)
      assert.is_nil(body.data[3].admin) -- the role stays inside the fake
    end)

    it("200: walking pages of 100 gives every user once, in the state's order, then an empty page", function()
      local st, seen = dump(), {}
      for n = 1, 11 do
        local body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "page[size]", 100 }, { "page[number]", n } }), 200)
        assert.same({ number = n, size = 100, total = 1000 }, body.meta.page)
        assert.equal(n <= 10 and 100 or 0, #body.data)
        for _, u in ipairs(body.data) do seen[#seen + 1] = u end
      end
      assert.same(ids(st.users), ids(seen))
      -- and each object is the state's, less the tokens and the role
      local u = st.users[500]
      u.tokens, u.admin = nil, nil
      assert.same(u, seen[500])
    end)

    it("200: a page[size] over the maximum is served at 100 and meta.page.size says so", function()
      local body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "page[size]", 500 } }), 200)
      assert.equal(100, #body.data)
      assert.equal(100, body.meta.page.size)
    end)

    it("total counts pages with POST /__fake/paging {total = pages}; 400 over the maximum with reject", function()
      assert.equal(200, control("POST", "paging", { total = "pages", over_max = "reject" }).status)
      local body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "page[size]", 30 } }), 200)
      assert.equal(34, body.meta.page.total) -- ceil(1000 / 30)
      local err = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "page[size]", 101 } }), 400)
      assert.equal(100, assert_param(err, "page[size]", "max").maximum)
    end)

    it("200: filters (eq, contains, active, id), each one operator per field", function()
      local body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "filter[email][eq]", "bob@example.test" } }), 200)
      assert.same({ BOB }, ids(body.data))
      assert.equal(1, body.meta.page.total)
      body = check(op, get(op, "/v3/users", ADMIN_BOOT,
        { { "filter[email][contains]", "@example.test" }, { "page[size]", 50 } }), 200)
      assert.same({ ALICE, BOB, ADMIN }, ids(body.data))
      body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "filter[full_name][contains]", "Example" } }), 200)
      assert.same({ ALICE, BOB }, ids(body.data))
      body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "filter[id][eq]", ADMIN } }), 200)
      assert.same({ ADMIN }, ids(body.data))
      -- eq is exact and case-sensitive
      body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "filter[email][eq]", "BOB@example.test" } }), 200)
      assert.equal(0, #body.data)
      -- active=false: exactly the inactive users of the state, paged
      local inactive = {}
      for _, u in ipairs(dump().users) do if not u.active then inactive[#inactive + 1] = u.id end end
      assert.is_true(#inactive > 10)
      local got = {}
      for n = 1, math.ceil(#inactive / 10) + 1 do
        body = check(op, get(op, "/v3/users", ADMIN_BOOT,
          { { "filter[active]", "false" }, { "page[number]", n } }), 200)
        assert.equal(#inactive, body.meta.page.total)
        for _, u in ipairs(body.data) do
          assert.is_false(u.active)
          got[#got + 1] = u.id
        end
      end
      assert.same(inactive, got)
    end)

    it("200: filter[email]=v means eq (Kong's filtering docs), though the contract's schema does not admit it",
      function()
        local body = check(op, get(op, "/v3/users", ADMIN_BOOT, { { "filter[email]", "alice@example.test" } }, true),
          200)
        assert.same({ ALICE }, ids(body.data))
      end)

    it("400 for bad page and filter parameters, all reported", function()
      local cases = {
        { { { "page[size]", 0 } }, "page[size]", "min", true },
        { { { "page[number]", -1 } }, "page[number]", "min", true },
        { { { "page[number]", "two" } }, "page[number]", "is_integer" },
        { { { "filter[active]", "yes" } }, "filter[active]", "is_boolean" },
        { { { "filter[nickname][eq]", "x" } }, "filter[nickname][eq]", "unknown_property", true },
        { { { "filter[email][startswith]", "a" } }, "filter[email][startswith]", "invalid" },
        { { { "filter[id][contains]", "a" } }, "filter[id][contains]", "invalid", true },
        { { { "page[offset]", "3" } }, "page[offset]", "unknown_property" },
      }
      for _, c in ipairs(cases) do
        local err = check(op, get(op, "/v3/users", ADMIN_BOOT, c[1], not c[4]), 400)
        local p = assert_param(err, c[2], c[3])
        assert.equal("query", p.source)
      end
      local err = check(op, get(op, "/v3/users", ADMIN_BOOT,
        { { "filter[email][eq]", "a" }, { "filter[email][contains]", "b" }, { "page[size]", 0 } }), 400)
      assert_param(err, "page[size]", "min")
      assert.is_truthy(err.invalid_parameters[2]) -- both problems
    end)

    it("any user or system-account token may list users; 401 without one; 403 for the service token", function()
      check(op, get(op, "/v3/users", ALICE_BOOT), 200)
      check(op, get(op, "/v3/users", SA_BOOT), 200)
      check(op, get(op, "/v3/users", PLAIN_BOOT), 200)
      local t = T.create_ok("lister")
      check(op, get(op, "/v3/users", t.konnect_token), 200)
      ext(op, get(op, "/v3/users", nil), 401)
      ext(op, get(op, "/v3/users", "kpat_fake_nobody"), 401)
      ext(op, get(op, "/v3/users", SERVICE), 403)
    end)

    it("405 for another method", function()
      local res = api("POST", "/v3/users", { token = ADMIN_BOOT, body = {} })
      assert.equal(405, res.status)
      assert.equal("GET", res.headers["allow"])
    end)
  end)

  describe("get-user", function()
    local op = "get-user"

    it("200 for a fixture and a generated user, as the list shows them", function()
      local u = check(op, get(op, "/v3/users/" .. BOB, ALICE_BOOT), 200)
      assert.equal("Bob Example", u.full_name)
      local st = dump()
      local g = st.users[777]
      g.tokens, g.admin = nil, nil
      assert.same(g, check(op, get(op, "/v3/users/" .. g.id:upper(), SA_BOOT), 200))
    end)

    it("400, 404, and the 401 and 403 outside the contract", function()
      local err = check(op, get(op, "/v3/users/not-a-uuid", ALICE_BOOT), 400)
      assert.equal("path", assert_param(err, "userId", "is_uuid").source)
      check(op, get(op, "/v3/users/" .. NOBODY, ALICE_BOOT), 404)
      ext(op, get(op, "/v3/users/" .. BOB), 401)
      ext(op, get(op, "/v3/users/" .. BOB, SERVICE), 403)
    end)
  end)

  describe("get-system-accounts", function()
    local op = "get-system-accounts"

    it("200 for an org admin (user or system account): every account, paged, fixtures first", function()
      local st = dump()
      assert.equal(20, #st.system_accounts)
      local got = {}
      for n = 1, 3 do
        local body = check(op, get(op, "/v3/system-accounts", n == 2 and SA_BOOT or ADMIN_BOOT,
          { { "page[number]", n } }), 200)
        assert.same({ number = n, size = 10, total = 20 }, body.meta.page)
        for _, a in ipairs(body.data) do
          assert_seconds(a.created_at)
          got[#got + 1] = a.id
        end
      end
      assert.same(ids(st.system_accounts), got)
      assert.equal(F.SYSTEM_ACCOUNT, got[1])
      assert.equal(F.PLAIN_SYSTEM_ACCOUNT, got[2])
    end)

    it("200: filters name, description, konnect_managed", function()
      local body = check(op, get(op, "/v3/system-accounts", ADMIN_BOOT,
        { { "filter[name][eq]", F.PLAIN_SYSTEM_ACCOUNT_NAME } }), 200)
      assert.same({ F.PLAIN_SYSTEM_ACCOUNT }, ids(body.data))
      body = check(op, get(op, "/v3/system-accounts", ADMIN_BOOT, { { "filter[name][contains]", "fixture-" } }), 200)
      assert.same({ F.SYSTEM_ACCOUNT, F.PLAIN_SYSTEM_ACCOUNT }, ids(body.data))
      body = check(op, get(op, "/v3/system-accounts", ADMIN_BOOT, { { "filter[konnect_managed]", "true" } }), 200)
      assert.is_true(#body.data >= 1)
      for _, a in ipairs(body.data) do assert.is_true(a.konnect_managed) end
      body = check(op, get(op, "/v3/system-accounts", ADMIN_BOOT,
        { { "filter[description][contains]", "organization admin" } }), 200)
      assert.same({ F.SYSTEM_ACCOUNT }, ids(body.data))
    end)

    it("400, 401; 403 for non-admins, the service token and a non-admin system account", function()
      local err = check(op, get(op, "/v3/system-accounts", ADMIN_BOOT, { { "filter[konnect_managed]", "1" } }, true),
        400)
      assert_param(err, "filter[konnect_managed]", "is_boolean")
      check(op, get(op, "/v3/system-accounts"), 401)
      check(op, get(op, "/v3/system-accounts", "spat_fake_unknown"), 401)
      check(op, get(op, "/v3/system-accounts", ALICE_BOOT), 403)
      check(op, get(op, "/v3/system-accounts", T.create_ok("alice pat").konnect_token), 403)
      check(op, get(op, "/v3/system-accounts", SERVICE), 403)
      check(op, get(op, "/v3/system-accounts", PLAIN_BOOT), 403)
    end)
  end)

  describe("get-system-accounts-id", function()
    local op = "get-system-accounts-id"

    it("200, 401, 403, 404 (an id that is no UUID is just not found: the contract types it as a string)", function()
      local a = check(op, get(op, sa_path(F.PLAIN_SYSTEM_ACCOUNT), ADMIN_BOOT), 200)
      assert.equal(F.PLAIN_SYSTEM_ACCOUNT_NAME, a.name)
      assert.is_false(a.konnect_managed)
      assert.is_nil(a.admin)
      check(op, get(op, sa_path(F.PLAIN_SYSTEM_ACCOUNT)), 401)
      check(op, get(op, sa_path(F.PLAIN_SYSTEM_ACCOUNT), PLAIN_BOOT), 403)
      check(op, get(op, sa_path(F.UNKNOWN_ACCOUNT_ID), ADMIN_BOOT), 404)
      check(op, get(op, sa_path("ci-deploy-01"), ADMIN_BOOT), 404)
    end)
  end)

  describe("get-system-account-id-access-tokens", function()
    local op = "get-system-account-id-access-tokens"

    it("200: a seeded account's tokens as the state has them; never used means no last_used_at", function()
      local st = dump()
      local never, used = 0, 0
      for _, a in ipairs(st.system_accounts) do
        if #a.tokens > 0 then
          local body = check(op, get(op, sat_path(a.id), SA_BOOT, { { "page[size]", 100 } }), 200)
          assert.same({ number = 1, size = 100, total = #a.tokens }, body.meta.page)
          for i, t in ipairs(body.data) do
            local want = a.tokens[i]
            if T.openapi.is_null(want.last_used_at) then
              never = never + 1
              assert.is_nil(t.last_used_at)
              want.last_used_at = nil
            else
              used = used + 1
            end
            assert.same(want, t)
            assert_seconds(t.expires_at)
          end
        end
      end
      assert.is_true(never > 0 and used > 0, "seeded tokens both used and never used")
    end)

    it("200: paged and filtered by name", function()
      local a = account_with_tokens(dump(), 3)
      local body = check(op, get(op, sat_path(a.id), ADMIN_BOOT, { { "page[size]", 2 }, { "page[number]", 2 } }), 200)
      assert.same({ number = 2, size = 2, total = #a.tokens }, body.meta.page)
      assert.equal(a.tokens[3].id, body.data[1].id)
      body = check(op, get(op, sat_path(a.id), ADMIN_BOOT, { { "filter[name][eq]", a.tokens[2].name } }), 200)
      assert.same({ a.tokens[2].id }, ids(body.data))
      body = check(op, get(op, sat_path(a.id), ADMIN_BOOT, { { "filter[name][contains]", "-token-" } }), 200)
      assert.equal(#a.tokens, #body.data)
    end)

    it("200 with an empty list, 400, 401, 403, 404", function()
      local body = check(op, get(op, sat_path(F.PLAIN_SYSTEM_ACCOUNT), ADMIN_BOOT), 200)
      assert.equal(0, #body.data)
      local err = check(op, get(op, sat_path(F.PLAIN_SYSTEM_ACCOUNT), ADMIN_BOOT, { { "filter[id][eq]", "x" } }),
        400)
      assert_param(err, "filter[id][eq]", "unknown_property")
      check(op, get(op, sat_path(F.PLAIN_SYSTEM_ACCOUNT)), 401)
      check(op, get(op, sat_path(F.PLAIN_SYSTEM_ACCOUNT), ALICE_BOOT), 403)
      check(op, get(op, sat_path(F.UNKNOWN_ACCOUNT_ID), ADMIN_BOOT), 404)
    end)
  end)

  describe("post-system-accounts-id-access-tokens", function()
    local op = "post-system-accounts-id-access-tokens"

    it("201: the spat_ secret once, whole-second times; the token then authenticates", function()
      local res = create_sat(F.PLAIN_SYSTEM_ACCOUNT, "ci deploy", ADMIN_BOOT, "2031-05-06T07:08:09.750+02:00")
      local t = check(op, res, 201)
      assert.is_truthy(t.token:match("^spat_%w+$"))
      assert.equal(55, #t.token)
      assert.equal("ci deploy", t.name)
      assert.equal("2031-05-06T05:08:09Z", t.expires_at) -- UTC, fraction dropped
      assert_seconds(t.created_at)
      assert.is_nil(t.last_used_at)
      -- shown once: no other answer carries it
      local listed = api("GET", sat_path(F.PLAIN_SYSTEM_ACCOUNT), { token = ADMIN_BOOT })
      assert.is_nil(listed.body:find(t.token, 1, true))
      assert.is_nil(control("GET", "state").body:find(t.token, 1, true))
      -- it authenticates where a system-account token may go, and is then used
      check("list-users", get("list-users", "/v3/users", t.token), 200)
      check("get-system-accounts", get("get-system-accounts", "/v3/system-accounts", t.token), 403) -- no role
      local got = check("get-system-accounts-id-access-tokens-id",
        api("GET", sat_path(F.PLAIN_SYSTEM_ACCOUNT, t.id), { token = ADMIN_BOOT }), 200)
      assert_seconds(got.last_used_at)
      assert.is_true(epoch(got.last_used_at) >= epoch(got.created_at))
    end)

    it("a token of the admin system account has the admin role", function()
      local t = create_sat_ok(F.SYSTEM_ACCOUNT, "admin automation")
      check("get-system-accounts", get("get-system-accounts", "/v3/system-accounts", t.token), 200)
    end)

    it("409 for a name the account already has (not for another account)", function()
      create_sat_ok(F.PLAIN_SYSTEM_ACCOUNT, "twice")
      check(op, create_sat(F.PLAIN_SYSTEM_ACCOUNT, "twice"), 409)
      create_sat_ok(F.SYSTEM_ACCOUNT, "twice")
    end)

    it("401, 403, 404", function()
      check(op, api("POST", sat_path(F.PLAIN_SYSTEM_ACCOUNT), { body = { name = "x1", expires_at = future(1) } }), 401)
      check(op, create_sat(F.PLAIN_SYSTEM_ACCOUNT, "x2", ALICE_BOOT), 403)
      check(op, create_sat(F.PLAIN_SYSTEM_ACCOUNT, "x3", PLAIN_BOOT), 403)
      check(op, create_sat(F.UNKNOWN_ACCOUNT_ID, "x4"), 404)
    end)

    -- body, field, rule, outside the contract?
    local cases = {
      { '{"name":"ci"}', "expires_at", "required", true },
      { '{"expires_at":"2031-01-01T00:00:00Z"}', "name", "required", true },
      { '{"name":"ci","ttl_seconds":86400}', "ttl_seconds", "unknown_property", true },
      { '{"name":"ci","expires_at":"soon"}', "expires_at", "is_date_time", true },
      { '{"name":"ci","expires_at":"2001-01-01T00:00:00Z"}', "expires_at", "invalid", false },
      { '{"name":7,"expires_at":"2031-01-01T00:00:00Z"}', "name", "is_string", true },
      { '{"name":"","expires_at":"2031-01-01T00:00:00Z"}', "name", "min_length", false },
      { '{"name":"ci",', "body", "invalid", true },
    }
    for _, c in ipairs(cases) do
      it("400 (outside the contract, which lists none) for " .. c[1], function()
        local decoded = T.decode(c[1])
        local fits = decoded ~= nil and openapi.validate_request(op, decoded) or nil
        assert.equal(not c[4], fits == true)
        local err = ext(op, api("POST", sat_path(F.PLAIN_SYSTEM_ACCOUNT), { token = SA_BOOT, body = c[1] }), 400)
        assert_param(err, c[2], c[3])
        assert.equal(0, #api("GET", sat_path(F.PLAIN_SYSTEM_ACCOUNT), { token = SA_BOOT }).json.data)
      end)
    end
  end)

  describe("get / patch / delete a system-account token", function()
    local GET, PATCH, DELETE = "get-system-accounts-id-access-tokens-id",
      "patch-system-accounts-id-access-tokens-id", "delete-system-accounts-id-access-tokens-id"
    local P = F.PLAIN_SYSTEM_ACCOUNT

    it("200 get; 401, 403, 404 (unknown, another account's, or not a UUID)", function()
      local t = create_sat_ok(P, "one")
      local other = create_sat_ok(F.SYSTEM_ACCOUNT, "other")
      local got = check(GET, api("GET", sat_path(P, t.id), { token = ADMIN_BOOT }), 200)
      assert.equal("one", got.name)
      assert.is_nil(got.token)
      check(GET, api("GET", sat_path(P, t.id)), 401)
      check(GET, api("GET", sat_path(P, t.id), { token = t.token }), 403) -- its own account has no role
      check(GET, api("GET", sat_path(P, F.UNKNOWN_TOKEN_ID), { token = ADMIN_BOOT }), 404)
      check(GET, api("GET", sat_path(P, other.id), { token = ADMIN_BOOT }), 404)
      check(GET, api("GET", sat_path(P, "one"), { token = ADMIN_BOOT }), 404)
      check(GET, api("GET", sat_path(F.UNKNOWN_ACCOUNT_ID, t.id), { token = ADMIN_BOOT }), 404)
    end)

    it("200 rename; 409 to another token's name; 400 outside the contract; 401, 403, 404", function()
      local t = create_sat_ok(P, "first")
      create_sat_ok(P, "second")
      assert(openapi.validate_request(PATCH, { name = "renamed" }))
      local got = check(PATCH, api("PATCH", sat_path(P, t.id), { token = SA_BOOT, body = { name = "renamed" } }), 200)
      assert.equal("renamed", got.name)
      assert.equal(t.expires_at, got.expires_at)
      check(PATCH, api("PATCH", sat_path(P, t.id), { token = SA_BOOT, body = { name = "renamed" } }), 200) -- itself
      check(PATCH, api("PATCH", sat_path(P, t.id), { token = SA_BOOT, body = { name = "second" } }), 409)
      assert.is_nil(openapi.validate_request(PATCH, T.decode("{}")))
      local err = ext(PATCH, api("PATCH", sat_path(P, t.id), { token = SA_BOOT, body = "{}" }), 400)
      assert_param(err, "name", "required")
      err = ext(PATCH, api("PATCH", sat_path(P, t.id),
        { token = SA_BOOT, body = { name = "x", expires_at = future(3) } }), 400)
      assert_param(err, "expires_at", "unknown_property")
      check(PATCH, api("PATCH", sat_path(P, t.id), { body = { name = "y" } }), 401)
      check(PATCH, api("PATCH", sat_path(P, t.id), { token = ALICE_BOOT, body = { name = "y" } }), 403)
      check(PATCH, api("PATCH", sat_path(P, F.UNKNOWN_TOKEN_ID), { token = SA_BOOT, body = { name = "y" } }), 404)
      assert.equal("renamed", api("GET", sat_path(P, t.id), { token = SA_BOOT }).json.name)
    end)

    it("204 delete (no body); the secret then gets 401; 401, 403, 404", function()
      local t = create_sat_ok(P, "doomed")
      check(DELETE, api("DELETE", sat_path(P, t.id)), 401)
      check(DELETE, api("DELETE", sat_path(P, t.id), { token = PLAIN_BOOT }), 403)
      local res = api("DELETE", sat_path(P, t.id), { token = SA_BOOT })
      check(DELETE, res, 204)
      assert.equal("", res.body)
      assert.is_nil(res.headers["content-type"])
      check(DELETE, api("DELETE", sat_path(P, t.id), { token = SA_BOOT }), 404)
      assert.equal(401, api("GET", "/v3/users", { token = t.token }).status)
    end)

    it("a seeded token can be renamed and deleted by an admin", function()
      local a = account_with_tokens(dump(), 1)
      local tok = a.tokens[1]
      check(PATCH, api("PATCH", sat_path(a.id, tok.id), { token = ADMIN_BOOT, body = { name = "kept" } }), 200)
      check(DELETE, api("DELETE", sat_path(a.id, tok.id), { token = ADMIN_BOOT }), 204)
      assert.equal(#a.tokens - 1, #api("GET", sat_path(a.id) .. "?page%5Bsize%5D=100",
        { token = ADMIN_BOOT }).json.data)
    end)

    it("an expired system-account token (POST /__fake/expire) gets 401", function()
      local t = create_sat_ok(F.SYSTEM_ACCOUNT, "short lived")
      local res = control("POST", "expire", { token_id = t.id })
      assert.equal(200, res.status)
      assert.is_true(epoch(res.json.expires_at) < os.time() + 1)
      assert.equal(401, api("GET", "/v3/users", { token = t.token }).status)
    end)
  end)

  describe("roles and token kinds on the PAT operations", function()
    it("the org admin reads any user's PATs (list, get) but changes none of them", function()
      local bobs = T.create_ok("bob's", F.BOB_TOKEN, BOB)
      local list = check("list-users-personal-access-tokens",
        api("GET", T.tokens_path(BOB), { token = ADMIN_BOOT }), 200)
      assert.same({ bobs.id }, ids(list.data))
      check("get-personal-access-token-details", api("GET", T.tokens_path(BOB, bobs.id), { token = ADMIN_BOOT }), 200)
      check("update-personal-access-token-details",
        api("PATCH", T.tokens_path(BOB, bobs.id), { token = ADMIN_BOOT, body = { name = "mine now" } }), 403)
      check("revoke-personal-access-token",
        api("PATCH", T.tokens_path(BOB, bobs.id, "revoke"), { token = ADMIN_BOOT }), 403)
      check("delete-personal-access-token", api("DELETE", T.tokens_path(BOB, bobs.id), { token = ADMIN_BOOT }), 403)
      check("create-personal-access-token", api("POST", T.tokens_path(BOB),
        { token = ADMIN_BOOT, body = { name = "for bob", ttl_seconds = 86400 } }), 403)
      -- a PAT the admin minted carries the role too
      local mine = T.create_ok("admin pat", ADMIN_BOOT, ADMIN)
      check("list-users-personal-access-tokens", api("GET", T.tokens_path(BOB), { token = mine.konnect_token }), 200)
    end)

    it("the admin's list of a seeded user is the state's", function()
      local st = dump()
      local checked = 0
      for _, u in ipairs(st.users) do
        if #u.tokens >= 8 and checked < 5 then
          checked = checked + 1
          local list = check("list-users-personal-access-tokens",
            api("GET", T.tokens_path(u.id), { token = ADMIN_BOOT }), 200)
          assert.same(u.tokens, list.data)
        end
      end
      assert.equal(5, checked)
    end)

    it("a system-account token: 401 on get-users-me, 403 on every PAT operation (the contract lists it nowhere)",
      function()
        local t = T.create_ok("target")
        check("get-users-me", api("GET", "/v3/users/me", { token = SA_BOOT }), 401)
        for _, tok in ipairs { SA_BOOT, PLAIN_BOOT } do
          check("list-users-personal-access-tokens", api("GET", T.tokens_path(ALICE), { token = tok }), 403)
          check("get-personal-access-token-details", api("GET", T.tokens_path(ALICE, t.id), { token = tok }), 403)
          check("revoke-personal-access-token", api("PATCH", T.tokens_path(ALICE, t.id, "revoke"), { token = tok }),
            403)
          check("delete-personal-access-token", api("DELETE", T.tokens_path(ALICE, t.id), { token = tok }), 403)
          check("update-personal-access-token-details",
            api("PATCH", T.tokens_path(ALICE, t.id), { token = tok, body = { name = "nope" } }), 403)
          check("create-personal-access-token", api("POST", T.tokens_path(ALICE),
            { token = tok, body = { name = "nope", ttl_seconds = 86400 } }), 403)
        end
        assert.equal("ACTIVE", api("GET", T.tokens_path(ALICE, t.id), { token = ALICE_BOOT }).json.state)
      end)
  end)
end
