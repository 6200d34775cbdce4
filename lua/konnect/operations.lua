-- konnect.operations: the one operation table.  Every request the library
-- makes is one of these rows (spec/konnect-tokens-openapi.yaml); konnect.ops
-- builds a call from a row (arguments checked before any I/O) and
-- konnect.http runs it.
--
-- A row: id (the contract's operationId), method, path (a %s per path
-- parameter), params (the path parameters' names, in order: user_id is a
-- UUID or "me", account_id and token_id UUIDs), idempotent (false: never
-- replayed, retried only on 429 or when surely unsent), and optionally
--   body      the request body from the caller's table (validate.*_body)
--   query     the filters a paged list takes (validate.query): the argument
--             after the path parameters is a query table, sent as
--             page[size], page[number] and filter[...]
--   check     vets a decoded answer (a message: decode error)
--   no_content  a 204 answer, the value is true
--   gone_ok   a 404 after an attempt that may have landed is a success (delete)
--   secret    the field of the answer that carries a new token's secret

local validate = require "konnect.validate"
local limits   = require "konnect.limits"

local type, pairs, ipairs, floor = type, pairs, ipairs, math.floor

-- A list answer must carry `data`, an array of objects.
local function check_list(v)
  local data = v.data
  if type(data) ~= "table" then return "expected a list with a data array" end
  local n = #data
  for k in pairs(data) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= floor(k) then
      return "expected data to be an array"
    end
  end
  for _, item in ipairs(data) do
    if type(item) ~= "table" then return "expected data to be an array of objects" end
  end
  return nil
end

-- A created token's answer must carry its secret (the contract's PersonalAccessTokenCreated
-- requires konnect_token; SystemAccountAccessTokenCreated has token): without it the new token
-- cannot be used, and a rotation must not retire the old one for it.
local function check_created(field)
  return function(v)
    if limits.token(v[field]) then return nil end -- (a string a client could send as its token)
    local id = validate.uuid(v.id, "id")
    return "the server created a token" .. (id and (" (" .. id .. ")") or "") .. " but its " .. field ..
      " (the secret) is missing or unusable, so the token cannot be used: delete it and create another"
  end
end

-- The filters each paged list takes (the contract's `filter` deepObject):
-- "string" = eq or contains (LegacyStringFieldFilter), "eq" = eq only
-- (StringFieldEqualsFilter), "boolean" = true or false (BooleanFieldFilter).
local USER_FILTERS = { id = "eq", email = "string", full_name = "string", active = "boolean" }
local ACCOUNT_FILTERS = { name = "string", description = "string", konnect_managed = "boolean" }
local SA_TOKEN_FILTERS = { name = "string" }

local SA = "/v3/system-accounts/%s"
local SAT = "/v3/system-accounts/%s/access-tokens"

local OPS = {
  -- personal access tokens (not paged: the contract's list has no page parameters)
  list   = { id = "list-users-personal-access-tokens", method = "GET",
             path = "/v3/users/%s/access-tokens", params = { "user_id" }, idempotent = true,
             check = check_list },
  create = { id = "create-personal-access-token", method = "POST",
             path = "/v3/users/%s/access-tokens", params = { "user_id" },
             body = validate.create_body, idempotent = false, secret = "konnect_token",
             check = check_created("konnect_token") },
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

  -- users
  users_page = { id = "list-users", method = "GET", path = "/v3/users", params = {}, idempotent = true,
                 query = USER_FILTERS, check = check_list },
  get_user   = { id = "get-user", method = "GET", path = "/v3/users/%s", params = { "user_id" }, idempotent = true },

  -- system accounts
  system_accounts_page = { id = "get-system-accounts", method = "GET", path = "/v3/system-accounts", params = {},
                           idempotent = true, query = ACCOUNT_FILTERS, check = check_list },
  get_system_account   = { id = "get-system-accounts-id", method = "GET", path = SA, params = { "account_id" },
                           idempotent = true },

  -- system-account access tokens (no revoke, no state)
  sa_tokens_page  = { id = "get-system-account-id-access-tokens", method = "GET", path = SAT,
                      params = { "account_id" }, idempotent = true, query = SA_TOKEN_FILTERS, check = check_list },
  create_sa_token = { id = "post-system-accounts-id-access-tokens", method = "POST", path = SAT,
                      params = { "account_id" }, body = validate.sa_create_body, idempotent = false,
                      secret = "token", check = check_created("token") },
  get_sa_token    = { id = "get-system-accounts-id-access-tokens-id", method = "GET", path = SAT .. "/%s",
                      params = { "account_id", "token_id" }, idempotent = true },
  update_sa_token = { id = "patch-system-accounts-id-access-tokens-id", method = "PATCH", path = SAT .. "/%s",
                      params = { "account_id", "token_id" }, body = validate.sa_update_body, idempotent = true },
  delete_sa_token = { id = "delete-system-accounts-id-access-tokens-id", method = "DELETE", path = SAT .. "/%s",
                      params = { "account_id", "token_id" }, idempotent = true, no_content = true, gone_ok = true },
}

-- each path parameter's rule
local PARAM_RULES = {
  user_id = validate.user_id,
  account_id = function(v) return validate.uuid(v, "account_id") end,
  token_id = function(v) return validate.uuid(v, "token_id") end,
}

-- op.path split at its %s: a URL is then made by one concatenation
-- (string.format costs several times as much per call)
for name, op in pairs(OPS) do
  op.name = name
  local parts = {}
  for piece in (op.path .. "%s"):gmatch("(.-)%%s") do parts[#parts + 1] = piece end
  op.p1, op.p2, op.p3 = parts[1], parts[2] or "", parts[3] or ""
  op.nparams = #op.params
  op.rules = {}
  for i, p in ipairs(op.params) do op.rules[i] = assert(PARAM_RULES[p], p) end
  op.me = op.params[1] == "user_id" -- "me" may stand for the first parameter
  op.arg = op.body or op.query      -- the argument after the path parameters (a body or a query table)
end

return OPS
