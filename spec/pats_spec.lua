-- konnect.pats against the fake Konnect server, over real sockets.
local pats = require "konnect.pats"
local errors = require "konnect.errors"
local fake = require "support.fake"
local openapi = require "support.openapi"

local ALICE, BOB = fake.ALICE, fake.BOB
local NO_SUCH = "00000000-0000-4000-8000-00000000f00d"

local function valid(op_id, status, value)
  local ok, why = openapi.validate_response(op_id, status, "application/json", value)
  assert(ok, op_id .. " " .. status .. ": " .. tostring(why))
end

local function assert_err(kind, status, v, err)
  assert.is_nil(v)
  assert.is_true(errors.is(err), "expected an error object, got " .. tostring(err))
  assert.equal(kind, err.kind, tostring(err))
  assert.equal(status, err.status)
  return err
end

describe("konnect.pats", function()
  local client

  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  describe("the six operations", function()
    it("create returns the secret once, with the contract's fields", function()
      local tok, err = client:create(ALICE, { name = "ci token", ttl_seconds = 86400 })
      assert.is_nil(err)
      valid("create-personal-access-token", 201, tok)
      assert.equal("ci token", tok.name)
      assert.equal("ACTIVE", tok.state)
      assert.equal(ALICE, tok.user_id)
      assert.matches("^kpat_", tok.konnect_token)
      assert.is_nil(tok.last_used_at, "JSON null must come back as an absent field")
      assert.is_nil(tok.revoked_at)
      local again = assert(client:get(ALICE, tok.id))
      assert.is_nil(again.konnect_token, "the secret is shown only at creation")
    end)

    it("list returns data and meta", function()
      assert(client:create(ALICE, { name = "one", ttl_seconds = 86400 }))
      assert(client:create(ALICE, { name = "two", ttl_seconds = 86400 * 2 }))
      local list, err = client:list(ALICE)
      assert.is_nil(err)
      valid("list-users-personal-access-tokens", 200, list)
      assert.equal(2, #list.data)
      assert.equal(2, list.meta.total)
      local names = { list.data[1].name, list.data[2].name }
      table.sort(names)
      assert.same({ "one", "two" }, names)
    end)

    it("get, update, revoke and delete: the whole lifecycle", function()
      local tok = assert(client:create(ALICE, { name = "lifecycle", ttl_seconds = 86400 * 30 }))
      local got = assert(client:get(ALICE, tok.id))
      valid("get-personal-access-token-details", 200, got)
      assert.equal(tok.id, got.id)
      assert.equal(tok.expires_at, got.expires_at)

      local renamed = assert(client:update(ALICE, tok.id, { name = "renamed" }))
      valid("update-personal-access-token-details", 200, renamed)
      assert.equal("renamed", renamed.name)
      assert.equal("renamed", assert(client:get(ALICE, tok.id)).name)

      local revoked = assert(client:revoke(ALICE, tok.id))
      valid("revoke-personal-access-token", 200, revoked)
      assert.equal("REVOKED", revoked.state)
      assert.is_string(revoked.revoked_at)
      assert.equal(ALICE, revoked.revoked_by)

      assert.is_true(client:delete(ALICE, tok.id))
      assert_err("not_found", 404, client:get(ALICE, tok.id))
      assert.equal(0, #assert(client:list(ALICE)).data)
    end)

    it("creates with the deprecated expires_at", function()
      local tok = assert(client:create(ALICE, { name = "dated", expires_at = os.time() + 3 * 86400 }))
      valid("create-personal-access-token", 201, tok)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT", tok.expires_at)
    end)

    it("a created token authenticates later calls and records last_used_at", function()
      local tok = assert(client:create(ALICE, { name = "minted", ttl_seconds = 86400 }))
      local minted = fake.client { token = tok.konnect_token }
      local me = assert(minted:me())
      valid("get-users-me", 200, me)
      assert.equal(ALICE, me.id)
      local list = assert(minted:list("me"))
      assert.equal(1, #list.data)
      assert.is_string(list.data[1].last_used_at)
    end)

    it("resolves \"me\" once per client", function()
      assert(client:list("me"))
      assert(client:create("me", { name = "via me", ttl_seconds = 86400 }))
      assert.equal(1, fake.count("GET /v3/users/me"))
      assert.equal(1, fake.count("POST /v3/users/" .. ALICE .. "/access-tokens"))
    end)

    it("sends what the contract asks: JSON (and problem+json for errors), a bearer token, a User-Agent", function()
      assert(client:create(ALICE, { name = "headers", ttl_seconds = 86400 }))
      local log = fake.requests().log
      local last = log[#log]
      assert.equal("POST", last.method)
      -- the contract declares every error as application/problem+json
      assert.equal("application/json, application/problem+json", last.headers["accept"])
      assert.equal("application/json", last.headers["content-type"])
      assert.equal("Bearer <redacted>", last.headers["authorization"])
      assert.matches("^lua%-konnect/%d+%.%d+%.%d+ %(libcurl/", last.headers["user-agent"])
      local body = require("konnect.json").decode(last.body)
      assert.same({ name = "headers", ttl_seconds = 86400 }, body)
      assert(openapi.validate_request("create-personal-access-token", body))
    end)
  end)

  describe("errors from the server", function()
    it("401 for an unknown token, with the problem fields", function()
      local c = fake.client { token = "kpat_fake_nobody" }
      local err = assert_err("unauthorized", 401, c:list(ALICE))
      assert.equal("list-users-personal-access-tokens", err.operation)
      assert.equal("GET", err.method)
      assert.equal(fake.http .. "/v3/users/" .. ALICE .. "/access-tokens", err.url)
      assert.equal(1, err.attempts, "401 is never retried")
      assert.is_string(err.title)
      assert.is_string(err.detail)
      assert.matches("^kong:trace:", err.trace_id)
      assert.equal(err.instance, err.trace_id)
      assert.is_string(err.request_id)
      assert.matches("^konnect: list%-users%-personal%-access%-tokens: unauthorized %(401%): .+ %[kong:trace:%d+%]$",
        tostring(err))
    end)

    it("401 for a revoked and for an expired token", function()
      local a = assert(client:create(ALICE, { name = "to revoke", ttl_seconds = 86400 }))
      local b = assert(client:create(ALICE, { name = "to expire", ttl_seconds = 86400 }))
      assert(client:revoke(ALICE, a.id))
      assert_err("unauthorized", 401, fake.client({ token = a.konnect_token }):me())
      fake.expire(b.id)
      assert_err("unauthorized", 401, fake.client({ token = b.konnect_token }):list(ALICE))
      assert.equal("EXPIRED", assert(client:get(ALICE, b.id)).state)
    end)

    it("403 when touching another user's tokens", function()
      assert_err("forbidden", 403, client:list(BOB))
      assert_err("forbidden", 403, client:create(BOB, { name = "nope", ttl_seconds = 86400 }))
    end)

    it("404 for an unknown token or user", function()
      assert_err("not_found", 404, client:get(ALICE, NO_SUCH))
      assert_err("not_found", 404, client:update(ALICE, NO_SUCH, { name = "x1" }))
      assert_err("not_found", 404, client:revoke(ALICE, NO_SUCH))
      assert_err("not_found", 404, client:delete(ALICE, NO_SUCH))
      assert_err("not_found", 404, client:list(NO_SUCH))
    end)

    it("409 past ten tokens, and the eleventh is not created", function()
      for i = 1, 10 do assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = 86400 })) end
      local err = assert_err("conflict", 409, client:create(ALICE, { name = "eleven", ttl_seconds = 86400 }))
      assert.equal(1, err.attempts)
      assert.equal(10, #assert(client:list(ALICE)).data)
    end)

    it("maps every documented status of every operation to its kind", function()
      local tok = assert(client:create(ALICE, { name = "target", ttl_seconds = 86400 }))
      local calls = {
        ["list-users-personal-access-tokens"] = { "GET", function() return client:list(ALICE) end,
                                                  { 400, 401, 403, 404 } },
        ["create-personal-access-token"] = { "POST", function()
          return client:create(ALICE, { name = "x1", ttl_seconds = 86400 }) end, { 400, 401, 403, 404, 409 } },
        ["get-personal-access-token-details"] = { "GET", function() return client:get(ALICE, tok.id) end,
                                                  { 400, 401, 403, 404 } },
        ["update-personal-access-token-details"] = { "PATCH", function()
          return client:update(ALICE, tok.id, { name = "y1" }) end, { 400, 401, 403, 404 } },
        ["delete-personal-access-token"] = { "DELETE", function() return client:delete(ALICE, tok.id) end,
                                             { 400, 401, 403, 404 } },
        ["revoke-personal-access-token"] = { "PATCH", function() return client:revoke(ALICE, tok.id) end,
                                             { 400, 401, 403, 404 } },
        ["get-users-me"] = { "GET", function() return client:me() end, { 401 } },
      }
      for op_id, spec in pairs(calls) do
        local method, fn, statuses = spec[1], spec[2], spec[3]
        for _, status in ipairs(statuses) do
          fake.fault { method = method, path = "^/v3/users/", status = status }
          local v, err = fn()
          assert.is_nil(v, op_id .. " " .. status)
          assert.equal(errors.kind_for_status(status), err.kind, op_id .. " " .. status)
          assert.equal(status, err.status)
          assert.equal(op_id, err.operation)
          assert.is_string(err.title, op_id .. " " .. status)
          assert.is_string(err.detail)
          assert.matches("^kong:trace:", err.trace_id)
          if status == 400 then assert.is_table(err.invalid_parameters) end
        end
      end
    end)
  end)

  describe("validation before any I/O", function()
    local function no_request(fn)
      local before = fake.requests().total
      local v, err = fn()
      assert.is_nil(v)
      assert.equal("invalid_argument", err.kind, tostring(err))
      assert.is_nil(err.status)
      assert.equal(before, fake.requests().total, "no request may reach the server")
      return err
    end

    it("checks ids, names, ttl and options", function()
      no_request(function() return client:list("not-a-uuid") end)
      no_request(function() return client:list(nil) end)
      no_request(function() return client:get(ALICE, "../../users/me") end)
      no_request(function() return client:get(ALICE, 42) end)
      no_request(function() return client:create(ALICE, { name = "ok name" }) end)
      no_request(function() return client:create(ALICE, { name = "ok", ttl_seconds = 60 }) end)
      no_request(function() return client:create(ALICE, { name = "ok", ttl_seconds = 86400, expires_at = 1 }) end)
      no_request(function() return client:create(ALICE, { name = "bad/name", ttl_seconds = 86400 }) end)
      no_request(function() return client:create(ALICE, { name = ("n"):rep(257), ttl_seconds = 86400 }) end)
      no_request(function() return client:create(ALICE) end)
      no_request(function() return client:update(ALICE, NO_SUCH, {}) end)
      no_request(function() return client:update(ALICE, NO_SUCH, { name = "x1", extra = 1 }) end)
      no_request(function() return client:create("me", { name = "x", ttl_seconds = 86400 }) end)
      local err = no_request(function() return client:create(ALICE, { name = "ok", ttl_seconds = 60 }) end)
      assert.equal("create-personal-access-token", err.operation)
      assert.matches("between 86400", tostring(err))
    end)

    it("catches a dot-call instead of a colon-call", function()
      local v, err = client.list(ALICE)
      assert.is_nil(v)
      assert.equal("invalid_argument", err.kind)
      assert.matches("colon", err.message)
    end)

    it("pats.new refuses bad options", function()
      local cases = {
        { {}, "token is required" },
        { { token = "kpat_x y" }, "whitespace" },
        { { token = "kpat_x", server_url = "http://konnect.example.com" }, "refusing plain http" },
        { { token = "kpat_x", timeout = -1 }, "timeout" },
        { { token = "kpat_x", retries = { max_attempts = 0 } }, "max_attempts" },
        { { token = "kpat_x", tokne = "typo" }, "unknown option tokne" },
        { { token = "kpat_x", headers = { Authorization = "Bearer other" } }, "set by the library" },
        { { token = "kpat_x", headers = { ["X-Ok"] = "a\r\nInjected: 1" } }, "control characters" },
        { { token = "kpat_x", transport = "carrier-pigeon" }, "transport must be" },
        { { token = "kpat_x", hooks = { before = print } }, "unknown hook" },
        { { token = "kpat_x", headers = { ["user-agent"] = "mine" } }, "use the user_agent option" },
        { { token = "kpat_x", max_body = 10 }, "max_body" },
        { { token = "kpat_x", http_version = "3" }, "http_version" },
        { { token = "kpat_x", hooks = { before_request = 42 } }, "hooks.before_request must be a function" },
        { { token = "kpat_x", hooks = { after_response = "log" } }, "hooks.after_response must be a function" },
      }
      for _, case in ipairs(cases) do
        local c, err = pats.new(case[1])
        assert.is_nil(c)
        assert.equal("invalid_argument", err.kind)
        assert.matches(case[2], err.message, 1, true)
      end
      assert.equal("invalid_argument", select(2, pats.new("kpat_x")).kind)
      -- a bad proxy URL given by the caller is reported as konnect.limits words it, with no
      -- "from the environment" (that prefix is for proxy = "env" only)
      local limits = require "konnect.limits"
      for _, url in ipairs { "ftp://127.0.0.1:1", "http://", "not a url" } do
        local _, want = limits.proxy(url)
        assert.is_string(want, url)
        local c, err = pats.new({ token = "kpat_x", proxy = url })
        assert.is_nil(c)
        assert.equal("invalid_argument", err.kind)
        assert.equal(want, err.message)
      end
    end)
  end)

  describe("transport selection", function()
    it("returns the transport and its header sets, and changes nothing in the client", function()
      local c = fake.client()
      local function fields()
        local k = {}
        for name, v in pairs(c) do
          if type(v) ~= "table" and type(v) ~= "function" then k[name] = v else k[name] = type(v) end
        end
        return k
      end
      local before = fields()
      local t, sets = c:transport()
      assert.is_table(t)
      assert.is_function(t.request)
      assert.equal("application/json", sets.headers_body["Content-Type"])
      assert.is_nil(sets.headers["Content-Type"])
      assert.matches("^lua%-konnect/", sets.headers["User-Agent"])
      assert(c:list(ALICE))
      assert(c:create(ALICE, { name = "sel", ttl_seconds = 86400 }))
      assert.same(before, fields())
      local t2, sets2 = c:transport()
      assert.equal(t, t2)
      assert.equal(sets, sets2)
    end)

    it("transport curl without a C core for this interpreter: a system error that names its build command, "
      .. "build directory and luarocks version", function()
      local cpath, core, curl = package.cpath, package.loaded["konnect.core"], package.loaded["konnect.transport.curl"]
      finally(function()
        package.cpath, package.loaded["konnect.core"], package.loaded["konnect.transport.curl"] = cpath, core, curl
      end)
      package.cpath = "/nonexistent/?.so"
      package.loaded["konnect.core"], package.loaded["konnect.transport.curl"] = nil, nil
      local c = fake.client { transport = "curl" }
      local t, err = c:transport()
      assert.is_nil(t)
      assert.equal("system", err.kind)
      -- "Lua 5.4" -> 5.4; LuaJIT runs 5.1 code and builds in build/jit
      local jit = rawget(_G, "jit")
      local v = jit and "5.1" or _VERSION:sub(5)
      local interp, dir = jit and "luajit" or "lua" .. v, jit and "jit" or v
      local msg = err.message
      assert.matches("the C core (konnect.core) is not installed for ", msg, 1, true)
      assert.matches("make LUA=" .. interp .. "`", msg, 1, true)
      assert.matches("(it goes to build/" .. dir .. "/: put build/" .. dir .. "/?.so on LUA_CPATH)", msg, 1, true)
      assert.matches("luarocks --lua-version=" .. v .. " make", msg, 1, true)
      assert.matches("luarocks --lua-version=" .. v .. " path", msg, 1, true)
      local _, lerr = c:list(ALICE)
      assert.equal("system", lerr.kind)
      assert.equal(0, fake.requests().total, "nothing sent")
    end)

    it("transport curl with a C core built for another interpreter: system, the loader's reason on one line",
      function()
      local jit = rawget(_G, "jit")
      local other = (jit or _VERSION == "Lua 5.1") and "5.4" or "jit" -- (busted runs in the checkout)
      local so = "build/" .. other .. "/konnect/core.so"
      local f = io.open(so)
      if not f then pending("needs " .. so); return end
      f:close()
      local cpath, core, curl = package.cpath, package.loaded["konnect.core"], package.loaded["konnect.transport.curl"]
      finally(function()
        package.cpath, package.loaded["konnect.core"], package.loaded["konnect.transport.curl"] = cpath, core, curl
      end)
      package.cpath = "build/" .. other .. "/?.so"
      package.loaded["konnect.core"], package.loaded["konnect.transport.curl"] = nil, nil
      local t, err = fake.client({ transport = "curl" }):transport()
      assert.is_nil(t)
      assert.equal("system", err.kind)
      -- the loader's message ("…from file '…':\n\t…: undefined symbol: …") flattened to one line
      assert.matches("the C core (konnect.core) could not be loaded: error loading module 'konnect.core' from file '"
        .. so .. "': ", err.message, 1, true)
      assert.is_nil(err.message:find("[\r\n\t]"), "not one line: " .. err.message)
    end)

    it("transport cosocket outside nginx: invalid_context that says what it needs, nothing sent", function()
      local c = fake.client { transport = "cosocket" }
      local t, err = c:transport()
      assert.is_nil(t)
      assert.equal("invalid_context", err.kind)
      assert.equal("transport cosocket is unavailable: konnect.transport.cosocket needs nginx with ngx_lua "
        .. "(OpenResty): ngx.socket.tcp is missing", err.message)
      local _, lerr = c:list(ALICE)
      assert.equal("invalid_context", lerr.kind)
      assert.equal(0, fake.requests().total, "nothing sent")
    end)
  end)

  describe("client:close", function()
    -- the sockets this process holds (Linux: the socket inodes among /proc/<pid>/fd)
    local function sockets()
      local set, p = {}, io.popen("ls -l /proc/$PPID/fd 2>/dev/null")
      for line in p:lines() do
        local inode = line:match("socket:%[(%d+)%]")
        if inode then set[inode] = true end
      end
      p:close()
      return set
    end

    it("closes the client's connections now (single calls and batches), not when the client is collected", function()
      collectgarbage("collect")
      collectgarbage("stop") -- (a collection would close a dropped connection too)
      local ok, err = pcall(function()
        local before = sockets()
        local c = fake.client()
        assert(c:me())
        local results, failed = c:batch({ { "me" }, { "list", ALICE } }, { concurrency = 2 }) -- libcurl's multi
        assert.equal(0, failed, results[1].err and tostring(results[1].err))
        local opened = {}
        for inode in pairs(sockets()) do
          if not before[inode] then opened[#opened + 1] = inode end
        end
        assert.is_true(#opened >= 1, "the call held a connection open")
        assert.is_true(c:close())
        local now = sockets()
        for _, inode in ipairs(opened) do assert.is_nil(now[inode], "socket " .. inode .. " still open") end
        assert(c:me(), "the client stays usable: it connects again")
        c:close()
      end)
      collectgarbage("restart")
      assert(ok, err)
    end)
  end)

  describe("HTTPS", function()
    it("works with the throwaway CA", function()
      local c = fake.client { server_url = fake.https, ca_file = fake.ca }
      local tok = assert(c:create(ALICE, { name = "over tls", ttl_seconds = 86400 }))
      assert.equal(tok.id, assert(c:get(ALICE, tok.id)).id)
      local named = fake.client { server_url = fake.https_localhost, ca_file = fake.ca }
      assert(named:list(ALICE))
    end)

    it("fails with kind tls without it, and never retries", function()
      local c = fake.client { server_url = fake.https }
      local v, err = c:list(ALICE)
      assert.is_nil(v)
      assert.equal("tls", err.kind, tostring(err))
      assert.equal(1, err.attempts)
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("secrets", function()
    it("tostring(client) names the server, never the token", function()
      local s = tostring(client)
      assert.equal("konnect.pats client (" .. fake.http .. ")", s)
      assert.is_nil(s:find(fake.ALICE_TOKEN, 1, true))
    end)

    it("errors never carry the token, even when the server echoes it", function()
      fake.fault { path = "^/v3/", status = 502, content_type = "text/plain",
                   body = "upstream said: Bearer " .. fake.ALICE_TOKEN, count = 3 }
      local _, err = client:list(ALICE)
      assert.equal("server", err.kind)
      for k, v in pairs(err) do
        assert.is_nil(tostring(v):find("alice_bootstrap", 1, true), "field " .. k)
      end
      assert.is_nil(tostring(err):find("alice_bootstrap", 1, true))
    end)

    it("a token without a kpat_/spat_ prefix makes a client, and an echo of it is masked too", function()
      local token = "legacy_fake_0123456789"
      local c = assert(pats.new { token = token, server_url = fake.http, retries = false })
      fake.fault { path = "^/v3/", status = 502, content_type = "text/plain", body = "you sent " .. token }
      local _, err = c:list(ALICE)
      assert.equal("server", err.kind)
      assert.is_nil(tostring(err):find(token, 1, true))
      assert.is_nil(tostring(err.body):find(token, 1, true))
    end)
  end)
end)
