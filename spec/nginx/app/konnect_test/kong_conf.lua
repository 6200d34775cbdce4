-- konnect_test.kong_conf: the node-level facts Kong 3.x settles in its init
-- phase (in the nginx master, before the workers fork), for the shim.  Runs in
-- init_by_lua, like Kong.init; the workers inherit the result.
--
--   kong.configuration  kong/conf_loader/init.lua reads kong.conf and KONG_*
--     environment variables; the shim reads the few it needs from KONG_*:
--     role (kong/templates/kong_defaults.lua: traditional), node_id (NONE),
--     prefix (here: nginx's prefix), lua_ssl_verify_depth (1),
--     lua_ssl_trusted_certificate_combined (conf_loader: <prefix>/.ca_combined
--     built from lua_ssl_trusted_certificate; here KONG_SHIM_CA, the file the
--     node's nginx.conf also names in lua_ssl_trusted_certificate).
--   node id  kong/pdk/node.lua (new): kong.conf node_id if set; else, on a data
--     plane, <prefix>/kong.id (kong/pdk/private/node.lua load_node_id); else a
--     v4 UUID kept in the `kong` shared dict ("kong:node_id", safe_add), so it
--     survives `kong reload` (HUP keeps shared dicts) and is new at every start.
--     `kong start` writes <prefix>/kong.id for a data plane when it is missing
--     or not a UUID (private/node.lua init_node_id); the shim does that here.
--   host name  kong/pdk/node.lua get_hostname: gethostname(2).  All test nodes
--     share this machine, so KONG_SHIM_HOSTNAME stands for the host name of the
--     machine a node runs on (a guess only in that it is not a real machine).
--   ENV  kong/vaults/env/init.lua reads `environ` once (ffi) in init: every
--     variable of the process, no `env` directive needed.

local ffi = require "ffi"

local _M = {}

ffi.cdef [[
  extern char **environ;
  int gethostname(char *name, size_t len);
]]

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local function uuid4()
  local f = assert(io.open("/dev/urandom", "rb"))
  local b = { f:read(16):byte(1, 16) }
  f:close()
  b[7] = b[7] % 16 + 0x40   -- version 4
  b[9] = b[9] % 64 + 0x80   -- variant 10
  local h = {}
  for i = 1, 16 do h[i] = ("%02x"):format(b[i]) end
  local s = table.concat(h)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21)
end
_M.uuid4 = uuid4

local function read_environ()
  local env, e, i = {}, ffi.C.environ, 0
  while e[i] ~= nil do
    local var = ffi.string(e[i])
    local p = var:find("=", 1, true)
    if p then env[var:sub(1, p - 1)] = var:sub(p + 1) end
    i = i + 1
  end
  return env
end

local function gethostname()
  local buf = ffi.new("unsigned char[?]", 253)
  if ffi.C.gethostname(buf, 253) ~= 0 then return "" end
  return (ffi.string(buf, 253):gsub("%z+$", ""))
end

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- kong/pdk/private/node.lua init_node_id (at `kong start`, data planes only)
local function init_dp_node_id(prefix)
  local path = prefix .. "/kong.id"
  local id = read(path)
  if id and id:find(UUID) then return end
  local f = assert(io.open(path, "w"))
  f:write(uuid4())
  f:close()
end

--- init() -> conf, env: call once in init_by_lua (the master)
function _M.init()
  local env = read_environ()
  local prefix = ngx.config.prefix():gsub("/$", "")
  local conf = {
    role = env.KONG_ROLE or "traditional",
    node_id = env.KONG_NODE_ID,
    prefix = prefix,
    lua_ssl_verify_depth = tonumber(env.KONG_LUA_SSL_VERIFY_DEPTH) or 1,
    lua_ssl_trusted_certificate_combined = env.KONG_SHIM_CA,
    proxy_listeners = { { ip = "127.0.0.1" } },
    loaded_plugins = { ["konnect-pat-rotator"] = true },
  }
  assert(conf.role == "traditional" or conf.role == "data_plane" or conf.role == "control_plane",
    "kong shim: role must be traditional, data_plane or control_plane")
  if conf.role == "data_plane" then init_dp_node_id(prefix) end

  -- kong/pdk/node.lua: precedence node_id > data plane kong.id > the `kong` shm
  local id, source = conf.node_id, "kong.conf node_id"
  if not id and conf.role == "data_plane" then
    local stored = read(prefix .. "/kong.id")
    if stored and stored:find(UUID) then id, source = stored, "restored from " .. prefix .. "/kong.id" end
  end
  if not id then
    local shm = ngx.shared.kong
    local ok, err = shm:safe_add("kong:node_id", uuid4())
    if not ok and err ~= "exists" then error("failed to set 'node_id' in shm: " .. err) end
    id, source = shm:get("kong:node_id"), ok and "generated" or "kept in the kong shm"
  end
  _M.node_id, _M.node_id_source = id, source
  _M.hostname = env.KONG_SHIM_HOSTNAME or gethostname()
  _M.conf, _M.env = conf, env
  return conf, env
end

-- kong.configuration is read-only (kong/pdk/init.lua: "cannot write to configuration")
function _M.readonly(t)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error("cannot write to configuration", 2) end,
  })
end

return _M
