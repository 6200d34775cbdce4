-- fake_konnect.users: list-users and get-user (spec/konnect-tokens-openapi.yaml).
--
-- The contract lists only 200 and 400 for list-users (and 404 for get-user):
-- no 401 and no 403, and no `security`.  The fake still answers 401 without
-- valid credentials (every /v3 call of real Konnect needs a token) and 403 for
-- the service token (see fake_konnect.auth), in the contract's
-- UnauthorizedError / ForbiddenError shapes; these are the only statuses it
-- sends outside the contract, and the contract spec lists them.  Any user or
-- system-account token may list and read users (CHOICE: the contract does not
-- say who may); the order is the organisation's (fixture users first, then the
-- generated ones), stable across pages (CHOICE).

local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"
local auth = require "fake_konnect.auth"
local paging = require "fake_konnect.paging"

local _M = {}

local FILTERS = { id = "eq", email = "string", full_name = "string", active = "boolean" }

--- view(user) -> the contract's User (the internal admin flag stays inside)
function _M.view(u)
  return {
    id = u.id, email = u.email, full_name = u.full_name, preferred_name = u.preferred_name,
    active = u.active, inferred_region = u.inferred_region,
    created_at = util.fmt_time(u.created_at), updated_at = util.fmt_time(u.updated_at),
  }
end

function _M.list(headers, args)
  local who, err = auth.check(headers, "list-users")
  if not who then return err end
  local q, inv = paging.parse(args, FILTERS)
  if not q then return reply.bad_request(inv) end
  state.generated()
  return reply.ok_json(200, paging.page(state.user_order, state.users, q, _M.view))
end

function _M.get(headers, user_id)
  local who, err = auth.check(headers, "get-user")
  if not who then return err end
  if not util.is_uuid(user_id) then
    return reply.bad_request { reply.param("userId", "is_uuid", "must be a valid UUID", "path") }
  end
  local u = state.users[user_id:lower()]
  if not u then return reply.problem(404, "User not found: [" .. user_id .. "]") end
  return reply.ok_json(200, _M.view(u))
end

return _M
