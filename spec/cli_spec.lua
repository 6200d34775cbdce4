-- konnect-pats: the CLI (konnect.cli) driven in-process, argument vector in,
-- exit status + stdout + stderr out, against the fake Konnect server; a few
-- tests run bin/konnect-pats as a real process ($KONNECT_TEST_LUA, default
-- lua5.4) for what only a process shows: exit statuses, the stub, --help.
local cjson = require "cjson"
local fake = require "support.fake"

local ALICE, BOB = fake.ALICE, fake.BOB
local NO_SUCH = "00000000-0000-4000-8000-00000000f00d"
local DAY = 86400

local function esc(s) return (s:gsub("%p", "%%%0")) end -- literal text in a pattern

local h = require "support.cli"
local q, slurp, spit, sh, cli, process, CLI = h.q, h.slurp, h.spit, h.sh, h.cli, h.process, h.CLI
local file_mode = h.file_mode

local function ok(r, what)
  assert(r.code == 0, (what or "konnect-pats") .. " exited " .. tostring(r.code) .. ": " .. r.err)
  return r
end

local function decode(s)
  local v = cjson.decode(s)
  assert.is_table(v, "expected one JSON document, got " .. s)
  return v
end

-- the CLI's error line: konnect-pats: <kind> (<status>): <message> [trace id]
local function error_line(r, kind, status)
  local pattern = "konnect%-pats: " .. kind .. (status and (" %(" .. status .. "%)") or "") .. ": [^\n]+\n"
  local line = r.err:match(pattern .. "$") or r.err:match("^" .. pattern)
  assert(line, "expected a " .. kind .. " error line, stderr was: " .. r.err)
  return line
end

local rfc3339 = require("konnect.time").rfc3339

local function lifetime(tok) return rfc3339(tok.expires_at) - rfc3339(tok.created_at) end

local function without(t, key)
  local o = {}
  for k, v in pairs(t) do if k ~= key then o[k] = v end end
  return o
end

local function posts() return fake.count("POST /v3/users/" .. ALICE .. "/access-tokens") end

-- every test of a describe block: the fake reset, a fresh client and an empty
-- directory, handed to set(client, dir); the directory removed afterwards
local function each_test(set) h.per_test(before_each, after_each, set) end

local COMMANDS = { "whoami", "list", "get", "create", "rename", "revoke", "delete", "rotate", "find", "prune", "users",
                   "system-accounts", "audit" }

describe("konnect-pats", function()
  local client, dir
  each_test(function(c, d) client, dir = c, d end)

  describe("help", function()
    it("--help documents the commands, the options and the exit statuses, and exits 0", function()
      for _, args in ipairs { { "--help" }, { "-h" }, { "help" } } do
        local r = ok(cli(args, { env = { KONNECT_TOKEN = false } }))
        assert.equal("", r.err)
        for _, c in ipairs(COMMANDS) do assert.matches("\n  " .. c .. " ", r.out, 1, true) end
        for _, opt in ipairs { "--json", "--server", "--ca-file", "--timeout", "--token-file", "KONNECT_TOKEN" } do
          assert.matches(opt, r.out, 1, true)
        end
        assert.matches("exit status", r.out, 1, true)
        for code = 0, 5 do assert.matches("\n  " .. code .. "  ", r.out, 1, true) end
      end
    end)

    it("every subcommand has --help, exit 0, without a token or a server", function()
      for _, c in ipairs(COMMANDS) do
        for _, args in ipairs { { c, "--help" }, { "help", c }, { "--help", c } } do
          local r = ok(cli(args, { env = { KONNECT_TOKEN = false, KONNECT_SERVER_URL = "http://127.0.0.1:1" } }))
          assert.matches("^usage: konnect%-pats " .. c:gsub("%-", "%%-"), r.out)
          assert.equal("", r.err)
        end
      end
      assert.matches("--secret-file", cli({ "create", "--help" }).out, 1, true)
      assert.matches("--secret-file", cli({ "rotate", "--help" }).out, 1, true)
      assert.equal(0, fake.requests().total)
    end)

    it("no command: the help on stderr, exit 2; --version exits 0", function()
      local r = cli({})
      assert.equal(2, r.code)
      assert.equal("", r.out)
      assert.matches("usage: konnect-pats", r.err, 1, true)
      r = ok(cli({ "--version" }))
      assert.matches("^konnect%-pats %(lua%-konnect %d+%.%d+%.%d+", r.out)
    end)
  end)

  describe("the access token", function()
    it("--token is refused with the reason, and its value is never echoed", function()
      for _, args in ipairs {
        { "--token", "kpat_on_the_command_line", "list" },
        { "list", "--token=kpat_on_the_command_line" },
        { "whoami", "--token", "kpat_on_the_command_line" },
      } do
        local r = cli(args)
        assert.equal(2, r.code)
        assert.equal("", r.out)
        assert.matches("--token is refused", r.err, 1, true)
        assert.matches("KONNECT_TOKEN", r.err, 1, true)
        assert.matches("--token-file", r.err, 1, true)
        assert.matches("shell history", r.err, 1, true)
        assert.not_matches("kpat_on_the_command_line", r.err, 1, true)
      end
      assert.equal(0, fake.requests().total)
    end)

    it("without KONNECT_TOKEN or --token-file: usage error (2) before any request", function()
      local r = cli({ "list" }, { env = { KONNECT_TOKEN = false } })
      assert.equal(2, r.code)
      assert.matches("KONNECT_TOKEN", r.err, 1, true)
      assert.equal(0, fake.requests().total)
    end)

    it("--token-file: the file's trimmed contents, preferred to KONNECT_TOKEN", function()
      local path = dir .. "/token"
      spit(path, "  " .. fake.ALICE_TOKEN .. "\n\n")
      local r = ok(cli({ "whoami", "--json", "--token-file", path }, { env = { KONNECT_TOKEN = fake.BOB_TOKEN } }))
      assert.equal(ALICE, decode(r.out).id)
      r = ok(cli({ "--token-file=" .. path, "whoami", "--json" }, { env = { KONNECT_TOKEN = false } }))
      assert.equal(ALICE, decode(r.out).id)
    end)

    it("--token-file that is missing or empty: usage error (2)", function()
      local r = cli({ "whoami", "--token-file", dir .. "/nope" })
      assert.equal(2, r.code)
      spit(dir .. "/empty", " \n")
      r = cli({ "whoami", "--token-file", dir .. "/empty" })
      assert.equal(2, r.code)
      assert.matches("empty", r.err, 1, true)
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("whoami", function()
    it("shows the user; --json is the API's user object", function()
      local r = ok(cli({ "whoami" }))
      assert.matches(ALICE, r.out, 1, true)
      assert.matches("alice@example.test", r.out, 1, true)
      r = ok(cli({ "whoami", "--json" }))
      assert.same(assert(client:me()), decode(r.out))
    end)
  end)

  describe("list", function()
    it("a readable table: NAME, ID, STATE, EXPIRES, LAST USED", function()
      local a = assert(client:create(ALICE, { name = "ci", ttl_seconds = 30 * DAY }))
      local b = assert(client:create(ALICE, { name = "déploiement nocturne", ttl_seconds = DAY }))
      assert(fake.client { token = b.konnect_token }:me()) -- b was used just now
      local r = ok(cli({ "list" }))
      local lines = {}
      for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal(3, #lines)
      assert.matches("^NAME +ID +STATE +EXPIRES +LAST USED$", lines[1])
      -- soonest to expire first (list's default order)
      assert.matches("^déploiement nocturne  " .. esc(b.id) .. "  ACTIVE  in 24 hours +just now$", lines[2])
      assert.matches("^ci +" .. esc(a.id) .. "  ACTIVE  in 30 days +never$", lines[3])
      -- columns line up (counting characters, not bytes)
      local col = lines[1]:find("ID", 1, true)
      assert.equal(col, (lines[3]:find(a.id, 1, true)))
      local prefix = lines[2]:sub(1, lines[2]:find(b.id, 1, true) - 1)
      assert.equal(col - 1, #(prefix:gsub("[\128-\191]", "")), "characters, not bytes")
    end)

    it("shows expired and revoked tokens as such", function()
      local a = assert(client:create(ALICE, { name = "gone", ttl_seconds = DAY }))
      local b = assert(client:create(ALICE, { name = "stopped", ttl_seconds = DAY }))
      fake.expire(a.id)
      assert(client:revoke(ALICE, b.id))
      local r = ok(cli({ "list", ALICE }))
      local ago = r.out:match("gone +" .. esc(a.id) .. "  EXPIRED  ([%w ]-)  ")
      assert.is_truthy(ago == "just now" or ago and ago:match(" ago$"), r.out)
      assert.matches("stopped +" .. esc(b.id) .. "  REVOKED", r.out)
    end)

    it("--json is the array of the API's token objects, for me or an explicit user", function()
      assert(client:create(ALICE, { name = "one", ttl_seconds = DAY }))
      assert(client:create(ALICE, { name = "two", ttl_seconds = 2 * DAY }))
      local want = assert(client:list(ALICE)).data
      for _, args in ipairs { { "list", "--json" }, { "--json", "list", ALICE }, { "list", "me", "--json" } } do
        local r = ok(cli(args))
        assert.same(want, decode(r.out))
        assert.equal(1, select(2, r.out:gsub("\n", "")), "one JSON document on one line")
      end
    end)

    it("an empty list: [] in JSON", function()
      local r = ok(cli({ "list", "--json" }))
      assert.equal("[]\n", r.out)
      r = ok(cli({ "list" }))
      assert.equal("(no tokens)\n", r.out)
    end)
  end)

  describe("get", function()
    it("shows one token; --json is the API's token object", function()
      local t = assert(client:create(ALICE, { name = "ci", ttl_seconds = 7 * DAY }))
      local r = ok(cli({ "get", "me", t.id }))
      assert.matches("NAME +ci\n", r.out)
      assert.matches("ID +" .. esc(t.id), r.out)
      assert.matches("STATE +ACTIVE", r.out)
      assert.matches("EXPIRES +%S+ %(in 7 days%)", r.out)
      assert.matches("LAST USED +never", r.out)
      r = ok(cli({ "get", ALICE, t.id, "--json" }))
      assert.same(assert(client:get(ALICE, t.id)), decode(r.out))
    end)
  end)

  describe("create", function()
    it("prints the secret alone on stdout, a summary on stderr", function()
      local r = ok(cli({ "create", "--name", "ci", "--ttl", "30d" }))
      local secret = r.out:match("^(kpat_%w+)\n$")
      assert.is_string(secret, "stdout must be the secret alone: " .. r.out)
      assert.not_matches(secret, r.err, 1, true)
      local found = assert(client:find_by_name(ALICE, "ci"))
      assert.equal(1, #found)
      assert.matches(found[1].id, r.err, 1, true)
      assert.matches("in 30 days", r.err, 1, true)
      assert.is_true(math.abs(lifetime(found[1]) - 30 * DAY) <= 2)
      -- the secret works
      local me = ok(cli({ "whoami", "--json" }, { env = { KONNECT_TOKEN = secret } }))
      assert.equal(ALICE, decode(me.out).id)
    end)

    it("for an explicit user; --json is the API object with the secret in konnect_token", function()
      local r = ok(cli({ "create", ALICE, "--json", "--name", "json one", "--ttl", "1d" }))
      local tok = decode(r.out)
      assert.matches("^kpat_%w+$", tok.konnect_token)
      assert.equal("json one", tok.name)
      assert.same(assert(client:get(ALICE, tok.id)), without(tok, "konnect_token"))
      assert.not_matches(tok.konnect_token, r.err, 1, true)
    end)

    it("accepts TTLs as seconds, hours, days, weeks and years", function()
      local cases = { { "86400", DAY }, { "36h", 36 * 3600 }, { "30d", 30 * DAY }, { "2w", 14 * DAY },
                      { "1y", 365 * DAY }, { "31536000", 365 * DAY }, { "365d", 365 * DAY }, { "172800s", 2 * DAY },
                      { " 2 D ", 2 * DAY }, { "3W", 21 * DAY } } -- case and spaces, as a shell quote may keep them
      for i, c in ipairs(cases) do
        local r = ok(cli({ "create", "--name", "ttl" .. i, "--ttl", c[1], "--json" }))
        local tok = decode(r.out)
        assert.is_true(math.abs(lifetime(tok) - c[2]) <= 2, c[1] .. " gave " .. lifetime(tok))
        assert(client:delete(ALICE, tok.id))
      end
    end)

    it("refuses TTLs outside 1 day .. 365 days, or unreadable, with exit 2 and no request", function()
      for _, ttl in ipairs { "86399", "23h", "1h", "366d", "2y", "53w", "0", "abc", "10m", "-1d", "", "1.5d",
                            "30d!", "36h x", "1d1" } do -- nothing may follow the unit
        local r = cli({ "create", "--name", "bad", "--ttl", ttl })
        assert.equal(2, r.code, "--ttl " .. ttl)
        assert.equal("", r.out)
        assert.matches("konnect-pats: usage: --ttl", r.err, 1, true)
      end
      assert.equal(0, fake.requests().total)
    end)

    it("needs --name and --ttl; a name the contract refuses is a usage error (2)", function()
      assert.equal(2, cli({ "create", "--ttl", "1d" }).code)
      assert.equal(2, cli({ "create", "--name", "x1" }).code)
      local r = cli({ "create", "--name", "bad!", "--ttl", "1d" })
      assert.equal(2, r.code)
      error_line(r, "invalid_argument")
      assert.equal(0, fake.requests().total)
    end)

    it("a conflict (the ten-token limit) exits 1", function()
      for i = 1, 10 do assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = DAY })) end
      local r = cli({ "create", "--name", "eleven", "--ttl", "1d" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      assert.matches("%[kong:trace:%d+%]\n$", error_line(r, "conflict", 409))
    end)
  end)

  describe("--secret-file", function()
    it("writes the secret to a new 0600 file, and nothing about it to stdout", function()
      local path = dir .. "/secret"
      local r = ok(cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path }))
      assert.equal("", r.out)
      assert.equal("600", file_mode(path))
      local secret = slurp(path):match("^(kpat_%w+)\n$")
      assert.is_string(secret)
      assert.not_matches(secret, r.err, 1, true)
      assert.matches(path, r.err, 1, true)
      ok(cli({ "whoami", "--token-file", path }, { env = { KONNECT_TOKEN = false } }))
    end)

    it("with --json: the token object without konnect_token", function()
      local path = dir .. "/secret"
      local r = ok(cli({ "create", "--json", "--name", "filed", "--ttl", "1d", "--secret-file", path }))
      local tok = decode(r.out)
      assert.is_nil(tok.konnect_token)
      assert.not_matches("kpat_", r.out, 1, true)
      assert.same(assert(client:get(ALICE, tok.id)), tok)
      assert.equal("600", file_mode(path))
    end)

    it("refuses an existing file (exit 2) before creating any token", function()
      local path = dir .. "/secret"
      spit(path, "precious\n")
      local r = cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path })
      assert.equal(2, r.code)
      assert.matches("already exists", r.err, 1, true)
      assert.matches("--force", r.err, 1, true)
      assert.equal("precious\n", slurp(path))
      assert.equal(0, posts())
    end)

    it("refuses a planted symlink, even a dangling one", function()
      local path, target = dir .. "/link", dir .. "/elsewhere"
      os.execute("ln -s " .. q(target) .. " " .. q(path))
      local r = cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path })
      assert.equal(2, r.code)
      assert.is_nil(slurp(target), "the symlink must not be followed")
      assert.equal(0, posts())
    end)

    it("--force replaces an existing file, which ends up 0600", function()
      local path = dir .. "/secret"
      spit(path, "old\n")
      os.execute("chmod 644 " .. q(path))
      local r = ok(cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path, "--force" }))
      assert.equal("", r.out)
      assert.equal("600", file_mode(path))
      assert.matches("^kpat_%w+\n$", slurp(path))
      local p = io.popen("ls -A " .. q(dir))
      local listing = p:read("*a")
      p:close()
      assert.equal("secret\n", listing, "no temporary file left behind")
    end)

    it("when the API call fails: no file left behind, and --force keeps the old file", function()
      for i = 1, 10 do assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = DAY })) end
      local path = dir .. "/secret"
      local r = cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path })
      assert.equal(1, r.code)
      assert.is_nil(slurp(path))
      spit(path, "old\n")
      r = cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path, "--force" })
      assert.equal(1, r.code)
      assert.equal("old\n", slurp(path))
      local p = io.popen("ls -A " .. q(dir))
      local listing = p:read("*a")
      p:close()
      assert.equal("secret\n", listing)
    end)

    it("a directory that does not exist is a usage error, before any token is created", function()
      local r = cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", dir .. "/no/such/file" })
      assert.equal(2, r.code)
      assert.equal(0, posts())
    end)

    it("is refused by the commands that print no secret", function()
      local r = cli({ "list", "--secret-file", dir .. "/x" })
      assert.equal(2, r.code)
      assert.is_nil(slurp(dir .. "/x"))
    end)
  end)

  describe("rename, revoke, delete, find", function()
    it("get and whoami: one LABEL  value line each, the values in one column two spaces past the longest label",
      function()
        local t = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
        for _, c in ipairs { { { "get", "me", t.id }, "LAST USED", 8 }, { { "whoami" }, "PREFERRED NAME", 7 } } do
          local r = ok(cli(c[1]))
          local col = #c[2] + 3
          local n = 0
          for line in r.out:gmatch("([^\n]*)\n") do
            n = n + 1
            local label, gap = line:match("^(%u[%u ]-)(  +)%S")
            assert(label, "a LABEL  value line: " .. line)
            assert.equal(col, #label + #gap + 1, line)
          end
          assert.equal(c[3], n, r.out)
          assert.matches("\n" .. c[2] .. "  %S", r.out)
        end
      end)

    it("rename: --json is the updated object", function()
      local t = assert(client:create(ALICE, { name = "before", ttl_seconds = DAY }))
      local r = ok(cli({ "rename", "me", t.id, "after name" }))
      assert.matches('to "after name"', r.out, 1, true)
      assert.equal("after name", assert(client:get(ALICE, t.id)).name)
      r = ok(cli({ "rename", ALICE, t.id, "third", "--json" }))
      assert.same(assert(client:get(ALICE, t.id)), decode(r.out))
    end)

    it("revoke: the token is REVOKED; --json is the revoked object", function()
      local t = assert(client:create(ALICE, { name = "victim", ttl_seconds = DAY }))
      local r = ok(cli({ "revoke", "me", t.id }))
      assert.matches("revoked", r.out, 1, true)
      assert.equal("REVOKED", assert(client:get(ALICE, t.id)).state)
      local _, err = fake.client { token = t.konnect_token }:me()
      assert.equal("unauthorized", err.kind)
      r = ok(cli({ "revoke", ALICE, t.id, "--json" }))
      assert.same(assert(client:get(ALICE, t.id)), decode(r.out))
    end)

    it("delete: the token is gone; a second delete is a 404 (exit 1)", function()
      local t = assert(client:create(ALICE, { name = "victim", ttl_seconds = DAY }))
      local before = assert(client:get(ALICE, t.id))
      local r = ok(cli({ "delete", "me", t.id, "--json" }))
      assert.same(before, decode(r.out))
      local _, err = client:get(ALICE, t.id)
      assert.equal("not_found", err.kind)
      r = cli({ "delete", "me", t.id })
      assert.equal(1, r.code)
      error_line(r, "not_found", 404)
    end)

    it("find: every token with the name; --json an array ([] for none)", function()
      assert(client:create(ALICE, { name = "dup", ttl_seconds = DAY }))
      assert(client:create(ALICE, { name = "other", ttl_seconds = DAY }))
      assert(client:create(ALICE, { name = "dup", ttl_seconds = 2 * DAY }))
      local r = ok(cli({ "find", "me", "dup", "--json" }))
      assert.same(assert(client:find_by_name(ALICE, "dup")), decode(r.out))
      assert.equal(2, #decode(r.out))
      r = ok(cli({ "find", ALICE, "dup" }))
      assert.equal(3, select(2, r.out:gsub("\n", "")))
      assert.not_matches("other", r.out, 1, true)
      r = ok(cli({ "find", "me", "nothing", "--json" }))
      assert.equal("[]\n", r.out)
      r = ok(cli({ "find", "me", "nothing" }))
      assert.matches("no tokens named", r.out, 1, true)
    end)
  end)

  describe("rotate", function()
    it("prints the new secret alone, deletes the old token (the default), keeps name and lifetime", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = 14 * DAY }))
      local r = ok(cli({ "rotate", "me", old.id }))
      local secret = r.out:match("^(kpat_%w+)\n$")
      assert.is_string(secret, r.out)
      assert.not_matches(secret, r.err, 1, true)
      local _, err = client:get(ALICE, old.id)
      assert.equal("not_found", err.kind)
      local list = assert(client:find_by_name(ALICE, "ci"))
      assert.equal(1, #list)
      local new = list[1]
      assert.equal("ACTIVE", new.state)
      assert.is_true(math.abs(lifetime(new) - 14 * DAY) <= 2)
      assert.matches(new.id, r.err, 1, true)
      ok(cli({ "whoami" }, { env = { KONNECT_TOKEN = secret } }))
    end)

    it("--old revoke: the old token stays listed, REVOKED", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = 14 * DAY }))
      local r = ok(cli({ "rotate", old.id, "--old", "revoke" }))
      assert.matches("old token " .. esc(old.id) .. " revoked", r.err)
      assert.equal("REVOKED", assert(client:get(ALICE, old.id)).state)
      local list = assert(client:find_by_name(ALICE, "ci"))
      assert.equal(2, #list)
      local new = list[1].id == old.id and list[2] or list[1]
      assert.equal("ACTIVE", new.state)
      assert.is_true(math.abs(lifetime(new) - 14 * DAY) <= 2)
    end)

    it("--name, --ttl and --json", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      local r = ok(cli({ "rotate", ALICE, old.id, "--name", "ci v2", "--ttl", "2w", "--json" }))
      local tok = decode(r.out)
      assert.equal("ci v2", tok.name)
      assert.matches("^kpat_", tok.konnect_token)
      assert.is_true(math.abs(lifetime(tok) - 14 * DAY) <= 2)
      assert.same(assert(client:get(ALICE, tok.id)), without(tok, "konnect_token"))
    end)

    it("with --secret-file: the new secret only in the 0600 file", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      local path = dir .. "/new-secret"
      local r = ok(cli({ "rotate", "me", old.id, "--secret-file", path }))
      assert.equal("", r.out)
      assert.equal("600", file_mode(path))
      local secret = slurp(path):match("^(kpat_%w+)\n$")
      assert.not_matches(secret, r.err, 1, true)
      ok(cli({ "whoami" }, { env = { KONNECT_TOKEN = secret } }))
    end)

    it("a refused revoke (403): the new secret is printed, the error on stderr, exit 1", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 403 }
      local r = cli({ "rotate", "me", old.id })
      assert.equal(1, r.code)
      local secret = r.out:match("^(kpat_%w+)\n$")
      assert.is_string(secret, "the new secret must not be lost: " .. r.out)
      assert.not_matches(secret, r.err, 1, true)
      local line = error_line(r, "forbidden", 403)
      assert.matches("revoking the old one failed", line, 1, true)
      assert.matches("%[kong:trace:%d+%]\n$", line)
      assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
      local me = ok(cli({ "whoami", "--json" }, { env = { KONNECT_TOKEN = secret } }))
      assert.equal(ALICE, decode(me.out).id)
    end)

    it("500s exhausting the revoke's retries: the new secret still lands in --secret-file, exit 1", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      fake.fault { method = "PATCH", path = "/revoke$", status = 500, count = 3, retry_after = "0" }
      local path = dir .. "/new-secret"
      local r = cli({ "rotate", "me", old.id, "--secret-file", path, "--json" })
      assert.equal(1, r.code)
      -- with --json the error is one JSON object on stderr (CLI v2)
      local e = decode(r.err)
      assert.equal("server", e.kind)
      assert.equal(500, e.status)
      local tok = decode(r.out)
      assert.is_nil(tok.konnect_token)
      assert.equal("600", file_mode(path))
      local secret = slurp(path):match("^(kpat_%w+)\n$")
      assert.is_string(secret)
      assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
      assert.equal(3, fake.count("PATCH /v3/users/" .. ALICE .. "/access-tokens/" .. old.id .. "/revoke"))
      ok(cli({ "whoami" }, { env = { KONNECT_TOKEN = secret } }))
    end)

    it("a token that does not exist: exit 1, nothing created", function()
      local r = cli({ "rotate", "me", NO_SUCH })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      error_line(r, "not_found", 404)
      assert.equal(0, posts())
    end)
  end)

  describe("errors and exit statuses", function()
    it("404: exit 1, one line on stderr with kind, status, message and trace id", function()
      local r = cli({ "get", "me", NO_SUCH })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      assert.matches("^konnect%-pats: not_found %(404%): [^\n]+ %[kong:trace:%d+%]\n$", r.err)
    end)

    it("a server error after the retries: exit 1", function()
      fake.fault { method = "GET", path = "/access%-tokens$", status = 503, count = 3, retry_after = "0" }
      local r = cli({ "list", ALICE })
      assert.equal(1, r.code)
      assert.matches("^konnect%-pats: server %(503%): [^\n]+\n$", r.err)
    end)

    it("401 (unknown token) and 403 (another user's tokens): exit 4", function()
      local r = cli({ "list" }, { env = { KONNECT_TOKEN = "kpat_unknown_token_value" } })
      assert.equal(4, r.code)
      assert.matches("^konnect%-pats: unauthorized %(401%): [^\n]+\n$", r.err)
      assert.not_matches("kpat_unknown_token_value", r.err, 1, true)
      r = cli({ "list", BOB })
      assert.equal(4, r.code)
      assert.matches("^konnect%-pats: forbidden %(403%): [^\n]+\n$", r.err)
    end)

    it("a closed port: exit 3", function()
      local r = cli({ "list" }, { env = { KONNECT_SERVER_URL = "http://127.0.0.1:1" } })
      assert.equal(3, r.code)
      assert.matches("^konnect%-pats: connect: [^\n]+\n$", r.err)
    end)

    it("https without the CA: exit 3; with --ca-file or KONNECT_CA_FILE it works", function()
      local r = cli({ "whoami" }, { env = { KONNECT_SERVER_URL = fake.https } })
      assert.equal(3, r.code)
      assert.matches("^konnect%-pats: tls: [^\n]+\n$", r.err)
      ok(cli({ "whoami", "--ca-file", fake.ca }, { env = { KONNECT_SERVER_URL = fake.https } }))
      ok(cli({ "whoami", "--server", fake.https }, { env = { KONNECT_CA_FILE = fake.ca, KONNECT_SERVER_URL = false } }))
    end)

    it("a timeout: exit 3", function()
      fake.fault { method = "GET", path = "^/v3/users/me$", delay = 2, count = 3 }
      local r = cli({ "whoami", "--timeout", "0.3" })
      assert.equal(3, r.code)
      assert.matches("^konnect%-pats: timeout: [^\n]+\n$", r.err)
    end)

    it("an empty KONNECT_SERVER_URL or KONNECT_CA_FILE (a CI variable set to nothing) is as if unset", function()
      -- no request is made: the new name is refused first, so the client must have been made
      for _, env in ipairs { { KONNECT_SERVER_URL = "" }, { KONNECT_CA_FILE = "" } } do
        local r = cli({ "rename", NO_SUCH, "bad!" }, { env = env })
        assert.equal(2, r.code, r.err)
        assert.matches("^konnect%-pats: invalid_argument: name may only contain ", r.err)
      end
      assert.equal(0, fake.requests().total)
    end)

    it("usage errors: exit 2, before any request", function()
      local cases = {
        { "frobnicate" },
        { "list", "--frob" },
        { "list", "me", "extra" },
        { "get" },
        { "get", "me", "not a name!" },
        { "get", "-x-" },
        { "get", "someone", NO_SUCH },
        { "get", NO_SUCH, "--user", "someone" },
        { "rename", NO_SUCH },
        { "whoami", "--user", ALICE },
        { "list", "me", "--user", ALICE },
        { "list", "--name", "x1" },
        { "list", "--ttl", "1d" },
        { "create", "--name", "x1", "--ttl", "1d", "--force" },
        { "list", "--timeout", "soon" },
        { "list", "--timeout" },
        { "list", "--server", "http://konnect.example.com" },
        { "list", "--server", "ftp://127.0.0.1" },
        { "list", "--ca-file", "/no/such/ca.pem" },
        { "list", "--timeout", "86401" },
        { "list", "--timeout", "0" },
        { "list", "--timeout", "inf" },
        { "list", "--proxy-from-env=yes" },
      }
      for _, args in ipairs(cases) do
        local r = cli(args)
        assert.equal(2, r.code, table.concat(args, " ") .. ": " .. r.err)
        assert.equal("", r.out)
        assert.matches("^konnect%-pats: [^\n]+\n$", r.err)
      end
      -- a bad option value: the command's own --help named
      assert.equal("konnect-pats: usage: --sort takes expires, name or created, got size " ..
        "(see 'konnect-pats list --help')\n", cli({ "list", "--sort", "size" }).err)
      -- too few arguments: the command's usage line
      assert.matches("^konnect%-pats: usage: too few arguments: get TOKEN ", cli({ "get" }).err)
      assert.matches("^konnect%-pats: usage: too few arguments: rename TOKEN NEWNAME ", cli({ "rename", "x1" }).err)
      -- an option's missing value: the option named first, then where to read more
      for _, o in ipairs { "--timeout", "-o", "--user" } do
        assert.equal("konnect-pats: usage: " .. o .. " needs a value (see 'konnect-pats --help')\n",
          cli({ "list", o }).err)
      end
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("secrets", function()
    it("appear only where they should: never on stderr, nor in any other command's output", function()
      local created = ok(cli({ "create", "--name", "ci", "--ttl", "1d" }))
      local secret = created.out:match("^(kpat_%w+)\n$")
      local t = assert(client:find_by_name(ALICE, "ci"))[1]
      local outputs = { created.err }
      for _, args in ipairs {
        { "list" }, { "list", "--json" }, { "get", "me", t.id }, { "get", "me", t.id, "--json" },
        { "find", "me", "ci" }, { "find", "me", "ci", "--json" }, { "whoami" }, { "whoami", "--json" },
        { "rename", "me", t.id, "ci2", "--json" }, { "revoke", "me", t.id, "--json" }, { "revoke", "me", t.id },
        { "get", "me", NO_SUCH }, { "list", "--help" }, { "--help" },
      } do
        local r = cli(args)
        outputs[#outputs + 1] = r.out
        outputs[#outputs + 1] = r.err
      end
      -- also when the secret is the credential in use
      local r = cli({ "list", "--json" }, { env = { KONNECT_TOKEN = secret } })
      assert.equal(4, r.code) -- revoked above
      outputs[#outputs + 1] = r.out
      outputs[#outputs + 1] = r.err
      for _, s in ipairs(outputs) do
        assert.not_matches(secret, s, 1, true)
        assert.not_matches("kpat_", s, 1, true)
      end
    end)
  end)

  describe("answers of the wrong shape", function()
    it("a list answer that is not a list: decode error, exit 3, never \"(no tokens)\"", function()
      for _, body in ipairs { '{"meta":{}}', '[]', '{"data":{"a":1}}', '{"data":"x"}', '{"data":[1,2]}',
                              '"just a string"', '42', '{"data":[{"id":"x"},"y"]}' } do
        fake.fault { method = "GET", path = "/access%-tokens$", body = body }
        local r = cli({ "list" })
        assert.equal(3, r.code, body .. ": " .. r.err)
        assert.equal("", r.out, body)
        assert.matches("^konnect%-pats: decode[^\n]*: [^\n]+\n$", r.err)
        fake.fault { method = "GET", path = "/access%-tokens$", body = body }
        r = cli({ "list", "--json" })
        assert.equal(3, r.code, body)
      end
    end)

    it("get, whoami, find, rename, revoke: a wrong shape is one error line, never a traceback", function()
      local t = assert(client:create(ALICE, { name = "shape", ttl_seconds = DAY }))
      local cases = {
        { { "get", "me", t.id }, "GET", "/access%-tokens/", '[1,2,3]' },
        { { "get", "me", t.id, "--json" }, "GET", "/access%-tokens/", '"a string"' },
        { { "whoami" }, "GET", "/users/me$", '[{"id":1}]' },
        { { "whoami", "--json" }, "GET", "/users/me$", '7' },
        { { "find", "me", "shape" }, "GET", "/access%-tokens$", '{"data":{"name":"shape"}}' },
        { { "find", "me", "shape" }, "GET", "/access%-tokens$", '{"data":["shape"]}' },
        { { "rename", "me", t.id, "new name" }, "PATCH", "/access%-tokens/", '["x"]' },
        { { "revoke", "me", t.id }, "PATCH", "/revoke$", 'true' },
      }
      for _, c in ipairs(cases) do
        fake.fault { method = c[2], path = c[3], body = c[4] }
        local r = cli(c[1])
        local what = table.concat(c[1], " ") .. " <- " .. c[4]
        assert.is_true(r.code == 1 or r.code == 3, what .. ": exit " .. tostring(r.code))
        assert.equal("", r.out, what)
        if c[1][#c[1]] == "--json" then -- one JSON object (CLI v2)
          assert.equal("decode", decode(r.err).kind, what)
        else
          assert.matches("^konnect%-pats: [^\n]+\n$", r.err, what)
        end
        assert.not_matches("traceback", r.err, 1, true)
        assert.not_matches("%.lua:%d+:", r.err, what)
      end
    end)

    it("each command's own request refused (409): the server's error line, exit 1, nothing on stdout", function()
      local t = assert(client:create(ALICE, { name = "refused", ttl_seconds = DAY }))
      local cases = {
        { { "whoami" }, "GET", "/users/me$" },
        { { "list" }, "GET", "/access%-tokens$" },
        { { "find", "me", "refused" }, "GET", "/access%-tokens$" },
        { { "get", "me", t.id }, "GET", "/access%-tokens/" },
        { { "rename", "me", t.id, "new name" }, "PATCH", "/access%-tokens/" },
        { { "revoke", "me", t.id }, "PATCH", "/revoke$" },
        { { "delete", "me", t.id }, "GET", "/access%-tokens/" },
        { { "delete", "me", t.id }, "DELETE", "/access%-tokens/" },
        { { "prune" }, "GET", "/access%-tokens$" },
      }
      for _, c in ipairs(cases) do
        fake.fault { method = c[2], path = c[3], status = 409 }
        local r = cli(c[1])
        local what = table.concat(c[1], " ") .. " <- " .. c[2] .. " 409"
        assert.equal(1, r.code, what .. ": " .. r.err)
        assert.equal("", r.out, what)
        assert.matches("^konnect%-pats: conflict %(409%): [^\n]+\n$", r.err, what)
      end
      local now = assert(client:get(ALICE, t.id))
      assert.equal("refused", now.name)
      assert.equal("ACTIVE", now.state)
    end)

    -- (konnect.operations refuses a created token without a usable secret: kind decode, exit 3)
    local UNUSABLE = "konnect-pats: decode (201): the server created a token (00000000-0000-4000-8000-000000000001) " ..
      "but its konnect_token (the secret) is missing or unusable, so the token cannot be used: delete it and " ..
      "create another\n"

    it("create whose answer carries no secret: exit 3 (decode), the secret file removed", function()
      local path = dir .. "/secret"
      fake.fault { method = "POST", path = "/access%-tokens$", status = 201,
                   body = '{"id":"00000000-0000-4000-8000-000000000001","name":"x"}' }
      local r = cli({ "create", "--name", "nosecret", "--ttl", "1d", "--secret-file", path })
      assert.equal(3, r.code)
      assert.equal(UNUSABLE, r.err)
      assert.is_nil(slurp(path))
    end)

    it("rotate whose new token's answer carries no secret: exit 3, the error says so, the old token untouched",
      function()
        local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
        fake.fault { method = "POST", path = "/access%-tokens$", status = 201,
                     body = '{"id":"00000000-0000-4000-8000-000000000001","name":"ci"}' }
        local r = cli({ "rotate", "me", old.id })
        assert.equal(3, r.code, r.err)
        assert.equal("", r.out)
        assert.equal(UNUSABLE, r.err)
        assert.equal("ACTIVE", assert(client:get(ALICE, old.id)).state)
      end)

    it("create whose secret holds white space or a control character: no usable secret, exit 3, none printed",
      function()
        for _, secret in ipairs { "kpat_fake one two", "kpat_fake\tx", "kpat_fake\nx", "", 42, "Bearer kpat_fake_x" } do
          fake.fault { method = "POST", path = "/access%-tokens$", status = 201,
                       body = cjson.encode { id = "00000000-0000-4000-8000-000000000001", name = "x",
                                             konnect_token = secret } }
          local r = cli({ "create", "--name", "badsecret", "--ttl", "1d" })
          assert.equal(3, r.code, tostring(secret))
          assert.equal("", r.out, tostring(secret))
          assert.equal(UNUSABLE, r.err)
        end
      end)
  end)

  describe("never raises", function()
    it("main closes its client: runs in one process leave no connection or descriptor open", function()
      -- this process's sockets and event descriptors (popen's shell is its
      -- child: $PPID; not its pipes: popen's own may show one end, both, or a
      -- vanishing one, as the fork races the parent closing the write end); the
      -- collector stopped, so that only main's own close can free them
      local function fds()
        local p = io.popen("ls -l /proc/$PPID/fd | grep -c -e socket: -e anon_inode:")
        local n = p:read("*n")
        p:close()
        return n
      end
      collectgarbage()
      collectgarbage("stop")
      local before = fds()
      for _ = 1, 5 do ok(cli({ "whoami" })) end
      assert.equal(1, cli({ "get", "me", NO_SUCH }).code) -- a 404: closed on the error path too
      local after = fds()
      collectgarbage("restart")
      assert.equal(before, after)
    end)

    it("an unexpected Lua error is one line and exit 1, without the token", function()
      local outb, errb = {}, {}
      local code = require("konnect.cli").main({ "whoami" }, {
        stdout = { write = function(_, ...) outb[#outb + 1] = table.concat({ ... }) end },
        stderr = { write = function(_, ...) errb[#errb + 1] = table.concat({ ... }) end },
        getenv = function(k)
          if k == "KONNECT_TOKEN" then return fake.ALICE_TOKEN end
          error("environment exploded near " .. fake.ALICE_TOKEN)
        end,
      })
      local err = table.concat(errb)
      assert.equal(1, code)
      assert.equal("", table.concat(outb))
      assert.matches("^konnect%-pats: system: internal error: [^\n]+\n$", err)
      assert.not_matches(fake.ALICE_TOKEN, err, 1, true)
      assert.equal(0, fake.requests().total)
    end)

    it("an unexpected Lua error that only mentions \"interrupted!\" is no Ctrl-C: internal error, exit 1", function()
      local errb = {}
      local code = require("konnect.cli").main({ "whoami" }, {
        stdout = { write = function() end },
        stderr = { write = function(_, ...) errb[#errb + 1] = table.concat({ ... }) end },
        getenv = function(k)
          if k == "KONNECT_TOKEN" then return fake.ALICE_TOKEN end
          error("read interrupted! (a bug, not a signal)")
        end,
      })
      assert.equal(1, code)
      assert.matches("^konnect%-pats: system: internal error: [^\n]*interrupted! %(a bug, not a signal%)\n$",
        table.concat(errb))
    end)

    it("an argument vector that is not strings, or none at all, is no crash", function()
      assert.equal(2, cli({}).code)
      local r = cli({ "list", 42 })
      assert.equal(2, r.code)
      assert.equal(2, require("konnect.cli").main(nil, { stdout = { write = function() end },
        stderr = { write = function() end }, getenv = function() end }))
    end)

    it("exit statuses by error kind: system is 3, as are the network kinds", function()
      local map = require("konnect.cli").EXIT_FOR_KIND
      assert.equal(3, map.system)
      for _, k in ipairs { "timeout", "connect", "tls", "network", "too_large", "decode" } do
        assert.equal(3, map[k])
      end
      assert.equal(2, map.invalid_argument)
      assert.equal(4, map.unauthorized)
      assert.equal(4, map.forbidden)
      for kind in pairs(require("konnect.errors").KINDS) do
        assert.is_true(map[kind] == nil or map[kind] >= 2, kind)
      end
    end)
  end)

  describe("redaction", function()
    it("the access token never appears in stderr, even when the server echoes it (Location)", function()
      fake.fault { method = "GET", path = "^/v3/users/me$", redirect = "http://127.0.0.1:9/?t=" .. fake.ALICE_TOKEN }
      local r = cli({ "whoami" })
      assert.is_true(r.code ~= 0)
      assert.not_matches(fake.ALICE_TOKEN, r.err, 1, true)
      assert.not_matches(fake.ALICE_TOKEN, r.out, 1, true)
    end)

    it("nor in stdout, when the server echoes it in data (a token named like it)", function()
      local name = fake.ALICE_TOKEN:gsub("^kpat_", "x")
      assert(client:create(ALICE, { name = name, ttl_seconds = DAY }))
      local r = cli({ "list" }, { env = { KONNECT_TOKEN = name } })
      assert.not_matches(name, r.out .. r.err, 1, true)
      fake.fault { method = "GET", path = "/access%-tokens$", body = cjson.encode {
        data = { { id = NO_SUCH, name = fake.ALICE_TOKEN, state = "ACTIVE" } }, meta = {} } }
      r = ok(cli({ "list", "--json" }))
      assert.not_matches(fake.ALICE_TOKEN, r.out, 1, true)
    end)
  end)

  describe("--proxy-from-env", function()
    local pats = require "konnect.pats"

    it("passes proxy = \"env\" to the library only when given", function()
      local seen = {}
      local real = pats.new
      pats.new = function(o) seen[#seen + 1] = o.proxy or "none" return real(o) end
      -- a --secret-file that cannot be made stops each run right after pats.new, before any request
      local args = { "create", "--name", "p1", "--ttl", "1d", "--secret-file", dir .. "/no/such/file" }
      local ok1, r1 = pcall(cli, args, { env = { http_proxy = "http://127.0.0.1:9", HTTPS_PROXY = "x" } })
      args[#args + 1] = "--proxy-from-env"
      local ok2, r2 = pcall(cli, args)
      pats.new = real
      assert.is_true(ok1 and ok2)
      assert.equal(2, r1.code)
      assert.equal(2, r2.code)
      assert.same({ "none", "env" }, seen)
      assert.equal(0, fake.requests().total)
    end)

    -- A one-shot proxy in its own process: answers 404 to the first request
    -- and records its request line in `log`.
    local function proxy_server(log)
      local portf = os.tmpname()
      local script = [[
        local socket = require "socket"
        local s = assert(socket.bind("127.0.0.1", 0))
        local _, port = s:getsockname()
        local f = io.open(arg[1], "w") f:write(tostring(port)) f:close()
        s:settimeout(8)
        local c = s:accept()
        if c then
          c:settimeout(2)
          local line = c:receive("*l")
          local o = io.open(arg[2], "w") o:write(line or "?") o:close()
          repeat local l = c:receive("*l") until not l or l == ""
          c:send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
          c:close()
        end
      ]]
      spit(dir .. "/proxy.lua", script)
      spit(portf, "")
      os.execute(h.LUA .. " " .. q(dir .. "/proxy.lua") .. " " .. q(portf) .. " " .. q(log) .. " >/dev/null 2>&1 &")
      local port
      for _ = 1, 100 do
        port = slurp(portf)
        if port and port:match("^%d+$") then break end
        os.execute("sleep 0.02")
      end
      os.remove(portf)
      return "http://127.0.0.1:" .. assert(port)
    end

    it("as a process: without it http_proxy is ignored; with it the request goes through the proxy", function()
      local log = dir .. "/proxy.log"
      local proxy = proxy_server(log)
      local env = { http_proxy = proxy, HTTP_PROXY = proxy, ALL_PROXY = proxy, NO_PROXY = "", no_proxy = "" }
      local r = process({ "whoami", "--timeout", "2" }, { env = env })
      if slurp(log) then
        pending("konnect.core in this tree still reads http_proxy by itself: the fix lands with the core's " ..
          "proxy change (interfaces.md §2); exit " .. tostring(r.code))
        return
      end
      assert.equal(0, r.code, r.err)
      r = process({ "whoami", "--timeout", "2", "--proxy-from-env" }, { env = env })
      local line = slurp(log)
      if not line and r.err:match("proxy") then
        pending("the library in this tree does not resolve proxy = \"env\" yet (interfaces.md §5): " .. r.err)
        return
      end
      assert.is_string(line, "with --proxy-from-env the request goes to the proxy; exit " .. tostring(r.code))
      assert.matches("^GET http://127%.0%.0%.1:%d+/v3/users/me HTTP/1%.1", line)
      assert.equal(1, r.code) -- the proxy's 404
    end)
  end)

  describe("as a process", function()
    it("--help: exit 0, the help on stdout; no command: exit 2", function()
      local r = ok(process({ "--help" }, { env = { KONNECT_TOKEN = false } }))
      assert.matches("^usage: konnect%-pats", r.out)
      assert.matches("--proxy-from-env", r.out, 1, true)
      assert.equal("", r.err)
      r = process({})
      assert.equal(2, r.code)
      assert.matches("usage: konnect-pats", r.err, 1, true)
    end)

    it("exit statuses 0, 1, 2, 3, 4 reach the shell", function()
      assert.equal(0, process({ "list" }).code)
      assert.equal(1, process({ "get", "me", NO_SUCH }).code)
      assert.equal(2, process({ "list", "--frob" }).code)
      assert.equal(3, process({ "list" }, { env = { KONNECT_SERVER_URL = fake.https } }).code) -- no CA: tls
      assert.equal(4, process({ "list" }, { env = { KONNECT_TOKEN = "kpat_unknown_token_value" } }).code)
    end)

    it("--secret-file: the secret only in a new 0600 file", function()
      local path = dir .. "/secret"
      local r = ok(process({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path }))
      assert.equal("", r.out)
      assert.equal("600", file_mode(path))
      assert.matches("^kpat_%w+\n$", slurp(path))
      assert.not_matches("kpat_", r.err, 1, true)
    end)
  end)

  describe("installation", function()
    it("runs from a checkout with no LUA_PATH/LUA_CPATH, from any directory", function()
      local r = ok(process({ "whoami", "--json" }, { cwd = dir, env = { LUA_PATH = false, LUA_CPATH = false } }))
      assert.equal(ALICE, decode(r.out).id)
    end)

    -- (was: fewer than 30 lines; since issue 12 the stub also loads the installed
    -- CLI's precompiled bundle, see spec/cli_bundle_spec.lua)
    it("bin/konnect-pats is a stub of fewer than 50 lines", function()
      local n = 0
      for _ in assert(io.open(CLI, "rb")):lines() do n = n + 1 end
      assert.is_true(n < 50, "bin/konnect-pats has " .. n .. " lines")
    end)

    it("has a portable shebang and is executable", function()
      local f = assert(io.open(CLI, "rb"))
      assert.equal("#!/usr/bin/env lua", f:read("*l"))
      f:close()
      assert.equal(0, sh("test -x " .. q(CLI)))
    end)
  end)
end)

-- CLI v2 (issue 11 item 9)
describe("konnect-pats v2", function()
  local client, dir
  each_test(function(c, d) client, dir = c, d end)

  local function mutations()
    local n = 0
    for route, c in pairs(fake.requests().routes) do
      if not route:match("^GET ") then n = n + c end
    end
    return n
  end

  describe("--user", function()
    it("every command takes --user (default me); the older USER-first form still works", function()
      local t = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      local want = assert(client:list(ALICE)).data
      for _, args in ipairs { { "list", "--json" }, { "list", "--user", ALICE, "--json" },
                              { "list", "--json", "--user=me" }, { "list", ALICE, "--json" } } do
        assert.same(want, decode(ok(cli(args)).out), table.concat(args, " "))
      end
      assert.equal(t.id, decode(ok(cli({ "get", t.id, "--user", ALICE, "--json" })).out).id)
      assert.equal(t.id, decode(ok(cli({ "get", "me", t.id, "--json" })).out).id)
      assert.equal(t.id, decode(ok(cli({ "get", t.id, "--json" })).out).id)
      local r = ok(cli({ "create", "--user", ALICE, "--name", "two", "--ttl", "1d", "--json" }))
      assert.equal(ALICE, decode(r.out).user_id)
      ok(cli({ "rename", t.id, "renamed", "--user", "me" }))
      assert.equal("renamed", assert(client:get(ALICE, t.id)).name)
      r = ok(cli({ "find", "renamed", "--json" }))
      assert.equal(t.id, decode(r.out)[1].id)
    end)

    it("another user's tokens: 403, exit 4", function()
      local r = cli({ "list", "--user", BOB })
      assert.equal(4, r.code)
      error_line(r, "forbidden", 403)
    end)

    it("the user given twice, or to whoami, or not a user id: usage error (2), no request", function()
      for _, args in ipairs { { "list", ALICE, "--user", ALICE }, { "whoami", "--user", ALICE },
                              { "get", NO_SUCH, "--user", "alice" }, { "list", "--user", "" },
                              { "list", "--user" } } do
        local r = cli(args)
        assert.equal(2, r.code, table.concat(args, " ") .. ": " .. r.err)
        assert.equal("", r.out)
      end
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("TOKEN by name", function()
    it("get, rename, revoke, delete by the token's name", function()
      local t = assert(client:create(ALICE, { name = "nightly ci", ttl_seconds = DAY }))
      assert(client:create(ALICE, { name = "other", ttl_seconds = DAY }))
      assert.equal(t.id, decode(ok(cli({ "get", "nightly ci", "--json" })).out).id)
      ok(cli({ "rename", "nightly ci", "nightly" }))
      assert.equal("nightly", assert(client:get(ALICE, t.id)).name)
      local r = ok(cli({ "revoke", "nightly" }))
      assert.matches(t.id, r.out, 1, true)
      assert.equal("REVOKED", assert(client:get(ALICE, t.id)).state)
      -- the list that found it is the token shown: no second look-up before the DELETE
      local before = fake.requests().routes
      local gets = before["GET /v3/users/" .. ALICE .. "/access-tokens/" .. t.id] or 0
      ok(cli({ "delete", "nightly", "--user", ALICE }))
      assert.equal(gets, fake.requests().routes["GET /v3/users/" .. ALICE .. "/access-tokens/" .. t.id] or 0)
      local _, err = client:get(ALICE, t.id)
      assert.equal("not_found", err.kind)
      assert.equal(1, #assert(client:list(ALICE)).data)
    end)

    it("a name shaped like an id is the id", function()
      local t = assert(client:create(ALICE, { name = "xx", ttl_seconds = DAY }))
      ok(cli({ "get", t.id }))
      assert.equal(0, fake.count("GET /v3/users/" .. ALICE .. "/access-tokens"))
    end)

    it("an ambiguous name: exit 2, the candidates with their ids, nothing changed", function()
      local a = assert(client:create(ALICE, { name = "dup", ttl_seconds = DAY }))
      local b = assert(client:create(ALICE, { name = "dup", ttl_seconds = 2 * DAY }))
      for _, c in ipairs { "get", "revoke", "delete", "rotate" } do
        local r = cli({ c, "dup" })
        assert.equal(2, r.code, c)
        assert.equal("", r.out)
        assert.matches('^konnect%-pats: invalid_argument: 2 tokens are named "dup": .*; give the id of the one '
          .. 'you mean\n$', r.err)
        assert.matches(a.id, r.err, 1, true)
        assert.matches(b.id, r.err, 1, true)
      end
      assert.equal(2, posts()) -- the two made above, no more
      assert.equal(2, mutations())
      local r = cli({ "delete", "dup", "--json" })
      assert.equal(2, r.code)
      assert.equal("", r.out)
      local e = decode(r.err)
      assert.equal("invalid_argument", e.kind)
      assert.equal(2, #e.candidates)
      local ids = { e.candidates[1].id, e.candidates[2].id }
      table.sort(ids)
      local want = { a.id, b.id }
      table.sort(want)
      assert.same(want, ids)
      assert.is_nil(e.candidates[1].konnect_token)
      assert.equal("ACTIVE", assert(client:get(ALICE, a.id)).state)
    end)

    it("a name no token has: not_found, exit 1, nothing changed", function()
      assert(client:create(ALICE, { name = "present", ttl_seconds = DAY }))
      for _, c in ipairs { "get", "revoke", "delete", "rotate" } do
        local r = cli({ c, "absent" })
        assert.equal(1, r.code, c)
        assert.equal("", r.out)
        assert.matches('^konnect%-pats: not_found: no token is named "absent"\n$', r.err)
      end
      local r = cli({ "get", "absent", "--user", ALICE, "--json" })
      assert.equal(1, r.code)
      assert.equal("not_found", decode(r.err).kind)
      assert.equal(1, mutations())
    end)

    it("a new name the contract refuses: exit 2 before the old one is looked up", function()
      assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      local before = fake.requests().total
      for _, args in ipairs { { "rename", "ci", "bad!" }, { "rotate", "ci", "--name", "x" } } do
        local r = cli(args)
        assert.equal(2, r.code, table.concat(args, " "))
        error_line(r, "invalid_argument")
      end
      assert.equal(before, fake.requests().total)
    end)

    it("a TOKEN that is neither an id nor a possible name: usage error (2), no request", function()
      for _, bad in ipairs { "bad!", "-lead", "trail-", ("x"):rep(300) } do
        local r = cli({ "get", "--", bad })
        assert.equal(2, r.code, bad)
        assert.matches("TOKEN must be a token id or a token name", r.err, 1, true)
      end
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("--json errors", function()
    local FIELDS = { "kind", "status", "message", "trace_id", "request_id" }

    it("an API error is one JSON object on stderr; stdout stays empty", function()
      local r = cli({ "get", NO_SUCH, "--json" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      assert.equal(1, select(2, r.err:gsub("\n", "")), "one line")
      local e = decode(r.err)
      assert.equal("not_found", e.kind)
      assert.equal(404, e.status)
      assert.matches("^kong:trace:%d+$", e.trace_id)
      assert.is_string(e.request_id)
      assert.is_string(e.message)
      local log = fake.requests().log
      local last = log[#log]
      if type(last) == "table" and last.request_id then assert.equal(last.request_id, e.request_id) end
    end)

    it("every kind of failure: usage, auth, network, conflict; absent fields are null", function()
      for i = 1, 10 do assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = DAY })) end
      local cases = {
        { { "frobnicate", "--json" }, 2, "invalid_argument" },
        { { "list", "--frob", "--json" }, 2, "invalid_argument" },
        { { "--json" }, 2, "invalid_argument" },
        { { "get", "bad!", "--json" }, 2, "invalid_argument" },
        { { "list", "--json" }, 4, "unauthorized", { KONNECT_TOKEN = "kpat_unknown_token_value" } },
        { { "list", "--json" }, 3, "connect", { KONNECT_SERVER_URL = "http://127.0.0.1:1" } },
        { { "create", "--name", "x1", "--ttl", "1d", "--json" }, 1, "conflict" },
        { { "get", NO_SUCH, "--user", "someone", "--json" }, 2, "invalid_argument" },
      }
      for _, c in ipairs(cases) do
        local raw = {}
        local r = cli(c[1], { env = c[4] })
        local what = table.concat(c[1], " ")
        assert.equal(c[2], r.code, what .. ": " .. r.err)
        assert.equal("", r.out, what)
        assert.equal(1, select(2, r.err:gsub("\n", "")), what .. ": one line: " .. r.err)
        local e = decode(r.err)
        assert.equal(c[3], e.kind, what)
        for _, f in ipairs(FIELDS) do
          raw[f] = r.err:find('"' .. f .. '":', 1, true)
          assert.is_truthy(raw[f], what .. ": field " .. f .. " present (null when absent)")
        end
        assert.not_matches("kpat_", r.err, 1, true)
      end
    end)
  end)

  describe("-v, --verbose and KONNECT_DEBUG=1", function()
    it("print each attempt's log line on stderr, and nothing without them", function()
      local quiet = ok(cli({ "whoami" }))
      assert.not_matches("attempt=", quiet.err, 1, true)
      for _, o in ipairs { { args = { "whoami", "-v" } }, { args = { "--verbose", "whoami" } },
                           { args = { "whoami" }, env = { KONNECT_DEBUG = "1" } } } do
        local r = ok(cli(o.args, { env = o.env }))
        assert.matches("konnect: get%-users%-me GET /v3/users/me %-> 200 attempt=1 [%d.]+ms\n", r.err)
        assert.matches(ALICE, r.out, 1, true)
      end
      assert.not_matches("attempt=", ok(cli({ "whoami" }, { env = { KONNECT_DEBUG = "0" } })).err, 1, true)
    end)

    it("show the retries and the waits between them, redacted", function()
      fake.fault { method = "GET", path = "^/v3/users/me$", status = 503, count = 2, retry_after = "1" }
      local r = ok(cli({ "whoami", "-v" }))
      assert.matches("-> 503 attempt=1", r.err, 1, true)
      assert.matches("-> 503 attempt=2", r.err, 1, true)
      assert.matches("-> 200 attempt=3", r.err, 1, true)
      assert.matches("the server asks to retry after 1", r.err, 1, true)
      local waits = {}
      for s in r.err:gmatch("waited ([%d.]+)s before attempt %d") do waits[#waits + 1] = tonumber(s) end
      assert.equal(2, #waits, r.err)
      for _, w in ipairs(waits) do assert.is_true(w >= 0.9 and w < 10, "wait " .. w) end
      assert.not_matches(fake.ALICE_TOKEN, r.err, 1, true)
    end)

    it("no wait shown before the first attempt of a command's later requests (delete: me, get, delete)", function()
      local t = assert(client:create(ALICE, { name = "two", ttl_seconds = DAY }))
      local r = ok(cli({ "delete", "me", t.id, "-v" }))
      assert.matches("GET /v3/users/[^/]+/access%-tokens/[^\n]* %-> 200 attempt=1", r.err)
      assert.matches("DELETE /v3/users/[^/]+/access%-tokens/[^\n]* %-> 204 attempt=1", r.err)
      assert.not_matches("waited", r.err, 1, true)
    end)

    it("pass on a Retry-After only from the answers the library retries (429, 5xx), not 409 or 499", function()
      for _, status in ipairs { 429, 500 } do
        fake.fault { method = "GET", path = "^/v3/users/me$", status = status, count = 1, retry_after = "0" }
        local r = ok(cli({ "whoami", "-v" }))
        assert.matches("-> " .. status .. " attempt=1", r.err, 1, true)
        assert.matches("konnect: get-users-me: the server asks to retry after 0\n", r.err, 1, true)
      end
      for _, status in ipairs { 409, 499 } do
        fake.fault { method = "GET", path = "^/v3/users/me$", status = status, count = 1, retry_after = "1" }
        local r = cli({ "whoami", "-v" })
        assert.equal(1, r.code, r.err)
        assert.matches("-> " .. status .. " attempt=1", r.err, 1, true)
        assert.not_matches("retry after", r.err, 1, true)
      end
    end)

    it("the access token never appears in them, even echoed by the server", function()
      fake.fault { method = "GET", path = "^/v3/users/me$", redirect = "http://127.0.0.1:9/?t=" .. fake.ALICE_TOKEN }
      local r = cli({ "whoami", "-v" })
      assert.matches("attempt=1", r.err, 1, true)
      assert.not_matches(fake.ALICE_TOKEN, r.err .. r.out, 1, true)
    end)

    it("with --json, each log line is a JSON object of its own, the error the last", function()
      local r = cli({ "get", NO_SUCH, "--json", "-v" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      local lines = {}
      for l in r.err:gmatch("[^\n]+") do lines[#lines + 1] = decode(l) end
      assert.is_true(#lines >= 2)
      assert.matches("attempt=1", lines[1].log, 1, true)
      assert.equal("not_found", lines[#lines].kind)
    end)
  end)

  it("a server's string on the terminal: C0, DEL and C1 controls (U+0080..U+009F) shown as ?, other text kept",
    function()
      local clean = require("konnect.cli.render").clean
      for _, c in ipairs {
        { "plain", "plain" }, { "x\27[31m", "x?[31m" }, { "a\0b\127c", "a?b?c" }, { "l1\nl2\tx", "l1?l2?x" },
        { "\194\128", "?" }, { "n\194\133l", "n?l" }, { "\194\155" .. "31m", "?31m" }, { "\194\159", "?" },
        { "\194\160", "\194\160" }, { "caf\195\169", "caf\195\169" }, { "a-b", "a-b" }, { 42, "42" },
      } do
        assert.equal(c[2], clean(c[1]), tostring(c[1]))
      end
    end)

  describe("relative times", function()
    local relative = require("konnect.cli.render").relative
    local iso = require("konnect.time").iso
    local NOW = 1780000000

    it("minutes under an hour, hours under two days, then days, then years", function()
      local cases = {
        { 30, "in under a minute" }, { -30, "just now" }, { 30 * 60, "in 30 minutes" },
        { 3600, "in 1 hour" }, { 35 * 3600, "in 35 hours" }, { -35 * 3600, "35 hours ago" },
        { 24 * 3600, "in 24 hours" }, { 47 * 3600, "in 47 hours" }, { 2 * DAY, "in 2 days" },
        { 30 * DAY, "in 30 days" }, { 400 * DAY, "in 400 days" }, { -3 * 365 * DAY, "3 years ago" },
      }
      for _, c in ipairs(cases) do
        assert.equal(c[2], relative(iso(NOW + c[1]), NOW), tostring(c[1]))
      end
      assert.equal("soon-ish", relative("soon-ish", NOW))
    end)

    it("a stamp of the next second is \"just now\": os.time() (time(2), a coarse clock) can trail it", function()
      -- last_used_at stamped by the server a moment ago (gettimeofday) may already be in the
      -- second that time(2) has not reached yet: the list said "in under a minute" (flaky)
      assert.equal("just now", relative("2026-05-28T20:26:40.700Z", 1780000000))
      assert.equal("just now", relative("2026-05-28T20:26:41.001Z", 1780000000))
      assert.equal("in under a minute", relative("2026-05-28T20:26:42Z", 1780000000))
      assert.equal("in under a minute", relative("2026-05-28T20:27:10Z", 1780000000))
    end)

    it("a token created for 36h shows \"in 36 hours\"", function()
      local r = ok(cli({ "create", "--name", "short", "--ttl", "36h" }))
      assert.matches("expires in 36 hours", r.err, 1, true)
      assert.matches("ACTIVE  in 36 hours", ok(cli({ "list" })).out, 1, true)
    end)
  end)

  describe("help", function()
    it("documents --user, names as TOKEN, prune, rotate --old, -v and KONNECT_DEBUG; fits 80 columns", function()
      local r = ok(cli({ "--help" }))
      for _, s in ipairs { "--user USER", "token name", "prune", "--old delete|revoke|keep", "-v, --verbose",
                           "KONNECT_DEBUG=1", "one JSON object on stderr" } do
        assert.matches(s, r.out, 1, true)
      end
      local texts = { r.out }
      for name in pairs(require("konnect.cli.help").COMMANDS) do texts[#texts + 1] = ok(cli({ name, "--help" })).out end
      for _, t in ipairs(texts) do
        local n = 0
        for line in t:gmatch("[^\n]*") do
          n = n + 1
          if n > 1 then assert.is_true(#line <= 80, "too wide: " .. line) end
        end
      end
    end)
  end)

  describe("did you mean", function()
    it("an unknown command or option close to a known one gets a suggestion; exit 2", function()
      local cases = {
        { { "lsit" }, "did you mean list?" }, { { "rotat", "x" }, "did you mean rotate?" },
        { { "whomai" }, "did you mean whoami?" }, { { "prnue" }, "did you mean prune?" },
        { { "list", "--jsno" }, "did you mean --json?" }, { { "prune", "--dry" }, "did you mean --dry-run?" },
        { { "list", "--verbos" }, "did you mean --verbose?" },
        { { "get", "x", "--usr", "me" }, "did you mean --user?" },
        { { "prune", "--olderthan", "7d" }, "did you mean --older-than?" },
        { { "rotate", "x", "--old", "delet" }, "did you mean delete?" },
      }
      for _, c in ipairs(cases) do
        local r = cli(c[1])
        assert.equal(2, r.code, table.concat(c[1], " "))
        assert.matches("^konnect%-pats: usage: [^\n]*" .. esc(c[2]) .. "[^\n]*\n$", r.err)
      end
      for _, args in ipairs { { "frobnicate" }, { "list", "--xyzzy" } } do
        local r = cli(args)
        assert.equal(2, r.code)
        assert.not_matches("did you mean", r.err, 1, true)
      end
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("prune", function()
    local function dead_and_alive()
      local alive = assert(client:create(ALICE, { name = "alive", ttl_seconds = DAY }))
      local revoked = assert(client:create(ALICE, { name = "revoked", ttl_seconds = DAY }))
      local expired = assert(client:create(ALICE, { name = "expired", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, revoked.id))
      fake.expire(expired.id)
      return alive, revoked, expired
    end

    local function ids()
      local o = {}
      for _, t in ipairs(assert(client:list(ALICE)).data) do o[#o + 1] = t.name end
      table.sort(o)
      return o
    end

    it("--dry-run lists what would go and deletes nothing", function()
      dead_and_alive()
      local r = ok(cli({ "prune", "--dry-run" }))
      assert.matches("^would delete 2 tokens %(dry run: nothing deleted%):\n", r.out)
      assert.matches("revoked", r.out, 1, true)
      assert.matches("expired", r.out, 1, true)
      assert.not_matches("alive", r.out, 1, true)
      assert.same({ "alive", "expired", "revoked" }, ids())
      assert.equal(4, mutations()) -- the three creates and the revoke above
      r = ok(cli({ "prune", "--dry-run", "--json" }))
      assert.equal(2, #decode(r.out))
      assert.same({ "alive", "expired", "revoked" }, ids())
    end)

    it("deletes the revoked and expired tokens, keeps the active one", function()
      dead_and_alive()
      local r = ok(cli({ "prune", "--json" }))
      assert.equal(2, #decode(r.out))
      assert.same({ "alive" }, ids())
      assert.equal("nothing to prune\n", ok(cli({ "prune" })).out)
    end)

    it("--state revoked (or expired) prunes only those", function()
      dead_and_alive()
      local r = ok(cli({ "prune", "--state", "revoked" }))
      assert.matches("^deleted 1 token:\n", r.out)
      assert.same({ "alive", "expired" }, ids())
      ok(cli({ "prune", "--state=EXPIRED" }))
      assert.same({ "alive" }, ids())
    end)

    it("--older-than keeps what died more recently", function()
      dead_and_alive()
      local r = ok(cli({ "prune", "--older-than", "7d", "--json" }))
      assert.equal("[]\n", r.out)
      assert.same({ "alive", "expired", "revoked" }, ids())
      r = ok(cli({ "prune", "--older-than", "0", "--json" }))
      assert.equal(2, #decode(r.out))
    end)

    it("a delete that fails half way: exit 1, what was deleted is named, stdout empty", function()
      local _, revoked, expired = dead_and_alive()
      -- the list's order is creation order: the revoked token goes first, then the expired one fails
      fake.fault { method = "DELETE", path = "/access%-tokens/" .. esc(expired.id) .. "$", status = 500, count = 3,
                   retry_after = "0" }
      local r = cli({ "prune" })
      assert.equal(1, r.code, r.err)
      assert.equal("", r.out)
      assert.matches("konnect-pats: deleted before the failure: " .. revoked.id .. "\n", r.err, 1, true)
      error_line(r, "server", 500)
      assert.same({ "alive", "expired" }, ids())
      fake.fault { method = "DELETE", path = "/access%-tokens/" .. esc(expired.id) .. "$", status = 500, count = 3,
                   retry_after = "0" }
      assert(client:revoke(ALICE, (assert(client:find_by_name(ALICE, "alive"))[1].id)))
      r = cli({ "prune", "--json" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      local e = decode(r.err)
      assert.equal(1, #e.deleted)
      assert.same({ "expired" }, ids())
    end)

    it("every delete failing: exit 1; with --json one error object on stderr, stdout empty", function()
      dead_and_alive()
      fake.fault { method = "DELETE", path = "/access%-tokens/", status = 500, count = 3, retry_after = "0" }
      local r = cli({ "prune", "--json" })
      assert.equal(1, r.code, r.err)
      assert.equal("", r.out)
      local e = decode(r.err)
      assert.equal("server", e.kind)
      assert.equal(500, e.status)
      assert.matches("pruned 0 of 2", e.message, 1, true)
      assert.same({ "alive", "expired", "revoked" }, ids())
    end)

    it("refuses --state active and unreadable ages before any request (exit 2)", function()
      for _, args in ipairs { { "prune", "--state", "active" }, { "prune", "--state", "revoked,bogus" },
                              { "prune", "--older-than", "7m" }, { "prune", "--older-than", "soon" },
                              { "prune", "--state", "" }, { "list", "--dry-run" }, { "prune", "extra" } } do
        local r = cli(args)
        assert.equal(2, r.code, table.concat(args, " "))
        assert.equal("", r.out)
      end
      assert.matches("never deletes an active token", cli({ "prune", "--state", "active" }).err, 1, true)
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("rotate --old", function()
    it("delete (the default): the old token is gone", function()
      for _, extra in ipairs { {}, { "--old", "delete" } } do
        local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
        local args = { "rotate", old.id }
        for _, a in ipairs(extra) do args[#args + 1] = a end
        local r = ok(cli(args))
        assert.matches("^kpat_%w+\n$", r.out)
        assert.matches("old token " .. esc(old.id) .. " deleted\n", r.err)
        local _, err = client:get(ALICE, old.id)
        assert.equal("not_found", err.kind)
        assert.equal(1, #assert(client:find_by_name(ALICE, "ci")))
        assert(client:delete(ALICE, assert(client:find_by_name(ALICE, "ci"))[1].id))
      end
    end)

    it("revoke keeps it listed as REVOKED; keep leaves it ACTIVE", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      ok(cli({ "rotate", old.id, "--old", "revoke" }))
      assert.equal("REVOKED", assert(client:get(ALICE, old.id)).state)
      local keep = assert(client:create(ALICE, { name = "two phase", ttl_seconds = DAY }))
      local r = ok(cli({ "rotate", "two phase", "--old", "keep", "--json" }))
      assert.equal("two phase", decode(r.out).name)
      assert.equal("ACTIVE", assert(client:get(ALICE, keep.id)).state)
      assert.equal(2, #assert(client:find_by_name(ALICE, "two phase")))
    end)

    it("30 nightly rotations by name never hit the ten-token limit", function()
      assert(client:create(ALICE, { name = "nightly", ttl_seconds = DAY }))
      for i = 1, 30 do
        local r = cli({ "rotate", "nightly" })
        assert.equal(0, r.code, "night " .. i .. ": " .. r.err)
      end
      assert.equal(1, #assert(client:list(ALICE)).data)
    end)

    it("a delete that fails after the new token exists: the secret is printed, exit 1, the error names it", function()
      local old = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
      fake.fault { method = "DELETE", path = "/access%-tokens/", status = 500, count = 3, retry_after = "0" }
      local r = cli({ "rotate", "ci", "--json" })
      assert.equal(1, r.code)
      local tok = decode(r.out)
      assert.matches("^kpat_", tok.konnect_token)
      local e = decode(r.err)
      assert.equal("server", e.kind)
      assert.equal(tok.id, e.new_token_id)
      assert.equal("REVOKED", assert(client:get(ALICE, old.id)).state)
      assert.not_matches(tok.konnect_token, r.err, 1, true)
    end)

    it("a create refused otherwise (400, 403, 500): the server's error, without the prune advice", function()
      for _, c in ipairs { { 400, "bad_request", 1 }, { 403, "forbidden", 1 }, { 500, "server", 3 } } do
        fake.fault { method = "POST", path = "/access%-tokens$", status = c[1], count = c[3], retry_after = "0" }
        local r = cli({ "create", "--name", "refused", "--ttl", "1d" })
        assert.equal("", r.out)
        local line = error_line(r, c[2], c[1])
        assert.not_matches("prune", line, 1, true)
      end
    end)

    it("the ten-token limit: the error says how many are held and points at prune", function()
      for i = 1, 9 do assert(client:create(ALICE, { name = "t" .. i, ttl_seconds = DAY })) end
      local last = assert(client:create(ALICE, { name = "last", ttl_seconds = DAY }))
      assert(client:revoke(ALICE, last.id))
      local r = cli({ "rotate", "t1", "--old", "keep" })
      assert.equal(1, r.code)
      local line = error_line(r, "conflict", 409)
      assert.matches("10 of at most 10", line, 1, true)
      assert.matches("konnect-pats prune", line, 1, true)
      r = cli({ "create", "--name", "x2", "--ttl", "1d", "--json" })
      local e = decode(r.err)
      assert.equal("conflict", e.kind)
      assert.same({ used = 10, limit = 10 }, e.quota)
      ok(cli({ "prune" }))
      ok(cli({ "create", "--name", "x2", "--ttl", "1d" }))
    end)

    it("an unknown mode: usage error (2) before any request", function()
      local r = cli({ "rotate", NO_SUCH, "--old", "shred" })
      assert.equal(2, r.code)
      assert.matches("--old must be delete, revoke or keep", r.err, 1, true)
      assert.equal(0, fake.requests().total)
    end)
  end)

  describe("bash completion", function()
    local script = h.ROOT .. "/completion/konnect-pats.bash"

    local function complete(...)
      local words = { "konnect-pats", ... }
      local qw = {}
      for i, w in ipairs(words) do qw[i] = q(w) end
      local p = io.popen("bash -c " .. q("source " .. q(script) .. "; COMP_WORDS=(" .. table.concat(qw, " ") ..
        "); COMP_CWORD=" .. (#words - 1) .. "; _konnect_pats; printf '%s\\n' \"${COMPREPLY[@]}\"") .. " 2>&1")
      local out = p:read("*a")
      p:close()
      local got = {}
      for l in out:gmatch("[^\n]+") do got[#got + 1] = l end
      table.sort(got)
      return got
    end

    it("completes every command, each command's own options and the values of --old and --state", function()
      local names = {}
      for name in pairs(require("konnect.cli.help").COMMANDS) do names[#names + 1] = name end
      names[#names + 1] = "help"
      table.sort(names)
      assert.same(names, complete(""))
      assert.same({ "list" }, complete("li"))
      assert.same({ "--dry-run" }, complete("prune", "--d"))
      assert.same({ "delete", "keep", "revoke" }, complete("--json", "rotate", "ci", "--old", ""))
      assert.same({ "--old" }, complete("rotate", "x", "--ol"))
      assert.same({}, complete("list", "--ol"))
      assert.same({ "env" }, complete("create", "--name", "ci", "-o", ""))
      assert.same({ "delete", "keep" }, complete("rotate", "ci", "--system-account", "ci-sa", "--old", ""))
      assert.same({ "false", "true" }, complete("users", "--active", ""))
      assert.same({ "--system-account" }, complete("list", "--sys"))
      assert.same({}, complete("revoke", "x", "--sys"))
      assert.same({ "audit" }, complete("au"))
      assert.same({ "system-accounts" }, complete("sys"))
      assert.same({ "--csv" }, complete("audit", "--cs"))
      assert.same({ "env" }, complete("rotate", "ci", "--output", "e"))
      assert.same({ "--yes" }, complete("delete", "ci", "--y"))
      -- every option the CLI takes for a command is offered for it (its short form too), and
      -- every option every command takes (konnect.cli.options)
      local options = require "konnect.cli.options"
      for name, cmd in pairs(options.COMMANDS) do
        local offered = {}
        for _, o in ipairs(complete(name, "-")) do offered[o] = true end
        for o in pairs(cmd.options) do
          assert.is_true(offered["--" .. o], name .. " --" .. o)
          local short = options.OPTIONS[o].short
          if short then assert.is_true(offered[short], name .. " " .. short) end
        end
        for _, o in ipairs(options.global()) do assert.is_true(offered["--" .. o], name .. " --" .. o) end
        -- and nothing the command refuses
        for o in pairs(offered) do
          local long = o:match("^%-%-(.+)$")
          if not long then
            for n, opt in pairs(options.OPTIONS) do if opt.short == o then long = n end end
          end
          assert.is_true(options.OPTIONS[long] ~= nil and (options.OPTIONS[long].global or cmd.options[long] == true),
            name .. " is offered " .. o .. ", which it refuses")
        end
      end
      -- and every option that takes a value has it skipped when the command is looked for
      for o, opt in pairs(options.OPTIONS) do
        for _, form in ipairs { "--" .. o, opt.short } do
          if opt.value then assert.same(names, complete(form, "x", ""), form .. " takes a value") end
        end
      end
    end)

    it("is installed by the rockspec and by make install", function()
      local spec = {}
      local chunk = assert(loadfile(h.ROOT .. "/lua-konnect-scm-1.rockspec", "t", spec))
      if setfenv then setfenv(chunk, spec) end -- luacheck: ignore 113
      chunk()
      local dirs = spec.build.copy_directories or {}
      local found = false
      for _, d in ipairs(dirs) do found = found or d == "completion" end
      assert.is_true(found, "build.copy_directories holds completion")
      -- and every CLI module is in the rockspec
      local p = io.popen("ls " .. q(h.ROOT .. "/lua/konnect/cli"))
      for f in p:lines() do
        local mod = "konnect.cli." .. f:gsub("%.lua$", "")
        assert.equal("lua/konnect/cli/" .. f, spec.build.install.lua[mod], mod) -- a make build: install.lua
      end
      p:close()
      local dest = dir .. "/root"
      assert.equal(0, sh("cd " .. q(h.ROOT) .. " && make -s install LUA=lua5.4 DESTDIR=" .. q(dest) ..
        " PREFIX=/usr >/dev/null 2>&1"))
      assert.equal("644", file_mode(dest .. "/usr/share/bash-completion/completions/konnect-pats"))
    end)
  end)
end)
