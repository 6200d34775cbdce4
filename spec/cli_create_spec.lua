-- konnect-pats create --expires-at (the contract's deprecated expires_at) and
-- -o env (create and rotate print `export KONNECT_TOKEN='…'` for a shell to
-- eval): what a script relies on, each refusal (before any token is made), and
-- the secret kept out of every other output.  The terminal cases run the
-- command on a real pseudo-terminal (support.cli's pty, script(1)).
local cjson = require "cjson"
local fake = require "support.fake"
local h = require "support.cli"
local time = require "konnect.time"

local ALICE = fake.ALICE
local DAY = 86400
local cli, q = h.cli, h.q

local function posts() return fake.count("POST /v3/users/" .. ALICE .. "/access-tokens") end

-- the secret in -o env's line, when stdout is that line and nothing else
local function exported(out)
  return out:match("^export KONNECT_TOKEN='(kpat_%w+)'\n$")
end

-- no token-shaped string in s (the fake's secrets are kpat_ and 45 letters or digits)
local function no_secret(s, what)
  assert.is_nil((s or ""):find("kpat_%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w"), what .. " carries a secret")
end

local function usage_error(r, what, fragment)
  assert.equal(2, r.code, what)
  assert.equal("", r.out, what)
  assert.matches("^konnect%-pats: usage: [^\n]*\n$", r.err, nil, what)
  if fragment then assert.matches(fragment, r.err, 1, true, what) end
end

describe("konnect-pats create --expires-at", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("creates a token that expires at that instant, offsets honoured; --json is the token object", function()
    local at = time.iso(os.time() + 10 * DAY + 3600):gsub("Z$", "+01:00") -- ten days from now, in +01:00
    local r = cli({ "create", "--name", "dated", "--expires-at", at, "--json" })
    assert.equal(0, r.code, r.err)
    local tok = cjson.decode(r.out)
    assert.equal(time.rfc3339(at), time.rfc3339(tok.expires_at))
    assert.equal("dated", tok.name)
    assert.equal(1, posts())
    -- text: the summary says when
    r = cli({ "create", "--name", "dated2", "--expires-at", time.iso(os.time() + 30 * DAY) })
    assert.equal(0, r.code, r.err)
    assert.matches("expires in 30 days", r.err, 1, true)
    local left = time.rfc3339(assert(client:find_by_name(ALICE, "dated2"))[1].expires_at) - os.time()
    assert.is_true(left > 30 * DAY - 60 and left <= 30 * DAY, "expires in " .. left .. " s")
  end)

  it("exactly one of --ttl and --expires-at: both, or neither, is a usage error before any request", function()
    local future = time.iso(os.time() + 7 * DAY)
    usage_error(cli({ "create", "--name", "x1", "--ttl", "7d", "--expires-at", future }), "both",
      "--ttl and --expires-at both set the lifetime: give one")
    usage_error(cli({ "create", "--name", "x1" }), "neither",
      "create needs --ttl TTL (1d .. 1y) or --expires-at RFC3339")
    local r = cli({ "create", "--name", "x1", "--json" })
    assert.equal(2, r.code)
    assert.equal("invalid_argument", cjson.decode(r.err).kind)
    assert.equal(0, fake.requests().total)
  end)

  it("a date in the past (or now) is refused with how long ago it was, before any request", function()
    local r = cli({ "create", "--name", "x1", "--expires-at", time.iso(os.time() - 3 * DAY) })
    usage_error(r, "3 days ago", "is 3 days ago: a token must expire in the future")
    r = cli({ "create", "--name", "x1", "--expires-at", "2020-01-31T00:00:00+09:00" })
    usage_error(r, "in 2020", "years ago: a token must expire in the future")
    r = cli({ "create", "--name", "x1", "--expires-at", time.iso(os.time()) })
    usage_error(r, "now", "a token must expire in the future")
    assert.equal(0, fake.requests().total)
  end)

  it("a value that is no RFC 3339 date-time is refused with konnect.time's reason, before any request", function()
    local cases = {
      { "2030-01-31", "not an RFC 3339 date-time such as 2030-01-31T00:00:00Z" },
      { "2030-01-31T00:00:00", "needs an offset (Z or +hh:mm)" },
      { "2030-02-30T00:00:00Z", "not a valid calendar date-time; give an RFC 3339 date-time" },
      { "2030-01-31T00:00:00+24:00", "invalid offset" },
      { "tomorrow", "not an RFC 3339 date-time" },
      { "", "not an RFC 3339 date-time" },
      { "1735689600", "not an RFC 3339 date-time" },
    }
    for _, c in ipairs(cases) do
      local r = cli({ "create", "--name", "x1", "--expires-at", c[1] })
      usage_error(r, "case " .. c[1], "--expires-at " .. c[1] .. ": ")
      assert.matches(c[2], r.err, 1, true, "case " .. c[1])
      r = cli({ "create", "--name", "x1", "--expires-at", c[1], "--json" })
      local e = cjson.decode(r.err)
      assert.equal("invalid_argument", e.kind, c[1])
      assert.matches(c[2], e.message, 1, true)
    end
    assert.equal(0, fake.requests().total)
  end)

  it("is create's alone: rotate and the others refuse it", function()
    for _, args in ipairs { { "rotate", "x1" }, { "list" }, { "get", "x1" } } do
      args[#args + 1] = "--expires-at"
      args[#args + 1] = time.iso(os.time() + DAY)
      usage_error(cli(args), args[1], "--expires-at is not an option of " .. args[1])
    end
    assert.equal(0, fake.requests().total)
  end)
end)

describe("konnect-pats create -o env", function()
  local client, dir
  h.per_test(before_each, after_each, function(c, d) client, dir = c, d end)

  it("prints one line, export KONNECT_TOKEN='<secret>', and nothing else on stdout; the summary on stderr",
    function()
      for i, args in ipairs { { "-o", "env" }, { "--output", "env" }, { "--output=env" } } do
        local name = "env" .. i
        local argv = { "create", "--name", name, "--ttl", "1d" }
        for _, a in ipairs(args) do argv[#argv + 1] = a end
        local r = cli(argv)
        assert.equal(0, r.code, r.err)
        local secret = exported(r.out)
        assert.is_string(secret, "stdout is not the export line alone")
        local tok = assert(client:find_by_name(ALICE, name))[1]
        assert.matches('created token "' .. name .. '" (' .. tok.id .. "), expires in 24 hours", r.err, 1, true)
        assert.matches("the secret is in the export line on stdout", r.err, 1, true)
        no_secret(r.err, "stderr")
        local me = cli({ "whoami", "--json" }, { env = { KONNECT_TOKEN = secret } })
        assert.equal(ALICE, cjson.decode(me.out).id)
      end
    end)

  it("eval \"$(konnect-pats create ... -o env)\" in a shell: the next command uses the new token", function()
    local out = dir .. "/out"
    local env = "KONNECT_TOKEN=" .. q(fake.BOB_TOKEN) .. " KONNECT_SERVER_URL=" .. q(fake.http)
    local kp = h.LUA .. " " .. q(h.CLI)
    -- bob's bootstrap token makes a token of bob's; after the eval KONNECT_TOKEN is that one
    local rc = h.sh("cd " .. q(h.ROOT) .. " && export " .. env .. " && eval \"$(" .. kp ..
      " create --name evald --ttl 1d -o env 2>/dev/null < /dev/null)\" && test \"$KONNECT_TOKEN\" != " ..
      q(fake.BOB_TOKEN) .. " && " .. kp .. " whoami --json < /dev/null > " .. q(out))
    assert.equal(0, rc)
    assert.equal(fake.BOB, cjson.decode(h.slurp(out)).id)
  end)

  it("the line is safe to eval whatever the secret holds: quotes, $( ), backquotes stay data", function()
    -- (no white space: a secret with any is refused, spec/mutants_cli_spec.lua)
    local nasty = [[kpat_it's$(touch${IFS}PWNED)`touch${IFS}PWNED2`;x"y\z]]
    fake.fault { method = "POST", path = "/access%-tokens$", status = 201,
                 body = cjson.encode({ id = "00000000-0000-4000-8000-000000000001", name = "odd",
                                       konnect_token = nasty }) }
    local r = cli({ "create", "--name", "odd", "--ttl", "1d", "-o", "env" })
    assert.equal(0, r.code, r.err)
    assert.equal(1, select(2, r.out:gsub("\n", "")))
    h.spit(dir .. "/line", r.out)
    local got = dir .. "/got"
    assert.equal(0, h.sh("cd " .. q(dir) .. " && sh -c " .. q(". ./line && printf '%s' \"$KONNECT_TOKEN\" > got")))
    assert.equal(nasty, h.slurp(got))
    assert.is_nil(h.slurp(dir .. "/PWNED"))
    assert.is_nil(h.slurp(dir .. "/PWNED2"))
  end)

  it("refused on a terminal (a real pty) before any token is made; the message says what to do", function()
    local r = h.pty({ "create", "--name", "tty", "--ttl", "1d", "-o", "env" })
    assert.equal(2, r.code, r.err)
    assert.equal("", r.out, "nothing may reach the terminal's stdout")
    assert.matches("^konnect%-pats: usage: %-o env prints the secret as an export line for a shell to eval, " ..
      "and stdout is a terminal", r.err)
    assert.matches('eval "$(konnect-pats create ... -o env)"', r.err, 1, true)
    assert.matches("--force-tty", r.err, 1, true)
    assert.matches("nothing was created", r.err, 1, true)
    assert.equal(0, posts())
    -- and in-process, when stdout is said to be a terminal
    local r2 = cli({ "create", "--name", "tty", "--ttl", "1d", "-o", "env" }, { tty = { stdout = true } })
    assert.equal(2, r2.code)
    assert.matches("stdout is a terminal", r2.err, 1, true)
    assert.equal(0, posts())
  end)

  it("typed at a terminal into eval \"$(...)\" (stdin the terminal, stdout a pipe): the export line", function()
    local r = h.pty({ "create", "--name", "tty", "--ttl", "1d", "-o", "env" }, { stderr_tty = true })
    assert.equal(0, r.code, r.err)
    assert.is_string(exported(r.out), "stdout carries the export line alone: " .. r.out)
    no_secret(r.err, "the terminal")
    assert.equal(1, posts())
  end)

  it("--force-tty prints it to the terminal anyway: that line and nothing else on stdout", function()
    local r = h.pty({ "create", "--name", "tty", "--ttl", "1d", "-o", "env", "--force-tty" })
    assert.equal(0, r.code, r.err)
    assert.is_string(exported(r.out), "the terminal shows the export line alone")
    no_secret(r.err, "stderr")
    assert.matches('created token "tty"', r.err, 1, true)
    assert.equal(1, posts())
  end)

  it("never with --json or --secret-file (one place for the secret), nor -o but env; exit 2, no request", function()
    local path = dir .. "/secret"
    local cases = {
      { { "-o", "env", "--json" }, "-o env and --json both print the new token: use one" },
      { { "-o", "env", "--secret-file", path }, "-o env prints the secret and --secret-file writes it to a file" },
      { { "--force-tty" }, "--force-tty goes with -o env" },
      { { "--secret-file", path, "--force-tty" }, "--force-tty goes with -o env" },
      { { "-o", "json" }, "-o takes env (an export line for a shell to eval), got json; for JSON use --json" },
      { { "-o", "enc" }, "got enc; did you mean env?" },
      { { "-o" }, "-o needs a value" },
    }
    for _, c in ipairs(cases) do
      local args = { "create", "--name", "x1", "--ttl", "1d" }
      for _, a in ipairs(c[1]) do args[#args + 1] = a end
      local r = cli(args)
      assert.equal(2, r.code, table.concat(args, " "))
      assert.equal("", r.out)
      assert.matches(c[2], r.err, 1, true, table.concat(args, " "))
    end
    assert.is_nil(h.file_type(path), "no secret file may be left")
    for _, args in ipairs { { "list", "-o", "env" }, { "get", "x1", "--output", "env" },
                            { "delete", "x1", "--force-tty" } } do
      local r = cli(args)
      assert.equal(2, r.code)
      assert.matches("is not an option of " .. args[1], r.err, 1, true)
    end
    assert.equal(0, fake.requests().total)
  end)

  it("the secret never reaches --verbose lines, KONNECT_DEBUG lines or an error", function()
    local r = cli({ "create", "--name", "loud", "--ttl", "1d", "-o", "env", "--verbose" },
      { env = { KONNECT_DEBUG = "1" } })
    assert.equal(0, r.code, r.err)
    assert.is_string(exported(r.out))
    assert.matches("POST", r.err, 1, true)
    no_secret(r.err, "the log lines")
    -- an answer whose secret cannot be printed safely: nothing on stdout, an error without it
    fake.fault { method = "POST", path = "/access%-tokens$", status = 201,
                 body = '{"id":"00000000-0000-4000-8000-000000000001","name":"esc",' ..
                   '"konnect_token":"kpat_fake_escape_secret_not_real\\u001b]0;x\\u0007"}' }
    r = cli({ "create", "--name", "esc", "--ttl", "1d", "-o", "env" })
    assert.equal(3, r.code) -- (decode: konnect.operations refuses it)
    assert.equal("", r.out)
    -- it names the token that was created (the user deletes it: its secret is lost)
    assert.matches("the server created a token (00000000-0000-4000-8000-000000000001) but its konnect_token (the " ..
      "secret) is missing or unusable", r.err, 1, true)
    no_secret(r.err, "the error")
  end)
end)

describe("konnect-pats rotate -o env", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("prints the new secret as the export line; the old token is deleted", function()
    local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = cli({ "rotate", "ci", "-o", "env" })
    assert.equal(0, r.code, r.err)
    local secret = exported(r.out)
    assert.is_string(secret, "stdout is not the export line alone")
    no_secret(r.err, "stderr")
    assert.matches("old token " .. old.id .. " deleted", r.err, 1, true)
    assert.equal("not_found", select(2, client:get(ALICE, old.id)).kind)
    assert.equal(ALICE, cjson.decode(cli({ "whoami", "--json" }, { env = { KONNECT_TOKEN = secret } }).out).id)
  end)

  it("a failure after the new token exists: the line is still printed, the error (without it) on stderr, exit 1",
    function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 403 }
      local r = cli({ "rotate", old.id, "-o", "env" })
      assert.equal(1, r.code)
      assert.is_string(exported(r.out), "the new secret must not be lost")
      assert.matches("konnect%-pats: forbidden %(403%): new token [%x%-]+ was created, but revoking the old one failed",
        r.err)
      no_secret(r.err, "stderr")
    end)

  it("refused on a terminal (a real pty) before the replacement is made", function()
    local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = h.pty({ "rotate", "ci", "-o", "env" })
    assert.equal(2, r.code, r.err)
    assert.equal("", r.out)
    assert.matches('eval "$(konnect-pats rotate ... -o env)"', r.err, 1, true)
    assert.equal(1, posts())
    assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
  end)
end)
