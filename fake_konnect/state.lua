-- fake_konnect.state: everything the fake remembers, in module tables
-- (worker_processes 1, so the one worker owns it all; nothing is shared
-- between workers, so there is nothing to keep consistent).
--
-- Every lookup a single-subject route needs is a table index: a user's PATs
-- and a system account's tokens are kept per owner (creation order), so no
-- request does work in proportion to the size of the organisation except the
-- lists of users and system accounts themselves.

local util = require "fake_konnect.util"
local fixtures = require "fake_konnect.fixtures"
local seed = require "fake_konnect.seed"

local _M = {}

_M.ALICE = fixtures.ALICE
_M.BOB = fixtures.BOB

_M.MAX_TOKENS = 10
_M.LOG_SIZE = 200
_M.LOG_BODY_MAX = 65536

-- the organisation `reset` rebuilds when it is given no other: set once at
-- start (fake_konnect/ctl start --users N --system-accounts M --seed S)
_M.start_org = { users = seed.DEFAULT_USERS, system_accounts = seed.DEFAULT_ACCOUNTS, seed = seed.DEFAULT_SEED }

local SEED_TIME = util.parse_time("2024-01-15T09:30:00.000Z")

-- Fixture credentials: they authenticate but are not tokens of anyone's list.
-- kind "service" may only call the PAT operations whose contract security lists
-- serviceAccessToken (list, get, revoke); kind "sa" is a system-account token.
local function seed_credentials()
  return {
    [fixtures.ALICE_TOKEN] = { user_id = _M.ALICE, kind = "bootstrap" },
    [fixtures.BOB_TOKEN] = { user_id = _M.BOB, kind = "bootstrap" },
    [fixtures.ADMIN_TOKEN] = { user_id = fixtures.ADMIN, kind = "bootstrap" },
    [fixtures.SERVICE_TOKEN] = { user_id = _M.ALICE, kind = "service" },
    [fixtures.SYSTEM_ACCOUNT_TOKEN] = { account_id = fixtures.SYSTEM_ACCOUNT, kind = "sa" },
    [fixtures.PLAIN_SYSTEM_ACCOUNT_TOKEN] = { account_id = fixtures.PLAIN_SYSTEM_ACCOUNT, kind = "sa" },
  }
end

local function fixture_user(id, email, full, preferred, region, admin)
  return { id = id, email = email, full_name = full, preferred_name = preferred, active = true,
           inferred_region = region, created_at = SEED_TIME, updated_at = SEED_TIME, admin = admin }
end

local function fixture_account(id, name, description, admin)
  return { id = id, name = name, description = description, konnect_managed = false,
           created_at = SEED_TIME, updated_at = SEED_TIME, admin = admin }
end

--- add_user(u), add_account(a): append to the organisation (list order)
function _M.add_user(u)
  _M.users[u.id] = u
  _M.user_order[#_M.user_order + 1] = u.id
  _M.user_pats[u.id] = {}
end

function _M.add_account(a)
  _M.accounts[a.id] = a
  _M.account_order[#_M.account_order + 1] = a.id
  _M.account_tokens[a.id] = {}
end

-- The generated organisation costs ~4 ms to build, and the specs reset the
-- fake some 400 times a run while most of them only ever touch the fixtures.
-- So reset() builds the fixtures and leaves the generated users and accounts
-- pending: the first lookup that misses in one of the LAZY tables (an id that
-- is not a fixture's) or the first walk over the organisation (generated(),
-- called by the lists and the state dump) builds them, with the times of the
-- reset.  What a client sees is the same either way.
local LAZY = { "users", "tokens", "user_pats", "accounts", "sa_tokens", "account_tokens" }
local lazy_mt = {}

--- generated(): build the pending generated organisation now, if any
function _M.generated()
  local p = _M.pending
  if not p then return end
  _M.pending = nil
  for _, name in ipairs(LAZY) do setmetatable(_M[name], nil) end
  seed.generate(_M, p)
end

lazy_mt.__index = function(t, k)
  if not _M.pending then return nil end
  _M.generated()
  return rawget(t, k)
end

--- reset(org?): back to the seed; org = { users =, system_accounts =, seed = }
-- (counts include the fixture users and accounts), default the start one
function _M.reset(org)
  org = org or _M.start_org
  _M.org = { users = org.users, system_accounts = org.system_accounts, seed = org.seed }
  _M.credentials = seed_credentials()
  _M.users = {}          -- id -> user record
  _M.user_order = {}     -- user ids, list order
  _M.tokens = {}         -- PAT id -> record
  _M.user_pats = {}      -- user id -> { PAT ids, creation order }
  _M.by_secret = {}      -- konnect_token -> PAT id
  _M.accounts = {}       -- system account id -> record
  _M.account_order = {}  -- system account ids, list order
  _M.sa_tokens = {}      -- system-account token id -> record
  _M.account_tokens = {} -- account id -> { token ids, creation order }
  _M.sa_by_secret = {}   -- spat_ secret -> token id
  _M.faults = {}         -- pending faults, in order
  _M.fault_seq = 0
  _M.total = 0
  _M.routes = {}         -- "METHOD /path" -> count
  _M.statuses = {}       -- "429" -> count
  _M.log = {}            -- last LOG_SIZE requests
  _M.latency_ms = 0
  _M.ratelimit = nil     -- see fake_konnect.ratelimit
  _M.ratelimit_windows = {}
  _M.paging = nil        -- nil: the defaults of fake_konnect.paging

  _M.add_user(fixture_user(_M.ALICE, "alice@example.test", "Alice Example", "Alice", "us", false))
  _M.add_user(fixture_user(_M.BOB, "bob@example.test", "Bob Example", "Bob", "eu", false))
  _M.add_user(fixture_user(fixtures.ADMIN, "admin@example.test", "Org Admin", "Admin", "us", true))
  _M.add_account(fixture_account(fixtures.SYSTEM_ACCOUNT, fixtures.SYSTEM_ACCOUNT_NAME,
    "Fixture system account with the organization admin role", true))
  _M.add_account(fixture_account(fixtures.PLAIN_SYSTEM_ACCOUNT, fixtures.PLAIN_SYSTEM_ACCOUNT_NAME,
    "Fixture system account with no role", false))
  -- the generated part is built on first use (see generated() above)
  _M.pending = {
    users = org.users - #_M.user_order,
    system_accounts = org.system_accounts - #_M.account_order,
    seed = org.seed,
    base = math.floor(util.now_ms() / 1000) * 1000,
  }
  for _, name in ipairs(LAZY) do setmetatable(_M[name], lazy_mt) end
end

-- PAT records: times are integer milliseconds since the epoch.
-- { id, user_id, name, secret?, created_at, updated_at, expires_at,
--   last_used_at?, revoked_at?, revoked_by? }   (seeded ones have no secret)

function _M.token_state(t, now)
  if t.revoked_at then return "REVOKED" end
  if t.expires_at and t.expires_at <= (now or util.now_ms()) then return "EXPIRED" end
  return "ACTIVE"
end

--- user_tokens(user_id) -> the user's PAT records, creation order
function _M.user_tokens(user_id)
  local out = {}
  for i, id in ipairs(_M.user_pats[user_id] or {}) do out[i] = _M.tokens[id] end
  return out
end

function _M.add_token(t)
  _M.tokens[t.id] = t
  local list = _M.user_pats[t.user_id]
  list[#list + 1] = t.id
  if t.secret then _M.by_secret[t.secret] = t.id end
end

local function remove_id(list, id)
  for i, v in ipairs(list) do
    if v == id then table.remove(list, i) return end
  end
end

function _M.delete_token(id)
  local t = _M.tokens[id]
  if not t then return end
  _M.tokens[id] = nil
  if t.secret then _M.by_secret[t.secret] = nil end
  remove_id(_M.user_pats[t.user_id], id)
end

function _M.token_by_secret(secret)
  local id = _M.by_secret[secret]
  return id and _M.tokens[id] or nil
end

-- System-account token records: { id, account_id, name, secret?, created_at,
-- updated_at, expires_at, last_used_at? } (ms; no revoke, no state)

--- account_token_list(account_id) -> the account's token records, creation order
function _M.account_token_list(account_id)
  local out = {}
  for i, id in ipairs(_M.account_tokens[account_id] or {}) do out[i] = _M.sa_tokens[id] end
  return out
end

function _M.add_sa_token(t)
  _M.sa_tokens[t.id] = t
  local list = _M.account_tokens[t.account_id]
  list[#list + 1] = t.id
  if t.secret then _M.sa_by_secret[t.secret] = t.id end
end

function _M.delete_sa_token(id)
  local t = _M.sa_tokens[id]
  if not t then return end
  _M.sa_tokens[id] = nil
  if t.secret then _M.sa_by_secret[t.secret] = nil end
  remove_id(_M.account_tokens[t.account_id], id)
end

function _M.sa_token_by_secret(secret)
  local id = _M.sa_by_secret[secret]
  return id and _M.sa_tokens[id] or nil
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

--- count_status(status): the per-status counter of GET /__fake/requests
function _M.count_status(status)
  local k = tostring(status)
  _M.statuses[k] = (_M.statuses[k] or 0) + 1
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

return _M
