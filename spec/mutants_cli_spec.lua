-- konnect-pats: behaviour the mutation run (scripts/mutate.sh) found untested.
-- Each test kills a mutant of scripts/mutants.lua that survived every other
-- suite (named in the test).  In-process CLI runs against the fake Konnect.
local fake = require "support.fake"
local h = require "support.cli"

local cli, slurp = h.cli, h.slurp

describe("mutants (CLI)", function()
  local dir
  h.per_test(before_each, after_each, function(_, d) dir = d end)

  -- mutant 85: server strings printed with their control characters
  it("a token name with a terminal escape from the server is printed with the escape defused", function()
    local tok = '{"id":"00000000-0000-4000-8000-000000000002","name":"evil\\u001b]0;owned\\u0007name",'
      .. '"created_at":"2030-01-01T00:00:00Z","expires_at":"2030-02-01T00:00:00Z"}'
    fake.fault { method = "GET", path = "/access%-tokens$", body = '{"data":[' .. tok .. '],"meta":{}}' }
    local r = cli({ "list", fake.ALICE })
    assert.equal(0, r.code, r.err)
    assert.matches("evil", r.out, 1, true)
    assert.is_nil(r.out:find("\27", 1, true), "the escape reached stdout")
    fake.fault { method = "GET", path = "/access%-tokens/", body = tok }
    r = cli({ "get", fake.ALICE, "00000000-0000-4000-8000-000000000002" })
    assert.equal(0, r.code, r.err)
    assert.is_nil(r.out:find("\27", 1, true), "the escape reached stdout")
  end)

  -- mutant 79: a secret with control characters (a terminal escape) handed over as is
  it("a secret answered with control characters (a terminal escape) is never printed nor written", function()
    local body = '{"id":"00000000-0000-4000-8000-000000000001","name":"esc",'
      .. '"konnect_token":"kpat_esc\\u001b]0;owned\\u0007"}'
    for _, to_file in ipairs { false, true } do
      fake.fault { method = "POST", path = "/access%-tokens$", status = 201, body = body }
      local path = dir .. "/secret"
      local args = { "create", "--name", "esc", "--ttl", "1d" }
      if to_file then args[#args + 1] = "--secret-file"; args[#args + 1] = path end
      local r = cli(args)
      assert.equal(3, r.code) -- (decode: konnect.operations refuses an unusable secret)
      assert.matches("konnect_token (the secret) is missing or unusable", r.err, 1, true)
      assert.is_nil(r.out:find("\27", 1, true), "the escape reached stdout")
      assert.is_nil(r.err:find("\27", 1, true), "the escape reached stderr")
      assert.is_nil(slurp(path), "the secret file was written or left behind")
    end
  end)
end)
