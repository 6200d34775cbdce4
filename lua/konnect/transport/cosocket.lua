-- konnect.transport.cosocket: the transport over ngx.socket.tcp (OpenResty,
-- nginx + ngx_lua).  Non-blocking: while a call waits for Konnect, the nginx
-- worker keeps serving other requests.
--
-- HTTP/1.1 only (a Personal Access Token call is one small request; HTTP/2
-- buys nothing here).  Connections go back to nginx's per-worker keepalive
-- pool after a response was read in full and nothing else arrived; the pool
-- name includes everything that changes trust (scheme, host = TLS server name,
-- port, CA file/path, proxy), so a connection verified for one setting is
-- never handed to another.
--
-- Hostile servers: one absolute deadline per attempt (every wait gets only
-- what is left of it, so a server trickling bytes cannot stretch a call), and
-- every read is bounded before it is buffered: the response head by
-- limits.MAX_HEADER_BYTES, a chunk-size line by limits.MAX_CHUNK_LINE, the body
-- by max_body.  All reads go through receiveany into this module's own
-- parser; nothing here raises on any server input.
--
-- TLS: `sock:sslhandshake` with SNI and certificate verification always on.
-- The trusted CAs come from nginx.conf (`lua_ssl_trusted_certificate`,
-- `lua_ssl_verify_depth`): ngx_lua 0.10.23 cannot take a CA file per socket,
-- so the `ca_file` / `ca_path` options only keep pools apart here.  Without
-- `lua_ssl_trusted_certificate` every https call fails with kind "tls".
-- nginx checks the certificate against DNS names only (not iPAddress SANs),
-- so use a host name in https URLs, not an IP address.
--
-- Host names are resolved by nginx's `resolver` directive, except `localhost`
-- (and `*.localhost`), which is loopback by definition (RFC 6761) and maps to
-- 127.0.0.1 without a resolver.
--
-- Options (from konnect.pats): timeout (seconds, the whole attempt),
-- connect_timeout, max_body (bytes), ca_file, ca_path, proxy
-- ("http://host:port": absolute-form for http URLs, CONNECT tunnel for https).
-- Defaults, caps and the keepalive pool (limits.KEEPALIVE_TIMEOUT,
-- limits.POOL_SIZE) come from konnect.limits.  `http_version` is ignored:
-- always HTTP/1.1.

local ngx = ngx
if type(ngx) ~= "table" or type(ngx.socket) ~= "table" or not ngx.socket.tcp then
  error("konnect.transport.cosocket needs nginx with ngx_lua (OpenResty): ngx.socket.tcp is missing", 0)
end
local limits = require "konnect.limits"

local tcp = ngx.socket.tcp
local ngx_now, ngx_update_time, ngx_sleep = ngx.now, ngx.update_time, ngx.sleep

local type, pairs, tostring, tonumber, setmetatable, pcall = type, pairs, tostring, tonumber, setmetatable, pcall
local concat, floor, ceil, min = table.concat, math.floor, math.ceil, math.min
local find, sub, lower, match, format, byte = string.find, string.sub, string.lower, string.match,
  string.format, string.byte

local _M = { _VERSION = limits.VERSION, name = "cosocket" }
local mt = { __index = _M, __name = "konnect.transport.cosocket" }

local MAX_HEADER_BYTES = limits.MAX_HEADER_BYTES   -- status line + headers of one response head
local MAX_CHUNK_LINE = limits.MAX_CHUNK_LINE       -- one chunk-size line
local READ_CHUNK = 64 * 1024                       -- the most one receiveany asks for
local DEFAULT_PORTS = { http = 80, https = 443 }
local NO_BODY_STATUS = { [204] = true, [304] = true }
local BODY_METHODS = { POST = true, PUT = true, PATCH = true }
local KNOWN_METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true,
                        OPTIONS = true }
-- request headers the transport writes itself (a caller's copy is dropped)
local OWN_HEADERS = { host = true, ["content-length"] = true, connection = true, ["transfer-encoding"] = true }

local function now()
  ngx_update_time()
  return ngx_now()
end

local function terr(kind, message, sent)
  return { kind = kind, message = message, sent = sent }
end

---------------------------------------------------------------------------
-- URLs and origins

-- "scheme://host[:port]/path?query" -> scheme, host, port, target | nil, message
local function parse_url(url)
  if type(url) ~= "string" then return nil, "the URL must be a string" end
  local scheme, rest = match(url, "^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL" end
  scheme = lower(scheme)
  if not DEFAULT_PORTS[scheme] then return nil, "unsupported URL scheme " .. sub(scheme, 1, 20) end
  local authority, target = match(rest, "^([^/?#]*)(.*)$")
  if find(authority, "@", 1, true) then return nil, "user info in URLs is not supported" end
  local host, port
  if sub(authority, 1, 1) == "[" then
    host, port = match(authority, "^(%[[%x:.]+%])(.*)$")
  else
    host, port = match(authority, "^([^:]*)(.*)$")
  end
  if not host or host == "" then return nil, "no host in the URL" end
  local h, herr = limits.host(host)
  if not h then return nil, herr end
  if port == "" then
    port = DEFAULT_PORTS[scheme]
  else
    port = tonumber(match(port, "^:(%d+)$"))
    if not port or port < 1 or port > 65535 then return nil, "bad port in the URL" end
  end
  local hash = find(target, "#", 1, true)
  if hash then target = sub(target, 1, hash - 1) end
  if target == "" then target = "/" elseif sub(target, 1, 1) == "?" then target = "/" .. target end
  if find(target, "[%c ]") then return nil, "the URL path contains spaces or control characters" end
  return scheme, h, port, target
end
_M.parse_url = parse_url

-- localhost is loopback by definition; nginx's resolver would need a DNS server.
local function connect_host(host)
  if host == "localhost" or find(host, "%.localhost$") then return "127.0.0.1" end
  return host
end

local function is_ip(host)
  return find(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil or sub(host, 1, 1) == "["
end

-- Parse "http://host:port" for the proxy option -> host, port | nil, err
local function parse_proxy(proxy)
  local scheme, host, port = parse_url(proxy)
  if not scheme then return nil, host end
  if scheme ~= "http" then return nil, "only http:// proxies are supported by the cosocket transport" end
  return host, port
end

-- Everything about one origin (scheme://host:port) a call needs, computed once
-- per transport: where to connect, the keepalive pool, the Host line.
local MAX_ORIGINS = 64
local function origin(self, scheme_host_port)
  local o = self.opts
  local scheme, host, port = parse_url(scheme_host_port)
  if not scheme then return nil, host end
  local authority = (port == DEFAULT_PORTS[scheme]) and host or (host .. ":" .. port)
  local chost, cport = connect_host(host), port
  if o.proxy_host then chost, cport = connect_host(o.proxy_host), o.proxy_port end
  local pool = concat({ "konnect", scheme, host, port, o.ca_file or "", o.ca_path or "", o.proxy or "" }, "|")
  local e = {
    scheme = scheme, host = host, port = port, authority = authority, chost = chost, cport = cport,
    pool = { pool = pool }, fresh_pool = { pool = pool .. "|fresh" },
    -- the request line's target prefix: absolute-form through an http proxy
    prefix = (o.proxy_host and scheme == "http") and (scheme .. "://" .. authority) or "",
    tail = " HTTP/1.1\r\nHost: " .. authority .. "\r\n",
  }
  if self.norigins >= MAX_ORIGINS then self.origins, self.norigins = {}, 0 end
  self.origins[scheme_host_port] = e
  self.norigins = self.norigins + 1
  return e
end

---------------------------------------------------------------------------
-- Request headers

-- { Name = value } -> "Name: value\r\n…" | nil, message.  Names are RFC 9110
-- tokens, values have no control character (CR/LF above all) and respect the
-- rulebook's length cap; Host, Content-Length, Connection and
-- Transfer-Encoding are the transport's own and are dropped.
local function build_block(headers)
  if headers == nil then return "" end
  if type(headers) ~= "table" then return nil, "headers must be a table" end
  local out, n = {}, 0
  for k, v in pairs(headers) do
    local name, err = limits.header_name(k)
    if not name then return nil, err end
    if not OWN_HEADERS[lower(name)] then
      local value
      value, err = limits.header_value(v, "the " .. name .. " header")
      if not value then return nil, err end
      out[n + 1], out[n + 2], out[n + 3], out[n + 4] = name, ": ", value, "\r\n"
      n = n + 4
    end
  end
  return concat(out)
end

-- Is this string a well-formed header block ("Name: value\r\n"…)?  -> block | nil, message
local function check_block(block)
  local pos, len = 1, #block
  while pos <= len do
    local name, value, nxt = match(block, "^([^:\r\n]*): ([^\r\n]*)\r\n()", pos)
    if not name then return nil, "malformed header block" end
    local ok, err = limits.header_name(name)
    if ok then ok, err = limits.header_value(value, "the " .. name .. " header") end
    if not ok then return nil, err end
    if OWN_HEADERS[lower(name)] then return nil, "the " .. name .. " header is the transport's own" end
    pos = nxt
  end
  return block
end

-- header_lines() results carry their checked block under this private key:
-- the hot path trusts them without scanning them again.  (A table, not a
-- string in a module-wide cache: the block holds the token, and goes away
-- with the client that made it.)
local SEAL = {}

--- header_lines(map) -> the prebuilt header block for req.header_lines (opaque) | nil, message.
--- konnect.pats calls it once per header set; a map it refuses makes every
--- call that passes the map fail with kind invalid_argument, before any I/O.
function _M.header_lines(headers)
  local block, err = build_block(headers)
  if not block then return nil, err end
  return { [SEAL] = block }
end

---------------------------------------------------------------------------
-- Reading: one deadline, bounded buffers

-- Map a cosocket error string to a transport error.
local function io_err(what, err, sent)
  if err == "timeout" then
    return terr("timeout", what .. " timed out", sent)
  end
  return terr("network", what .. " failed: " .. tostring(err), sent)
end

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

-- Where a head ends (its blank line: "\r\n\r\n", or bare "\n\n" / "\n\r\n") | nil
local function head_end(buf)
  local _, e = find(buf, "\n\r\n", 1, true)
  local _, e2 = find(buf, "\n\n", 1, true)
  if e2 and (not e or e2 < e) then return e2 end
  return e
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

-- "HTTP/1.x NNN …\r\nName: value\r\n…\r\n" -> status, headers, minor | nil
-- Plain finds, not patterns per line (3x faster); linear in the head's size
-- whatever its shape (the next colon is searched for once, not per line).
local function parse_head(head)
  local mi, code, pos = match(head, "^HTTP/1%.(%d) ([1-5]%d%d)%f[^%d][^\n]*\n()")
  if not mi then return nil end
  local headers, len, colon = {}, #head, 0
  while pos <= len do
    local eol = find(head, "\n", pos, true) or len + 1
    if colon < pos then colon = find(head, ":", pos, true) or len + 1 end
    local c = byte(head, pos)
    -- a field line (not the blank line, not an obsolete folded continuation)
    if colon < eol and colon > pos and c ~= 32 and c ~= 9 then
      local ne = colon - 1
      c = byte(head, ne)
      while c == 32 or c == 9 do ne = ne - 1; c = byte(head, ne) end
      local name = lower(sub(head, pos, ne))
      local vs, ve = colon + 1, eol - 1
      c = byte(head, vs)
      while vs <= ve and (c == 32 or c == 9) do vs = vs + 1; c = byte(head, vs) end
      c = byte(head, ve)
      while ve >= vs and (c == 13 or c == 32 or c == 9) do ve = ve - 1; c = byte(head, ve) end
      local value = sub(head, vs, ve)
      local old = headers[name]
      headers[name] = old and (old .. ", " .. value) or value
    end
    pos = eol + 1
  end
  return tonumber(code), headers, tonumber(mi)
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
    return terr("too_large", what .. " longer than " .. (what == "a chunk-size line" and MAX_CHUNK_LINE
      or MAX_HEADER_BYTES) .. " bytes", true)
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

-- Content-Length: one number, or repeats of the same number.  -> len | nil
local function content_length(cl)
  local len = match(cl, "^[ \t]*(%d+)[ \t]*$")
  if len then return tonumber(len) end
  local first
  for v in (cl .. ","):gmatch("[ \t]*([^,]-)[ \t]*,") do -- rare: only for a joined header
    if not find(v, "^%d+$") or (first and v ~= first) then return nil end
    first = v
  end
  return first and tonumber(first)
end

-- The body.  rest = bytes already read after the head.
-- -> body, clean (the connection holds nothing more) | nil, terr
local function read_body(sock, method, status, headers, deadline, max_body, rest)
  if method == "HEAD" or NO_BODY_STATUS[status] then
    return "", rest == ""
  end
  local te = headers["transfer-encoding"]
  if te then
    if find(lower(te), "chunked[ \t]*$") then
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
local function read_response_head(sock, deadline, buf)
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
      return nil, terr("network", "bad status line in the response", true), true
    end
    if status >= 200 or status == 101 then return status, headers, minor, rest end
    -- an interim response (100 Continue, 103 Early Hints): the real one follows.  A
    -- flood of them may never yield to nginx's event loop, so refresh its clock.
    buf = rest
    ngx_update_time()
  end
end

-- Does the Connection header (or HTTP/1.0) say the server closes?
local function server_closes(headers, minor)
  local c = headers["connection"]
  if c == nil then return minor == 0 end
  c = lower(c)
  if find(c, "close", 1, true) then return true end
  return minor == 0 and not find(c, "keep-alive", 1, true)
end

---------------------------------------------------------------------------
-- Connections

-- Open (or take from the pool) a connection ready for HTTP to the origin.
-- `fresh`: never take a pooled connection (and the caller will not pool this one).
-- -> sock, nil, reused_times | nil, terr
local function open(self, e, deadline, connect_timeout, fresh)
  local stats = self.stats
  local made, sock = pcall(tcp)
  if not made then
    -- e.g. transport = "cosocket" chosen explicitly in init_worker or log
    return nil, terr("connect", "cosockets are unavailable in the nginx " .. tostring(ngx.get_phase()) ..
      " phase (" .. tostring(sock) .. "); call from ngx.timer.at(0, fn)", false)
  end
  local left = deadline - ngx_now()
  if left <= 0 then return nil, terr("timeout", "the attempt timed out before connecting", false) end
  sock:settimeout(ceil(min(left, connect_timeout) * 1000))
  -- a fresh connection gets a pool of its own that never holds idle connections
  local ok, err = sock:connect(e.chost, e.cport, fresh and e.fresh_pool or e.pool)
  if not ok then
    if err == "timeout" then
      return nil, terr("timeout", format("connecting to %s:%d timed out", e.chost, e.cport), false)
    end
    return nil, terr("connect", format("cannot connect to %s:%d: %s", e.chost, e.cport, tostring(err)), false)
  end
  local reused = sock:getreusedtimes() or 0
  if reused > 0 then
    stats.reused = stats.reused + 1
    return sock, nil, reused
  end
  stats.connects = stats.connects + 1
  local scheme, host = e.scheme, e.host
  if self.opts.proxy_host and scheme == "https" then
    -- a tunnel through the proxy; TLS runs end to end inside it
    local authority = host .. ":" .. e.port
    left = deadline - ngx_now()
    if left <= 0 then sock:close(); return nil, terr("timeout", "proxy CONNECT timed out", false) end
    sock:settimeout(ceil(left * 1000))
    local bytes, werr = sock:send("CONNECT " .. authority .. " HTTP/1.1\r\nHost: " .. authority .. "\r\n\r\n")
    if not bytes then
      sock:close()
      return nil, terr(werr == "timeout" and "timeout" or "connect", "proxy CONNECT failed: " .. tostring(werr), false)
    end
    local status, herr, _, rest = read_response_head(sock, deadline, "")
    if status ~= 200 or rest ~= "" then
      sock:close()
      local why = status and ("status " .. status) or herr.message
      return nil, terr(herr and herr.kind == "timeout" and "timeout" or "connect",
        "the proxy refused the tunnel: " .. why, false)
    end
  end
  if scheme == "https" then
    left = deadline - ngx_now()
    if left <= 0 then
      sock:close()
      return nil, terr("timeout", "TLS handshake with " .. host .. " timed out", false)
    end
    sock:settimeout(ceil(min(left, connect_timeout) * 1000))
    local sess, herr = sock:sslhandshake(false, host, true)
    if sess and sock.getoption and not sock:getoption("keepalive") then
      -- ngx_lua 0.10.23 (resty.core) can report success for a handshake that
      -- completed asynchronously and then failed verification: the socket is
      -- already closed.  The reason went to nginx's error.log.
      sess, herr = nil, "certificate verification failed (the reason is in nginx's error.log)"
    end
    if not sess then
      sock:close()
      if herr == "timeout" then
        return nil, terr("timeout", "TLS handshake with " .. host .. " timed out", false)
      end
      herr = tostring(herr)
      local msg = "TLS handshake with " .. host .. " failed: " .. herr
      if is_ip(host) and (find(herr, "mismatch", 1, true) or find(herr, "verification failed", 1, true)) then
        msg = msg .. "; nginx verifies certificates against DNS names only: use a host name, not an IP address"
      elseif not find(herr, "mismatch", 1, true) and (find(herr, "^%d+: ") or find(herr, "certificate", 1, true)) then
        -- an X509 verification error ("20: unable to get local issuer certificate", …)
        msg = msg .. "; is the issuing CA in lua_ssl_trusted_certificate (nginx.conf)?"
      end
      return nil, terr("tls", msg, false)
    end
  end
  return sock, nil, 0
end

-- One exchange on an open socket. -> res | nil, terr, stale
-- `stale` is true when the socket failed (closed / reset, not a timeout)
-- before any byte of a response arrived: on a reused connection, that is a
-- connection the server had already dropped.
local function exchange(self, sock, method, head, deadline, poolable)
  local left = deadline - ngx_now()
  if left <= 0 then
    sock:close()
    return nil, terr("timeout", "the attempt timed out before the request was sent", false)
  end
  sock:settimeout(ceil(left * 1000))
  local bytes, err = sock:send(head)
  if not bytes then
    sock:close()
    return nil, io_err("sending the request", err, true), err ~= "timeout"
  end
  local status, headers, minor, rest = read_response_head(sock, deadline, "")
  if not status then
    sock:close()
    local herr, got_any = headers, minor
    return nil, herr, not got_any and herr.kind == "network"
  end
  local body, clean = read_body(sock, method, status, headers, deadline, self.max_body, rest)
  if not body then
    sock:close() -- never pooled: the rest of this response may still arrive
    return nil, clean
  end
  if poolable and clean and not server_closes(headers, minor) then
    if sock:setkeepalive(self.keepalive_ms, self.pool_size) then
      self.stats.pooled = self.stats.pooled + 1
    else
      sock:close()
    end
  else
    sock:close()
  end
  return { status = status, headers = headers, body = body }
end

---------------------------------------------------------------------------
-- The transport

--- new(opts) -> transport.  Holds no socket: cosockets cannot outlive the
--- request or timer that made them, so each call takes one from the pool.
function _M.new(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.timeout = o.timeout or limits.TIMEOUT
  o.connect_timeout = o.connect_timeout or limits.CONNECT_TIMEOUT
  if o.proxy == "env" then o.proxy = nil end -- konnect.pats resolves "env" to a URL before
  if o.proxy ~= nil then
    local phost, pport = parse_proxy(o.proxy)
    if phost then o.proxy_host, o.proxy_port = phost, pport else o.proxy_error = pport end
  end
  -- diagnostics (per transport object, i.e. per client and worker)
  local stats = { requests = 0, connects = 0, reused = 0, pooled = 0, stale_retries = 0 }
  return setmetatable({
    opts = o, stats = stats, max_body = o.max_body or limits.MAX_BODY,
    keepalive_ms = floor(limits.KEEPALIVE_TIMEOUT * 1000), pool_size = limits.POOL_SIZE,
    origins = {}, norigins = 0,
  }, mt)
end

local function refuse(message)
  return nil, terr("invalid_argument", message, false)
end

--- request(req) -> res | nil, terr  (see HACKING.md, "Transport contract")
function _M:request(req)
  local o = self.opts
  self.stats.requests = self.stats.requests + 1
  if o.proxy_error then return refuse("bad proxy: " .. o.proxy_error) end
  local url = req.url
  if type(url) ~= "string" then return refuse("unparseable URL: the URL must be a string") end
  -- "scheme://authority" and the target, in one match; the origin is cached
  local base, target = match(url, "^(%a[%w+.-]*://[^/?#]*)(.*)$")
  if not base then return refuse("unparseable URL: not an absolute URL") end
  local e = self.origins[base]
  if not e then
    local perr
    e, perr = origin(self, base)
    if not e then return refuse("unparseable URL: " .. perr) end
  end
  if target == "" then
    target = "/"
  elseif find(target, "[%c #]") then
    local hash = find(target, "#", 1, true)
    if hash then target = sub(target, 1, hash - 1) end
    if find(target, "[%c ]") then return refuse("the URL path contains spaces or control characters") end
    if target == "" then target = "/" end
  end
  if byte(target, 1) == 63 then target = "/" .. target end -- "?query"
  local method = req.method
  if not KNOWN_METHODS[method] and not (type(method) == "string" and find(method, "^[%w!#$%%&'*+.^_`|~-]+$")) then
    return refuse("invalid request method")
  end
  local hl = req.header_lines
  local block = type(hl) == "table" and hl[SEAL]
  if not block then
    local berr
    if type(hl) == "string" then -- a block made elsewhere: checked on every call
      block, berr = check_block(hl)
    else
      block, berr = build_block(req.headers)
    end
    if not block then return refuse(berr) end
  end
  local body = req.body
  local head
  if body then
    if type(body) ~= "string" then return refuse("the request body must be a string") end
    head = method .. " " .. e.prefix .. target .. e.tail .. block .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
  elseif BODY_METHODS[method] then
    head = method .. " " .. e.prefix .. target .. e.tail .. block .. "Content-Length: 0\r\n\r\n"
  else
    head = method .. " " .. e.prefix .. target .. e.tail .. block .. "\r\n"
  end
  local deadline = now() + (req.timeout or o.timeout)
  local connect_timeout = req.connect_timeout or o.connect_timeout
  local sock, err, reused = open(self, e, deadline, connect_timeout)
  if not sock then return nil, err end
  local res, xerr, stale = exchange(self, sock, method, head, deadline, true)
  if res or not (stale and reused > 0) then return res, xerr end
  -- The pooled connection had been closed by the server.  The request may
  -- still have been processed: a non-idempotent one (`once`) is never sent
  -- again; any other goes once more on a new connection, flagged `resent`.
  if req.once then
    xerr.sent = true
    xerr.message = "the kept-alive connection closed before any response; the request "
      .. "may have been processed, so it was not sent again (" .. tostring(xerr.message) .. ")"
    return nil, xerr
  end
  self.stats.stale_retries = self.stats.stale_retries + 1
  sock, err = open(self, e, deadline, connect_timeout, true)
  if not sock then
    err.sent = true -- the request went out on the stale connection, whatever became of it
    return nil, err
  end
  local res2, err2 = exchange(self, sock, method, head, deadline, false)
  if res2 then res2.resent = true elseif err2 then err2.sent = true end
  return res2, err2
end

_M.now = now
_M.sleep = ngx_sleep

--- No per-client connections: the keepalive pool belongs to the nginx worker.
function _M.close()
  return true
end

function _M.user_agent_suffix()
  local v = ngx.config and ngx.config.ngx_lua_version
  if type(v) ~= "number" then return "ngx_lua" end
  return format("ngx_lua/%d.%d.%d", floor(v / 1000000), floor(v / 1000) % 1000, v % 1000)
end

return _M
