-- bench/lib/floors_report.lua: the summary of bench/floors.sh.
--
--   lua5.4 bench/lib/floors_report.lua RUN OUT CONDITIONS N_CG WARMUP ROUNDS N
--
-- Reads RUN/cg.txt ("contender Ir_warmup_only Ir_warmup_plus_N N"),
-- RUN/objects.txt ("contender object Ir_per_get"), RUN/wall.txt ("round
-- contender n=… wall_s=… cpu_s=…"), RUN/nginx.json and RUN/nginx-callgrind.json
-- (bench/nginx/run.sh);
-- prints the table and the three targets, and writes OUT/floors.txt and
-- OUT/floors.json.  A missing part prints as "-" and its target as "not measured".

local cjson = require "cjson"

local run, out, conditions, n_cg, warmup, rounds, n = arg[1], arg[2], arg[3], arg[4], arg[5], arg[6], arg[7]

local NAMES = {
  c54 = "libcurl + lua-cjson, C (Lua 5.4)",
  k54 = "konnect.pats, Lua 5.4 (curl)",
  lcjit = "lua-curl + lua-cjson (LuaJIT)",
  kjit = "konnect.pats, LuaJIT (curl)",
}
local ORDER = { "c54", "k54", "lcjit", "kjit" }
local TARGETS = {
  { id = "lua54", label = "Lua 5.4: konnect.pats / libcurl+lua-cjson (C)", lib = "k54", floor = "c54", max = 1.45 },
  { id = "luajit", label = "LuaJIT:  konnect.pats / lua-curl+lua-cjson", lib = "kjit", floor = "lcjit", max = 1.30 },
}
local NGINX_TARGET = 1.30

local function lines(path)
  local f = io.open(path)
  if not f then return function() return nil end end
  local all = f:read("a")
  f:close()
  return all:gmatch("[^\n]+")
end

local function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

local function median(t)
  local c = sorted(t)
  local k = #c
  if k == 0 then return nil end
  return k % 2 == 1 and c[(k + 1) / 2] or (c[k / 2] + c[k / 2 + 1]) / 2
end

local function stat(t) -- {median, min, max} or nil
  if not t or #t == 0 then return nil end
  local c = sorted(t)
  return { median = median(c), min = c[1], max = c[#c] }
end

-- instructions per get
local ir = {}
for l in lines(run .. "/cg.txt") do
  local c, a, b, k = l:match("^(%S+) (%d+) (%d+) (%d+)$")
  if c then ir[c] = (tonumber(b) - tonumber(a)) / tonumber(k) end
end
local objects = {}
for l in lines(run .. "/objects.txt") do
  local c, obj, v = l:match("^(%S+) (%S+) (%-?%d+)$")
  if c then
    objects[c] = objects[c] or {}
    table.insert(objects[c], { obj = obj, ir = tonumber(v) })
  end
end

-- wall and CPU per get, per round
local wall, cpu, by_round = {}, {}, {}
for l in lines(run .. "/wall.txt") do
  local r, c, k, w, u = l:match("^(%d+) (%S+) n=(%d+) wall_s=([%d.]+) cpu_s=([%d.]+)")
  if r then
    r, k = tonumber(r), tonumber(k)
    local w_us, c_us = tonumber(w) / k * 1e6, tonumber(u) / k * 1e6
    wall[c], cpu[c] = wall[c] or {}, cpu[c] or {}
    table.insert(wall[c], w_us)
    table.insert(cpu[c], c_us)
    by_round[r] = by_round[r] or {}
    by_round[r][c] = { wall = w_us, cpu = c_us }
  end
end
local function round_ratios(lib, floor, field)
  local t = {}
  for _, rr in pairs(by_round) do
    if rr[lib] and rr[floor] then t[#t + 1] = rr[lib][field] / rr[floor][field] end
  end
  return stat(t)
end

local function json_file(path)
  local f = io.open(path)
  if not f then return nil end
  local v = cjson.decode(f:read("a"))
  f:close()
  return v
end
local nginx = json_file(run .. "/nginx.json")
local nginx_ir = (json_file(run .. "/nginx-callgrind.json") or {}).ir_per_get or {}

-- ---- printing ----------------------------------------------------------------
local buf = {}
local function p(fmt, ...) buf[#buf + 1] = fmt:format(...) end
local function k(v) return v and ("%.1fk"):format(v / 1000) or "-" end
local function s3(st, fmt)
  if not st then return "-" end
  return (fmt .. " [" .. fmt .. "-" .. fmt .. "]"):format(st.median, st.min, st.max)
end
local function verdict(ratio, max)
  if not ratio then return "not measured" end
  return ratio <= max and "met" or "NOT MET"
end

p("Floors (issue 18): one PAT get against a static upstream (nginx `return 200` with the fake Konnect's reply)")
p("%s", conditions)
p("Ir/get: callgrind, (Ir of %s + %s gets - Ir of %s gets) / %s; wall, CPU: median of %s paired rounds"
  .. " of %s gets [min-max]", warmup, n_cg, warmup, n_cg, rounds, n)
p("")
p("  %-36s %9s   %-24s %-24s", "", "Ir/get", "wall µs/get", "CPU µs/get (user+sys)")
local result = { contenders = {}, targets = {}, conditions = conditions,
                 method = { n_callgrind = tonumber(n_cg), warmup = tonumber(warmup), rounds = tonumber(rounds),
                            n = tonumber(n) } }
for _, c in ipairs(ORDER) do
  if ir[c] or wall[c] then
    local w, u = stat(wall[c]), stat(cpu[c])
    p("  %-36s %9s   %-24s %-24s", NAMES[c], k(ir[c]), s3(w, "%.1f"), s3(u, "%.1f"))
    result.contenders[c] = { name = NAMES[c], ir_per_get = ir[c], wall_us = w, cpu_us = u, objects = objects[c] }
  end
end
if next(objects) then
  p("  self Ir per get by object:")
  for _, c in ipairs(ORDER) do
    local o = objects[c]
    if o then
      table.sort(o, function(a, b) return a.ir > b.ir end)
      local parts = {}
      for i = 1, math.min(#o, 5) do parts[i] = ("%s %s"):format(o[i].obj, k(o[i].ir)) end
      p("    %-34s %s", NAMES[c], table.concat(parts, ", "))
    end
  end
end
if nginx or next(nginx_ir) then
  p("")
  p("  inside nginx (cosocket): Ir/get of the worker, each loop counted alone; wall and the worker's CPU")
  p("  (/proc/thread-self/schedstat) per get: %s paired rounds of %s gets",
    nginx and ("%d"):format(nginx.rounds) or "-", nginx and ("%d"):format(nginx.n) or "-")
  for _, c in ipairs { "floor", "library" } do
    local us, cpu_us = nginx and nginx.us[c], nginx and nginx.cpu_us[c]
    p("  %-36s %9s   %-24s %-24s", c == "floor" and "hand-written cosocket floor" or "konnect.pats (cosocket)",
      k(nginx_ir[c]), s3(stat(us), "%.1f"), s3(stat(cpu_us), "%.1f"))
  end
end

p("")
p("Targets (issue 18)")
for _, t in ipairs(TARGETS) do
  local ratio = ir[t.lib] and ir[t.floor] and ir[t.lib] / ir[t.floor]
  local w, u = round_ratios(t.lib, t.floor, "wall"), round_ratios(t.lib, t.floor, "cpu")
  p("  %-46s %s Ir (target <= %.2fx: %s); wall %s, CPU %s", t.label, ratio and ("%.2fx"):format(ratio) or "-",
    t.max, verdict(ratio, t.max), s3(w, "%.2fx"), s3(u, "%.2fx"))
  result.targets[t.id] = { ratio_ir = ratio, target = t.max, met = ratio and ratio <= t.max or nil,
                           wall_ratio = w, cpu_ratio = u }
end
do
  local cpu_r, wall_r
  if nginx and nginx.us.library and nginx.us.floor then
    local a, b = {}, {}
    for i, v in ipairs(nginx.cpu_us.library) do a[i] = v / nginx.cpu_us.floor[i] end
    for i, v in ipairs(nginx.us.library) do b[i] = v / nginx.us.floor[i] end
    cpu_r, wall_r = stat(a), stat(b)
  end
  local ratio = cpu_r and cpu_r.median
  local ir_r = nginx_ir.library and nginx_ir.floor and nginx_ir.library / nginx_ir.floor
  p("  %-46s %s CPU (target <= %.2fx: %s); Ir %s, wall %s", "nginx:   konnect.pats / cosocket floor",
    s3(cpu_r, "%.2fx"), NGINX_TARGET, verdict(ratio, NGINX_TARGET), ir_r and ("%.2fx"):format(ir_r) or "-",
    s3(wall_r, "%.2fx"))
  result.targets.nginx = { ratio_cpu = cpu_r, target = NGINX_TARGET, met = ratio and ratio <= NGINX_TARGET or nil,
                           wall_ratio = wall_r, ratio_ir = ir_r }
end
result.nginx = nginx
result.nginx_ir_per_get = nginx_ir

local text = table.concat(buf, "\n") .. "\n"
io.stdout:write(text)
local f = assert(io.open(out .. "/floors.txt", "w"))
f:write(text)
f:close()
f = assert(io.open(out .. "/floors.json", "w"))
f:write(cjson.encode(result), "\n")
f:close()
