-- spec/hostile/sample_hostile.lua: a few hundred of the fuzz's generated
-- responses (spec/fuzz/gen.lua) over real sockets, through the transport
-- chosen by KONNECT_HOSTILE_TRANSPORT, with the fuzz's properties
-- (spec/fuzz/check.lua).  Seed: KONNECT_FUZZ_SEED (default 20261128).
local sample = require "sample"
local json = require "konnect.json"
local core = require "konnect.core"

local BASE = os.getenv("KONNECT_HOSTILE_URL") or error("KONNECT_HOSTILE_URL is not set: run spec/hostile/run.sh", 0)
local TRANSPORT = os.getenv("KONNECT_HOSTILE_TRANSPORT") or "curl"
local SEED = tonumber(os.getenv("KONNECT_FUZZ_SEED") or "") or 20261128
local N = 300
local TOKEN = "kpat_fake_sample_case_token_not_real"
local ctl = assert(core.new { timeout = 300, connect_timeout = 5 })

describe("fuzz sample over real sockets, transport " .. TRANSPORT .. ":", function()
  it(("%d generated responses, seed %d"):format(N, SEED), function()
    local failures, count
    if TRANSPORT == "cosocket" then
      local res = assert(ctl:request("GET", ("%s/sample?seed=%d&n=%d&token=%s"):format(BASE, SEED, N, TOKEN), {}, nil))
      assert(res.status == 200, "sample: HTTP " .. res.status)
      local out = json.decode(res.body)
      failures, count = out.failures, out.count
    else
      failures, count = sample.run {
        seed = SEED, n = N, token = TOKEN, base = BASE, transport = "curl",
        stash = function(id, raw)
          local res = assert(ctl:request("POST", BASE .. "/stash/" .. id, {}, raw))
          assert(res.status == 200, "stash: HTTP " .. res.status)
        end,
      }
    end
    assert(#failures == 0, ("fuzz sample seed %d (replay: KONNECT_FUZZ_SEED=%d), %s, %d failing:\n  %s")
      :format(SEED, SEED, TRANSPORT, #failures, table.concat(failures, "\n  ")))
    assert.equal(N, count)
  end)
end)
