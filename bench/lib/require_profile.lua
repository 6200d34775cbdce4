-- bench/lib/require_profile.lua: a LUA_INIT hook that times every require
-- (inclusive CPU, os.clock) and prints the list, indented by nesting, to
-- stderr when the script calls os.exit (or at the end of the main chunk's
-- process via the same os.exit).  Used by bench/profile.sh on the CLI:
--   LUA_INIT_5_4=@bench/lib/require_profile.lua lua5.4 bin/konnect-pats get USER TOKEN --json
local clock = os.clock
local orig_require, exit = require, os.exit
local log, depth = {}, 0
local t_start = clock()

local function timed_require(name)
  if package.loaded[name] ~= nil then return package.loaded[name] end
  depth = depth + 1
  local t0 = clock()
  local ok, r = pcall(orig_require, name)
  log[#log + 1] = { name = name, ms = (clock() - t0) * 1000, depth = depth }
  depth = depth - 1
  if not ok then error(r, 2) end
  return r
end

local function report()
  io.stderr:write(("requires: %d; process CPU so far %.2f ms (os.clock)\n"):format(#log,
    (clock() - t_start) * 1000))
  for _, e in ipairs(log) do
    io.stderr:write(("  %-40s %7.2f ms incl\n"):format(string.rep("  ", e.depth - 1) .. e.name, e.ms))
  end
end

_G.require = timed_require -- luacheck: ignore 121
os.exit = function(...) report(); return exit(...) end -- luacheck: ignore 122
