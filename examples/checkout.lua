-- examples/checkout.lua: how the examples find the library.  Each example
-- loads this file with pcall(dofile, …) before its first require.
--   * In a checkout with a `make` build for the interpreter running it
--     (build/<v>/konnect/core.so: build/5.4, build/5.1, build/jit …), the
--     checkout's lua/ and build/<v>/ come first, as bin/konnect-pats does.
--   * Anywhere else (no build for this interpreter, or the example copied
--     away, or this file absent) nothing is changed: `require` finds an
--     installed lua-konnect, LuaRocks' system tree or a tree of your own put
--     on LUA_PATH/LUA_CPATH by eval "$(luarocks --lua-version=5.4 path --tree DIR)".
--     The checkout's lua/ is not mixed with another install's C core.
-- A C core found nowhere makes the first call fail with kind "system" and a
-- message that says how to build or install it.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local root = dir .. "/.."
local ver = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
local f = io.open(root .. "/build/" .. ver .. "/konnect/core.so", "rb")
local g = f and io.open(root .. "/lua/konnect/pats.lua", "rb")
if f then f:close() end
if g then
  g:close()
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/" .. ver .. "/?.so;" .. package.cpath
end
