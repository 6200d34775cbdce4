-- The small process and file helpers the specs and their support modules
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

return M
