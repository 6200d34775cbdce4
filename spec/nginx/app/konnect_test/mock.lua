-- konnect_test.mock: a Konnect stand-in inside the test nginx, for response
-- framings the fake Konnect does not produce: chunked bodies (several
-- flushes, no Content-Length) and, under /mock-close/, bodies that run until
-- the server closes the connection.  X-Mock: huge sends ~100 KB.
-- Under /hostile/<case>, a server that misbehaves on purpose (see HOSTILE).

local cjson = require "cjson.safe"

-- luacheck: globals ngx
local _M = {}

local TOKEN = {
  id = "00000000-0000-4000-8000-0000000000aa", name = "mocked", state = "ACTIVE",
  created_at = "2024-01-15T09:30:00Z", updated_at = "2024-01-15T09:30:00Z",
  expires_at = "2034-01-15T09:30:00Z",
}

function _M.handle()
  local mode = ngx.var.http_x_mock or "ok"
  ngx.status = 200
  ngx.header["Content-Type"] = "application/json"
  ngx.header["X-Kong-Request-Id"] = "mock-request"
  ngx.header["X-Repeated"] = { "one", "two" }
  local body
  if mode == "huge" then
    body = '{"data":[],"meta":{"page":{"number":1,"size":0,"total":0}},"padding":"' ..
      string.rep("x", 100000) .. '"}'
  else
    body = cjson.encode({ data = { TOKEN }, meta = { page = { number = 1, size = 10, total = 1 } } })
  end
  -- several writes with flushes: nginx frames them as chunks (or, with
  -- chunked_transfer_encoding off, as a body ended by closing the connection)
  local step = math.ceil(#body / 4)
  for i = 1, #body, step do
    ngx.print(body:sub(i, i + step - 1))
    ngx.flush(true)
  end
end

-- Hostile answers, written on the raw downstream socket (any bytes at all).
local BLOCK = string.rep("a", 64 * 1024)
local OK_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

-- send `total` bytes of "a" (in 64 KiB pieces) until done or the peer is gone
local function chunk_line(n) -- "2;e=xxx…\r" of n bytes, then "\n{}\r\n0\r\n\r\n"
  return OK_HEAD .. "Transfer-Encoding: chunked\r\n\r\n2;e=" .. string.rep("x", n - 5) .. "\r\n{}\r\n0\r\n\r\n"
end

local function flood(sock, total)
  local sent = 0
  while sent < total do
    local piece = total - sent >= #BLOCK and BLOCK or BLOCK:sub(1, total - sent)
    if not sock:send(piece) then return end
    sent = sent + #piece
  end
end

-- one byte every `every` seconds, for at most `secs` seconds
local function trickle(sock, every, secs)
  local t0 = ngx.now()
  while ngx.now() - t0 < secs do
    if not sock:send("a") then return end
    ngx.sleep(every)
    ngx.update_time()
  end
end

-- send `bytes` again and again, as fast as the socket takes it, for at most 6 s
local function repeat_for_6s(sock, bytes)
  local t0 = ngx.now()
  while ngx.now() - t0 < 6 do
    if not sock:send(bytes) then return end
    ngx.update_time()
  end
end

local HOSTILE = {
  -- a header line that never ends (?mb= its size in MiB, default 256)
  long_header = function(sock)
    sock:send(OK_HEAD .. "X-Long: ")
    flood(sock, (tonumber(ngx.var.arg_mb) or 256) * 1024 * 1024)
  end,
  -- many short header lines, over 64 KiB in all
  many_headers = function(sock)
    local lines = {}
    for i = 1, 3000 do lines[i] = "X-H" .. i .. ": " .. string.rep("v", 20) .. "\r\n" end
    sock:send(OK_HEAD .. table.concat(lines) .. "Content-Length: 2\r\n\r\n{}")
  end,
  -- the head arrives one byte every 0.1 s (for 6 s)
  trickle_head = function(sock)
    sock:send(OK_HEAD .. "X-Slow: ")
    trickle(sock, 0.1, 6)
  end,
  -- the body arrives one byte every 0.1 s (for 6 s)
  trickle_body = function(sock)
    sock:send(OK_HEAD .. "Content-Length: 1000\r\n\r\n")
    trickle(sock, 0.1, 6)
  end,
  -- chunk-size lines: not hex; endless; a size beyond any max_body
  -- one-byte chunks as fast as the socket takes them, for at most 6 s
  tiny_chunks = function(sock)
    sock:send(OK_HEAD .. "Transfer-Encoding: chunked\r\n\r\n")
    repeat_for_6s(sock, string.rep("1\r\na\r\n", 10000))
  end,
  bad_chunk = function(sock)
    sock:send(OK_HEAD .. "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
  end,
  long_chunk_line = function(sock)
    sock:send(OK_HEAD .. "Transfer-Encoding: chunked\r\n\r\n2;ext=")
    flood(sock, 16 * 1024 * 1024)
  end,
  -- a chunk-size line of n bytes before its LF (MAX_CHUNK_LINE is 1024), in one write with
  -- the rest of the body: the read that finds the LF holds the whole line
  chunk_line_1024 = function(sock) sock:send(chunk_line(1024)) end,
  chunk_line_1025 = function(sock) sock:send(chunk_line(1025)) end,
  huge_chunk = function(sock)
    sock:send(OK_HEAD .. "Transfer-Encoding: chunked\r\n\r\nfffffffffff\r\n")
    flood(sock, 16 * 1024 * 1024)
  end,
  -- a chunked body with trailer fields
  trailers = function(sock)
    sock:send(OK_HEAD .. "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1;x=y\r\n}\r\n0\r\n" ..
      "X-Trailer: 1\r\nX-Other: 2\r\n\r\n")
  end,
  -- keep-alive by hand: each response is chunked, and its trailer ("\r\n"
  -- after the last chunk) comes 0.2 s later; then the next request on the
  -- same connection.  Connections are counted in konnect_test "late_trailer".
  late_trailer = function(sock)
    ngx.shared.konnect_test:incr("late_trailer", 1, 0)
    for _ = 1, 10 do
      sock:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" ..
        "2\r\n{}\r\n0\r\n")
      ngx.sleep(0.2)
      if not sock:send("\r\n") then return end
      local head = sock:receiveuntil("\r\n\r\n")
      sock:settimeout(5000)
      if not head(8192) or head(8192) ~= nil then return end
    end
  end,
  -- an endless stream of interim responses
  interim_storm = function(sock)
    repeat_for_6s(sock, string.rep("HTTP/1.1 100 Continue\r\n\r\n", 1000))
  end,
  -- bare LF line ends, odd spacing, a folded line, a line without a colon
  odd_head = function(sock)
    sock:send("HTTP/1.0 200 Fine\nX-Sp :  v w \t\nX-Folded: a\n  b\nno colon here\nX-Empty:\n" ..
      "Content-Length: 2\n\n{}")
  end,
  -- a status code outside 100-599
  bad_status = function(sock)
    sock:send("HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\n{}")
  end,
  -- a well-formed response (one of several framings), then damaged at random
  -- (?seed=): bytes replaced by framing characters, cut short, duplicated
  random = function(sock)
    local seed = tonumber(ngx.var.arg_seed) or 1
    math.randomseed(seed)
    local r = math.random
    local body = '{"data":[{"id":"x","name":"n"}],"meta":{"page":{"total":1}}}'
    local heads = {
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" .. string.format("%x", 10) .. "\r\n" ..
        body:sub(1, 10) .. "\r\n" .. string.format("%x;e=1", #body - 10) .. "\r\n" .. body:sub(11) ..
        "\r\n0\r\nX-T: 1\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\nX-A:b\n\n" .. body,
      "HTTP/1.1 204 No Content\r\nX-Kong-Request-Id: r\r\n\r\n",
    }
    local s = heads[r(#heads)]
    local chars = { "\r", "\n", ":", " ", "0", "f", "z", "\0", ";", "-", "9" }
    for _ = 1, r(0, 4) do
      local i = r(#s)
      s = s:sub(1, i - 1) .. chars[r(#chars)] .. s:sub(i + 1)
    end
    if r() < 0.3 then s = s:sub(1, r(#s)) end
    if r() < 0.2 then local i = r(#s); s = s:sub(1, i) .. s:sub(i) end
    sock:send(s)
  end,
  -- a status line that is not HTTP
  garbage = function(sock)
    sock:send("SSH-2.0-OpenSSH_9.2\r\n\r\n")
  end,
  -- two different Content-Lengths
  two_lengths = function(sock)
    sock:send(OK_HEAD .. "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
  end,
  -- chunked, but not the final coding; then the server closes
  te_chunked_not_last = function(sock)
    sock:send(OK_HEAD .. "Transfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
  end,
  -- a Content-Length that is not a number, 60 bytes long
  long_bad_length = function(sock)
    sock:send(OK_HEAD .. "Content-Length: 12, " .. string.rep("abcdefghij", 6):sub(1, 56) .. "\r\n\r\n{}")
  end,
}

function _M.hostile()
  local case = ngx.var.uri:match("^/hostile/([%w_]+)")
  local fn = HOSTILE[case]
  if not fn then return ngx.exit(404) end
  local sock = assert(ngx.req.socket(true))
  fn(sock)
end

-- A body that stalls half-way: Content-Length 1000, 10 bytes, a pause of
-- ?pause= seconds (default 0.6), the other 990.  Over a kept-alive connection:
-- the next request on it is answered after this one.
function _M.stall()
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = 1000
  ngx.print(string.rep("x", 10))
  ngx.flush(true)
  ngx.sleep(tonumber(ngx.var.arg_pause) or 0.6)
  ngx.print(string.rep("y", 990))
end

return _M
