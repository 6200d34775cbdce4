-- konnect-pats --system-account ACCOUNT: list, get, find, create, rename,
-- delete, rotate and prune on a system account's tokens, against the fake
-- Konnect with the org admin's token (in-process, a few as a process and on a
-- real pty): ACCOUNT by name or id, each refusal before anything is sent, what
-- these tokens lack (a state, a revoke), and their secret (`token`) handed over
-- exactly as a personal access token's.
local cjson = require "cjson"
local fake = require "support.fake"
local h = require "support.cli"
local time = require "konnect.time"

local SA, NAME = fake.SYSTEM_ACCOUNT, fake.SYSTEM_ACCOUNT_NAME
local DAY = 86400
local TOKENS = "/v3/system-accounts/" .. SA .. "/access-tokens"
local ADMIN = { KONNECT_TOKEN = fake.ADMIN_TOKEN }
local TTY = { stdin = true, stdout = true }

local function esc(s) return (s:gsub("%p", "%%%0")) end

-- the CLI with the org admin's token (o.env adds to it)
local function cli(args, o)
  o = o or {}
  local env = {}
  for k, v in pairs(ADMIN) do env[k] = v end
  for k, v in pairs(o.env or {}) do env[k] = v end
  o.env = env
  return h.cli(args, o)
end

local function with(args, ...)
  local a = {}
  for _, x in ipairs(args) do a[#a + 1] = x end
  for _, x in ipairs { ... } do a[#a + 1] = x end
  return a
end

local function posts() return fake.count("POST " .. TOKENS) end

-- no spat_ secret in s (the fake's: spat_ and 50 letters or digits)
local function no_secret(s, what)
  assert.is_nil((s or ""):find("spat_%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w%w"), what .. " carries a secret")
end

local function usage_error(r, what, fragment)
  assert.equal(2, r.code, what .. ": " .. r.err)
  assert.equal("", r.out, what)
  assert.matches("^konnect%-pats: usage: [^\n]*\n$", r.err, nil, what)
  if fragment then assert.matches(fragment, r.err, 1, true, what) end
end

describe("konnect-pats --system-account", function()
  local admin, dir
  h.per_test(before_each, after_each, function(_, d)
    dir = d
    admin = fake.client { token = fake.ADMIN_TOKEN }
  end)

  local function names()
    local o = {}
    for i, t in ipairs(assert(admin:list_sa_tokens(SA)).data) do o[i] = t.name end
    table.sort(o)
    return o
  end

  describe("every token command, by the account's name or id", function()
    it("create prints the secret alone on stdout; list shows STATE -, get no STATE line; find", function()
      local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "7d" })
      assert.equal(0, r.code, r.err)
      local secret = r.out:match("^(spat_%w+)\n$")
      assert.is_string(secret, "stdout is the secret alone: " .. r.out)
      assert.matches('^created token "ci" %([%x%-]+%), expires in 7 days, [^;]+; the secret is shown only this once\n$',
        r.err)
      local tok = assert(admin:list_sa_tokens(SA)).data[1]
      assert.equal("ci", tok.name)
      for _, who in ipairs { NAME, SA } do
        r = cli({ "list", "--system-account", who })
        assert.equal(0, r.code, r.err)
        assert.matches("^NAME +ID +STATE +EXPIRES +LAST USED\nci +" .. esc(tok.id) .. " +%- +in 7 days +never\n$",
          r.out)
        r = cli({ "get", "ci", "--system-account", who })
        assert.equal(0, r.code, r.err)
        assert.matches("ID +" .. esc(tok.id), r.out)
        assert.not_matches("STATE", r.out, 1, true)
        r = cli({ "find", "ci", "--system-account", who, "--json" })
        assert.equal(tok.id, cjson.decode(r.out)[1].id)
      end
      r = cli({ "get", tok.id, "--system-account", SA, "--json" })
      local v = cjson.decode(r.out)
      assert.is_nil(v.state)
      assert.is_nil(v.token, "the secret is shown once")
      -- a PAT of the admin's is no business of the account's
      assert.equal("(no tokens)\n", cli({ "list" }).out)
      -- the new secret authenticates as that account (an admin: it reads the account)
      assert(fake.client { token = secret }:get_system_account(SA))
    end)

    it("create --ttl sends expires_at = now + TTL (no ttl_seconds); --expires-at as given", function()
      local before = os.time()
      local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "30d", "--json" })
      assert.equal(0, r.code, r.err)
      local tok = cjson.decode(r.out)
      local left = time.rfc3339(tok.expires_at) - before
      assert.is_true(left >= 30 * DAY and left <= 30 * DAY + 5, "expires in " .. left .. " s")
      local sent
      for _, e in ipairs(fake.requests().log) do
        if e.method == "POST" and e.path == TOKENS then sent = cjson.decode(e.body) end
      end
      assert.same({ "expires_at", "name" }, (function() local k = {} for x in pairs(sent) do k[#k + 1] = x end
        table.sort(k) return k end)())
      local at = time.iso(os.time() + 400 * DAY) -- beyond a PAT's year: the account's tokens have no such cap here
      r = cli({ "create", "--system-account", SA, "--name", "long", "--expires-at", at, "--json" })
      assert.equal(0, r.code, r.err)
      assert.equal(time.rfc3339(at), time.rfc3339(cjson.decode(r.out).expires_at))
    end)

    it("rename, delete (--yes), rotate (delete, keep --name) and prune", function()
      local a = assert(admin:create_sa_token(SA, { name = "a", ttl_seconds = DAY }))
      local r = cli({ "rename", "a", "a2", "--system-account", NAME })
      assert.equal(0, r.code, r.err)
      assert.equal('renamed token ' .. a.id .. ' to "a2"\n', r.out)
      r = cli({ "rotate", "a2", "--system-account", NAME, "--json" })
      assert.equal(0, r.code, r.err)
      local new = cjson.decode(r.out)
      assert.equal("a2", new.name, "the name kept (made under a temporary one, renamed)")
      assert.matches("^spat_", new.token)
      assert.equal("", r.err, "--json: nothing but JSON objects on stderr")
      assert.same({ "a2" }, names())
      assert.equal("not_found", select(2, admin:get_sa_token(SA, a.id)).kind)
      r = cli({ "rotate", "a2", "--old", "keep", "--name", "a3", "--system-account", NAME })
      assert.equal(0, r.code, r.err)
      assert.matches("^spat_%w+\n$", r.out)
      assert.matches("old token " .. new.id .. " kept as it was: delete it once its users have switched", r.err, 1,
        true)
      assert.same({ "a2", "a3" }, names())
      r = cli({ "delete", "a2", "--yes", "--system-account", SA, "--json" })
      assert.equal(0, r.code, r.err)
      assert.equal(new.id, cjson.decode(r.out).id)
      assert.same({ "a3" }, names())
      -- prune: the expired ones only
      local dead = assert(admin:create_sa_token(SA, { name = "dead", ttl_seconds = DAY }))
      fake.expire(dead.id)
      r = cli({ "prune", "--dry-run", "--system-account", NAME })
      assert.equal(0, r.code, r.err)
      assert.matches("^would delete 1 token %(dry run: nothing deleted%):\nNAME +ID +STATE +EXPIRES +LAST USED\n" ..
        "dead +" .. esc(dead.id) .. " +%- ", r.out)
      assert.equal("[]\n", cli({ "prune", "--older-than", "1d", "--system-account", NAME, "--json" }).out)
      r = cli({ "prune", "--system-account", NAME, "--json" })
      assert.equal(0, r.code, r.err)
      assert.equal(dead.id, cjson.decode(r.out)[1].id)
      assert.same({ "a3" }, names())
    end)
  end)

  describe("ACCOUNT", function()
    it("a name no account has: not_found, exit 1, nothing else sent", function()
      local r = cli({ "list", "--system-account", "nobody-sa" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      assert.equal('konnect-pats: not_found: no system account is named "nobody-sa" (names are matched exactly)\n',
        r.err)
      assert.equal(1, fake.requests().total, "one list of accounts, filtered by the name")
      r = cli({ "get", "x1", "--system-account", "nobody-sa", "--json" })
      assert.equal(1, r.code)
      assert.equal("not_found", cjson.decode(r.err).kind)
    end)

    it("a name several accounts have: exit 2, invalid_argument, their ids listed; nothing created", function()
      local other = "00000000-0000-4000-8000-0000000005a9"
      local body = cjson.encode { data = {
        { id = SA, name = "twin", konnect_managed = false },
        { id = other, name = "twin", konnect_managed = false } },
        meta = { page = { number = 1, size = 100, total = 2 } } }
      for _, json in ipairs { false, true } do
        fake.fault { method = "GET", path = "^/v3/system%-accounts$", body = body }
        local args = { "create", "--system-account", "twin", "--name", "x", "--ttl", "1d" }
        if json then args[#args + 1] = "--json" end
        local r = cli(args)
        assert.equal(2, r.code, r.err)
        assert.equal("", r.out)
        local msg = json and cjson.decode(r.err).message or r.err
        if json then assert.equal("invalid_argument", cjson.decode(r.err).kind) end
        assert.matches('2 system accounts are named "twin": ' .. SA .. ", " .. other, msg, 1, true)
      end
      assert.equal(0, posts())
    end)

    it("an id is used as it is (no lookup); an unknown id is the API's 404, exit 1", function()
      local r = cli({ "list", "--system-account", SA, "--json" })
      assert.equal(0, r.code, r.err)
      assert.equal(1, fake.requests().total)
      r = cli({ "list", "--system-account", fake.UNKNOWN_ACCOUNT_ID })
      assert.equal(1, r.code)
      assert.matches("^konnect%-pats: not_found %(404%): System account not found", r.err)
    end)

    it("a token that is not the org admin's: 403, exit 4, by name or by id, nothing created", function()
      local alice = { KONNECT_TOKEN = fake.ALICE_TOKEN }
      for _, who in ipairs { NAME, SA } do
        for _, args in ipairs { { "list" }, { "create", "--name", "x", "--ttl", "1d" } } do
          local r = cli(with(args, "--system-account", who), { env = alice })
          assert.equal(4, r.code, r.err)
          assert.matches("^konnect%-pats: forbidden %(403%): ", r.err)
          local j = cli(with(args, "--system-account", who, "--json"), { env = alice })
          assert.equal(4, j.code)
          assert.equal("forbidden", cjson.decode(j.err).kind)
        end
      end
      assert.same({}, assert(admin:list_sa_tokens(SA)).data)
    end)

    it("--user with it, an empty one, the USER-first form: usage errors (2), nothing sent", function()
      usage_error(cli({ "list", "--user", "me", "--system-account", NAME }), "--user",
        "--user and --system-account both say whose tokens: give one")
      usage_error(cli({ "list", "--system-account", "" }), "empty",
        "--system-account needs a system account's name or id")
      usage_error(cli({ "get", fake.ADMIN, "x1", "--system-account", NAME }), "USER first", "too many arguments")
      usage_error(cli({ "whoami", "--system-account", NAME }), "whoami", "--system-account is not an option of whoami")
      usage_error(cli({ "users", "--system-account", NAME }), "users", "--system-account is not an option of users")
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("what the account's tokens lack", function()
    it("revoke, --state, --old revoke, --old keep without --name: usage errors (2), nothing sent", function()
      usage_error(cli({ "revoke", "x1", "--system-account", NAME }), "revoke",
        "a system account's tokens have no revoke: delete the token instead (konnect-pats delete TOKEN " ..
        "--system-account ACCOUNT)")
      usage_error(cli({ "list", "--state", "active", "--system-account", NAME }), "list --state",
        "a system account's tokens have no state: drop --state")
      usage_error(cli({ "prune", "--state", "expired", "--system-account", NAME }), "prune --state",
        "prune deletes the expired ones")
      usage_error(cli({ "rotate", "x1", "--old", "revoke", "--system-account", NAME }), "--old revoke",
        "--old delete (the default) or --old keep")
      usage_error(cli({ "rotate", "x1", "--old", "keep", "--system-account", NAME }), "--old keep",
        "--old keep needs --name NAME")
      assert.equal(0, fake.requests().total)
    end)

    it("a 409 on create is a name the account uses: exit 1, no advice to prune", function()
      assert(admin:create_sa_token(SA, { name = "ci", ttl_seconds = DAY }))
      local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      assert.matches("^konnect%-pats: conflict %(409%): ", r.err)
      assert.not_matches("prune", r.err, 1, true)
    end)

    it("a name several tokens could have is no concern (names are unique); a name the rule refuses: exit 2", function()
      usage_error(cli({ "get", "bad\1name", "--system-account", NAME }), "control character",
        "TOKEN must be a token id or a token name: name must not contain control characters")
      -- an account's token name may hold what a PAT's may not (no PATName pattern)
      assert(admin:create_sa_token(SA, { name = "deploy: prod/eu #1", ttl_seconds = DAY }))
      local r = cli({ "get", "deploy: prod/eu #1", "--system-account", NAME, "--json" })
      assert.equal(0, r.code, r.err)
      assert.equal("deploy: prod/eu #1", cjson.decode(r.out).name)
    end)
  end)

  describe("the secret, in token", function()
    local function exported(out) return out:match("^export KONNECT_TOKEN='(spat_%w+)'\n$") end

    it("-o env: the export line alone on stdout; the secret works; nowhere else", function()
      local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d", "-o", "env", "--verbose" })
      assert.equal(0, r.code, r.err)
      local secret = exported(r.out)
      assert.is_string(secret, "stdout: " .. r.out)
      no_secret(r.err, "stderr (with --verbose)")
      assert.matches("the secret is in the export line on stdout, shown only this once", r.err, 1, true)
      assert(fake.client { token = secret }:get_system_account(SA))
      r = cli({ "rotate", "ci", "--system-account", NAME, "-o", "env" })
      assert.equal(0, r.code, r.err)
      assert.is_string(exported(r.out))
      no_secret(r.err, "rotate's stderr")
    end)

    it("-o env to a terminal is refused before the account is looked up or a token made; --force-tty prints it",
      function()
        local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d", "-o", "env" },
          { tty = { stdout = true } })
        usage_error(r, "tty", "stdout is a terminal")
        assert.equal(0, fake.requests().total)
        local p = h.pty({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d", "-o", "env" },
          { env = ADMIN })
        assert.equal(2, p.code, p.err)
        assert.equal("", p.out)
        assert.equal(0, posts())
        p = h.pty({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d", "-o", "env", "--force-tty" },
          { env = ADMIN })
        assert.equal(0, p.code, p.err)
        assert.is_string(exported(p.out), "the terminal shows the line alone: " .. p.out)
        no_secret(p.err, "stderr")
        -- -o env with --json, or with --secret-file: exit 2, nothing sent
        r = cli({ "create", "--system-account", NAME, "--name", "x", "--ttl", "1d", "-o", "env", "--json" })
        assert.equal(2, r.code)
        assert.matches("a system account's in token", cjson.decode(r.err).message, 1, true)
        usage_error(cli({ "create", "--system-account", NAME, "--name", "x", "--ttl", "1d", "-o", "env",
          "--secret-file", dir .. "/s" }), "--secret-file", "use one")
        assert.equal(1, posts())
      end)

    it("--secret-file: the secret only in a new 0600 file; refused before anything is sent when it exists", function()
      local path = dir .. "/sa-token"
      local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d", "--secret-file", path })
      assert.equal(0, r.code, r.err)
      assert.equal("", r.out)
      no_secret(r.err, "stderr")
      assert.matches("^spat_%w+\n$", h.slurp(path))
      assert.equal("600", h.file_mode(path))
      -- --json with it: the object without the secret
      local p2 = dir .. "/sa-token2"
      r = cli({ "create", "--system-account", NAME, "--name", "ci2", "--ttl", "1d", "--secret-file", p2, "--json" })
      assert.equal(0, r.code, r.err)
      assert.is_nil(cjson.decode(r.out).token)
      no_secret(r.out, "stdout")
      -- an existing file: exit 2 before the account is even looked up
      local before = fake.requests().total
      usage_error(cli({ "create", "--system-account", NAME, "--name", "ci3", "--ttl", "1d", "--secret-file", path }),
        "exists", "already exists")
      assert.equal(before, fake.requests().total)
      -- an empty path: exit 2, the option named
      usage_error(cli({ "create", "--system-account", NAME, "--name", "ci3", "--ttl", "1d", "--secret-file", "" }),
        "needs a path", "--secret-file needs a path")
      assert.equal(before, fake.requests().total)
      -- rotate into it with --force
      r = cli({ "rotate", "ci", "--system-account", NAME, "--secret-file", path, "--force" })
      assert.equal(0, r.code, r.err)
      assert.equal("", r.out)
      assert(fake.client { token = h.slurp(path):gsub("\n$", "") }:get_system_account(SA))
    end)

    it("a failed create (409), an unknown account, a refused one: the secret file is removed, nothing kept", function()
      assert(admin:create_sa_token(SA, { name = "taken", ttl_seconds = DAY }))
      local path = dir .. "/s"
      for _, c in ipairs {
        { { "--system-account", NAME, "--name", "taken" }, 1 },
        { { "--system-account", "nobody-sa", "--name", "x" }, 1 },
        { { "--system-account", NAME, "--name", "x", env = { KONNECT_TOKEN = fake.ALICE_TOKEN } }, 4 },
      } do
        local args = { "create", "--ttl", "1d", "--secret-file", path }
        for _, a in ipairs(c[1]) do args[#args + 1] = a end
        local r = cli(args, { env = c[1].env })
        assert.equal(c[2], r.code, r.err)
        assert.is_nil(h.file_type(path), "the secret file was left behind")
      end
    end)

    it("--json: the secret in token, nowhere else; an answer whose secret is unusable: exit 3, never printed",
      function()
        local r = cli({ "create", "--system-account", NAME, "--name", "ci", "--ttl", "1d", "--json" })
        assert.equal(0, r.code, r.err)
        local v = cjson.decode(r.out)
        assert.matches("^spat_%w+$", v.token)
        assert.is_nil(v.konnect_token)
        assert.equal("", r.err)
        -- the created object with no secret, or one with a terminal escape
        for _, tok in ipairs { 'null', '"spat_fake_escape_secret_not_real\\u001b]0;x\\u0007"' } do
          for _, extra in ipairs { { "--json" }, { "-o", "env" }, { "--secret-file", dir .. "/bad" } } do
            fake.fault { method = "POST", path = esc(TOKENS) .. "$", status = 201, body =
              '{"id":"00000000-0000-4000-8000-000000000001","name":"esc","expires_at":"2031-01-31T00:00:00Z",' ..
              '"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","token":' .. tok .. '}' }
            r = cli(with({ "create", "--system-account", SA, "--name", "esc", "--ttl", "1d" }, extra[1], extra[2]))
            assert.equal(3, r.code, r.err)
            assert.equal("", r.out)
            assert.matches("the server created a token (00000000-0000-4000-8000-000000000001) but its token (the " ..
              "secret) is missing or unusable", r.err, 1, true)
            assert.is_nil(r.err:find("\27", 1, true))
            assert.is_nil(h.file_type(dir .. "/bad"))
          end
        end
      end)
  end)

  describe("on a terminal", function()
    it("delete asks, naming the account; n deletes nothing (exit 2)", function()
      local tok = assert(admin:create_sa_token(SA, { name = "ci", ttl_seconds = DAY }))
      local r = cli({ "delete", "ci", "--system-account", NAME }, { tty = TTY, input = "n\n" })
      assert.equal(2, r.code)
      assert.matches('delete token "ci" ' .. tok.id .. ' (expires in 24 hours) of system account "' .. NAME .. '" (' ..
        SA .. ")? [y/N] ", r.err, 1, true)
      assert(admin:get_sa_token(SA, tok.id))
      r = cli({ "delete", "ci", "--system-account", SA }, { tty = TTY, input = "y\n" })
      assert.equal(0, r.code, r.err)
      assert.matches(" of system account " .. SA .. "? [y/N] ", r.err, 1, true)
      assert.equal("not_found", select(2, admin:get_sa_token(SA, tok.id)).kind)
    end)

    it("prune shows the table (STATE -), and deletes what it showed and no other", function()
      local a = assert(admin:create_sa_token(SA, { name = "a", ttl_seconds = DAY }))
      local b = assert(admin:create_sa_token(SA, { name = "b", ttl_seconds = DAY }))
      fake.expire(a.id)
      -- b expires while the question waits: not shown, so not deleted
      local r = cli({ "prune", "--system-account", NAME }, { tty = TTY, input = "yes\n",
        on_read = function() fake.expire(b.id) end })
      assert.equal(0, r.code, r.err)
      assert.matches('prune would delete this token of system account "' .. esc(NAME) .. '" %(' .. esc(SA) .. '%):\n' ..
        "NAME +ID +STATE +EXPIRES +LAST USED\na +" .. esc(a.id) .. " +%- ", r.err)
      assert.matches("^deleted 1 token:\n", r.out)
      assert.equal("not_found", select(2, admin:get_sa_token(SA, a.id)).kind)
      assert(admin:get_sa_token(SA, b.id))
    end)
  end)
end)
