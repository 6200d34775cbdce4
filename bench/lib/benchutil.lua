-- benchutil: what the Lua harnesses share: the monotonic clock, /proc
-- readers, summary statistics and the one-line JSON report.

local clock = require "benchclock"
local cjson = require "cjson"

local _M = { now = clock.monotime, cpu = clock.cpu }

--- env(name, default) -> string; env_num(name, default) -> number
function _M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

function _M.env_num(name, default)
  local v = tonumber(_M.env(name, ""))
  return v or default
end

--- status_kb("VmRSS" | "VmHWM") -> kB
function _M.status_kb(key)
  return clock.status_kb(key)
end

--- timed(fn, n, warmup) -> per-call times (s), total wall (s), client CPU (s):
-- n timed calls of fn after `warmup` untimed ones; CPU = user + system time of
-- this process over the timed loop (getrusage)
function _M.timed(fn, n, warmup)
  local now, cpu = _M.now, _M.cpu
  for _ = 1, warmup do fn() end
  local times = {}
  local c0 = cpu()
  local start = now()
  for i = 1, n do
    local t0 = now()
    fn()
    times[i] = now() - t0
  end
  local total = now() - start
  return times, total, cpu() - c0
end

--- decoded(status, text) -> status, the body decoded as JSON (nil for an empty body)
function _M.decoded(status, text)
  if text == "" then return status, nil end
  return status, cjson.decode(text)
end

--- rest(cfg, who, contender, request, extra): the get and cycle workloads of a
-- harness that brings only request(method, path, body) -> status, decoded JSON
-- (or nil): timed, summarized (with `extra`) and emitted; `who` names it in errors
function _M.rest(cfg, who, contender, request, extra)
  local path_tokens = "/v3/users/" .. cfg.user .. "/access-tokens"
  local id = cfg.ids[1]
  local function one_get()
    local status, v = request("GET", path_tokens .. "/" .. id)
    if status ~= 200 or type(v) ~= "table" or v.id ~= id then _M.die(who .. ": bad get " .. status) end
  end
  local create_body = cjson.encode({ name = "bench-cycle", ttl_seconds = 86400 })
  local function one_cycle()
    local status, v = request("POST", path_tokens, create_body)
    if status ~= 201 or type(v) ~= "table" then _M.die(who .. ": bad create " .. status) end
    local status2, r = request("PATCH", path_tokens .. "/" .. v.id .. "/revoke")
    if status2 ~= 200 or r.state ~= "REVOKED" then _M.die(who .. ": bad revoke " .. status2) end
    local status3 = request("DELETE", path_tokens .. "/" .. v.id)
    if status3 ~= 204 then _M.die(who .. ": bad delete " .. status3) end
  end
  local fn = cfg.workload == "get" and one_get or cfg.workload == "cycle" and one_cycle
    or _M.die(who .. ": unknown workload " .. cfg.workload)
  local times, total, cpu = _M.timed(fn, cfg.n, cfg.warmup)
  local r = { cpu_s = cpu, requests_per_call = cfg.workload == "cycle" and 3 or 1 }
  for k, v in pairs(extra or {}) do r[k] = v end
  _M.emit(_M.summarize(contender, cfg.label, times, total, r))
end

--- config(workload) -> the settings bench/run.sh passes every harness
function _M.config(workload)
  local env, env_num = _M.env, _M.env_num
  return {
    workload = workload,
    base = env("BENCH_BASE") or _M.die("BENCH_BASE is not set"),
    user = env("BENCH_USER") or _M.die("BENCH_USER is not set"),
    token = env("BENCH_TOKEN") or _M.die("BENCH_TOKEN is not set"),
    ids = _M.split(env("BENCH_IDS")),
    n = env_num("BENCH_N", 1000),
    warmup = env_num("BENCH_WARMUP", 50),
    ca = env("BENCH_CA"),
    label = env("BENCH_LABEL", workload),
  }
end

function _M.split(s)
  local out = {}
  for part in (s or ""):gmatch("[^,]+") do out[#out + 1] = part end
  return out
end

local function pick(sorted, q)
  local n = #sorted
  if n == 0 then return 0 end
  return sorted[math.floor(q * (n - 1)) + 1]
end

--- summarize(times, total, extra) -> the report table (times in seconds)
function _M.summarize(contender, workload, times, total, extra)
  table.sort(times)
  local n = #times
  local median = 0
  if n > 0 then
    median = n % 2 == 1 and times[(n + 1) / 2] or (times[n / 2] + times[n / 2 + 1]) / 2
  end
  local r = {
    contender = contender, workload = workload, n = n, total_s = total,
    median_us = median * 1e6, p90_us = pick(times, 0.90) * 1e6, p99_us = pick(times, 0.99) * 1e6,
    peak_rss_kb = clock.status_kb("VmHWM")
  }
  for k, v in pairs(extra or {}) do r[k] = v end
  -- per-round figures the report pairs: mean wall and client CPU per call
  if n > 0 and total > 0 then r.mean_us = total / n * 1e6 end
  if n > 0 and r.cpu_s then r.cpu_us = r.cpu_s / n * 1e6 end
  return r
end

--- emit(report): one JSON line on stdout
function _M.emit(r)
  io.stdout:write(cjson.encode(r), "\n")
  io.stdout:flush()
end

function _M.die(msg)
  io.stderr:write(msg, "\n")
  os.exit(1)
end

return _M
