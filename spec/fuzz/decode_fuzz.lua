-- spec/fuzz/decode_fuzz.lua: property test of the response-decoding path.
-- 10,000+ generated responses (spec/fuzz/gen.lua: random statuses, headers,
-- JSON of random shapes, truncations, encodings, echoes of the token, and
-- transport failures) fed to konnect.pats through the documented custom
-- transport option (transport = function(req) return res end), so everything
-- after the transport -- konnect.http's pipeline, errors, retry-after, hooks,
-- logging -- runs for real.  The same responses go twice: to a client with
-- nothing watching (no hooks, no log: what almost every real call is) and to
-- one with both hooks and a log function.  Properties, for every response:
--   nothing raises; the outcome is a value, or nil and an error object of a
--   known kind (errors.KINDS); the token appears nowhere (value, error fields,
--   tostring(err), and when watched, hook views and log lines); watched or
--   not, the outcome is the same.
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

-- The outcome's shape, to compare the two clients': a value's keys, or the
-- error's kind and status.
local function shape(v, err)
  if v ~= nil then
    if type(v) ~= "table" then return "value " .. tostring(v) end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    return "value {" .. table.concat(keys, ",") .. "}"
  end
  return "error " .. tostring(err and err.kind) .. " " .. tostring(err and err.status)
end

describe("decoding fuzz", function()
  it(("never raises, never leaks, known kinds only, watched or not (%d responses twice, seed %d)"):format(N, SEED),
    function()
    local g = gen.new(SEED, TOKEN)
    local strings, current, terr = {}, nil, nil
    local function transport() return current, terr end
    local plain = assert(pats.new {
      token = TOKEN, server_url = "https://konnect.example", retries = false, transport = transport,
    })
    local watched = assert(pats.new {
      token = TOKEN, server_url = "https://konnect.example",
      retries = false,
      transport = transport,
      hooks = {
        before_request = function(view) check.collect(view, "hook before_request", strings) end,
        after_response = function(view) check.collect(view, "hook after_response", strings) end,
      },
      log = function(line) check.collect(line, "log line", strings) end,
    })
    local failures, kinds, values, ran = {}, {}, 0, 0
    local function fail(i, what)
      failures[#failures + 1] = ("#%d (status %s): %s"):format(i, tostring(current and current.status), what)
    end
    for i = 1, N do
      ran = i
      local res, err = g:response()
      local call = g:pick(CALLS)
      local outcome = {}
      for run, client in ipairs { plain, watched } do
        -- each client gets its own copy: the pipeline may keep what it was handed
        current, terr = gen.copy(res), gen.copy(err)
        for k in pairs(strings) do strings[k] = nil end
        local ok, v, e = pcall(call, client)
        local problem = judge(ok, v, e, strings, TOKEN)
        if problem then fail(i, (run == 1 and "with nothing watching: " or "watched: ") .. problem) end
        outcome[run] = ok and shape(v, e) or "raised"
        if run == 1 then
          if ok and v ~= nil then values = values + 1 elseif ok and errors.is(e) then
            kinds[e.kind] = (kinds[e.kind] or 0) + 1
          end
        end
      end
      if outcome[1] ~= outcome[2] then
        fail(i, "watched or not, not the same outcome: " .. outcome[1] .. " / " .. outcome[2])
      end
      if #failures >= 10 then break end
    end
    local ks = {}
    for k, n in pairs(kinds) do ks[#ks + 1] = k .. "=" .. n end
    table.sort(ks)
    print(("\nfuzz: seed %d, %d of %d responses decoded twice (stops after 10 failures): %d values, errors %s")
      :format(SEED, ran, N, values, table.concat(ks, " ")))
    assert(#failures == 0, ("fuzz seed %d (replay: KONNECT_FUZZ_SEED=%d): %d failing response(s):\n  %s")
      :format(SEED, SEED, #failures, table.concat(failures, "\n  ")))
  end)
end)
