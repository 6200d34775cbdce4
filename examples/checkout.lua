-- examples/checkout.lua: run from a checkout (lua5.4 examples/tour.lua), the
-- examples use the checkout's lua/ and build/<version>/, as bin/konnect-pats
-- does.  Each example loads this file with pcall(dofile, …): copied elsewhere,
-- or installed with LuaRocks, it is simply absent and the installed tree is used.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local root = dir .. "/.."
local f = io.open(root .. "/lua/konnect/pats.lua", "r")
if f then
  f:close()
  local ver = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/" .. ver .. "/?.so;" .. package.cpath
end
