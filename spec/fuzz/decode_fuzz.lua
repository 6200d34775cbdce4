-- spec/fuzz/decode_fuzz.lua: property test of the response-decoding path.
-- 10,000+ generated responses (spec/fuzz/gen.lua: random statuses, headers,
-- JSON of random shapes, truncations, encodings, echoes of the token, and
-- transport failures) fed to konnect.pats through the documented custom
-- transport option (transport = function(req) return res end), so everything
-- after the transport -- konnect.http's pipeline, errors, retry-after, hooks,
-- logging -- runs for real.  Properties, for every response:
--   nothing raises; the outcome is a value, or nil and an error object of a
--   known kind (errors.KINDS); the token appears nowhere (value, error fields,
--   tostring(err), hook views, log lines).
-- KONNECT_FUZZ_SEED=n replays a run; KONNECT_FUZZ_N=n changes the count.
local pats = require "konnect.pats"
local errors = require "konnect.errors"
local gen = require "gen"
local check = require "check"

local SEED = tonumber(os.getenv("KONNECT_FUZZ_SEED") or "") or 20261128
local N = tonumber(os.getenv("KONNECT_FUZZ_N") or "") or 10000
local TOKEN = "kpat_fake_fuzz_case_token_not_real"
local CALLS = gen.CALLS

local judge = check.judge

describe("decoding fuzz", function()
  it(("never raises, never leaks, known kinds only (%d responses, seed %d)"):format(N, SEED), function()
    local g = gen.new(SEED, TOKEN)
    local strings, current, terr = {}, nil, nil
    local client = assert(pats.new {
      token = TOKEN, server_url = "https://konnect.example",
      retries = false,
      transport = function() return current, terr end,
      hooks = {
        before_request = function(view) check.collect(view, "hook before_request", strings) end,
        after_response = function(view) check.collect(view, "hook after_response", strings) end,
      },
      log = function(line) check.collect(line, "log line", strings) end,
    })
    local failures, kinds, values, ran = {}, {}, 0, 0
    for i = 1, N do
      ran = i
      current, terr = g:response()
      local call = g:pick(CALLS)
      for k in pairs(strings) do strings[k] = nil end
      -- the transport's failure object is ours; hand a fresh copy each time
      local ok, v, err = pcall(call, client)
      local problem = judge(ok, v, err, strings, TOKEN)
      if problem then
        failures[#failures + 1] = ("#%d (status %s): %s"):format(i, tostring(current and current.status), problem)
        if #failures >= 10 then break end
      end
      if ok and v ~= nil then values = values + 1 elseif ok and errors.is(err) then
        kinds[err.kind] = (kinds[err.kind] or 0) + 1
      end
    end
    local ks = {}
    for k, n in pairs(kinds) do ks[#ks + 1] = k .. "=" .. n end
    table.sort(ks)
    print(("\nfuzz: seed %d, %d of %d responses decoded (stops after 10 failures): %d values, errors %s")
      :format(SEED, ran, N, values, table.concat(ks, " ")))
    assert(#failures == 0, ("fuzz seed %d (replay: KONNECT_FUZZ_SEED=%d): %d failing response(s):\n  %s")
      :format(SEED, SEED, #failures, table.concat(failures, "\n  ")))
  end)
end)
