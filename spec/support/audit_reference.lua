-- Test support: the audit report konnect.audit must produce, computed
-- straight from the fake's GET /__fake/state (every user with their PATs,
-- every system account with its tokens, in list order), by code that shares
-- nothing with the library: its own date reading, its own loops.  The
-- definitions are docs/API.md's (konnect.audit: the report).
--
--   local expected = reference.report(fake.state(), { now = …, failed = { [owner_id] = failure } })
local M = {}

-- days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil)
local floor = math.floor

local function days(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = floor((y >= 0 and y or y - 399) / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m > 2 and m - 3 or m + 9) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- epoch("2026-12-07T21:14:48.493Z") -> whole seconds (the fake's two formats, UTC)
function M.epoch(s)
  if s == nil then return nil end
  local y, mo, d, h, mi, se = s:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)")
  assert(y and s:sub(-1) == "Z", "not a fake date: " .. tostring(s))
  return days(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end

--- report(state, o) -> the report.  o = { now = epoch, expiring_within =,
--- unused_for =, near_quota = (the defaults: 7 days, 90 days, 8), users =,
--- system_accounts = (default true), failed = { [owner id] = { operation,
--- kind, status, message } }, lists_failed = { failure, … } (the owner lists
--- that failed, first) }
function M.report(state, o)
  local D, U, Q = o.expiring_within or 7 * 86400, o.unused_for or 90 * 86400, o.near_quota or 8
  local now = o.now
  local failed = o.failed or {}
  local users = o.users ~= false and state.users or {}
  local accounts = o.system_accounts ~= false and state.system_accounts or {}
  local tokens, owners, failures = {}, {}, {}
  local counts = { users = #users, system_accounts = #accounts, tokens = 0, pats = 0, sats = 0,
                   expired_listed = 0, revoked_listed = 0, expiring = 0, never_used = 0, unused = 0,
                   near_quota = 0, near_quota_users = 0 }
  for _, f in ipairs(o.lists_failed or {}) do failures[#failures + 1] = f end

  local function add(kind, owner, t, near)
    local exp, used = M.epoch(t.expires_at), M.epoch(t.last_used_at)
    local flags = {}
    local live
    if kind == "pat" then
      if t.state == "EXPIRED" then flags[#flags + 1] = "expired_listed" end
      if t.state == "REVOKED" then flags[#flags + 1] = "revoked_listed" end
      live = t.state == "ACTIVE"
    else
      live = exp == nil or exp > now
      if not live then flags[#flags + 1] = "expired_listed" end
    end
    if live and exp ~= nil and exp <= now + D then flags[#flags + 1] = "expiring" end
    if used == nil then
      flags[#flags + 1] = "never_used"
    elseif used <= now - U then
      flags[#flags + 1] = "unused"
    end
    if near then flags[#flags + 1] = "near_quota" end
    for _, f in ipairs(flags) do counts[f] = counts[f] + 1 end
    counts[kind .. "s"] = counts[kind .. "s"] + 1
    tokens[#tokens + 1] = {
      kind = kind, owner = owner, id = t.id, name = t.name, state = kind == "pat" and t.state or nil,
      created_at = t.created_at, expires_at = t.expires_at, last_used_at = t.last_used_at,
      revoked_at = t.revoked_at, flags = flags,
    }
  end

  local function owner_rows(list, kind)
    for _, x in ipairs(list) do
      local owner = kind == "pat" and { type = "user", id = x.id, name = x.full_name, email = x.email }
        or { type = "system_account", id = x.id, name = x.name }
      local row = { type = owner.type, id = owner.id, name = owner.name, email = owner.email }
      owners[#owners + 1] = row
      if failed[x.id] then
        row.failed = true
        local f = failed[x.id]
        failures[#failures + 1] = { owner = owner, operation = f.operation, kind = f.kind, status = f.status,
                                    message = f.message }
      else
        local near = kind == "pat" and #x.tokens >= Q
        row.count, row.near_quota = #x.tokens, near
        if near then counts.near_quota_users = counts.near_quota_users + 1 end
        for _, t in ipairs(x.tokens) do add(kind, owner, t, near) end
      end
    end
  end
  owner_rows(users, "pat")
  owner_rows(accounts, "sat")
  counts.tokens = counts.pats + counts.sats
  counts.failures = #failures
  return {
    complete = #failures == 0, generated_at = os.date("!%Y-%m-%dT%H:%M:%SZ", now),
    settings = { expiring_within = D, unused_for = U, near_quota = Q, users = o.users ~= false,
                 system_accounts = o.system_accounts ~= false },
    tokens = tokens, owners = owners, failures = failures, counts = counts,
  }
end

--- requests(state, page_size) -> how many requests an audit of the whole
--- state needs: the users' pages and the system accounts' (stopping at the
--- first short or empty page), one PAT list per user, each account's token
--- pages
function M.requests(state, page_size)
  page_size = page_size or 100
  local function pages(n) return floor(n / page_size) + 1 end
  local n = pages(#state.users) + #state.users + pages(#state.system_accounts)
  for _, a in ipairs(state.system_accounts) do n = n + pages(#a.tokens) end
  return n
end

return M
