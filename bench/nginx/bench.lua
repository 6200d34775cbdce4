-- bench/nginx/bench.lua: the timing loop that runs inside nginx (see run.sh).
-- GET /bench?n=&rounds=&warmup=&user=&token_id=&upstream=&token= answers JSON:
-- per contender, the µs per call of every round (paired rounds: each round
-- runs every contender once, the order rotating from round to round).

-- luacheck: globals ngx
local ffi = require "ffi"
local cjson = require "cjson.safe"
local pats = require "konnect.pats"
local cosocket = require "konnect.transport.cosocket"
local floor_mod = require "cosocket_floor"

ffi.cdef [[
  struct kbench_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clk_id, struct kbench_timespec *tp);
]]
local CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID = 1, 2
local ts = ffi.new("struct kbench_timespec")
local function clock(id) -- seconds
  ffi.C.clock_gettime(id, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local _M = {}

local function contenders(args)
  local upstream = args.upstream
  local host, port = upstream:match("^http://([^:/]+):(%d+)$")
  local path = "/v3/users/" .. args.user .. "/access-tokens/" .. args.token_id
  local client = assert(pats.new { token = args.token, server_url = upstream, transport = "cosocket" })
  local t = cosocket.new {}
  local headers = { Authorization = "Bearer " .. args.token, Accept = "application/json", ["User-Agent"] = "bench" }
  local req = { method = "GET", url = upstream .. path, headers = headers,
                header_lines = cosocket.header_lines(headers), once = false }
  local get_floor = floor_mod.new(host, tonumber(port), path, args.token)
  local user, id = args.user, args.token_id
  return {
    library = function()
      local v, err = client:get(user, id)
      if not v then error("library: " .. tostring(err)) end
    end,
    transport = function() -- the transport alone, and cjson like the floor
      local res, err = t:request(req)
      if not res or res.status ~= 200 then error("transport: " .. tostring(err and err.message)) end
      cjson.decode(res.body)
    end,
    floor = function()
      local v, err = get_floor()
      if not v then error("floor: " .. tostring(err)) end
    end,
  }
end

local ORDER = { "floor", "library", "transport" }

function _M.run()
  local a = ngx.req.get_uri_args()
  local n, rounds, warmup = tonumber(a.n) or 2000, tonumber(a.rounds) or 11, tonumber(a.warmup) or 200
  local fns = contenders(a)
  for _, name in ipairs(ORDER) do
    for _ = 1, warmup do fns[name]() end
  end
  local out = { n = n, rounds = rounds, us = {}, cpu_us = {} }
  for _, name in ipairs(ORDER) do out.us[name], out.cpu_us[name] = {}, {} end
  local k = #ORDER
  for r = 1, rounds do
    for j = 0, k - 1 do
      local name = ORDER[(r + j - 1) % k + 1]
      local fn = fns[name]
      collectgarbage()
      local c0, t0 = clock(CLOCK_PROCESS_CPUTIME_ID), clock(CLOCK_MONOTONIC)
      for _ = 1, n do fn() end
      out.us[name][r] = (clock(CLOCK_MONOTONIC) - t0) / n * 1e6
      out.cpu_us[name][r] = (clock(CLOCK_PROCESS_CPUTIME_ID) - c0) / n * 1e6
    end
  end
  if a.profile and fns[a.profile] and a.profile_out then
    -- LuaJIT's sampling profiler over one more loop of that contender
    local prof = require "jit.p"
    prof.start(a.profile_mode or "F", a.profile_out)
    local fn = fns[a.profile]
    for _ = 1, n * 2 do fn() end
    prof.stop()
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(out))
end

return _M
