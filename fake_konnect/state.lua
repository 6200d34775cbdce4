-- fake_konnect.state: everything the fake remembers, in module tables
-- (worker_processes 1, so the one worker owns it all).

local util = require "fake_konnect.util"
local fixtures = require "fake_konnect.fixtures"

local _M = {}

_M.ALICE = fixtures.ALICE
_M.BOB = fixtures.BOB

_M.MAX_TOKENS = 10
_M.LOG_SIZE = 200
_M.LOG_BODY_MAX = 65536

local SEED_TIME = "2024-01-15T09:30:00.000Z"

local function seed_users()
  return {
    [_M.ALICE] = {
      id = _M.ALICE, email = "alice@example.test", full_name = "Alice Example",
      preferred_name = "Alice", active = true, inferred_region = "us",
      created_at = SEED_TIME, updated_at = SEED_TIME,
    },
    [_M.BOB] = {
      id = _M.BOB, email = "bob@example.test", full_name = "Bob Example",
      preferred_name = "Bob", active = true, inferred_region = "eu",
      created_at = SEED_TIME, updated_at = SEED_TIME,
    },
  }
end

-- Fixture credentials: they authenticate but are not PATs of anyone's list.
-- kind "service" may only call the operations whose contract security lists
-- serviceAccessToken (list, get, revoke).
local function seed_credentials()
  return {
    [fixtures.ALICE_TOKEN] = { user_id = _M.ALICE, kind = "bootstrap" },
    [fixtures.BOB_TOKEN] = { user_id = _M.BOB, kind = "bootstrap" },
    [fixtures.SERVICE_TOKEN] = { user_id = _M.ALICE, kind = "service" },
  }
end

function _M.reset()
  _M.users = seed_users()
  _M.credentials = seed_credentials()
  _M.tokens = {}        -- id -> record
  _M.order = {}         -- ids in creation order
  _M.by_secret = {}     -- konnect_token -> id
  _M.faults = {}        -- pending faults, in order
  _M.fault_seq = 0
  _M.total = 0
  _M.routes = {}        -- "METHOD /path" -> count
  _M.log = {}           -- last LOG_SIZE requests
  _M.latency_ms = 0
  _M.ratelimit = nil    -- { per_second =, headers =, window =, used = } (POST /__fake/ratelimit)
end

-- Token records: times are integer milliseconds since the epoch.
-- { id, user_id, name, secret, created_at, updated_at, expires_at,
--   last_used_at?, revoked_at?, revoked_by? }

function _M.token_state(t, now)
  if t.revoked_at then return "REVOKED" end
  if t.expires_at and t.expires_at <= (now or util.now_ms()) then return "EXPIRED" end
  return "ACTIVE"
end

function _M.user_tokens(user_id)
  local out = {}
  for _, id in ipairs(_M.order) do
    local t = _M.tokens[id]
    if t and t.user_id == user_id then out[#out + 1] = t end
  end
  return out
end

function _M.add_token(t)
  _M.tokens[t.id] = t
  _M.order[#_M.order + 1] = t.id
  _M.by_secret[t.secret] = t.id
end

function _M.delete_token(id)
  local t = _M.tokens[id]
  if not t then return end
  _M.tokens[id] = nil
  _M.by_secret[t.secret] = nil
  for i, v in ipairs(_M.order) do
    if v == id then table.remove(_M.order, i) break end
  end
end

function _M.token_by_secret(secret)
  local id = _M.by_secret[secret]
  return id and _M.tokens[id] or nil
end

--- record(entry): count an API request and keep it in the log
function _M.record(entry)
  _M.total = _M.total + 1
  local key = entry.method .. " " .. entry.path
  _M.routes[key] = (_M.routes[key] or 0) + 1
  local log = _M.log
  log[#log + 1] = entry
  if #log > _M.LOG_SIZE then table.remove(log, 1) end
end

--- take_fault(method, path) -> fault | nil: consume one use of the first
-- pending fault that matches
function _M.take_fault(method, path)
  for i, f in ipairs(_M.faults) do
    if (not f.method or f.method == method) and
       (not f.path or path:find(f.path) ~= nil) then
      f.remaining = f.remaining - 1
      if f.remaining <= 0 then table.remove(_M.faults, i) end
      return f
    end
  end
  return nil
end

_M.reset()

return _M
