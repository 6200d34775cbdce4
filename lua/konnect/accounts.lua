-- konnect.accounts: the helpers for system accounts and their tokens behind
-- client:find_system_account, client:rotate_sa_token and
-- client:prune_sa_tokens.
--
-- What the contract says that shapes them (spec/konnect-tokens-openapi.yaml):
-- a system account's token names are unique (create and update answer 409
-- on a name taken), these tokens have no revoke and no state, and create
-- needs `name` and `expires_at`.

local errors    = require "konnect.errors"
local validate  = require "konnect.validate"
local limits    = require "konnect.limits"
local ops       = require "konnect.ops"
local time      = require "konnect.time"
local http      = require "konnect.http"
local pages     = require "konnect.pages"
local lifecycle = require "konnect.lifecycle"

local type, pairs, ipairs, tostring, format, concat, os_time =
  type, pairs, ipairs, tostring, string.format, table.concat, os.time

local _M = {}

local OPS = ops.OPERATIONS
local tracker, last_meta, check_keys = lifecycle.tracker, lifecycle.last_meta, lifecycle.check_keys

local function bad(msg, op_id) return nil, errors.invalid_argument(msg, op_id) end

-- a name for a message: quoted, at most 80 bytes, redacted
local function shown(c, s)
  return errors.scrub({ message = format("%q", s:sub(1, 80)) }, c.secrets).message
end

--- find(c, name_or_id, copts) -> account, nil, meta | nil, err
-- A UUID is an id: that account (get-system-accounts-id).  Anything else is
-- a name: the accounts listed with filter[name][eq] whose name is exactly
-- it; one -> that account, several -> invalid_argument naming their ids,
-- none -> not_found.
function _M.find(c, name_or_id, copts)
  local list_id = OPS.system_accounts_page.id
  if type(name_or_id) ~= "string" or name_or_id == "" or #name_or_id > limits.FILTER_MAX then
    return bad("find_system_account needs a system account's name or id (a non-empty string)", list_id)
  end
  if validate.uuid(name_or_id, "id") then
    local url, err, co = ops.build(c, OPS.get_system_account, name_or_id, copts)
    if not url then return nil, err end
    return http.request(c, OPS.get_system_account, url, nil, co)
  end
  local all, err, m = pages.all(c, pages.LISTS.system_accounts, nil,
    { filter = { name = { eq = name_or_id } } }, copts)
  if not all then return nil, err end
  local found, ids = {}, {}
  for _, a in ipairs(all.data) do
    if a.name == name_or_id then
      found[#found + 1] = a
      ids[#ids + 1] = tostring(a.id)
    end
  end
  if #found == 1 then return found[1], nil, m end
  if #found == 0 then
    return nil, errors.new("not_found", { operation = list_id, method = "GET", message =
      "no system account is named " .. shown(c, name_or_id) .. " (names are matched exactly)" })
  end
  return bad(format("%d system accounts are named %s: %s; pass the id of the one you mean", #found,
    shown(c, name_or_id), concat(ids, ", ")), list_id)
end

local ROTATE_KEYS = { name = true, expires_at = true, ttl_seconds = true, old = true }
local OLD_MODES = { delete = true, keep = true }

-- "<name> (rotating 20261207T211448Z)", at most limits.NAME_MAX characters:
-- the new token's name while the old one still holds `name`
local function temporary_name(name, now)
  local suffix = " (rotating " .. time.iso(now):gsub("[-:]", "") .. ")"
  local room = limits.NAME_MAX - #suffix -- the suffix is ASCII
  local chars, cut = 0, #name
  for i = 1, #name do
    local b = name:byte(i)
    if b < 0x80 or b >= 0xC0 then
      chars = chars + 1
      if chars > room then cut = i - 1; break end
    end
  end
  return name:sub(1, cut) .. suffix
end

-- A failure after the create: the new token is returned with the error,
-- which says what happened and names it.
local function after_create(c, new, err, step, calls, temp)
  local what = step == "delete" and
    ("deleting the old one failed; it stays listed and its secret keeps working until deleted " ..
     "(client:delete_sa_token)" .. (temp and (", and the new one is named " .. shown(c, temp)) or ""))
    or ("the old one was deleted but renaming the new one failed: it is named " .. shown(c, temp) ..
        " (client:update_sa_token)")
  err.message = errors.scrub({ message = "new token " .. tostring(new.id) .. " was created, but " .. what ..
    ": " .. tostring(err.message) }, c.secrets).message
  err.new_token_id = new.id
  err.step = step
  return new, err, last_meta(calls)
end

--- rotate(c, account_id, token_id, opts, copts) -> new, nil, meta | new, err, meta | nil, err
-- opts = { name =, expires_at = | ttl_seconds =, old = "delete" | "keep" }.
-- Creates the replacement (the old one's name and lifetime unless given),
-- then, with old = "delete" (default), deletes the old one (there is no
-- revoke).  Names are unique per account: while the old token holds the
-- name, the new one is created under "<name> (rotating <time>)" and renamed
-- once the old one is gone.  Any failure after the create returns the new
-- token with the error (err.new_token_id, err.step = "delete" | "rename"):
-- its secret (new.token) is never lost.
function _M.rotate(c, account_id, token_id, opts, copts_raw)
  local op_id = OPS.create_sa_token.id
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    return bad("rotate_sa_token options must be a table { name =, expires_at =, ttl_seconds =, old = }", op_id)
  end
  local ok, verr = check_keys(opts, ROTATE_KEYS, "rotate_sa_token")
  if not ok then return bad(verr, op_id) end
  local aid, tid
  aid, verr = validate.uuid(account_id, "account_id")
  if aid then tid, verr = validate.uuid(token_id, "token_id") end
  if tid and opts.name ~= nil then ok, verr = validate.sa_name(opts.name) end
  if not (aid and tid and ok) then return bad(verr, op_id) end
  local given_expiry
  if opts.expires_at ~= nil or opts.ttl_seconds ~= nil then -- checked as create_sa_token checks them
    local body, berr = validate.sa_create_body { name = "x", expires_at = opts.expires_at,
                                                 ttl_seconds = opts.ttl_seconds }
    if not body then return bad("rotate_sa_token: " .. berr, op_id) end
    given_expiry = body.expires_at
  end
  local mode = opts.old == nil and limits.ROTATE_OLD or opts.old
  if not OLD_MODES[mode] then
    return bad("rotate_sa_token: old must be \"delete\" or \"keep\" (system-account tokens have no revoke), got " ..
      (type(mode) == "string" and format("%q", mode:sub(1, 40)) or type(mode)), op_id)
  end
  if mode == "keep" and opts.name == nil then
    return bad("rotate_sa_token with old = \"keep\" needs a new name: a system account's token names are unique",
      op_id)
  end
  local copts, err = ops.call_options(c, copts_raw, "rotate_sa_token")
  if copts_raw ~= nil and not copts then return nil, err end

  local calls, track = tracker()
  local old, gerr, gm = track(ops.run(c, "get_sa_token", copts, aid, tid))
  if not old then return nil, gerr end
  local now = time.http_date(gm.headers.date) or os_time()
  local expires_at = given_expiry
  if not expires_at then
    local life = lifecycle.lifetime(old.created_at, old.expires_at)
    if not life or life <= 0 then life = limits.ROTATE_TTL end
    expires_at = time.iso(now + life)
  end
  local name = opts.name or old.name
  local temp = name == old.name and mode == "delete" and temporary_name(name, now) or nil
  local new
  new, err = track(ops.run(c, "create_sa_token", copts, aid, nil, { name = temp or name, expires_at = expires_at }))
  if not new then return nil, err end
  if mode == "keep" then return new, nil, last_meta(calls) end

  local _, derr = track(ops.run(c, "delete_sa_token", copts, aid, tid))
  if derr and derr.kind ~= "not_found" then return after_create(c, new, derr, "delete", calls, temp) end
  if not temp then return new, nil, last_meta(calls) end

  local renamed, rerr = track(ops.run(c, "update_sa_token", copts, aid, new.id, { name = name }))
  if rerr and rerr.kind == "unauthorized" and type(new.token) == "string" then
    -- the client authenticated with the token it just deleted (rotating
    -- itself): rename with the new one, of the same account
    local own = {}
    for k, v in pairs(copts or {}) do own[k] = v end
    own.auth = new.token
    own.secrets = { new.token }
    for _, s in ipairs(c.secrets) do own.secrets[#own.secrets + 1] = s end
    renamed, rerr = track(ops.run(c, "update_sa_token", own, aid, new.id, { name = name }))
  end
  if rerr then return after_create(c, new, rerr, "rename", calls, temp) end
  new.name, new.updated_at = renamed.name, renamed.updated_at
  return new, nil, last_meta(calls)
end

local PRUNE_KEYS = { older_than = true, dry_run = true, ids = true }

--- prune(c, account_id, opts, copts) -> tokens, nil, meta | deleted so far, err, meta | nil, err
-- Deletes the account's expired tokens (expires_at at least opts.older_than
-- seconds ago, default 0, measured against the server's Date, else the local
-- clock), one after another; stops at the first failure (a 404 counts as
-- deleted).  dry_run = true returns what would be deleted; ids = { token id,
-- ... } deletes only those of them that still match (lifecycle.id_set).
function _M.prune(c, account_id, opts, copts_raw)
  local op_id = OPS.delete_sa_token.id
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    return bad("prune_sa_tokens options must be a table { older_than =, dry_run =, ids = }", op_id)
  end
  if opts.states ~= nil then
    return bad("prune_sa_tokens: system-account tokens have no state (no revoke): it deletes expired ones; " ..
      "drop states", op_id)
  end
  local ok, verr = check_keys(opts, PRUNE_KEYS, "prune_sa_tokens")
  if not ok then return bad(verr, op_id) end
  local older = opts.older_than == nil and 0 or opts.older_than
  if not limits.is_number(older) or older < 0 then
    return bad("prune_sa_tokens: older_than must be a number of seconds >= 0", op_id)
  end
  if opts.dry_run ~= nil and type(opts.dry_run) ~= "boolean" then
    return bad("prune_sa_tokens: dry_run must be a boolean", op_id)
  end
  local ids, ierr = lifecycle.id_set(opts.ids, "prune_sa_tokens")
  if ids == false then return bad(ierr, op_id) end
  local aid
  aid, verr = validate.uuid(account_id, "account_id")
  if not aid then return bad(verr, op_id) end
  local copts, err = ops.call_options(c, copts_raw, "prune_sa_tokens")
  if copts_raw ~= nil and not copts then return nil, err end

  local calls, track = tracker()
  local all, m
  all, err, m = pages.all(c, pages.LISTS.sa_tokens, aid, nil, copts_raw)
  if not all then return nil, err end
  track(all, nil, m)
  local now = time.http_date(m.headers.date) or os_time()
  local doomed = {}
  for _, tok in ipairs(all.data) do
    local at = time.rfc3339(tok.expires_at)
    if at and at <= now and now - at >= older and (not ids or ids[tostring(tok.id):lower()]) then
      doomed[#doomed + 1] = tok
    end
  end
  if opts.dry_run then return doomed, nil, last_meta(calls) end
  return lifecycle.delete_each(c, "delete_sa_token", copts, aid, doomed, track, calls)
end

return _M
