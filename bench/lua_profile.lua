-- bench/lua_profile.lua SCRIPT ARGS…: run a Lua script under a sampling
-- profiler (debug.sethook "count" hook every BENCH_PROF_EVERY VM
-- instructions) and print the hottest lines and functions to stderr.
-- Used by bench/profile.sh on bench/konnect_bench.lua.

local script = assert(arg[1], "usage: lua bench/lua_profile.lua script.lua args…")
local every = tonumber(os.getenv("BENCH_PROF_EVERY")) or 100
local lines, funcs, total = {}, {}, 0
local getinfo = debug.getinfo

local function hook()
  local info = getinfo(2, "Sln")
  if not info then return end
  total = total + 1
  local where = info.short_src .. ":" .. (info.currentline or 0)
  lines[where] = (lines[where] or 0) + 1
  local fn = info.short_src .. ":" .. (info.linedefined or 0) .. " " .. (info.name or "?")
  funcs[fn] = (funcs[fn] or 0) + 1
end

local args = {}
for i = 2, #arg do args[#args + 1] = arg[i] end
arg = { [0] = script, table.unpack and table.unpack(args) or unpack(args) } -- luacheck: ignore 121 143
local chunk = assert(loadfile(script))
debug.sethook(hook, "", every)
chunk(table.unpack and table.unpack(args) or unpack(args)) -- luacheck: ignore 143
debug.sethook()

local function top(t, n, title)
  local list = {}
  for k, v in pairs(t) do list[#list + 1] = { k, v } end
  table.sort(list, function(a, b) return a[2] > b[2] end)
  io.stderr:write(("%s (%d samples, 1 per %d VM instructions)\n"):format(title, total, every))
  for i = 1, math.min(n, #list) do
    io.stderr:write(("  %5.1f%%  %s\n"):format(100 * list[i][2] / total, list[i][1]))
  end
end
top(funcs, 20, "Lua functions by VM instructions (self)")
top(lines, 25, "Lua lines by VM instructions")
