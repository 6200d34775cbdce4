-- fake_konnect.control: the control API under /__fake/ (no auth, not
-- counted, never faulted, never rate limited).  See README.md.
--
--   control.handle(method, path, read_body) -> response

local json = require "fake_konnect.json"
local util = require "fake_konnect.util"
local state = require "fake_konnect.state"
local reply = require "fake_konnect.reply"
local api = require "fake_konnect.api"
local users = require "fake_konnect.users"
local sysaccounts = require "fake_konnect.sysaccounts"
local faults = require "fake_konnect.faults"
local ratelimit = require "fake_konnect.ratelimit"
local paging = require "fake_konnect.paging"

local _M = {}

local MAX_USERS, MAX_ACCOUNTS = 100000, 10000

local function err(status, detail)
  return reply.problem(status, detail,
    status == 400 and { { field = "body", rule = "invalid", reason = detail, source = "body" } } or nil)
end

local function ok(status, value) return reply.ok_json(status, value) end

local function body_obj(read_body)
  local body = read_body()
  if body == nil or body:match("^%s*$") then return {} end
  local v, e = json.decode(body)
  if v == nil then return nil, "invalid JSON: " .. tostring(e) end
  if type(v) ~= "table" or json.is_array_text(body) then return nil, "the body must be a JSON object" end
  return v
end

--- org(obj, base) -> { users, system_accounts, seed } | nil, message
-- counts include the fixture users (3) and system accounts (2)
function _M.org(obj, base)
  local o = { users = base.users, system_accounts = base.system_accounts, seed = base.seed }
  for k, v in pairs(obj) do
    if k ~= "users" and k ~= "system_accounts" and k ~= "seed" then
      return nil, "unknown property: " .. tostring(k)
    end
    if type(v) ~= "number" or v ~= math.floor(v) or v < 0 then
      return nil, k .. " must be an integer >= 0"
    end
    o[k] = v
  end
  if o.users < 3 or o.users > MAX_USERS then
    return nil, "users must be 3 (the fixture users) to " .. MAX_USERS
  end
  if o.system_accounts < 2 or o.system_accounts > MAX_ACCOUNTS then
    return nil, "system_accounts must be 2 (the fixture accounts) to " .. MAX_ACCOUNTS
  end
  return o
end

local function fault_view(f)
  local v = {}
  for k, x in pairs(f) do v[k] = x end
  return v
end

-- GET /__fake/state: every user with their PATs, every system account with
-- its tokens, in list order, as the API shows them (never a secret)
local function dump()
  state.generated()
  local now = util.now_ms()
  local us = json.array()
  for i, id in ipairs(state.user_order) do
    local u = state.users[id]
    local v = users.view(u)
    v.admin = u.admin == true
    local toks = json.array()
    for k, t in ipairs(state.user_tokens(id)) do toks[k] = api.token_view(t, now) end
    v.tokens = toks
    us[i] = v
  end
  local accounts = json.array()
  for i, id in ipairs(state.account_order) do
    local a = state.accounts[id]
    local v = sysaccounts.account_view(a)
    v.admin = a.admin == true
    local toks = json.array()
    for k, t in ipairs(state.account_token_list(id)) do
      local tv = sysaccounts.token_view(t)
      tv.last_used_at = tv.last_used_at or json.null
      toks[k] = tv
    end
    v.tokens = toks
    accounts[i] = v
  end
  return { now = util.fmt_time(now), org = state.org, users = us, system_accounts = accounts }
end

local function expire(obj)
  local id = obj.token_id
  if type(id) ~= "string" then return err(400, "token_id is required") end
  local now = util.now_ms()
  local t = state.tokens[id:lower()]
  if t then
    t.expires_at = now - 1000
    return ok(200, api.token_view(t, now))
  end
  t = state.sa_tokens[id:lower()]
  if t then
    t.expires_at = math.floor(now / 1000) * 1000 - 1000
    return ok(200, sysaccounts.token_view(t))
  end
  return reply.problem(404, "No personal or system-account access token: [" .. id .. "]")
end

function _M.handle(method, path, read_body)
  local obj, e
  if method == "POST" then
    obj, e = body_obj(read_body)
    if not obj then return err(400, e) end
  end
  if path == "/__fake/health" and method == "GET" then
    return ok(200, { ok = true })
  elseif path == "/__fake/reset" and method == "POST" then
    local o
    o, e = _M.org(obj, state.start_org)
    if not o then return err(400, e) end
    state.reset(o)
    return reply.no_content()
  elseif path == "/__fake/state" and method == "GET" then
    return ok(200, dump())
  elseif path == "/__fake/faults" then
    if method == "POST" then
      local f
      f, e = faults.parse(obj)
      if not f then return err(400, e) end
      state.faults[#state.faults + 1] = f
      return ok(201, fault_view(f))
    elseif method == "GET" then
      local list = json.array()
      for _, f in ipairs(state.faults) do list[#list + 1] = fault_view(f) end
      return ok(200, { faults = list })
    elseif method == "DELETE" then
      state.faults = {}
      return reply.no_content()
    end
  elseif path == "/__fake/requests" and method == "GET" then
    local log = json.array()
    for i, entry in ipairs(state.log) do log[i] = entry end
    return ok(200, { total = state.total, routes = state.routes, statuses = state.statuses, log = log })
  elseif path == "/__fake/latency" then
    if method == "POST" then
      local ms = obj.ms
      if type(ms) ~= "number" or ms < 0 then return err(400, "ms must be a number >= 0") end
      state.latency_ms = ms
      return ok(200, { ms = ms })
    elseif method == "GET" then
      return ok(200, { ms = state.latency_ms })
    end
  elseif path == "/__fake/ratelimit" then
    if method == "POST" then
      local s
      s, e = ratelimit.configure(obj)
      if not s then return err(400, e) end
      return ok(200, s)
    elseif method == "GET" then
      return ok(200, ratelimit.report())
    end
  elseif path == "/__fake/paging" then
    if method == "POST" then
      local c
      c, e = paging.configure(obj)
      if not c then return err(400, e) end
      return ok(200, c)
    elseif method == "GET" then
      return ok(200, paging.config())
    end
  elseif path == "/__fake/expire" and method == "POST" then
    return expire(obj)
  else
    return reply.problem(404, "No control endpoint [" .. method .. " " .. path .. "]")
  end
  return reply.problem(405, "Method not allowed for [" .. path .. "]")
end

return _M
