-- bench/library_get.lua: konnect.pats's `get`, for bench/floors.sh, through the
-- public API only: pats.new{ token, server_url } with the defaults a user has
-- (the transport chosen by the library: the curl one outside nginx), then
-- client:get(user, id) in a loop, each value checked.
--
--   lua5.4|luajit bench/library_get.lua BASE USER ID TOKEN WARMUP N  ->  "n=N wall_s=… cpu_s=…"
-- (benchclock, bench/lib/benchclock.c, on LUA_CPATH: the same clock for every Lua loop)

local pats = require "konnect.pats"
local clock = require "benchclock"

local base, user, id, token, warmup, n = arg[1], arg[2], arg[3], arg[4], tonumber(arg[5]), tonumber(arg[6])
local client = assert(pats.new { token = token, server_url = base })

local function get(i)
  local tok, err = client:get(user, id)
  if not tok or tok.id ~= id then error(("library_get: call %d: %s"):format(i, tostring(err))) end
end

for i = 1, warmup do get(i) end
local t0, c0 = clock.monotime(), clock.cpu()
for i = 1, n do get(i) end
print(("n=%d wall_s=%.6f cpu_s=%.6f"):format(n, clock.monotime() - t0, clock.cpu() - c0))
client:close()
