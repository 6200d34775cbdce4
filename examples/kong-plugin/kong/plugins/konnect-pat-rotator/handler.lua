-- konnect-pat-rotator: a Kong plugin that keeps a short-lived Konnect Personal
-- Access Token fresh for the node AND uses it.  Attached to a Service that
-- points at the Konnect API, it sets `Authorization: Bearer <current token>`
-- on every request proxied there, so the services behind Kong call Konnect
-- through Kong and never hold a PAT.
--
-- Phases (Kong 3.x, kong/init.lua): init_worker in every worker, then
-- configure(all configurations) in every worker, and configure again after
-- every rebuild of the plugins iterator; never configure on a control plane
-- (kong/runloop/plugins_iterator.lua).  Worker 0 runs the manager
-- (manager.lua) from timers; every worker reads the token from the shared dict
-- (kong.conf: nginx_http_lua_shared_dict = konnect_pats 1m).
--
-- The token only travels over verified TLS: the Service must have tls_verify =
-- true (Kong's proxy verifies nothing otherwise: kong/templates/nginx_kong.lua
-- sets no proxy_ssl_verify, kong/runloop/upstream_ssl.lua applies the Service's
-- tls_verify), and unless the Service names its own ca_certificates the plugin
-- verifies against lua_ssl_trusted_certificate (the CAs its own calls to Konnect
-- trust), with lua_ssl_verify_depth.  A Service without tls_verify gets a 500
-- and nothing is sent (a runtime-only switch would not do: Kong's upstream
-- keepalive pool name carries the Service's tls_verify, kong/init.lua balancer,
-- so an unverified connection of another Service could be reused).

local manager = require "kong.plugins.konnect-pat-rotator.manager"

local ngx = ngx
local kong = kong
local ipairs, tostring, type, floor, tonumber = ipairs, tostring, type, math.floor, tonumber

local Rotator = {
  -- after authentication (key-auth 1250, jwt 1450, acl 950), rate limiting (910)
  -- and request-transformer (801): the Authorization it sets is the one that leaves
  PRIORITY = 800,
  VERSION = "0.3.0",
}

Rotator.TICK = 1            -- seconds between timer ticks (a tick without work reads the shared dict only)
Rotator.RETRY_FIRST = 5     -- seconds before the first retry of a failing check (then doubling)
Rotator.RETRY_AFTER = 10    -- Retry-After of the 503 while no token is available

Rotator.ensure = manager.ensure
Rotator.current = manager.current
Rotator.status = manager.status
Rotator.record = manager.record
Rotator.key = manager.key
Rotator.token_name = manager.token_name

local log = manager.log
local configs = {}          -- this plugin's configurations, from configure()
local backoff = {}          -- key -> { at = ngx.now() of the next try, wait = seconds } after a failure

local function tick(premature)
  if premature then return end
  local seen = {}
  for _, conf in ipairs(configs) do
    local k = manager.key(conf)
    local b = backoff[k]
    if not seen[k] and not (b and ngx.now() < b.at) then
      seen[k] = true  -- configurations with the same server, user and token_name share one token
      if manager.ensure(conf) then
        backoff[k] = nil
      else -- failing: try again after RETRY_FIRST, doubling up to check_interval (at most 5 minutes)
        local wait = b and b.wait * 2 or Rotator.RETRY_FIRST
        if wait > conf.check_interval then wait = conf.check_interval end
        if wait > 300 then wait = 300 end
        backoff[k] = { at = ngx.now() + wait, wait = wait }
      end
    end
  end
end
Rotator.tick = tick

-- once per node (the shared dict outlives workers, rebuilds and reloads)
local function warn_once(conf, what, ...)
  local d = manager.dict(conf)
  if d and not d:add(manager.PREFIX .. "warned|" .. what .. "|" .. tostring(conf.__plugin_id or manager.key(conf)),
                     true) then
    return
  end
  log("warn", conf, ...)
end

--- configure(configs): Kong calls this in every worker with all configurations
--- of this plugin (nil when there are none), after init_worker and after every
--- rebuild.  Worker 0's timer picks up new ones on its next tick.
function Rotator:configure(confs) -- luacheck: ignore 212
  configs = type(confs) == "table" and confs or {}
  for _, conf in ipairs(configs) do
    if type(conf["$refs"]) ~= "table" or not conf["$refs"].admin_token then
      warn_once(conf, "plain", "admin_token is stored in plain text in the configuration; use a vault reference, ",
        "e.g. {vault://env/konnect-admin-token}")
    end
  end
end

--- init_worker: start the timer (worker 0 only: one manager per node; the lock
--- in manager.lua keeps it one across a reload).  Inert on a control plane.  No
--- Konnect call here: cosockets are unavailable in init_worker.
function Rotator:init_worker() -- luacheck: ignore 212
  local cfg = kong and kong.configuration
  if cfg and cfg.role == "control_plane" then return true end
  if ngx.worker.id() ~= 0 then return true end
  local ok, terr = ngx.timer.at(0, tick)
  if ok then ok, terr = ngx.timer.every(floor(Rotator.TICK * 1000) / 1000, tick) end
  if not ok then
    log("err", {}, "cannot start the timer: ", terr)
    return false, terr
  end
  return true
end

-- "https://host[:port]/" -> scheme, lower-case host, port
local function origin(url)
  local scheme, rest = url:match("^(%a+)://([^/?#]+)")
  scheme = scheme and scheme:lower()
  local host, port = (rest or ""):match("^%[?([^%]]-)%]?:(%d+)$")
  host = host or rest
  return scheme, host and host:lower(), tonumber(port) or (scheme == "https" and 443 or 80)
end

local store_cache -- this worker's trust store, built once from lua_ssl_trusted_certificate

local function trust_store()
  if store_cache then return store_cache end
  local cfg = kong.configuration or {}
  local path = cfg.lua_ssl_trusted_certificate_combined
  if type(path) ~= "string" or path == "" then
    return nil, "kong.conf has no lua_ssl_trusted_certificate (the default, system, is fine)"
  end
  local ok, x509_store = pcall(require, "resty.openssl.x509.store")
  if not ok then return nil, "resty.openssl.x509.store is missing: " .. tostring(x509_store) end
  local st, err = x509_store.new()
  if not st then return nil, "cannot make a trust store: " .. tostring(err) end
  local loaded, lerr = st:load_file(path)
  if not loaded then return nil, "cannot load " .. path .. ": " .. tostring(lerr) end
  store_cache = st
  return st
end

local function refuse(conf, why, message)
  log("err", conf, why)
  return kong.response.exit(500, { message = "konnect-pat-rotator: " .. message .. "; no token is sent" })
end

-- While the node has never had a token (it is starting), wait for the manager's
-- first create (at most `timeout` seconds) instead of failing at once.
local function wait_first(conf)
  if manager.status(conf) then return nil end
  local deadline = ngx.now() + conf.timeout
  while ngx.now() < deadline do
    ngx.sleep(0.05)
    local secret = manager.current(conf)
    if secret or manager.status(conf) then return secret end
  end
end

--- access: put the node's current token on the request to Konnect, over verified TLS only.
function Rotator:access(conf) -- luacheck: ignore 212
  local scheme, host, port = origin(conf.server_url)
  local svc = kong.router.get_service()
  local svc_host = svc and type(svc.host) == "string" and svc.host:lower()
  if not svc or svc_host ~= host or svc.port ~= port or svc.protocol ~= scheme then
    return refuse(conf, ("attached to service %s whose upstream (%s://%s:%s) is not %s://%s:%s: the token is not sent")
      :format(svc and svc.name or "(none)", svc and svc.protocol or "?", svc_host or "?", svc and svc.port or "?",
              scheme, host, port),
      "this service does not point at the Konnect API (" .. scheme .. "://" .. host .. ":" .. port .. ")")
  end
  if scheme == "https" then
    if svc.tls_verify ~= true then
      return refuse(conf, "service " .. tostring(svc.name) .. " does not verify TLS: set tls_verify=true on it " ..
        "(the CAs come from lua_ssl_trusted_certificate, or the Service's ca_certificates); the token is not sent",
        "the service does not verify the Konnect API's certificate (set tls_verify=true on the Service)")
    end
    if type(svc.ca_certificates) ~= "table" or #svc.ca_certificates == 0 then
      local st, serr = trust_store()
      local ok, e
      if st then ok, e = kong.service.set_tls_verify_store(st) end
      if not ok then
        return refuse(conf, "cannot verify the Konnect API's certificate: " .. tostring(serr or e) ..
          "; set lua_ssl_trusted_certificate in kong.conf, or ca_certificates on the Service",
          "no trust store to verify the Konnect API's certificate")
      end
    end
    if svc.tls_verify_depth == nil then
      local cfg = kong.configuration or {}
      kong.service.set_tls_verify_depth(tonumber(cfg.lua_ssl_verify_depth) or 1)
    end
  end
  local secret = manager.current(conf) or wait_first(conf)
  if not secret then
    return kong.response.exit(503, {
      message = "konnect-pat-rotator: no Konnect access token is available yet on this node " ..
        "(it is being created, or creating it fails: see the Kong error log)",
    }, { ["Retry-After"] = tostring(Rotator.RETRY_AFTER) })
  end
  kong.service.request.set_header("Authorization", "Bearer " .. secret)
end

return Rotator
