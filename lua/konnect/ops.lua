-- konnect.ops: the operations of the Personal Access Tokens API, their
-- argument rules and "me" resolution.  Used by konnect.pats (one call) and
-- konnect.batch (many): both build a call the same way, before any I/O.

local errors   = require "konnect.errors"
local validate = require "konnect.validate"
local http     = require "konnect.http"

local type, pairs, ipairs, format = type, pairs, ipairs, string.format

local _M = {}

-- A `list` answer must carry `data`, an array of token objects.
local function check_list(v)
  local data = v.data
  if type(data) ~= "table" then return "expected a list with a data array" end
  local n = #data
  for k in pairs(data) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then
      return "expected data to be an array"
    end
  end
  for _, tok in ipairs(data) do
    if type(tok) ~= "table" then return "expected data to be an array of token objects" end
  end
  return nil
end

-- One row per operation: `params` name the path parameters in order; `body`
-- builds the request body; `check` vets a decoded answer (a message: decode error).
local OPS = {
  list   = { id = "list-users-personal-access-tokens", method = "GET",
             path = "/v3/users/%s/access-tokens", params = { "user_id" }, idempotent = true,
             check = check_list },
  create = { id = "create-personal-access-token", method = "POST",
             path = "/v3/users/%s/access-tokens", params = { "user_id" },
             body = validate.create_body, idempotent = false },
  get    = { id = "get-personal-access-token-details", method = "GET",
             path = "/v3/users/%s/access-tokens/%s", params = { "user_id", "token_id" }, idempotent = true },
  update = { id = "update-personal-access-token-details", method = "PATCH",
             path = "/v3/users/%s/access-tokens/%s", params = { "user_id", "token_id" },
             body = validate.update_body, idempotent = true },
  delete = { id = "delete-personal-access-token", method = "DELETE",
             path = "/v3/users/%s/access-tokens/%s", params = { "user_id", "token_id" },
             idempotent = true, no_content = true, gone_ok = true },
  revoke = { id = "revoke-personal-access-token", method = "PATCH",
             path = "/v3/users/%s/access-tokens/%s/revoke", params = { "user_id", "token_id" },
             idempotent = true },
  me     = { id = "get-users-me", method = "GET", path = "/v3/users/me", params = {}, idempotent = true },
}
for name, op in pairs(OPS) do op.name = name end
_M.OPERATIONS = OPS

--- resolve_user(c, user_id) -> user id | nil, err.  "me" becomes the caller's
-- user id, asked once per client (GET /v3/users/me) and remembered in c.me_id.
function _M.resolve_user(c, user_id)
  if user_id ~= "me" then return user_id end
  if c.me_id then return c.me_id end
  local me, err = http.request(c, OPS.me, OPS.me.path)
  if not me then return nil, err end
  local id = validate.uuid(me.id, "user id")
  if not id then
    return nil, errors.new("decode", { operation = OPS.me.id, message = "GET /v3/users/me returned no valid user id" })
  end
  c.me_id = id
  return id
end

--- build(c, op, a1, a2, a3) -> path, body | nil, err
-- Validates the arguments of `op` (at most user_id, token_id, opts) and makes
-- its path and body; "me" is resolved last, after every local check passed.
function _M.build(c, op, a1, a2, a3)
  local nparams, err = #op.params
  local user_id, token_id, opts = a1, nil, a2
  if nparams >= 1 then
    user_id, err = validate.user_id(a1)
    if not user_id then return nil, errors.invalid_argument(err, op.id) end
  end
  if nparams == 2 then
    token_id, err = validate.uuid(a2, "token_id")
    if not token_id then return nil, errors.invalid_argument(err, op.id) end
    opts = a3
  end
  local body
  if op.body then
    body, err = op.body(opts)
    if not body then return nil, errors.invalid_argument(err, op.id) end
  end
  if user_id == "me" then
    user_id, err = _M.resolve_user(c, "me")
    if not user_id then return nil, err end
  end
  return format(op.path, user_id, token_id), body
end

--- nargs(op) -> how many arguments the operation takes after the client
function _M.nargs(op)
  return #op.params + (op.body and 1 or 0)
end

return _M
