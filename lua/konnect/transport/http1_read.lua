-- konnect.transport.http1_read: reading one HTTP/1.1 response off a cosocket
-- (ngx.socket.tcp), for konnect.transport.cosocket.
--
-- Hostile servers: one absolute deadline per attempt (every wait gets only
-- what is left of it, so a server trickling bytes cannot stretch a call), and
-- every read is bounded before it is buffered: the response head by
-- limits.MAX_HEADER_BYTES, a chunk-size line by limits.MAX_CHUNK_LINE, the
-- body by max_body.  All reads go through receiveany into this module's own
-- parser (konnect.transport.http1); nothing here raises on any server input.
-- Framings: Content-Length, chunked (trailers read and bounded), and bodies
-- that end when the server closes; interim (1xx) responses are skipped.

local ngx = ngx
local limits = require "konnect.limits"
local http1 = require "konnect.transport.http1"

local ngx_now, ngx_update_time, ngx_sleep = ngx.now, ngx.update_time, ngx.sleep
local tostring, tonumber = tostring, tonumber
local concat, ceil, min = table.concat, math.ceil, math.min
local find, sub, lower, match, format, byte = string.find, string.sub, string.lower, string.match,
  string.format, string.byte
local terr, head_end, parse_head, content_length = http1.terr, http1.head_end, http1.parse_head,
  http1.content_length

local _M = { _VERSION = limits.VERSION }

local MAX_HEADER_BYTES = limits.MAX_HEADER_BYTES   -- status line + headers of one response head
local MAX_CHUNK_LINE = limits.MAX_CHUNK_LINE       -- one chunk-size line
local READ_CHUNK = limits.READ_CHUNK               -- the most one receiveany asks for
local NO_BODY_STATUS = { [204] = true, [304] = true }

-- Map a cosocket error string to a transport error.
local function io_err(what, err, sent)
  if err == "timeout" then
    return terr("timeout", what .. " timed out", sent)
  end
  return terr("network", what .. " failed: " .. tostring(err), sent)
end
_M.io_err = io_err

-- The next bytes, at most `max`, waiting at most until the deadline.
-- -> data | nil, err ("timeout" once the deadline has passed)
-- nginx's clock only moves between events; a server that keeps the socket
-- full never lets a read wait, so the clock is refreshed here (about 50 ns),
-- and every 64th read yields to the event loop: a long response cannot hold
-- the worker.
local reads = 0
local function more(sock, deadline, max)
  reads = reads + 1
  if reads >= 64 then
    reads = 0
    ngx_sleep(0)
  end
  ngx_update_time()
  local left = deadline - ngx_now()
  if left <= 0 then return nil, "timeout" end
  sock:settimeout(ceil(left * 1000))
  return sock:receiveany(max)
end

-- One response head, up to and including its blank line.
-- buf: bytes already read.  -> head, rest | nil, err, got_any
local function read_block(sock, deadline, buf)
  if buf == "" then -- the usual case: one read holds the whole head (and often the body)
    local data, err = more(sock, deadline, READ_CHUNK)
    if not data then return nil, err, false end
    buf = data
  end
  local e = head_end(buf)
  if e then
    if e > MAX_HEADER_BYTES then return nil, "too_large", true end
    return sub(buf, 1, e), sub(buf, e + 1)
  end
  local total = #buf
  if total > MAX_HEADER_BYTES then return nil, "too_large", true end
  local parts, n, tail = { buf }, 1, sub(buf, -3)
  while true do
    local data, err = more(sock, deadline, READ_CHUNK)
    if not data then return nil, err, total > 0 end
    local probe = tail .. data
    e = head_end(probe)
    if e then
      local cut = e - #tail  -- bytes of data that belong to the head
      if total + cut > MAX_HEADER_BYTES then return nil, "too_large", true end
      n = n + 1
      parts[n] = sub(data, 1, cut)
      return concat(parts, "", 1, n), sub(data, cut + 1)
    end
    total = total + #data
    if total > MAX_HEADER_BYTES then return nil, "too_large", true end
    n = n + 1
    parts[n] = data
    tail = sub(probe, -3)
  end
end

-- Read up to a "\n" with at most `cap` bytes before it.
-- -> eol, buf, pos (buf possibly rebased) | nil, err
local function read_line(sock, deadline, buf, pos, cap)
  local eol = find(buf, "\n", pos, true)
  while not eol do
    if #buf - pos + 1 > cap then return nil, "too_large" end
    local data, err = more(sock, deadline, READ_CHUNK)
    if not data then return nil, err end
    local from = #buf - pos + 2
    buf, pos = sub(buf, pos) .. data, 1
    eol = find(buf, "\n", from, true)
  end
  if eol - pos > cap then return nil, "too_large" end
  return eol, buf, pos
end

local function body_err(err, what)
  if err == "too_large" then
    if what == "a chunk-size line" then
      -- broken framing, not a big answer: network, as the C core (libcurl) reports it
      return terr("network", "bad chunked framing: a chunk-size line longer than " .. MAX_CHUNK_LINE .. " bytes", true)
    end
    return terr("too_large", what .. " longer than " .. MAX_HEADER_BYTES .. " bytes", true)
  end
  return io_err("reading the response body", err, true)
end

local function too_big(max_body)
  return terr("too_large", format("response body larger than max_body (%d bytes)", max_body), true)
end

-- Append a piece of the body.  Every 256 pieces the newest ones are joined
-- into one, so that a body sent as many tiny pieces (one-byte chunks, one-byte
-- segments) costs about its size in memory, not a table slot and a string
-- header per byte.  -> n, seg
local function append(parts, n, seg, piece)
  n = n + 1
  parts[n] = piece
  if n - seg >= 256 then
    parts[seg] = concat(parts, "", seg, n)
    for i = seg + 1, n do parts[i] = nil end
    n = seg
    seg = seg + 1
  end
  return n, seg
end

-- A chunked body; buf = bytes already read.  -> body, clean | nil, terr
local function read_chunked(sock, deadline, buf, max_body)
  local parts, n, seg, total, pos = {}, 0, 1, 0, 1
  while true do
    local eol, err
    eol, buf, pos = read_line(sock, deadline, buf, pos, MAX_CHUNK_LINE)
    if not eol then return nil, body_err(buf, "a chunk-size line") end
    local hex = match(buf, "^0*(%x*)[ \t]*[;\r\n]", pos)
    if not hex or (hex == "" and not find(buf, "^0", pos)) then
      return nil, terr("network", "bad chunk-size line in the chunked response body", true)
    end
    pos = eol + 1
    if hex == "" then
      -- the last chunk: trailer fields up to the blank line, bounded like a head
      local seen = 0
      while true do
        eol, buf, pos = read_line(sock, deadline, buf, pos, MAX_HEADER_BYTES - seen)
        if not eol then return nil, body_err(buf, "the response trailers") end
        seen = seen + eol - pos + 1
        local blank = eol == pos or (eol == pos + 1 and byte(buf, pos) == 13)
        pos = eol + 1
        if blank then return concat(parts, "", 1, n), pos > #buf end
      end
    end
    if #hex > 8 then return nil, too_big(max_body) end -- 4 GiB and more: beyond any max_body
    local size = tonumber(hex, 16)
    total = total + size
    if total > max_body then return nil, too_big(max_body) end
    local avail = #buf - pos + 1
    if avail >= size then
      n, seg = append(parts, n, seg, sub(buf, pos, pos + size - 1))
      pos = pos + size
    else
      n, seg = append(parts, n, seg, sub(buf, pos))
      local need = size - avail
      while need > 0 do
        local data
        data, err = more(sock, deadline, min(need, READ_CHUNK))
        if not data then return nil, io_err("reading the response body", err, true) end
        n, seg = append(parts, n, seg, data)
        need = need - #data
      end
      buf, pos = "", 1
    end
    -- the CRLF after the chunk's data
    while #buf - pos + 1 < 2 do
      local data
      data, err = more(sock, deadline, READ_CHUNK)
      if not data then return nil, io_err("reading the response body", err, true) end
      buf, pos = sub(buf, pos) .. data, 1
    end
    if byte(buf, pos) == 13 and byte(buf, pos + 1) == 10 then
      pos = pos + 2
    elseif byte(buf, pos) == 10 then
      pos = pos + 1
    else
      return nil, terr("network", "malformed chunked response body (no CRLF after a chunk)", true)
    end
  end
end

-- The body.  rest = bytes already read after the head.
-- -> body, clean (the connection holds nothing more) | nil, terr
function _M.read_body(sock, method, status, headers, deadline, max_body, rest)
  if method == "HEAD" or NO_BODY_STATUS[status] then
    return "", rest == ""
  end
  local te = headers["transfer-encoding"]
  if te then
    if find(lower(te), "chunked$") then -- (parse_head trims a value's white space)
      local body, clean = read_chunked(sock, deadline, rest, max_body)
      if not body then return nil, clean end
      -- Transfer-Encoding and Content-Length together: answer, never reuse
      return body, clean and headers["content-length"] == nil
    end
  else
    local cl = headers["content-length"]
    if cl then
      local len = content_length(cl)
      if not len then
        return nil, terr("network", "bad Content-Length in the response: " .. sub(cl, 1, 40), true)
      end
      if len > max_body then
        return nil, terr("too_large", format("response body of %.0f bytes larger than max_body (%d bytes)",
          len, max_body), true)
      end
      local have = #rest
      if have >= len then
        if have == len then return rest, true end
        return sub(rest, 1, len), false -- bytes beyond the response: never reuse
      end
      local parts, n, seg, need = { rest }, 1, 1, len - have
      while need > 0 do
        local data, err = more(sock, deadline, min(need, READ_CHUNK))
        if not data then return nil, io_err("reading the response body", err, true) end
        n, seg = append(parts, n, seg, data)
        need = need - #data
      end
      return concat(parts, "", 1, n), true
    end
  end
  -- neither: the body runs until the server closes the connection
  local total = #rest
  if total > max_body then return nil, too_big(max_body) end
  local parts, n, seg = { rest }, 1, 1
  while true do
    local data, err = more(sock, deadline, READ_CHUNK)
    if not data then
      if err == "closed" then return concat(parts, "", 1, n), false end
      return nil, io_err("reading the response body", err, true)
    end
    total = total + #data
    if total > max_body then return nil, too_big(max_body) end
    n, seg = append(parts, n, seg, data)
  end
end

-- Status line and headers, skipping interim (1xx) responses.
-- -> status, headers, minor, rest | nil, terr, got_any
function _M.read_response_head(sock, deadline, buf)
  while true do
    local head, rest, got_any = read_block(sock, deadline, buf)
    if not head then
      if rest == "too_large" then
        return nil, terr("too_large", "response headers larger than " .. MAX_HEADER_BYTES .. " bytes", true), true
      end
      return nil, io_err("reading the response", rest, true), got_any
    end
    local status, headers, minor = parse_head(head)
    if not status then
      return nil, terr("network", "malformed response head (its status line, or a folded line before any field)",
        true), true
    end
    if status >= 200 or status == 101 then return status, headers, minor, rest end
    -- an interim response (100 Continue, 103 Early Hints): the real one follows.  A
    -- flood of them may never yield to nginx's event loop, so refresh its clock.
    buf = rest
    ngx_update_time()
  end
end

return _M
