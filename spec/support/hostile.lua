-- Test support: a small misbehaving HTTP server over real sockets.  A LuaSocket
-- listener in a child process (the spec's own interpreter) answers every
-- connection with the bytes of the current canned response, then closes; it
-- records the request it got (head and body) so a spec can see what was sent.
--
--   local hostile = require "support.hostile"
--   local srv = hostile.start()
--   srv:respond("HTTP/1.1 302 Found\r\nLocation: …\r\nContent-Length: 0\r\n\r\n")
--   … pats.new{ server_url = srv.url, … } …
--   srv:respond_each { r1, r2 } -- the next two connections get r1, then r2
--   srv:last_request()   -- the raw request bytes
--   srv:stop()
local socket = require "socket"

local M = {}

local SERVER = [==[
local socket = require "socket"
local dir = arg[1]
local s = assert(socket.bind("127.0.0.1", 0))
local _, port = s:getsockname()
local f = assert(io.open(dir .. "/port.tmp", "w")); f:write(port); f:close()
os.rename(dir .. "/port.tmp", dir .. "/port")
local n, queue = 0, {}
while true do
  local c = s:accept()
  if c then
    c:settimeout(5)
    local head, cl = {}, 0
    while true do
      local line = c:receive("*l")
      if not line or line == "" then break end
      head[#head + 1] = line
      local v = line:lower():match("^content%-length:%s*(%d+)")
      if v then cl = tonumber(v) end
    end
    local body = cl > 0 and (c:receive(cl) or "") or ""
    n = n + 1
    local w = io.open(dir .. "/req.tmp", "wb")
    w:write(table.concat(head, "\r\n"), "\r\n\r\n", body); w:close()
    os.rename(dir .. "/req.tmp", dir .. "/req")
    -- a queue (srv:respond_each) first, one response per connection; then the current one
    local q = io.open(dir .. "/queue", "rb")
    if q then
      local all = q:read("*a")
      q:close()
      os.remove(dir .. "/queue")
      queue = {}
      for item in (all .. "\0\0NEXT\0\0"):gmatch("(.-)%z%zNEXT%z%z") do queue[#queue + 1] = item end
    end
    local resp = table.remove(queue, 1)
    if not resp then
      local r = io.open(dir .. "/resp", "rb")
      resp = r and r:read("*a") or ""
      if r then r:close() end
    end
    if resp == "STOP" then c:close(); break end
    c:send(resp)
    c:close()
  end
end
]==]

local read_cmd = require("support.proc").read_cmd

--- The interpreter running this spec (so the child has the same LuaSocket).
function M.interpreter()
  return read_cmd("readlink /proc/$PPID/exe")
end

local srv_mt = {}
srv_mt.__index = srv_mt

function srv_mt:respond(bytes)
  local f = assert(io.open(self.dir .. "/resp.tmp", "wb"))
  f:write(bytes)
  f:close()
  assert(os.rename(self.dir .. "/resp.tmp", self.dir .. "/resp"))
end

--- respond_each(list): the next connections get these responses, one each, in
--- order (replacing any queue left); then the current response again.
function srv_mt:respond_each(list)
  local f = assert(io.open(self.dir .. "/queue.tmp", "wb"))
  f:write(table.concat(list, "\0\0NEXT\0\0"))
  f:close()
  assert(os.rename(self.dir .. "/queue.tmp", self.dir .. "/queue"))
end

function srv_mt:last_request()
  local f = io.open(self.dir .. "/req", "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function srv_mt:stop()
  self:respond_each({ "STOP" })
  self:respond("STOP")
  local c = socket.tcp()
  c:settimeout(1)
  if c:connect("127.0.0.1", self.port) then c:send("GET / HTTP/1.1\r\n\r\n") end
  c:close()
  os.execute("sleep 0.2; rm -rf " .. self.dir)
end

function M.start()
  local dir = read_cmd("mktemp -d /tmp/konnect-hostile.XXXXXX")
  assert(dir:match("^/tmp/konnect%-hostile"), "mktemp failed")
  local f = assert(io.open(dir .. "/server.lua", "w"))
  f:write(SERVER)
  f:close()
  local lua_path, lua_cpath = package.path, package.cpath
  os.execute(("LUA_PATH='%s' LUA_CPATH='%s' %s %s/server.lua %s >%s/log 2>&1 &"):format(
    lua_path, lua_cpath, M.interpreter(), dir, dir, dir))
  local port
  for _ = 1, 200 do
    local p = io.open(dir .. "/port")
    if p then port = tonumber(p:read("*a")); p:close(); break end
    socket.sleep(0.025)
  end
  assert(port, "the hostile server did not start: " .. read_cmd("cat " .. dir .. "/log"))
  return setmetatable({ dir = dir, port = port, url = "http://127.0.0.1:" .. port }, srv_mt)
end

--- response(status_line, headers, body) -> raw HTTP/1.1 bytes with Content-Length
function M.response(status, headers, body)
  body = body or ""
  local out = { "HTTP/1.1 " .. status }
  for _, h in ipairs(headers or {}) do out[#out + 1] = h end
  out[#out + 1] = "Content-Length: " .. #body
  out[#out + 1] = "Connection: close"
  return table.concat(out, "\r\n") .. "\r\n\r\n" .. body
end

return M
