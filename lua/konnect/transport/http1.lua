-- konnect.transport.http1: the HTTP/1.1 wire format of the cosocket
-- transport, with no I/O: URLs, the request head (built from a header block
-- checked once, see header_lines), and the parsing of a response head.
-- konnect.transport.http1_read reads responses off a socket with these;
-- konnect.transport.cosocket owns the sockets.  Nothing here raises on any
-- input, and nothing here needs nginx.

local limits = require "konnect.limits"

local type, pairs, tonumber = type, pairs, tonumber
local concat = table.concat
local find, sub, lower, match, byte = string.find, string.sub, string.lower, string.match, string.byte

local _M = { _VERSION = limits.VERSION }

local DEFAULT_PORTS = { http = 80, https = 443 }
local BODY_METHODS = { POST = true, PUT = true, PATCH = true }
local KNOWN_METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true,
                        OPTIONS = true }
-- request headers the transport writes itself (a caller's copy is dropped)
local OWN_HEADERS = { host = true, ["content-length"] = true, connection = true, ["transfer-encoding"] = true }
_M.DEFAULT_PORTS = DEFAULT_PORTS

--- terr(kind, message, sent) -> a transport error (HACKING.md, "Transport contract")
local function terr(kind, message, sent)
  return { kind = kind, message = message, sent = sent }
end
_M.terr = terr

---------------------------------------------------------------------------
-- URLs

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

--- request_head(req, target, prefix, tail) -> the request's bytes (head and body) | nil, message
--- target: req.url after its "scheme://authority" (the caller split it off);
--- prefix: what goes before the path (the absolute-form origin through an
--- http proxy, else ""); tail: " HTTP/1.1\r\nHost: …\r\n" and any other
--- per-origin line.
function _M.request_head(req, target, prefix, tail)
  if target == "" then
    target = "/"
  elseif find(target, "[%c #]") then
    local hash = find(target, "#", 1, true)
    if hash then target = sub(target, 1, hash - 1) end
    if find(target, "[%c ]") then return nil, "the URL path contains spaces or control characters" end
    if target == "" then target = "/" end
  end
  if byte(target, 1) == 63 then target = "/" .. target end -- "?query"
  local method = req.method
  if not KNOWN_METHODS[method] and not (type(method) == "string" and find(method, "^[%w!#$%%&'*+.^_`|~-]+$")) then
    return nil, "invalid request method"
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
    if not block then return nil, berr end
  end
  local body = req.body
  if body then
    if type(body) ~= "string" then return nil, "the request body must be a string" end
    return method .. " " .. prefix .. target .. tail .. block .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
  elseif BODY_METHODS[method] then
    return method .. " " .. prefix .. target .. tail .. block .. "Content-Length: 0\r\n\r\n"
  end
  return method .. " " .. prefix .. target .. tail .. block .. "\r\n"
end

---------------------------------------------------------------------------
-- The response head

-- Where a head ends (its blank line: "\r\n\r\n", or bare "\n\n" / "\n\r\n") | nil
function _M.head_end(buf)
  local _, e = find(buf, "\n\r\n", 1, true)
  local _, e2 = find(buf, "\n\n", 1, true)
  if e2 and (not e or e2 < e) then return e2 end
  return e
end

-- "HTTP/1.x NNN …\r\nName: value\r\n…\r\n" -> status, headers, minor | nil
-- Plain finds, not patterns per line (3x faster); linear in the head's size
-- whatever its shape (the next colon is searched for once, not per line).
function _M.parse_head(head)
  local mi, code, pos = match(head, "^HTTP/1%.(%d) ([1-5]%d%d)%f[ \r\n][^\n]*\n()")
  if not mi then return nil end
  local headers, len, colon, last = {}, #head, 0, nil
  while pos <= len do
    local eol = find(head, "\n", pos, true) or len + 1
    if colon < pos then colon = find(head, ":", pos, true) or len + 1 end
    local c = byte(head, pos)
    if c == 32 or c == 9 then
      -- an obsolete folded line (RFC 9112 5.2: a user agent replaces the fold with a space): the
      -- previous field's value goes on; with no field before it, the head is malformed (as libcurl says)
      if not last then return nil end
      local vs, ve = pos, eol - 1
      c = byte(head, vs)
      while vs <= ve and (c == 32 or c == 9) do vs = vs + 1; c = byte(head, vs) end
      c = byte(head, ve)
      while ve >= vs and (c == 13 or c == 32 or c == 9) do ve = ve - 1; c = byte(head, ve) end
      if ve >= vs then headers[last] = headers[last] .. " " .. sub(head, vs, ve) end
    -- a field line (not the blank line)
    elseif colon < eol and colon > pos then
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
      last = name
    end
    pos = eol + 1
  end
  return tonumber(code), headers, tonumber(mi)
end

-- Content-Length: one number, or repeats of the same number.  -> len | nil
function _M.content_length(cl)
  local len = match(cl, "^[ \t]*(%d+)[ \t]*$")
  if len then return tonumber(len) end
  local first
  for v in (cl .. ","):gmatch("[ \t]*([^,]-)[ \t]*,") do -- rare: only for a joined header
    if not find(v, "^%d+$") or (first and v ~= first) then return nil end
    first = v
  end
  return first and tonumber(first)
end

-- Does the Connection header (or HTTP/1.0) say the server closes?
function _M.server_closes(headers, minor)
  local c = headers["connection"]
  if c == nil then return minor == 0 end
  c = lower(c)
  if find(c, "close", 1, true) then return true end
  return minor == 0 and not find(c, "keep-alive", 1, true)
end

return _M
