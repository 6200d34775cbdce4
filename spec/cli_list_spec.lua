-- konnect-pats list: --state, --expiring-within and --sort (default: soonest
-- to expire first), in the table and in --json alike; and their completion.
local cjson = require "cjson"
local fake = require "support.fake"
local h = require "support.cli"

local ALICE = fake.ALICE
local DAY = 86400
local cli, q = h.cli, h.q

local function names_of(r)
  assert.equal(0, r.code, r.err)
  local o = {}
  for _, t in ipairs(cjson.decode(r.out)) do o[#o + 1] = t.name end
  return table.concat(o, " ")
end

local function table_names(r)
  assert.equal(0, r.code, r.err)
  local o = {}
  for line in r.out:gmatch("[^\n]+") do
    local name = line:match("^(%S+)")
    if name ~= "NAME" then o[#o + 1] = name end
  end
  return table.concat(o, " ")
end

describe("konnect-pats list", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  -- bb is made first, then aa, cc (revoked) and dd (expired)
  local function four()
    local t = {}
    t.bb = assert(client:create(ALICE, { name = "bb", ttl_seconds = 3 * DAY }))
    t.aa = assert(client:create(ALICE, { name = "aa", ttl_seconds = DAY }))
    t.cc = assert(client:create(ALICE, { name = "cc", ttl_seconds = 30 * DAY }))
    t.dd = assert(client:create(ALICE, { name = "dd", ttl_seconds = 7 * DAY }))
    assert(client:revoke(ALICE, t.cc.id))
    fake.expire(t.dd.id)
    return t
  end

  it("sorts by expiry by default, soonest (and already expired) first; --sort name and created", function()
    four()
    assert.equal("dd aa bb cc", names_of(cli({ "list", "--json" })))
    assert.equal("dd aa bb cc", table_names(cli({ "list" })))
    assert.equal("dd aa bb cc", names_of(cli({ "list", "--sort", "expires", "--json" })))
    assert.equal("aa bb cc dd", names_of(cli({ "list", "--sort=name", "--json" })))
    -- oldest first; tokens made in the same millisecond by name, then id (the documented ties)
    local data = assert(client:list(ALICE)).data
    table.sort(data, function(x, y)
      if x.created_at ~= y.created_at then return x.created_at < y.created_at end
      if x.name ~= y.name then return x.name < y.name end
      return x.id < y.id
    end)
    local want = {}
    for i, t in ipairs(data) do want[i] = t.name end
    want = table.concat(want, " ")
    assert.equal(want, names_of(cli({ "list", "--sort", "created", "--json" })))
    assert.equal(want, table_names(cli({ "list", "--sort", "created" })))
  end)

  it("--state keeps the tokens in those states", function()
    four()
    assert.equal("aa bb", names_of(cli({ "list", "--state", "active", "--json" })))
    assert.equal("dd cc", names_of(cli({ "list", "--state", "REVOKED,expired", "--json" })))
    assert.equal("aa bb", table_names(cli({ "list", "--state", "active" })))
    assert.equal("[]\n", cli({ "list", "--state", "active", "--user", ALICE, "--json", "--expiring-within", "0" }).out)
  end)

  it("--expiring-within AGE keeps what expires within AGE from now, or has expired", function()
    four()
    assert.equal("dd aa", names_of(cli({ "list", "--expiring-within", "2d", "--json" })))
    assert.equal("aa", names_of(cli({ "list", "--expiring-within", "2d", "--state", "active", "--json" })))
    assert.equal("dd aa bb", names_of(cli({ "list", "--expiring-within", "72h", "--json" })))
    assert.equal("dd aa bb cc", names_of(cli({ "list", "--expiring-within", "1y", "--json" })))
    assert.equal("dd", names_of(cli({ "list", "--expiring-within", "0", "--json" })))
  end)

  it("a token without expires_at (the contract lets it be null) never expires: sorted last, never 'expiring'",
    function()
      local at = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() + DAY)
      local body = cjson.encode { data = {
        { id = "00000000-0000-4000-8000-0000000000e1", user_id = ALICE, name = "forever", state = "ACTIVE",
          created_at = at, updated_at = at, expires_at = cjson.null },
        { id = "00000000-0000-4000-8000-0000000000e2", user_id = ALICE, name = "soon", state = "ACTIVE",
          created_at = at, updated_at = at, expires_at = at },
      }, meta = { page = { number = 1, size = 10, total = 2 } } }
      fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = body, count = 3 }
      assert.equal("soon forever", names_of(cli({ "list", "--json" })))
      local r = cli({ "list" })
      assert.matches("\nforever +%S+ +ACTIVE +never +never\n", r.out)
      assert.equal("soon", names_of(cli({ "list", "--expiring-within", "10y", "--json" })))
    end)

  it("--sort created orders by created_at, not by name or expiry", function()
    local function tok(n, name, created, expires)
      return { id = "00000000-0000-4000-8000-0000000000c" .. n, user_id = ALICE, name = name, state = "ACTIVE",
               created_at = created, updated_at = created, expires_at = expires }
    end
    local body = cjson.encode { data = {
      tok(1, "aa", "2026-01-03T00:00:00.000Z", "2099-01-01T00:00:00.000Z"),
      tok(2, "cc", "2026-01-01T00:00:00.000Z", "2098-01-01T00:00:00.000Z"),
      tok(3, "bb", "2026-01-02T00:00:00.000Z", "2097-01-01T00:00:00.000Z"),
    }, meta = { page = { number = 1, size = 10, total = 3 } } }
    fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = body, count = 3 }
    assert.equal("cc bb aa", names_of(cli({ "list", "--sort", "created", "--json" })))
    assert.equal("aa bb cc", names_of(cli({ "list", "--sort", "name", "--json" })))
    assert.equal("bb cc aa", names_of(cli({ "list", "--json" })))
  end)

  it("the same second: the fraction of the stamp decides before the name (expires and created)", function()
    local function tok(n, name, stamp)
      return { id = "00000000-0000-4000-8000-0000000000d" .. n, user_id = ALICE, name = name, state = "ACTIVE",
               created_at = stamp, updated_at = stamp, expires_at = stamp:gsub("^2026", "2097") }
    end
    local body = cjson.encode { data = {
      tok(1, "aa", "2026-01-01T00:00:00.900Z"), tok(2, "bb", "2026-01-01T00:00:00.100Z"),
      tok(3, "cc", "2026-01-01T00:00:00.500Z"),
    }, meta = { page = { number = 1, size = 10, total = 3 } } }
    fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = body, count = 3 }
    assert.equal("bb cc aa", names_of(cli({ "list", "--json" })))
    assert.equal("bb cc aa", names_of(cli({ "list", "--sort", "created", "--json" })))
    assert.equal("aa bb cc", names_of(cli({ "list", "--sort", "name", "--json" })))
  end)

  it("a token listed several times (pages that shifted between reads): listed as given, no error", function()
    local t = { id = "00000000-0000-4000-8000-0000000000f1", user_id = ALICE, name = "twice", state = "ACTIVE",
                created_at = "2026-01-01T00:00:00.000Z", expires_at = "2097-01-01T00:00:00.000Z" }
    local body = cjson.encode { data = { t, t, t, t, t }, meta = { page = { number = 1, size = 10, total = 5 } } }
    for _, by in ipairs { "expires", "created", "name" } do
      fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = body }
      assert.equal("twice twice twice twice twice", names_of(cli({ "list", "--sort", by, "--json" })))
    end
  end)

  it("everything else equal (expiry, creation, name): the id decides, whatever the server's order", function()
    local function tok(n)
      return { id = "00000000-0000-4000-8000-0000000000e" .. n, user_id = ALICE, name = "same", state = "ACTIVE",
               created_at = "2026-01-01T00:00:00.000Z", expires_at = "2097-01-01T00:00:00.000Z" }
    end
    for _, order in ipairs { { 2, 1 }, { 1, 2 } } do
      local body = cjson.encode { data = { tok(order[1]), tok(order[2]) },
                                  meta = { page = { number = 1, size = 10, total = 2 } } }
      for _, by in ipairs { "expires", "created", "name" } do
        fake.fault { method = "GET", path = "/access%-tokens$", status = 200, body = body }
        local r = cli({ "list", "--sort", by, "--json" })
        assert.equal(0, r.code, r.err)
        local got = cjson.decode(r.out)
        assert.equal(tok(1).id, got[1].id, by)
        assert.equal(tok(2).id, got[2].id, by)
      end
    end
  end)

  it("refuses a state, sort or age it does not know before any request, suggesting what was meant", function()
    for _, c in ipairs {
      { { "list", "--state", "activ" }, "did you mean active?" },
      { { "list", "--sort", "expiry" }, "did you mean expires?" },
      { { "list", "--sort", "size" }, "--sort takes expires, name or created" },
      { { "list", "--expiring-within", "7m" }, "unknown unit" },
      { { "list", "--expiring-within", "20y" }, "at most 10 years" },
      { { "get", "x1", "--sort", "name" }, "--sort is not an option of get" },
      { { "find", "x1", "--expiring-within", "1d" }, "--expiring-within is not an option of find" },
    } do
      local r = cli(c[1])
      assert.equal(2, r.code, table.concat(c[1], " "))
      assert.matches(c[2], r.err, 1, true)
    end
    assert.equal(0, fake.requests().total)
  end)

  it("\"did you mean\": the edit distance, and a suggestion only when close (at most 2 edits, under half the word)",
    function()
      local suggest = require "konnect.cli.suggest"
      for _, c in ipairs {
        { "", "", 0 }, { "", "abc", 3 }, { "abc", "", 3 }, { "abc", "abc", 0 },
        { "abc", "ab", 1 }, { "ab", "abc", 1 }, { "abc", "abd", 1 }, -- a deletion, an insertion, a substitution
        { "ab", "cd", 2 }, { "ab", "ba", 1 }, { "expries", "expires", 1 }, -- a swap of neighbours is one edit
        { "abcd", "acbd", 1 }, { "kitten", "sitting", 3 }, { "a", "a", 0 }, { "a", "ab", 1 }, { "a", "xyz", 3 },
      } do
        assert.equal(c[3], suggest.distance(c[1], c[2]), c[1] .. " -> " .. c[2])
      end
      local CMDS = { "create", "delete", "find", "get", "list", "prune", "rename", "revoke", "rotate" }
      for _, c in ipairs {
        { "gte", "get" }, { "delte", "delete" }, { "PRUNE", "prune" }, { "rotat", "rotate" },
        { "prunexyz", nil }, -- 3 edits: too far, even under half the word
        { "lst", "list" }, { "gt", nil }, -- 1 edit is under half of 3 letters, not of 2
        { "rena", "rename" }, -- the start of exactly one
        { "re", nil }, -- too short to be a start
      } do
        assert.equal(c[2], suggest.suggest(c[1], CMDS), c[1])
      end
      -- a tie: the first in sorted order, whatever the candidates' order
      assert.equal("abce", suggest.suggest("abcd", { "abcf", "abce" }))
      assert.equal("abce", suggest.suggest("abcd", { "abce", "abcf" }))
    end)

  it("bash completion offers list's options and their values", function()
    local script = h.ROOT .. "/completion/konnect-pats.bash"
    local function complete(...)
      local words = { "konnect-pats", ... }
      local qw = {}
      for i, w in ipairs(words) do qw[i] = q(w) end
      local p = io.popen("bash -c " .. q("source " .. q(script) .. "; COMP_WORDS=(" .. table.concat(qw, " ") ..
        "); COMP_CWORD=" .. (#words - 1) .. "; _konnect_pats; printf '%s\\n' \"${COMPREPLY[@]}\"") .. " 2>&1")
      local got = {}
      for l in p:read("*a"):gmatch("[^\n]+") do got[#got + 1] = l end
      p:close()
      table.sort(got)
      return table.concat(got, " ")
    end
    assert.equal("--expiring-within", complete("list", "--exp"))
    assert.equal("--sort", complete("list", "--so"))
    assert.equal("created expires name", complete("list", "--sort", ""))
    assert.equal("active active,expired expired revoked", complete("list", "--state", ""))
    assert.equal("expired revoked revoked,expired", complete("prune", "--state", ""))
    assert.equal("1d 1y 30d 7d 90d", complete("list", "--expiring-within", ""))
    assert.equal("", complete("get", "--so"))
  end)
end)
