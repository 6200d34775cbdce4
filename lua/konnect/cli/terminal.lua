-- konnect.cli.terminal: whether this process's stdin or stdout is a
-- terminal, and the answer to a question asked there.  Loaded only by what
-- may ask (delete, prune) or refuse a terminal (-o env), never by a `get`.

local type, pcall, tostring, error = type, pcall, tostring, error

local _M = {}

--- is_terminal(fd) -> boolean: whether file descriptor fd of this process
--- (0: stdin, 1: stdout) is a terminal.  Lua has no isatty(3): `test -t FD`
--- (POSIX test: "True if file descriptor FD is open and is associated with
--- a terminal") runs in the /bin/sh of os.execute, which inherits the
--- process's descriptors.  A shell that cannot start answers false.
function _M.is_terminal(fd)
  local a, _, code = os.execute("test -t " .. fd)
  if type(a) == "number" then return a == 0 end -- Lua 5.1 and LuaJIT: the wait status
  return a == true and code == 0
end

--- yes(answer) -> boolean: y or yes, in any case, spaces around allowed
function _M.yes(answer)
  if type(answer) ~= "string" then return false end
  local a = answer:lower():match("^%s*(.-)%s*$")
  return a == "y" or a == "yes"
end

--- read_line(stdin) -> the line without its end, or nil (end of input, or
--- a read that failed).  Ctrl-C while it waits (the interpreter's
--- "interrupted!" error) goes on up to konnect.cli.main.
function _M.read_line(stdin)
  local ok, line = pcall(stdin.read, stdin, "*l")
  if ok and type(line) == "string" then return line end
  if not ok and tostring(line):find("interrupted!$") then error(line, 0) end
  return nil
end

return _M
