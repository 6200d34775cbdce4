-- fake_konnect.seed: the generated organisation, deterministic from a seed.
--
--   seed.generate(state, { users = N, system_accounts = M, seed = S, base = ms })
--
-- adds N users (with their PATs) and M system accounts (with their tokens)
-- through state.add_user / add_token / add_account / add_sa_token.  Every id,
-- name and time offset comes from a Park–Miller generator (not math.random,
-- which the server seeds at random for the secrets it mints); times are
-- `base` (the reset time, whole seconds) plus those offsets, so the same seed
-- gives the same organisation relative to its reset.  User i's data depends
-- only on (seed, i): a smaller organisation is a prefix of a larger one.
--
-- Seeded tokens have no secret: nothing can authenticate with them, so their
-- last_used_at never moves while a test walks the organisation.
--
-- No seeded time lies within an hour of a whole number of days from `base`
-- (every offset is d days + 1..22 hours + 0..59 minutes), so a report that
-- classifies by "within D days" gives the same answer for the whole run.

local _M = {}

_M.DEFAULT_USERS = 1000          -- fixture users included
_M.DEFAULT_ACCOUNTS = 20         -- fixture system accounts included
_M.DEFAULT_SEED = 1

local MOD = 2147483647           -- 2^31 - 1; x * 48271 < 2^53, exact in a double
local MUL = 48271
local format = string.format

local MIN, HOUR, DAY = 60000, 3600000, 86400000

-- a generator: next() -> 1 .. MOD-1
local function stream(seed, index)
  local x = (seed * 7919 + index * 104729 + 12345) % MOD
  if x == 0 then x = 1 end
  local function nxt()
    x = (x * MUL) % MOD
    return x
  end
  for _ = 1, 3 do nxt() end
  return nxt
end

local function int(nxt, lo, hi)
  return lo + nxt() % (hi - lo + 1)
end

local function uuid(nxt)
  local h = format("%07x%07x%07x%07x%07x", nxt() % 268435456, nxt() % 268435456,
    nxt() % 268435456, nxt() % 268435456, nxt() % 268435456)
  local v = nxt() % 4 + 1
  local variant = ("89ab"):sub(v, v)
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-4" .. h:sub(13, 15) .. "-" ..
    variant .. h:sub(16, 18) .. "-" .. h:sub(19, 30)
end

-- d days (lo..hi) + 1..22 hours + 0..59 minutes, in ms; and d.  Every seeded
-- time is base + or - ONE such offset (never a sum of two, which could land
-- near a whole day); orderings come from the day counts instead.
local function off(nxt, lo, hi)
  local d = int(nxt, lo, hi)
  return d * DAY + int(nxt, 1, 22) * HOUR + int(nxt, 0, 59) * MIN, d
end

local FIRST = { "Ada", "Bruno", "Chiara", "Dmitri", "Eun-ji", "Fatima", "Goran", "Hana", "Ingrid",
  "José", "Kwame", "Lena", "Mateus", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
  "Uma", "Vikram", "Wen", "Ximena", "Yusuf", "Zoë" }
local LAST = { "Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fujita", "García", "Haddad", "Ivanova",
  "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quispe", "Rossi",
  "Santos", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang" }
local REGIONS = { "us", "eu", "au", "me", "in" }
local PAT_NAMES = { "laptop", "ci", "terraform", "deck sync", "backup job", "grafana", "scripts",
  "migration", "on-call", "release" }
local SA_PURPOSES = { "ci-deploy", "terraform", "deck-sync", "backup", "monitoring", "gitops",
  "billing-export", "audit-log", "dev-portal", "mesh-sync" }

local ascii_of = {}
local function ascii(s)
  local a = ascii_of[s]
  if a then return a end
  a = (s:gsub("ë", "e"):gsub("é", "e"):gsub("á", "a"):gsub("í", "i"):gsub("ó", "o")
    :gsub("ø", "o"):gsub("ü", "u"):gsub("'", ""):gsub("%-", ""):lower())
  ascii_of[s] = a
  return a
end

-- PAT categories, cumulative weights out of 100
local PAT_KINDS = {
  { 30, "active" }, { 45, "never_used" }, { 57, "stale" }, { 67, "expiring" },
  { 82, "expired" }, { 100, "revoked" },
}

local function pick_kind(nxt, kinds)
  local r = int(nxt, 1, kinds[#kinds][1])
  for _, k in ipairs(kinds) do
    if r <= k[1] then return k[2] end
  end
end

-- times of a token of that kind: created, expires, last_used?, revoked?
-- (a PAT lives at most a year: expires - created <= 362 days here; a time
-- at a larger day count is earlier, so created < last_used < revoked holds)
local function token_times(nxt, kind, base)
  local created, expires, used, revoked, o, de, dr
  if kind == "active" then
    created = base - off(nxt, 5, 60)
    expires = base + off(nxt, 30, 300)
    used = base - off(nxt, 0, 3)
  elseif kind == "never_used" then
    created = base - off(nxt, 1, 60)
    expires = base + off(nxt, 20, 300)
  elseif kind == "stale" then -- last used 100-190 days ago (Konnect deletes a PAT unused for 12 months)
    created = base - off(nxt, 200, 330)
    expires = base + off(nxt, 10, 30)
    used = base - off(nxt, 100, 190)
  elseif kind == "expiring" then -- within 1-6 days
    created = base - off(nxt, 30, 200)
    expires = base + off(nxt, 1, 6)
    if nxt() % 2 == 0 then used = base - off(nxt, 0, 10) end
  elseif kind == "expired" then -- 1-60 days ago
    o, de = off(nxt, 1, 60)
    expires = base - o
    created = base - off(nxt, de + 30, de + 300)
    if nxt() % 2 == 0 then used = base - off(nxt, de + 1, de + 20) end
  else -- revoked 1-30 days ago
    created = base - off(nxt, 40, 200)
    o, dr = off(nxt, 1, 30)
    revoked = base - o
    expires = base + off(nxt, 10, 150)
    if nxt() % 2 == 0 then used = base - off(nxt, dr + 1, dr + 5) end
  end
  return created, expires, used, revoked
end

-- how many PATs a user holds: 0 (35%), 1-3 (40%), 4-7 (17%), 8-10 (8%)
local function pat_count(nxt)
  local r = int(nxt, 1, 100)
  if r <= 35 then return 0 end
  if r <= 75 then return int(nxt, 1, 3) end
  if r <= 92 then return int(nxt, 4, 7) end
  return int(nxt, 8, 10)
end

local function gen_user(st, seed, i, base, admin_id)
  local nxt = stream(seed, i)
  local first, last = FIRST[int(nxt, 1, #FIRST)], LAST[int(nxt, 1, #LAST)]
  local created, dc = off(nxt, 400, 1500)
  local u = {
    id = uuid(nxt),
    email = format("%s.%s.%04d@org.example.test", ascii(first), ascii(last), i),
    full_name = first .. " " .. last,
    preferred_name = first,
    active = int(nxt, 1, 100) > 5,
    inferred_region = REGIONS[int(nxt, 1, #REGIONS)],
    created_at = base - created,
    updated_at = base - off(nxt, 1, dc - 1),
    admin = false,
  }
  if st.users[u.id] then return end -- a collision with a fixture id (never seen; 2^-122)
  st.add_user(u)
  if not u.active then return end -- an unverified user cannot have made a PAT
  local n, pats = pat_count(nxt), {}
  for k = 1, n do
    local kind = pick_kind(nxt, PAT_KINDS)
    local created_at, expires, used, revoked = token_times(nxt, kind, base)
    pats[k] = {
      id = uuid(nxt), user_id = u.id,
      name = PAT_NAMES[int(nxt, 1, #PAT_NAMES)] .. " " .. k,
      created_at = created_at, updated_at = revoked or created_at, expires_at = expires,
      last_used_at = used, revoked_at = revoked,
      revoked_by = revoked and (nxt() % 3 == 0 and admin_id or u.id) or nil,
    }
  end
  table.sort(pats, function(a, b) return a.created_at < b.created_at end) -- creation order
  for _, t in ipairs(pats) do st.add_token(t) end
end

-- system-account token categories (no revoke for these)
local SAT_KINDS = { { 35, "active" }, { 55, "never_used" }, { 70, "stale" }, { 82, "expiring" },
  { 100, "expired" } }

local function gen_account(st, seed, j, base)
  local nxt = stream(seed, 1000000 + j)
  local purpose = SA_PURPOSES[(j - 1) % #SA_PURPOSES + 1]
  local created, dc = off(nxt, 100, 900)
  local a = {
    id = uuid(nxt),
    name = format("%s-%02d", purpose, j),
    description = "Generated system account for " .. purpose,
    konnect_managed = j % 10 == 0,
    created_at = base - created,
    updated_at = base - off(nxt, 1, dc - 1),
    admin = false,
  }
  if st.accounts[a.id] then return end
  st.add_account(a)
  local toks = {}
  for k = 1, int(nxt, 0, 6) do
    local created_at, expires, used = token_times(nxt, pick_kind(nxt, SAT_KINDS), base)
    toks[k] = { id = uuid(nxt), account_id = a.id, name = purpose .. "-token-" .. k,
                created_at = created_at, updated_at = created_at, expires_at = expires, last_used_at = used }
  end
  table.sort(toks, function(x, y) return x.created_at < y.created_at end)
  for _, t in ipairs(toks) do st.add_sa_token(t) end
end

function _M.generate(st, opts)
  local admin_id
  for id, u in pairs(st.users) do
    if u.admin then admin_id = id end
  end
  for i = 1, opts.users do gen_user(st, opts.seed, i, opts.base, admin_id) end
  for j = 1, opts.system_accounts do gen_account(st, opts.seed, j, opts.base) end
end

return _M
