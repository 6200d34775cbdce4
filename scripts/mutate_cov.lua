-- scripts/mutate_cov.lua: the coverage hook of `make mutate`'s coverage pass
-- (scripts/mutate.sh), loaded into every Lua 5.4 process of a suite through
-- LUA_INIT_5_4="@scripts/mutate_cov.lua" (busted, the CLI it starts, the
-- hostile suite's client side).  Other interpreters never read LUA_INIT_5_4.
--
-- Records which functions of the files under $MUTATE_COV_ROOT/lua/ are called,
-- "path<TAB>linedefined<TAB>lastlinedefined" once per function per process
-- (linedefined 0: the file's main chunk, i.e. it was loaded), into a file of
-- its own under $MUTATE_COV_OUT, written as they are first seen (a process that
-- never exits cleanly still leaves what it ran).  A call hook, not a line
-- hook: a line hook made Lua-heavy specs 30 to 100 times slower.
local out, root = os.getenv("MUTATE_COV_OUT"), os.getenv("MUTATE_COV_ROOT")
if not out or not root then return end

local getinfo, sethook, sub, open = debug.getinfo, debug.sethook, string.sub, io.open
-- a chunk's name is its path as found: absolute (LUA_PATH), or relative to the
-- tree (busted puts ./?.lua-style paths first; the suites run from the tree's root)
local prefixes = { "@" .. root .. "/lua/", "@lua/", "@./lua/" }
local function ours(src)
  for i = 1, #prefixes do
    local p = prefixes[i]
    if sub(src, 1, #p) == p then return #p end
  end
  return false
end
local f
local seen = {} -- source -> { [linedefined] = true, plen = n } | false (not ours)

local function hook()
  local info = getinfo(2, "S")
  local src = info.source
  local fns = seen[src]
  if fns == nil then
    local plen = ours(src)
    fns = plen and { plen = plen } or false
    seen[src] = fns
  end
  if fns then
    local at = info.linedefined
    if not fns[at] then
      fns[at] = true
      if not f then
        f = open(out .. "/" .. tostring({}):match("0x(%x+)") .. "-" .. tostring(os.time()) .. "-"
          .. tostring(os.clock()):gsub("%.", "") .. ".cov", "a")
        if not f then return sethook() end
        f:setvbuf("line")
      end
      f:write("lua/", sub(src, fns.plen + 1), "\t", at, "\t", info.lastlinedefined, "\n")
    end
  end
end

sethook(hook, "c")
-- a hook belongs to one coroutine: every coroutine made from now on gets it too
local cocreate, resume, pack, unpack = coroutine.create, coroutine.resume, table.pack, table.unpack
coroutine.create = function(fn) -- luacheck: ignore 122
  local co = cocreate(fn)
  sethook(co, hook, "c")
  return co
end
coroutine.wrap = function(fn) -- luacheck: ignore 122
  local co = coroutine.create(fn)
  return function(...)
    local r = pack(resume(co, ...))
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end
end
