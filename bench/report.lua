-- bench/report.lua RESULTS.jsonl OUTDIR CHART_DAT [META.json]
-- Reads the harnesses' JSON lines, prints the tables and the targets, writes
-- OUTDIR/results.json and the gnuplot data file CHART_DAT.

local cjson = require "cjson"

local src, outdir, chart_dat, meta_file = arg[1], arg[2], arg[3], arg[4]
if not (src and outdir and chart_dat) then
  io.stderr:write("usage: lua5.4 bench/report.lua results.jsonl outdir chart.dat [meta.json]\n")
  os.exit(2)
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local results = {}
for line in (slurp(src) or ""):gmatch("[^\n]+") do
  local ok, r = pcall(cjson.decode, line)
  if ok and type(r) == "table" then results[#results + 1] = r end
end
local meta = meta_file and slurp(meta_file)
meta = meta and cjson.decode(meta) or {}

local CONTENDERS = {
  "raw libcurl", "konnect.pats 5.4", "konnect.pats LuaJIT", "curl CLI", "LuaSocket+cjson",
  "Python requests", "Node 20 fetch",
}
local RANK = {}
for i, c in ipairs(CONTENDERS) do RANK[c] = i end

local WORKLOADS = {
  { id = "get_http", title = "(a) get, HTTP/1.1 keep-alive" },
  { id = "get_https", title = "(b) get, HTTPS (TLS once)" },
  { id = "cycle_http", title = "(c) create+revoke+delete, HTTP" },
}

local by = {}
for _, r in ipairs(results) do
  by[r.workload] = by[r.workload] or {}
  by[r.workload][r.contender] = r
  if r.total_s and r.total_s > 0 and r.n and r.n > 0 and not r.calls_per_s then
    r.calls_per_s = r.n / r.total_s
  end
end

local function sorted_contenders(w)
  local list = {}
  for c in pairs(by[w] or {}) do list[#list + 1] = c end
  table.sort(list, function(a, b) return (RANK[a] or 99) < (RANK[b] or 99) or
    ((RANK[a] or 99) == (RANK[b] or 99) and a < b) end)
  return list
end

local function ratio(w, c)
  local raw = by[w] and by[w]["raw libcurl"]
  local r = by[w] and by[w][c]
  if not (raw and r and raw.median_us and raw.median_us > 0) then return nil end
  return r.median_us / raw.median_us
end

local function mib(kb) return kb and string.format("%.1f", kb / 1024) or "-" end

local out = {}
local function say(fmt, ...) out[#out + 1] = select("#", ...) > 0 and fmt:format(...) or fmt end

say("lua-konnect benchmarks (%s)", meta.date or os.date("!%Y-%m-%d %H:%M UTC"))
if meta.system then say("%s", meta.system) end
say("")
say("%-32s %-20s %7s %10s %10s %10s %8s %9s", "workload", "contender", "n", "median µs", "p90 µs",
  "calls/s", "× raw", "peak RSS")
say(string.rep("-", 112))
for _, w in ipairs(WORKLOADS) do
  local first = true
  for _, c in ipairs(sorted_contenders(w.id)) do
    local r = by[w.id][c]
    local x = ratio(w.id, c)
    say("%-32s %-20s %7d %10.1f %10.1f %10.0f %8s %9s", first and w.title or "", c, r.n, r.median_us, r.p90_us,
      r.calls_per_s or 0, x and string.format("%.2f×", x) or "-", mib(r.peak_rss_kb) .. " MiB")
    first = false
  end
end
say("(c): one call = one create→revoke→delete cycle, 3 requests.  curl CLI: fewer iterations, per call.")

-- (d) latency: sequential vs batch
local lat = by.revoke_seq or {}
local batch_rows = {}
for _, w in ipairs { "revoke_batch_http", "revoke_batch_https" } do
  for _, c in ipairs(sorted_contenders(w)) do batch_rows[#batch_rows + 1] = by[w][c] end
end
local lat_ms = meta.latency_ms or 20
local nrev, conc = meta.n_revoke or 200, meta.concurrency or 16
local ideal_ms = nrev * lat_ms / conc
if next(lat) or #batch_rows > 0 then
  say("")
  say("(d) %d revokes, %d ms latency per request at the server", nrev, lat_ms)
  say("%-44s %10s %12s", "", "total ms", "ms per call")
  say(string.rep("-", 68))
  for _, c in ipairs(sorted_contenders("revoke_seq")) do
    local r = lat[c]
    say("%-44s %10.0f %12.2f", c .. " sequential", r.total_s * 1000, r.total_s * 1000 / r.n)
  end
  for _, r in ipairs(batch_rows) do
    local proto = r.workload:match("https$") and "HTTPS/2" or "HTTP/1.1"
    say("%-44s %10.0f %12.2f   (min %.0f, max %.0f of %d)", ("%s batch c=%d %s"):format(r.contender,
      r.concurrency or conc, proto), r.batch_s * 1000, r.batch_s * 1000 / r.n, r.batch_min_s * 1000,
      r.batch_max_s * 1000, r.reps or 1)
  end
  say("ideal batch: %d × %d ms / %d = %.0f ms (at least %d rounds of %d ms = %d ms)", nrev, lat_ms, conc,
    ideal_ms, math.ceil(nrev / conc), lat_ms, math.ceil(nrev / conc) * lat_ms)
end

-- (e) memory
local mem = by.memory or {}
if next(mem) then
  say("")
  say("(e) memory: get over HTTP keep-alive, one process")
  say("%-22s %12s %14s %10s %12s %10s", "", "RSS @first", "RSS @last", "growth", "Lua heap", "calls/s")
  say(string.rep("-", 86))
  for _, c in ipairs(sorted_contenders("memory")) do
    local r = mem[c]
    local p1, p2 = r.points[1], r.points[#r.points]
    say("%-22s %12s %14s %10s %12s %10.0f", c, ("%.1f MiB@%d"):format(p1.rss_kb / 1024, p1.calls),
      ("%.1f MiB@%d"):format(p2.rss_kb / 1024, p2.calls), ("%+d KiB"):format(r.rss_growth_kb),
      ("%.0f KiB"):format(r.lua_kb_after_full_gc), r.calls_per_s)
  end
end

-- targets
local targets = {}
local function target(name, ok, detail)
  targets[#targets + 1] = { target = name, met = ok, detail = detail }
end
local k54 = "konnect.pats 5.4"
local x = ratio("get_http", k54)
if x then target("(a) konnect 5.4 ≤ 1.25× raw libcurl per call (HTTP)", x <= 1.25, ("%.2f×"):format(x)) end
for _, c in ipairs { "curl CLI", "LuaSocket+cjson", "Python requests" } do
  local k, o = by.get_http and by.get_http[k54], by.get_http and by.get_http[c]
  if k and o then
    local f = o.median_us / k.median_us
    target("(a) konnect 5.4 ≥ 3× faster than " .. c, f >= 3, ("%.1f× faster"):format(f))
  end
end
x = ratio("get_https", k54)
if x then target("(b) konnect 5.4 ≤ 1.3× raw libcurl per call (HTTPS)", x <= 1.3, ("%.2f×"):format(x)) end
for _, r in ipairs(batch_rows) do
  if r.contender == k54 then
    local ms = r.batch_s * 1000
    target(("(d) batch of %d, c=%d, %s ≤ 1.5 × %.0f ms"):format(r.n, r.concurrency or conc,
      r.workload:match("https$") and "HTTPS/2" or "HTTP/1.1", ideal_ms), ms <= 1.5 * ideal_ms,
      ("%.0f ms = %.2f× ideal"):format(ms, ms / ideal_ms))
  end
end
if lat[k54] then
  local ms, want = lat[k54].total_s * 1000, nrev * lat_ms
  target(("(d) sequential ≈ %d × %d ms = %d ms"):format(nrev, lat_ms, want), ms < want * 1.25,
    ("%.0f ms"):format(ms))
end
for _, c in ipairs(sorted_contenders("memory")) do
  local r = mem[c]
  local p1, p2 = r.points[1], r.points[#r.points]
  target(("(e) %s RSS growth %d→%d calls < 1 MiB"):format(c, p1.calls, p2.calls), r.rss_growth_kb < 1024,
    ("%+d KiB"):format(r.rss_growth_kb))
end
if #targets > 0 then
  say("")
  say("targets")
  for _, t in ipairs(targets) do say("  %-4s %-58s %s", t.met and "MET" or "MISS", t.target, t.detail) end
end

local text = table.concat(out, "\n")
print(text)

-- results.json
local f = assert(io.open(outdir .. "/results.json", "wb"))
f:write(cjson.encode({ meta = meta, results = results, targets = targets }), "\n")
f:close()
f = assert(io.open(outdir .. "/results.txt", "wb"))
f:write(text, "\n")
f:close()

-- chart data: contender, median µs per request for get HTTP, get HTTPS, cycle/3
f = assert(io.open(chart_dat, "wb"))
f:write("# contender\tget_HTTP\tget_HTTPS\tcycle_per_request (median µs per request)\n")
for _, c in ipairs(CONTENDERS) do
  local a = by.get_http and by.get_http[c]
  local b = by.get_https and by.get_https[c]
  local cy = by.cycle_http and by.cycle_http[c]
  if a or b or cy then
    f:write(('"%s"\t%s\t%s\t%s\n'):format(c, a and ("%.1f"):format(a.median_us) or "-",
      b and ("%.1f"):format(b.median_us) or "-", cy and ("%.1f"):format(cy.median_us / 3) or "-"))
  end
end
f:close()
