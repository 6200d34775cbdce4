-- konnect_test.kong: runs the example Kong plugin (examples/kong-plugin)
-- inside a test nginx.  Kong is not installed here, so a small shim stands in
-- for it, doing what Kong does for this plugin:
--   * the `kong` global: kong.log (lines recorded in the konnect_test dict),
--     kong.node.get_id, kong.router.get_service, kong.service.request.set_header,
--     kong.response.exit;
--   * plugin configurations checked against the plugin's schema.lua (defaults,
--     field rules, entity checks), then their {vault://env/NAME} references
--     resolved from the environment (NAME upper-cased, dashes as underscores;
--     conf["$refs"] keeps the references), as Kong's env vault does;
--   * configure(all configurations) and init_worker() in init_worker_by_lua;
--   * a Route per plugin instance (/kong/svc/<instance>/…) whose Service is
--     proxied to by nginx: access() runs the plugin's access handler, then
--     points the proxy at the Service (Kong's balancer).

local cjson = require "cjson.safe"

-- luacheck: globals ngx
local _M = {}

local BOB = "00000000-0000-4000-8000-000000000b0b"
local PLUGIN = "kong.plugins.konnect-pat-rotator."
local NODE_ID = os.getenv("KONG_SHIM_NODE_ID") or "00000000-0000-4000-8000-0000000a0de1"
_M.NODE_ID = NODE_ID

local function record_log(level)
  return function(...)
    local parts = { ... }
    for i = 1, select("#", ...) do parts[i] = tostring(parts[i]) end
    local line = table.concat(parts)
    ngx.log(ngx.NOTICE, "[kong shim ", level, "] ", line)
    local d = ngx.shared.konnect_test
    local n = d:incr("kong_log_n", 1, 0)
    d:set("kong_log_" .. n, level .. ": " .. line)
  end
end

-- kong.response.exit(status[, body[, headers]]): a table body goes out as JSON
local function exit(status, body, headers)
  ngx.status = status
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  if type(body) == "table" then
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    body = cjson.encode(body)
  end
  if body then ngx.print(body) end
  return ngx.exit(status)
end

local function install_shim()
  local log = {}
  for _, level in ipairs { "err", "warn", "notice", "info", "debug" } do log[level] = record_log(level) end
  rawset(_G, "kong", {
    version = "shim",
    log = log,
    node = { get_id = function() return NODE_ID end },
    router = { get_service = function() return ngx.ctx.kong_service end },
    service = { request = { set_header = function(name, value) ngx.req.set_header(name, value) end } },
    response = { exit = exit },
  })
end

-- The config record's fields, in order: { { name, def }, … }
local function config_fields(schema)
  for _, f in ipairs(schema.fields) do
    if f.config then
      local out = {}
      for i, field in ipairs(f.config.fields) do
        local name, def = next(field)
        out[i] = { name, def }
      end
      return out
    end
  end
end

--- validate(values) -> conf | nil, errors: the plugin's schema applied the way
--- Kong's Admin API applies it (defaults, types, field rules, entity checks).
function _M.validate(values)
  local schema = require(PLUGIN .. "schema")
  local fields = config_fields(schema)
  local conf, errs, known = {}, {}, {}
  for _, f in ipairs(fields) do
    local name, def = f[1], f[2]
    known[name] = true
    local v = values[name]
    if v == nil then v = def.default end
    if v == nil then
      if def.required then errs[name] = "required field missing" end
    elseif def.type == "integer" and (type(v) ~= "number" or v % 1 ~= 0) then
      errs[name] = "expected an integer"
    elseif (def.type == "number" or def.type == "integer") and type(v) ~= "number" then
      errs[name] = "expected a number"
    elseif def.type == "string" and type(v) ~= "string" then
      errs[name] = "expected a string"
    elseif def.between and (v < def.between[1] or v > def.between[2]) then
      errs[name] = ("value should be between %s and %s"):format(def.between[1], def.between[2])
    elseif def.gt and v <= def.gt then
      errs[name] = "value must be greater than " .. def.gt
    elseif def.len_min and #v < def.len_min or def.len_max and #v > def.len_max then
      errs[name] = "length out of bounds"
    elseif def.match and not v:find(def.match) then
      errs[name] = "invalid value: " .. v
    end
    conf[name] = v
  end
  for k in pairs(values) do
    if not known[k] then errs[k] = "unknown field" end
  end
  if next(errs) then return nil, errs end
  for _, check in ipairs(schema.entity_checks or {}) do
    local c = check.custom_entity_check
    if c then
      local ok, msg = c.fn({ config = conf })
      if not ok then return nil, { ["@entity"] = { msg } } end
    end
  end
  return conf
end

-- Kong's env vault: {vault://env/NAME} -> os.getenv(NAME upper-cased, "-" -> "_")
local function resolve(conf)
  local schema = require(PLUGIN .. "schema")
  for _, f in ipairs(config_fields(schema)) do
    local name, def = f[1], f[2]
    local v = conf[name]
    if def.referenceable and type(v) == "string" then
      local env = v:match("^{vault://env/([%w_%-]+)}$")
      if env then
        conf["$refs"] = conf["$refs"] or {}
        conf["$refs"][name] = v
        conf[name] = os.getenv((env:gsub("-", "_"):upper())) -- nil when unset: the plugin must say so
      end
    end
  end
  return conf
end

local function fake_https()
  return (os.getenv("FAKE_KONNECT_HTTPS") or ""):gsub("127%.0%.0%.1", "localhost")
end

local function base_values()
  return {
    server_url = fake_https(), admin_token = "{vault://env/kong-test-konnect-admin}", user_id = BOB,
    token_name = "kong-test", ttl_seconds = 86400, rotate_before = 3600, check_interval = 3600,
  }
end

-- plugin instances (one per Service they are attached to), built once per worker
local INSTANCE_VALUES = {
  -- on a Service pointing at Konnect (the fake)
  konnect = {},
  -- the same Service, but the admin token's vault reference resolves to nothing
  unset = { admin_token = "{vault://env/kong-test-unset-admin}", token_name = "kong-unset" },
  -- on a Service pointing elsewhere (the fake's plain-http port, by IP): refused
  elsewhere = {},
}
local instances

local function service_of(name)
  local https_port = tonumber((os.getenv("FAKE_KONNECT_HTTPS") or ""):match(":(%d+)$"))
  if name == "elsewhere" then
    local http_port = tonumber((os.getenv("FAKE_KONNECT_HTTP") or ""):match(":(%d+)$"))
    return { name = "elsewhere", protocol = "http", host = "127.0.0.1", port = http_port }
  end
  return { name = "konnect", protocol = "https", host = "localhost", port = https_port }
end

local function build(name, overrides)
  local values = base_values()
  for k, v in pairs(INSTANCE_VALUES[name] or {}) do values[k] = v end
  for k, v in pairs(overrides or {}) do values[k] = v end
  local conf, errs = _M.validate(values)
  if not conf then return nil, errs end
  return resolve(conf)
end

local function get_instances()
  if not instances then
    instances = {}
    for name in pairs(INSTANCE_VALUES) do
      local conf, errs = build(name)
      if not conf then error("kong shim: instance " .. name .. ": " .. cjson.encode(errs)) end
      instances[name] = { conf = conf, service = service_of(name) }
    end
  end
  return instances
end

function _M.init_worker()
  install_shim()
  local handler = require(PLUGIN .. "handler")
  local all = get_instances()
  handler:configure({ all.konnect.conf, all.unset.conf, all.elsewhere.conf })
  ngx.shared.konnect_test:set("kong_init_worker", tostring(handler:init_worker()))
end

local function log_lines()
  local d = ngx.shared.konnect_test
  local lines = {}
  for i = 1, d:get("kong_log_n") or 0 do lines[#lines + 1] = d:get("kong_log_" .. i) end
  return lines
end

local function state_view(conf)
  local handler = require(PLUGIN .. "handler")
  local raw = ngx.shared[conf.shm]:get(handler.key(conf))
  local rec = raw and cjson.decode(raw) or {}
  local shown = {}
  for k, v in pairs(conf) do
    if k ~= "admin_token" and k ~= "$refs" then shown[k] = v end
  end
  return {
    id = rec.id, name = rec.name, expires_at = rec.expires_at, expires = rec.expires,
    secret = handler.current(conf), status = handler.status(conf),
    node_id = NODE_ID, token_name = handler.token_name(conf),
    init_worker = ngx.shared.konnect_test:get("kong_init_worker"),
    log = log_lines(), handler = { PRIORITY = handler.PRIORITY, VERSION = handler.VERSION },
    config = shown, refs = conf["$refs"], admin_token_resolved = type(conf.admin_token) == "string",
  }
end

local function json_out(v)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(v))
end

-- GET /kong/state[?instance=name]
function _M.state()
  local inst = get_instances()[ngx.var.arg_instance or "konnect"]
  if not inst then return exit(404, { message = "no such instance" }) end
  json_out(state_view(inst.conf))
end

-- POST { instance =, force =, overrides = {…} }: one check (the timer body), here.
function _M.run()
  ngx.req.read_body()
  local body = cjson.decode(ngx.req.get_body_data() or "{}") or {}
  local conf, errs = build(body.instance or "konnect", body.overrides)
  if not conf then return exit(400, { errors = errs }) end
  local handler = require(PLUGIN .. "handler")
  local status, err = handler.ensure(conf, body.force == true)
  local out = state_view(conf)
  out.result, out.err = status, err and tostring(err) or nil
  json_out(out)
end

-- POST { config = {…} }: the schema check, as the Admin API would run it
function _M.validate_endpoint()
  ngx.req.read_body()
  local body = cjson.decode(ngx.req.get_body_data() or "{}") or {}
  local values = base_values()
  for k, v in pairs(body.config or {}) do values[k] = v end
  local conf, errs = _M.validate(values)
  json_out({ ok = conf ~= nil, errors = errs })
end

-- access_by_lua of the Route /kong/svc/<instance>/…: the plugin's access
-- handler, then the proxy target from the Service (Kong's balancer).
function _M.access(name)
  local inst = get_instances()[name]
  if not inst then return exit(404, { message = "no route" }) end
  ngx.ctx.kong_service = inst.service
  require(PLUGIN .. "handler"):access(inst.conf)
  local svc = inst.service
  local addr = svc.host == "localhost" and "127.0.0.1" or svc.host  -- Kong's DNS, for the shim
  ngx.var.kong_upstream = svc.protocol .. "://" .. addr .. ":" .. svc.port
end

return _M
