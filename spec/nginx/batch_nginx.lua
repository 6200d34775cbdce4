-- client:batch inside nginx: light threads (ngx.thread.spawn) over cosockets.
local nginx = require "nginx.client"
local fake = require "support.fake"

local NO_SUCH = "00000000-0000-4000-8000-00000000f00d"

describe("client:batch in nginx", function()
  before_each(function() fake.reset() end)

  it("runs the calls concurrently and answers in input order", function()
    local tok = assert(fake.client():create(fake.ALICE, { name = "batched", ttl_seconds = 86400 }))
    fake.fault { method = "GET", path = "/access%-tokens/", delay = 0.5, count = 4 }
    local calls = {
      { "get", fake.ALICE, tok.id }, { "get", fake.ALICE, NO_SUCH },
      { "get", fake.ALICE, tok.id }, { "get", fake.ALICE, tok.id },
      { "create", fake.ALICE, { name = "x", ttl_seconds = 86400 } }, -- invalid: never sent
    }
    local out = nginx.call { op = "batch", args = { calls, { concurrency = 4 } }, client = { server = "http" } }
    assert.is_true(out.ok, out.err and out.err.message)
    assert.same({ "cosocket" }, out.transports)
    local results = out.value
    assert.equal(tok.id, results[1].value.id)
    assert.equal("not_found", results[2].err.kind)
    assert.equal(tok.id, results[3].value.id)
    assert.equal(tok.id, results[4].value.id)
    assert.equal("invalid_argument", results[5].err.kind)
    -- four calls of 0.5 s each, four at a time: about 0.5 s, not 2 s
    assert.is_true(out.elapsed < 1.2, "took " .. out.elapsed)
    assert.equal(0, fake.count("POST /v3/users/" .. fake.ALICE .. "/access-tokens") - 1)
  end)

  it("keeps to its concurrency limit: N calls at concurrency k take at least ceil(N/k) x latency", function()
    local latency, n, k = 0.3, 7, 2
    fake.latency(latency * 1000)
    local calls = {}
    for i = 1, n do calls[i] = { "me" } end
    local ok, out = pcall(nginx.call, { op = "batch", args = { calls, { concurrency = k } },
                                        client = { server = "http" } })
    fake.latency(0)
    assert.is_true(ok, tostring(out))
    assert.is_true(out.ok, out.err and out.err.message)
    for i = 1, n do assert.is_table(out.value[i].value, "call " .. i) end
    local floor_s = math.ceil(n / k) * latency -- 4 rounds of 0.3 s
    assert.is_true(out.elapsed >= floor_s - 0.05, ("took %.3f s, less than %.1f s: more than %d at a time")
      :format(out.elapsed, floor_s, k))
    assert.is_true(out.elapsed < floor_s + 1.5, "took " .. out.elapsed)
  end)
end)
