-- konnect.transport.cosocket: the transport over ngx.socket.tcp (OpenResty,
-- nginx + ngx_lua).  Non-blocking: while a call waits for Konnect, the nginx
-- worker keeps serving other requests.
--
-- HTTP/1.1 only (a Personal Access Token call is one small request; HTTP/2
-- buys nothing here).  Connections go back to nginx's per-worker keepalive
-- pool after a response was read in full; the pool name includes everything
-- that changes trust (scheme, host = TLS server name, port, CA file/path, proxy), so a
-- connection verified for one setting is never handed to another.
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
-- ("http://host:port": absolute-form for http URLs, CONNECT tunnel for https),
-- keepalive_timeout (seconds, default 60), pool_size (default 16).
-- `http_version` is ignored: always HTTP/1.1.

local ngx = ngx
if type(ngx) ~= "table" or type(ngx.socket) ~= "table" or not ngx.socket.tcp then
  error("konnect.transport.cosocket needs nginx with ngx_lua (OpenResty): ngx.socket.tcp is missing", 0)
end
local tcp = ngx.socket.tcp
local ngx_now, ngx_update_time, ngx_sleep = ngx.now, ngx.update_time, ngx.sleep

local type, pairs, tostring, tonumber, setmetatable, pcall = type, pairs, tostring, tonumber, setmetatable, pcall
local concat, floor, max, min = table.concat, math.floor, math.max, math.min
local find, sub, lower, match, format, gsub = string.find, string.sub, string.lower, string.match,
  string.format, string.gsub

local _M = { _VERSION = "0.1.0", name = "cosocket" }
local mt = { __index = _M, __name = "konnect.transport.cosocket" }

local DEFAULT_PORTS = { http = 80, https = 443 }
local MAX_HEADER_BYTES = 64 * 1024   -- status line + headers of one response
local READ_CHUNK = 64 * 1024
local NO_BODY_STATUS = { [204] = true, [304] = true }
local BODY_METHODS = { POST = true, PUT = true, PATCH = true }

local function now()
  ngx_update_time()
  return ngx_now()
end

--- new(opts) -> transport.  Holds no socket: cosockets cannot outlive the
--- request or timer that made them, so each call takes one from the pool.
function _M.new(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.timeout = o.timeout or 30
  o.connect_timeout = o.connect_timeout or 10
  o.max_body = o.max_body or 4 * 1024 * 1024
  o.keepalive_ms = floor((o.keepalive_timeout or 60) * 1000)
  o.pool_size = o.pool_size or 16
  -- diagnostics (per transport object, i.e. per client and worker)
  local stats = { requests = 0, connects = 0, reused = 0, pooled = 0, stale_retries = 0 }
  return setmetatable({ opts = o, stats = stats }, mt)
end

-- "scheme://host[:port]/path?query" -> scheme, host, port, target
local function parse_url(url)
  local scheme, rest = match(url, "^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL: " .. tostring(url) end
  scheme = lower(scheme)
  if not DEFAULT_PORTS[scheme] then return nil, "unsupported URL scheme " .. scheme end
  local authority, target = match(rest, "^([^/?#]*)(.*)$")
  if find(authority, "@", 1, true) then return nil, "user info in URLs is not supported" end
  local host, port
  if sub(authority, 1, 1) == "[" then
    host, port = match(authority, "^(%[[%x:.]+%])(.*)$")
  else
    host, port = match(authority, "^([^:]*)(.*)$")
  end
  if not host or host == "" then return nil, "no host in URL " .. url end
  if port == "" then
    port = DEFAULT_PORTS[scheme]
  else
    port = tonumber(match(port, "^:(%d+)$"))
    if not port or port < 1 or port > 65535 then return nil, "bad port in URL " .. url end
  end
  target = gsub(target, "#.*$", "")
  if target == "" then target = "/" elseif sub(target, 1, 1) == "?" then target = "/" .. target end
  return scheme, lower(host), port, target
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

local function terr(kind, message, sent)
  return { kind = kind, message = message, sent = sent }
end

-- Map a cosocket error string to a transport error.
local function io_err(what, err, sent)
  if err == "timeout" then
    return terr("timeout", what .. " timed out", sent)
  end
  return terr("network", what .. " failed: " .. tostring(err), sent)
end

-- Milliseconds left before the attempt's deadline (at least 1).
local function remaining_ms(deadline)
  return max(1, floor((deadline - now()) * 1000))
end

-- Every I/O step gets what is left of the attempt (connect: at most connect_ms).
local function arm(sock, deadline, connect_ms)
  local ms = remaining_ms(deadline)
  sock:settimeouts(connect_ms and min(connect_ms, ms) or ms, ms, ms)
end

-- Read the status line and headers.  -> status, headers, http_minor | nil, err, got_any
local function read_head(sock, deadline)
  local headers, bytes = {}, 0
  local status, minor
  while true do
    arm(sock, deadline)
    local line, err, partial = sock:receive("*l")
    if not line then return nil, err, bytes > 0 or (partial ~= nil and partial ~= "") end
    bytes = bytes + #line + 2
    if bytes > MAX_HEADER_BYTES then return nil, "too_large", true end
    if not status then
      local mi, code = match(line, "^HTTP/1%.(%d) (%d%d%d)")
      if not mi then return nil, "bad status line: " .. sub(line, 1, 80), true end
      status, minor = tonumber(code), tonumber(mi)
    elseif line == "" then
      if status >= 100 and status < 200 and status ~= 101 then
        -- an interim response (100 Continue, 103 Early Hints): the real one follows
        status, headers = nil, {}
      else
        return status, headers, minor
      end
    else
      local name, value = match(line, "^([^:%s]+)%s*:%s*(.-)%s*$")
      if name then
        name = lower(name)
        local old = headers[name]
        headers[name] = old and (old .. ", " .. value) or value
      end
    end
  end
end

-- Does the Connection header (or HTTP/1.0) say the server closes?
local function server_closes(headers, minor)
  local c = headers["connection"]
  c = c and lower(c) or ""
  if find(c, "close", 1, true) then return true end
  if minor == 0 and not find(c, "keep-alive", 1, true) then return true end
  return false
end

-- Read the body.  -> body, reusable | nil, terr
local function read_body(sock, method, status, headers, deadline, max_body)
  if method == "HEAD" or NO_BODY_STATUS[status] or (status >= 100 and status < 200) then
    return "", true
  end
  local te = headers["transfer-encoding"]
  if te and find(lower(te), "chunked", 1, true) then
    local parts, n, total = {}, 0, 0
    while true do
      arm(sock, deadline)
      local line, err = sock:receive("*l")
      if not line then return nil, io_err("reading the response body", err, true) end
      local size = tonumber(match(line, "^%s*(%x+)"), 16)
      if not size then return nil, terr("network", "bad chunk size line in the response", true) end
      if size == 0 then
        -- trailers, up to the empty line
        repeat
          arm(sock, deadline)
          line, err = sock:receive("*l")
          if not line then return nil, io_err("reading the response trailers", err, true) end
        until line == ""
        return concat(parts), true
      end
      total = total + size
      if total > max_body then
        return nil, terr("too_large", format("response body exceeds the %d byte limit", max_body), true)
      end
      arm(sock, deadline)
      local data
      data, err = sock:receive(size)
      if not data then return nil, io_err("reading the response body", err, true) end
      n = n + 1
      parts[n] = data
      arm(sock, deadline)
      local crlf
      crlf, err = sock:receive("*l")
      if crlf ~= "" then
        return nil, crlf and terr("network", "malformed chunked body", true)
          or io_err("reading the response body", err, true)
      end
    end
  end
  local cl = headers["content-length"]
  if cl then
    local len = tonumber(match(cl, "^%s*(%d+)"))
    if not len then return nil, terr("network", "bad Content-Length in the response: " .. cl, true) end
    if len > max_body then
      return nil, terr("too_large", format("response body of %d bytes exceeds the %d byte limit", len, max_body), true)
    end
    if len == 0 then return "", true end
    arm(sock, deadline)
    local data, err = sock:receive(len)
    if not data then return nil, io_err("reading the response body", err, true) end
    return data, true
  end
  -- neither: the body runs until the server closes the connection
  local parts, n, total = {}, 0, 0
  while true do
    arm(sock, deadline)
    local data, err = sock:receiveany(READ_CHUNK)
    if not data then
      if err == "closed" then return concat(parts), false end
      return nil, io_err("reading the response body", err, true)
    end
    total = total + #data
    if total > max_body then
      return nil, terr("too_large", format("response body exceeds the %d byte limit", max_body), true)
    end
    n = n + 1
    parts[n] = data
  end
end

-- Parse "http://host:port" for the proxy option -> host, port | nil, err
local function parse_proxy(proxy)
  local scheme, host, port = parse_url(proxy)
  if not scheme then return nil, host end
  if scheme ~= "http" then return nil, "only http:// proxies are supported by the cosocket transport" end
  return host, port
end

-- The keepalive pool for a target: everything that changes trust is in the name.
local function pool_name(o, scheme, host, port)
  return concat({ "konnect", scheme, host, port, o.ca_file or "", o.ca_path or "", o.proxy or "" }, "|")
end

-- Open (or take from the pool) a connection ready for HTTP to scheme://host:port.
-- `fresh`: never take a pooled connection (and the caller will not pool this one).
-- -> sock, nil, reused_times | nil, terr
local function open(self, scheme, host, port, deadline, o, fresh)
  local stats = self.stats
  local chost, cport = connect_host(host), port
  if o.proxy then
    local phost, pport = parse_proxy(o.proxy)
    if not phost then return nil, terr("connect", "bad proxy " .. o.proxy .. ": " .. pport, false) end
    chost, cport = connect_host(phost), pport
  end
  local made, sock = pcall(tcp)
  if not made then
    -- e.g. transport = "cosocket" chosen explicitly in init_worker or log
    return nil, terr("connect", "cosockets are unavailable in the nginx " .. tostring(ngx.get_phase()) ..
      " phase (" .. tostring(sock) .. "); call from ngx.timer.at(0, fn)", false)
  end
  arm(sock, deadline, floor(o.connect_timeout * 1000))
  -- a fresh connection gets a pool of its own that never holds idle connections
  local pool = pool_name(o, scheme, host, port) .. (fresh and "|fresh" or "")
  local ok, err = sock:connect(chost, cport, { pool = pool })
  if not ok then
    if err == "timeout" then
      return nil, terr("timeout", format("connecting to %s:%d timed out", chost, cport), false)
    end
    return nil, terr("connect", format("cannot connect to %s:%d: %s", chost, cport, tostring(err)), false)
  end
  local reused = sock:getreusedtimes() or 0
  if reused > 0 then
    stats.reused = stats.reused + 1
    return sock, nil, reused
  end
  stats.connects = stats.connects + 1
  if o.proxy and scheme == "https" then
    -- a tunnel through the proxy; TLS runs end to end inside it
    local authority = host .. ":" .. port
    arm(sock, deadline)
    local bytes, werr = sock:send({ "CONNECT ", authority, " HTTP/1.1\r\nHost: ", authority, "\r\n\r\n" })
    if not bytes then
      sock:close()
      return nil, terr(werr == "timeout" and "timeout" or "connect", "proxy CONNECT failed: " .. tostring(werr), false)
    end
    local status, herr = read_head(sock, deadline)
    if status ~= 200 then
      sock:close()
      return nil, terr("connect", "the proxy refused the tunnel: " .. tostring(status or herr), false)
    end
  end
  if scheme == "https" then
    arm(sock, deadline)
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

-- The request head.  headers: { Name = value }
local function request_head(method, target, host, port, scheme, headers, body, via_proxy)
  local out, n = {}, 0
  local function add(...)
    local a = { ... }
    for i = 1, #a do n = n + 1; out[n] = a[i] end
  end
  local authority = (port == DEFAULT_PORTS[scheme]) and host or (host .. ":" .. port)
  if via_proxy and scheme == "http" then
    add(method, " ", scheme, "://", authority, target, " HTTP/1.1\r\n")
  else
    add(method, " ", target, " HTTP/1.1\r\n")
  end
  add("Host: ", authority, "\r\n")
  for k, v in pairs(headers or {}) do
    local lk = lower(k)
    if lk ~= "host" and lk ~= "content-length" and lk ~= "connection" and lk ~= "transfer-encoding" then
      add(k, ": ", v, "\r\n")
    end
  end
  if body then
    add("Content-Length: ", tostring(#body), "\r\n")
  elseif BODY_METHODS[method] then
    add("Content-Length: 0\r\n")
  end
  add("\r\n")
  if body and body ~= "" then add(body) end
  return out
end

-- One exchange on an open socket. -> res | nil, terr, stale
-- `stale` is true when the socket failed (closed / reset, not a timeout)
-- before any byte of a response arrived: on a reused connection, that is a
-- connection the server had already dropped.
local function exchange(self, sock, req, scheme, host, port, target, deadline, poolable)
  local o = self.opts
  arm(sock, deadline)
  local bytes, err = sock:send(request_head(req.method, target, host, port, scheme, req.headers, req.body,
                                            o.proxy ~= nil))
  if not bytes then
    sock:close()
    return nil, io_err("sending the request", err, true), err ~= "timeout"
  end
  local status, headers, minor = read_head(sock, deadline)
  if not status then
    sock:close()
    local herr, got_any = headers, minor
    if herr == "too_large" then
      return nil, terr("too_large", "response headers exceed " .. MAX_HEADER_BYTES .. " bytes", true)
    elseif find(herr, "^bad status line") then
      return nil, terr("network", herr, true)
    end
    return nil, io_err("reading the response", herr, true), not got_any and herr ~= "timeout"
  end
  local body, reusable = read_body(sock, req.method, status, headers, deadline, o.max_body)
  if not body then
    sock:close()
    return nil, reusable
  end
  if poolable and reusable and not server_closes(headers, minor) then
    local ok = sock:setkeepalive(o.keepalive_ms, o.pool_size)
    if ok then self.stats.pooled = self.stats.pooled + 1 end
  else
    sock:close()
  end
  return { status = status, headers = headers, body = body }
end

--- request(req) -> res | nil, terr  (see HACKING.md, "Transport contract")
function _M:request(req)
  local o = self.opts
  self.stats.requests = self.stats.requests + 1
  local scheme, host, port, target = parse_url(req.url)
  if not scheme then return nil, terr("connect", host, false) end
  local deadline = now() + (req.timeout or o.timeout)
  if req.connect_timeout then
    o = setmetatable({ connect_timeout = req.connect_timeout }, { __index = o })
  end
  local sock, err, reused = open(self, scheme, host, port, deadline, o)
  if not sock then return nil, err end
  local res, xerr, stale = exchange(self, sock, req, scheme, host, port, target, deadline, true)
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
  sock, err = open(self, scheme, host, port, deadline, o, true)
  if not sock then
    err.sent = true -- the request went out on the stale connection, whatever became of it
    return nil, err
  end
  local res2, err2 = exchange(self, sock, req, scheme, host, port, target, deadline, false)
  if res2 then res2.resent = true end
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

-- { Name = value } -> { "Name: value" } (konnect.pats precomputes these per transport)
function _M.header_lines(headers)
  local lines, n = {}, 0
  for k, v in pairs(headers) do
    n = n + 1
    lines[n] = k .. ": " .. v
  end
  return lines
end

return _M
