-- Faults injected by the fake Konnect server: retries, timeouts, caps, bad
-- bodies, redirects, and secrets kept out of everything the library emits.
local fake = require "support.fake"
local core = require "konnect.core"

local ALICE = fake.ALICE
local TOKENS = "/v3/users/" .. ALICE .. "/access-tokens"

local function elapsed(fn)
  local t0 = core.monotime()
  local a, b = fn()
  return core.monotime() - t0, a, b
end

describe("resilience", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  describe("retries", function()
    it("a GET survives 503 twice, in three attempts", function()
      local tok = assert(client:create(ALICE, { name = "target", ttl_seconds = 86400 }))
      fake.fault { method = "GET", path = "/access%-tokens/", status = 503, count = 2 }
      local got, err = client:get(ALICE, tok.id)
      assert.is_nil(err)
      assert.equal(tok.id, got.id)
      assert.equal(3, fake.count("GET " .. TOKENS .. "/" .. tok.id))
    end)

    it("a create facing 503 is sent exactly once", function()
      fake.fault { method = "POST", status = 503, count = 2 }
      local v, err = client:create(ALICE, { name = "once", ttl_seconds = 86400 })
      assert.is_nil(v)
      assert.equal("server", err.kind)
      assert.equal(503, err.status)
      assert.equal(1, err.attempts)
      assert.equal(1, fake.count("POST " .. TOKENS))
    end)

    it("a create retries a 429, which the server did not act on", function()
      fake.fault { method = "POST", status = 429, retry_after = "0", count = 1 }
      local tok = assert(client:create(ALICE, { name = "after 429", ttl_seconds = 86400 }))
      assert.equal("after 429", tok.name)
      assert.equal(2, fake.count("POST " .. TOKENS))
      assert.equal(1, #assert(client:list(ALICE)).data)
    end)

    it("a create whose connection drops after the server acted is not repeated", function()
      -- warm the connection first: libcurl by itself replays a request whose
      -- reused connection died without an answer, and a POST must never be replayed
      assert(client:list(ALICE))
      fake.fault { method = "POST", drop = "after_body" }
      local v, err = client:create(ALICE, { name = "ambiguous", ttl_seconds = 86400 })
      assert.is_nil(v)
      assert.equal("network", err.kind, tostring(err))
      -- what the user reads: why it failed, and why it was not simply retried
      assert.equal("the connection closed before any response; the request may have been processed, "
        .. "so it was not sent again", err.message)
      assert.equal(1, err.attempts)
      assert.equal(1, fake.count("POST " .. TOKENS))
      assert.equal(1, #assert(client:list(ALICE)).data, "exactly one token exists, not two")
    end)

    it("a create to a closed port is retried: nothing was sent", function()
      local c = fake.client { server_url = "http://127.0.0.1:1" }
      local v, err = c:create(ALICE, { name = "nowhere", ttl_seconds = 86400 })
      assert.is_nil(v)
      assert.equal("connect", err.kind)
      assert.equal(3, err.attempts)
    end)

    it("a delete retried after an ambiguous failure that answers 404 succeeded", function()
      for _, fresh in ipairs { true, false } do
        fake.reset()
        local c = fake.client()
        local tok = assert(client:create(ALICE, { name = "gone", ttl_seconds = 86400 }))
        if not fresh then assert(c:list(ALICE)) end -- a kept-alive connection this time
        fake.fault { method = "DELETE", drop = "after_body" }
        assert.is_true(c:delete(ALICE, tok.id))
        assert.equal(2, fake.count("DELETE " .. TOKENS .. "/" .. tok.id))
        assert.equal("not_found", select(2, c:get(ALICE, tok.id)).kind)
      end
    end)

    it("a GET on a kept-alive connection the server dropped is sent again on a fresh one, even with retries off",
      function()
      local c = fake.client { retries = "off" }
      assert(c:list(ALICE)) -- a kept-alive connection now
      fake.fault { method = "GET", drop = "before_body", count = 1 }
      local v, err, meta = c:list(ALICE)
      assert.is_nil(err)
      assert.is_table(v)
      assert.equal(1, meta.attempts) -- (the transport's own resend: one attempt of the call)
      assert.equal(3, fake.count("GET " .. TOKENS))
    end)

    it("a delete answered 500 or 503 may have been done: a retry's 404 then means it succeeded", function()
      for _, status in ipairs { 500, 503 } do
        fake.reset()
        local c = fake.client { retries = { max_attempts = 3, initial = 0.01, max = 0.01 } }
        local tok = assert(c:create(ALICE, { name = "gone", ttl_seconds = 86400 }))
        fake.fault { method = "DELETE", status = status, count = 1 }
        fake.fault { method = "DELETE", status = 404, count = 1 }
        local ok, err, meta = c:delete(ALICE, tok.id)
        assert.is_nil(err, status)
        assert.is_true(ok)
        -- its meta tells the story: two attempts, the last answered 404, and how long the whole call took
        assert.equal(2, meta.attempts)
        assert.equal(404, meta.status)
        assert.equal("delete-personal-access-token", meta.operation)
        assert.is_true(type(meta.elapsed) == "number" and meta.elapsed > 0, tostring(meta.elapsed))
      end
    end)

    it("a plain 404 on delete is still an error", function()
      local v, err = client:delete(ALICE, "00000000-0000-4000-8000-00000000f00d")
      assert.is_nil(v)
      assert.equal("not_found", err.kind)
    end)

    it("never retries 400, 401, 403, 404 or 409", function()
      for _, status in ipairs { 400, 401, 403, 404, 409 } do
        fake.reset()
        fake.fault { method = "GET", status = status, count = 3 }
        local v, err = client:list(ALICE)
        assert.is_nil(v)
        assert.equal(status, err.status)
        assert.equal(1, err.attempts)
        assert.equal(1, fake.count("GET " .. TOKENS), "status " .. status)
      end
    end)

    it("retries 429, 500, 502, 503 and 504 on idempotent calls", function()
      for _, status in ipairs { 429, 500, 502, 503, 504 } do
        fake.reset()
        fake.fault { method = "GET", status = status, retry_after = "0", count = 2 }
        assert(client:list(ALICE))
        assert.equal(3, fake.count("GET " .. TOKENS), "status " .. status)
      end
    end)

    it("reports attempts and retry_after when it gives up", function()
      fake.fault { method = "GET", status = 429, plain_429 = true, retry_after = "0", count = 3 }
      local v, err = client:list(ALICE)
      assert.is_nil(v)
      assert.equal("rate_limited", err.kind)
      assert.equal("API rate limit exceeded", err.message)
      assert.equal(3, err.attempts)
      assert.equal(0, err.retry_after)
    end)

    it("honours Retry-After in seconds, clamped to the policy maximum", function()
      fake.fault { method = "GET", status = 503, retry_after = "1", count = 1 }
      local c = fake.client { retries = { initial = 0.01, max = 2, max_elapsed = 10 } }
      local dt = elapsed(function() return assert(c:list(ALICE)) end)
      assert.is_true(dt >= 0.9 and dt < 3, "waited " .. dt)

      fake.fault { method = "GET", status = 503, retry_after = "3600", count = 1 }
      c = fake.client { retries = { initial = 0.01, max = 0.2, max_elapsed = 10 } }
      dt = elapsed(function() return assert(c:list(ALICE)) end)
      assert.is_true(dt >= 0.15 and dt < 1.5, "an hour clamped to 0.2 s, waited " .. dt)
    end)

    it("honours Retry-After as an HTTP date", function()
      local when = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 2)
      fake.fault { method = "GET", status = 503, retry_after = when, count = 1 }
      local c = fake.client { retries = { initial = 0.01, max = 5, max_elapsed = 10 } }
      local dt = elapsed(function() return assert(c:list(ALICE)) end)
      assert.is_true(dt >= 0.5 and dt < 4, "waited " .. dt)
    end)

    it("a 429 without Retry-After waits the backoff", function()
      fake.fault { method = "GET", status = 429, count = 2 }
      local c = fake.client { retries = { initial = 0.01, max = 0.02, max_elapsed = 5 } }
      assert(c:list(ALICE))
      assert.equal(3, fake.count("GET " .. TOKENS))
    end)

    it("retries = false makes one attempt", function()
      fake.fault { method = "GET", status = 503, count = 2 }
      local v, err = fake.client({ retries = "off" }):list(ALICE)
      assert.is_nil(v)
      assert.equal(1, err.attempts)
      assert.equal(1, fake.count("GET " .. TOKENS))
    end)

    it("elapsed (meta's, an error's) counts from the first attempt: earlier attempts and waits included", function()
      -- (lower bounds only: the fake holds each refused answer 0.4 s, so the first attempt alone took that long)
      local c
      for _, hooks in ipairs { false, { before_request = function() end } } do -- (a hook marks the start itself)
        fake.fault { method = "GET", status = 503, count = 2, delay = 0.4 }
        c = fake.client { retries = { max_attempts = 3, initial = 0.01, max = 0.01 }, hooks = hooks or nil }
        local v, _, meta = c:list(ALICE)
        assert.is_table(v)
        assert.equal(3, meta.attempts)
        assert.is_true(meta.elapsed >= 0.8, "meta.elapsed " .. meta.elapsed)
      end
      c = fake.client { retries = { max_attempts = 2, initial = 0.01, max = 0.01 } }
      fake.fault { method = "GET", status = 503, count = 2, delay = 0.4 }
      local v, err = c:list(ALICE)
      assert.is_nil(v)
      assert.equal(2, err.attempts)
      assert.is_true(err.elapsed >= 0.8, "err.elapsed " .. err.elapsed)
    end)

    it("max_elapsed bounds the whole call, waits included", function()
      fake.fault { method = "GET", status = 503, count = 20 }
      local c = fake.client { retries = { max_attempts = 20, initial = 0.3, max = 0.3, max_elapsed = 0.5 } }
      local dt, v, err = elapsed(function() return c:list(ALICE) end)
      assert.is_nil(v)
      assert.equal("server", err.kind)
      assert.is_true(err.attempts < 20)
      assert.is_true(dt < 1.5, "took " .. dt)
    end)
  end)

  describe("timeouts", function()
    it("a slow answer is a timeout, per attempt", function()
      fake.fault { method = "GET", delay = 2 }
      local c = fake.client { timeout = 0.3, retries = "off" }
      local dt, v, err = elapsed(function() return c:list(ALICE) end)
      assert.is_nil(v)
      assert.equal("timeout", err.kind)
      assert.is_true(dt < 1.5, "took " .. dt)
    end)

    it("a GET times out, then succeeds on retry", function()
      fake.fault { method = "GET", delay = 2 }
      local c = fake.client { timeout = 0.3 }
      assert(c:list(ALICE))
      assert.equal(2, fake.count("GET " .. TOKENS))
    end)

    it("a create that timed out after sending is not repeated", function()
      fake.fault { method = "POST", delay = 1.5 }
      local c = fake.client { timeout = 0.3 }
      local v, err = c:create(ALICE, { name = "slow", ttl_seconds = 86400 })
      assert.is_nil(v)
      assert.equal("timeout", err.kind)
      assert.equal(1, err.attempts)
      assert.equal(1, fake.count("POST " .. TOKENS))
    end)

    it("a slow drip within the timeout is fine", function()
      fake.fault { method = "GET", drip = { chunks = 4, interval = 0.1 } }
      local list = assert(fake.client({ timeout = 5 }):list(ALICE))
      assert.is_table(list.data)
    end)
  end)

  describe("bad bodies", function()
    it("a body over the cap is too_large, stopped while receiving", function()
      fake.fault { method = "GET", huge = 8 * 1024 * 1024 }
      local v, err = fake.client({ max_body = 64 * 1024 }):list(ALICE)
      assert.is_nil(v)
      assert.equal("too_large", err.kind)
      assert.equal(1, err.attempts)
    end)

    it("malformed JSON is a decode error", function()
      fake.fault { method = "GET", malformed = true }
      local v, err = client:list(ALICE)
      assert.is_nil(v)
      assert.equal("decode", err.kind)
      assert.equal(200, err.status)
      assert.is_string(err.body)
      -- the message says what the decoder found wrong, where
      assert.equal("invalid JSON: Expected object key string but found T_END at character 71", err.message)
    end)

    it("a JSON success that is not an object is a decode error saying so", function()
      for _, case in ipairs { { '"a string"', "expected a JSON object" }, { "42", "expected a JSON object" },
                              { "true", "expected a JSON object" }, { "null", "JSON null" } } do
        local body = case[1]
        fake.fault { method = "GET", malformed = true, body = body }
        local v, err = client:list(ALICE)
        assert.is_nil(v, body)
        assert.equal("decode", err.kind, body)
        assert.equal(case[2], err.message, body)
      end
    end)

    it("a truncated body is a network error", function()
      fake.fault { method = "GET", truncate = true, count = 3 }
      local v, err = client:list(ALICE)
      assert.is_nil(v)
      assert.equal("network", err.kind)
    end)

    it("a success with the wrong content type is a decode error", function()
      fake.fault { method = "GET", content_type = "text/html" }
      local v, err = client:list(ALICE)
      assert.is_nil(v)
      assert.equal("decode", err.kind)
      assert.matches("text/html", err.message)
    end)

    it("an empty error body still maps to its kind", function()
      fake.fault { method = "GET", status = 404, empty = true }
      local v, err = client:list(ALICE)
      assert.is_nil(v)
      assert.equal("not_found", err.kind)
      assert.equal("HTTP 404 with an empty body", err.message)
    end)

    it("random garbage bodies never raise", function()
      math.randomseed(42)
      local statuses = { 200, 400, 404, 409, 429, 500 }
      for i = 1, 30 do
        local bytes = {}
        for j = 1, math.random(0, 300) do bytes[j] = string.char(math.random(0, 255)) end
        fake.fault { method = "GET", status = statuses[i % #statuses + 1], body = table.concat(bytes),
                     content_type = (i % 2 == 0) and "application/json" or "application/problem+json" }
        local c = fake.client { retries = "off" }
        local ok, v, err = pcall(c.list, c, ALICE)
        assert.is_true(ok, tostring(v))
        assert.is_nil(v)
        assert.is_string(err.kind)
        assert.is_string(tostring(err))
      end
    end)
  end)

  describe("transport safety", function()
    it("a redirect is never followed", function()
      fake.fault { method = "GET", redirect = fake.http .. "/v3/users/me" }
      local v, err = client:list(ALICE)
      assert.is_nil(v)
      assert.equal("http", err.kind)
      assert.equal(302, err.status)
      assert.matches("redirect not followed", err.message)
      assert.equal(0, fake.count("GET /v3/users/me"), "the token was not replayed to the redirect target")
    end)
  end)

  describe("secrets and observability", function()
    it("log lines and hook views never carry a secret", function()
      local lines, views = {}, {}
      local c = fake.client {
        log = function(line) lines[#lines + 1] = line end,
        hooks = {
          before_request = function(v) views[#views + 1] = v end,
          after_response = function(v) views[#views + 1] = v end,
        },
      }
      local tok = assert(c:create(ALICE, { name = "observed", ttl_seconds = 86400 }))
      fake.fault { method = "GET", status = 503, count = 1 }
      assert(c:get(ALICE, tok.id))
      assert(c:revoke(ALICE, tok.id))

      assert.equal(4, #lines)
      assert.matches("^konnect: create%-personal%-access%-token POST /v3/users/.*/access%-tokens %-> 201 attempt=1 ",
        lines[1])
      assert.matches("%-> 503 attempt=1", lines[2])
      assert.matches("%-> 200 attempt=2", lines[3])
      assert.equal(8, #views)
      assert.equal("Bearer <redacted>", views[1].headers.Authorization)
      assert.matches('"konnect_token":"<redacted>"', views[2].body)

      local function scan(v, seen)
        seen = seen or {}
        if type(v) == "table" then
          if seen[v] then return end
          seen[v] = true
          for k, x in pairs(v) do scan(k, seen); scan(x, seen) end
        elseif type(v) == "string" then
          assert.is_nil(v:find(fake.ALICE_TOKEN, 1, true), "bootstrap token leaked: " .. v)
          assert.is_nil(v:find(tok.konnect_token, 1, true), "new secret leaked: " .. v)
        end
      end
      scan(lines)
      scan(views)
    end)

    it("a failing hook does not break the call", function()
      local lines = {}
      local c = fake.client {
        log = function(line) lines[#lines + 1] = line end,
        hooks = { before_request = function() error("hook bug " .. fake.ALICE_TOKEN) end },
      }
      assert(c:list(ALICE))
      assert.matches("hook failed", lines[1])
      assert.is_nil(lines[1]:find(fake.ALICE_TOKEN, 1, true))
    end)
  end)
end)
