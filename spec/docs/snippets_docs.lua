-- The shell, console and nginx.conf snippets of README.md and docs/API.md,
-- run as written, in the sandbox spec/docs/run.sh makes (tmpfs /usr/local and
-- /opt, loopback only, the fake Konnect's CA as the system bundle):
--   * every fence is tagged: lua (spec/docs_spec.lua runs those), sh, console,
--     nginx, or text / none (output, illustrations); a block the tests cannot
--     run says why, visibly ("*Not run by the tests: REASON.*"), and every
--     other sh, console and nginx block has a runner here: an unmarked block
--     is never silently skipped;
--   * the journey: README's Install, in a fresh copy of the checkout, then its
--     first script ("Using it") from another directory, then examples/list.lua,
--     with what was installed;
--   * OpenResty: the install for nginx, then the nginx.conf (with the timer
--     snippet in its http block) in a throwaway nginx, as written: /tokens
--     answers, the timer's call reaches Konnect, nothing is logged as an
--     error; and without any one of the lines it needs, it fails;
--   * the CLI session (console): each command run in one shell, its output
--     compared with the README's (ids, dates and trace ids aside);
--   * every other sh block, against the fake, exit 0.
local md = require "support.markdown"
local fake = require "support.fake"

local ROOT = assert(io.popen("pwd")):read("*l")
local TMP = assert(os.getenv("KONNECT_DOCS_TMP"), "run spec/docs/run.sh, which makes the sandbox")
local SRC = TMP .. "/src"          -- the fresh copy of the checkout
local HTTPS = fake.https:gsub("127%.0%.0%.1", "localhost") -- nginx verifies names, not addresses

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- bash(script, env) -> output (stdout and stderr), exit status
local function bash(script, env)
  local path = os.tmpname()
  write(path, script)
  local parts = {}
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
  -- as a user's shell: not the paths busted runs with (spec/docs/run.sh sets them)
  local p = assert(io.popen("env -u LUA_PATH -u LUA_CPATH " .. table.concat(parts, " ") .. " bash " .. q(path) ..
    " 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return (out:gsub("rc=%d+%s*$", "")), tonumber(out:match("rc=(%d+)%s*$"))
end

-- a user's environment for real Konnect, pointed at the fake
local USER_ENV = { KONNECT_TOKEN = fake.ALICE_TOKEN, KONNECT_SERVER_URL = HTTPS }

-- the checkout as a new user has it: the files git knows (committed or not),
-- no build/; made once, by the first runner that needs it
local function fresh_copy()
  local f = io.open(SRC .. "/README.md", "rb")
  if f then return f:close() end
  local out, rc = bash("set -e; mkdir -p " .. q(SRC) .. " " .. q(TMP .. "/elsewhere") .. "; cd " .. q(ROOT) ..
    "; git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t " .. q(SRC))
  assert(rc == 0, "cannot copy the checkout: " .. out)
end

local blocks = {}
for _, doc in ipairs { "README.md", "docs/API.md" } do
  for _, b in ipairs(md.blocks(doc)) do blocks[#blocks + 1] = b end
end

local function where(b) return b.doc .. ":" .. b.line .. " (" .. b.lang .. ")" end

-- which runner takes a block (nil: none; the test below fails)
local function runner_of(b)
  if b.skip or b.lang == "lua" or md.TEXT[b.lang] then return nil end
  if b.lang == "sh" and b.doc == "README.md" and b.section == "Install" then return "journey" end
  if b.lang == "sh" and b.subsection == "Installing for nginx" then return "nginx-install" end
  if b.lang == "nginx" then return "nginx" end
  if b.lang == "console" then return "console" end
  if b.lang == "sh" then return "sh" end
end

local function of(kind)
  local o = {}
  for _, b in ipairs(blocks) do if runner_of(b) == kind then o[#o + 1] = b end end
  return o
end

describe("docs: every snippet is run or says why not", function()
  it("every fence has a known tag", function()
    for _, b in ipairs(blocks) do
      assert(md.RUN[b.lang] or md.TEXT[b.lang], where(b) .. ": unknown fence tag '" .. b.lang ..
        "' (lua, sh, console, nginx; text for output)")
    end
  end)

  it("a block not run says why, in a line a reader sees", function()
    for _, b in ipairs(blocks) do
      if b.skip then assert(#b.skip >= 10, where(b) .. ": say why it is not run") end
    end
  end)

  it("every sh, console and nginx block has a runner here", function()
    for _, b in ipairs(blocks) do
      if (b.lang == "sh" or b.lang == "console" or b.lang == "nginx") and not b.skip then
        assert(runner_of(b), where(b) .. " is run by nothing")
      end
    end
    assert.is_true(#of("journey") > 0, "README.md's Install has no sh block")
    assert.is_true(#of("nginx") > 0 and #of("nginx-install") > 0 and #of("console") > 0)
  end)
end)

describe("docs: the journey of a new user", function()
  it("README's Install in a fresh copy of the checkout, its first script, then examples/list.lua", function()
    fresh_copy()
    local first
    for _, b in ipairs(md.blocks("README.md")) do
      if b.lang == "lua" and b.section == "Using it" then first = first or b end
    end
    assert(first, "README.md's Using it has no Lua block")
    write(TMP .. "/first.lua", first.code)
    local script = { "set -e -o pipefail", "cd " .. q(SRC) }
    for _, b in ipairs(of("journey")) do
      script[#script + 1] = "echo '== " .. where(b) .. "'"
      script[#script + 1] = b.code
      script[#script + 1] = "cd " .. q(SRC)
    end
    -- what that shell's lua5.4 loads: the installed modules, not a checkout's
    script[#script + 1] = "(cd " .. q(TMP .. "/elsewhere") .. " && lua5.4 -e 'print(\"== loads \" .. " ..
      "package.searchpath(\"konnect.pats\", package.path) .. \" \" .. " ..
      "package.searchpath(\"konnect.core\", package.cpath))')"
    script[#script + 1] = "echo '== the first script of Using it (" .. where(first) .. "), from another directory'"
    script[#script + 1] = "(cd " .. q(TMP .. "/elsewhere") .. " && lua5.4 " .. q(TMP .. "/first.lua") .. ")"
    script[#script + 1] = "echo '== examples/list.lua'"
    script[#script + 1] = "lua5.4 examples/list.lua"
    local out, rc = bash(table.concat(script, "\n") .. "\n", USER_ENV)
    assert(rc == 0, "the journey failed (exit " .. tostring(rc) .. "):\n" .. out)
    if os.getenv("DOCS_VERBOSE") then print(out) end
    local pats_at, core_at = out:match("== loads (%S+) (%S+)\n")
    assert(pats_at, out)
    for _, at in ipairs { pats_at, core_at } do
      assert(at:sub(1, #SRC) ~= SRC and at:sub(1, #ROOT) ~= ROOT, "not from the install: " .. at)
    end
    local listed = out:match("== examples/list.lua\n(.*)$")
    assert.matches("ACTIVE +in 24 hours +ci\n", listed)
    assert.is_nil(out:find(fake.ALICE_TOKEN, 1, true), "the token was printed")
  end)
end)

describe("docs: the other shell snippets, against the fake", function()
  for _, b in ipairs(of("sh")) do
    it(where(b) .. " exits 0", function()
      fresh_copy()
      fake.reset()
      -- something for them to show: a live token and a revoked one
      local client = fake.client()
      assert(client:create("me", { name = "ci", ttl_seconds = 30 * 86400 }))
      assert(client:revoke("me", assert(client:create("me", { name = "old", ttl_seconds = 86400 })).id))
      local out, rc = bash("set -e -o pipefail\nexport PATH=/usr/local/bin:$PATH\ncd " .. q(SRC) .. "\n" .. b.code,
        USER_ENV)
      assert(rc == 0, where(b) .. " failed (exit " .. tostring(rc) .. "):\n" .. out)
    end)
  end
end)

require("docs.nginx_snippets").describe {
  describe = describe, it = it, assert = assert, setup = setup, teardown = teardown,
  blocks = blocks, of = of, where = where, bash = bash, write = write, q = q, TMP = TMP, SRC = SRC,
  USER_ENV = USER_ENV, ROOT = ROOT, fresh_copy = fresh_copy,
}
require("docs.console_snippets").describe {
  describe = describe, it = it, assert = assert,
  of = of, where = where, bash = bash, q = q, SRC = SRC, USER_ENV = USER_ENV, fresh_copy = fresh_copy,
}
