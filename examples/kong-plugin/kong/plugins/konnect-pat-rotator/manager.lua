-- konnect-pat-rotator's manager: one check of one configuration (the timer
-- body).  Everything here runs where cosockets work (timers, requests).
--
-- Identity: the node's token is named "<token_name>.konnect-pat-rotator.<node>"
-- where <node> is config.node_name, else the host name.  It does NOT contain
-- kong.node.get_id(): Kong makes a new v4 id at every start unless kong.conf sets
-- node_id or the node is a data plane with <prefix>/kong.id (kong/pdk/node.lua),
-- so an id in the name leaks one token per restart.
--
-- One manager per node: an shm lock with a TTL (it survives `kong reload`, which
-- keeps the shared dicts) is taken before any call, refreshed before each call,
-- and is the fence of every write: a token is stored as current only by the
-- lock's holder.  A worker that lost the lock stores nothing.
--
-- Tokens of other nodes: a live node uses its token at every check (the
-- heartbeat: GET /v3/users/me with it, which sets last_used_at in Konnect).  A
-- token of this plugin (same user, same token_name) that nobody used (or that was
-- created) more than sweep_after seconds ago, by Konnect's own clock (the Date
-- header of the list), belongs to a node that is gone and is retired.

local pats   = require "konnect.pats"
local redact = require "konnect.redact"
local ktime  = require "konnect.time"
local cjson  = require("cjson.safe").new()

local ngx = ngx
local ipairs, pcall, tostring, type, select, concat =
  ipairs, pcall, tostring, type, select, table.concat

local _M = {}

_M.MARK = ".konnect-pat-rotator."
-- seconds between storing a new token and retiring the one it replaced: requests
-- that read the old secret just before still authenticate (Konnect may honour a
-- revoked token for up to 15 minutes, but nothing promises that it does)
_M.GRACE = 60
_M.PREFIX = "kpr|"

local started = {}  -- key -> true once this process adopted or replaced its token
local checked = {}  -- key -> ngx.now() of this process's last check with Konnect
local seq = 0

local function kong_log() return (kong or rawget(_G, "kong") or {}).log end

--- log(level, conf, ...): every line through konnect.redact (the admin token and
--- any kpat_/spat_ shaped string)
function _M.log(level, conf, ...)
  local parts = { "konnect-pat-rotator: " }
  for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  local line = redact.string(concat(parts), type(conf.admin_token) == "string" and conf.admin_token or {})
  local l = kong_log()
  if l and l[level] then l[level](line) else ngx.log(ngx.ERR, line) end
end
local log = _M.log

local function pdk(fn)
  local k = kong or rawget(_G, "kong")
  local ok, v = pcall(fn, k)
  return ok and type(v) == "string" and v or ""
end

-- to the PAT name alphabet: letters, digits, "-", "_", "."; starts and ends with
-- a letter or digit; at most 64 characters
local function clean(s)
  s = s:gsub("[^%w%-_%.]", "-"):gsub("^[^%w]+", ""):sub(1, 64)
  return (s:gsub("[^%w]+$", ""))
end

--- node_label(conf) -> this node's name in its token's name
function _M.node_label(conf)
  local l = type(conf.node_name) == "string" and clean(conf.node_name) or ""
  if l == "" then l = clean(pdk(function(k) return k.node.get_hostname() end)) end
  if l == "" then l = clean(pdk(function(k) return k.node.get_id() end)) end
  return l ~= "" and l or "node"
end

function _M.prefix(conf) return conf.token_name .. _M.MARK end

--- token_name(conf) -> "<token_name>.konnect-pat-rotator.<node>"
function _M.token_name(conf) return _M.prefix(conf) .. _M.node_label(conf) end

local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89abAB]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- a name of the plugin's first release, "<token_name>-<node id>" (swept like the others)
local function legacy(conf, name)
  local tn = conf.token_name .. "-"
  return name:sub(1, #tn) == tn and name:sub(#tn + 1):find(UUID4) ~= nil
end

--- key(conf): configurations with the same server, user and token_name share one token
function _M.key(conf)
  return _M.PREFIX .. conf.server_url .. "|" .. conf.user_id .. "|" .. conf.token_name
end

function _M.dict(conf)
  local d = ngx.shared[conf.shm or "konnect_pats"]
  if not d then
    return nil, "lua_shared_dict " .. tostring(conf.shm or "konnect_pats") ..
      " is missing (kong.conf: nginx_http_lua_shared_dict = konnect_pats 1m)"
  end
  return d
end

local function decode(v) return v and cjson.decode(v) or false end

--- current(conf) -> the node's current token (secret), or nil
function _M.current(conf)
  local d = _M.dict(conf)
  return d and d:get(_M.key(conf) .. "|secret") or nil
end

--- record(conf) -> { id, name, expires, old = { id, retire_at } } | false
function _M.record(conf)
  local d = _M.dict(conf)
  return d and decode(d:get(_M.key(conf) .. "|rec")) or false
end

--- status(conf) -> { state = "ready"|"error", action =, token_id =, error =, at = } or nil
function _M.status(conf)
  local d = _M.dict(conf)
  return d and decode(d:get(_M.key(conf) .. "|status")) or nil
end

local function set_status(ctx, st)
  st.at = ngx.time()
  ctx.d:set(ctx.k .. "|status", cjson.encode(st))
end

-- the lock ----------------------------------------------------------------

-- a call takes at most max_elapsed + one attempt = 3 x timeout (retries below)
local function lock_ttl(conf) return 6 * conf.timeout + 10 end

local function lock(ctx)
  seq = seq + 1
  local me = ngx.worker.pid() .. ":" .. ngx.now() .. ":" .. seq
  local ok, err = ctx.d:add(ctx.k .. "|lock", me, lock_ttl(ctx.conf))
  if ok then ctx.me = me return true end
  if err == "exists" then return false end
  return nil, "cannot take the lock in lua_shared_dict " .. tostring(ctx.conf.shm) .. ": " .. tostring(err)
end

-- still the holder? then hold it lock_ttl longer (before every call and write)
local function step(ctx)
  local d, lk = ctx.d, ctx.k .. "|lock"
  if d:get(lk) ~= ctx.me then return false end
  d:set(lk, ctx.me, lock_ttl(ctx.conf))
  return true
end

local function unlock(ctx)
  if ctx.me and ctx.d:get(ctx.k .. "|lock") == ctx.me then ctx.d:delete(ctx.k .. "|lock") end
end

local LOST = "another worker of this node manages the token now (the lock expired); nothing stored"

-- the fenced writes: the secret expires with the token
local function store(ctx, tok, old)
  if not step(ctx) then return nil, LOST end
  local now = ngx.time()
  local rec = { id = tok.id, name = tok.name, expires = now + ctx.conf.ttl_seconds, old = old }
  local ok, err = ctx.d:set(ctx.k .. "|secret", tok.konnect_token, ctx.conf.ttl_seconds)
  if ok then ok, err = ctx.d:set(ctx.k .. "|rec", cjson.encode(rec)) end
  if not ok then return nil, "cannot store the token in lua_shared_dict " .. tostring(ctx.conf.shm) .. ": " .. err end
  return rec
end

local function save(ctx, rec)
  if not step(ctx) then return nil, LOST end
  return ctx.d:set(ctx.k .. "|rec", cjson.encode(rec))
end

-- Konnect ---------------------------------------------------------------------

local function client(conf, token)
  if type(token) ~= "string" or token == "" or token:find("^{vault://") then
    return nil, "admin_token is not set (did its vault reference resolve? with {vault://env/NAME} Kong reads " ..
      "the environment variable NAME in upper case, dashes as underscores)"
  end
  return pats.new { token = token, server_url = conf.server_url, timeout = conf.timeout,
                    retries = { max_attempts = 3, initial = 0.5, max = 8, max_elapsed = 2 * conf.timeout } }
end

-- revoke (when ACTIVE), then delete: the slot frees, and the secret is dead even
-- if the delete fails.  A 404 means already gone.
local function retire(ctx, tok)
  local c, user = ctx.c, ctx.conf.user_id
  if tok.state == "ACTIVE" then
    if not step(ctx) then return nil, LOST end
    local _, e = c:revoke(user, tok.id)
    if e and e.kind ~= "not_found" then return nil, e end
  end
  if not step(ctx) then return nil, LOST end
  local _, e = c:delete(user, tok.id)
  if e and e.kind ~= "not_found" then return nil, e end
  return true
end

local function retire_logged(ctx, tok, why)
  local ok, e = retire(ctx, tok)
  if ok then
    log("notice", ctx.conf, "retired token ", tok.id, " named ", tok.name or "?", " (", why, ")")
  else
    log("warn", ctx.conf, "could not retire token ", tok.id, " named ", tok.name or "?", ": ", e)
  end
  return ok
end

-- why a token of this plugin may be retired now, or nil
local function dead(ctx, t, server_now)
  local conf = ctx.conf
  if t.name == ctx.name then return "this node's, from before: its secret is gone" end
  local prefix = _M.prefix(conf)
  if t.name:sub(1, #prefix) ~= prefix and not legacy(conf, t.name) then return nil end -- not ours
  if t.state ~= "ACTIVE" then return "state " .. tostring(t.state) end
  local last = ktime.rfc3339(t.last_used_at) or ktime.rfc3339(t.created_at)
  if last and server_now - last > conf.sweep_after then
    return ("unused for %d s, more than sweep_after: its node is gone"):format(server_now - last)
  end
end

local function sweep(ctx, tokens, keep, server_now)
  for _, t in ipairs(tokens) do
    if not keep[t.id] and type(t.name) == "string" and type(t.id) == "string" then
      local why = dead(ctx, t, server_now)
      if why then retire_logged(ctx, t, why) end
    end
  end
end

-- use the current token once: it proves it works, and Konnect's last_used_at
-- tells the other nodes this one is alive
local function heartbeat(ctx)
  local secret = ctx.d:get(ctx.k .. "|secret")
  local c, cerr = client(ctx.conf, secret)
  if not c then return nil, cerr end
  if not step(ctx) then return nil, LOST end
  local _, e = c:me()
  if e and e.kind == "unauthorized" then -- dead behind our back: the next check replaces it
    if step(ctx) then ctx.d:delete(ctx.k .. "|secret") end
    return nil, "the current token was refused (401); it is replaced at the next check"
  end
  if e then log("warn", ctx.conf, "heartbeat with the current token failed: ", e) end
  return true
end

local function manage(ctx, force)
  local conf, d, k = ctx.conf, ctx.d, ctx.k
  local c, cerr = client(conf, conf.admin_token)
  if not c then return nil, cerr end
  ctx.c = c
  if not step(ctx) then return nil, LOST end
  local list, err, meta = c:list(conf.user_id)
  if not list then return nil, err end
  local hdrs = meta and meta.headers
  local server_now = ktime.http_date(hdrs and hdrs.date) or ngx.time()
  local byid = {}
  for _, t in ipairs(list.data) do if type(t.id) == "string" then byid[t.id] = t end end

  local rec, secret, now = decode(d:get(k .. "|rec")), d:get(k .. "|secret"), ngx.time()
  local t = rec and byid[rec.id]
  local held = secret and t and t.state == "ACTIVE" and t or nil
  local due = held and (force or rec.expires - now <= conf.rotate_before)

  -- the token a rotation replaced: retired after its grace, or before the next rotation
  local old = rec and rec.old
  if old and (now >= old.retire_at or due or not held) then
    if retire_logged(ctx, byid[old.id] or { id = old.id, state = "ACTIVE" }, "replaced by a rotation") then
      old = nil
      if held then
        rec.old = nil
        local ok, serr = save(ctx, rec)
        if not ok then return nil, serr end
      end
    end
  end

  sweep(ctx, list.data, { [held and held.id or ""] = true, [old and old.id or ""] = true }, server_now)

  local action
  if held and due then
    if not step(ctx) then return nil, LOST end
    local new, e = c:create(conf.user_id, { name = ctx.name, ttl_seconds = conf.ttl_seconds })
    if not new then return nil, e end
    local stored, serr = store(ctx, new, { id = held.id, retire_at = now + _M.GRACE })
    if not stored then
      retire(ctx, new)
      return nil, serr
    end
    log("notice", conf, "rotated token ", held.id, " -> ", new.id, " (", ctx.name, "), expires ", new.expires_at,
      "; the old one is retired in ", _M.GRACE, " s")
    action = "rotated"
  elseif held then
    action = started[k] and "checked" or "adopted"
    if action == "adopted" then log("notice", conf, "adopted token ", held.id, " (", ctx.name, ")") end
  else
    -- nothing usable held (first start, a restart that lost the shared dict, or a
    -- token revoked, deleted or expired behind our back): create one
    if not step(ctx) then return nil, LOST end
    local new, e = c:create(conf.user_id, { name = ctx.name, ttl_seconds = conf.ttl_seconds })
    if not new then return nil, e end
    local stored, serr = store(ctx, new, nil)
    if not stored then
      retire(ctx, new)
      return nil, serr
    end
    action = rec and "replaced" or "created"
    log("notice", conf, action, " token ", new.id, " (", ctx.name, "), expires ", new.expires_at)
  end
  local ok, herr = heartbeat(ctx)
  if not ok then return nil, herr end
  started[k], checked[k] = true, ngx.now()
  return action
end

-- nothing to do: recently checked, not due, no old token waiting (no lock, no call)
local function fresh(conf, k, d)
  local rec, now = decode(d:get(k .. "|rec")), ngx.time()
  return rec and started[k] and checked[k] and ngx.now() - checked[k] < conf.check_interval
    and rec.expires - now > conf.rotate_before and not (rec.old and now >= rec.old.retire_at)
    and d:get(k .. "|secret") ~= nil
end

--- ensure(conf[, force]) -> "fresh" | "busy" | "checked" | "adopted" | "created" | "replaced" | "rotated"
---   | nil, err.  force = true rotates now.  "busy": another worker of this node holds the lock.
function _M.ensure(conf, force)
  local d, derr = _M.dict(conf)
  if not d then return nil, derr end
  local k = _M.key(conf)
  if not force and fresh(conf, k, d) then return "fresh" end
  local ctx = { conf = conf, d = d, k = k, name = _M.token_name(conf) }
  local got, lerr = lock(ctx)
  if not got then
    if lerr then return nil, lerr end
    return "busy"
  end
  local ok, action, err = pcall(manage, ctx, force)
  unlock(ctx)
  if not ok then action, err = nil, "internal error: " .. tostring(action) end
  if action then
    if action ~= "fresh" then
      local rec = decode(d:get(k .. "|rec"))
      set_status(ctx, { state = "ready", action = action, token_id = rec and rec.id or nil })
    end
    return action
  end
  local msg = redact.string(tostring(err), type(conf.admin_token) == "string" and conf.admin_token or {})
  set_status(ctx, { state = "error", error = msg, kind = type(err) == "table" and err.kind or nil })
  log("err", conf, "managing the token for ", conf.server_url, " failed: ", msg)
  return nil, msg
end

return _M
