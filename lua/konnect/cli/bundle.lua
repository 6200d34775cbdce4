-- konnect.cli.bundle: the installed konnect-pats's modules, precompiled.
--
-- At install time (rock.mk, `make install`) the tree's own interpreter runs
-- scripts/bundle.lua, which compiles the modules the CLI may need into ONE chunk
-- of bytecode, konnect/cli_bundle.luac, next to konnect/core.so:
--   KONNECT-CLI-BUNDLE 1
--   <jit.version or _VERSION> lua-konnect <konnect.limits VERSION>
--   <the length of the bytecode>
--   <the bytecode: a function returning { [module name] = loader }>
-- An installed bin/konnect-pats calls preload() before it requires konnect.cli:
-- undumping that chunk costs a fraction of compiling ~150 KB of sources, which
-- is about a quarter of a whole `get --json` (HACKING.md, the CLI's cold start).
-- Never from a checkout, where an edit must never be shadowed.
--
-- The bundle is used only when its header names the running interpreter (Lua 5.1
-- and LuaJIT share lib/lua/5.1) and the VERSION of the konnect.limits that would
-- otherwise load, the length matches and the chunk is bytecode; anything else
-- (missing, foreign, stale, damaged) and nothing is preloaded: the sources load as
-- usual.  It has the trust of the sources installed next to it (whoever can write
-- one can write the other).
local _M = {}

local open, pcall, pairs, type = io.open, pcall, pairs, type
local load_string = rawget(_G, "loadstring") or load

-- package.searchpath, which Lua 5.1 lacks
local function find(name, path)
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", (name:gsub("%.", "/")))
    local f = open(file)
    if f then f:close() return file end
  end
end

local function modules()
  local core = find("konnect.core", package.cpath)
  local f = core and open(core:match("^(.*/)") .. "cli_bundle.luac", "rb")
  if not f then return nil, "no konnect/cli_bundle.luac next to konnect/core.so" end
  local magic, tag, size = f:read("*l", "*l", "*n", "*l")
  local code, more -- the whole bytecode, and nothing after it
  if size then code, more = f:read(size, 1) end
  f:close()
  local limits = find("konnect.limits", package.path)
  f = limits and open(limits, "rb")
  local version = f and f:read("*a"):match('\n_M%.VERSION = "([^"]+)"')
  if f then f:close() end
  local jit = rawget(_G, "jit")
  if magic ~= "KONNECT-CLI-BUNDLE 1" then return nil, "not a bundle" end
  if tag ~= (jit and jit.version or _VERSION) .. " lua-konnect " .. tostring(version) then
    return nil, "made for " .. tostring(tag)
  end
  if not code or #code ~= size or more then return nil, "its length is not " .. tostring(size) end
  if code:sub(1, 1) ~= "\27" then return nil, "not bytecode" end
  local list = assert(load_string(code, "=konnect-cli-bundle"))()
  for name, loader in pairs(list) do
    if type(loader) ~= "function" then return nil, "no loader for " .. tostring(name) end
  end
  return list
end

--- preload() -> true, or nil and the reason: puts the bundle's loaders into
-- package.preload when it fits (see above); never raises.
function _M.preload()
  local ok, list, why = pcall(modules)
  if not ok then return nil, tostring(list) end
  if not list then return nil, why end
  for name, loader in pairs(list) do package.preload[name] = loader end
  return true
end

return _M
