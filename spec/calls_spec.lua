-- Round two's per-call options, response metadata, content negotiation,
-- pats.from_env, misuse hints and the batch's shared rate limit, against
-- the fake Konnect server over real sockets.
local core = require "konnect.core"
local errors = require "konnect.errors"
local pats = require "konnect.pats"
local fake = require "support.fake"

local ALICE = fake.ALICE
local TOKENS = "/v3/users/" .. ALICE .. "/access-tokens"
local DAY = 86400
local new_core = select(3, core.new { timeout = -1 }) ~= nil

local function last_request()
  local log = fake.requests().log
  return log[#log]
end

describe("per-call options", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  it("every operation takes them as its last table", function()
    local tok = assert(client:create(ALICE, { name = "opts", ttl_seconds = DAY }, { headers = { ["X-Trace"] = "c" } }))
    assert.equal("c", last_request().headers["x-trace"])
    assert(client:get(ALICE, tok.id, { headers = { ["X-Trace"] = "g" } }))
    assert.equal("g", last_request().headers["x-trace"])
    assert(client:list(ALICE, { headers = { ["X-Trace"] = "l" } }))
    assert.equal("l", last_request().headers["x-trace"])
    assert(client:update(ALICE, tok.id, { name = "opts2" }, { headers = { ["X-Trace"] = "u" } }))
    assert.equal("u", last_request().headers["x-trace"])
    assert(client:me { headers = { ["X-Trace"] = "m" } })
    assert.equal("m", last_request().headers["x-trace"])
    assert(client:find_by_name(ALICE, "opts2", { headers = { ["X-Trace"] = "f" } }))
    assert.equal("f", last_request().headers["x-trace"])
    assert(client:revoke(ALICE, tok.id, { headers = { ["X-Trace"] = "r" } }))
    assert.equal("r", last_request().headers["x-trace"])
    assert(client:delete(ALICE, tok.id, { headers = { ["X-Trace"] = "d" } }))
    assert.equal("d", last_request().headers["x-trace"])
    -- the next call without options sends none of them
    assert(client:list(ALICE))
    assert.is_nil(last_request().headers["x-trace"])
  end)

  it("a call's header replaces the client's own, and the library's headers stay the library's", function()
    local c = fake.client { headers = { ["X-Team"] = "blue" } }
    assert(c:list(ALICE, { headers = { ["x-team"] = "red" } }))
    assert.equal("red", last_request().headers["x-team"])
    for _, h in ipairs { "Authorization", "accept", "User-Agent", "Content-Type", "Host" } do
      local v, err = c:list(ALICE, { headers = { [h] = "x" } })
      assert.is_nil(v)
      assert.equal("invalid_argument", err.kind)
      assert.matches("set by the library", err.message, 1, true)
    end
  end)

  it("refuses unknown keys and bad values before any I/O, as pats.new does", function()
    local cases = {
      { timeout = 0 }, { timeout = -1 }, { timeout = 1 / 0 }, { timeout = "5" }, { timeout = 86401 },
      { retries = "no" }, { retries = { attempts = 2 } }, { retries = { max_attempts = 0 } },
      { headers = "x" }, { headers = { ["Bad Name"] = "x" } }, { headers = { ["X-Ok"] = "a\r\nb" } },
      { server_url = "ftp://x" }, { server_url = "http://example.com" }, { server_url = 5 },
      { timeot = 5 }, { [1] = 5 },
    }
    for _, o in ipairs(cases) do
      local v, err = client:list(ALICE, o)
      assert.is_nil(v)
      assert.equal("invalid_argument", err.kind)
    end
    local v, err = client:get(ALICE, fake.MISSING, "fast")
    assert.is_nil(v)
    assert.matches("per-call options must be a table", err.message, 1, true)
    v, err = client:get(ALICE, fake.MISSING, nil, {})
    assert.is_nil(v)
    assert.matches("too many arguments", err.message, 1, true)
    v, err = client:rotate(ALICE, fake.MISSING, nil, { retry = false })
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    v, err = client:prune(ALICE, nil, { timeout = false })
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    -- a call's server_url meets the same proxy rule as the client's
    local proxied = fake.client { server_url = fake.https, ca_file = fake.ca, proxy = "http://proxy.example:3128" }
    v, err = proxied:list(ALICE, { server_url = fake.http })
    assert.is_nil(v)
    assert.matches("plain-http proxy", err.message, 1, true)
    assert.equal(0, fake.requests().total)
  end)

  it("retries = false turns retries off for one call; a table changes them for one call", function()
    fake.fault { method = "GET", status = 503, count = 10 }
    local _, err = client:list(ALICE, { retries = false })
    assert.equal(1, err.attempts)
    _, err = client:list(ALICE, { retries = { max_attempts = 5, initial = 0.001, max = 0.01 } })
    assert.equal(5, err.attempts)
    _, err = client:list(ALICE)
    assert.equal(3, err.attempts, "the client's policy again")
    -- retries on for one call of a client that has them off
    fake.reset()
    local off = fake.client { retries = "off" }
    fake.fault { method = "GET", status = 503, count = 1 }
    assert(off:list(ALICE, { retries = { max_attempts = 2, initial = 0.001 } }))
  end)

  it("server_url sends one call elsewhere (the fake's HTTPS port, with the client's CA)", function()
    local c = fake.client { ca_file = fake.ca }
    local me, err, meta = c:me { server_url = fake.https }
    assert.is_nil(err)
    assert.equal(ALICE, me.id)
    assert.is_string(meta.http_version)
    -- "me" is resolved against that server, and remembered per server
    assert(c:list("me", { server_url = fake.https }))
    assert.equal(1, fake.count("GET /v3/users/me"))
    -- the client's own server is another: asked there once, then each is remembered
    assert(c:list("me"))
    assert.equal(2, fake.count("GET /v3/users/me"))
    local other = fake.client { ca_file = fake.ca }
    for _ = 1, 2 do
      assert(other:list("me"))
      assert(other:list("me", { server_url = fake.https }))
      assert(other:list("me", { server_url = fake.https }))
    end
    assert.equal(4, fake.count("GET /v3/users/me"), "a new client asks each server once")
  end)

  it("timeout beats the client's: a slow answer times out at the call's limit", function()
    if not new_core then
      pending("needs the new C core (conn:request's 6th argument, on the C helper's branch)")
      return
    end
    local c = fake.client { timeout = 5, retries = "off" }
    fake.fault { method = "GET", delay = 1.5 }
    local t0 = core.monotime()
    local v, err = c:list(ALICE, { timeout = 0.3 })
    local dt = core.monotime() - t0
    assert.is_nil(v)
    assert.equal("timeout", err.kind)
    assert.is_true(dt < 1.2, "took " .. dt)
    -- and without it the client's 5 s wait it out
    fake.fault { method = "GET", delay = 0.6 }
    assert(c:list(ALICE))
  end)
end)

describe("meta", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  it("comes third on success: status, request_id (the server's header), attempts, elapsed, http_version", function()
    local tok, err, meta = client:create(ALICE, { name = "meta", ttl_seconds = DAY })
    assert.is_nil(err)
    assert.is_table(tok)
    assert.equal(201, meta.status)
    assert.equal(1, meta.attempts)
    assert.is_true(meta.elapsed >= 0 and meta.elapsed < 5)
    assert.equal("1.1", meta.http_version)
    assert.equal("create-personal-access-token", meta.operation)
    assert.matches("^%x+$", meta.request_id)
    assert.equal(meta.request_id, meta.headers["x-kong-request-id"])
    assert.equal("application/json", meta.headers["content-type"])
    assert.is_nil(meta.rate_limit)
    local v, derr, dmeta = client:delete(ALICE, tok.id)
    assert.is_true(v)
    assert.is_nil(derr)
    assert.equal(204, dmeta.status)
  end)

  it("request_id is the server's X-Kong-Request-Id, and attempts count retries", function()
    local seen = {}
    local function hook(r) seen[#seen + 1] = r.headers["x-kong-request-id"] end
    local c = fake.client { hooks = { after_response = hook } }
    fake.fault { method = "GET", status = 503 }
    local _, _, meta = c:list(ALICE)
    assert.equal(2, meta.attempts)
    assert.equal(seen[2], meta.request_id)
    assert.are_not.equal(seen[1], meta.request_id)
  end)

  it("errors carry the same fields", function()
    fake.ratelimit(100)
    local _, err = client:get(ALICE, fake.MISSING)
    assert.equal(404, err.status)
    assert.matches("^%x+$", err.request_id)
    assert.equal(err.request_id, err.headers["x-kong-request-id"])
    assert.equal(1, err.attempts)
    assert.is_number(err.elapsed)
    assert.equal("1.1", err.http_version)
    assert.equal(100, err.rate_limit.limit)
  end)

  it("parses rate-limit headers into numbers", function()
    fake.ratelimit(50)
    local _, _, meta = client:list(ALICE)
    assert.same({ limit = 50, remaining = 49, reset = meta.rate_limit.reset }, meta.rate_limit)
    assert.is_true(meta.rate_limit.reset >= 1 and meta.rate_limit.reset <= 1)
    local parse = require("konnect.meta").rate_limit
    assert.same({ limit = 10, remaining = 3, window = "minute" },
      parse { ["x-ratelimit-limit-minute"] = "10", ["x-ratelimit-remaining-minute"] = "3",
              ["x-ratelimit-limit-hour"] = "100", ["x-ratelimit-remaining-hour"] = "90" })
    assert.same({ limit = 100, remaining = 50, reset = 30 },
      parse { ratelimit = '"default";r=50;t=30', ["ratelimit-policy"] = '"default";q=100;w=60' })
    assert.same({ limit = 10, remaining = 0, reset = 5 }, parse({ ["x-ratelimit-limit"] = "10",
      ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = tostring(1700000005) }, 1700000000))
    assert.is_nil(parse { ["content-type"] = "application/json" })
    -- a number at the start of the value: a fraction kept, a list or parameters after it ignored,
    -- and no number without a digit before its point
    assert.same({ limit = 10, remaining = 4, reset = 2.5 }, parse { ["ratelimit-limit"] = "10, 10;w=1",
      ["ratelimit-remaining"] = " 4", ["ratelimit-reset"] = "2.5" })
    assert.same({ limit = 10 }, parse { ["ratelimit-limit"] = "10", ["ratelimit-remaining"] = ".5",
      ["ratelimit-reset"] = "soon" })
  end)

  it("never carries the token, in headers or request_id", function()
    local secret = fake.ALICE_TOKEN
    fake.fault { body = '{"data":[]}', content_type = "application/json" }
    local _, _, meta = client:list(ALICE)
    for k, v in pairs(meta.headers) do
      assert.is_nil(tostring(k):find(secret, 1, true))
      assert.is_nil(tostring(v):find(secret, 1, true))
    end
  end)

  it("batch results carry meta per entry", function()
    local tok = assert(client:create(ALICE, { name = "b1", ttl_seconds = DAY }))
    local results = assert(client:batch { { "get", ALICE, tok.id }, { "list", ALICE } })
    assert.equal(200, results[1].meta.status)
    assert.equal("get-personal-access-token-details", results[1].meta.operation)
    assert.matches("^%x+$", results[2].meta.request_id)
  end)
end)

describe("content negotiation", function()
  before_each(function() fake.reset() end)

  it("the fake answers 406 to an error response the client does not accept", function()
    local conn = assert(core.new { timeout = 5 })
    local url = fake.http .. TOKENS .. "/" .. fake.MISSING
    local auth = "Authorization: Bearer " .. fake.ALICE_TOKEN
    assert.equal(406, assert(conn:request("GET", url, { auth, "Accept: application/json" })).status)
    local both = "Accept: application/json, application/problem+json"
    assert.equal(404, assert(conn:request("GET", url, { auth, both })).status)
    assert.equal(404, assert(conn:request("GET", url, { auth })).status, "no Accept admits anything")
    assert.equal(200, assert(conn:request("GET", fake.http .. TOKENS, { auth, "Accept: application/json" })).status)
    conn:close()
  end)

  it("a forced problem+json error comes back as nil, err with its own status", function()
    local client = fake.client()
    fake.fault { method = "POST", status = 409 }
    local tok, err = client:create(ALICE, { name = "x1", ttl_seconds = DAY })
    assert.is_nil(tok)
    assert.equal("conflict", err.kind)
    assert.equal(409, err.status)
    fake.fault { method = "GET", status = 400 }
    local v, err2 = client:list(ALICE)
    assert.is_nil(v)
    assert.equal("bad_request", err2.kind)
    assert.equal("Fault injected by the fake Konnect", err2.detail)
  end)
end)

describe("pats.from_env", function()
  local function env(t) return function(name) return t[name] end end

  it("reads KONNECT_TOKEN, KONNECT_SERVER_URL and KONNECT_CA_FILE; overrides win", function()
    fake.reset()
    local c = assert(pats.from_env(nil, env {
      KONNECT_TOKEN = fake.ALICE_TOKEN, KONNECT_SERVER_URL = fake.https, KONNECT_CA_FILE = fake.ca }))
    assert.equal(ALICE, assert(c:me()).id)
    local bob = assert(pats.from_env({ token = fake.BOB_TOKEN, server_url = fake.http },
      env { KONNECT_TOKEN = fake.ALICE_TOKEN, KONNECT_SERVER_URL = "https://nowhere.invalid" }))
    assert.equal(fake.BOB, assert(bob:me()).id)
  end)

  it("reads the real environment by default", function()
    local lua = os.getenv("KONNECT_TEST_LUA") or (arg and arg[-1]) or "lua5.4"
    local cmd = ("LUA_PATH='%s' LUA_CPATH='%s' KONNECT_TOKEN=%s KONNECT_SERVER_URL=%s KONNECT_CA_FILE= %s -e %q")
      :format(package.path, package.cpath, fake.ALICE_TOKEN, fake.http, lua,
        'local c = assert(require("konnect.pats").from_env()) io.write(assert(c:me()).id)')
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    assert.equal(ALICE, out)
  end)

  it("checks like new() and says which variable was wrong; never shows the token", function()
    local c, err = pats.from_env(nil, env {})
    assert.is_nil(c)
    assert.matches("KONNECT_TOKEN is not set", err.message, 1, true)
    c, err = pats.from_env(nil, env { KONNECT_TOKEN = "Bearer kpat_secret_x" })
    assert.is_nil(c)
    assert.matches("drop the \"Bearer \" prefix", err.message, 1, true)
    assert.is_nil(err.message:find("kpat_secret_x", 1, true))
    c, err = pats.from_env(nil, env { KONNECT_TOKEN = "kpat_x", KONNECT_SERVER_URL = "http://example.com" })
    assert.is_nil(c)
    assert.matches("KONNECT_SERVER_URL", err.message, 1, true)
    c, err = pats.from_env({ server_url = "ftp://x" }, env { KONNECT_TOKEN = "kpat_x" })
    assert.is_nil(c)
    assert.equal("server_url must use https (or http to a loopback host) (read from KONNECT_TOKEN)", err.message)
    c, err = pats.from_env({ token = "kpat_x" }, env { KONNECT_SERVER_URL = "ftp://x", KONNECT_CA_FILE = "/nope" })
    assert.is_nil(c)
    assert.matches(" %(read from KONNECT_CA_FILE, KONNECT_SERVER_URL%)$", err.message)
    c, err = pats.from_env("x")
    assert.is_nil(c)
    assert.equal("invalid_argument", err.kind)
    c, err = pats.from_env({ bogus = 1 }, env { KONNECT_TOKEN = "kpat_x" })
    assert.is_nil(c)
    assert.matches("unknown option bogus", err.message, 1, true)
  end)
end)

describe("misuse is reported with a hint", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  it("err:is with a kind that does not exist says so", function()
    local _, err = client:get(ALICE, fake.MISSING)
    assert.is_true(err:is("not_found"))
    local yes, why = err:is("notfound")
    assert.is_false(yes)
    assert.equal("unknown error kind 'notfound' (did you mean not_found?)", why)
    assert.matches("did you mean rate_limited", select(2, errors.is(err, "rate_limit")), 1, true)
    assert.matches("unknown error kind", select(2, errors.is(nil, "nope")), 1, true)
    assert.is_nil(select(2, err:is("conflict")))
  end)

  it("\"ME\" mentions \"me\"; a Bearer-prefixed token says to drop it", function()
    local v, err = client:list("ME")
    assert.is_nil(v)
    assert.matches('"me" (lower case)', err.message, 1, true)
    local c, cerr = pats.new { token = "Bearer " .. fake.ALICE_TOKEN, server_url = fake.http }
    assert.is_nil(c)
    assert.matches('drop the "Bearer " prefix', cerr.message, 1, true)
    assert.is_nil(tostring(cerr):find(fake.ALICE_TOKEN, 1, true))
  end)

  it("a spat_ token used with \"me\" is told it has no user, and that the PAT operations do not take it", function()
    -- the hint claims nothing beyond the contract: it does not say that a
    -- user id works instead (the PAT operations list no system-account token)
    local HINT = 'has no user, so it cannot stand for "me"'
    for _, token in ipairs { fake.SYSTEM_ACCOUNT_TOKEN, fake.SERVICE_TOKEN } do
      local svc = fake.client { token = token }
      local v, err = svc:list("me")
      assert.is_nil(v)
      assert.equal("unauthorized", err.kind)
      assert.matches(HINT, err.message, 1, true)
      assert.matches("not system-account tokens", err.hint, 1, true)
      assert.is_nil(err.message:find("pass the user id", 1, true))
      local _, merr = svc:me()
      assert.matches(HINT, merr.message, 1, true)
    end
    -- the fake's service token (a service access token, its spat_ prefix
    -- historical) may list alice's with her id; a system account's may not
    assert.is_table(assert(fake.client { token = fake.SERVICE_TOKEN }:list(ALICE)).data)
    local _, ferr = fake.client { token = fake.SYSTEM_ACCOUNT_TOKEN }:list(ALICE)
    assert.equal("forbidden", ferr.kind)
    -- a personal token gets no such hint
    local _, perr = fake.client { token = "kpat_unknown_x" }:list("me")
    assert.is_nil(perr.message:find(HINT, 1, true))
  end)
end)

describe("batch", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client { retries = { max_attempts = 3, initial = 0.05, max = 2, max_elapsed = 30 } }
  end)
  after_each(function() fake.ratelimit(0) end)

  it("refuses unknown options", function()
    local r, err = client:batch({ { "me" } }, { concurency = 2 })
    assert.is_nil(r)
    assert.equal("invalid_argument", err.kind)
    assert.matches("unknown option concurency", err.message, 1, true)
    r, err = client:batch({ { "me" } }, nil, { timout = 1 })
    assert.is_nil(r)
    assert.equal("invalid_argument", err.kind)
    assert.equal(0, fake.requests().total)
  end)

  it("entries take per-call options; the batch's third table applies to all", function()
    local results = assert(client:batch({
      { "list", ALICE, { headers = { ["X-Trace"] = "own" } } },
      { "me" },
    }, { concurrency = 1 }, { headers = { ["X-Trace"] = "batch" } }))
    assert.is_table(results[1].value)
    local log = fake.requests().log
    local traces = {}
    for _, e in ipairs(log) do traces[#traces + 1] = e.headers["x-trace"] end
    table.sort(traces)
    assert.same({ "batch", "own" }, traces)
    local r = assert(client:batch { { "list", ALICE, { bogus = 1 } } })
    assert.equal("invalid_argument", r[1].err.kind)
  end)

  local function count429()
    local n = 0
    for _, e in ipairs(fake.requests().log) do
      if e.status == 429 then n = n + 1 end
    end
    return n
  end

  it("a 429 with Retry-After holds every call not yet started (server without rate-limit headers)", function()
    local tok = assert(client:create(ALICE, { name = "rl", ttl_seconds = DAY }))
    fake.ratelimit(5, false)
    local calls = {}
    for i = 1, 20 do calls[i] = { "get", ALICE, tok.id } end
    -- five attempts, not three: on a loaded machine a call's first attempts can
    -- straddle two windows; what this test holds the batch to is the 429 count below
    local patient = fake.client { retries = { max_attempts = 5, initial = 0.05, max = 2, max_elapsed = 30 } }
    local results, failed = patient:batch(calls, { concurrency = 4 })
    assert.equal(0, failed, "every call succeeds")
    for i = 1, 20 do assert.equal(tok.id, results[i].value.id) end
    -- the first round meets the limit unawares (15 of 20 over it); from then
    -- on the batch starts nothing before Retry-After, then what one window let
    -- through, then one probe: about one 429 per second instead of every
    -- waiting call again (which, retried on its own, also ran out of attempts)
    local n = count429()
    if os.getenv("SHOW429") then print("429s", n) end
    assert.is_true(n <= 15 + 4, n .. " answers were 429")
  end)

  it("a fresh client's batch starts a full wave (no probing round trip); after a 429 one call goes first", function()
    local tok = assert(client:create(ALICE, { name = "wave", ttl_seconds = DAY }))
    local calls = {}
    for i = 1, 8 do calls[i] = { "get", ALICE, tok.id } end
    fake.latency(600)
    local function timed(c)
      local t0 = core.monotime()
      local _, failed = c:batch(calls, { concurrency = 8 })
      assert.equal(0, failed)
      return core.monotime() - t0
    end
    -- 8 calls, 8 at once, 0.6 s each: one wave (a probe first would be two)
    local dt = timed(fake.client())
    assert.is_true(dt >= 0.55 and dt < 1.1, "a fresh client's batch of one wave took " .. dt)
    -- a client that heard a 429 (no RateLimit headers) sends one call first
    fake.latency(0)
    local limited = fake.client { retries = false }
    fake.ratelimit(1, false)
    limited:get(ALICE, tok.id)
    local _, err = limited:get(ALICE, tok.id)
    assert.equal(429, err.status)
    fake.ratelimit(0)
    fake.latency(600)
    dt = timed(limited)
    assert.is_true(dt >= 1.15, "after a 429 the batch probes with one call first: " .. dt)
    -- that batch met no 429: the next starts a full wave again
    dt = timed(limited)
    assert.is_true(dt >= 0.55 and dt < 1.1, "after a batch without a 429: " .. dt)
    fake.latency(0)
  end)

  it("with RateLimit headers the batch paces itself and 429s stay rare, from a fresh client's first call", function()
    local tok = assert(client:create(ALICE, { name = "rl", ttl_seconds = DAY }))
    fake.ratelimit(8)
    client = fake.client { retries = { max_attempts = 3, initial = 0.05, max = 2, max_elapsed = 30 } }
    local calls = {}
    for i = 1, 30 do calls[i] = { "get", ALICE, tok.id } end
    local t0 = core.monotime()
    local _, failed = client:batch(calls, { concurrency = 8 })
    local dt = core.monotime() - t0
    assert.equal(0, failed)
    local n = count429()
    if os.getenv("SHOW429") then print("429s", n) end
    assert.is_true(n <= 4, n .. " answers were 429")
    assert.is_true(dt >= 2 and dt < 10, "30 calls at 8 per second took " .. dt)
  end)
end)
