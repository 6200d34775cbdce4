-- spec/support/connect_proxy.lua PORTFILE LOGFILE: a small HTTP CONNECT proxy for the
-- specs (LuaSocket, one connection at a time).  RFC 9110 9.3.6: the client sends
-- "CONNECT host:port HTTP/1.1" and its header fields; a 2xx answer turns the
-- connection into a tunnel, and the proxy relays bytes both ways until either side
-- closes.  Only loopback targets (localhost, 127.0.0.1); anything else gets 403.
-- Writes its port to PORTFILE once it listens, appends each request head to
-- LOGFILE, and exits after 20 s without a new connection.
local socket = require "socket"

local portfile, logfile = assert(arg[1], "usage: connect_proxy.lua PORTFILE LOGFILE"), assert(arg[2])
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local f = assert(io.open(portfile .. ".tmp", "w"))
f:write(port)
f:close()
assert(os.rename(portfile .. ".tmp", portfile))
srv:settimeout(20)

local function relay(a, b)
  a:settimeout(0)
  b:settimeout(0)
  while true do
    local ready = socket.select({ a, b }, nil, 5)
    if #ready == 0 then return end -- idle for 5 s
    for _, s in ipairs(ready) do
      local data, err, partial = s:receive(16384)
      local chunk = data or partial
      if chunk and #chunk > 0 then
        local to = s == a and b or a
        to:settimeout(5)
        if not to:send(chunk) then return end
        to:settimeout(0)
      end
      if err == "closed" then return end
    end
  end
end

while true do
  local c = srv:accept()
  if not c then break end
  c:settimeout(5)
  local lines = {}
  while true do
    local line = c:receive("*l")
    if not line or line == "" then break end
    lines[#lines + 1] = line
  end
  local log = io.open(logfile, "a")
  if log then log:write(table.concat(lines, "\n"), "\n\n"); log:close() end
  local host, tport = (lines[1] or ""):match("^CONNECT ([^ :]+):(%d+) HTTP/1%.1$")
  local up = (host == "localhost" or host == "127.0.0.1") and socket.connect("127.0.0.1", tonumber(tport))
  if up then
    c:send("HTTP/1.1 200 Connection established\r\n\r\n")
    relay(c, up)
    up:close()
  else
    c:send("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
  end
  c:close()
end
