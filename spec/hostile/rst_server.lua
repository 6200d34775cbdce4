-- spec/hostile/rst_server.lua: the one misbehaviour nginx cannot produce: a TCP
-- reset.  Accepts, reads the request head, and closes with SO_LINGER 0, so the
-- kernel answers with a RST instead of a response.  Started by spec/hostile/run.sh:
--   lua5.4 spec/hostile/rst_server.lua PORTFILE     (writes its port to PORTFILE)
local socket = require "socket"

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local f = assert(io.open(arg[1], "w"))
f:write(port, "\n")
f:close()
server:settimeout(600) -- run.sh stops it; this bounds a forgotten one
while true do
  local c = server:accept()
  if not c then break end
  c:settimeout(5)
  repeat
    local line = c:receive("*l")
  until not line or line == ""
  c:setoption("linger", { on = true, timeout = 0 })
  c:close()
end
