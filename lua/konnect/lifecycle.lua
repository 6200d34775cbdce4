-- konnect.lifecycle: the token lifecycle helpers behind client:rotate and
-- client:prune, and the explanation a 409 on create gets.
--
-- Konnect facts that shape them: a user holds at most limits.TOKEN_QUOTA (10)
-- tokens, revoked and expired ones included until deleted; a revoked token
-- may keep working for up to limits.REVOCATION_LAG (15 minutes).

local errors   = require "konnect.errors"
local validate = require "konnect.validate"
local limits   = require "konnect.limits"
local ops      = require "konnect.ops"
local time     = require "konnect.time"

local type, pairs, ipairs, tostring, format, concat, sort, os_time =
  type, pairs, ipairs, tostring, string.format, table.concat, table.sort, os.time

local _M = {}

local OPS = ops.OPERATIONS
local QUOTA = limits.TOKEN_QUOTA

local function bad(msg, op_id) return nil, errors.invalid_argument(msg, op_id) end

-- "2 ACTIVE, 8 REVOKED" (states in a stable order)
local function state_counts(data)
  local counts, names = {}, {}
  for _, tok in ipairs(data) do
    local st = type(tok.state) == "string" and tok.state or "?"
    if not counts[st] then names[#names + 1] = st end
    counts[st] = (counts[st] or 0) + 1
  end
  sort(names)
  local parts = {}
  for i, st in ipairs(names) do parts[i] = counts[st] .. " " .. st end
  return concat(parts, ", "), counts
end

--- explain_quota(c, user_id, err, copts) -> err: a 409 on create says why.
-- One list call counts the user's tokens (when it fails, the message says
-- "at most 10"); err.quota = { used =, limit =, states = { STATE = n } }.
function _M.explain_quota(c, user_id, err, copts)
  local server = err.detail or err.title
  local how = "revoked and expired tokens count until deleted: free a slot with client:prune(user_id) " ..
    "(or delete one)"
  local list = validate.uuid(user_id, "user_id") and ops.run(c, "list", copts, user_id)
  if type(list) == "table" and type(list.data) == "table" then
    local summary, counts = state_counts(list.data)
    err.quota = { used = #list.data, limit = QUOTA, states = counts }
    err.message = format("the user holds %d of at most %d personal access tokens (%s); %s", #list.data, QUOTA,
      summary ~= "" and summary or "none listed", how)
  else
    err.quota = { limit = QUOTA }
    err.message = format("a user holds at most %d personal access tokens; %s", QUOTA, how)
  end
  if type(server) == "string" and server ~= "" then
    err.message = err.message .. " [server: " .. server .. "]"
  end
  return err
end

-- Check the keys of a helper's options table.
local function check_keys(opts, allowed, what)
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      sort(names)
      return nil, format("%s: unknown option %s (expected %s)", what,
        type(k) == "string" and k or "(a " .. type(k) .. ")", concat(names, ", "))
    end
  end
  return true
end
_M.check_keys = check_keys

-- Whole seconds between two RFC 3339 times (offsets honoured), or nil.
local function lifetime(from, to)
  local a, b = time.rfc3339(from), time.rfc3339(to)
  return a and b and b - a or nil
end

-- Collects the meta of every call a helper makes; the helper returns the
-- last one with `calls` = all of them, in order.
local function tracker()
  local calls = {}
  return calls, function(v, err, m)
    if m then calls[#calls + 1] = m end
    return v, err, m
  end
end

local function last_meta(calls)
  local m = calls[#calls]
  if m then m.calls = calls end
  return m
end
_M.tracker, _M.last_meta, _M.lifetime = tracker, last_meta, lifetime

local ROTATE_KEYS = { name = true, ttl_seconds = true, old = true }
local OLD_MODES = { delete = true, revoke = true, keep = true }

-- A failure after the create: the new token is returned with the error, and
-- the error says what happened and names the new token.
local function after_create(c, new, err, step, calls)
  local what = step == "revoke" and "revoking the old one failed" or
    "the old one was retired (revoked) but deleting it failed; it stays listed and counts against the " ..
    QUOTA .. "-token quota until deleted (client:prune)"
  if step == "delete_unrevoked" then
    what = "deleting the old one failed; it stays listed and counts against the " .. QUOTA ..
      "-token quota until deleted (client:prune)"
  end
  err.message = errors.scrub({ message = "new token " .. tostring(new.id) .. " was created, but " .. what .. ": " ..
    tostring(err.message) }, c.secrets).message
  err.new_token_id = new.id
  err.step = step == "revoke" and "revoke" or "delete"
  return new, err, last_meta(calls)
end

--- rotate(c, user_id, token_id, opts, copts) -> new, nil, meta | new, err, meta | nil, err
-- Creates the replacement (same name and lifetime unless given), then deals
-- with the old token by opts.old:
--   "delete" (default): revoke it (when ACTIVE), then delete it: the slot
--     frees, and the old secret is dead even if the delete fails;
--   "revoke": revoke it (when ACTIVE); it stays listed until pruned;
--   "keep": leave it alone (two-phase rotations: switch consumers, then
--     delete or revoke it yourself).
-- Any failure after the create returns the new token with the error
-- (err.new_token_id, err.step), so its secret is never lost.  A token that
-- is not ACTIVE (expired, revoked) can be rotated; it is not revoked again.
function _M.rotate(c, user_id, token_id, opts, copts_raw)
  local op_id = OPS.create.id
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then return bad("rotate options must be a table { name =, ttl_seconds =, old = }", op_id) end
  local ok, verr = check_keys(opts, ROTATE_KEYS, "rotate")
  if not ok then return bad(verr, op_id) end
  -- validate before any I/O, as every operation does
  local uid, tid
  uid, verr = validate.user_id(user_id)
  if uid then tid, verr = validate.uuid(token_id, "token_id") end
  if tid and opts.name ~= nil then ok, verr = validate.name(opts.name) end
  if ok and tid and opts.ttl_seconds ~= nil then ok, verr = validate.ttl_seconds(opts.ttl_seconds) end
  if not (uid and tid and ok) then return bad(verr, op_id) end
  local mode = opts.old == nil and limits.ROTATE_OLD or opts.old
  if not OLD_MODES[mode] then
    return bad("rotate: old must be \"delete\", \"revoke\" or \"keep\", got " ..
      (type(mode) == "string" and format("%q", mode:sub(1, 40)) or type(mode)), op_id)
  end
  local copts, err = ops.call_options(c, copts_raw, "rotate")
  if copts_raw ~= nil and not copts then return nil, err end
  uid, err = ops.resolve_user(c, uid, copts, op_id)
  if not uid then return nil, err end

  local calls, track = tracker()
  local old, gerr = track(ops.run(c, "get", copts, uid, tid))
  if not old then return nil, gerr end
  local ttl = opts.ttl_seconds
  if ttl == nil then
    ttl = lifetime(old.created_at, old.expires_at) or limits.ROTATE_TTL
    if ttl < limits.TTL_MIN then ttl = limits.TTL_MIN end
    if ttl > limits.TTL_MAX then ttl = limits.TTL_MAX end
  end
  local new
  new, err = track(ops.run(c, "create", copts, uid, nil, { name = opts.name or old.name, ttl_seconds = ttl }))
  if not new then
    if err.kind == "conflict" then _M.explain_quota(c, uid, err, copts) end
    return nil, err
  end
  if mode == "keep" then return new, nil, last_meta(calls) end

  local active = old.state == "ACTIVE"
  if active then
    local _, rerr = track(ops.run(c, "revoke", copts, uid, tid))
    if rerr then return after_create(c, new, rerr, "revoke", calls) end
  end
  if mode == "revoke" then return new, nil, last_meta(calls) end

  local _, derr = track(ops.run(c, "delete", copts, uid, tid))
  if derr and derr.kind == "unauthorized" and type(new.konnect_token) == "string" then
    -- the client authenticated with the token it just revoked (rotating
    -- itself): delete it with the new one, which belongs to the same user
    local own = {}
    for k, v in pairs(copts or {}) do own[k] = v end
    own.auth = new.konnect_token
    own.secrets = { new.konnect_token }
    for _, s in ipairs(c.secrets) do own.secrets[#own.secrets + 1] = s end
    _, derr = track(ops.run(c, "delete", own, uid, tid))
  end
  if derr then return after_create(c, new, derr, active and "delete" or "delete_unrevoked", calls) end
  return new, nil, last_meta(calls)
end

local PRUNE_KEYS = { states = true, older_than = true, dry_run = true, ids = true }

--- id_set(ids, what) -> nil (no ids given) | { [id] = true } | false, message:
-- prune's `ids` option, an array of token ids (UUIDs): delete only these,
-- among the tokens that still match (a confirmed prune deletes exactly the
-- tokens it showed).  Shared by prune_sa_tokens (konnect.accounts).
function _M.id_set(ids, what)
  if ids == nil then return nil end
  local n = 0
  for _ in pairs(type(ids) == "table" and ids or {}) do n = n + 1 end
  if type(ids) ~= "table" or n ~= #ids then
    return false, what .. ": ids must be an array of token ids (UUIDs)"
  end
  local set = {}
  for _, id in ipairs(ids) do
    local ok = validate.uuid(id, "id")
    if not ok then return false, what .. ": ids must be an array of token ids (UUIDs)" end
    set[ok:lower()] = true
  end
  return set
end
local id_set = _M.id_set

-- When a token died: revoked_at (REVOKED), expires_at (EXPIRED), else
-- updated_at; created_at when that field is missing.
local function died_at(tok)
  local field = tok.state == "REVOKED" and "revoked_at" or tok.state == "EXPIRED" and "expires_at" or "updated_at"
  return time.rfc3339(tok[field]) or time.rfc3339(tok.updated_at) or time.rfc3339(tok.created_at)
end
_M.died_at = died_at

local function prune_options(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then return nil, "prune options must be a table { states =, older_than =, dry_run = }" end
  local ok, err = check_keys(opts, PRUNE_KEYS, "prune")
  if not ok then return nil, err end
  local states = {}
  local list = opts.states == nil and limits.PRUNE_STATES or opts.states
  if type(list) ~= "table" or #list == 0 then
    return nil, "prune: states must be a non-empty array such as { \"REVOKED\", \"EXPIRED\" }"
  end
  for k, st in pairs(list) do
    if type(k) ~= "number" or type(st) ~= "string" or st == "" or #st > limits.STATE_NAME_MAX then
      return nil, "prune: states must be an array of state names such as \"REVOKED\""
    end
    st = st:upper()
    if st == "ACTIVE" then
      return nil, "prune deletes dead tokens only (not ACTIVE ones): use client:delete for a live token"
    end
    states[st] = true
  end
  local older = opts.older_than == nil and 0 or opts.older_than
  if not limits.is_number(older) or older < 0 then
    return nil, "prune: older_than must be a number of seconds >= 0"
  end
  if opts.dry_run ~= nil and type(opts.dry_run) ~= "boolean" then
    return nil, "prune: dry_run must be a boolean"
  end
  local ids, ierr = id_set(opts.ids, "prune")
  if ids == false then return nil, ierr end
  return { states = states, older_than = older, dry_run = opts.dry_run == true, ids = ids }
end

--- delete_each(c, op_name, copts, owner_id, doomed, track, calls) -> deleted,
--- nil, meta | deleted so far, err, meta: the end of every prune (tokens of a
--- user or of a system account): `doomed` deleted one after another by the
--- operation op_name, a 404 counted as deleted (already gone), the first
--- other failure ends it (err.deleted: how many went before).
function _M.delete_each(c, op_name, copts, owner_id, doomed, track, calls)
  local deleted = {}
  for _, tok in ipairs(doomed) do
    local _, derr = track(ops.run(c, op_name, copts, owner_id, tok.id))
    if derr and derr.kind ~= "not_found" then
      derr.deleted = #deleted
      derr.message = format("pruned %d of %d tokens, then deleting %s failed: %s", #deleted, #doomed,
        tostring(tok.id), tostring(derr.message))
      return deleted, derr, last_meta(calls)
    end
    deleted[#deleted + 1] = tok
  end
  return deleted, nil, last_meta(calls)
end

--- prune(c, user_id, opts, copts) -> tokens, nil, meta | deleted so far, err, meta | nil, err
-- Deletes the user's tokens in opts.states (default REVOKED and EXPIRED;
-- ACTIVE is refused) that died at least opts.older_than seconds ago (see
-- died_at; measured against the server's Date header, else the local clock),
-- one after another; stops at the first failure (a 404 means already gone,
-- and counts as deleted).  dry_run = true deletes nothing and returns what
-- would be deleted; ids = { token id, ... } deletes only those of them that
-- still match.
function _M.prune(c, user_id, opts, copts_raw)
  local op_id = OPS.delete.id
  local o, oerr = prune_options(opts)
  if not o then return bad(oerr, op_id) end
  local uid, verr = validate.user_id(user_id)
  if not uid then return bad(verr, op_id) end
  local copts, err = ops.call_options(c, copts_raw, "prune")
  if copts_raw ~= nil and not copts then return nil, err end
  uid, err = ops.resolve_user(c, uid, copts, op_id)
  if not uid then return nil, err end

  local calls, track = tracker()
  local list, m
  list, err, m = track(ops.run(c, "list", copts, uid))
  if not list then return nil, err end
  local now = time.http_date(m.headers.date) or os_time()
  local doomed = {}
  for _, tok in ipairs(list.data) do
    if o.states[tok.state] and (not o.ids or o.ids[tostring(tok.id):lower()]) then
      local at = died_at(tok)
      if o.older_than == 0 or (at and now - at >= o.older_than) then doomed[#doomed + 1] = tok end
    end
  end
  if o.dry_run then return doomed, nil, last_meta(calls) end
  return _M.delete_each(c, "delete", copts, uid, doomed, track, calls)
end

return _M
