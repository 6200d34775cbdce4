-- konnect_test.kong: a stand-in for Kong 3.x around one custom plugin
-- (konnect-pat-rotator, examples/kong-plugin), in Debian's nginx + ngx_lua.
-- Kong is not installed here.  Each behaviour names the Kong source it mirrors;
-- spec/nginx/kong_plugin_nginx.lua lists what the shim cannot model.
--
--   init (init_by_lua, the master; kong/init.lua Kong.init): kong.conf, node id
--     and host name (kong_conf.lua); the PDK (kong_pdk.lua); the plugin's handler
--     and schema loaded, the schema checked by the metaschema
--     (kong/db/schema/plugin_loader.lua); the declarative configuration
--     (<prefix>/kong.json: services, routes, plugins, ca_certificates) validated
--     (a bad one stops the start, as Kong's does).
--   init_worker (kong/init.lua Kong.init_worker): every worker builds the plugins
--     iterator, runs every loaded plugin's init_worker (also on a control plane),
--     then configure(its configurations) (plugins_iterator.lua configure; never on
--     a control plane: create_configure returns a no-op there).  Then a rebuild
--     timer (runloop/handler.lua: plugins-iterator-rebuild / reconfigure events):
--     after POST /kong/reconfigure every worker rebuilds and calls configure again.
--   access (Kong.access): the router (longest path prefix; strip_path, Kong's
--     default), balancer_prepare (runloop/handler.lua: ctx.service, then
--     upstream_ssl.lua set_service_ssl: the Service's tls_verify, tls_verify_depth
--     and ca_certificates for this request), the plugin's access handler, then the
--     proxy leg that matches the request's TLS settings (kong_node.conf.in).
--     The Service host is resolved through KONG_SHIM_HOSTS ("name=ip,…"; Kong's DNS
--     client with its hosts file), localhost -> 127.0.0.1 by default.

local cjson = require "cjson.safe"
local kc = require "konnect_test.kong_conf"
local kschema = require "konnect_test.kong_schema"
local kpdk = require "konnect_test.kong_pdk"

-- luacheck: globals kong ngx
local _M = {}

local NAME = "konnect-pat-rotator"
local handler, schema     -- the plugin
local current             -- this worker's build: { services, routes, plugins, configurable }
local version = 0         -- the configuration version this worker built
local hosts = {}

local function rec(key, v) ngx.shared.konnect_test:set(key, v) end
local function incr(key) return ngx.shared.konnect_test:incr(key, 1, 0) end
-- the order of the plugin's phases in this worker, e.g. "init_worker configure configure"
local function phase(name)
  local d, k = ngx.shared.konnect_test, "phases|" .. ngx.worker.pid()
  d:set(k, (((d:get(k) or "") .. " " .. name):gsub("^ ", "")))
end

local function read_json(path)
  local f = io.open(path)
  if not f then return nil, "cannot read " .. path end
  local v, err = cjson.decode(f:read("*a"))
  f:close()
  return v, err
end

local function warn(msg) kong.log.warn(msg) end

-- the entities of <prefix>/kong.json, checked as the Admin API / declarative loader would
local function build()
  local decl, derr = read_json(kc.conf.prefix .. "/kong.json")
  if not decl then return nil, derr end
  local b = { services = {}, routes = {}, plugins = {}, configurable = {}, ca = {} }
  for _, ca in ipairs(decl.ca_certificates or {}) do b.ca[ca.id] = ca.cert_file end
  for _, s in ipairs(decl.services or {}) do
    s.port = s.port or (s.protocol == "https" and 443 or 80)
    if s.tls_verify ~= nil and s.protocol ~= "https" then -- services.lua entity check
      return nil, "service " .. s.name .. ": tls_verify needs protocol https"
    end
    b.services[s.name] = s
  end
  for _, r in ipairs(decl.routes or {}) do
    r.service_entity = assert(b.services[r.service], "route " .. r.name .. ": unknown service")
    b.routes[#b.routes + 1] = r
  end
  for i, p in ipairs(decl.plugins or {}) do
    if p.name ~= NAME then return nil, "plugin " .. tostring(p.name) .. " is not enabled" end
    local entity, errs = kschema.validate(schema, { config = p.config or {}, protocols = p.protocols,
                                                    consumer = p.consumer }, ngx.null)
    if not entity then return nil, "plugin " .. i .. ": " .. cjson.encode(errs) end
    -- plugins_iterator.lua get_plugin_config: the config table plus these keys
    local conf = kschema.resolve(schema, entity.config, kc.env, warn)
    conf.service_id, conf.route_id = p.service, p.route
    conf.__plugin_id = p.id or ("00000000-0000-4000-8000-%012d"):format(i)
    conf.__key__ = "plugins:" .. NAME .. ":" .. tostring(p.route) .. ":" .. tostring(p.service) .. "::"
    local inst = { conf = conf, service = p.service, route = p.route, protocols = entity.protocols,
                   enabled = p.enabled ~= false }
    b.plugins[#b.plugins + 1] = inst
    -- plugins_iterator.lua should_process_plugin: enabled, a protocol of the http subsystem
    local http = false
    for _, proto in ipairs(entity.protocols) do
      if proto == "http" or proto == "https" or proto == "grpc" or proto == "grpcs" then http = true end
    end
    -- PluginsIterator.new: a control plane collects no configurations
    if inst.enabled and http and kc.conf.role ~= "control_plane" then
      b.configurable[#b.configurable + 1] = conf
    end
  end
  return b
end

function _M.init()
  local conf, env = kc.init()
  for pair in (env.KONG_SHIM_HOSTS or ""):gmatch("[^,]+") do
    local name, ip = pair:match("^([^=]+)=(.+)$")
    if name then hosts[name] = ip end
  end
  hosts.localhost = hosts.localhost or "127.0.0.1"
  kpdk.install(kc)
  schema = require("kong.plugins." .. NAME .. ".schema")
  local ok, errs = kschema.metacheck(schema)
  if not ok then error("error loading plugin schemas: " .. NAME .. ": " .. cjson.encode(errs)) end
  handler = require("kong.plugins." .. NAME .. ".handler")
  -- test knobs: shorter waits than the plugin's defaults (none changes what the plugin decides)
  local manager = package.loaded["kong.plugins." .. NAME .. ".manager"]
  if manager and env.KONG_SHIM_GRACE then manager.GRACE = tonumber(env.KONG_SHIM_GRACE) end
  local b, err = build()
  if not b then error("kong shim: invalid declarative configuration: " .. tostring(err)) end
  current = b
  ngx.shared.konnect_test:safe_add("config_version", 0)
  return conf
end

local function configure(b)
  local ok, err = pcall(handler.configure, handler, #b.configurable > 0 and b.configurable or nil)
  if not ok then kong.log.err("failed to execute plugin '", NAME, ":configure (", err, ")") end
  incr("configure|" .. ngx.worker.pid())
  phase("configure")
end

local function rebuild(premature)
  if premature then return end
  local v = ngx.shared.konnect_test:get("config_version") or 0
  if v == version then return end
  local b, err = build()
  if not b then
    ngx.log(ngx.ERR, "kong shim: reconfigure failed: ", err, " (the old configuration is kept)")
    version = v
    return
  end
  version, current = v, b
  configure(b)
end

function _M.init_worker()
  local pid = ngx.worker.pid()
  version = ngx.shared.konnect_test:get("config_version") or 0
  local b, err = build() -- runloop.update_plugins_iterator() in init_worker
  if not b then error("kong shim: " .. tostring(err)) end
  current = b
  local ok, res, ierr = pcall(handler.init_worker, handler)
  phase("init_worker")
  rec("init_worker|" .. pid, cjson.encode({ ok = ok and res ~= false, err = ok and ierr or res,
                                            worker = ngx.worker.id(), timers = ngx.timer.pending_count() }))
  if kc.conf.role == "control_plane" then return end -- no configure, no rebuild timers
  configure(b)
  assert(ngx.timer.every(0.5, rebuild))
end

-- kong/router: the route whose path is the longest prefix of the request's
local function route_of(uri)
  local best, len
  for _, r in ipairs(current.routes) do
    for _, p in ipairs(r.paths or {}) do
      if uri:sub(1, #p) == p and (not len or #p > len) then best, len = r, #p end
    end
  end
  return best, len
end

local function instances_for(r)
  local out = {}
  for _, inst in ipairs(current.plugins) do
    local scoped = (inst.route and inst.route == r.name) or (inst.service and inst.service == r.service)
      or (not inst.route and not inst.service)
    if inst.enabled and scoped then out[#out + 1] = inst end
  end
  return out
end

function _M.access()
  if kc.conf.role == "control_plane" then return kong.response.exit(404, { message = "not a proxy" }) end
  local r, len = route_of(ngx.var.uri)
  if not r then return kong.response.exit(404, { message = "no Route matched with those values" }) end
  local s = r.service_entity
  ngx.ctx.service = s
  -- upstream_ssl.lua set_service_ssl
  local tls = {}
  if s.tls_verify ~= nil then tls.verify = s.tls_verify end
  if s.tls_verify_depth then tls.depth = s.tls_verify_depth end
  if s.ca_certificates then
    tls.store = { files = {} }
    for _, id in ipairs(s.ca_certificates) do tls.store.files[#tls.store.files + 1] = current.ca[id] end
  end
  ngx.ctx.kong_tls = tls
  for _, inst in ipairs(instances_for(r)) do
    if handler.access then handler:access(inst.conf) end
  end
  tls = ngx.ctx.kong_tls
  local leg
  if s.protocol == "http" then leg = "http"
  elseif tls.verify ~= true then leg = "plain"
  elseif not tls.store then leg = "nostore"
  elseif #tls.store.files == 1 and tls.store.files[1] == kc.conf.lua_ssl_trusted_certificate_combined then leg = "ca"
  else
    return kong.response.exit(500, { message = "kong shim cannot model this trust store" })
  end
  if leg ~= "http" and leg ~= "plain" and (tls.depth or 1) ~= 1 then
    return kong.response.exit(500, { message = "kong shim models proxy_ssl_verify_depth 1 only" })
  end
  local path = ngx.var.uri:sub((r.strip_path == false and 0 or len) + 1)
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  return ngx.exec(("/__kong_upstream/%s/%s/%s/%d%s"):format(leg, s.host, hosts[s.host] or s.host, s.port, path),
                  ngx.var.args)
end

-- the specs' endpoints --------------------------------------------------------

local function json_out(v, status)
  ngx.status = status or 200
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(v))
end

local function instance(i)
  local inst = current.plugins[tonumber(i) or 1]
  return inst and inst.conf
end

local function records()
  local d = ngx.shared.konnect_test
  local lines, workers = {}, {}
  for i = 1, d:get("kong_log_n") or 0 do lines[#lines + 1] = d:get("kong_log_" .. i) end
  for _, key in ipairs(d:get_keys(0)) do
    local what, pid = key:match("^(%a+_?%a*)|(%d+)$")
    if what == "init_worker" or what == "configure" or what == "phases" then
      workers[pid] = workers[pid] or {}
      workers[pid][what] = what == "init_worker" and cjson.decode(d:get(key)) or d:get(key)
    end
  end
  return lines, workers
end

local function view(conf)
  local lines, workers = records()
  local out = {
    node_id = kc.node_id, node_id_source = kc.node_id_source, hostname = kc.hostname, role = kc.conf.role,
    handler = { PRIORITY = handler.PRIORITY, VERSION = handler.VERSION },
    log = lines, workers = workers, pid = ngx.worker.pid(),
    impostor = { requests = ngx.shared.konnect_test:get("impostor_requests"),
                 auth = ngx.shared.konnect_test:get("impostor_auth"),
                 handshakes = ngx.shared.konnect_test:get("impostor_handshakes") },
  }
  if conf then
    local secret = handler.current(conf)
    local raw = ngx.shared[conf.shm] and ngx.shared[conf.shm]:get(handler.key(conf) .. "|rec")
    -- the secret never leaves the node: its md5 tells the specs whether it changed
    out.secret_md5 = secret and ngx.md5(secret) or nil
    out.record = raw and cjson.decode(raw) or nil
    out.status = handler.status(conf)
    out.token_name = handler.token_name(conf)
    out.refs = conf["$refs"]
    out.admin_token_resolved = type(conf.admin_token) == "string" and conf.admin_token ~= ""
    local shown = {}
    for k, v in pairs(conf) do if k ~= "admin_token" and k ~= "$refs" then shown[k] = v end end
    out.config = shown
  end
  return out
end

-- GET /kong/state[?plugin=i]
function _M.state()
  json_out(view(instance(ngx.var.arg_plugin)))
end

-- POST { plugin = i, force =, overrides = {…} }: one check (the timer body), in this worker
-- (after the running one, when the node's manager is busy)
function _M.run()
  ngx.req.read_body()
  local body = cjson.decode(ngx.req.get_body_data() or "{}") or {}
  local conf = instance(body.plugin)
  if not conf then return json_out({ message = "no such plugin" }, 404) end
  if body.overrides then
    local values = {}
    for k, v in pairs(conf) do values[k] = v end
    for k, v in pairs(conf["$refs"] or {}) do values[k] = v end
    for k, v in pairs(body.overrides) do values[k] = v end
    for _, k in ipairs { "$refs", "service_id", "route_id", "__plugin_id", "__key__" } do values[k] = nil end
    local entity, errs = kschema.validate(schema, { config = values }, ngx.null)
    if not entity then return json_out({ errors = errs }, 400) end
    local c = kschema.resolve(schema, entity.config, kc.env)
    c.__plugin_id = conf.__plugin_id
    conf = c
  end
  local result, err = handler.ensure(conf, body.force == true)
  for _ = 1, 200 do -- the node's manager holds the lock: wait for it, as its next tick would
    if result ~= "busy" then break end
    ngx.sleep(0.05)
    result, err = handler.ensure(conf, body.force == true)
  end
  local out = view(conf)
  out.result, out.err = result, err and tostring(err) or nil
  json_out(out)
end

-- POST: the configuration changed (kong.json rewritten): every worker rebuilds
function _M.reconfigure()
  json_out({ version = incr("config_version") })
end

-- the impostor of kong_nodes_nginx.lua: what reached it (never the secret itself)
function _M.impostor()
  local auth = ngx.var.http_authorization
  incr("impostor_requests")
  if auth then
    rec("impostor_auth", (auth:match("^(%S+)") or "?") .. (auth:find("[ks]pat_") and " <a token>" or " <other>"))
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say("{}")
end

return _M
