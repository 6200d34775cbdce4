-- fake_konnect.auth: who is calling, and may that kind of token call this
-- operation at all.  Ownership (alice's token on bob's PATs) is the route's
-- business; this module only knows credentials, token kinds and roles.
--
-- Token kinds, and where the contract (spec/konnect-tokens-openapi.yaml,
-- each operation's `security`) lets them in:
--   bootstrap, pat  a user's token (personalAccessToken): every operation
--   service         serviceAccessToken (fixture SERVICE_TOKEN): only the PAT
--                   operations that list it (list, get, revoke); 401 on
--                   get-users-me (the contract lists only 401 there), 403
--                   elsewhere
--   sa              a system-account access token (spat_…; the contract's
--                   systemAccountAccessToken): no PAT operation lists it, so
--                   401 on get-users-me and 403 on the other PAT operations.
--                   The users and system-account operations declare no
--                   `security` at all (the contract does not say); the fake
--                   lets every user and system-account token in there, as the
--                   scheme's own description (a spat_ token on /v2/users/)
--                   suggests.
-- Roles: a user or a system account may be an org admin (fixture ADMIN and
-- SYSTEM_ACCOUNT).  The system-account operations need the role (our choice;
-- the contract lists 403 but not who gets it): anyone else gets 403.

local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"

local problem = reply.problem

local _M = {}

-- operation -> group
local GROUP = {
  me = "me", list = "pat", create = "pat", get = "pat", update = "pat", delete = "pat", revoke = "pat",
  ["list-users"] = "users", ["get-user"] = "users",
  ["list-accounts"] = "sa", ["get-account"] = "sa", ["list-sa-tokens"] = "sa", ["create-sa-token"] = "sa",
  ["get-sa-token"] = "sa", ["update-sa-token"] = "sa", ["delete-sa-token"] = "sa",
}

-- PAT operations whose contract security lists serviceAccessToken
local SERVICE_OK = { list = true, get = true, revoke = true }

local function bearer(headers)
  local auth = headers["authorization"]
  if type(auth) == "table" then auth = auth[1] end
  if type(auth) ~= "string" or auth == "" then
    return nil, problem(401, "No credentials found")
  end
  local secret = auth:match("^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  if not secret then
    return nil, problem(401, "Invalid credentials")
  end
  return secret
end

-- a minted token (PAT or system-account token): 401 if revoked or expired,
-- else it is used now
local function use_token(t, kind_name)
  local now = util.now_ms()
  if t.revoked_at then
    return nil, problem(401, "Invalid credentials: the token was revoked")
  elseif t.expires_at and t.expires_at <= now then
    return nil, problem(401, "Invalid credentials: the " .. kind_name .. " has expired")
  end
  t.last_used_at = now
  return true
end

--- authenticate(headers) -> who | nil, response
-- who = { kind, user_id?, account_id?, token_id?, admin }
function _M.authenticate(headers)
  local secret, err = bearer(headers)
  if not secret then return nil, err end
  local cred = state.credentials[secret]
  if cred then
    local owner = cred.user_id and state.users[cred.user_id] or state.accounts[cred.account_id]
    return { user_id = cred.user_id, account_id = cred.account_id, kind = cred.kind,
             admin = owner ~= nil and owner.admin == true }
  end
  local t = state.token_by_secret(secret)
  if t then
    local ok, e = use_token(t, "token")
    if not ok then return nil, e end
    local u = state.users[t.user_id]
    return { user_id = t.user_id, kind = "pat", token_id = t.id, admin = u ~= nil and u.admin == true }
  end
  t = state.sa_token_by_secret(secret)
  if t then
    local ok, e = use_token(t, "token")
    if not ok then return nil, e end
    local a = state.accounts[t.account_id]
    return { account_id = t.account_id, kind = "sa", token_id = t.id, admin = a ~= nil and a.admin == true }
  end
  return nil, problem(401, "Invalid credentials")
end

--- check(headers, op) -> who | nil, response: credentials, then whether
-- this kind of token (and role) may call op at all
function _M.check(headers, op)
  local who, err = _M.authenticate(headers)
  if not who then return nil, err end
  local group = assert(GROUP[op], op)
  local kind = who.kind
  if group == "me" then
    if kind == "service" then -- the contract lists only 401 for get-users-me
      return nil, problem(401, "Service access tokens cannot read a user account")
    elseif kind == "sa" then
      return nil, problem(401, "System account access tokens cannot read a user account")
    end
  elseif group == "pat" then
    if kind == "service" and not SERVICE_OK[op] then
      return nil, problem(403, "Service access tokens are not allowed for this operation")
    elseif kind == "sa" then
      return nil, problem(403, "System account access tokens cannot manage personal access tokens")
    end
  elseif kind == "service" then
    return nil, problem(403, "Service access tokens are not allowed for this operation")
  elseif group == "sa" and not who.admin then
    return nil, problem(403, "You do not have permission to perform this action: " ..
      "managing system accounts needs the organization admin role")
  end
  return who
end

return _M
