-- konnect_test.kong_pdk: the `kong` global of the shim: the PDK calls the
-- plugin makes, each as Kong 3.x defines it (file named on each), nothing more.

local cjson = require "cjson.safe"

-- luacheck: globals ngx
local _M = {}

local function phase_check(allowed, name)
  local p = ngx.get_phase()
  if not allowed[p] then error(name .. " cannot be called in the " .. p .. " phase", 3) end
end
local ACCESS = { rewrite = true, access = true, balancer = true }

-- kong.log.<level>: kong/pdk/log.lua, namespaced with the plugin's name while a
-- plugin handler runs (kong/global.lua set_namespaced_log).  The shim records
-- every line in the konnect_test dict for the specs, and in error.log.
local function record_log(level)
  return function(...)
    local parts = { ... }
    for i = 1, select("#", ...) do parts[i] = tostring(parts[i]) end
    local line = table.concat(parts)
    ngx.log(ngx.NOTICE, "[kong] [konnect-pat-rotator] ", level, ": ", line)
    local d = ngx.shared.konnect_test
    local n = d:incr("kong_log_n", 1, 0)
    d:set("kong_log_" .. n, level .. ": " .. line)
  end
end

-- kong.response.exit (kong/pdk/response.lua): a table body is sent as JSON
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

--- install(conf_module): sets the `kong` global
function _M.install(kc)
  local log = {}
  for _, level in ipairs { "err", "warn", "notice", "info", "debug" } do log[level] = record_log(level) end
  local function tls() -- the per-request upstream TLS settings (resty.kong.tls keeps them in the request)
    ngx.ctx.kong_tls = ngx.ctx.kong_tls or {}
    return ngx.ctx.kong_tls
  end
  rawset(_G, "kong", {
    version = "3.x (shim)",
    configuration = kc.readonly(kc.conf),
    log = log,
    -- kong/pdk/node.lua
    node = {
      get_id = function() return kc.node_id end,
      get_hostname = function() return kc.hostname end,
    },
    -- kong/pdk/router.lua: ngx.ctx.service, set by the router (balancer_prepare)
    router = { get_service = function() return ngx.ctx.service end },
    service = {
      -- kong/pdk/service/request.lua
      request = { set_header = function(name, value)
        phase_check(ACCESS, "kong.service.request.set_header")
        ngx.req.set_header(name, value)
      end },
      -- kong/pdk/service.lua (argument checks raise, as Kong's do); the values
      -- override what kong/runloop/upstream_ssl.lua set from the Service
      set_tls_verify = function(on)
        phase_check(ACCESS, "kong.service.set_tls_verify")
        if type(on) ~= "boolean" then error("argument must be a boolean", 2) end
        tls().verify = on
        return true
      end,
      set_tls_verify_depth = function(depth)
        phase_check(ACCESS, "kong.service.set_tls_verify_depth")
        if type(depth) ~= "number" then error("argument must be a number", 2) end
        tls().depth = depth
        return true
      end,
      set_tls_verify_store = function(store)
        phase_check(ACCESS, "kong.service.set_tls_verify_store")
        if type(store) ~= "table" then error("argument must be a resty.openssl.x509.store object", 2) end
        tls().store = store
        return true
      end,
    },
    response = { exit = exit },
  })
  return kong -- luacheck: ignore 113
end

return _M
