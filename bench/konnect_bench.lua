-- konnect.pats under benchmark: one workload per process.
--
--   lua5.4 bench/konnect_bench.lua get|cycle|revoke_seq|revoke_batch|batch|memory|memory_batch
--
-- Environment (set by bench/run.sh): BENCH_BASE (server URL), BENCH_TOKEN,
-- BENCH_USER, BENCH_IDS (comma-separated token ids), BENCH_N, BENCH_WARMUP,
-- BENCH_CA, BENCH_CONCURRENCY, BENCH_REPS, BENCH_MEM_AT, BENCH_BATCH_SIZE, BENCH_LABEL.
-- Prints one JSON line (see bench/lib/benchutil.lua).

local bu = require "benchutil"
local pats = require "konnect.pats"

local now, env, env_num = bu.now, bu.env, bu.env_num

local cfg = bu.config(arg[1] or "get")
local workload, base, user, ids, n, warmup, ca, label =
  cfg.workload, cfg.base, cfg.user, cfg.ids, cfg.n, cfg.warmup, cfg.ca, cfg.label
local jit = rawget(_G, "jit")
local contender = "konnect.pats " .. (jit and "LuaJIT" or _VERSION:gsub("Lua ", ""))

local client = assert(pats.new {
  token = cfg.token,
  server_url = base, ca_file = ca, retries = false,
})

local function check(v, err, what)
  if not v then bu.die(("konnect_bench: %s failed: %s"):format(what, tostring(err))) end
  return v
end

-- a batch's results: dies on the batch's own error or on the first failed call
local function check_batch(results, failed)
  check(results, failed, "batch")
  if failed > 0 then
    for _, r in ipairs(results) do
      if r.err then bu.die("konnect_bench: batch call failed: " .. tostring(r.err)) end
    end
  end
end

local function one_get(id)
  local tok, err = client:get(user, id)
  check(tok, err, "get")
  if tok.id ~= id then bu.die("konnect_bench: get returned another token") end
end

local function one_cycle()
  local tok = check(client:create(user, { name = "bench-cycle", ttl_seconds = 86400 }))
  local r = check(client:revoke(user, tok.id))
  if r.state ~= "REVOKED" then bu.die("konnect_bench: revoke did not revoke") end
  check(client:delete(user, tok.id))
end

local k = 0
local function one_revoke()
  k = k % #ids + 1
  local r = check(client:revoke(user, ids[k]))
  if r.id ~= ids[k] then bu.die("konnect_bench: revoke returned another token") end
end

local function timed(fn) return bu.timed(fn, n, warmup) end

local report
if workload == "get" then
  local id = ids[1]
  local times, total, cpu = timed(function() one_get(id) end)
  report = bu.summarize(contender, label, times, total, { cpu_s = cpu })
elseif workload == "cycle" then
  local times, total, cpu = timed(one_cycle)
  report = bu.summarize(contender, label, times, total, { requests_per_call = 3, cpu_s = cpu })
elseif workload == "revoke_seq" then
  local times, total, cpu = timed(one_revoke)
  report = bu.summarize(contender, label, times, total, { cpu_s = cpu })
elseif workload == "revoke_batch" then
  -- One batch of n revokes (ids in turn), `reps` times; the reported time is
  -- the median batch.  A small untimed batch first opens the connections.
  local concurrency = env_num("BENCH_CONCURRENCY", 16)
  local reps = env_num("BENCH_REPS", 3)
  local function calls(count)
    local c = {}
    for i = 1, count do c[i] = { "revoke", user, ids[(i - 1) % #ids + 1] } end
    return c
  end
  local function run(count)
    local results, failed = client:batch(calls(count), { concurrency = concurrency })
    check_batch(results, failed)
  end
  if warmup > 0 then run(math.min(concurrency, n)) end
  local batch_times, t_all = {}, 0
  for r = 1, reps do
    local t0 = now()
    run(n)
    batch_times[r] = now() - t0
    t_all = t_all + batch_times[r]
  end
  table.sort(batch_times)
  local batch = batch_times[math.floor((reps + 1) / 2)]
  local per = {}
  for i = 1, n do per[i] = batch / n end
  report = bu.summarize(contender, label, per, batch, {
    concurrency = concurrency, reps = reps, batch_s = batch, batch_min_s = batch_times[1],
    batch_max_s = batch_times[reps],
  })
elseif workload == "batch" then
  -- One cold batch of n gets from a new client (its connections opened
  -- inside the timing, as a script's first batch does).  BENCH_CONCURRENCY
  -- "default" (or unset) leaves the library's default.  The code is loaded
  -- before the timing (konnect.core and libcurl: ~5 ms, once per process), as
  -- raw_curl's libcurl is (linked at exec, curl_global_init before its clock).
  require "konnect.transport.curl"
  local c = env("BENCH_CONCURRENCY", "default")
  local opts = c ~= "default" and { concurrency = tonumber(c) } or nil
  local id, calls = ids[1], {}
  for i = 1, n do calls[i] = { "get", user, id } end
  local c0, t0 = bu.cpu(), now()
  local results, failed = client:batch(calls, opts)
  local batch_s, cpu = now() - t0, bu.cpu() - c0
  check_batch(results, failed)
  report = bu.summarize(contender, label, {}, batch_s, {
    n = n, batch_s = batch_s, cpu_s = cpu, mean_us = batch_s / n * 1e6, cpu_us = cpu / n * 1e6,
    concurrency = opts and opts.concurrency or require("konnect.limits").BATCH_CONCURRENCY,
  })
elseif workload == "memory_batch" then
  -- RSS after the first batch, after BENCH_MEM_AT calls and after n calls,
  -- made in batches of BENCH_BATCH_SIZE (default 1000), in one process.
  local size = env_num("BENCH_BATCH_SIZE", 1000)
  local at, at_done = env_num("BENCH_MEM_AT", 1000), false
  local id, calls = ids[1], {}
  for i = 1, size do calls[i] = { "get", user, id } end
  local points = {}
  local start, done, lua_kb_at_mark = now(), 0, nil
  while done < n do
    local results, failed = client:batch(calls)
    check(results, failed, "batch")
    if failed > 0 then bu.die("konnect_bench: " .. failed .. " batched calls failed") end
    done = done + size
    local mark = done >= at and not at_done
    if mark then -- the Lua heap after a full GC, here and at the end: grows only with a leak of Lua objects
      at_done, results = true, nil -- luacheck: ignore 311 (drops the last batch's results before the GC)
      collectgarbage("collect")
      lua_kb_at_mark = collectgarbage("count")
    end
    -- and every tenth of the run after the mark, to show a trend
    local tenth = at_done and not mark and done % math.max(size, math.floor(n / 10 / size) * size) == 0
    if #points == 0 or mark or tenth or done >= n then
      points[#points + 1] = { calls = done, rss_kb = bu.status_kb("VmRSS"), hwm_kb = bu.status_kb("VmHWM"),
        lua_kb = collectgarbage("count") }
    end
  end
  local total = now() - start
  -- growth from the BENCH_MEM_AT mark (the first batch warms the allocator)
  local first, last = points[math.min(2, #points)], points[#points]
  collectgarbage("collect")
  report = bu.summarize(contender, "memory_batch", {}, total, {
    n = done, batch_size = size, calls_per_s = done / total, points = points,
    rss_growth_kb = last.rss_kb - first.rss_kb, lua_kb_after_full_gc = collectgarbage("count"),
    lua_kb_full_gc_at_mark = lua_kb_at_mark,
  })
elseif workload == "memory" then
  -- RSS after `at` calls and after n calls, in one process.  No per-call
  -- array here: it would itself grow the heap.
  local at = env_num("BENCH_MEM_AT", 1000)
  local id = ids[1]
  local points = {}
  local function sample(i)
    local lua_kb_live = collectgarbage("count")
    points[#points + 1] = {
      calls = i, rss_kb = bu.status_kb("VmRSS"), hwm_kb = bu.status_kb("VmHWM"),
      lua_kb = lua_kb_live,
    }
  end
  local start = now()
  local marks = { [at] = true, [math.floor(n / 2)] = true, [n] = true } -- and half-way: see bench/report.lua
  for i = 1, n do
    one_get(id)
    if marks[i] then sample(i) end
  end
  local total = now() - start
  local first, last = points[1], points[#points]
  collectgarbage("collect")
  report = bu.summarize(contender, "memory", {}, total, {
    n = n, calls_per_s = n / total, points = points,
    rss_growth_kb = last.rss_kb - first.rss_kb,
    lua_kb_after_full_gc = collectgarbage("count"),
  })
else
  bu.die("konnect_bench: unknown workload " .. workload)
end

client:close()
bu.emit(report)
