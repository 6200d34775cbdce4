-- bench/report.lua RESULTS.jsonl OUTDIR DATADIR [META.json]
-- Reads the harnesses' JSON lines (one per contender per round), prints the
-- tables and the targets, writes OUTDIR/results.{json,txt} and the gnuplot
-- data files DATADIR/chart.dat and DATADIR/scaling.dat.
--
-- Every cell is the median over the paired rounds with the spread (min–max
-- over the rounds) in brackets; a ratio is taken within each round (the two
-- contenders ran back to back) and then the median of those ratios.

local cjson = require "cjson"

local src, outdir, datadir, meta_file = arg[1], arg[2], arg[3], arg[4]
if not (src and outdir and datadir) then
  io.stderr:write("usage: lua5.4 bench/report.lua results.jsonl outdir datadir [meta.json]\n")
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
  if ok and type(r) == "table" and r.workload and r.contender then results[#results + 1] = r end
end
local meta = meta_file and slurp(meta_file)
meta = meta and cjson.decode(meta) or {}

-- by[workload][contender] = { runs in round order }
local by = {}
for _, r in ipairs(results) do
  if r.mean_us == nil and r.total_s and r.n and r.n > 0 then r.mean_us = r.total_s / r.n * 1e6 end
  local w = by[r.workload] or {}
  by[r.workload] = w
  w[r.contender] = w[r.contender] or {}
  table.insert(w[r.contender], r)
end

local function stats(list)
  local t = {}
  for _, v in ipairs(list) do if type(v) == "number" then t[#t + 1] = v end end
  if #t == 0 then return nil end
  table.sort(t)
  local n = #t
  local med = n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
  return { median = med, min = t[1], max = t[n], n = n }
end

-- field(w, c, f) -> stats over the rounds of runs[f]
local function field(w, c, f)
  local runs = by[w] and by[w][c]
  if not runs then return nil end
  local vals = {}
  for _, r in ipairs(runs) do vals[#vals + 1] = r[f] end
  return stats(vals)
end

-- paired(w, c, wref, cref, f) -> stats over the rounds of c.f / cref.f (same round)
local function paired(w, c, wref, cref, f)
  local a, b = by[w] and by[w][c], by[wref] and by[wref][cref]
  if not (a and b) then return nil end
  local ref = {}
  for _, r in ipairs(b) do if r.round then ref[r.round] = r end end
  local vals = {}
  for _, r in ipairs(a) do
    local o = r.round and ref[r.round]
    if o and r[f] and o[f] and o[f] > 0 then vals[#vals + 1] = r[f] / o[f] end
  end
  return stats(vals)
end

local function cell(s, fmt, scale)
  if not s then return "-" end
  scale = scale or 1
  fmt = fmt or "%.1f"
  if s.n == 1 then return (fmt):format(s.median * scale) end
  return (fmt .. " [" .. fmt .. "–" .. fmt .. "]"):format(s.median * scale, s.min * scale, s.max * scale)
end

local out = {}
local function say(fmt, ...) out[#out + 1] = select("#", ...) > 0 and fmt:format(...) or fmt end

local CONTENDERS = {
  "raw libcurl", "konnect.core+cjson 5.4", "konnect.core+cjson LuaJIT",
  "konnect.pats 5.4", "konnect.pats LuaJIT", "lua-curl (LuaJIT)", "lua-http (LuaJIT)",
  "LuaSocket+cjson", "Python requests", "Node 20 fetch", "curl CLI",
}
local RANK = {}
for i, c in ipairs(CONTENDERS) do RANK[c] = i end
local function sorted_contenders(w)
  local list = {}
  for c in pairs(by[w] or {}) do list[#list + 1] = c end
  table.sort(list, function(a, b)
    local ra, rb = RANK[a] or 99, RANK[b] or 99
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return list
end

say("lua-konnect benchmarks (%s)", meta.date or os.date("!%Y-%m-%d %H:%M UTC"))
if meta.system then say("%s", meta.system) end
say("%s", meta.pinning or "pinning unknown")
say("Every cell: median over paired rounds [min–max over the rounds]; each round runs every contender of the")
say("workload once, in rotating order; ratios are taken within a round.  CPU = user+system time of the client")
say("process over the timed loop.  conns = TCP connections the server saw per run (nginx $connection).")

-- (a) (b) (c): per-call workloads
local PER_CALL = {
  { id = "get_http", title = "(a) get, HTTP/1.1 keep-alive" },
  { id = "get_https", title = "(b) get, HTTPS" },
  { id = "cycle_http", title = "(c) create+revoke+delete (one call = 3 requests), HTTP" },
}
for _, w in ipairs(PER_CALL) do
  if by[w.id] then
    say("")
    say("%s — %d rounds", w.title, meta.rounds or 0)
    say("%-26s %7s %26s %24s %22s %20s %8s %9s", "contender", "n/round", "wall µs/call", "CPU µs/call",
      "wall × raw (paired)", "CPU × raw (paired)", "conns", "peak RSS")
    say(string.rep("-", 150))
    for _, c in ipairs(sorted_contenders(w.id)) do
      local runs = by[w.id][c]
      local conns = field(w.id, c, "server_conns")
      local rss = field(w.id, c, "peak_rss_kb")
      say("%-26s %7d %26s %24s %22s %20s %8s %9s", c, runs[1].n or 0, cell(field(w.id, c, "mean_us")),
        cell(field(w.id, c, "cpu_us")),
        c == "raw libcurl" and "1" or cell(paired(w.id, c, w.id, "raw libcurl", "mean_us"), "%.2f"),
        c == "raw libcurl" and "1" or cell(paired(w.id, c, w.id, "raw libcurl", "cpu_us"), "%.2f"),
        conns and ("%.0f"):format(conns.median) or "-", rss and ("%.1f MiB"):format(rss.median / 1024) or "-")
    end
  end
end
if by.get_https then
  say("LuaSocket, lua-http and curl CLI open a connection (a TLS handshake over HTTPS) per request: fewer calls.")
end

-- (d) batches
local lat_ms = meta.latency_ms or 20
local function ideal_ms(n, conc) return math.ceil(n / conc) * lat_ms end
local BATCHES = {
  { id = "batch_http", title = "HTTP/1.1" }, { id = "batch_https", title = "HTTPS" },
  { id = "batch_https_default", title = "HTTPS, default options" },
}
if by.batch_http or by.batch_https or by.batch_https_default then
  say("")
  say("(d) one cold batch of %d gets (new client), %d ms server latency — %d rounds", meta.n_batch or 200, lat_ms,
    meta.rounds or 0)
  say("%-22s %-24s %5s %26s %22s %16s %16s %20s %20s", "contender", "transport", "conc", "wall ms", "× ideal",
    "conns", "TLS handshakes", "client CPU ms", "server CPU ms")
  say(string.rep("-", 180))
  for _, b in ipairs(BATCHES) do
    for _, c in ipairs(sorted_contenders(b.id)) do
      local r1 = by[b.id][c][1]
      local ideal = ideal_ms(r1.n, r1.concurrency)
      local x = field(b.id, c, "batch_s")
      if x then x = { median = x.median * 1000 / ideal, min = x.min * 1000 / ideal, max = x.max * 1000 / ideal,
        n = x.n } end
      say("%-22s %-24s %5d %26s %22s %16s %16s %20s %20s", c, b.title, r1.concurrency,
        cell(field(b.id, c, "batch_s"), "%.0f", 1000), cell(x, "%.2f"), cell(field(b.id, c, "server_conns"), "%.0f"),
        b.id == "batch_http" and "-" or cell(field(b.id, c, "server_tls_conns"), "%.0f"),
        cell(field(b.id, c, "cpu_s"), "%.1f", 1000), cell(field(b.id, c, "server_cpu_us"), "%.1f", 0.001))
    end
  end
  say("ideal: ceil(calls / concurrency) × %d ms: the latency alone, as if neither side spent any CPU.", lat_ms)
  say("Both sides do spend it, one core each: the client's CPU (whole batch) and the server's (its nginx")
  say("workers, /proc/PID/schedstat, over the run) are shown; raw libcurl's multi loop is the practical floor.")
end

-- (f) scaling
local scaling = {}
for w in pairs(by) do
  local sn, conc = w:match("^scale_(%d+)_c(%w+)$")
  if sn then
    sn = tonumber(sn)
    scaling[sn] = scaling[sn] or {}
    scaling[sn][conc] = by[w]["konnect.pats 5.4"] and w
  end
end
local sizes = {}
for sn in pairs(scaling) do sizes[#sizes + 1] = sn end
table.sort(sizes)
local dconc = meta.default_concurrency or 8
if #sizes > 0 then
  say("")
  say("(f) scaling: one cold batch of N gets, %d ms server latency, konnect.pats 5.4, HTTP/1.1 — %d rounds", lat_ms,
    meta.scaling_rounds or 0)
  say("%6s  %24s %8s %10s  %24s %8s %10s", "N", ("wall ms, c=%d (default)"):format(dconc), "ideal", "conns",
    "wall ms, c=64", "ideal", "conns")
  say(string.rep("-", 100))
  for _, sn in ipairs(sizes) do
    local row = {}
    for _, conc in ipairs { "default", "64" } do
      local w = scaling[sn][conc]
      local cn = conc == "default" and dconc or 64
      row[#row + 1] = w and cell(field(w, "konnect.pats 5.4", "batch_s"), "%.1f", 1000) or "-"
      row[#row + 1] = ("%d"):format(ideal_ms(sn, cn))
      row[#row + 1] = w and cell(field(w, "konnect.pats 5.4", "server_conns"), "%.0f") or "-"
    end
    say("%6d  %24s %8s %10s  %24s %8s %10s", sn, table.unpack(row))
  end
end

-- (e) memory
local function mem_rows(w, title)
  if not by[w] then return end
  say("")
  say("%s", title)
  -- growth: @mark -> @last; 2nd half: @half -> @last (a leak grows in both,
  -- a warm-up only before the half: tells one from the other)
  say("%-22s %16s %18s %18s %10s %10s %12s %10s", "", "RSS @mark", "RSS @half", "RSS @last", "growth", "2nd half",
    "Lua heap¹", "calls/s")
  say(string.rep("-", 124))
  local function at(p) return p and ("%.1f MiB@%d"):format(p.rss_kb / 1024, p.calls) or "-" end
  for _, c in ipairs(sorted_contenders(w)) do
    local r = by[w][c][1]
    local i1 = math.min(w == "memory_batch" and 2 or 1, #r.points)
    local p1, p2 = r.points[i1], r.points[#r.points]
    -- the sample nearest half-way (batched runs sample every tenth)
    local mid
    for i = i1 + 1, #r.points - 1 do
      if not mid or math.abs(r.points[i].calls - p2.calls / 2) < math.abs(mid.calls - p2.calls / 2) then
        mid = r.points[i]
      end
    end
    say("%-22s %16s %18s %18s %10s %10s %12s %10.0f", c, at(p1), at(mid), at(p2), ("%+d KiB"):format(r.rss_growth_kb),
      mid and ("%+d KiB"):format(p2.rss_kb - mid.rss_kb) or "-", r.lua_kb_full_gc_at_mark and
      ("%.0f→%.0f KiB"):format(r.lua_kb_full_gc_at_mark, r.lua_kb_after_full_gc) or
      ("%.0f KiB"):format(r.lua_kb_after_full_gc), r.calls_per_s or 0)
  end
end
mem_rows("memory", "(e) memory: get over HTTP keep-alive, one process")
mem_rows("memory_batch", "(e) memory: the same calls in batches of 1000, one process")
if by.memory or by.memory_batch then
  say("¹ after a full GC at the end of the run (batched: at the mark → at the end; grows only with a leak of Lua "
    .. "objects)")
end

-- (g) CLI, whole processes
if by.cli_get then
  say("")
  say("(g) one get as a whole process (start-up included) — %d rounds", meta.cli_rounds or 0)
  say("%-30s %24s %24s %22s %12s", "command", "wall ms", "CPU ms", "wall × curl -s", "peak RSS")
  say(string.rep("-", 118))
  for _, c in ipairs(sorted_contenders("cli_get")) do
    local rss = field("cli_get", c, "peak_rss_kb")
    say("%-30s %24s %24s %22s %12s", c, cell(field("cli_get", c, "mean_us"), "%.2f", 1e-3),
      cell(field("cli_get", c, "cpu_us"), "%.2f", 1e-3),
      c == "curl -s" and "1" or cell(paired("cli_get", c, "cli_get", "curl -s", "mean_us"), "%.2f"),
      rss and ("%.1f MiB"):format(rss.median / 1024) or "-")
  end
  say("konnect-pats get USER TOKEN --json vs curl -s with the same headers, over HTTP.  installed: `luarocks make`")
  say("into a tree (the command runs its modules from the bundle of precompiled bytecode); checkout: `lua")
  say("bin/konnect-pats` (the sources).")
end

-- (h) inside nginx (bench/nginx/run.sh)
local nginx_w, nginx_lib, nginx_floor
for w in pairs(by) do
  if w:match("^nginx") then
    for _, c in ipairs(sorted_contenders(w)) do
      if c:lower():match("floor") then nginx_floor = c
      elseif c == "library" or not nginx_lib then nginx_lib = c end
    end
    nginx_w = w
  end
end
if nginx_w then
  say("")
  say("(h) GET inside nginx (%s, bench/nginx/run.sh) — %d rounds", nginx_w, #by[nginx_w][nginx_lib or nginx_floor])
  say("%-22s %26s %24s %22s %20s", "contender", "wall µs/call", "CPU µs/call", "wall × floor (paired)",
    "CPU × floor (paired)")
  say(string.rep("-", 118))
  for _, c in ipairs(sorted_contenders(nginx_w)) do
    local ref = nginx_floor and c ~= nginx_floor
    say("%-22s %26s %24s %22s %20s", c, cell(field(nginx_w, c, "mean_us")), cell(field(nginx_w, c, "cpu_us")),
      ref and cell(paired(nginx_w, c, nginx_w, nginx_floor, "mean_us"), "%.2f") or "-",
      ref and cell(paired(nginx_w, c, nginx_w, nginx_floor, "cpu_us"), "%.2f") or "-")
  end
end

-- targets (issues 12 and 18)
local targets = {}
local function target(name, want, got, met)
  targets[#targets + 1] = { target = name, want = want, got = got or "not measured", met = met }
end
local function ratio_target(name, want, s, limit)
  local met
  if s then met = s.median <= limit end
  target(name, want, s and cell(s, "%.2f") .. "×" or nil, met)
end
-- from the rounds of raw libcurl, 5.4 and LuaJIT alone (a') when they ran
local gw = by.get_http_pair and "get_http_pair" or "get_http"
local gn = by[gw] and by[gw]["raw libcurl"] and #by[gw]["raw libcurl"] or 0
-- issue 12's wall targets against raw libcurl (which decodes nothing) are
-- informative since issue 18: the targets are against independent floors that
-- decode too (bench/floors.sh, run last)
local function info_ratio(name, s) target(name, "-", s and cell(s, "%.2f") .. "×" or nil, nil) end
info_ratio(("GET keep-alive, Lua 5.4 / raw libcurl (wall)%s"):format(gw == "get_http_pair" and ", " .. gn ..
  " pairs" or ""), paired(gw, "konnect.pats 5.4", gw, "raw libcurl", "mean_us"))
info_ratio(("GET keep-alive, LuaJIT / raw libcurl (wall)%s"):format(gw == "get_http_pair" and ", " .. gn ..
  " pairs" or ""), paired(gw, "konnect.pats LuaJIT", gw, "raw libcurl", "mean_us"))
-- an informative row of the same pairs: "5.4 / raw, LuaJIT / raw" for one contender family and field
local function pair_row(label, family, f)
  local r54 = paired(gw, family .. " 5.4", gw, "raw libcurl", f)
  local rjit = paired(gw, family .. " LuaJIT", gw, "raw libcurl", f)
  if r54 or rjit then target(label, "-", ("%s× / %s×"):format(cell(r54, "%.2f"), cell(rjit, "%.2f")), nil) end
end
-- client CPU (what the library itself costs, without the server's share of the wall time)
pair_row("  (client CPU, same pairs: 5.4 / raw, LuaJIT / raw)", "konnect.pats", "cpu_us")
-- the floor of our C core: konnect.core + cjson with minimal glue (bench/baselines/core_floor.lua)
pair_row("  (floor, wall: konnect.core+cjson / raw, 5.4 / LuaJIT)", "konnect.core+cjson", "mean_us")
do
  local runs = by.batch_http and by.batch_http["konnect.pats 5.4"]
  if runs then
    local ideal = ideal_ms(runs[1].n, runs[1].concurrency)
    local s = field("batch_http", "konnect.pats 5.4", "batch_s")
    local x = { median = s.median * 1000 / ideal, min = s.min * 1000 / ideal, max = s.max * 1000 / ideal, n = s.n }
    local conns = field("batch_http", "konnect.pats 5.4", "server_conns")
    -- the floor: raw libcurl's multi loop, same calls, same concurrency (bench/baselines/raw_curl.c batch)
    local raw = paired("batch_http", "konnect.pats 5.4", "batch_http", "raw libcurl", "batch_s")
    local rs = field("batch_http", "raw libcurl", "batch_s")
    target(("%d calls, %d ms latency, c=%d, HTTP/1.1 / ideal"):format(runs[1].n, lat_ms, runs[1].concurrency),
      ("≤ 1.10×, ≤ %d conns"):format(runs[1].concurrency),
      ("%s× (ideal %d ms), conns %s%s"):format(cell(x, "%.2f"), ideal, cell(conns, "%.0f"),
        raw and (", %s× raw libcurl multi (itself %.2f× ideal)"):format(cell(raw, "%.2f"),
          rs.median * 1000 / ideal) or ""),
      x.median <= 1.10 and conns and conns.max <= runs[1].concurrency)
  else
    target("200 calls, 20 ms latency, c=64, HTTP/1.1 / ideal", "≤ 1.10×, ≤ 64 conns")
  end
  runs = by.batch_https_default and by.batch_https_default["konnect.pats 5.4"]
  if runs then
    local conns = field("batch_https_default", "konnect.pats 5.4", "server_conns")
    local tls = field("batch_https_default", "konnect.pats 5.4", "server_tls_conns")
    target(("same over https, default options (c=%d)"):format(runs[1].concurrency), "1 connection (server speaks h2)",
      ("conns %s, TLS handshakes %s"):format(cell(conns, "%.0f"), cell(tls, "%.0f")), conns and conns.max <= 1)
  else
    target("same over https, default options", "1 connection (server speaks h2)")
  end
end
ratio_target("konnect-pats get --json / curl -s (whole process, 5.4, installed)", "≤ 1.60×",
  paired("cli_get", "konnect-pats 5.4 installed", "cli_get", "curl -s", "mean_us"), 1.60)
for _, w in ipairs { "memory", "memory_batch" } do
  for _, c in ipairs(sorted_contenders(w)) do
    local r = by[w][c][1]
    local i1 = math.min(w == "memory_batch" and 2 or 1, #r.points)
    local p1, p2 = r.points[i1], r.points[#r.points]
    local mid -- the sample nearest half-way, as in the table
    for i = i1 + 1, #r.points - 1 do
      if not mid or math.abs(r.points[i].calls - p2.calls / 2) < math.abs(mid.calls - p2.calls / 2) then
        mid = r.points[i]
      end
    end
    -- Flat: a leak keeps growing.  The samples from the mark on are split
    -- at the half-way call count; the median RSS of the later ones must not
    -- exceed the median of the earlier ones by 1 MiB (~5 bytes a call over
    -- 200k calls; a batched run's RSS swings by ±0.8 MiB between samples with
    -- a flat Lua heap: glibc keeps what 1000 live results took), and the Lua
    -- heap after a full GC must not grow by 512 KiB from the mark to the end
    -- (~2.5 bytes a call; LuaJIT's figure moves by ±300 KiB from run to run,
    -- either way: stale stack slots keep a batch's results; C leaks:
    -- valgrind, make check).
    -- Fewer than four samples: the growth from the mark must stay under 1 MiB.
    local function median(list)
      table.sort(list)
      local k = #list
      return k % 2 == 1 and list[(k + 1) / 2] or (list[k / 2] + list[k / 2 + 1]) / 2
    end
    local early, late = {}, {}
    for i = i1, #r.points do
      local p = r.points[i]
      if p.calls <= (p1.calls + p2.calls) / 2 then early[#early + 1] = p.rss_kb else late[#late + 1] = p.rss_kb end
    end
    local drift = #early >= 2 and #late >= 2 and median(late) - median(early)
    local half = mid and p2.rss_kb - mid.rss_kb
    local heap = r.lua_kb_full_gc_at_mark and r.lua_kb_after_full_gc - r.lua_kb_full_gc_at_mark
    target(("RSS %s, %s, %d→%d calls"):format(w == "memory" and "sequential" or "batched", c, p1.calls,
      p2.calls), drift and "flat (drift < 1 MiB, heap < 512 KiB)" or "flat (< 1 MiB)",
      ("%+d KiB"):format(r.rss_growth_kb) ..
      (half and (", 2nd half %+d"):format(half) or "") .. (drift and (", drift %+d"):format(drift) or "") ..
      (r.lua_kb_full_gc_at_mark and (", Lua heap %+.0f"):format(r.lua_kb_after_full_gc - r.lua_kb_full_gc_at_mark)
        or ""),
      drift and drift < 1024 and (not heap or heap < 512) or (not drift and r.rss_growth_kb < 1024))
  end
end
if not (by.memory or by.memory_batch) then target("RSS after 100k calls and 100k batched calls", "flat") end
if nginx_w and nginx_lib and nginx_floor then
  ratio_target("GET inside nginx, library / cosocket floor", "≤ 1.30×",
    paired(nginx_w, nginx_lib, nginx_w, nginx_floor, "mean_us"), 1.30)
else
  target("GET inside nginx, library / cosocket floor", "≤ 1.30×",
    "not measured (bench/nginx/run.sh absent or without results)")
end

say("")
say("targets (issues 12 and 18; the floors of issue 18 follow): median [min–max] over paired rounds")
say("  %-5s %-58s %-32s %s", "", "workload", "target", "measured")
for _, t in ipairs(targets) do
  say("  %-5s %-58s %-32s %s", t.met == nil and "-" or t.met and "MET" or "MISS", t.target, t.want, t.got)
end

local text = table.concat(out, "\n")
print(text)

-- results.json / results.txt
local f = assert(io.open(outdir .. "/results.json", "wb"))
f:write(cjson.encode({ meta = meta, results = results, targets = targets }), "\n")
f:close()
f = assert(io.open(outdir .. "/results.txt", "wb"))
f:write(text, "\n")
f:close()

-- chart data: contender, median µs per request for get HTTP, get HTTPS, cycle/3
f = assert(io.open(datadir .. "/chart.dat", "wb"))
f:write("# contender\tget_HTTP\tget_HTTPS\tcycle_per_request (median over rounds of µs per request)\n")
local function med(w, c, div)
  local s = field(w, c, "mean_us")
  return s and ("%.1f"):format(s.median / (div or 1)) or "-"
end
for _, c in ipairs(CONTENDERS) do
  local a, b, cy = med("get_http", c), med("get_https", c), med("cycle_http", c, 3)
  if a ~= "-" or b ~= "-" or cy ~= "-" then
    f:write(('"%s"\t%s\t%s\t%s\n'):format(c, a, b, cy))
  end
end
f:close()

-- scaling data: N, then for default and 64: median, min, max ms, ideal ms
f = assert(io.open(datadir .. "/scaling.dat", "wb"))
f:write(("# N\tc%d_med\tc%d_min\tc%d_max\tc%d_ideal\tc64_med\tc64_min\tc64_max\tc64_ideal\n"):format(dconc, dconc,
  dconc, dconc))
for _, sn in ipairs(sizes) do
  local row = { tostring(sn) }
  for _, conc in ipairs { "default", "64" } do
    local w = scaling[sn][conc]
    local s = w and field(w, "konnect.pats 5.4", "batch_s")
    if s then
      row[#row + 1] = ("%.2f\t%.2f\t%.2f"):format(s.median * 1000, s.min * 1000, s.max * 1000)
    else
      row[#row + 1] = "-\t-\t-"
    end
    row[#row + 1] = tostring(ideal_ms(sn, conc == "default" and dconc or 64))
  end
  f:write(table.concat(row, "\t"), "\n")
end
f:close()
