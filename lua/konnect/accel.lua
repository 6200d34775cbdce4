-- konnect.accel: the optional C help, said out loud.
--
-- The C core (konnect.core) is looked for here, once, with pcall(require).
-- Where it cannot be loaded (inside nginx with only the cosocket transport,
-- or a core built for another Lua) each function below has a Lua twin that
-- gives the same result, only slower.  Nothing else in the library looks for
-- the C core to speed itself up, so what a call does never depends on which
-- module happened to be loaded first.
--
--   accel.mode                       "c" or "lua": which one this process got
--   accel.core                       the konnect.core module, or nil
--   accel.json_clean(v, null) -> ok  JSON nulls (`null`, a lightuserdata) removed
--                                    at any depth of the table v, in place; on
--                                    Lua 5.3+ every integral float made an
--                                    integer (lua-cjson decodes every number
--                                    as a float there).  false: it could not
--                                    finish (a table more than 200 levels
--                                    below v, or the C stack would not grow);
--                                    clean_lua(v, null) then does, the walk
--                                    can be repeated
--   accel.clean_lua(v, null) -> v    the same walk in Lua
--   accel.needles(list) -> set       a set of plain strings to look for, made
--                                    once (the caller keeps it); anything but
--                                    a non-empty string in it makes every
--                                    search of the set say true
--   accel.find_any(s, set) -> bool   does s contain any string of the set?
--                                    (true when s is not a string: look closer)
--
-- spec/accel_spec.lua runs the same cases in both modes.

local type, next, find = type, next, string.find
local tointeger = math.tointeger -- nil before Lua 5.3

local ok, core = pcall(require, "konnect.core")
if not ok or type(core) ~= "table" or type(core.json_clean) ~= "function" or type(core.find_any) ~= "function"
   or type(core.needles) ~= "function" then
  core = nil
end

local _M = { mode = core and "c" or "lua", core = core }

-- The walk in Lua (what the C walk must agree with).
local function clean_lua(t, null)
  if type(t) ~= "table" then return t end
  for k, v in next, t do
    local tv = type(v)
    if tv == "table" then
      clean_lua(v, null)
    elseif tv == "number" then
      if tointeger then
        local i = tointeger(v)
        if i then t[k] = i end
      end
    elseif v == null then
      t[k] = nil -- clearing a field while traversing is allowed
    end
  end
  return t
end
_M.clean_lua = clean_lua

local function find_any_lua(s, set)
  if type(s) ~= "string" or type(set) ~= "table" or set.always then return true end
  for i = 1, #set do
    if find(s, set[i], 1, true) then return true end
  end
  return false
end
_M.find_any_lua = find_any_lua

if core then
  _M.json_clean = core.json_clean
  _M.needles = core.needles
  _M.find_any = core.find_any
else
  function _M.json_clean(t, null)
    clean_lua(t, null)
    return true
  end
  function _M.needles(list)
    if type(list) ~= "table" then return { always = true } end
    local set = {}
    for i = 1, #list do
      local s = list[i]
      if type(s) ~= "string" or s == "" then set.always = true end
      set[i] = s
    end
    return set
  end
  _M.find_any = find_any_lua
end

return _M
