-- konnect.pats: the Konnect Personal Access Tokens API.
--
--   local pats = require "konnect.pats"
--   local client = assert(pats.new { token = os.getenv("KONNECT_TOKEN") })
--   local tok, err = client:create("me", { name = "ci", ttl_seconds = 86400 })
--
-- Every method returns its value, or nil and an error object (konnect.errors).
-- Nothing raises for bad input or a runtime failure.

local errors    = require "konnect.errors"
local validate  = require "konnect.validate"
local retry     = require "konnect.retry"
local http      = require "konnect.http"
local limits    = require "konnect.limits"
local ops       = require "konnect.ops"
local time      = require "konnect.time"
local transport = require "konnect.transport"

local type, pairs, ipairs, tostring, setmetatable, require, getmetatable =
  type, pairs, ipairs, tostring, setmetatable, require, getmetatable
local format, getenv = string.format, os.getenv

local _M = { _VERSION = limits.VERSION, errors = errors }

local OPS = ops.OPERATIONS
_M.OPERATIONS = OPS

local Client = {}
local client_mt = {
  __index = Client, __name = "konnect.pats.Client",
  __tostring = function(self) return "konnect.pats client (" .. self.base .. ")" end,
}

local OPTIONS = {
  token = "string", server_url = "string", timeout = "number", connect_timeout = "number",
  retries = "table|boolean", ca_file = "string", ca_path = "string", proxy = "string",
  user_agent = "string", headers = "table", transport = "string|function", hooks = "table",
  log = "function", allow_insecure_http = "boolean", max_body = "number", http_version = "string",
}

local FORBIDDEN_HEADERS = { authorization = true, host = true, ["content-length"] = true,
                            ["transfer-encoding"] = true, connection = true, ["user-agent"] = true,
                            accept = true, ["content-type"] = true, ["proxy-authorization"] = true }

local function bad(msg) return nil, errors.invalid_argument(msg) end

-- The proxy option: nil (none), "env" (the environment, as curl reads it) or
-- a URL.  Returns the proxy URL to use (or false) and its credentials.
local function resolve_proxy(v, server, allow_insecure_http)
  if v == nil then return false end
  local url = v
  if v == "env" then
    url = limits.proxy_from_env(getenv, server.scheme, server.host)
    if not url then return false end
  end
  local p, err = limits.proxy(url)
  if not p then return nil, (v == "env" and "proxy from the environment: " or "") .. err end
  if server.scheme == "http" and p.scheme == "http" and not limits.loopback(p.host) and not allow_insecure_http then
    return nil, "refusing plain http through the plain-http proxy " .. p.host ..
      " (the token would travel in clear); use https, or allow_insecure_http = true"
  end
  local pass = p.userinfo and p.userinfo:match(":(.*)$")
  return p.url, p.userinfo, pass
end

--- pats.new(opts) -> client | nil, err.  Every option is checked here, once,
--- by the rules of konnect.limits.
function _M.new(opts)
  if type(opts) ~= "table" then return bad("pats.new needs an options table with token =") end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then return bad("pats.new: unknown option " .. tostring(k)) end
    if not want:find(type(v), 1, true) then
      return bad(format("pats.new: option %s must be a %s, got %s", k, want:gsub("|", " or "), type(v)))
    end
  end
  local token, err = limits.token(opts.token)
  if not token then return bad(err) end
  local server
  server, err = validate.server_url(opts.server_url or limits.DEFAULT_SERVER, opts.allow_insecure_http)
  if not server then return bad(err) end
  local timeout, connect_timeout = opts.timeout or limits.TIMEOUT, opts.connect_timeout or limits.CONNECT_TIMEOUT
  local ok
  ok, err = limits.seconds(timeout, "timeout")
  if ok then ok, err = limits.seconds(connect_timeout, "connect_timeout") end
  if not ok then return bad(err) end
  local max_body = opts.max_body or limits.MAX_BODY
  ok, err = limits.max_body(max_body)
  if not ok then return bad(err) end
  if opts.http_version ~= nil and opts.http_version ~= "1.1" and opts.http_version ~= "2" then
    return bad("http_version must be \"1.1\" or \"2\"")
  end
  for _, k in ipairs { "ca_file", "ca_path" } do
    if opts[k] ~= nil then
      ok, err = limits.path(opts[k], k)
      if not ok then return bad(err) end
    end
  end
  if opts.user_agent ~= nil then
    ok, err = limits.user_agent(opts.user_agent)
    if not ok then return bad(err) end
  end
  local policy
  policy, err = retry.policy(opts.retries)
  if not policy then return bad(err) end
  local choice = opts.transport or "auto"
  if type(choice) == "string" and choice ~= "auto" and choice ~= "curl" and choice ~= "cosocket" then
    return bad("transport must be \"auto\", \"curl\", \"cosocket\" or a function")
  end
  local hooks
  if opts.hooks then
    hooks = {}
    for k, v in pairs(opts.hooks) do
      if k ~= "before_request" and k ~= "after_response" then return bad("hooks: unknown hook " .. tostring(k)) end
      if type(v) ~= "function" then return bad("hooks." .. k .. " must be a function") end
      hooks[k] = v
    end
  end
  local proxy, userinfo, pass = resolve_proxy(opts.proxy, server, opts.allow_insecure_http)
  if proxy == nil then return bad(userinfo) end

  local headers = {}
  if opts.headers then
    for k, v in pairs(opts.headers) do
      local herr
      ok, herr = limits.header_name(k)
      if not ok then return bad("headers: " .. herr) end
      if FORBIDDEN_HEADERS[k:lower()] then
        return bad("headers: " .. k .. " is set by the library" ..
          (k:lower() == "user-agent" and " (use the user_agent option)" or ""))
      end
      ok, herr = limits.header_value(v, "headers: value of " .. k)
      if not ok then return bad(herr) end
      headers[k] = v
    end
  end
  headers["Authorization"] = "Bearer " .. token
  headers["Accept"] = "application/json"

  -- the secrets every outgoing string is redacted for (konnect.redact)
  local secrets = { token }
  if pass and #pass >= 4 then secrets[#secrets + 1] = pass end
  if userinfo and #userinfo >= 4 then secrets[#secrets + 1] = userinfo end

  local tstate = transport.state {
    choice = choice, headers = headers, user_agent = opts.user_agent,
    opts = {
      timeout = timeout, connect_timeout = connect_timeout, ca_file = opts.ca_file, ca_path = opts.ca_path,
      proxy = proxy or nil, max_body = max_body, http_version = opts.http_version,
    },
  }
  return setmetatable({
    base = server.base, server = server, token = token, secrets = secrets, policy = policy, hooks = hooks,
    log = opts.log, me_id = false, tstate = tstate,
    transports = tstate.cache, -- read-only view for diagnostics: name -> loaded transport (stats)
  }, client_mt)
end

--- client:transport() -> the transport for this call, and its header sets
--- (per call: inside nginx the phase decides).  It changes nothing in the client.
function Client:transport()
  return transport.select(self.tstate)
end

local function call(self, op, ...)
  if getmetatable(self) ~= client_mt then
    return nil, errors.invalid_argument("call client:" .. op.name .. "(…) with a colon", op.id)
  end
  local path, body = ops.build(self, op, ...)
  if not path then return nil, body end
  return http.request(self, op, path, body)
end

for name, op in pairs(OPS) do
  Client[name] = function(self, ...) return call(self, op, ...) end
end

--- client:me() -> the user the token belongs to (GET /v3/users/me); it also
-- settles what "me" means for this client.
function Client:me()
  local me, err = call(self, OPS.me)
  if me and validate.uuid(me.id, "id") then self.me_id = me.id end
  return me, err
end

--- client:find_by_name(user_id, name) -> array of tokens with that name (names are not unique)
function Client:find_by_name(user_id, name)
  if type(name) ~= "string" or name == "" then
    return nil, errors.invalid_argument("find_by_name needs a name", OPS.list.id)
  end
  local list, err = self:list(user_id)
  if not list then return nil, err end
  local found = {}
  for _, tok in ipairs(list.data) do -- an array of objects: checked by ops (list)
    if tok.name == name then found[#found + 1] = tok end
  end
  return found
end

-- Whole seconds between two RFC 3339 times (offsets honoured), or nil.
local function lifetime(from, to)
  local a, b = time.rfc3339(from), time.rfc3339(to)
  return a and b and b - a or nil
end

--- client:rotate(user_id, token_id, { name =, ttl_seconds = }) -> new_token | new_token, err | nil, err
-- Creates the replacement (same name and lifetime unless given), then revokes
-- the old token.  If the revoke fails the new token is still returned, with the
-- error, so its secret is never lost.
function Client:rotate(user_id, token_id, opts)
  opts = opts or {}
  if type(opts) ~= "table" then return nil, errors.invalid_argument("rotate options must be a table") end
  for k in pairs(opts) do
    if k ~= "name" and k ~= "ttl_seconds" then
      return nil, errors.invalid_argument("rotate: unknown option " .. tostring(k) .. " (expected name, ttl_seconds)")
    end
  end
  -- validate before any I/O, as every operation does
  local ok, verr = true, nil
  if opts.name ~= nil then ok, verr = validate.name(opts.name) end
  if ok and opts.ttl_seconds ~= nil then ok, verr = validate.ttl_seconds(opts.ttl_seconds) end
  if not ok then return nil, errors.invalid_argument(verr, OPS.create.id) end
  local old, err = self:get(user_id, token_id)
  if not old then return nil, err end
  local ttl = opts.ttl_seconds
  if ttl == nil then
    ttl = lifetime(old.created_at, old.expires_at) or 30 * 86400
    if ttl < limits.TTL_MIN then ttl = limits.TTL_MIN end
    if ttl > limits.TTL_MAX then ttl = limits.TTL_MAX end
  end
  local new
  new, err = self:create(user_id, { name = opts.name or old.name, ttl_seconds = ttl })
  if not new then return nil, err end
  local _, rerr = self:revoke(user_id, token_id)
  if rerr then
    rerr.message = errors.scrub({ message = "new token " .. tostring(new.id) ..
      " was created, but revoking the old one failed: " .. rerr.message }, self.secrets).message
    rerr.new_token_id = new.id
    return new, rerr
  end
  return new
end

--- client:batch(calls, { concurrency = N }) -> results, failed_count
-- calls[i] = { "revoke", user_id, token_id } (any operation, as its method takes
-- them); results[i] = { value = v } or { err = e }, in input order.
function Client:batch(calls, opts)
  if getmetatable(self) ~= client_mt then
    return nil, errors.invalid_argument("call client:batch(…) with a colon")
  end
  return require("konnect.batch").run(self, calls, opts)
end

--- client:close(): drop the client's connections (it stays usable; they reopen).
function Client:close()
  return transport.close(self.tstate)
end

_M.Client = Client
return _M
