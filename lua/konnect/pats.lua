-- konnect.pats: the Konnect Personal Access Tokens API.
--
--   local pats = require "konnect.pats"
--   local client = assert(pats.new { token = os.getenv("KONNECT_TOKEN") })
--   local tok, err = client:create("me", { name = "ci", ttl_seconds = 86400 })
--
-- Every method returns its value, or nil and an error object (konnect.errors).
-- Nothing raises for bad input or a runtime failure.

local errors   = require "konnect.errors"
local validate = require "konnect.validate"
local retry    = require "konnect.retry"
local http     = require "konnect.http"

local type, pairs, ipairs, tostring, setmetatable, pcall, require, rawget =
  type, pairs, ipairs, tostring, setmetatable, pcall, require, rawget
local getmetatable, floor, format = getmetatable, math.floor, string.format

local VERSION = "0.1.0"
local _M = { _VERSION = VERSION, errors = errors }

local DEFAULT_SERVER = "https://global.api.konghq.com"

-- The operations: one row each, one generic call path.
-- `params` name the path parameters in order; `body` builds the request body.
local OPS = {
  list   = { id = "list-users-personal-access-tokens", method = "GET",
             path = "/v3/users/%s/access-tokens", params = { "user_id" }, idempotent = true },
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
_M.OPERATIONS = OPS

-- nginx phases in which cosockets work
local COSOCKET_PHASES = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

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
                            accept = true, ["content-type"] = true }

local function bad(msg) return nil, errors.invalid_argument(msg) end

local function in_nginx()
  local ngx = rawget(_G, "ngx")
  return type(ngx) == "table" and type(ngx.get_phase) == "function" and ngx or nil
end

local function lua_version()
  local jit = rawget(_G, "jit")
  return type(jit) == "table" and jit.version or _VERSION
end

--- pats.new(opts) -> client | nil, err
function _M.new(opts)
  if type(opts) ~= "table" then return bad("pats.new needs an options table with token =") end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then return bad("pats.new: unknown option " .. tostring(k)) end
    if not want:find(type(v), 1, true) then
      return bad(format("pats.new: option %s must be a %s, got %s", k, want:gsub("|", " or "), type(v)))
    end
  end
  local token, err = validate.token(opts.token)
  if not token then return bad(err) end
  local server
  server, err = validate.server_url(opts.server_url or DEFAULT_SERVER, opts.allow_insecure_http)
  if not server then return bad(err) end
  local timeout, connect_timeout = opts.timeout or 30, opts.connect_timeout or 10
  if not validate.seconds(timeout, "timeout") then return bad("timeout must be a positive number of seconds") end
  if not validate.seconds(connect_timeout, "connect_timeout") then
    return bad("connect_timeout must be a positive number of seconds")
  end
  local max_body = opts.max_body or 4 * 1024 * 1024
  if max_body < 1024 or max_body > 1024 * 1024 * 1024 or max_body ~= floor(max_body) then
    return bad("max_body must be a whole number of bytes from 1024 to 1 GiB")
  end
  if opts.http_version ~= nil and opts.http_version ~= "1.1" and opts.http_version ~= "2" then
    return bad("http_version must be \"1.1\" or \"2\"")
  end
  local policy
  policy, err = retry.policy(opts.retries)
  if not policy then return bad(err) end
  local transport = opts.transport or "auto"
  if type(transport) == "string" and transport ~= "auto" and transport ~= "curl" and transport ~= "cosocket" then
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

  local c = setmetatable({
    base = server.base, server = server, token = token, policy = policy, hooks = hooks, log = opts.log,
    transport_choice = transport,
    transport_opts = {
      timeout = timeout, connect_timeout = connect_timeout, ca_file = opts.ca_file, ca_path = opts.ca_path,
      proxy = opts.proxy, max_body = max_body, http_version = opts.http_version,
    },
    user_agent = opts.user_agent, transports = {}, me_id = false,
  }, client_mt)

  local headers = {}
  if opts.headers then
    for k, v in pairs(opts.headers) do
      if type(k) ~= "string" or not k:find("^[%w!#$%%&'*+.^_`|~-]+$") then
        return bad("headers: invalid header name " .. tostring(k))
      end
      if FORBIDDEN_HEADERS[k:lower()] then
        return bad("headers: " .. k .. " is set by the library" ..
          (k:lower() == "user-agent" and " (use the user_agent option)" or ""))
      end
      if type(v) ~= "string" or v:find("[\r\n]") then return bad("headers: value of " .. k .. " must be one line") end
      headers[k] = v
    end
  end
  headers["Authorization"] = "Bearer " .. token
  headers["Accept"] = "application/json"
  c.base_headers = headers
  return c
end

local function copy(t, extra)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  if extra then for k, v in pairs(extra) do o[k] = v end end
  return o
end

-- Set up the header sets for a transport (the User-Agent names the transport).
local function prepare(c, t)
  local ua = c.user_agent or format("lua-konnect/%s (%s; %s)", VERSION, t.user_agent_suffix(), lua_version())
  local h = copy(c.base_headers, { ["User-Agent"] = ua })
  local hb = copy(h, { ["Content-Type"] = "application/json" })
  local lines = t.header_lines -- a transport's own prebuilt form, if it has one
  t.sets = { headers = h, headers_body = hb,
             header_lines = lines and lines(h), header_lines_body = lines and lines(hb) }
  return t
end

local function load_transport(c, name)
  local t = c.transports[name]
  if t then return t end
  if name == "function" then
    local fn = c.transport_choice
    local ngx = in_nginx()
    local ok, core = pcall(require, "konnect.core")
    t = {
      request = function(_, req) return fn(req) end,
      now = ngx and function() ngx.update_time(); return ngx.now() end or (ok and core.monotime) or os.time,
      -- ngx.sleep only where it may yield; elsewhere the C core blocks, as asked
      sleep = function(seconds)
        if ngx and COSOCKET_PHASES[ngx.get_phase()] then return ngx.sleep(seconds) end
        if ok then return core.sleep(seconds) end
      end,
      user_agent_suffix = function() return "custom transport" end,
    }
  else
    local ok, mod = pcall(require, "konnect.transport." .. name)
    if not ok then
      return nil, errors.new("invalid_context", {
        message = "transport " .. name .. " is unavailable: " .. tostring(mod):match("^[^\n]*") })
    end
    t = mod.new(c.transport_opts)
  end
  c.transports[name] = prepare(c, t)
  return t
end

--- The transport for this call (per call: inside nginx the phase decides).
function Client:transport()
  local t = self.fixed_transport
  if t then return t end
  local choice = self.transport_choice
  local err
  if type(choice) == "function" then
    t, err = load_transport(self, "function")
  elseif choice == "auto" then
    local ngx = in_nginx()
    if ngx then
      local phase = ngx.get_phase()
      if not COSOCKET_PHASES[phase] then
        return nil, errors.new("invalid_context", { message = format(
          "cannot call Konnect from the nginx %s phase: cosockets are unavailable there; " ..
          "run the call from ngx.timer.at(0, fn), or pass transport = \"curl\" to block the worker knowingly",
          phase) })
      end
      t, err = load_transport(self, "cosocket")
    else
      t, err = load_transport(self, "curl")
    end
  else
    local ngx = in_nginx()
    if ngx and choice == "cosocket" and not COSOCKET_PHASES[ngx.get_phase()] then
      return nil, errors.new("invalid_context", { message = format(
        "cannot use cosockets in the nginx %s phase; run the call from ngx.timer.at(0, fn)", ngx.get_phase()) })
    end
    t, err = load_transport(self, choice)
  end
  if not t then return nil, err end
  local s = t.sets
  self.headers, self.headers_body = s.headers, s.headers_body
  self.header_lines, self.header_lines_body = s.header_lines, s.header_lines_body
  -- outside nginx the answer never changes: remember it
  if not (choice == "auto" and in_nginx()) then self.fixed_transport = t end
  return t
end

-- Resolve "me" to the caller's user id, once per client.
local function resolve_user(self, user_id)
  if user_id ~= "me" then return user_id end
  if self.me_id then return self.me_id end
  local me, err = http.request(self, OPS.me, OPS.me.path)
  if not me then return nil, err end
  local id = validate.uuid(me.id, "user id")
  if not id then
    return nil, errors.new("decode", { operation = OPS.me.id, message = "GET /v3/users/me returned no valid user id" })
  end
  self.me_id = id
  return id
end

-- Validate the arguments of `op` and build its path and body.
-- Every operation takes at most (user_id, token_id, opts).
local function build(self, op, a1, a2, a3)
  local nparams, err = #op.params
  local user_id, token_id, opts = a1, nil, a2
  if nparams >= 1 then
    user_id, err = validate.user_id(a1)
    if not user_id then return nil, errors.invalid_argument(err, op.id) end
  end
  if nparams == 2 then
    token_id, err = validate.uuid(a2, "token_id")
    if not token_id then return nil, errors.invalid_argument(err, op.id) end
    opts = a3
  end
  local body
  if op.body then
    body, err = op.body(opts)
    if not body then return nil, errors.invalid_argument(err, op.id) end
  end
  if user_id == "me" then
    user_id, err = resolve_user(self, "me")
    if not user_id then return nil, err end
  end
  return format(op.path, user_id, token_id), body
end

local function call(self, op, ...)
  if getmetatable(self) ~= client_mt then
    return nil, errors.invalid_argument("call client:" .. op.name .. "(…) with a colon", op.id)
  end
  local path, body = build(self, op, ...)
  if not path then return nil, body end
  return http.request(self, op, path, body)
end

for name, op in pairs(OPS) do
  op.name = name
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
  for _, tok in ipairs(list.data or {}) do
    if tok.name == name then found[#found + 1] = tok end
  end
  return found
end

-- Whole seconds between two RFC 3339 times, or nil.
local function lifetime(from, to)
  local function epoch(s)
    local y, mo, d, h, mi, sec = tostring(s):match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)")
    if not y then return nil end
    -- days from civil (proleptic Gregorian), independent of the local time zone
    y, mo = y + 0, mo + 0
    if mo <= 2 then y = y - 1 end
    local era = floor((y >= 0 and y or y - 399) / 400)
    local yoe = y - era * 400
    local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
    local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
    return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + sec
  end
  local a, b = epoch(from), epoch(to)
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
    if ttl < validate.TTL_MIN then ttl = validate.TTL_MIN end
    if ttl > validate.TTL_MAX then ttl = validate.TTL_MAX end
  end
  local new
  new, err = self:create(user_id, { name = opts.name or old.name, ttl_seconds = ttl })
  if not new then return nil, err end
  local _, rerr = self:revoke(user_id, token_id)
  if rerr then
    rerr.message = "new token " .. tostring(new.id) .. " was created, but revoking the old one failed: " .. rerr.message
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
  return require("konnect.batch").run(self, calls, opts, build, OPS)
end

--- client:close(): drop the client's connections (it stays usable; they reopen).
function Client:close()
  for name, t in pairs(self.transports) do
    if t.close then t:close() end
    self.transports[name] = nil
  end
  return true
end

_M.Client = Client
return _M
