-- fake_konnect.sysaccounts: system accounts and their access tokens
-- (spec/konnect-tokens-openapi.yaml, tags "System Accounts" and
-- "System Accounts - Access Tokens").
--
-- Checks, in this order: credentials (401) -> token kind and the org-admin
-- role (403, fake_konnect.auth) -> query (400, lists only) -> the account
-- exists (404) -> the token exists under it (404) -> body (400) -> the name is
-- free (409).
--
-- What the contract says, and the fake does: accountId and tokenId are plain
-- strings there, so an id that is no UUID is simply not found (404; no 400 is
-- listed for them).  Create takes `name` and `expires_at`, both required, no
-- ttl_seconds; it answers 201 with `token` (spat_ + 50 letters and digits, as
-- the contract's example) shown once, and 409 when the account already has a
-- token of that name; update renames (409 likewise).  These tokens have no
-- `state` and no revoke.  SystemAccountAccessToken's last_used_at is a
-- non-nullable date-time, so a token never used has no last_used_at at all.
-- Timestamps are whole seconds (`2022-08-01T14:16:09Z`), as the contract's
-- examples and its RFC3339PreciseToSecond type for expires_at.
--
-- Where it does not say (CHOICES):
--   * a bad create or update body gets 400 with invalid_parameters, although
--     neither operation lists 400 (the contract spec lists it as an extension);
--   * name: a string of 1 to 256 characters, no pattern; exact-match uniqueness;
--   * expires_at: an RFC 3339 date-time in the future (fractions of a second
--     are dropped), no maximum;
--   * no limit on the number of tokens of an account;
--   * creating tokens for a konnect_managed account is allowed.

local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"
local auth = require "fake_konnect.auth"
local paging = require "fake_konnect.paging"

local param, problem = reply.param, reply.problem
local floor = math.floor

local _M = {}

local NAME_MAX = 256

--- fmt(ms) -> "2022-08-01T14:16:09Z"
local function fmt(ms)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(ms / 1000))
end

function _M.account_view(a)
  return {
    id = a.id, name = a.name, description = a.description, konnect_managed = a.konnect_managed,
    created_at = fmt(a.created_at), updated_at = fmt(a.updated_at),
  }
end

function _M.token_view(t)
  return {
    id = t.id, name = t.name, created_at = fmt(t.created_at), updated_at = fmt(t.updated_at),
    expires_at = fmt(t.expires_at), last_used_at = t.last_used_at and fmt(t.last_used_at) or nil,
  }
end

local function find_account(account_id)
  local a = state.accounts[account_id:lower()]
  if not a then return nil, problem(404, "System account not found: [" .. account_id .. "]") end
  return a
end

local function find_token(a, token_id)
  local t = state.sa_tokens[token_id:lower()]
  if not t or t.account_id ~= a.id then
    return nil, problem(404, "System account access token not found: [" .. token_id .. "]")
  end
  return t
end

local function name_taken(a, name, except)
  for _, id in ipairs(state.account_tokens[a.id]) do
    if id ~= except and state.sa_tokens[id].name == name then return true end
  end
  return false
end

local function check_name(obj, out)
  local name = obj.name
  if name == nil then
    out[#out + 1] = param("name", "required", "is a required field")
  elseif type(name) ~= "string" then
    out[#out + 1] = param("name", "is_string", "must be a string")
  else
    local len = #util.utf8_chars(name)
    if len < 1 then
      out[#out + 1] = param("name", "min_length", "must have at least 1 characters", "body", { minimum = 1 })
    elseif len > NAME_MAX then
      out[#out + 1] = param("name", "max_length", "must not have more than " .. NAME_MAX .. " characters",
        "body", { maximum = NAME_MAX })
    end
  end
end

-- -> { name, expires_at } | nil, invalid_parameters
local function validate_create(body, now)
  local obj, inv = reply.decode_object(body)
  if not obj then return nil, inv end
  local out = {}
  reply.check_unknown(obj, { name = true, expires_at = true }, out)
  check_name(obj, out)
  local exp, expires = obj.expires_at, nil
  if exp == nil then
    out[#out + 1] = param("expires_at", "required", "is a required field")
  elseif type(exp) ~= "string" or not util.parse_time(exp) then
    out[#out + 1] = param("expires_at", "is_date_time", "must be an RFC 3339 date-time")
  else
    expires = floor(util.parse_time(exp) / 1000) * 1000
    if expires <= now then
      out[#out + 1] = param("expires_at", "invalid", "must be in the future")
    end
  end
  if #out > 0 then return nil, out end
  return { name = obj.name, expires_at = expires }
end

local function validate_update(body)
  local obj, inv = reply.decode_object(body)
  if not obj then return nil, inv end
  local out = {}
  reply.check_unknown(obj, { name = true }, out)
  check_name(obj, out)
  if #out > 0 then return nil, out end
  return obj
end

---------------------------------------------------------------------------
-- operations

local function list_accounts(headers, args)
  local who, err = auth.check(headers, "list-accounts")
  if not who then return err end
  local q, inv = paging.parse(args, { name = "string", description = "string", konnect_managed = "boolean" })
  if not q then return reply.bad_request(inv) end
  state.generated()
  return reply.ok_json(200, paging.page(state.account_order, state.accounts, q, _M.account_view))
end

local function get_account(headers, account_id)
  local who, err = auth.check(headers, "get-account")
  if not who then return err end
  local a, e = find_account(account_id)
  if not a then return e end
  return reply.ok_json(200, _M.account_view(a))
end

local function list_tokens(headers, account_id, args)
  local who, err = auth.check(headers, "list-sa-tokens")
  if not who then return err end
  local q, inv = paging.parse(args, { name = "string" })
  if not q then return reply.bad_request(inv) end
  local a, e = find_account(account_id)
  if not a then return e end
  return reply.ok_json(200, paging.page(state.account_tokens[a.id], state.sa_tokens, q, _M.token_view))
end

local function create_token(headers, account_id, body)
  local who, err = auth.check(headers, "create-sa-token")
  if not who then return err end
  local a, e = find_account(account_id)
  if not a then return e end
  local now = floor(util.now_ms() / 1000) * 1000
  local req, inv = validate_create(body, now)
  if not req then return reply.bad_request(inv) end
  if name_taken(a, req.name) then
    return problem(409, "The system account already has an access token named [" .. req.name .. "]")
  end
  local t = {
    id = util.uuid4(), account_id = a.id, name = req.name,
    secret = "spat_" .. util.random_alnum(50),
    created_at = now, updated_at = now, expires_at = req.expires_at,
  }
  state.add_sa_token(t)
  local view = _M.token_view(t)
  view.token = t.secret
  return reply.ok_json(201, view)
end

local function get_token(headers, account_id, token_id)
  local who, err = auth.check(headers, "get-sa-token")
  if not who then return err end
  local a, e = find_account(account_id)
  if not a then return e end
  local t
  t, e = find_token(a, token_id)
  if not t then return e end
  return reply.ok_json(200, _M.token_view(t))
end

local function update_token(headers, account_id, token_id, body)
  local who, err = auth.check(headers, "update-sa-token")
  if not who then return err end
  local a, e = find_account(account_id)
  if not a then return e end
  local t
  t, e = find_token(a, token_id)
  if not t then return e end
  local req, inv = validate_update(body)
  if not req then return reply.bad_request(inv) end
  if name_taken(a, req.name, t.id) then
    return problem(409, "The system account already has an access token named [" .. req.name .. "]")
  end
  t.name = req.name
  t.updated_at = math.max(t.created_at, floor(util.now_ms() / 1000) * 1000)
  return reply.ok_json(200, _M.token_view(t))
end

local function delete_token(headers, account_id, token_id)
  local who, err = auth.check(headers, "delete-sa-token")
  if not who then return err end
  local a, e = find_account(account_id)
  if not a then return e end
  local t
  t, e = find_token(a, token_id)
  if not t then return e end
  state.delete_sa_token(t.id)
  return reply.no_content()
end

--- dispatch(method, path, headers, body, args) -> response | nil (not a system-account path)
function _M.dispatch(method, path, headers, body, args)
  if path ~= "/v3/system-accounts" and path:sub(1, 20) ~= "/v3/system-accounts/" then return nil end
  if path == "/v3/system-accounts" then
    if method == "GET" then return list_accounts(headers, args) end
    return reply.not_allowed("GET")
  end
  local aid, rest = path:match("^/v3/system%-accounts/([^/]+)(.*)$")
  if not aid then return nil end
  if rest == "" then
    if method == "GET" then return get_account(headers, aid) end
    return reply.not_allowed("GET")
  elseif rest == "/access-tokens" then
    if method == "GET" then return list_tokens(headers, aid, args) end
    if method == "POST" then return create_token(headers, aid, body) end
    return reply.not_allowed("GET, POST")
  end
  local tid = rest:match("^/access%-tokens/([^/]+)$")
  if not tid then return nil end
  if method == "GET" then return get_token(headers, aid, tid) end
  if method == "PATCH" then return update_token(headers, aid, tid, body) end
  if method == "DELETE" then return delete_token(headers, aid, tid) end
  return reply.not_allowed("GET, PATCH, DELETE")
end

return _M
