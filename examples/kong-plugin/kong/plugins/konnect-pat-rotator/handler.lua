-- konnect-pat-rotator: a Kong plugin that keeps one Konnect Personal Access
-- Token alive for the node: it creates the token from a bootstrap token,
-- keeps it in a shared dict, and rotates it (create the new one, revoke the
-- old one) before it expires.  Other plugins read it with
-- `require("kong.plugins.konnect-pat-rotator.handler").current(conf)`.
--
-- All Konnect calls run in ngx.timer callbacks, where cosockets work, so they
-- never block a worker.  Only worker 0 runs the timer (one rotation per node).
--
-- Kong needs the shared dict: in kong.conf
--   nginx_http_lua_shared_dict = konnect_pats 1m
-- and konnect (lua-konnect) installed in Kong's LuaJIT tree
-- (`luarocks --lua-version=5.1 make` from the lua-konnect checkout).

local pats = require "konnect.pats"
local cjson = require("cjson.safe").new()

local ngx = ngx
local kong = kong
local ipairs, pcall, tostring, type, floor = ipairs, pcall, tostring, type, math.floor

local KonnectPatRotator = {
  PRIORITY = 10,     -- does nothing per request; the number hardly matters
  VERSION = "0.1.0",
}

-- Seconds between timer ticks; each config is checked every check_interval.
KonnectPatRotator.TICK = 30

local configs = {}    -- the plugin's configurations, from configure()
local last_check = {} -- key -> ngx.now() of the last check

local function log()
  -- kong.log in Kong; plain ngx.log elsewhere
  local k = kong or rawget(_G, "kong")
  return k and k.log
end

local function notice(...)
  local l = log()
  if l then l.notice(...) else ngx.log(ngx.NOTICE, ...) end
end

local function err(...)
  local l = log()
  if l then l.err(...) else ngx.log(ngx.ERR, ...) end
end

-- The shared dict key for a configuration.
local function key(conf)
  return "konnect-pat-rotator:" .. conf.server_url .. "|" .. conf.user_id .. "|" .. conf.token_name
end

local function dict(conf)
  local d = ngx.shared[conf.shm or "konnect_pats"]
  if not d then
    return nil, "lua_shared_dict " .. tostring(conf.shm or "konnect_pats") ..
      " is missing (kong.conf: nginx_http_lua_shared_dict = konnect_pats 1m)"
  end
  return d
end

local function load(conf)
  local d, derr = dict(conf)
  if not d then return nil, derr end
  local v = d:get(key(conf))
  return v and cjson.decode(v) or false
end

local function store(conf, tok)
  local d, derr = dict(conf)
  if not d then return nil, derr end
  local rec = {
    id = tok.id, name = tok.name, secret = tok.konnect_token, expires_at = tok.expires_at,
    -- our own clock for the rotation decision: the server's expiry string is informational
    expires = ngx.time() + conf.ttl_seconds, stored_at = ngx.time(),
  }
  return d:set(key(conf), cjson.encode(rec))
end

local function client(conf, token)
  return pats.new {
    token = token, server_url = conf.server_url, timeout = conf.timeout or 10,
  }
end

--- current(conf) -> the managed token's secret, or nil (not created yet).
function KonnectPatRotator.current(conf)
  local rec = load(conf)
  return rec and rec.secret or nil
end

--- rotate_if_due(conf) -> "created" | "fresh" | "rotated" | "recreated" | nil, err
-- The timer body for one configuration.  Runs wherever cosockets do
-- (timers, content); exposed so it can be driven by hand.
function KonnectPatRotator.rotate_if_due(conf)
  local rec, lerr = load(conf)
  if rec == nil then return nil, lerr end

  local function create(why)
    local c, cerr = client(conf, conf.bootstrap_token)
    if not c then return nil, cerr end
    local tok, e = c:create(conf.user_id, { name = conf.token_name, ttl_seconds = conf.ttl_seconds })
    if not tok then return nil, e end
    local ok, serr = store(conf, tok)
    if not ok then return nil, serr end
    notice("konnect-pat-rotator: ", why, " token ", tok.id, " (", conf.token_name, "), expires ", tok.expires_at)
    return why
  end

  if not rec then return create("created") end
  if rec.expires - ngx.time() > conf.rotate_before then return "fresh" end

  local c, cerr = client(conf, rec.secret)
  if not c then return nil, cerr end
  local new, e = c:rotate(conf.user_id, rec.id, { name = conf.token_name, ttl_seconds = conf.ttl_seconds })
  if not new then
    if e.kind == "unauthorized" or e.kind == "not_found" then
      -- our token was revoked, expired or deleted behind our back: start over
      err("konnect-pat-rotator: managed token ", rec.id, " is unusable (", e.kind, "); creating a new one")
      return create("recreated")
    end
    return nil, e
  end
  local ok, serr = store(conf, new)
  if not ok then return nil, serr end
  if e then
    -- the new token exists and is stored; only the old one's revoke failed
    err("konnect-pat-rotator: rotated to ", new.id, " but the old token ", rec.id, " is still active: ", e)
  end
  notice("konnect-pat-rotator: rotated token ", rec.id, " -> ", new.id, ", expires ", new.expires_at)
  return "rotated"
end

local function tick(premature)
  if premature then return end
  local now = ngx.now()
  for _, conf in ipairs(configs) do
    local k = key(conf)
    if not last_check[k] or now - last_check[k] >= conf.check_interval then
      last_check[k] = now
      local ok, res, e = pcall(KonnectPatRotator.rotate_if_due, conf)
      if not ok then
        err("konnect-pat-rotator: ", tostring(res))
      elseif not res then
        err("konnect-pat-rotator: ", tostring(e))
      end
    end
  end
end
KonnectPatRotator.tick = tick

--- configure(configs): Kong (3.x) calls this in every worker with all
--- configurations of this plugin (or nil when there are none), at start and
--- whenever they change.
function KonnectPatRotator:configure(confs) -- luacheck: ignore 212
  configs = type(confs) == "table" and confs or {}
end

--- init_worker: start the timer (worker 0 only).  No Konnect call happens
--- here: cosockets are unavailable in init_worker; the timer runs them.
function KonnectPatRotator:init_worker() -- luacheck: ignore 212
  if ngx.worker.id() ~= 0 then return true end
  local ok, terr = ngx.timer.at(0, tick)
  if ok then ok, terr = ngx.timer.every(floor(KonnectPatRotator.TICK * 1000) / 1000, tick) end
  if not ok then
    err("konnect-pat-rotator: cannot start the timer: ", terr)
    return false, terr
  end
  return true
end

return KonnectPatRotator
