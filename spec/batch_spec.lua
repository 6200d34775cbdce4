-- client:batch: many calls at once through libcurl's multi interface.
local fake = require "support.fake"
local core = require "konnect.core"

local ALICE = fake.ALICE
local TOKENS = "/v3/users/" .. ALICE .. "/access-tokens"
local NO_SUCH = "00000000-0000-4000-8000-00000000f00d"

-- Eight lists in one batch of concurrency 4 against `srv` (a support.hostile server, stopped
-- after) -> the sizes of its rounds: a round's calls all start (before_request) before any of
-- them answers (after_response)
local function rounds_of(srv, retries)
  local events = {}
  local c = assert(require("konnect.pats").new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = retries,
    hooks = { before_request = function() events[#events + 1] = "b" end,
              after_response = function() events[#events + 1] = "a" end } })
  local calls = {}
  for i = 1, 8 do calls[i] = { "list", ALICE } end
  local _, failed = c:batch(calls, { concurrency = 4 })
  srv:stop()
  assert.equal(0, failed)
  local rounds = {}
  for run in table.concat(events):gmatch("b+") do rounds[#rounds + 1] = #run end
  return rounds
end

describe("client:batch", function()
  local client
  before_each(function()
    fake.reset()
    client = fake.client()
  end)

  it("a create refused for the quota (409) says the quota and how to free a slot; another failure does not", function()
    local a = assert(client:create(ALICE, { name = "a1", ttl_seconds = 86400 }))
    fake.fault { method = "POST", status = 409, count = 1 }
    fake.fault { method = "PATCH", status = 409, count = 1 }
    local results, failed = client:batch({
      { "create", ALICE, { name = "q1", ttl_seconds = 86400 } },
      { "update", ALICE, a.id, { name = "a2" } },
    }, { concurrency = 1 })
    assert.equal(2, failed)
    local q, u = results[1].err, results[2].err
    assert.equal("conflict", q.kind)
    assert.same({ limit = 10 }, q.quota)
    assert.matches("at most 10 personal access tokens", q.message, 1, true)
    assert.matches("prune", q.message, 1, true)
    assert.equal("conflict", u.kind)
    assert.is_nil(u.quota)
    assert.not_matches("personal access tokens", u.message, 1, true)
  end)

  it("returns results in input order, mixing values and errors", function()
    local a = assert(client:create(ALICE, { name = "a1", ttl_seconds = 86400 }))
    local b = assert(client:create(ALICE, { name = "b1", ttl_seconds = 86400 }))
    local results, failed = client:batch({
      { "get", ALICE, a.id },
      { "get", ALICE, NO_SUCH },
      { "revoke", ALICE, b.id },
      { "create", ALICE, { name = "c1", ttl_seconds = 86400 } },
      { "get", ALICE, "not-a-uuid" },
      { "list", ALICE },
      { "update", ALICE, a.id, { name = "a2" } },
      { "me" },
      { "frobnicate", ALICE },
    }, { concurrency = 4 })
    assert.equal(9, #results)
    assert.equal(3, failed)
    assert.equal(a.id, results[1].value.id)
    assert.equal("not_found", results[2].err.kind)
    assert.equal("REVOKED", results[3].value.state)
    assert.matches("^kpat_", results[4].value.konnect_token)
    assert.equal("invalid_argument", results[5].err.kind)
    assert.is_table(results[6].value.data)
    assert.equal("a2", results[7].value.name)
    assert.equal(ALICE, results[8].value.id)
    assert.equal("invalid_argument", results[9].err.kind)
    assert.equal(1, fake.count("POST " .. TOKENS) - 2, "one create in the batch, one request")
  end)

  it("respects the concurrency limit", function()
    local tok = assert(client:create(ALICE, { name = "slow", ttl_seconds = 86400 }))
    local calls = {}
    for i = 1, 8 do calls[i] = { "get", ALICE, tok.id } end
    fake.fault { method = "GET", delay = 0.4, count = 8 }
    local t0 = core.monotime()
    local results, failed = client:batch(calls, { concurrency = 4 })
    local dt = core.monotime() - t0
    assert.equal(0, failed)
    assert.equal(8, #results)
    assert.is_true(dt >= 0.75, "8 calls of 0.4 s, 4 at a time, took " .. dt)
    assert.is_true(dt < 1.6, "took " .. dt)

    fake.fault { method = "GET", delay = 0.4, count = 8 }
    t0 = core.monotime()
    assert.equal(0, select(2, client:batch(calls, { concurrency = 8 })))
    dt = core.monotime() - t0
    assert.is_true(dt < 0.75, "8 at a time took " .. dt)
  end)

  it("starts the next call as soon as a slot frees", function()
    local slow = assert(client:create(ALICE, { name = "slow", ttl_seconds = 86400 }))
    local quick = assert(client:create(ALICE, { name = "quick", ttl_seconds = 86400 }))
    fake.fault { method = "GET", path = slow.id:gsub("%-", "%%-"), delay = 1.0 }
    fake.fault { method = "GET", path = quick.id:gsub("%-", "%%-"), delay = 0.2, count = 4 }
    local calls = { { "get", ALICE, slow.id } }
    for i = 2, 5 do calls[i] = { "get", ALICE, quick.id } end
    local t0 = core.monotime()
    local _, failed = client:batch(calls, { concurrency = 2 })
    local dt = core.monotime() - t0
    assert.equal(0, failed)
    -- one slot holds the slow call (1 s) while the other runs the four quick ones
    -- (0.8 s) back to back; waiting for the slow one to free a slot takes >= 1.4 s
    assert.is_true(dt >= 0.95 and dt < 1.25, "took " .. dt)
  end)

  it("each call keeps its own retry policy, and creates are never repeated", function()
    local tok = assert(client:create(ALICE, { name = "target", ttl_seconds = 86400 }))
    fake.fault { method = "GET", status = 503, count = 2 }
    fake.fault { method = "POST", status = 503, count = 1 }
    local results = client:batch({
      { "get", ALICE, tok.id },
      { "create", ALICE, { name = "x1", ttl_seconds = 86400 } },
    }, { concurrency = 2 })
    assert.equal(tok.id, results[1].value.id)
    assert.equal(3, fake.count("GET " .. TOKENS .. "/" .. tok.id))
    assert.equal("server", results[2].err.kind)
    assert.equal(1, results[2].err.attempts)
    assert.equal(2, fake.count("POST " .. TOKENS), "the setup create and the batch's one")
  end)

  it("a call waiting to retry lets the others go first, also while a fresh client sends one call a round", function()
    local tok = assert(client:create(ALICE, { name = "target", ttl_seconds = 86400 }))
    -- a fresh client with concurrency 1 sends one call a round until it hears an answer; the
    -- first call's connection drops (no answer heard), so the next round has that call
    -- waiting for its retry and two that never ran, of which only one fits
    local fresh = fake.client { retries = { max_attempts = 3, initial = 0.2, max = 0.2 } }
    fake.fault { method = "GET", path = "/access%-tokens/", drop = "before_body", count = 1 }
    local get = { "get", ALICE, tok.id }
    local results, failed = fresh:batch({ get, get, get }, { concurrency = 1 })
    assert.equal(0, failed)
    for i = 1, 3 do assert.equal(tok.id, results[i].value.id) end
    assert.equal(2, results[1].meta.attempts)
    assert.equal(4, fake.count("GET " .. TOKENS .. "/" .. tok.id), "one dropped, then three answers")
  end)

  -- (a child process under timeout(1): the wrong hold would be an hour, not a failure; the
  -- script is one shell line, so no -- comments in it; fake.client's retries: max = 0.05 s)
  it("a Retry-After longer than the retry policy's max holds the batch for max only", function()
    local tok = assert(client:create(ALICE, { name = "target", ttl_seconds = 86400 }))
    fake.fault { method = "GET", status = 429, retry_after = 3600, count = 1 }
    local lua = os.getenv("KONNECT_TEST_LUA") or (arg and arg[-1]) or "lua5.4"
    local script = ([[
      local client = require("support.fake").client()
      local get = { "get", %q, %q }
      local results, failed = client:batch({ get, get, get }, { concurrency = 1 })
      io.write(failed, " ", results[1].value.id, " ", results[3].value.id)
    ]]):format(ALICE, tok.id)
    local p = io.popen(("LUA_PATH='%s' LUA_CPATH='%s' timeout 60 %s -e %q 2>&1")
      :format(package.path, package.cpath, lua, script))
    local out = p:read("*a")
    p:close()
    assert.equal("0 " .. tok.id .. " " .. tok.id, out)
    assert.equal(4, fake.count("GET " .. TOKENS .. "/" .. tok.id), "one 429, then three answers")
  end)

  it("works over HTTPS (HTTP/2 where offered)", function()
    local c = fake.client { server_url = fake.https, ca_file = fake.ca, http_version = "2" }
    local tok = assert(c:create(ALICE, { name = "h2", ttl_seconds = 86400 }))
    local calls = {}
    for i = 1, 12 do calls[i] = { "get", ALICE, tok.id } end
    local results, failed = c:batch(calls, { concurrency = 6 })
    assert.equal(0, failed)
    for i = 1, 12 do assert.equal(tok.id, results[i].value.id) end
  end)

  it("sizes each round by what the last round's answers say remains, also when that grows again", function()
    -- a server of our own whose answers say, in turn: 1 left (the first wave of 4),
    -- then 9 left (a new window began), then 9 again.  Rounds are seen through the
    -- hooks: every call of a round starts (before_request) before any of it answers.
    local hostile = require "support.hostile"
    local srv = hostile.start()
    local function answer(left)
      return hostile.response("200 OK", { "Content-Type: application/json", "RateLimit-Limit: 10",
        "RateLimit-Remaining: " .. left, "RateLimit-Reset: 1" },
        '{"data":[],"meta":{"page":{"number":1,"size":10,"total":0}}}')
    end
    srv:respond_each { answer(1), answer(1), answer(1), answer(1), answer(9) }
    srv:respond(answer(9))
    -- 4 (nothing heard yet: one wave), 1 (one left), 3 (nine left: all the rest)
    assert.same({ 4, 1, 3 }, rounds_of(srv, false))
  end)

  it("after a hold for a closed window, the next round holds what RateLimit-Limit said a window takes", function()
    -- a server of our own: the first wave of 4 hears "0 of 3 left, new window in 1 s", the next ones 9 left
    local hostile = require "support.hostile"
    local srv = hostile.start()
    local function answer(limit, left)
      return hostile.response("200 OK", { "Content-Type: application/json", "RateLimit-Limit: " .. limit,
        "RateLimit-Remaining: " .. left, "RateLimit-Reset: 1" },
        '{"data":[],"meta":{"page":{"number":1,"size":10,"total":0}}}')
    end
    srv:respond_each { answer(3, 0), answer(3, 0), answer(3, 0), answer(3, 0) }
    srv:respond(answer(10, 9))
    -- 4 (nothing heard yet: one wave), 3 (the new window's limit), 1 (the rest)
    -- (retries: their max, 30 s, caps a hold; retries = false would leave none)
    assert.same({ 4, 3, 1 }, rounds_of(srv, { max_attempts = 1 }))
  end)

  it("a client that last heard a 429 (and no RateLimit figures) starts its next batch with one probing call",
    function()
    local events = {}
    local c = fake.client { retries = "off",
      hooks = { before_request = function() events[#events + 1] = "b" end,
                after_response = function() events[#events + 1] = "a" end } }
    fake.fault { method = "GET", plain_429 = true, count = 1 }
    assert.equal("rate_limited", select(2, c:list(ALICE)).kind)
    events = {}
    local calls = {}
    for i = 1, 4 do calls[i] = { "list", ALICE } end
    local _, failed = c:batch(calls, { concurrency = 4 })
    assert.equal(0, failed)
    local rounds = {}
    for run in table.concat(events):gmatch("b+") do rounds[#rounds + 1] = #run end
    -- 1 (the probe), 3 (it went through: the rest at once)
    assert.same({ 1, 3 }, rounds)
  end)

  it("a create and an update take per-call options, their own or the batch's (a call's own keys win)", function()
    local tok = assert(client:create(ALICE, { name = "upd", ttl_seconds = 86400 }))
    local results, failed = client:batch({
      { "create", ALICE, { name = "made", ttl_seconds = 86400 }, { headers = { ["X-Call"] = "create" } } },
      { "update", ALICE, tok.id, { name = "renamed" } },
    }, { concurrency = 2 }, { headers = { ["X-Batch"] = "batch" } })
    assert.equal(0, failed, results[1].err and tostring(results[1].err) or tostring(results[2].err))
    assert.equal("made", results[1].value.name)
    assert.equal("renamed", results[2].value.name)
    local seen = {}
    for _, e in ipairs(fake.requests().log) do
      local body = e.body ~= nil and tostring(e.body) or ""
      if e.method == "POST" and body:find("made", 1, true) then seen.create = e.headers end
      if e.method == "PATCH" then seen.update = e.headers end
    end
    assert.equal("create", seen.create["x-call"])
    assert.is_nil(seen.create["x-batch"], "the create's own headers replace the batch's")
    assert.equal("batch", seen.update["x-batch"])
  end)

  it("a call's own options hold without batch options", function()
    local results, failed = client:batch({
      { "create", ALICE, { name = "own", ttl_seconds = 86400 }, { headers = { ["X-Call"] = "own" } } },
    })
    assert.equal(0, failed, results[1].err and tostring(results[1].err))
    assert.equal("own", results[1].value.name)
    local seen
    for _, e in ipairs(fake.requests().log) do
      if e.method == "POST" then seen = e.headers end
    end
    assert.equal("own", seen["x-call"])
  end)

  it("on a transport that cannot run, every call gets its error, and a malformed call keeps its own", function()
    local c = fake.client { transport = "cosocket" } -- outside nginx: unavailable
    local results, failed = c:batch({ { "get", ALICE, NO_SUCH }, { "nope" }, { "list", ALICE } })
    assert.equal(3, failed)
    for _, i in ipairs { 1, 3 } do
      assert.equal("invalid_context", results[i].err.kind)
      assert.matches("transport cosocket is unavailable", results[i].err.message, 1, true)
    end
    assert.equal("invalid_argument", results[2].err.kind)
    assert.equal(0, #fake.requests().log)
  end)

  it("a call with a bad query gets its own invalid_argument; the others run", function()
    local admin = fake.client { token = fake.ADMIN_TOKEN }
    local results, failed = admin:batch({ { "users_page", { bogus = 1 } }, { "users_page", { page_size = 2 } } })
    assert.equal(1, failed)
    assert.equal("invalid_argument", results[1].err.kind)
    assert.equal("users_page: unknown query key bogus (expected filter, page_number, page_size)",
      results[1].err.message)
    assert.equal(2, #results[2].value.data)
  end)

  it("refuses bad arguments", function()
    assert.equal("invalid_argument", select(2, client:batch("get")).kind)
    local _, err = client:batch({}, "fast")
    assert.equal("invalid_argument", err.kind)
    assert.equal("batch options must be a table", err.message)
    assert.equal("invalid_argument", select(2, client:batch({}, { concurrency = 0 })).kind)
    assert.equal("invalid_argument", select(2, client:batch({}, { concurrency = 1.5 })).kind)
    local results, failed = client:batch({})
    assert.same({}, results)
    assert.equal(0, failed)
  end)
end)
