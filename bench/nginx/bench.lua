-- bench/nginx/bench.lua: the timing loop that runs inside nginx (see run.sh).
-- GET /bench?n=&rounds=&warmup=&user=&token_id=&upstream=&token=[&contenders=a,b]
-- answers JSON: per contender, the wall µs and the worker's CPU µs per call of
-- every round (paired rounds: each round runs every contender once, the order
-- rotating from round to round).
--
-- CPU is the worker thread's time on a CPU, the first field of
-- /proc/thread-self/schedstat (ns; the kernel's sched-stats documentation,
-- Documentation/scheduler/sched-stats.rst), read before and after each loop.
-- The kernel brings that sum up to date when the thread is switched out, which
-- the worker is on every call (it waits for the upstream in epoll_wait), so a
-- reading lags by at most the CPU of the call in progress.
-- CLOCK_PROCESS_CPUTIME_ID (exact at the call) is kept beside it as cpu_clock_us.
--
-- &callgrind=PATH (nginx run under valgrind --tool=callgrind, bench/nginx/run.sh):
-- PATH is benchcg.so (benchcg.c); after the warm-up, each contender's loop of n
-- calls runs once between callgrind's zero and a dump named after it; the
-- answer only lists the contenders.

-- luacheck: globals ngx
local ffi = require "ffi"
local cjson = require "cjson.safe"
local pats = require "konnect.pats"
local floor_mod = require "cosocket_floor"

ffi.cdef [[
  struct kbench_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clk_id, struct kbench_timespec *tp);
  void kbench_cg_zero(void);
  void kbench_cg_dump(const char *what);
]]
local CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID = 1, 2
local ts = ffi.new("struct kbench_timespec")
local function clock(id) -- seconds
  ffi.C.clock_gettime(id, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local function sched_s() -- this thread's time on a CPU so far, seconds
  local f = assert(io.open("/proc/thread-self/schedstat"))
  local ns = f:read("*n")
  f:close()
  return ns * 1e-9
end

local _M = {}

local function contenders(args)
  local upstream = args.upstream
  local host, port = upstream:match("^http://([^:/]+):(%d+)$")
  local path = "/v3/users/" .. args.user .. "/access-tokens/" .. args.token_id
  -- the library through its public API only
  local client = assert(pats.new { token = args.token, server_url = upstream, transport = "cosocket" })
  local get_floor = floor_mod.new(host, tonumber(port), path, args.token)
  local user, id = args.user, args.token_id
  local fns = {
    library = function()
      local v, err = client:get(user, id)
      if not v or v.id ~= id then error("library: " .. tostring(err)) end
    end,
    floor = function()
      local v, err = get_floor()
      if not v or v.id ~= id then error("floor: " .. tostring(err)) end
    end,
  }
  -- the transport alone (+ cjson like the floor): konnect.transport.cosocket's
  -- internal API, so only while that module still offers new and header_lines
  local ok, cosocket = pcall(require, "konnect.transport.cosocket")
  if ok and type(cosocket) == "table" and cosocket.new and cosocket.header_lines then
    local t = cosocket.new {}
    local headers = { Authorization = "Bearer " .. args.token, Accept = "application/json", ["User-Agent"] = "bench" }
    local req = { method = "GET", url = upstream .. path, headers = headers,
                  header_lines = cosocket.header_lines(headers), once = false }
    fns.transport = function()
      local res, err = t:request(req)
      if not res or res.status ~= 200 then error("transport: " .. tostring(err and err.message)) end
      cjson.decode(res.body)
    end
  end
  return fns
end

function _M.run()
  local a = ngx.req.get_uri_args()
  local n, rounds, warmup = tonumber(a.n) or 2000, tonumber(a.rounds) or 11, tonumber(a.warmup) or 200
  local fns = contenders(a)
  local order = {}
  for name in (a.contenders or "floor,library,transport"):gmatch("[^,]+") do
    if fns[name] then order[#order + 1] = name end
  end
  for _, name in ipairs(order) do
    for _ = 1, warmup do fns[name]() end
  end
  if a.callgrind then
    local cg = ffi.load(a.callgrind)
    for _, name in ipairs(order) do
      local fn = fns[name]
      collectgarbage()
      cg.kbench_cg_zero()
      for _ = 1, n do fn() end
      cg.kbench_cg_dump(name)
    end
    ngx.header["Content-Type"] = "application/json"
    ngx.say(cjson.encode({ n = n, callgrind = true, contenders = order }))
    return
  end
  local out = { n = n, rounds = rounds, us = {}, cpu_us = {}, cpu_clock_us = {}, cpu_source = "schedstat" }
  for _, name in ipairs(order) do out.us[name], out.cpu_us[name], out.cpu_clock_us[name] = {}, {}, {} end
  local k = #order
  for r = 1, rounds do
    for j = 0, k - 1 do
      local name = order[(r + j - 1) % k + 1]
      local fn = fns[name]
      collectgarbage()
      local s0, c0, t0 = sched_s(), clock(CLOCK_PROCESS_CPUTIME_ID), clock(CLOCK_MONOTONIC)
      for _ = 1, n do fn() end
      local t1, c1, s1 = clock(CLOCK_MONOTONIC), clock(CLOCK_PROCESS_CPUTIME_ID), sched_s()
      out.us[name][r] = (t1 - t0) / n * 1e6
      out.cpu_us[name][r] = (s1 - s0) / n * 1e6
      out.cpu_clock_us[name][r] = (c1 - c0) / n * 1e6
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
