-- konnect-pat-rotator: a Kong plugin that keeps a short-lived Konnect Personal
-- Access Token fresh for the node AND uses it.  Attached to a Service that
-- points at the Konnect API, it sets `Authorization: Bearer <current token>`
-- on every request proxied there, so the services behind Kong call Konnect
-- through Kong and never hold a PAT.
--
-- The token is the node's own: named "<token_name>-<kong.node.get_id()>".
-- Worker 0 manages it from ngx.timer callbacks (cosockets work there; they do
-- not in init_worker): on start it adopts or replaces (finds its own tokens by
-- name; keeps the one it holds in the shared dict if that is still ACTIVE,
-- revokes and deletes every other, so restarts never leak tokens), then
-- rotates with old = "delete" when less than rotate_before seconds are left.
-- The admin token that does this comes from the configuration, as a Vault
-- reference ({vault://env/…}); it is never sent to a service.
--
-- All workers read the current token from the shared dict (kong.conf:
-- nginx_http_lua_shared_dict = konnect_pats 1m).  No secret is ever logged.

local pats   = require "konnect.pats"
local redact = require "konnect.redact"
local cjson  = require("cjson.safe").new()

local ngx = ngx
local kong = kong
local ipairs, pcall, tostring, type, select, floor, concat, setmetatable =
  ipairs, pcall, tostring, type, select, math.floor, table.concat, setmetatable

local Rotator = {
  -- after authentication (key-auth 1250, jwt 1450, acl 950), rate limiting (910)
  -- and request-transformer (801): the Authorization it sets is the one that leaves
  PRIORITY = 800,
  VERSION = pats._VERSION, -- the plugin ships with the library, one version
}

Rotator.TICK = 5            -- seconds between timer ticks (a tick without work makes no call)
Rotator.RETRY_AFTER = 10    -- Retry-After of the 503 while no token is available
Rotator.PREFIX = "konnect-pat-rotator:"

local configs = {}          -- this plugin's configurations, from configure()
local started = {}          -- key -> true once this process adopted or replaced its token
local checked = {}          -- key -> ngx.now() of the last check with Konnect
local busy = {}             -- key -> true while a check runs (timer and manual calls)
local backoff = {}          -- key -> { at = ngx.now() of the next try, wait = seconds } after a failure
local keys = setmetatable({}, { __mode = "k" })  -- conf -> key

local function kong_log() return (kong or rawget(_G, "kong") or {}).log end

-- Every line goes through konnect.redact with the secrets this config knows:
-- the admin token, and any token-shaped kpat_/spat_ string.
local function log(level, conf, ...)
  local parts = { "konnect-pat-rotator: " }
  for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  local line = redact.string(concat(parts), type(conf.admin_token) == "string" and conf.admin_token or {})
  local l = kong_log()
  if l and l[level] then l[level](line) else ngx.log(ngx.ERR, line) end
end

local function node_id()
  local k = kong or rawget(_G, "kong")
  local ok, id = pcall(function() return k.node.get_id() end)
  return ok and type(id) == "string" and id ~= "" and id or "node"
end

--- token_name(conf) -> "<token_name>-<node id>", the name of this node's token
function Rotator.token_name(conf)
  return conf.token_name .. "-" .. node_id()
end

local function key(conf)
  local k = keys[conf]
  if not k then
    k = Rotator.PREFIX .. conf.server_url .. "|" .. conf.user_id .. "|" .. Rotator.token_name(conf)
    keys[conf] = k
  end
  return k
end
Rotator.key = key

local function dict(conf)
  local d = ngx.shared[conf.shm or "konnect_pats"]
  if not d then
    return nil, "lua_shared_dict " .. tostring(conf.shm or "konnect_pats") ..
      " is missing (kong.conf: nginx_http_lua_shared_dict = konnect_pats 1m)"
  end
  return d
end

-- The record (id, name, expires, …) and the secret live under two keys: the
-- access phase reads only the secret, which the dict expires with the token.
local function load(conf)
  local d, derr = dict(conf)
  if not d then return nil, derr end
  local v = d:get(key(conf))
  return v and cjson.decode(v) or false
end

local function store(conf, tok)
  local d, derr = dict(conf)
  if not d then return nil, derr end
  local now = ngx.time()
  local expires = now + conf.ttl_seconds  -- our own clock decides; the server's string is informational
  local rec = { id = tok.id, name = tok.name, expires = expires, expires_at = tok.expires_at, stored_at = now }
  local ok, serr = d:set(key(conf) .. "|secret", tok.konnect_token, conf.ttl_seconds)
  if ok then ok, serr = d:set(key(conf), cjson.encode(rec)) end
  if not ok then return nil, "cannot store the token in lua_shared_dict " .. tostring(conf.shm) .. ": " .. serr end
  return rec
end

local function set_status(conf, st)
  local d = dict(conf)
  if d then
    st.at = ngx.time()
    d:set(key(conf) .. "|status", cjson.encode(st))
  end
end

--- current(conf) -> the node's current token (secret), or nil (none yet, or expired)
function Rotator.current(conf)
  local d = dict(conf)
  return d and d:get(key(conf) .. "|secret") or nil
end

--- status(conf) -> { state = "ready"|"error", action =, token_id =, error =, at = } or nil
function Rotator.status(conf)
  local d = dict(conf)
  local v = d and d:get(key(conf) .. "|status")
  return v and cjson.decode(v) or nil
end

local function admin_client(conf)
  local tok = conf.admin_token
  if type(tok) ~= "string" or tok == "" or tok:find("^{vault://") then
    return nil, "admin_token is not set (did its vault reference resolve? with {vault://env/NAME} Kong reads " ..
      "the environment variable NAME in upper case, dashes as underscores)"
  end
  return pats.new { token = tok, server_url = conf.server_url, timeout = conf.timeout }
end

-- revoke (when ACTIVE), then delete: the slot frees, and the secret is dead
-- even if the delete fails.  A 404 means already gone.
local function retire(c, conf, tok)
  if tok.state == "ACTIVE" then
    local _, e = c:revoke(conf.user_id, tok.id)
    if e and e.kind ~= "not_found" then return nil, e end
  end
  local _, e = c:delete(conf.user_id, tok.id)
  if e and e.kind ~= "not_found" then return nil, e end
  return true
end

-- Retire every token in `list` except the ids in `keep`; failures are logged
-- (the next check tries again), not fatal.
local function sweep(c, conf, list, keep)
  local n = 0
  for _, tok in ipairs(list) do
    if not keep[tok.id] then
      local ok, e = retire(c, conf, tok)
      if ok then
        n = n + 1
        log("notice", conf, "retired token ", tok.id, " (", tok.state, ") named ", tok.name)
      else
        log("warn", conf, "could not retire token ", tok.id, " named ", tok.name, ": ", e)
      end
    end
  end
  return n
end

local function ensure_locked(conf, force)
  local k = key(conf)
  local rec, lerr = load(conf)
  if rec == nil then return nil, lerr end
  local now = ngx.now()
  if rec and started[k] and not force and rec.expires - ngx.time() > conf.rotate_before
     and checked[k] and now - checked[k] < conf.check_interval then
    return "fresh"
  end

  local c, cerr = admin_client(conf)
  if not c then return nil, cerr end
  local name = Rotator.token_name(conf)
  local mine, ferr = c:find_by_name(conf.user_id, name)
  if not mine then return nil, ferr end
  local held
  for _, tok in ipairs(mine) do
    if rec and tok.id == rec.id and tok.state == "ACTIVE" and Rotator.current(conf) then held = tok end
  end

  local action
  local keep = {}
  if held and (force or rec.expires - ngx.time() <= conf.rotate_before) then
    local new, rerr = c:rotate(conf.user_id, held.id, { name = name, ttl_seconds = conf.ttl_seconds, old = "delete" })
    if not new then return nil, rerr end
    local stored, serr = store(conf, new)  -- the new secret is stored even when retiring the old one failed
    if not stored then return nil, serr end
    if rerr then log("warn", conf, "rotated to ", new.id, ", but: ", rerr) end
    log("notice", conf, "rotated token ", held.id, " -> ", new.id, " (", name, "), expires ", new.expires_at)
    action, keep[held.id], keep[new.id] = "rotated", not rerr, true
  elseif held then
    action, keep[held.id] = started[k] and "checked" or "adopted", true
    if action == "adopted" then log("notice", conf, "adopted token ", held.id, " (", name, ")") end
  else
    -- nothing usable held (first start, a restart that lost the shared dict, or
    -- the token was revoked, deleted or expired behind our back): the other
    -- tokens with our name are ours and their secrets are lost: retire them
    -- first (their slots free), then create.
    local retired = sweep(c, conf, mine, keep)
    mine = {}
    local new, e = c:create(conf.user_id, { name = name, ttl_seconds = conf.ttl_seconds })
    if not new then return nil, e end
    local stored, serr = store(conf, new)
    if not stored then return nil, serr end
    action = (rec or retired > 0) and "replaced" or "created"
    log("notice", conf, action, " token ", new.id, " (", name, "), expires ", new.expires_at)
    keep[new.id] = true
  end
  sweep(c, conf, mine, keep) -- leftovers: a crash between create and store, a failed delete
  started[k], checked[k] = true, now
  return action
end

--- ensure(conf[, force]) -> "fresh" | "checked" | "adopted" | "created" | "replaced" | "rotated" | "busy"
---   | nil, err
-- One check of one configuration: the timer body (exposed so it can be
-- driven by hand; force = true rotates now).  Runs wherever cosockets work.
function Rotator.ensure(conf, force)
  local k = key(conf)
  if busy[k] then return "busy" end
  busy[k] = true
  local ok, action, err = pcall(ensure_locked, conf, force)
  busy[k] = nil
  if not ok then action, err = nil, "internal error: " .. tostring(action) end
  if action then
    if action ~= "fresh" then
      local rec = load(conf)
      set_status(conf, { state = "ready", action = action, token_id = rec and rec.id or nil })
    end
  else
    local msg = redact.string(tostring(err), type(conf.admin_token) == "string" and conf.admin_token or {})
    local kind = type(err) == "table" and err.kind or nil
    set_status(conf, { state = "error", error = msg, kind = kind })
    log("err", conf, "managing the token for ", conf.server_url, " failed: ", msg)
    return nil, msg
  end
  return action
end

local function tick(premature)
  if premature then return end
  local seen = {}
  for _, conf in ipairs(configs) do
    local k = key(conf)
    local b = backoff[k]
    if not seen[k] and not (b and ngx.now() < b.at) then
      seen[k] = true  -- configurations with the same server, user and name share one token
      if Rotator.ensure(conf) then
        backoff[k] = nil
      else -- failing: try again after TICK, doubling up to check_interval (at most 5 minutes)
        local wait = b and b.wait * 2 or Rotator.TICK
        if wait > conf.check_interval then wait = conf.check_interval end
        if wait > 300 then wait = 300 end
        backoff[k] = { at = ngx.now() + wait, wait = wait }
      end
    end
  end
end
Rotator.tick = tick

--- configure(configs): Kong (3.x) calls this in every worker with all
--- configurations of this plugin (or nil when there are none), at start and
--- whenever they change.  Worker 0's timer checks the new ones on its next tick.
function Rotator:configure(confs) -- luacheck: ignore 212
  configs = type(confs) == "table" and confs or {}
  for _, conf in ipairs(configs) do
    if type(conf["$refs"]) ~= "table" or not conf["$refs"].admin_token then
      log("warn", conf, "admin_token is stored in plain text in the configuration; use a vault reference, "
        .. "e.g. {vault://env/konnect-admin-token}")
    end
  end
end

--- init_worker: start the timer (worker 0 only: one manager per node).  No
--- Konnect call happens here: cosockets are unavailable in init_worker.
function Rotator:init_worker() -- luacheck: ignore 212
  if ngx.worker.id() ~= 0 then return true end
  local ok, terr = ngx.timer.at(0, tick)
  if ok then ok, terr = ngx.timer.every(floor(Rotator.TICK * 1000) / 1000, tick) end
  if not ok then
    log("err", {}, "cannot start the timer: ", terr)
    return false, terr
  end
  return true
end

-- "https://host[:port]/" -> scheme, lower-case host
local function origin(url)
  local scheme, host = url:match("^(%a+)://%[?([^/?#:%]]+)")
  return scheme and scheme:lower(), host and host:lower()
end

--- access: put the node's current token on the request to Konnect.
function Rotator:access(conf) -- luacheck: ignore 212
  -- never hand the token to anything but the configured Konnect host
  local scheme, host = origin(conf.server_url)
  local svc = kong.router.get_service()
  local svc_host = svc and type(svc.host) == "string" and svc.host:lower()
  if svc_host ~= host or (scheme == "https" and svc.protocol ~= "https") then
    log("err", conf, "attached to service ", svc and svc.name or "(none)", " whose upstream (",
      svc and svc.protocol or "?", "://", svc_host or "?", ") is not ", scheme, "://", host,
      ": the token is not sent")
    return kong.response.exit(500, {
      message = "konnect-pat-rotator: this service does not point at the Konnect API (" .. scheme .. "://" ..
        host .. "); no token is sent",
    })
  end
  local secret = Rotator.current(conf)
  if not secret then
    return kong.response.exit(503, {
      message = "konnect-pat-rotator: no Konnect access token is available yet on this node " ..
        "(it is being created, or creating it fails: see the Kong error log)",
    }, { ["Retry-After"] = tostring(Rotator.RETRY_AFTER) })
  end
  kong.service.request.set_header("Authorization", "Bearer " .. secret)
end

return Rotator
