-- fake_konnect.api: the contract's operations, as pure functions of
-- (method, path, headers, body) -> { status, headers, body } over the state.

local json = require "fake_konnect.json"
local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"
local auth = require "fake_konnect.auth"
local users = require "fake_konnect.users"
local sysaccounts = require "fake_konnect.sysaccounts"

local null = json.null

local _M = {}

local TTL_MIN, TTL_MAX = 86400, 31536000
local NAME_MIN, NAME_MAX = 1, 256
local NAME_PATTERN = [[^[\p{L}\p{N}][\p{L}\p{N} _\-\.']*[\p{L}\p{N}]$]]

_M.titles = reply.titles
_M.title = reply.title
_M.problem = reply.problem
_M.ok_json = reply.ok_json

local ok_json, bad_request, param = reply.ok_json, reply.bad_request, reply.param
local decode_object, check_unknown, is_integer = reply.decode_object, reply.check_unknown, reply.is_integer

---------------------------------------------------------------------------
-- views

local function opt_time(ms)
  return ms and util.fmt_time(ms) or null
end

local function token_view(t, now)
  return {
    id = t.id,
    user_id = t.user_id,
    name = t.name,
    state = state.token_state(t, now),
    revoked_by = t.revoked_by or null,
    created_at = util.fmt_time(t.created_at),
    updated_at = util.fmt_time(t.updated_at),
    last_used_at = opt_time(t.last_used_at),
    expires_at = opt_time(t.expires_at),
    revoked_at = opt_time(t.revoked_at),
  }
end
_M.token_view = token_view

---------------------------------------------------------------------------
-- body validation

local function check_name(obj, out, required)
  local name = obj.name
  if name == nil then
    if required then out[#out + 1] = param("name", "required", "is a required field") end
    return
  end
  if type(name) ~= "string" then
    out[#out + 1] = param("name", "is_string", "must be a string")
    return
  end
  local len = #util.utf8_chars(name)
  if len < NAME_MIN then
    out[#out + 1] = param("name", "min_length",
      "must have at least " .. NAME_MIN .. " characters", "body", { minimum = NAME_MIN })
  elseif len > NAME_MAX then
    out[#out + 1] = param("name", "max_length",
      "must not have more than " .. NAME_MAX .. " characters", "body", { maximum = NAME_MAX })
  elseif not util.name_matches(name) then
    out[#out + 1] = param("name", "matches_regex", "must match pattern " .. NAME_PATTERN)
  end
end

-- -> { name, expires_at_ms } | nil, invalid_parameters
local function validate_create(body, now)
  local obj, inv = decode_object(body)
  if not obj then return nil, inv end
  local out = {}
  check_unknown(obj, { name = true, ttl_seconds = true, expires_at = true }, out)
  check_name(obj, out, true)
  local ttl, exp = obj.ttl_seconds, obj.expires_at
  local expires
  if ttl ~= nil and exp ~= nil then
    out[#out + 1] = param("ttl_seconds", "invalid",
      "must not be set together with the deprecated expires_at; send exactly one of them")
  elseif ttl == nil and exp == nil then
    out[#out + 1] = param("ttl_seconds", "invalid",
      "one of ttl_seconds or the deprecated expires_at is required")
  elseif ttl ~= nil then
    if not is_integer(ttl) then
      out[#out + 1] = param("ttl_seconds", "is_integer", "must be an integer")
    elseif ttl < TTL_MIN then
      out[#out + 1] = param("ttl_seconds", "min",
        "must be greater than or equal to " .. TTL_MIN, "body", { minimum = TTL_MIN })
    elseif ttl > TTL_MAX then
      out[#out + 1] = param("ttl_seconds", "max",
        "must be less than or equal to " .. TTL_MAX, "body", { maximum = TTL_MAX })
    else
      expires = now + ttl * 1000
    end
  else
    local ms = util.parse_time(exp)
    if not ms then
      out[#out + 1] = param("expires_at", "is_date_time", "must be an RFC 3339 date-time")
    elseif ms <= now then
      out[#out + 1] = param("expires_at", "invalid", "must be in the future")
    else
      expires = ms
    end
  end
  if #out > 0 then return nil, out end
  return { name = obj.name, expires_at = expires }
end

local function validate_update(body)
  local obj, inv = decode_object(body)
  if not obj then return nil, inv end
  local out = {}
  if next(obj) == nil then
    out[1] = param("name", "required", "at least one property must be set (name)")
    return nil, out
  end
  check_unknown(obj, { name = true }, out)
  check_name(obj, out, false)
  if #out > 0 then return nil, out end
  return obj
end

---------------------------------------------------------------------------
-- operations

local function path_ids(user_id, token_id)
  local out = {}
  if not util.is_uuid(user_id) then
    out[#out + 1] = param("userId", "is_uuid", "must be a valid UUID", "path")
  end
  if token_id and not util.is_uuid(token_id) then
    out[#out + 1] = param("tokenId", "is_uuid", "must be a valid UUID", "path")
  end
  if #out > 0 then return bad_request(out) end
end

-- auth, ids, user existence, ownership, token existence -> principal, token | nil, response
-- (an org admin may read -- list, get -- every user's PATs; CHOICE: the
-- contract does not say what an admin may do, and the fake lets the admin
-- change none of another user's tokens)
local ADMIN_READS = { list = true, get = true }

local function prelude(op, headers, user_id, token_id)
  local who, err = auth.check(headers, op)
  if not who then return nil, nil, err end
  local bad = path_ids(user_id, token_id)
  if bad then return nil, nil, bad end
  user_id = user_id:lower()
  if not state.users[user_id] then
    return nil, nil, reply.problem(404, "User not found: [" .. user_id .. "]")
  end
  if user_id ~= who.user_id and not (who.admin and ADMIN_READS[op]) then
    return nil, nil, reply.problem(403, "You do not have permission to manage the tokens of user [" .. user_id .. "]")
  end
  local t
  if token_id then
    t = state.tokens[token_id:lower()]
    if not t or t.user_id ~= user_id then
      return nil, nil, reply.problem(404, "Personal access token not found: [" .. token_id .. "]")
    end
  end
  return who, t
end

local function op_me(headers)
  local who, err = auth.check(headers, "me")
  if not who then return err end
  return ok_json(200, users.view(state.users[who.user_id]))
end

local function op_list(headers, user_id)
  local who, _, err = prelude("list", headers, user_id)
  if not who then return err end
  local now = util.now_ms()
  local data = json.array()
  for _, t in ipairs(state.user_tokens(user_id:lower())) do
    data[#data + 1] = token_view(t, now)
  end
  return ok_json(200, { data = data, meta = { number = 1, size = #data, total = #data } })
end

local function op_create(headers, user_id, body)
  local who, _, err = prelude("create", headers, user_id)
  if not who then return err end
  user_id = user_id:lower()
  local now = util.now_ms()
  local req, inv = validate_create(body, now)
  if not req then return bad_request(inv) end
  if #state.user_tokens(user_id) >= state.MAX_TOKENS then
    return _M.problem(409, "A user can hold at most " .. state.MAX_TOKENS ..
      " personal access tokens; delete one first")
  end
  local t = {
    id = util.uuid4(),
    user_id = user_id,
    name = req.name,
    secret = "kpat_" .. util.random_alnum(45),
    created_at = now,
    updated_at = now,
    expires_at = req.expires_at,
  }
  state.add_token(t)
  local view = token_view(t, now)
  view.konnect_token = t.secret
  return ok_json(201, view)
end

local function op_get(headers, user_id, token_id)
  local who, t, err = prelude("get", headers, user_id, token_id)
  if not who then return err end
  return ok_json(200, token_view(t))
end

local function op_update(headers, user_id, token_id, body)
  local who, t, err = prelude("update", headers, user_id, token_id)
  if not who then return err end
  local req, inv = validate_update(body)
  if not req then return bad_request(inv) end
  local now = util.now_ms()
  if req.name ~= nil then t.name = req.name end
  t.updated_at = now
  return ok_json(200, token_view(t, now))
end

local function op_delete(headers, user_id, token_id)
  local who, t, err = prelude("delete", headers, user_id, token_id)
  if not who then return err end
  state.delete_token(t.id)
  return reply.no_content()
end

local function op_revoke(headers, user_id, token_id)
  local who, t, err = prelude("revoke", headers, user_id, token_id)
  if not who then return err end
  local now = util.now_ms()
  if not t.revoked_at then
    t.revoked_at = now
    t.revoked_by = who.user_id
    t.updated_at = now
  end
  return ok_json(200, token_view(t, now))
end

local not_allowed = reply.not_allowed

--- dispatch(method, path, headers, body, args) -> response
-- args: the decoded query (ngx.req.get_uri_args), read by the paged lists only
function _M.dispatch(method, path, headers, body, args)
  args = args or {}
  if path == "/v3/users" then
    if method == "GET" then return users.list(headers, args) end
    return not_allowed("GET")
  end
  local sa = sysaccounts.dispatch(method, path, headers, body, args)
  if sa then return sa end
  if path == "/v3/users/me" then
    if method == "GET" then return op_me(headers) end
    return not_allowed("GET")
  end
  local uid = path:match("^/v3/users/([^/]+)/access%-tokens$")
  if uid then
    if method == "GET" then return op_list(headers, uid) end
    if method == "POST" then return op_create(headers, uid, body) end
    return not_allowed("GET, POST")
  end
  local tid
  uid, tid = path:match("^/v3/users/([^/]+)/access%-tokens/([^/]+)/revoke$")
  if uid then
    if method == "PATCH" then return op_revoke(headers, uid, tid) end
    return not_allowed("PATCH")
  end
  uid, tid = path:match("^/v3/users/([^/]+)/access%-tokens/([^/]+)$")
  if uid then
    if method == "GET" then return op_get(headers, uid, tid) end
    if method == "PATCH" then return op_update(headers, uid, tid, body) end
    if method == "DELETE" then return op_delete(headers, uid, tid) end
    return not_allowed("GET, PATCH, DELETE")
  end
  uid = path:match("^/v3/users/([^/]+)$")
  if uid then
    if method == "GET" then return users.get(headers, uid) end
    return not_allowed("GET")
  end
  return reply.problem(404, "No route for [" .. method .. " " .. path .. "]")
end

return _M
