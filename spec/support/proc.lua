-- The small process, file and leak-check helpers the specs and their support modules
-- share (spec/support/{cli,coreserver,hostile}.lua, spec/nginx/*_nginx.lua).
local M = {}

--- read_cmd(cmd) -> the command's stdout, trailing white space removed
function M.read_cmd(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return (out:gsub("%s+$", ""))
end

--- read_file(path) -> the file's bytes, or nil when it cannot be opened
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- assert_clean(v, needle, what): no string reachable from v (keys too)
-- contains `needle`; a failure names the field, never the secret itself.
function M.assert_clean(v, needle, what, seen)
  seen = seen or {}
  if type(v) == "table" then
    if seen[v] then return end
    seen[v] = true
    for k, x in pairs(v) do
      M.assert_clean(k, needle, what, seen)
      M.assert_clean(x, needle, what .. "." .. tostring(k), seen)
    end
  elseif type(v) == "string" and v:find(needle, 1, true) then
    error(what .. " leaked the secret", 2)
  end
end

return M
