-- konnect_test.kong: runs the example Kong plugin (examples/kong-plugin)
-- inside the test nginx.  Kong is not installed here, so a small shim stands
-- in for it: a `kong` global with kong.log, and the plugin configuration built
-- from the plugin's own schema.lua defaults, the way Kong fills them in.

local cjson = require "cjson.safe"

-- luacheck: globals ngx
local _M = {}

local BOB = "00000000-0000-4000-8000-000000000b0b"
local PLUGIN = "kong.plugins.konnect-pat-rotator."

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

local function install_shim()
  local log = {}
  for _, level in ipairs { "err", "warn", "notice", "info", "debug" } do log[level] = record_log(level) end
  rawset(_G, "kong", { log = log, version = "shim" })
end

-- config: schema defaults, then the given values (what Kong stores in the DB)
local function config(values)
  local schema = require(PLUGIN .. "schema")
  local conf = {}
  for _, f in ipairs(schema.fields) do
    if f.config then
      for _, field in ipairs(f.config.fields) do
        local name, def = next(field)
        conf[name] = def.default
      end
    end
  end
  for k, v in pairs(values or {}) do conf[k] = v end
  return conf
end

local function test_conf(overrides)
  local c = config {
    server_url = (os.getenv("FAKE_KONNECT_HTTPS") or ""):gsub("127%.0%.0%.1", "localhost"),
    bootstrap_token = "kpat_fake_bob_bootstrap", user_id = BOB, token_name = "kong-rotated",
    ttl_seconds = 86400, rotate_before = 3600, check_interval = 3600, shm = "konnect_pats",
  }
  for k, v in pairs(overrides or {}) do c[k] = v end
  return c
end

function _M.init_worker()
  install_shim()
  local handler = require(PLUGIN .. "handler")
  handler:configure({ test_conf() })
  ngx.shared.konnect_test:set("kong_init_worker", tostring(handler:init_worker()))
end

local function state_view()
  local handler = require(PLUGIN .. "handler")
  local conf = test_conf()
  local raw = ngx.shared.konnect_pats:get("konnect-pat-rotator:" .. conf.server_url .. "|" ..
                                         conf.user_id .. "|" .. conf.token_name)
  local rec = raw and cjson.decode(raw) or {}
  local d = ngx.shared.konnect_test
  local lines = {}
  for i = 1, d:get("kong_log_n") or 0 do lines[i] = d:get("kong_log_" .. i) end
  return {
    id = rec.id, name = rec.name, expires_at = rec.expires_at,
    secret = handler.current(conf), init_worker = d:get("kong_init_worker"),
    log = lines, handler = { PRIORITY = handler.PRIORITY, VERSION = handler.VERSION },
    config = conf,
  }
end

function _M.state()
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(state_view()))
end

-- POST overrides of the test configuration; runs the timer body once, here.
function _M.run()
  ngx.req.read_body()
  local overrides = cjson.decode(ngx.req.get_body_data() or "{}") or {}
  local handler = require(PLUGIN .. "handler")
  local status, err = handler.rotate_if_due(test_conf(overrides))
  local out = state_view()
  out.status, out.err = status, err and tostring(err) or nil
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(out))
end

return _M
