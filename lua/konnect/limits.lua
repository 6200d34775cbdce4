-- konnect.limits: the one rulebook.  The version, every default, every cap and
-- every input rule are defined here, once; the client, both transports, batch
-- and the CLI read them from here.  The C core (csrc/, its numbers in
-- csrc/core.h) keeps only the checks memory safety needs, and
-- spec/limits_spec.lua proves that both sides agree (the same table of cases
-- fed to both, and its numbers against these).
--
-- Rules return the (normalised) value, or nil and a message that names the
-- value's role but never repeats a secret.

local type, tostring, tonumber, floor, find, byte, format, lower =
  type, tostring, tonumber, math.floor, string.find, string.byte, string.format, string.lower

local _M = {}

_M.NAME = "lua-konnect"
_M.VERSION = "0.3.0"

-- Where the PAT endpoints live (they are global, not regional).
_M.DEFAULT_SERVER = "https://global.api.konghq.com"

-- Time, in seconds.
_M.TIMEOUT = 30               -- one attempt, from connect to the last body byte
_M.CONNECT_TIMEOUT = 10       -- the connect (and TLS handshake) part of it
_M.MAX_TIMEOUT = 86400        -- the largest timeout or connect_timeout accepted (C: KC_MAX_TIMEOUT_S)

-- Sizes, in bytes.
_M.MAX_BODY = 4 * 1024 * 1024         -- default response body cap
_M.MAX_BODY_MIN = 1024                -- the smallest max_body accepted (C agrees)
_M.MAX_BODY_MAX = 1024 * 1024 * 1024  -- the largest (C: KC_MAX_MAX_BODY)
_M.MAX_HEADER_BYTES = 64 * 1024       -- status line + headers of one response (C: KC_MAX_HEADER_BYTES)
_M.MAX_CHUNK_LINE = 1024              -- one chunk-size line of a chunked body
_M.MAX_HEADER_VALUE = 8 * 1024        -- one request header value we send (C: KC_MAX_HEADER_VALUE)
_M.MAX_HEADER_NAME = 256              -- one request header name we send (C: KC_MAX_HEADER_NAME)
_M.TOKEN_MAX = 4096                   -- an access token
_M.PATH_MAX = 4096                    -- a ca_file / ca_path name
_M.ERROR_BODY_CAP = 2048              -- the raw body kept in an error
_M.MESSAGE_CAP = 300                  -- a server string quoted in a message
_M.REQUEST_ID_MAX = 128               -- a server's X-Kong-Request-Id kept in meta and errors
_M.READ_CHUNK = 64 * 1024             -- the most one cosocket read asks for

-- What the library keeps and how deep it walks (its own memory and stack).
_M.JSON_MAX_DEPTH = 64                -- nesting of a JSON document decoded or rendered (C walk: KC_CLEAN_MAX_DEPTH)
_M.REDACT_MAX_DEPTH = 64              -- nesting of a value redacted (deeper: masked whole)
_M.SECRETS_CACHED = 64                -- secrets whose base64 fragments redaction keeps
_M.UUIDS_REMEMBERED = 256             -- ids that passed validation, remembered to skip the pattern
_M.ORIGINS_KEPT = 64                  -- scheme://host:port entries the cosocket transport keeps
_M.STATE_NAME_MAX = 64                -- a token state name given to prune

-- Batches.
_M.BATCH_CONCURRENCY = 8
_M.BATCH_MAX_CONCURRENCY = 256        -- (C: KC_MAX_CONCURRENCY)

-- Retries (see konnect.retry).
_M.RETRIES = { max_attempts = 3, initial = 0.5, max = 8, max_elapsed = 60 }

-- The cosocket transport's keepalive pool.
_M.KEEPALIVE_TIMEOUT = 60
_M.POOL_SIZE = 16

-- The contract's bounds.
_M.TTL_MIN, _M.TTL_MAX = 86400, 31536000  -- 1 day .. 365 days
_M.NAME_MAX = 256                          -- characters of a token name
_M.TOKEN_QUOTA = 10                        -- personal access tokens per user (Konnect's documented limit)
_M.ROTATE_TTL = 30 * 86400                 -- a replacement's lifetime when the old one's is unknown
_M.REVOCATION_LAG = 15 * 60                -- a revoked token may keep working this long (Konnect's docs)

-- The lifecycle helpers (konnect.lifecycle, konnect.accounts).
_M.ROTATE_OLD = "delete"                   -- what rotate does with the old token by default
_M.PRUNE_STATES = { "REVOKED", "EXPIRED" } -- what prune deletes by default
_M.SA_TTL_MAX = 10 * 365 * 86400           -- create_sa_token's ttl_seconds convenience (our cap; the contract
                                           -- has no ttl_seconds for system-account tokens)

-- Paged lists (konnect.pages).  The contract gives no page size limit; the
-- fake serves at most 100 and says so in meta.page.size.
_M.PAGE_SIZE = 100                         -- page[size] asked by list_* and each_* unless query.page_size
_M.PAGE_SIZE_MAX = 1000                    -- the largest query.page_size accepted
_M.MAX_PAGES = 100                         -- list_* fetches at most this many pages (query.max_pages)
_M.MAX_PAGES_CEILING = 10000               -- the largest query.max_pages, and each_*'s bound
_M.FILTER_MAX = 1024                       -- bytes of one filter value

-- The audit (konnect.audit) and its rate-limit gate (konnect.batch, strict).
_M.AUDIT_EXPIRING = 7 * 86400              -- "expiring": expires within this many seconds
_M.AUDIT_UNUSED = 90 * 86400               -- "unused": last used at least this long ago
_M.AUDIT_NEAR_QUOTA = 8                    -- a user holding this many of TOKEN_QUOTA PATs is near the quota
_M.RATE_LIMIT_WAIT = 60                    -- a 429 with no Retry-After (nor RateLimit-Reset) holds every call
                                           -- this long (one minute: Kong's per-minute window), doubled
                                           -- when the probe after it is refused too
_M.RATE_LIMIT_MAX_WAIT = 3600              -- the longest hold the audit accepts; a longer one ends it

---------------------------------------------------------------------------
-- input rules

local function is_number(v)
  return type(v) == "number" and v == v and v ~= 1 / 0 and v ~= -1 / 0
end
_M.is_number = is_number

--- A finite whole number.
function _M.is_integer(v)
  return is_number(v) and v == floor(v)
end

--- seconds(v, what) -> v | nil, msg: a timeout, > 0 and at most MAX_TIMEOUT.
function _M.seconds(v, what)
  if not is_number(v) or v <= 0 or v > _M.MAX_TIMEOUT then
    return nil, format("%s must be a number of seconds above 0 and at most %d", what, _M.MAX_TIMEOUT)
  end
  return v
end

--- max_body(v) -> v | nil, msg
function _M.max_body(v)
  if not _M.is_integer(v) or v < _M.MAX_BODY_MIN or v > _M.MAX_BODY_MAX then
    return nil, "max_body must be a whole number of bytes from 1024 to 1 GiB"
  end
  return v
end

--- concurrency(v) -> v | nil, msg
function _M.concurrency(v)
  if not _M.is_integer(v) or v < 1 or v > _M.BATCH_MAX_CONCURRENCY then
    return nil, "batch concurrency must be an integer from 1 to " .. _M.BATCH_MAX_CONCURRENCY
  end
  return v
end

-- RFC 9110 token characters.
local HEADER_NAME = "^[%w!#$%%&'*+.^_`|~-]+$"

--- header_name(k) -> k | nil, msg
function _M.header_name(k)
  if type(k) ~= "string" or not find(k, HEADER_NAME) or #k > _M.MAX_HEADER_NAME then
    return nil, "invalid header name " .. (type(k) == "string" and format("%q", k:sub(1, 64)) or type(k))
  end
  return k
end

-- A field value we send: visible ASCII, space, horizontal tab and bytes >= 0x80
-- (obs-text); no other control character (CR and LF above all: they would
-- inject headers).  The C core refuses the same bytes.
local function has_ctl(s)
  for i = 1, #s do
    local c = byte(s, i)
    if (c < 32 and c ~= 9) or c == 127 then return true end
  end
  return false
end
_M.has_ctl = has_ctl

--- header_value(v, what) -> v | nil, msg
function _M.header_value(v, what)
  what = what or "header value"
  if type(v) ~= "string" then return nil, what .. " must be a string, got " .. type(v) end
  if #v > _M.MAX_HEADER_VALUE then return nil, what .. " is longer than " .. _M.MAX_HEADER_VALUE .. " bytes" end
  if has_ctl(v) then return nil, what .. " must not contain control characters (CR, LF, NUL, …)" end
  return v
end

-- Request headers the library sets itself: refused in the headers option
-- and in per-call headers.
_M.LIBRARY_HEADERS = {
  authorization = true, host = true, ["content-length"] = true, ["transfer-encoding"] = true,
  connection = true, ["user-agent"] = true, accept = true, ["content-type"] = true,
  ["proxy-authorization"] = true,
}

--- request_header(k, v, what) -> k, v | nil, msg: a caller's extra request
--- header (the headers option of pats.new, or a call's headers).
function _M.request_header(k, v, what)
  local ok, err = _M.header_name(k)
  if not ok then return nil, what .. ": " .. err end
  if _M.LIBRARY_HEADERS[lower(k)] then
    return nil, what .. ": " .. k .. " is set by the library" ..
      (lower(k) == "user-agent" and " (use the user_agent option)" or "")
  end
  ok, err = _M.header_value(v, what .. ": value of " .. k)
  if not ok then return nil, err end
  return k, v
end

--- user_agent(v) -> v | nil, msg
function _M.user_agent(v)
  if type(v) == "string" and v == "" then return nil, "user_agent must not be empty" end
  return _M.header_value(v, "user_agent")
end

--- token(v) -> v | nil, msg (the message never contains the token)
function _M.token(v)
  if type(v) ~= "string" or v == "" then
    return nil, "token is required (a Konnect personal or system access token)"
  end
  if find(v, "^[Bb][Ee][Aa][Rr][Ee][Rr]%s") then
    return nil, "token must be the bare secret: drop the \"Bearer \" prefix (the library adds it)"
  end
  if find(v, "[%s%c\127]") then
    return nil, "token must not contain whitespace or control characters"
  end
  if #v > _M.TOKEN_MAX then return nil, "token is longer than " .. _M.TOKEN_MAX .. " bytes" end
  return v
end

--- host(h) -> lower-cased host | nil, msg.  A DNS name (RFC 1123 labels), a
--- dotted IPv4 address, or a bracketed IPv6 literal.
function _M.host(h)
  if type(h) ~= "string" or h == "" then return nil, "no host" end
  h = lower(h)
  if find(h, "^%[[%x:.]+%]$") then
    if #h > 47 or not find(h, ":", 1, true) then return nil, "invalid IPv6 address " .. h end
    return h
  end
  local a, b, c, d = h:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a then
    if a + 0 > 255 or b + 0 > 255 or c + 0 > 255 or d + 0 > 255 then
      return nil, "invalid IPv4 address " .. h
    end
    return h
  end
  if #h > 253 then return nil, "host name longer than 253 characters" end
  local name = h:gsub("%.$", "")
  for label in (name .. "."):gmatch("([^.]*)%.") do
    if label == "" or #label > 63 or not find(label, "^[%w]") or not find(label, "[%w]$")
       or find(label, "[^%w-]") then
      return nil, "invalid host name " .. format("%q", h:sub(1, 80))
    end
  end
  if find(name, "^[%d.]+$") then return nil, "invalid host name " .. h end
  return h
end

--- loopback(host) -> boolean: localhost, *.localhost, 127.0.0.0/8, [::1]
function _M.loopback(host)
  return host == "localhost" or find(host, "%.localhost$") ~= nil or host == "[::1]"
    or find(host, "^127%.%d+%.%d+%.%d+$") ~= nil
end

--- path(v, what) -> v | nil, msg: a file or directory name handed to the
--- core (ca_file, ca_path): a non-empty string without control characters.
function _M.path(v, what)
  if type(v) ~= "string" or v == "" then return nil, what .. " must be a non-empty path" end
  if has_ctl(v) then return nil, what .. " must not contain control characters" end
  if #v > _M.PATH_MAX then return nil, what .. " is longer than " .. _M.PATH_MAX .. " bytes" end
  return v
end

--- ttl(v) -> v | nil, msg: a token lifetime in whole seconds within the
--- contract's bounds.  Never formats the value with %d (which raises on 5.3+
--- for inf, NaN and numbers beyond 2^63).
function _M.ttl(v)
  if not _M.is_integer(v) then
    local got = type(v) == "number" and tostring(v) or type(v)
    return nil, "ttl_seconds must be an integer number of seconds, got " .. got
  end
  if v < _M.TTL_MIN or v > _M.TTL_MAX then
    return nil, format("ttl_seconds must be between %d (1 day) and %d (365 days), got %s",
      _M.TTL_MIN, _M.TTL_MAX, v > -1e15 and v < 1e15 and format("%.0f", v) or "a number out of range")
  end
  return floor(v)
end

--- proxy(v) -> { scheme, host, port, url, userinfo } | nil, msg.  A proxy URL:
--- "http://[user:pass@]host[:port]" or "https://…" (no path beyond "/").
--- The message never repeats the URL (it may carry credentials).
function _M.proxy(v)
  if type(v) ~= "string" or v == "" then return nil, "proxy must be a URL string" end
  local scheme, authority, path = v:match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil, "proxy must be an http:// or https:// URL" end
  scheme = lower(scheme)
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "proxy must be an http:// or https:// URL (got scheme " .. scheme:sub(1, 16) .. ")"
  end
  if path ~= "" and path ~= "/" then return nil, "proxy URL must not have a path, query or fragment" end
  local userinfo, hostport = authority:match("^(.*)@([^@]*)$")
  if not userinfo then hostport = authority end
  if userinfo and (userinfo == "" or has_ctl(userinfo) or find(userinfo, "[%s/]")) then
    return nil, "proxy URL has malformed credentials"
  end
  local host, port = hostport:match("^(%[[%x:.]+%]):?(%d*)$")
  if not host then host, port = hostport:match("^([^:]*):?(%d*)$") end
  if not host then return nil, "proxy URL has no valid host" end
  local h, herr = _M.host(host)
  if not h then return nil, "proxy URL: " .. herr end
  if port == "" then
    port = scheme == "https" and 443 or 1080
  else
    port = tonumber(port)
    if not port or port < 1 or port > 65535 then return nil, "proxy URL port out of range" end
  end
  return { scheme = scheme, host = h, port = port, userinfo = userinfo,
           url = scheme .. "://" .. (userinfo and (userinfo .. "@") or "") .. hostport }
end

--- no_proxy(list, host) -> true when `host` is excluded from proxying by a
--- NO_PROXY list: comma (or space) separated names, "*" for every host, a
--- name matches itself and its subdomains (a leading dot is ignored).
function _M.no_proxy(list, host)
  if type(list) ~= "string" or list == "" then return false end
  host = lower(host):gsub("%.$", "")
  local bare = host:match("^%[(.*)%]$") or host
  for entry in list:gmatch("[^,%s]+") do
    entry = lower(entry)
    if entry == "*" then return true end
    entry = entry:match("^%[(.*)%]$") or entry:gsub(":%d+$", ""):gsub("^%.", ""):gsub("%.$", "")
    if entry ~= "" and (bare == entry or (#bare > #entry and bare:sub(-#entry - 1) == "." .. entry)) then
      return true
    end
  end
  return false
end

--- proxy_from_env(getenv, scheme, host) -> proxy URL | nil: what `proxy =
--- "env"` means for a request to scheme://host, as curl reads the environment:
--- https_proxy / HTTPS_PROXY for https, http_proxy (lower case only) for http,
--- then all_proxy / ALL_PROXY; no_proxy / NO_PROXY excludes hosts.  A value
--- without a scheme is an http proxy.
function _M.proxy_from_env(getenv, scheme, host)
  local function get(name)
    local v = getenv(name)
    if type(v) == "string" and v ~= "" then return v end
  end
  if _M.no_proxy(get("no_proxy") or get("NO_PROXY"), host) then return nil end
  local v
  if scheme == "https" then v = get("https_proxy") or get("HTTPS_PROXY")
  else v = get("http_proxy") end
  v = v or get("all_proxy") or get("ALL_PROXY")
  if v and not find(v, "://", 1, true) then v = "http://" .. v end
  return v
end

return _M
