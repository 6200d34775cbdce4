-- konnect.transport.cosocket: the transport over ngx.socket.tcp (OpenResty,
-- nginx + ngx_lua).  Non-blocking: while a call waits for Konnect, the nginx
-- worker keeps serving other requests.
--
-- This module owns the sockets: connections, the keepalive pool, TLS, the
-- proxy (absolute-form or CONNECT tunnel), the one deadline per attempt, the
-- stale-connection retry and the transport object.  The HTTP/1.1 format is
-- konnect.transport.http1 (URLs, request heads, response heads); reading a
-- response, bounded against hostile servers, is konnect.transport.http1_read.
--
-- HTTP/1.1 only (a Personal Access Token call is one small request; HTTP/2
-- buys nothing here).  Connections go back to nginx's per-worker keepalive
-- pool after a response was read in full and nothing else arrived; the pool
-- name is everything that changes trust (scheme, host = TLS server name,
-- port, CA file/path, proxy and its credentials), so a connection verified
-- for one setting is never handed to another.
--
-- TLS: `sock:sslhandshake` with SNI and certificate verification always on.
-- The trusted CAs come from nginx.conf (`lua_ssl_trusted_certificate`,
-- `lua_ssl_verify_depth`) in effect where the call runs (the location of the
-- request; for a timer, the location that made it; in init_worker, the http
-- block).  ngx_lua 0.10.23 can neither take a CA file per socket nor tell Lua
-- which file that is, so the `ca_file` / `ca_path` options name the trust a
-- connection was verified under: a client that names none never pools its
-- https connections (every call verifies a new one), since a pooled one could
-- carry one location's trust into a location that trusts other CAs.  A client
-- names, with ca_file, the lua_ssl_trusted_certificate of the locations it is
-- called from.  Without `lua_ssl_trusted_certificate` every https call fails
-- with kind "tls".
-- nginx checks the certificate against DNS names only (not iPAddress SANs),
-- so use a host name in https URLs, not an IP address.
--
-- Host names are resolved by nginx's `resolver` directive, except `localhost`
-- (and `*.localhost`), which is loopback by definition (RFC 6761) and maps to
-- 127.0.0.1 without a resolver.
--
-- Options (from konnect.pats): timeout (seconds, the whole attempt),
-- connect_timeout, max_body (bytes), ca_file, ca_path, proxy (an explicit URL
-- or nil: konnect.pats resolves "env" before).  An "http://[user:pass@]host:port"
-- proxy gets absolute-form requests for http URLs and a CONNECT tunnel for
-- https ones, with `Proxy-Authorization: Basic` when it has credentials; an
-- https:// proxy is refused (kind invalid_argument): cosockets cannot run TLS
-- to the proxy and again inside the tunnel.  Messages name a proxy by
-- host:port only, never its URL or credentials.  Per call, req.timeout and
-- req.connect_timeout override the options.  Defaults, caps and the keepalive
-- pool (limits.KEEPALIVE_TIMEOUT, limits.POOL_SIZE) come from konnect.limits.
-- `http_version` is ignored: always HTTP/1.1.

local ngx = ngx
if type(ngx) ~= "table" or type(ngx.socket) ~= "table" or not ngx.socket.tcp then
  error("konnect.transport.cosocket needs nginx with ngx_lua (OpenResty): ngx.socket.tcp is missing", 0)
end
local limits = require "konnect.limits"
local http1 = require "konnect.transport.http1"
local http1_read = require "konnect.transport.http1_read"

local tcp = ngx.socket.tcp
local ngx_now, ngx_update_time, ngx_sleep = ngx.now, ngx.update_time, ngx.sleep

local type, pairs, tostring, tonumber, setmetatable, pcall = type, pairs, tostring, tonumber, setmetatable, pcall
local concat, floor, ceil, min = table.concat, math.floor, math.ceil, math.min
local find, sub, match, format, char = string.find, string.sub, string.match, string.format, string.char

local terr, io_err, parse_url, request_head = http1.terr, http1_read.io_err, http1.parse_url, http1.request_head
local read_response_head, read_body, server_closes = http1_read.read_response_head, http1_read.read_body,
  http1.server_closes
local DEFAULT_PORTS = http1.DEFAULT_PORTS

local _M = { _VERSION = limits.VERSION, name = "cosocket", parse_url = parse_url,
             header_lines = http1.header_lines }
local mt = { __index = _M, __name = "konnect.transport.cosocket" }

local function now()
  ngx_update_time()
  return ngx_now()
end

---------------------------------------------------------------------------
-- Origins and the proxy

-- localhost is loopback by definition; nginx's resolver would need a DNS server.
local function connect_host(host)
  if host == "localhost" or find(host, "%.localhost$") then return "127.0.0.1" end
  return host
end

local function is_ip(host)
  return find(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil or sub(host, 1, 1) == "["
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- The proxy option -> host, port, auth line ("Proxy-Authorization: …\r\n" | nil) | nil, message
-- (the message names the proxy by host:port at most)
local function parse_proxy(url)
  local p, err = limits.proxy(url)
  if not p then return nil, "bad proxy: " .. err end
  if p.scheme ~= "http" then
    return nil, format("the https:// proxy %s:%d is not supported by the cosocket transport (cosockets " ..
      "cannot speak TLS to a proxy and again inside its tunnel); use an http:// proxy", p.host, p.port)
  end
  local auth
  if p.userinfo then
    local user, pass = match(p.userinfo, "^([^:]*):?(.*)$")
    auth = "Proxy-Authorization: Basic " .. ngx.encode_base64(unescape(user) .. ":" .. unescape(pass)) .. "\r\n"
  end
  return p.host, p.port, auth
end

-- Everything about one origin (scheme://host:port) a call needs, computed once
-- per transport: where to connect, the keepalive pool, the Host line.
local MAX_ORIGINS = limits.ORIGINS_KEPT
local function origin(self, scheme_host_port)
  local o = self.opts
  local scheme, host, port = parse_url(scheme_host_port)
  if not scheme then return nil, host end
  local authority = (port == DEFAULT_PORTS[scheme]) and host or (host .. ":" .. port)
  local chost, cport = connect_host(host), port
  if o.proxy_host then chost, cport = connect_host(o.proxy_host), o.proxy_port end
  local pool = concat({ "konnect", scheme, host, port, o.ca_file or "", o.ca_path or "", o.proxy_id or "" }, "|")
  local via_proxy = o.proxy_host and scheme == "http"
  -- https without a named trust: never pooled (see the header)
  local poolable = scheme ~= "https" or o.ca_file ~= nil or o.ca_path ~= nil
  local e = {
    scheme = scheme, host = host, port = port, authority = authority, chost = chost, cport = cport,
    pool = { pool = pool }, fresh_pool = { pool = pool .. "|fresh" }, poolable = poolable,
    -- the request line's target prefix: absolute-form through an http proxy
    prefix = via_proxy and (scheme .. "://" .. authority) or "",
    tail = " HTTP/1.1\r\nHost: " .. authority .. "\r\n" .. (via_proxy and o.proxy_auth or ""),
  }
  if self.norigins >= MAX_ORIGINS then self.origins, self.norigins = {}, 0 end
  self.origins[scheme_host_port] = e
  self.norigins = self.norigins + 1
  return e
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
    local what = self.opts.proxy_host and "the proxy " or ""
    if err == "timeout" then
      return nil, terr("timeout", format("connecting to %s%s:%d timed out", what, e.chost, e.cport), false)
    end
    return nil, terr("connect", format("cannot connect to %s%s:%d: %s", what, e.chost, e.cport, tostring(err)),
      false)
  end
  local reused = sock:getreusedtimes() or 0
  if reused > 0 then
    stats.reused = stats.reused + 1
    return sock, nil, reused
  end
  stats.connects = stats.connects + 1
  local scheme, host = e.scheme, e.host
  local o = self.opts
  if o.proxy_host and scheme == "https" then
    -- a tunnel through the proxy; TLS runs end to end inside it
    local authority = host .. ":" .. e.port
    left = deadline - ngx_now()
    if left <= 0 then sock:close(); return nil, terr("timeout", "proxy CONNECT timed out", false) end
    sock:settimeout(ceil(left * 1000))
    local bytes, werr = sock:send("CONNECT " .. authority .. " HTTP/1.1\r\nHost: " .. authority .. "\r\n" ..
      (o.proxy_auth or "") .. "\r\n")
    if not bytes then
      sock:close()
      return nil, terr(werr == "timeout" and "timeout" or "connect", "proxy CONNECT failed: " .. tostring(werr), false)
    end
    local status, herr, _, rest = read_response_head(sock, deadline, "")
    if status ~= 200 or rest ~= "" then
      sock:close()
      local why = status and ("status " .. status) or herr.message
      return nil, terr(herr and herr.kind == "timeout" and "timeout" or "connect",
        format("the proxy %s:%d refused the tunnel: %s", e.chost, e.cport, why), false)
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
  -- o.proxy: a URL or nil, never "env" (konnect.pats resolves it; HACKING.md, "Proxies")
  if o.proxy ~= nil then
    local phost, pport, auth = parse_proxy(o.proxy)
    if phost then
      o.proxy_host, o.proxy_port, o.proxy_auth = phost, pport, auth
      -- connections tunnelled with one set of credentials are never handed to another
      o.proxy_id = phost .. ":" .. pport .. (auth and ("@" .. ngx.md5(auth)) or "")
    else
      o.proxy_error = pport
    end
    o.proxy = nil -- the URL may carry credentials: kept nowhere else
  end
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
  if o.proxy_error then return refuse(o.proxy_error) end
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
  local head, herr = request_head(req, target, e.prefix, e.tail)
  if not head then return refuse(herr) end
  local method = req.method
  local deadline = now() + (req.timeout or o.timeout)
  local connect_timeout = req.connect_timeout or o.connect_timeout
  local sock, err, reused = open(self, e, deadline, connect_timeout, not e.poolable)
  if not sock then return nil, err end
  local res, xerr, stale = exchange(self, sock, method, head, deadline, e.poolable)
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
