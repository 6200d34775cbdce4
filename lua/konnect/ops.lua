-- konnect.ops: a call from a row of the operation table (konnect.operations):
-- its arguments checked and its URL and body made before any I/O, the
-- per-call options, and "me" resolution.  Used by konnect.pats (one call),
-- konnect.pages (paged lists), konnect.batch (many): all build a call the
-- same way.

local errors   = require "konnect.errors"
local validate = require "konnect.validate"
local http     = require "konnect.http"
local limits   = require "konnect.limits"
local retry    = require "konnect.retry"

local type, pairs, ipairs, format = type, pairs, ipairs, string.format

local _M = {}

local OPS = require "konnect.operations"

-- the URL of `op` under `base` (a server_url) for its parameters (already
-- checked)
local function url_of(base, op, user_id, token_id)
  local n = op.nparams
  if n == 2 then return base .. op.p1 .. user_id .. op.p2 .. token_id .. op.p3 end
  if n == 1 then return base .. op.p1 .. user_id .. op.p2 end
  return base .. op.p1
end
_M.url_of = url_of
_M.OPERATIONS = OPS

-- The per-call options (the Go SDK's WithOperationTimeout, WithRetries,
-- WithSetHeaders, WithServerURL), checked by the same rules as pats.new's.
local CALL_OPTIONS = { headers = true, retries = true, server_url = true, timeout = true }
_M.CALL_OPTIONS = CALL_OPTIONS

--- call_options(c, v, what) -> nil (no options) | copts | nil, err.
--- copts = { timeout, policy, headers (the extra ones), base, server }.
function _M.call_options(c, v, what)
  if v == nil then return nil end
  if type(v) ~= "table" then
    return nil, errors.invalid_argument(what .. ": the per-call options must be a table " ..
      "{ timeout =, retries =, headers =, server_url = }, got " .. type(v))
  end
  local o = {}
  for k, x in pairs(v) do
    if not CALL_OPTIONS[k] then
      return nil, errors.invalid_argument(format("%s: unknown per-call option %s (expected headers, retries, " ..
        "server_url, timeout)", what, type(k) == "string" and k or "(a " .. type(k) .. ")"))
    end
    local err
    if k == "timeout" then
      o.timeout, err = limits.seconds(x, "timeout")
    elseif k == "retries" then
      o.policy, err = retry.policy(x, c.policy)
    elseif k == "headers" then
      if type(x) ~= "table" then
        err = "headers must be a table { Name = value }"
      else
        local h = {}
        for hk, hv in pairs(x) do
          local name, value = limits.request_header(hk, hv, "headers")
          if not name then err = value; break end
          h[name] = value
        end
        o.headers = h
      end
    else -- server_url
      local server
      server, err = validate.server_url(x, c.allow_insecure_http)
      if server and c.proxy and server.scheme == "http" and c.proxy.scheme == "http" and
         not limits.loopback(c.proxy.host) and not c.allow_insecure_http then
        server, err = nil, "refusing plain http through the plain-http proxy " .. c.proxy.host ..
          " (the token would travel in clear); use https, or allow_insecure_http = true"
      end
      if server then o.base, o.server = server.base, server end
    end
    if err then return nil, errors.invalid_argument(what .. ": " .. err) end
  end
  return o
end

-- a system-account token (spat_) has no user of its own: the server refuses
-- /users/me for it (401 or 403; 404 elsewhere, perhaps).  And the contract
-- lists personal, Konnect and service access tokens for the PAT operations,
-- never system-account tokens: a user id instead of "me" is no way out.
local REFUSED = { unauthorized = true, forbidden = true, not_found = true }
local function spat_hint(c, err)
  if err and REFUSED[err.kind] and type(c.token) == "string" and c.token:sub(1, 5) == "spat_"
     and type(err.message) == "string" then
    err.hint = "a spat_ token (a system account's) has no user, so it cannot stand for \"me\"; the " ..
      "contract's personal access token operations take personal, Konnect or service access tokens, not " ..
      "system-account tokens"
    err.message = err.message .. " (" .. err.hint .. ")"
  end
  return err
end
_M.spat_hint = spat_hint

-- A failure to resolve "me" is reported as a failure of the operation the
-- caller called (op_id), saying that resolving "me" failed, unless it was a
-- local failure (nothing sent: no transport, a phase without cosockets).
local LOCAL = { system = true, invalid_context = true, invalid_argument = true }
local function resolving(err, op_id)
  if op_id and op_id ~= OPS.me.id then
    err.operation = op_id
    if not LOCAL[err.kind] then
      err.message = "resolving \"me\" (GET /v3/users/me) failed: " .. tostring(err.message)
    end
  end
  return err
end

--- resolve_user(c, user_id, copts, op_id) -> user id | nil, err.  "me" becomes
-- the caller's user id, asked once per client and server (GET /v3/users/me):
-- c.me_id for the client's server_url, c.me_ids[base] for a call's own.
-- op_id: the operation called, which a failure is reported as.
function _M.resolve_user(c, user_id, copts, op_id)
  if user_id ~= "me" then return user_id end
  local base = copts and copts.base
  if base == c.base then base = nil end
  local known
  if base then known = c.me_ids[base] else known = c.me_id end
  if known then return known end
  local me, err = http.request(c, OPS.me, (base or c.base) .. OPS.me.path, nil, copts)
  if not me then return nil, resolving(spat_hint(c, err), op_id) end
  local id = validate.uuid(me.id, "user id")
  if not id then
    return nil, resolving(errors.new("decode", { operation = OPS.me.id,
      message = "GET /v3/users/me returned no valid user id" }), op_id)
  end
  if base then
    c.me_ids[base] = id
  else
    c.me_id = id
  end
  return id
end

-- RFC 3986 unreserved characters stay, every other byte is %XX (brackets
-- too, as Go's url.Values.Encode writes the Go SDK's deepObject filters)
local function pct(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return format("%%%02X", ch:byte()) end))
end

--- query_string(q) -> "?filter%5Bname%5D%5Beq%5D=x&page%5Bsize%5D=100&page%5Bnumber%5D=2":
-- a checked query (validate.query), filters by field, then page[size] and
-- page[number]
local function query_string(q)
  local parts = {}
  for i, f in ipairs(q.filters) do
    parts[i] = pct("filter[" .. f.field .. "]" .. (f.op and "[" .. f.op .. "]" or "")) .. "=" .. pct(f.value)
  end
  parts[#parts + 1] = "page%5Bsize%5D=" .. format("%d", q.page_size or limits.PAGE_SIZE)
  parts[#parts + 1] = "page%5Bnumber%5D=" .. format("%d", q.page_number or 1)
  return "?" .. table.concat(parts, "&")
end
_M.query_string = query_string

local PAGE_KEYS = { page_number = true }

--- build(c, op, ...) -> url, body, copts, first_param | nil, err
-- Validates the arguments of `op` (its path parameters, its body or query
-- when it takes one, then the per-call options, last) and makes its URL
-- (under the call's server_url, else the client's) and body; "me" is
-- resolved last, after every local check passed.
function _M.build(c, op, a1, a2, a3, a4, a5)
  local nparams, err = op.nparams
  -- the usual call: ids that passed before (validate.uuid remembers them),
  -- no body, no query, no options, nothing more: the URL at once
  if not op.arg and a3 == nil and a4 == nil then
    local seen = validate.uuid_seen
    if nparams == 2 then
      if seen[a1] and seen[a2] then return c.base .. op.p1 .. a1 .. op.p2 .. a2 .. op.p3, nil, nil, a1 end
    elseif nparams == 1 and a2 == nil and seen[a1] then
      return c.base .. op.p1 .. a1 .. op.p2, nil, nil, a1
    end
  end
  local args = { a1, a2, a3, a4, a5 }
  local p1, p2 = a1, a2
  local k = nparams + 1
  local arg
  if op.arg then arg, k = args[k], k + 1 end
  local opts, extra = args[k], args[k + 1]
  for i = 1, nparams do
    local v
    v, err = op.rules[i](args[i])
    if not v then return nil, errors.invalid_argument(err, op.id) end
  end
  local body, qs
  if op.body then
    body, err = op.body(arg)
    if not body then return nil, errors.invalid_argument(err, op.id) end
  elseif op.query then
    local q
    q, err = validate.query(arg, op.query, op.name, PAGE_KEYS)
    if not q then return nil, errors.invalid_argument(err, op.id) end
    qs = query_string(q)
  end
  local copts
  if opts ~= nil then
    copts, err = _M.call_options(c, opts, op.name)
    if not copts then
      err.operation = op.id
      return nil, err
    end
  end
  if extra ~= nil then
    return nil, errors.invalid_argument(op.name .. ": too many arguments (the per-call options table comes last)",
      op.id)
  end
  if op.me and p1 == "me" then
    p1, err = _M.resolve_user(c, "me", copts, op.id)
    if not p1 then return nil, err end
  end
  local url = url_of(copts and copts.base or c.base, op, p1, p2)
  if qs then url = url .. qs end
  return url, body, copts, p1
end

--- run(c, name, copts, p1, p2, body) -> value, err, meta: one operation
--- with arguments already checked and "me" already resolved (no query).
function _M.run(c, name, copts, p1, p2, body)
  local op = OPS[name]
  return http.request(c, op, url_of(copts and copts.base or c.base, op, p1, p2), body, copts)
end

--- nargs(op) -> how many arguments the operation takes after the client
--- (the per-call options table comes after them)
function _M.nargs(op)
  return op.nparams + (op.arg and 1 or 0)
end

return _M
