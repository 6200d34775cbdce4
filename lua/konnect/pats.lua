-- konnect.pats: the Konnect Personal Access Tokens API.
--
--   local pats = require "konnect.pats"
--   local client = assert(pats.from_env())   -- or pats.new { token = …, server_url = … }
--   local tok, err, meta = client:create("me", { name = "ci", ttl_seconds = 86400 })
--   local got = client:get("me", tok.id, { timeout = 5, retries = false })  -- per-call options, last
--
-- Every method returns its value, nil and the response's meta (konnect.meta),
-- or nil and an error object (konnect.errors) carrying the same fields.
-- Nothing raises for bad input or a runtime failure; a method called with a
-- dot instead of a colon is reported the same way.

local errors    = require "konnect.errors"
local validate  = require "konnect.validate"
local retry     = require "konnect.retry"
local http      = require "konnect.http"
local limits    = require "konnect.limits"
local ops       = require "konnect.ops"
local transport = require "konnect.transport"
-- konnect.lifecycle (rotate, prune, the 409 explanation) loads on first use:
-- a plain get never compiles it (CLI start-up)
local function lifecycle() return require "konnect.lifecycle" end

local type, pairs, ipairs, tostring, setmetatable, require, getmetatable =
  type, pairs, ipairs, tostring, setmetatable, require, getmetatable
local format, getenv, char, tonumber = string.format, os.getenv, string.char, tonumber

local _M = { _VERSION = limits.VERSION, errors = errors }

local OPS = ops.OPERATIONS
_M.OPERATIONS = OPS

-- JSON for results, problem+json for errors: the contract declares every
-- error response as application/problem+json, and a server that negotiates
-- strictly will not send it to a client that does not accept it.
local ACCEPT = "application/json, application/problem+json"
_M.ACCEPT = ACCEPT

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

-- "%41" -> "A": credentials travel decoded (Proxy-Authorization: Basic), so
-- the decoded forms are secrets too.
local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
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
  local proxy_info = proxy and limits.proxy(proxy) or nil

  local headers = {}
  if opts.headers then
    for k, v in pairs(opts.headers) do
      local name, value = limits.request_header(k, v, "headers")
      if not name then return bad(value) end
      headers[name] = value
    end
  end
  headers["Authorization"] = "Bearer " .. token
  headers["Accept"] = ACCEPT

  -- the secrets every outgoing string is redacted for (konnect.redact)
  local secrets = { token }
  -- the part after kpat_/spat_ is the secret too (a server may echo it alone)
  local tail = token:match("^[ks]pat_(.+)$")
  if tail and #tail >= 8 then secrets[#secrets + 1] = tail end
  for _, cred in ipairs { pass or false, userinfo or false } do
    if cred and #cred >= 4 then
      secrets[#secrets + 1] = cred
      local plain = unescape(cred)
      if plain ~= cred and #plain >= 4 then secrets[#secrets + 1] = plain end
    end
  end

  local tstate = transport.state {
    choice = choice, headers = headers, user_agent = opts.user_agent,
    opts = {
      timeout = timeout, connect_timeout = connect_timeout, ca_file = opts.ca_file, ca_path = opts.ca_path,
      proxy = proxy or nil, max_body = max_body, http_version = opts.http_version,
    },
  }
  return setmetatable({
    base = server.base, server = server, token = token, secrets = secrets, policy = policy, hooks = hooks,
    log = opts.log, me_id = false, me_ids = {}, tstate = tstate, heard = { any = false },
    allow_insecure_http = opts.allow_insecure_http or nil,
    proxy = proxy_info and { scheme = proxy_info.scheme, host = proxy_info.host } or nil,
    transports = tstate.cache, -- read-only view for diagnostics: name -> loaded transport (stats)
  }, client_mt)
end

-- A method called with a dot (c.get(…)) gets the user's first argument as
-- self: reported, never raised.
local function misuse(self, name, op_id)
  if getmetatable(self) == client_mt then return nil end
  return errors.invalid_argument("call client:" .. name .. "(…) with a colon", op_id)
end

--- pats.from_env([overrides]) -> client | nil, err.  The options from the
--- environment the CLI reads too: KONNECT_TOKEN (token), KONNECT_SERVER_URL
--- (server_url), KONNECT_CA_FILE (ca_file); an empty variable counts as unset.
--- `overrides` (any pats.new option) win; everything is checked by new().
local ENV = { token = "KONNECT_TOKEN", server_url = "KONNECT_SERVER_URL", ca_file = "KONNECT_CA_FILE" }
_M.ENV = ENV

function _M.from_env(overrides, env)
  if overrides ~= nil and type(overrides) ~= "table" then
    return bad("pats.from_env: overrides must be a table of pats.new options, got " .. type(overrides))
  end
  env = env or getenv -- a function(name) -> value (tests; nginx's os.getenv needs `env` directives)
  local opts = {}
  for k, name in pairs(ENV) do
    local v = env(name)
    if type(v) == "string" and v ~= "" then opts[k] = v end
  end
  for k, v in pairs(overrides or {}) do opts[k] = v end
  if opts.token == nil then
    return bad("pats.from_env: KONNECT_TOKEN is not set (export it, or pass { token = … })")
  end
  local client, err = _M.new(opts)
  if not client then
    local from = {}
    for k, name in pairs(ENV) do
      if (overrides == nil or overrides[k] == nil) and opts[k] ~= nil then from[#from + 1] = name end
    end
    table.sort(from)
    if #from > 0 then err.message = err.message .. " (read from " .. table.concat(from, ", ") .. ")" end
    return nil, err
  end
  return client
end

--- client:transport() -> the transport for this call, and its header sets
--- (per call: inside nginx the phase decides).  It changes nothing in the client.
function Client:transport()
  local bad_self = misuse(self, "transport")
  if bad_self then return nil, bad_self end
  return transport.select(self.tstate)
end

-- The method of an operation.  (ops.build reads at most five arguments
-- after the client: fixed parameters here, no varargs per call)
local function method(op)
  local create, me = op == OPS.create, op == OPS.me
  return function(self, a1, a2, a3, a4, a5)
    if getmetatable(self) ~= client_mt then return nil, misuse(self, op.name, op.id) end
    local url, body, copts, user_id = ops.build(self, op, a1, a2, a3, a4, a5)
    if not url then return nil, body end
    local v, err, m = http.request(self, op, url, body, copts)
    if err then
      if create and err.kind == "conflict" then
        lifecycle().explain_quota(self, user_id, err, copts)
      elseif me then
        ops.spat_hint(self, err)
      end
    end
    return v, err, m
  end
end

-- one method per operation, but the one-page rows (op.query): their lists
-- are list_* and each_* below (konnect.pages), and a batch may call them
for name, op in pairs(OPS) do
  if not op.query then Client[name] = method(op) end
end
local call_me = Client.me

--- client:me([copts]) -> the user the token belongs to (GET /v3/users/me); it
-- also settles what "me" means for this client (and server).
function Client:me(copts)
  local me, err, m = call_me(self, copts)
  if me and validate.uuid(me.id, "id") then
    local base = type(copts) == "table" and copts.server_url and validate.server_url(copts.server_url, true)
    if base and base.base ~= self.base then
      self.me_ids[base.base] = me.id
    else
      self.me_id = me.id
    end
  end
  return me, err, m
end

--- client:find_by_name(user_id, name[, copts]) -> array of tokens with that
-- name (names are not unique), nil, meta of the list
function Client:find_by_name(user_id, name, copts)
  local bad_self = misuse(self, "find_by_name", OPS.list.id)
  if bad_self then return nil, bad_self end
  if type(name) ~= "string" or name == "" then
    return nil, errors.invalid_argument("find_by_name needs a name", OPS.list.id)
  end
  local list, err, m = self:list(user_id, copts)
  if not list then return nil, err end
  local found = {}
  for _, tok in ipairs(list.data) do -- an array of objects: checked by ops (list)
    if tok.name == name then found[#found + 1] = tok end
  end
  return found, nil, m
end

--- client:rotate(user_id, token_id[, { name =, ttl_seconds =, old = }[, copts]])
--- -> new_token, nil, meta | new_token, err, meta | nil, err   (konnect.lifecycle)
function Client:rotate(user_id, token_id, opts, copts)
  local bad_self = misuse(self, "rotate", OPS.create.id)
  if bad_self then return nil, bad_self end
  return lifecycle().rotate(self, user_id, token_id, opts, copts)
end

--- client:prune(user_id[, { states =, older_than =, dry_run = }[, copts]])
--- -> tokens deleted (or that would be), nil, meta | deleted so far, err   (konnect.lifecycle)
function Client:prune(user_id, opts, copts)
  local bad_self = misuse(self, "prune", OPS.delete.id)
  if bad_self then return nil, bad_self end
  return lifecycle().prune(self, user_id, opts, copts)
end

-- The paged lists (konnect.pages, loaded on first use): list_* (every
-- page, capped) and each_* (an iterator, page by page).
local function paged(list_name, with_account)
  local function list_of() return require("konnect.pages").LISTS[list_name] end
  local function args(a1, a2, a3)
    if with_account then return a1, a2, a3 end
    return nil, a1, a2
  end
  local all = function(self, a1, a2, a3)
    local list = list_of()
    local bad_self = misuse(self, list.all, list.op.id)
    if bad_self then return nil, bad_self end
    return require("konnect.pages").all(self, list, args(a1, a2, a3))
  end
  local each = function(self, a1, a2, a3)
    local list = list_of()
    local bad_self = misuse(self, list.each, list.op.id)
    if bad_self then
      local given = false
      return function()
        if given then return nil end
        given = true
        return false, bad_self
      end
    end
    return require("konnect.pages").each(self, list, args(a1, a2, a3))
  end
  return all, each
end

--- client:list_users([query[, copts]]) -> { data = users, pages = n }, nil, meta
--- client:each_user([query[, copts]]) -> iterator: user | false, err
Client.list_users, Client.each_user = paged("users")
--- client:list_system_accounts([query[, copts]]), client:each_system_account([query[, copts]])
Client.list_system_accounts, Client.each_system_account = paged("system_accounts")
--- client:list_sa_tokens(account_id[, query[, copts]]), client:each_sa_token(account_id[, query[, copts]])
Client.list_sa_tokens, Client.each_sa_token = paged("sa_tokens", true)

local function accounts() return require "konnect.accounts" end

--- client:find_system_account(name_or_id[, copts]) -> account, nil, meta | nil, err
function Client:find_system_account(name_or_id, copts)
  local bad_self = misuse(self, "find_system_account", OPS.system_accounts_page.id)
  if bad_self then return nil, bad_self end
  return accounts().find(self, name_or_id, copts)
end

--- client:rotate_sa_token(account_id, token_id[, { name =, expires_at = | ttl_seconds =, old = }[, copts]])
--- -> new_token, nil, meta | new_token, err, meta | nil, err   (konnect.accounts)
function Client:rotate_sa_token(account_id, token_id, opts, copts)
  local bad_self = misuse(self, "rotate_sa_token", OPS.create_sa_token.id)
  if bad_self then return nil, bad_self end
  return accounts().rotate(self, account_id, token_id, opts, copts)
end

--- client:prune_sa_tokens(account_id[, { older_than =, dry_run = }[, copts]])
--- -> tokens deleted (or that would be), nil, meta | deleted so far, err   (konnect.accounts)
function Client:prune_sa_tokens(account_id, opts, copts)
  local bad_self = misuse(self, "prune_sa_tokens", OPS.delete_sa_token.id)
  if bad_self then return nil, bad_self end
  return accounts().prune(self, account_id, opts, copts)
end

--- client:batch(calls[, { concurrency = N }[, copts]]) -> results, failed_count
-- calls[i] = { "revoke", user_id, token_id[, copts] } (any operation, as its
-- method takes them); results[i] = { value = v, meta = m } or { err = e }, in
-- input order.  `copts` apply to every call (a call's own keys win).
function Client:batch(calls, opts, copts)
  local bad_self = misuse(self, "batch")
  if bad_self then return nil, bad_self end
  return require("konnect.batch").run(self, calls, opts, copts)
end

--- client:close(): drop the client's connections (it stays usable; they reopen).
function Client:close()
  local bad_self = misuse(self, "close")
  if bad_self then return nil, bad_self end
  return transport.close(self.tstate)
end

_M.Client = Client
return _M
