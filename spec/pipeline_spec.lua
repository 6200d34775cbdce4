-- The one pipeline (konnect.http), as every call on the curl transport
-- takes it: the C core's response table (headers built on first access, the
-- content type and the rate-limit signal without them), meta, the outcome
-- decided by http.after whatever watches the call (hooks, a log function, or
-- nothing), and the realistic faults it must not take for a success.  The
-- C help behind konnect.accel (the null walk, the secret search) is
-- spec/accel_spec.lua's.  Real sockets: the fake Konnect server and a
-- hostile server.
local fake    = require "support.fake"
local hostile = require "support.hostile"
local pats    = require "konnect.pats"
local core    = require "konnect.core"

local assert_clean = require("support.proc").assert_clean
local ALICE = fake.ALICE
local UUID = "00000000-0000-4000-8000-00000000beef"

describe("the pipeline", function()
  describe("res.headers from the C core, built on first access", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    it("holds every header (lower-case names, repeated ones joined) while the success path reads none", function()
      local conn = assert(core.new { timeout = 5 })
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json", "Set-Cookie: a=1",
        "X-Kong-Request-Id: r1", "set-cookie: b=2", "X-Empty:" }, "{}"))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.equal("application/json", res.content_type)
      assert.is_nil(rawget(res, "headers"), "built before anyone asked")
      local h = res.headers
      assert.equal("a=1, b=2", h["set-cookie"])
      assert.equal("r1", h["x-kong-request-id"])
      assert.equal("application/json", h["content-type"])
      assert.equal("", h["x-empty"])
      assert.equal(tostring(#"{}"), h["content-length"])
      assert.equal(h, res.headers, "built once")
      assert.equal(h, rawget(res, "headers"))
      -- two Content-Type headers: no content_type shortcut, the joined value in headers
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json", "Content-Type: text/html" }, "{}"))
      res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.is_nil(res.content_type)
      assert.equal("application/json, text/html", res.headers["content-type"])
      conn:close()
    end)

    it("a raw_head that is not the core's block never raises: no headers", function()
      local conn = assert(core.new { timeout = 5 })
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, "{}"))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.equal("userdata", type(res.raw_head))
      for _, bad in ipairs { "", "\1\0\0\0\255\255\255\255x", io.stdout, conn, {}, 42, false } do
        res = assert(conn:request("GET", srv.url .. "/x", {}))
        res.raw_head = bad
        assert.same({}, res.headers)
      end
      res = assert(conn:request("GET", srv.url .. "/x", {}))
      res.raw_head = nil
      assert.same({}, res.headers)
      conn:close()
    end)

    it("meta.headers, meta.request_id and the hooks see every header of a curl response", function()
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json", "X-Kong-Request-Id: req-9",
        "X-Other: " .. fake.ALICE_TOKEN }, '{"id":"' .. UUID .. '"}'))
      local seen
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false,
        hooks = { after_response = function(v) seen = v end } })
      local v, err, m = c:get(ALICE, UUID)
      assert.is_table(v, err and tostring(err))
      assert.equal("req-9", m.request_id)
      assert.equal("application/json", m.headers["content-type"])
      assert.equal("req-9", seen.headers["x-kong-request-id"])
      assert.matches("<redacted>", m.headers["x-other"], 1, true)
      assert_clean(m, fake.ALICE_TOKEN, "meta")
      assert_clean(seen, fake.ALICE_TOKEN, "hook view")
    end)
  end)

  describe("a call, whatever watches it", function()
    before_each(function() fake.reset() end)

    local function token(c)
      return assert(c:create(ALICE, { name = "one-" .. tostring(os.time()), ttl_seconds = 86400 }))
    end

    it("gives the same value and meta with nothing watching, with hooks and with a log", function()
      local plain = fake.client { retries = false }
      local watched = fake.client { retries = false, hooks = { after_response = function() end },
                                    log = function() end }
      local tok = token(plain)
      local v1, e1, m1 = plain:get(ALICE, tok.id)
      local v2, e2, m2 = watched:get(ALICE, tok.id)
      assert.is_nil(e1); assert.is_nil(e2)
      assert.same(v2, v1)
      assert.is_nil(v1.last_used_at, "a null field is absent")
      for _, k in ipairs { "status", "attempts", "http_version", "operation", "rate_limit" } do
        assert.same(m2[k], m1[k], k)
      end
      assert.equal(1, m1.attempts)
      assert.equal("get-personal-access-token-details", m1.operation)
      assert.is_number(m1.elapsed)
      assert.is_true(m1.elapsed >= 0 and m1.elapsed < 5)
      assert.matches("^%x+$", m1.request_id)
      local k1, k2 = {}, {}
      for k in pairs(m1.headers) do k1[#k1 + 1] = k end
      for k in pairs(m2.headers) do k2[#k2 + 1] = k end
      table.sort(k1); table.sort(k2)
      assert.same(k2, k1)
      assert.equal("Bearer <redacted>", m1.headers.authorization or "Bearer <redacted>")
      assert_clean(m1, fake.ALICE_TOKEN, "meta")
      -- list goes the same way (its check passes)
      local l1, _, lm = plain:list(ALICE)
      assert.equal(1, #l1.data)
      assert.equal(1, lm.attempts)
    end)

    it("arguments: ids that passed before skip the checks only when nothing else came with them", function()
      local c = fake.client { retries = false }
      local tok = token(c)
      assert(c:get(ALICE, tok.id)) -- both ids known now
      local _, err = c:get(ALICE, tok.id, nil, "extra")
      assert.equal("invalid_argument", err.kind)
      assert.matches("too many arguments", err.message, 1, true)
      _, err = c:get(ALICE, tok.id, { bogus = 1 })
      assert.equal("invalid_argument", err.kind)
      _, err = c:list(ALICE, nil, "extra")
      assert.equal("invalid_argument", err.kind)
      _, err = c:list(ALICE, { timeout = "soon" })
      assert.equal("invalid_argument", err.kind)
      _, err = c:get(ALICE, "../" .. tok.id)
      assert.equal("invalid_argument", err.kind)
      _, err = c:get("ME", tok.id)
      assert.equal("invalid_argument", err.kind)
      local v, gerr, m = c:get("me", tok.id) -- "me" is never taken for a known id
      assert.is_table(v, gerr and tostring(gerr))
      assert.equal(tok.id, v.id)
      assert.equal(1, m.attempts)
      local list = assert(c:list(ALICE, { timeout = 5 }))
      assert.equal(1, #list.data)
    end)

    it("counts as heard from the server (a batch's first wave is sized by it)", function()
      local c = fake.client { retries = false }
      assert.is_false(c.heard.any)
      assert(c:list(ALICE))
      assert.is_true(c.heard.any)
    end)

    it("a failed attempt is retried and its answer counted; a 2xx the operation cannot use is decode", function()
      local c = fake.client()
      local tok = token(c)
      fake.fault { method = "GET", count = 1, status = 503 }
      local v, err, m = c:get(ALICE, tok.id)
      assert.is_table(v, err and tostring(err))
      assert.equal(2, m.attempts)
      fake.fault { method = "GET", count = 1, status = 200, body = '{"data":"x"}' }
      local l, lerr = c:list(ALICE)
      assert.is_nil(l)
      assert.equal("decode", lerr.kind)
      assert.equal(1, lerr.attempts)
      fake.fault { method = "GET", count = 1, status = 200, content_type = "text/plain", body = "hello" }
      l, lerr = c:list(ALICE)
      assert.is_nil(l)
      assert.equal("decode", lerr.kind)
      assert.matches("expected a JSON response", lerr.message, 1, true)
    end)

    it("delete (no content) and revoke: one attempt each, one request each", function()
      local c = fake.client { retries = false }
      local tok = token(c)
      local r, rerr, rm = c:revoke(ALICE, tok.id)
      assert.is_table(r, rerr and tostring(rerr))
      assert.equal("REVOKED", r.state)
      assert.equal(1, rm.attempts)
      local ok, derr, dm = c:delete(ALICE, tok.id)
      assert.is_true(ok, derr and tostring(derr))
      assert.equal(204, dm.status)
      assert.equal(1, fake.count("DELETE /v3/users/" .. ALICE .. "/access-tokens/" .. tok.id))
    end)
  end)

  describe("res.no_rate_limit", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    it("is set by the C core only when no RateLimit-* / X-RateLimit-* header came", function()
      local conn = assert(core.new { timeout = 5 })
      local plain = { "Content-Type: application/json" }
      srv:respond(hostile.response("200 OK", plain, "{}"))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.is_true(res.no_rate_limit)
      -- names one letter short of a family's, their value starting with that letter: still none
      for _, h in ipairs { "Ratelimi: t", "X-Ratelimi: t" } do
        srv:respond(hostile.response("200 OK", { plain[1], h }, "{}"))
        res = assert(conn:request("GET", srv.url .. "/x", {}))
        assert.is_true(res.no_rate_limit, h)
      end
      for _, h in ipairs { "RateLimit-Remaining: 3", "ratelimit: limit=10, remaining=3", "X-RateLimit-Limit: 10",
                           "X-RATELIMIT-REMAINING-MINUTE: 3" } do
        srv:respond(hostile.response("200 OK", { plain[1], h }, "{}"))
        res = assert(conn:request("GET", srv.url .. "/x", {}))
        assert.is_nil(res.no_rate_limit, h)
      end
      conn:close()
    end)

    it("the C core joins an obsolete folded line to the header before it with one space (RFC 9112 5.2: a user " ..
      "agent replaces each obs-fold with SP), trimmed; a line of white space only adds nothing", function()
      local conn = assert(core.new { timeout = 5 })
      srv:respond("HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n\tc  \r\n   \r\n" ..
        "Content-Type: application/json\r\nX-After: 1\r\nContent-Length: 2\r\n\r\n{}")
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.equal(200, res.status)
      assert.equal("a b c", res.headers["x-folded"])
      assert.equal("1", res.headers["x-after"])
      assert.equal("application/json", res.headers["content-type"])
      assert.equal("{}", res.body)
      conn:close()
    end)

    it("a folded line before any header, on a handle used before, is a network error and the process lives " ..
      "(libcurl 7.83-8.0 unfolded it into the last transfer's freed header: a double free, curl issue 11101)",
      function()
      local orphan = "HTTP/1.1 200 OK\r\n  orphan: continuation\r\nContent-Type: application/json\r\n" ..
        "Content-Length: 2\r\n\r\n{}"
      local good = hostile.response("200 OK", { "Content-Type: application/json" }, '{"id":"' .. UUID .. '"}')
      local conn = assert(core.new { timeout = 5 })
      for _ = 1, 3 do
        srv:respond(good)
        assert.equal(200, assert(conn:request("GET", srv.url .. "/x", {})).status)
        srv:respond(orphan)
        local none, err = conn:request("GET", srv.url .. "/x", {})
        assert.is_nil(none)
        assert.equal("network", err.kind)
      end
      conn:close()
      -- a client, its calls one after another and in a batch (pooled handles)
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false })
      for _ = 1, 2 do
        srv:respond(good)
        assert.equal(UUID, assert(c:get(ALICE, UUID)).id)
        srv:respond(orphan)
        local v, err = c:get(ALICE, UUID)
        assert.is_nil(v)
        assert.equal("network", err.kind)
        srv:respond_each { good, orphan, good, orphan }
        local results = c:batch({ { "get", ALICE, UUID }, { "get", ALICE, UUID }, { "get", ALICE, UUID },
                                  { "get", ALICE, UUID } }, { concurrency = 1 })
        assert.equal(4, #results)
      end
    end)

    it("meta.rate_limit reads every family of a success's headers, with or without a hook", function()
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false })
      local cases = {
        { { "RateLimit-Limit: 100", "RateLimit-Remaining: 99", "RateLimit-Reset: 7" },
          { limit = 100, remaining = 99, reset = 7 } },
        { { 'RateLimit: "default";r=50;t=30', 'RateLimit-Policy: "default";q=100;w=60' },
          { limit = 100, remaining = 50, reset = 30 } },
        { { "RateLimit: limit=100, remaining=42, reset=9" }, { limit = 100, remaining = 42, reset = 9 } },
        { { "RateLimit-Limit: 100" }, { limit = 100 } }, -- one of the family alone
        { { "RateLimit-Reset: 5" }, { reset = 5 } },
        { { "X-RateLimit-Limit: 10", "X-RateLimit-Remaining: 4", "X-RateLimit-Reset: 2" },
          { limit = 10, remaining = 4, reset = 2 } },
        { { "X-RateLimit-Limit-Minute: 10", "X-RateLimit-Remaining-Minute: 3",
            "X-RateLimit-Limit-Hour: 100", "X-RateLimit-Remaining-Hour: 90" },
          { limit = 10, remaining = 3, window = "minute" } },
      }
      -- the same answers with a hook watching
      local general = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false,
                                        hooks = { after_response = function() end } })
      for i, case in ipairs(cases) do
        local headers = { "Content-Type: application/json" }
        for _, h in ipairs(case[1]) do headers[#headers + 1] = h end
        srv:respond(hostile.response("200 OK", headers, '{"id":"' .. UUID .. '","n":null}'))
        local v, err, m = c:get(ALICE, UUID)
        assert.is_table(v, err and tostring(err))
        assert.same(case[2], m.rate_limit, "case " .. i)
        assert.same({ id = UUID }, v)
        srv:respond(hostile.response("200 OK", headers, '{"id":"' .. UUID .. '","n":null}'))
        local gv, gerr, gm = general:get(ALICE, UUID)
        assert.is_nil(gerr)
        assert.same(gv, v)
        for _, k in ipairs { "status", "attempts", "http_version", "operation", "rate_limit", "request_id" } do
          assert.same(gm[k], m[k], k .. ", case " .. i)
        end
        assert.same(gm.headers, m.headers, "case " .. i)
      end
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, '{"id":"' .. UUID .. '"}'))
      local _, _, m = c:get(ALICE, UUID)
      assert.is_nil(m.rate_limit)
    end)
  end)

  -- Realistic faults a success path must not take for a success (issue 19,
  -- items 1 and 2: each went unnoticed on the first-attempt path, which is
  -- gone; these hold the one pipeline to it, watched and not).
  describe("answers that are not a success", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    local function clients()
      return {
        plain = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false }),
        watched = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false,
                                    hooks = { after_response = function() end }, log = function() end }),
      }
    end

    it("a 3xx whose body is JSON (a redirecting proxy) is an error, never a value", function()
      for name, c in pairs(clients()) do
        for _, status in ipairs { "301 Moved Permanently", "302 Found", "307 Temporary Redirect",
                                  "308 Permanent Redirect" } do
          srv:respond(hostile.response(status, { "Content-Type: application/json",
            "Location: https://elsewhere.example/v3/users/" .. ALICE }, '{"id":"' .. UUID .. '","name":"moved"}'))
          local v, err = c:get(ALICE, UUID)
          assert.is_nil(v, name .. " " .. status)
          assert.equal("http", err.kind, name .. " " .. status)
          assert.equal(tonumber(status:match("^%d+")), err.status)
          assert.matches("redirect not followed", err.message, 1, true)
        end
      end
    end)

    it("a JSON-looking body whose Content-Type is not JSON is a decode error", function()
      for name, c in pairs(clients()) do
        for _, ctype in ipairs { "text/html", "text/html; charset=utf-8", "text/plain", "application/jsonx",
                                 "application/json-seq", "application/xml", "+json", false,
                                 -- only holding a JSON type's text, or going on after it
                                 "text/application/x+json", "x-application/x+json", "application/x+jsonx",
                                 "application/x+json+xml", "application/x y+json", ";application/json" } do
          local head = ctype and { "Content-Type: " .. ctype } or {}
          srv:respond(hostile.response("200 OK", head, '{"id":"' .. UUID .. '","name":"looks like json"}'))
          local v, err = c:get(ALICE, UUID)
          assert.is_nil(v, name .. " " .. tostring(ctype))
          assert.equal("decode", err.kind, name .. " " .. tostring(ctype))
          assert.matches("expected a JSON response", err.message, 1, true)
        end
        -- and the JSON types that are: with parameters (RFC 9110 5.6.6: white space around
        -- the ";" or none), and +json with every character RFC 6838 4.2 allows in a subtype
        for _, ctype in ipairs { "application/json; charset=utf-8", "application/json;charset=utf-8",
                                 "application/problem+json ; charset=utf-8", "Application/JSON",
                                 "application/problem+json", "application/vnd.konnect+json",
                                 "application/A1!#$&^_.-z+json" } do
          srv:respond(hostile.response("200 OK", { "Content-Type: " .. ctype }, '{"id":"' .. UUID .. '"}'))
          local v, err = c:get(ALICE, UUID)
          assert.is_table(v, name .. " " .. ctype .. ": " .. tostring(err))
          assert.equal(UUID, v.id)
        end
      end
    end)
  end)
end)
