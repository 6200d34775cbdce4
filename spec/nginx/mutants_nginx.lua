-- Inside nginx: behaviour the mutation run (scripts/mutate.sh) found untested.
-- Each test kills a mutant of scripts/mutants.lua that survived every other
-- suite (named in the test) and asserts something a user relies on.
local nginx = require "nginx.client"
local fake = require "support.fake"

describe("mutants (nginx)", function()
  before_each(function() fake.reset() end)

  -- mutant 39: the transport picked in one phase stuck to the client
  it("a client used in content, then in the log phase, gets invalid_context there (each call decides)", function()
    local _, first = nginx.request("GET", "/mutants/logphase")
    assert.is_table(first)
    assert.is_true(first.ok, first.message)
    local out
    for _ = 1, 50 do -- the log phase runs after the response went out
      local _, v = nginx.request("GET", "/recorded?key=mutants_log")
      if type(v) == "table" then out = v break end
      os.execute("sleep 0.05")
    end
    assert.is_table(out)
    assert.is_nil(out.raised)
    assert.equal("log", out.phase)
    assert.equal("invalid_context", out.kind, out.message)
    assert.equal(1, fake.count("GET /v3/users/" .. fake.ALICE .. "/access-tokens"))
  end)

  -- mutant 52 (the C core's twin, mutant 55, is in spec/mutants_lib_spec.lua)
  it("cosocket: max_body is the largest body accepted: exactly max_body bytes pass, one byte more is too_large",
    function()
    fake.fault { method = "GET", huge = 4096 }
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = { max_body = 4096, retries = "off" } }
    assert.is_true(out.ok, out.err and out.err.text)
    assert.same({ "cosocket" }, out.transports)
    fake.fault { method = "GET", huge = 4097 }
    out = nginx.call { op = "list", args = { fake.ALICE }, client = { max_body = 4096, retries = "off" } }
    assert.is_false(out.ok)
    assert.equal("too_large", out.err.kind)
  end)

  -- mutant 43: an empty chunk-size line taken for the last chunk
  it("cosocket: a chunk-size line without any digit is bad framing (network), not the end of the body", function()
    local _, out = nginx.request("POST", "/raw", { url = "/mutants/empty_chunk_line", timeout = 5 })
    assert.is_nil(out.res, "a truncated body was taken for the answer")
    assert.equal("network", out.terr.kind)
  end)

  -- mutants 44 and 49: a connection pooled although the response said it must not be
  for _, case in ipairs {
    { "te_and_cl", "both Transfer-Encoding and Content-Length (RFC 9112 6.3)" },
    { "says_close", "Connection: close (the server keeps it open anyway)" },
  } do
    it("cosocket: after a response with " .. case[2] .. " the connection is not reused", function()
      local name = case[1] .. "-" .. os.time() .. "-" .. math.random(1e6)
      local opts = { ca_file = "/" .. name } -- a keepalive pool of its own (ca_file is in the pool name)
      local _, a = nginx.request("POST", "/raw",
        { url = "/mutants/" .. case[1], cache = name, timeout = 5, opts = opts })
      assert.is_nil(a.terr, a.terr and a.terr.message)
      assert.equal("{}", a.res.body)
      local _, b = nginx.request("POST", "/raw", { url = "/mock/x", cache = name, timeout = 5 })
      assert.is_nil(b.terr, b.terr and b.terr.message)
      assert.is_nil(b.res.body:find("reused", 1, true), "the second call went out on the first one's connection")
      assert.equal(0, b.stats.reused)
      assert.equal(2, b.stats.connects)
    end)
  end

  -- mutants 41 and 80: a read that starts late in the attempt waits only for what is left of it
  it("bytes that keep coming until late in the attempt, then stop: the call ends at its deadline", function()
    local _, out = nginx.request("POST", "/raw", { url = "/mutants/late_silence?secs=0.8&silence=4", timeout = 1 })
    assert.is_table(out.terr)
    assert.equal("timeout", out.terr.kind)
    assert.is_true(out.elapsed < 1.5, ("the 1 s attempt took %.2f s"):format(out.elapsed))
  end)
end)
