-- Behaviour the mutation run (scripts/mutate.sh, scripts/mutants.lua) found
-- untested: each test here kills at least one mutant that survived every other
-- suite (the mutant's id is named in the test), and each asserts something a
-- user relies on.  Real sockets throughout: the fake Konnect server and its
-- fault injection.
local fake     = require "support.fake"
local pats     = require "konnect.pats"
local core     = require "konnect.core"
local limits   = require "konnect.limits"
local validate = require "konnect.validate"
local hostile  = require "support.hostile"
local time     = require "konnect.time"

local ALICE, BOB = fake.ALICE, fake.BOB
local UUID = "00000000-0000-4000-8000-00000000beef"
-- another user's token, token-shaped (a server echoing it must not make us print it)
local OTHER = "kpat_fake_other_users_token_not_real"

local assert_clean = require("support.proc").assert_clean

describe("mutants (library)", function()
  before_each(function() fake.reset() end)

  -- mutant 1: the UUID pattern without its ^ anchor
  it("an id with anything before the UUID is refused before any request (no path traversal)", function()
    for _, bad in ipairs { "../../" .. UUID, "../" .. ALICE, "x" .. UUID, "/" .. UUID } do
      assert.is_nil(validate.uuid(bad, "token_id"), bad)
      assert.is_nil(validate.user_id(bad), bad)
    end
    local c = fake.client()
    local v, err = c:get(ALICE, "../../" .. UUID)
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    v, err = c:list("../../users/" .. BOB)
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    assert.equal(0, fake.requests().total, "a request reached the server")
  end)

  -- mutant 6: the loopback test without its ^ anchor
  it("plain http is allowed to loopback only, not to a name that ends like a loopback address", function()
    for _, host in ipairs { "x.127.0.0.1", "evil.127.0.0.1", "127.0.0.1.example.com" } do
      assert.is_false(limits.loopback(host), host)
      local c, err = pats.new { token = fake.ALICE_TOKEN, server_url = "http://" .. host .. ":8080" }
      assert.is_nil(c, host)
      assert.matches("refusing plain http", err.message)
    end
    assert.is_true(limits.loopback("127.0.0.1"))
    assert.is_true(limits.loopback("127.1.2.3"))
    assert.truthy(pats.new { token = fake.ALICE_TOKEN, server_url = "http://127.0.0.1:8080" })
  end)

  -- mutant 15: the catch-all for token-shaped strings
  it("a server echoing some other token in an error never makes the error carry it", function()
    local c = fake.client { retries = false }
    fake.fault { method = "GET", status = 400, content_type = "application/problem+json",
                 body = '{"title":"Bad Request","detail":"token ' .. OTHER .. ' is not valid",'
                   .. '"invalid_parameters":[{"field":"' .. OTHER .. '","reason":"leaked"}]}' }
    local v, err = c:list(ALICE)
    assert.is_nil(v)
    assert.equal("bad_request", err.kind)
    assert_clean(err, OTHER, "err")
    assert(not tostring(err):find(OTHER, 1, true), "tostring(err) carries the echoed token")
    assert.matches("<redacted>", err.message)
    -- and in a body kept raw (not problem+json)
    fake.fault { method = "GET", status = 502, content_type = "text/plain", body = "upstream said " .. OTHER }
    v, err = c:list(ALICE)
    assert.is_nil(v)
    assert_clean(err, OTHER, "err")
  end)

  -- mutant 26: max_elapsed counted without the wait about to be slept
  it("never sleeps past retries.max_elapsed: a Retry-After beyond it ends the call at once", function()
    local c = fake.client { retries = { max_attempts = 5, initial = 0.01, max = 8, max_elapsed = 1 } }
    fake.fault { method = "GET", status = 503, retry_after = "3" }
    local t0 = core.monotime()
    local v, err = c:list(ALICE)
    local took = core.monotime() - t0
    assert.is_nil(v, "the call waited 3 s and tried again")
    assert.equal("server", err.kind)
    assert.equal(1, err.attempts)
    assert.equal(3, err.retry_after)
    assert.is_true(took < 2.5, ("took %.2f s"):format(took))
  end)

  -- mutant 33: the id answered by /v3/users/me used without checking it
  it("\"me\" resolves only to a UUID: a hostile /users/me id never reaches a request path", function()
    local c = fake.client { retries = false }
    fake.fault { method = "GET", path = "^/v3/users/me$",
                 body = '{"id":"../../v3/users/' .. BOB .. '","email":"alice@example.test"}' }
    local v, err = c:list("me")
    assert.is_nil(v)
    assert.equal("decode", err.kind)
    local seen = fake.requests()
    assert.equal(1, seen.total, "a request followed the hostile id")
    assert.equal(1, seen.routes["GET /v3/users/me"])
  end)

  -- mutant 36: the proxy's password not among the secrets every output is redacted for
  it("a proxy that echoes the password it was given never makes an error carry it", function()
    local srv = hostile.start()
    local PASS = "s3cr3t-Proxy-pw"
    finally(function() srv:stop() end)
    srv:respond("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
      .. "X-Kong-Request-Id: proxy-" .. PASS .. "\r\n\r\n"
      .. "upstream refused; you sent password=" .. PASS .. " for proxyuser")
    local seen = {}
    local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false,
      proxy = "http://proxyuser:" .. PASS .. "@" .. srv.url:match("^http://(.*)$"),
      log = function(line) seen[#seen + 1] = line end,
      hooks = { after_response = function(v) seen[#seen + 1] = v end } })
    local v, err = c:list(ALICE)
    assert.is_nil(v)
    assert.equal("server", err.kind)
    -- it did go through the proxy (no assert.matches: the request holds the token)
    assert((srv:last_request() or ""):find("\r\nProxy-Authorization: Basic ", 1, true), "not sent through the proxy")
    assert_clean(err, PASS, "err")
    assert(not tostring(err):find(PASS, 1, true), "tostring(err) carries the proxy's password")
    assert_clean(seen, PASS, "log lines and hook views")
  end)

  -- mutant 55 (the C core; the cosocket twin, mutant 52, is in spec/nginx/mutants_nginx.lua)
  it("max_body is the largest body accepted: exactly max_body bytes pass, one byte more is too_large", function()
    local c = fake.client { retries = false, max_body = 4096 }
    fake.fault { method = "GET", huge = 4096 }
    local v, err = c:list(ALICE)
    assert.is_table(v, err and tostring(err))
    fake.fault { method = "GET", huge = 4097 }
    v, err = c:list(ALICE)
    assert.is_nil(v)
    assert.equal("too_large", err.kind)
  end)

  -- the curl side of mutant 43's test (spec/nginx/mutants_nginx.lua): both transports agree
  it("a chunk-size line without any digit is bad framing (network), not the end of the body", function()
    local srv = hostile.start()
    finally(function() srv:stop() end)
    srv:respond("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. "2\r\n{}\r\n\r\n\r\n")
    local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false })
    local v, err = c:get(ALICE, UUID)
    assert.is_nil(v, "a truncated body was taken for the answer")
    assert.equal("network", err.kind)
  end)

  -- mutant 82: RFC 3339 offsets applied with the wrong sign
  it("RFC 3339 offsets are honoured: the same instant written in three zones is one epoch", function()
    local z = time.rfc3339("2030-01-01T00:00:00Z")
    assert.equal(z, time.rfc3339("2030-01-01T02:30:00+02:30"))
    assert.equal(z, time.rfc3339("2029-12-31T19:00:00-05:00"))
    assert.equal(1893456000, z)
  end)

  -- mutant 83: every fourth year a leap year
  it("February 29 exists in leap years only (2000, 2024), not in 2100 or 2023", function()
    assert.is_number(time.rfc3339("2000-02-29T00:00:00Z"))
    assert.is_number(time.rfc3339("2024-02-29T00:00:00Z"))
    assert.is_nil(time.rfc3339("2100-02-29T00:00:00Z"))
    assert.is_nil(time.rfc3339("2023-02-29T00:00:00Z"))
    assert.is_nil(validate.expires_at("2100-02-29T00:00:00Z"))
  end)

  -- mutant 84: the curl batch runner letting libcurl replay a create
  it("a create in a batch whose kept-alive connection drops after the server acted is not sent twice", function()
    local c = fake.client { retries = false }
    local out, failed = c:batch({ { "list", ALICE } }) -- leaves a kept-alive connection behind
    assert.equal(0, failed, out[1].err and tostring(out[1].err))
    fake.fault { method = "POST", path = "/access%-tokens$", drop = "after_body" }
    out = c:batch({ { "create", ALICE, { name = "batched-once", ttl_seconds = 86400 } } })
    assert.equal(1, fake.count("POST /v3/users/" .. ALICE .. "/access-tokens"), "the create was sent twice")
    assert.is_table(out[1].err, "a create the server acted on but never answered cannot be a success")
    assert.equal("network", out[1].err.kind)
    assert.equal("the connection closed before any response; the request may have been processed, "
      .. "so it was not sent again", out[1].err.message)
  end)

  -- mutant 34: the curl batch runner retrying without its wait
  it("a batch call that is told to retry later waits for it (Retry-After honoured in batches)", function()
    local c = fake.client { retries = { max_attempts = 3, initial = 0.01, max = 8, max_elapsed = 30 } }
    fake.fault { method = "GET", count = 1, status = 503, retry_after = "1" }
    local t0 = core.monotime()
    local out, failed = c:batch({ { "list", ALICE } })
    local took = core.monotime() - t0
    assert.equal(0, failed)
    assert.is_table(out[1].value)
    assert.equal(2, fake.count("GET /v3/users/" .. ALICE .. "/access-tokens"))
    assert.is_true(took >= 0.9, ("the retry came after %.2f s, before the server's Retry-After: 1"):format(took))
  end)
end)
