-- konnect-pats users, system-accounts and audit against the fake Konnect's
-- seeded organisation (a small one: fake.reset { users =, system_accounts = }),
-- in-process, as a process and on a real pty: the lists and their filters,
-- the audit's three outputs (its --json report identical to one computed from
-- the server's state by spec/support/audit_reference.lua), an incomplete
-- report (exit 5, the owners not audited named), progress only on a terminal.
local cjson = require "cjson"
local fake = require "support.fake"
local h = require "support.cli"
local reference = require "support.audit_reference"

local ALICE = fake.ALICE
local DAY = 86400
local ADMIN = { KONNECT_TOKEN = fake.ADMIN_TOKEN }
local SMALL = { users = 12, system_accounts = 4 }

local function esc(s) return (s:gsub("%p", "%%%0")) end

local function cli(args, o)
  o = o or {}
  local env = {}
  for k, v in pairs(ADMIN) do env[k] = v end
  for k, v in pairs(o.env or {}) do env[k] = v end
  o.env = env
  return h.cli(args, o)
end

local function ok(r, what)
  assert(r.code == 0, (what or "konnect-pats") .. " exited " .. tostring(r.code) .. ": " .. r.err)
  return r
end

local function lines(s)
  local o = {}
  for l in s:gmatch("([^\n]*)\n") do o[#o + 1] = l end
  return o
end

-- an RFC 4180 reader, written here from the RFC (section 2), sharing nothing
-- with the CLI: records end with CRLF, a quoted field may hold commas, CR, LF
-- and doubled quotes -> { { field, … }, … }
local function read_csv(s)
  local rows, row, i, n = {}, {}, 1, #s
  while i <= n do
    local field
    if s:sub(i, i) == '"' then
      local buf, j = {}, i + 1
      while true do
        local q = assert(s:find('"', j, true), "an unterminated quoted field")
        buf[#buf + 1] = s:sub(j, q - 1)
        if s:sub(q + 1, q + 1) == '"' then
          buf[#buf + 1] = '"'
          j = q + 2
        else
          i = q + 1
          break
        end
      end
      field = table.concat(buf)
    else
      local e = s:find("[,\r]", i) or n + 1
      field = s:sub(i, e - 1)
      assert(not field:find('[\n"]'), "a bare LF or quote in an unquoted field: " .. field)
      i = e
    end
    row[#row + 1] = field
    local c = s:sub(i, i)
    if c == "," then
      i = i + 1
    else
      assert(s:sub(i, i + 1) == "\r\n", "a record not ended by CRLF at byte " .. i)
      rows[#rows + 1], row, i = row, {}, i + 2
    end
  end
  return rows
end

describe("konnect-pats users and system-accounts", function()
  h.per_test(before_each, after_each, function() fake.reset(SMALL) end)

  it("users: a table of every user, --json the API's objects, every page", function()
    local st = fake.state()
    local r = ok(cli({ "users" }))
    local out = lines(r.out)
    assert.matches("^EMAIL +NAME +ID +ACTIVE$", out[1])
    assert.equal(#st.users + 1, #out)
    for i, u in ipairs(st.users) do
      assert.matches("^" .. esc(u.email) .. " +" .. esc(u.full_name) .. " +" .. esc(u.id) .. " +" ..
        tostring(u.active) .. "$", out[i + 1])
    end
    local v = cjson.decode(ok(cli({ "users", "--json" })).out)
    assert.equal(#st.users, #v)
    for i, u in ipairs(st.users) do assert.equal(u.id, v[i].id) end
    -- more than a page (100): every page
    fake.reset { users = 230, system_accounts = 2 }
    assert.equal(230, #cjson.decode(ok(cli({ "users", "--json" })).out))
  end)

  it("users --email (exact), --full-name (a part), --active: the server's filters", function()
    local st = fake.state()
    local function ids(args)
      local o = {}
      for i, u in ipairs(cjson.decode(ok(cli(args)).out)) do o[i] = u.id end
      return o
    end
    assert.same({ fake.BOB }, ids({ "users", "--email", "bob@example.test", "--json" }))
    assert.same({}, ids({ "users", "--email", "bob@example", "--json" }))
    local want = {}
    for _, u in ipairs(st.users) do if u.full_name:find("Example", 1, true) then want[#want + 1] = u.id end end
    assert.is_true(#want >= 2)
    assert.same(want, ids({ "users", "--full-name", "Example", "--json" }))
    fake.reset { users = 260, system_accounts = 2 } -- some inactive users (~5%; the seed's first after 200)
    st = fake.state()
    local inactive, active = {}, {}
    for _, u in ipairs(st.users) do
      if u.active then active[#active + 1] = u.id else inactive[#inactive + 1] = u.id end
    end
    assert.is_true(#inactive > 0)
    assert.same(inactive, ids({ "users", "--active", "false", "--json" }))
    assert.same(active, ids({ "users", "--active", "true", "--json" }))
    assert.equal("(no users)\n", ok(cli({ "users", "--email", "nobody@example.test" })).out)
  end)

  it("system-accounts: a table, --json, --name (exact), --name-contains", function()
    local st = fake.state()
    local r = ok(cli({ "system-accounts" }))
    local out = lines(r.out)
    assert.matches("^NAME +ID +MANAGED +CREATED$", out[1])
    assert.equal(#st.system_accounts + 1, #out)
    assert.matches("^" .. esc(fake.SYSTEM_ACCOUNT_NAME) .. " +" .. esc(fake.SYSTEM_ACCOUNT) ..
      " +false +%d+ years? ago$", out[2])
    local v = cjson.decode(ok(cli({ "system-accounts", "--name", fake.PLAIN_SYSTEM_ACCOUNT_NAME, "--json" })).out)
    assert.equal(1, #v)
    assert.equal(fake.PLAIN_SYSTEM_ACCOUNT, v[1].id)
    v = cjson.decode(ok(cli({ "system-accounts", "--name-contains", "fixture-", "--json" })).out)
    assert.equal(2, #v)
    assert.equal("(no system accounts)\n", ok(cli({ "system-accounts", "--name", "fixture" })).out)
  end)

  it("refusals: a bad --active, empty filters, --name with --name-contains (exit 2, nothing sent); " ..
    "a non-admin's system-accounts (exit 4)", function()
    for _, c in ipairs {
      { { "users", "--active", "yes" }, "--active takes true or false, got yes" },
      { { "users", "--active", "flase" }, "did you mean false?" },
      { { "users", "--email", "" }, "--email needs a value" },
      { { "users", "--full-name", "" }, "--full-name needs a value" },
      { { "system-accounts", "--name", "" }, "--name needs a value" },
      { { "system-accounts", "--name", "a", "--name-contains", "b" }, "give one" },
      { { "users", "--name", "x" }, "--name is not an option of users" },
      { { "users", "--user", "me" }, "--user is not an option of users" },
      { { "system-accounts", "x" }, "too many arguments" },
    } do
      local r = cli(c[1])
      assert.equal(2, r.code, table.concat(c[1], " "))
      assert.matches(c[2], r.err, 1, true, table.concat(c[1], " "))
    end
    assert.equal(0, fake.requests().total)
    local r = cli({ "system-accounts" }, { env = { KONNECT_TOKEN = fake.ALICE_TOKEN } })
    assert.equal(4, r.code)
    assert.matches("^konnect%-pats: forbidden %(403%): ", r.err)
    -- a user's token may list the users (the fake lets it: the contract says nothing)
    ok(cli({ "users", "--email", "alice@example.test" }, { env = { KONNECT_TOKEN = fake.ALICE_TOKEN } }))
  end)
end)

describe("konnect-pats audit", function()
  h.per_test(before_each, after_each, function() fake.reset(SMALL) end)

  -- the report the CLI printed, and the one computed from the server's state at its generated_at
  local function reports(args, o)
    local st = fake.state()
    local r = cli(args, o)
    local v = cjson.decode(r.out)
    return v, reference.report(st, { now = reference.epoch(v.generated_at), expiring_within = o and o.D,
                                     unused_for = o and o.U }), r
  end

  it("--json: the report, exactly the one computed from the server's state; exit 0", function()
    local got, want, r = reports({ "audit", "--json" })
    assert.equal(0, r.code, r.err)
    assert.equal("", r.err)
    assert.same(want, got)
    assert.is_true(got.complete)
    for _, f in ipairs { "expired_listed", "revoked_listed", "expiring", "never_used", "unused" } do
      assert.is_true(got.counts[f] > 0, f)
    end
    -- the thresholds from the options
    got, want, r = reports({ "audit", "--json", "--expiring-within", "30d", "--unused-for", "2w" },
      { D = 30 * DAY, U = 14 * DAY })
    assert.equal(0, r.code, r.err)
    assert.same(want, got)
    assert.equal(30 * DAY, got.settings.expiring_within)
  end)

  it("the table: the tokens with a flag, the counts; a token without one is not shown", function()
    local st = fake.state()
    local r = ok(cli({ "audit" }))
    local report = reference.report(st, { now = os.time() })
    local out = lines(r.out)
    assert.matches("^OWNER +KIND +NAME +ID +STATE +EXPIRES +LAST USED +FLAGS$", out[1])
    local flagged = 0
    for _, t in ipairs(report.tokens) do
      local line = r.out:match("\n([^\n]*" .. esc(t.id) .. "[^\n]*)\n")
      if #t.flags > 0 then
        flagged = flagged + 1
        assert.is_string(line, t.id .. " not shown")
        assert.matches("^" .. esc(t.owner.email or t.owner.name) .. " +" .. t.kind .. " +", line)
        assert.matches(" " .. (t.state and esc(t.state) or "%-") .. " ", line)
        assert.matches(" " .. table.concat(t.flags, ","):gsub("%p", "%%%0") .. "$", line)
      else
        assert.is_nil(line, t.id .. " has no flag, and is shown")
      end
    end
    local c = report.counts
    assert.equal(string.format("audited %d users and %d system accounts: %d tokens (%d personal, %d of system " ..
      "accounts), %d with findings (above)", c.users, c.system_accounts, c.tokens, c.pats, c.sats, flagged),
      out[#out - 1])
    assert.matches("^expired_listed " .. c.expired_listed .. ", revoked_listed " .. c.revoked_listed ..
      ", expiring " .. c.expiring .. " %(within 7 days%), never_used " .. c.never_used .. ", unused " .. c.unused ..
      " %(for 90 days%), near_quota " .. c.near_quota .. " %(" .. c.near_quota_users .. " users at 8 or more of 10%)$",
      out[#out])
    assert.equal("", r.err)
  end)

  it("a CSV field: RFC 4180 quoting, control characters (but tab and line ends) shown as ?", function()
    local csv_field = require("konnect.cli.audit").csv_field
    for _, c in ipairs {
      { nil, "" }, { "plain", "plain" }, { 42, "42" }, { "a,b", '"a,b"' }, { 'say "hi"', '"say ""hi"""' },
      { "l1\nl2", '"l1\nl2"' }, { "t\tab", "t\tab" }, { "x\27[31m", "x?[31m" }, { "n\194\133l", "n?l" },
      { "cr\rcr", '"cr\rcr"' }, -- a lone CR ends a record too (RFC 4180): quoted
    } do
      assert.equal(c[2], csv_field(c[1]))
    end
  end)

  it("--csv: every token, a header, CRLF, RFC 4180 quoting of a name with a comma, a quote, a newline", function()
    -- alice's full name as a hostile server might send it, and a token of hers
    assert(fake.client():create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local hostile = 'Doe, "J"\nX\r\27]0;t\7'
    fake.fault { method = "GET", path = "^/v3/users$", body = cjson.encode {
      data = { { id = ALICE, email = "alice@example.test", full_name = hostile, active = true } },
      meta = { page = { number = 1, size = 100, total = 1 } } } }
    local r = ok(cli({ "audit", "--csv" }))
    local rows = read_csv(r.out)
    assert.same(require("konnect.cli.audit").CSV_COLUMNS, rows[1])
    assert.equal("pat", rows[2][1])
    assert.equal('Doe, "J"\nX\r?]0;t?', rows[2][4], "the name kept, quoted; the escape and BEL shown as ?")
    assert.equal("ci", rows[2][7])
    assert.equal("expiring never_used", rows[2][13])
    assert.matches('\r\npat,user,' .. esc(ALICE) .. ',"Doe, ""J""\nX\r%?%]0;t%?",alice@example.test,', r.out)
    assert.is_nil(r.out:find("\27", 1, true))
    -- the whole organisation: one row per token of the report, in its order, each field as the report has it
    local st = fake.state()
    r = ok(cli({ "audit", "--csv" }))
    local report = reference.report(st, { now = os.time() })
    rows = read_csv(r.out)
    assert.equal(#report.tokens + 1, #rows)
    for i, t in ipairs(report.tokens) do
      local o = t.owner
      assert.same({ t.kind, o.type, o.id, o.name or "", o.email or "", t.id, t.name, t.state or "",
                    t.created_at or "", t.expires_at or "", t.last_used_at or "", t.revoked_at or "",
                    table.concat(t.flags, " ") }, rows[i + 1])
    end
    assert.equal(2, cli({ "audit", "--csv", "--json" }).code)
  end)

  it("a non-admin: exit 5, the owners not audited on stderr (or in the report), the rest reported", function()
    assert(fake.client():create(ALICE, { name = "mine", ttl_seconds = DAY }))
    local alice = { env = { KONNECT_TOKEN = fake.ALICE_TOKEN } }
    local st = fake.state()
    local r = cli({ "audit" }, alice)
    assert.equal(5, r.code, r.err)
    local err = lines(r.err)
    assert.equal(3, #err, r.err)
    assert.matches("^konnect%-pats: not audited: the list of system accounts: forbidden %(403%): ", err[1])
    assert.matches("^konnect%-pats: not audited: the personal access tokens of " .. (#st.users - 1) ..
      " users %(bob@example%.test, admin@example%.test, [^,]+, and " .. (#st.users - 4) ..
      " more%): forbidden %(403%): ", err[2])
    assert.equal("konnect-pats: warning: the report is incomplete: " .. (#st.users - 1) .. " of " .. #st.users ..
      " owners could not be audited, and a list of owners failed; another user's tokens and the system accounts " ..
      "need an org admin's token", err[3])
    assert.matches("\nalice@example%.test +pat +mine ", r.out) -- hers are reported
    -- --json: the report on stdout (complete false, the failures), a warning object on stderr
    r = cli({ "audit", "--json" }, alice)
    assert.equal(5, r.code)
    local v = cjson.decode(r.out)
    assert.is_false(v.complete)
    assert.equal(#st.users, #v.failures)
    assert.equal("get-system-accounts", v.failures[1].operation)
    assert.equal(fake.BOB, v.failures[2].owner.id)
    assert.equal(403, v.failures[2].status)
    local w = cjson.decode(r.err)
    assert.matches("^the report is incomplete: ", w.warning)
    -- --csv: the rows that could be listed on stdout, the same lines on stderr
    r = cli({ "audit", "--csv" }, alice)
    assert.equal(5, r.code)
    assert.equal(2, #read_csv(r.out))
    assert.equal(3, #lines(r.err))
  end)

  it("the summary names the thresholds in days, hours or seconds, one or several", function()
    for _, c in ipairs {
      { "1d", "1 day" }, { "2w", "14 days" }, { "3600", "1 hour" }, { "36h", "36 hours" }, { "1", "1 second" },
      { "90", "90 seconds" },
    } do
      local r = ok(cli({ "audit", "--expiring-within", c[1], "--unused-for", c[1] }))
      local out = lines(r.out)
      assert.matches(", expiring %d+ %(within " .. c[2] .. "%), ", out[#out], 1, false, c[1])
      assert.matches(", unused %d+ %(for " .. c[2] .. "%), ", out[#out], 1, false, c[1])
    end
  end)

  it("nothing to audit (no users, no system accounts): no table, \"(no token has a finding)\", exit 0", function()
    local empty = '{"data":[],"meta":{"page":{"number":1,"size":100,"total":0}}}'
    fake.fault { method = "GET", path = "^/v3/users$", status = 200, body = empty }
    fake.fault { method = "GET", path = "^/v3/system%-accounts$", status = 200, body = empty }
    local r = ok(cli({ "audit" }))
    local out = lines(r.out)
    assert.equal("(no token has a finding)", out[1])
    assert.equal("audited 0 users and 0 system accounts: 0 tokens (0 personal, 0 of system accounts), 0 with findings",
      out[2])
    assert.equal(3, #out)
  end)

  it("one user's list refused (403) among an admin's: exit 5, that user named; a retry-worthy 5xx retried", function()
    local st = fake.state()
    local victim = st.users[5]
    fake.fault { method = "GET", path = "^/v3/users/" .. esc(victim.id) .. "/access%-tokens$", status = 403 }
    fake.fault { method = "GET", path = "^/v3/users/" .. esc(st.users[6].id) .. "/access%-tokens$", status = 503,
                 retry_after = "0" }
    local r = cli({ "audit", "--json" })
    assert.equal(5, r.code, r.err)
    local v = cjson.decode(r.out)
    assert.equal(1, #v.failures)
    assert.equal(victim.id, v.failures[1].owner.id)
    r = cli({ "audit" })
    assert.equal(0, r.code, "the fault was consumed: " .. r.err)
    fake.fault { method = "GET", path = "^/v3/users/" .. esc(victim.id) .. "/access%-tokens$", status = 403 }
    r = cli({ "audit" })
    assert.equal(5, r.code)
    assert.matches("^konnect%-pats: not audited: the personal access tokens of 1 user %(" .. esc(victim.email) ..
      "%): forbidden %(403%): ", r.err)
  end)

  it("nothing listed at all is an error like any other: 401 exit 4, no server exit 3; one line, no report", function()
    local r = cli({ "audit" }, { env = { KONNECT_TOKEN = "kpat_fake_unknown_not_real" } })
    assert.equal(4, r.code)
    assert.equal("", r.out)
    assert.matches("^konnect%-pats: unauthorized %(401%): [^\n]*\n$", r.err)
    r = cli({ "audit", "--json" }, { env = { KONNECT_SERVER_URL = "http://127.0.0.1:1" } })
    assert.equal(3, r.code)
    assert.equal("", r.out)
    assert.equal("connect", cjson.decode(r.err).kind)
    -- both lists refused, differently: the first failure (the users' list) is the one reported
    fake.fault { method = "GET", path = "^/v3/users", status = 403 }
    fake.fault { method = "GET", path = "^/v3/system%-accounts", status = 404 }
    r = cli({ "audit" })
    assert.equal(4, r.code, r.err)
    assert.equal("", r.out)
    assert.matches("^konnect%-pats: forbidden %(403%): [^\n]*\n$", r.err)
  end)

  it("refusals before anything is sent: a bad AGE, --csv with --json, arguments (exit 2)", function()
    for _, c in ipairs {
      { { "audit", "--unused-for", "3m" }, "--unused-for: unknown unit 'm'" },
      { { "audit", "--expiring-within", "soon" }, "--expiring-within must be seconds or a number with a unit" },
      { { "audit", "--unused-for", "11y" }, "--unused-for must be at most 10 years" },
      { { "audit", "--csv", "--json" }, "--csv and --json both choose the output: give one" },
      { { "audit", "x" }, "too many arguments: audit [--expiring-within AGE] [--unused-for AGE] [--csv]" },
      { { "audit", "--user", "me" }, "--user is not an option of audit" },
      { { "audit", "--state", "active" }, "--state is not an option of audit" },
    } do
      local r = cli(c[1])
      local what = table.concat(c[1], " ")
      assert.equal(2, r.code, what)
      assert.matches(c[2], r.err, 1, true, what)
    end
    assert.equal(0, fake.requests().total)
  end)

  describe("progress", function()
    local function users_n() return #fake.state().users end

    it("says the time left in seconds, then minutes and seconds, then hours and minutes (rounded)", function()
      local eta_text = require("konnect.cli.audit").eta_text
      for s, want in pairs { [0] = "0s", [59.4] = "59s", [59.5] = "1m 00s", [185] = "3m 05s", [3599] = "59m 59s",
                             [3600] = "1h 00m", [3720] = "1h 02m", [7199] = "1h 59m", [7200] = "2h 00m",
                             [90061] = "25h 01m" } do
        assert.equal(want, eta_text(s), s)
      end
    end)

    it("on a terminal's stderr: users done of the total and the time left, in place, cleared at the end", function()
      local n = users_n()
      local r = cli({ "audit", "--csv" }, { tty = { stderr = true } })
      assert.equal(0, r.code, r.err)
      assert.matches("^\rauditing: 1/" .. n .. " users, about %d+s left", r.err)
      assert.matches("\rauditing: " .. n .. "/" .. n .. " users, about 0s left", r.err, 1)
      assert.matches("\r +\r$", r.err, 1)
      assert.is_nil(r.err:find("\n", 1, true), "the progress writes no line")
      assert.is_nil(r.out:find("auditing", 1, true))
    end)

    it("never when stderr is not a terminal, nor with --json or --verbose", function()
      for _, c in ipairs { { { "audit" }, { stdout = true, stdin = true } },
                           { { "audit", "--json" }, { stderr = true } }, { { "audit", "-v" }, { stderr = true } } } do
        local r = cli(c[1], { tty = c[2] })
        assert.equal(0, r.code, r.err)
        assert.is_nil(r.err:find("auditing", 1, true), table.concat(c[1], " "))
      end
    end)

    it("a real terminal (stderr a pty) shows it; a process whose stderr is a file never", function()
      local n = users_n()
      local r = h.pty({ "audit", "--csv" }, { env = ADMIN, stderr_tty = true })
      assert.equal(0, r.code, r.err)
      assert.matches("auditing: " .. n .. "/" .. n .. " users", r.err, 1, true)
      assert.matches("^kind,owner_type,", r.out)
      r = h.process({ "audit" }, { env = ADMIN })
      assert.equal(0, r.code, r.err)
      assert.equal("", r.err)
    end)
  end)
end)
