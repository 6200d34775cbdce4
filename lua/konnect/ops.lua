-- konnect.ops: the operations of the Personal Access Tokens API, their
-- argument rules and "me" resolution.  Used by konnect.pats (one call) and
-- konnect.batch (many): both build a call the same way, before any I/O.

local errors   = require "konnect.errors"
local validate = require "konnect.validate"
local http     = require "konnect.http"
local limits   = require "konnect.limits"
local retry    = require "konnect.retry"

local type, pairs, ipairs, format = type, pairs, ipairs, string.format

local _M = {}

-- A `list` answer must carry `data`, an array of token objects.
local function check_list(v)
  local data = v.data
  if type(data) ~= "table" then return "expected a list with a data array" end
  local n = #data
  for k in pairs(data) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then
      return "expected data to be an array"
    end
  end
  for _, tok in ipairs(data) do
    if type(tok) ~= "table" then return "expected data to be an array of token objects" end
  end
  return nil
end

-- One row per operation: `params` name the path parameters in order; `body`
-- builds the request body; `check` vets a decoded answer (a message: decode error).
local OPS = {
  list   = { id = "list-users-personal-access-tokens", method = "GET",
             path = "/v3/users/%s/access-tokens", params = { "user_id" }, idempotent = true,
             check = check_list },
  create = { id = "create-personal-access-token", method = "POST",
             path = "/v3/users/%s/access-tokens", params = { "user_id" },
             body = validate.create_body, idempotent = false },
  get    = { id = "get-personal-access-token-details", method = "GET",
             path = "/v3/users/%s/access-tokens/%s", params = { "user_id", "token_id" }, idempotent = true },
  update = { id = "update-personal-access-token-details", method = "PATCH",
             path = "/v3/users/%s/access-tokens/%s", params = { "user_id", "token_id" },
             body = validate.update_body, idempotent = true },
  delete = { id = "delete-personal-access-token", method = "DELETE",
             path = "/v3/users/%s/access-tokens/%s", params = { "user_id", "token_id" },
             idempotent = true, no_content = true, gone_ok = true },
  revoke = { id = "revoke-personal-access-token", method = "PATCH",
             path = "/v3/users/%s/access-tokens/%s/revoke", params = { "user_id", "token_id" },
             idempotent = true },
  me     = { id = "get-users-me", method = "GET", path = "/v3/users/me", params = {}, idempotent = true },
}
-- op.path split at its %s: a URL is then made by one concatenation
-- (string.format costs several times as much per call)
for name, op in pairs(OPS) do
  op.name = name
  local parts = {}
  for piece in (op.path .. "%s"):gmatch("(.-)%%s") do parts[#parts + 1] = piece end
  op.p1, op.p2, op.p3 = parts[1], parts[2] or "", parts[3] or ""
  op.nparams = #op.params
end

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

-- a system account token (spat_) has no user of its own: the server refuses
-- /users/me for it (401 or 403; 404 elsewhere, perhaps)
local REFUSED = { unauthorized = true, forbidden = true, not_found = true }
local function spat_hint(c, err)
  if err and REFUSED[err.kind] and type(c.token) == "string" and c.token:sub(1, 5) == "spat_"
     and type(err.message) == "string" then
    err.hint = "a system account token (spat_) cannot stand for \"me\": pass the user id instead"
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

--- build(c, op, ...) -> url, body, copts, user_id | nil, err
-- Validates the arguments of `op` (its path parameters, its body when it
-- has one, then the per-call options, last) and makes its URL (under the
-- call's server_url, else the client's) and body; "me" is resolved last,
-- after every local check passed.
function _M.build(c, op, a1, a2, a3, a4, a5)
  local nparams, err = op.nparams
  -- the usual call: ids that passed before (validate.uuid remembers them),
  -- no body, no options, nothing more: the URL at once
  if not op.body and a3 == nil and a4 == nil then
    local seen = validate.uuid_seen
    if nparams == 2 then
      if seen[a1] and seen[a2] then return c.base .. op.p1 .. a1 .. op.p2 .. a2 .. op.p3, nil, nil, a1 end
    elseif nparams == 1 and a2 == nil and seen[a1] then
      return c.base .. op.p1 .. a1 .. op.p2, nil, nil, a1
    end
  end
  local user_id, token_id, bodyarg, opts, extra
  if nparams == 0 then
    opts, extra = a1, a2
  elseif nparams == 1 then
    user_id = a1
    if op.body then bodyarg, opts, extra = a2, a3, a4 else opts, extra = a2, a3 end
  else
    user_id, token_id = a1, a2
    if op.body then bodyarg, opts, extra = a3, a4, a5 else opts, extra = a3, a4 end
  end
  if nparams >= 1 then
    user_id, err = validate.user_id(user_id)
    if not user_id then return nil, errors.invalid_argument(err, op.id) end
  end
  if nparams == 2 then
    token_id, err = validate.uuid(token_id, "token_id")
    if not token_id then return nil, errors.invalid_argument(err, op.id) end
  end
  local body
  if op.body then
    body, err = op.body(bodyarg)
    if not body then return nil, errors.invalid_argument(err, op.id) end
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
  if user_id == "me" then
    user_id, err = _M.resolve_user(c, "me", copts, op.id)
    if not user_id then return nil, err end
  end
  return url_of(copts and copts.base or c.base, op, user_id, token_id), body, copts, user_id
end

--- run(c, name, copts, user_id, token_id, body) -> value, err, meta: one
--- operation with arguments already checked and "me" already resolved.
function _M.run(c, name, copts, user_id, token_id, body)
  local op = OPS[name]
  return http.request(c, op, url_of(copts and copts.base or c.base, op, user_id, token_id), body, copts)
end

--- nargs(op) -> how many arguments the operation takes after the client
--- (the per-call options table comes after them)
function _M.nargs(op)
  return #op.params + (op.body and 1 or 0)
end

return _M
