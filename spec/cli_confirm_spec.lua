-- konnect-pats delete and prune ask before they delete when stdin is a
-- terminal (unless --yes), and never when it is not: the question on stderr
-- names what goes (never a secret), anything but y or yes deletes nothing
-- (exit 2; with --json the error object with kind invalid_argument and
-- "declined": true), a confirmed prune deletes what it showed and no other.
-- In-process runs are told which streams are terminals; the asking path
-- also runs on a real pseudo-terminal (support.cli's pty, script(1)), the
-- non-asking one with stdin a pipe and /dev/null.
local cjson = require "cjson"
local fake = require "support.fake"
local h = require "support.cli"

local ALICE = fake.ALICE
local DAY = 86400
local cli = h.cli

local TTY = { stdin = true, stdout = true }

-- how many DELETEs of alice's tokens the server saw
local function deletes()
  local n = 0
  for route, count in pairs(fake.requests().routes) do
    if route:find("^DELETE /v3/users/" .. ALICE:gsub("%-", "%%-") .. "/access%-tokens/") then n = n + count end
  end
  return n
end

local function esc(s) return (s:gsub("%p", "%%%0")) end -- literal text in a pattern

local function exists(client, id)
  local tok, err = client:get(ALICE, id)
  if tok then return true end
  assert.equal("not_found", err.kind)
  return false
end

local function declined(r, what)
  assert.equal(2, r.code, what .. ": " .. r.err)
  assert.equal("", r.out, what)
  assert.matches("konnect-pats: not confirmed: nothing was deleted (answer y or yes to go on; --yes skips the " ..
    "question)\n", r.err, 1, true, what)
end

-- each line of s a JSON object
local function objects(s)
  local list = {}
  for line in s:gmatch("[^\n]+") do list[#list + 1] = cjson.decode(line) end
  return list
end

describe("konnect-pats delete, on a terminal", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("asks on stderr, naming the token (name, id, state, expiry), and goes on for y or yes", function()
    for i, answer in ipairs { "y", "yes", " YES ", "Y" } do
      local tok = assert(client:create(ALICE, { name = "ci" .. i, ttl_seconds = DAY }))
      local r = cli({ "delete", "ci" .. i }, { tty = TTY, input = answer .. "\n" })
      assert.equal(0, r.code, r.err)
      assert.equal(1, r.reads)
      assert.equal('delete token "ci' .. i .. '" ' .. tok.id .. " (ACTIVE, expires in 24 hours)? [y/N] ", r.err)
      assert.equal('deleted token "ci' .. i .. '" (' .. tok.id .. ")\n", r.out)
      assert.is_false(exists(client, tok.id))
    end
  end)

  it("anything else, or no answer, deletes nothing: exit 2, the reason, no DELETE sent", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    for _, input in ipairs { "n\n", "no\n", "\n", "yess\n", "y es\n", "ja\n", "" } do
      local r = cli({ "delete", tok.id }, { tty = TTY, input = input })
      declined(r, ("%q"):format(input))
    end
    assert.is_true(exists(client, tok.id))
    assert.equal(0, deletes())
  end)

  it("another user's token: the question names the user", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = cli({ "delete", "ci", "--user", ALICE }, { tty = TTY, input = "n\n" })
    declined(r, "--user")
    assert.matches(tok.id .. " (ACTIVE, expires in 24 hours) of user " .. ALICE .. "? [y/N] ", r.err, 1, true)
  end)

  it("--json: the question is a JSON object of its own on stderr, then the error object, declined", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = cli({ "delete", "ci", "--json" }, { tty = TTY, input = "no\n" })
    assert.equal(2, r.code)
    assert.equal("", r.out)
    local lines = objects(r.err)
    assert.equal(2, #lines)
    assert.equal('delete token "ci" ' .. tok.id .. " (ACTIVE, expires in 24 hours)? [y/N]", lines[1].prompt)
    assert.equal("invalid_argument", lines[2].kind)
    assert.is_true(lines[2].declined)
    assert.matches("^not confirmed: nothing was deleted", lines[2].message)
    -- answered yes: the token object on stdout, as without the question
    r = cli({ "delete", "ci", "--json" }, { tty = TTY, input = "yes\n" })
    assert.equal(0, r.code, r.err)
    assert.equal(tok.id, cjson.decode(r.out).id)
  end)

  it("never asks with --yes (-y), or when stdin is not a terminal (stdout one or not)", function()
    for i, c in ipairs {
      { { "--yes" }, TTY }, { { "-y" }, TTY },
      { {}, { stdin = false, stdout = true } }, { {}, {} },
    } do
      local tok = assert(client:create(ALICE, { name = "ci" .. i, ttl_seconds = DAY }))
      local args = { "delete", tok.id }
      for _, a in ipairs(c[1]) do args[#args + 1] = a end
      local r = cli(args, { tty = c[2], input = "no\n" })
      assert.equal(0, r.code, r.err)
      assert.equal(0, r.reads, table.concat(args, " ") .. " read stdin")
      assert.equal("", r.err)
      assert.is_false(exists(client, tok.id))
    end
  end)

  it("--yes belongs to delete and prune only", function()
    for _, args in ipairs { { "get", "ci", "--yes" }, { "rotate", "ci", "-y" }, { "list", "--yes" } } do
      local r = cli(args)
      assert.equal(2, r.code)
      assert.matches("is not an option of " .. args[1], r.err, 1, true)
    end
    assert.equal(0, fake.requests().total)
  end)
end)

describe("konnect-pats prune, on a terminal", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  local function dead(name)
    local tok = assert(client:create(ALICE, { name = name, ttl_seconds = DAY }))
    assert(client:revoke(ALICE, tok.id))
    return tok
  end

  it("shows the table of what would go, asks, and deletes those for yes", function()
    local a, b = dead("old-a"), dead("old-b")
    local alive = assert(client:create(ALICE, { name = "alive", ttl_seconds = DAY }))
    local r = cli({ "prune" }, { tty = TTY, input = "yes\n" })
    assert.equal(0, r.code, r.err)
    local shown, question = r.err:match("^prune would delete these 2 tokens:\n(NAME +ID +STATE[^\n]*\n.-)" ..
      "(delete them%? %[y/N%] )$")
    assert.is_string(shown, r.err)
    assert.matches("old%-a +" .. esc(a.id) .. " +REVOKED", shown)
    assert.matches("old%-b +" .. esc(b.id) .. " +REVOKED", shown)
    assert.is_string(question)
    assert.matches("^deleted 2 tokens:\n", r.out)
    assert.is_false(exists(client, a.id))
    assert.is_false(exists(client, b.id))
    assert.is_true(exists(client, alive.id))
  end)

  it("declined: nothing deleted, exit 2; with --json the prompt object carries the token objects", function()
    local a = dead("old-a")
    declined(cli({ "prune" }, { tty = TTY, input = "nope\n" }), "prune")
    local r = cli({ "prune", "--json" }, { tty = TTY, input = "" })
    assert.equal(2, r.code)
    assert.equal("", r.out)
    local lines = objects(r.err)
    assert.equal(2, #lines)
    assert.equal("prune would delete this token; delete it? [y/N]", lines[1].prompt)
    assert.equal(1, #lines[1].tokens)
    assert.equal(a.id, lines[1].tokens[1].id)
    assert.is_nil(lines[1].tokens[1].konnect_token)
    assert.is_true(lines[2].declined)
    assert.is_true(exists(client, a.id))
    assert.equal(0, deletes())
  end)

  it("deletes what it showed and no other: a token revoked while the question waits stays", function()
    local a = dead("old-a")
    local late = assert(client:create(ALICE, { name = "late", ttl_seconds = DAY }))
    local r = cli({ "prune", "--json" }, { tty = TTY, input = "y\n",
      on_read = function() assert(client:revoke(ALICE, late.id)) end })
    assert.equal(0, r.code, r.err)
    local gone = cjson.decode(r.out)
    assert.equal(1, #gone)
    assert.equal(a.id, gone[1].id)
    assert.is_false(exists(client, a.id))
    assert.equal("REVOKED", assert(client:get(ALICE, late.id)).state)
    assert.equal(1, deletes())
  end)

  it("a delete failing after the answer: exit 1, the tokens deleted before it named, as without the question",
    function()
      local a, b = dead("r1"), dead("r2")
      fake.fault { method = "DELETE", path = "/access%-tokens/" .. esc(b.id) .. "$", status = 500,
                   count = 3, retry_after = "0" }
      local r = cli({ "prune", "--json" }, { tty = TTY, input = "y\n" })
      assert.equal(1, r.code)
      assert.equal("", r.out)
      local lines = objects(r.err)
      assert.equal("prune would delete these 2 tokens; delete them? [y/N]", lines[1].prompt)
      local e = lines[#lines]
      assert.equal("server", e.kind)
      assert.matches("^pruned 1 of 2 tokens, then deleting " .. esc(b.id) .. " failed: ", e.message)
      assert.equal(1, #e.deleted)
      assert.equal(a.id, e.deleted[1].id)
    end)

  it("never asks: with --yes, with --dry-run, with nothing to prune, or when stdin is not a terminal", function()
    dead("d1")
    local r = cli({ "prune", "--dry-run" }, { tty = TTY })
    assert.equal(0, r.code, r.err)
    assert.equal(0, r.reads)
    assert.matches("would delete 1 token", r.out, 1, true)
    r = cli({ "prune" }, { tty = { stdout = true } })
    assert.equal(0, r.code, r.err)
    assert.equal(0, r.reads)
    assert.matches("^deleted 1 token:", r.out)
    dead("d2")
    r = cli({ "prune", "-y" }, { tty = TTY })
    assert.equal(0, r.code, r.err)
    assert.equal(0, r.reads)
    r = cli({ "prune" }, { tty = TTY })
    assert.equal(0, r.code, r.err)
    assert.equal(0, r.reads)
    assert.equal("nothing to prune\n", r.out)
  end)
end)

describe("konnect-pats delete and prune, as a process", function()
  local client
  h.per_test(before_each, after_each, function(c) client = c end)

  it("on a real terminal: asks on stderr, reads the answer from the terminal; yes deletes", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = h.pty({ "delete", "ci" }, { input = "yes\n" })
    assert.equal(0, r.code, r.err)
    assert.equal('delete token "ci" ' .. tok.id .. " (ACTIVE, expires in 24 hours)? [y/N] ", r.err)
    -- the terminal shows what was typed, then stdout
    assert.equal('yes\ndeleted token "ci" (' .. tok.id .. ")\n", r.out)
    assert.is_false(exists(client, tok.id))
  end)

  it("on a real terminal: no, or the end of input, deletes nothing (exit 2)", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    for _, input in ipairs { "no\n", "" } do
      local r = h.pty({ "delete", "ci" }, { input = input })
      assert.equal(2, r.code, r.err)
      assert.matches("^delete token \"ci\" " .. esc(tok.id) .. " %(ACTIVE, expires in 24 hours%)%? " ..
        "%[y/N%] \n?konnect%-pats: not confirmed: nothing was deleted", r.err)
    end
    local r = h.pty({ "prune" }, { input = "n\n" })
    assert.equal(0, r.code, r.err) -- nothing to prune: nothing asked
    assert.is_true(exists(client, tok.id))
    assert.equal(0, deletes())
  end)

  it("stdin a terminal, stdout redirected to a file: still asks, on the terminal; no: nothing deleted", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = h.pty({ "delete", "ci" }, { input = "no\n", stderr_tty = true })
    assert.equal(2, r.code, r.err)
    assert.matches("(ACTIVE, expires in 24 hours)? [y/N] ", r.err, 1, true)
    assert.matches("konnect-pats: not confirmed: nothing was deleted", r.err, 1, true)
    assert.equal("", r.out)
    assert.is_true(exists(client, tok.id))
    assert.equal(0, deletes())
  end)

  it("on a real terminal: prune shows its table and deletes for y; --dry-run and --yes never ask", function()
    local a = assert(client:create(ALICE, { name = "old", ttl_seconds = DAY }))
    assert(client:revoke(ALICE, a.id))
    local r = h.pty({ "prune", "--dry-run" })
    assert.equal(0, r.code, r.err)
    assert.not_matches("[y/N]", r.err, 1, true)
    r = h.pty({ "prune" }, { input = "y\n" })
    assert.equal(0, r.code, r.err)
    assert.matches("prune would delete this token:\nNAME", r.err, 1, true)
    assert.matches(a.id, r.err, 1, true)
    assert.matches("delete it? [y/N] ", r.err, 1, true)
    assert.matches("deleted 1 token:", r.out, 1, true)
    assert.is_false(exists(client, a.id))
    local b = assert(client:create(ALICE, { name = "other", ttl_seconds = DAY }))
    r = h.pty({ "delete", b.id, "--yes" })
    assert.equal(0, r.code, r.err)
    assert.equal("", r.err)
    assert.is_false(exists(client, b.id))
  end)

  it("Ctrl-C at the question: exit 130, nothing deleted", function()
    local tok = assert(client:create(ALICE, { name = "ci", ttl_seconds = DAY }))
    local r = h.pty({ "delete", "ci" }, { after_prompt = "\3" })
    assert.equal(130, r.code, r.err)
    -- a line end after the question (the terminal's ^C shows on the same line), then the message
    assert.matches("%? %[y/N%] \nkonnect%-pats: interrupted\n$", r.err)
    -- --json: the question and the error, one JSON object a line, no blank line
    r = h.pty({ "delete", "ci", "--json" }, { after_prompt = "\3" })
    assert.equal(130, r.code, r.err)
    assert.matches("^{[^\n]+}\n{[^\n]+}\n$", r.err)
    local o = objects(r.err)
    assert.matches("[y/N]", o[1].prompt, 1, true)
    assert.equal("system", o[2].kind)
    assert.equal("interrupted", o[2].message)
    assert.is_true(exists(client, tok.id))
    assert.equal(0, deletes())
  end)

  it("stdin a pipe or /dev/null (scripts, CI): no question, the token deleted, as before", function()
    for i, input in ipairs { "no\n", false } do
      local tok = assert(client:create(ALICE, { name = "ci" .. i, ttl_seconds = DAY }))
      local r = h.process({ "delete", "ci" .. i }, { input = input or nil })
      assert.equal(0, r.code, r.err)
      assert.equal("", r.err)
      assert.equal('deleted token "ci' .. i .. '" (' .. tok.id .. ")\n", r.out)
      assert.is_false(exists(client, tok.id))
    end
    local a = assert(client:create(ALICE, { name = "old", ttl_seconds = DAY }))
    assert(client:revoke(ALICE, a.id))
    local r = h.process({ "prune", "--json" }, { input = "no\n" })
    assert.equal(0, r.code, r.err)
    assert.equal("", r.err)
    assert.equal(a.id, cjson.decode(r.out)[1].id)
  end)
end)
