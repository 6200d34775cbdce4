-- spec/docs: the README's OpenResty snippets (see snippets_docs.lua).  The
-- nginx.conf runs with only its own lines, and the fragments (the timer) in
-- its http block, where the README says they go; nginx is started the way
-- the project starts any throwaway nginx (scripts/nginx.sh: a prefix, a pid
-- file and an error log of its own, daemon, user root when root), nothing
-- else added.  The tree (/opt/lua-konnect), port 8080 and the system CA
-- bundle are the sandbox's (spec/docs/run.sh).
local fake = require "support.fake"

local M = {}

-- the lines a user could forget, each of which the nginx.conf needs: without
-- any one of them the snippet must fail (how, in a comment)
local NEEDED = {
  "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;", -- unknown directive lua_package_path
  "env KONNECT_TOKEN;",                 -- from_env: no token
  "env KONNECT_SERVER_URL;",            -- calls go to global.api.konghq.com: nothing answers here
  "lua_package_path ",                  -- konnect.pats not found
  "lua_ssl_trusted_certificate ",       -- every https call fails with kind tls
}

local LIST = "GET /v3/users/" .. fake.ALICE .. "/access-tokens"

function M.describe(c)
  local describe, it, assert, setup, teardown = c.describe, c.it, c.assert, c.setup, c.teardown -- busted's
  local dir = c.TMP .. "/nginx-readme"

  -- the README's nginx.conf with its fragments put in its http block
  local function assemble()
    local base, fragments = nil, {}
    for _, b in ipairs(c.of("nginx")) do
      if b.code:find("\nhttp%s*{") or b.code:find("^http%s*{") then
        assert(base == nil, c.where(b) .. ": a second complete nginx.conf")
        base = b
      else
        fragments[#fragments + 1] = b
      end
    end
    assert(base, "README.md shows no complete nginx.conf (one with an http block)")
    local parts = {}
    for _, f in ipairs(fragments) do parts[#parts + 1] = f.code end
    local conf, n = base.code:gsub("(\nhttp%s*{[^\n]*\n)", function(h) return h .. table.concat(parts) end, 1)
    assert.equal(1, n)
    return conf, base
  end

  -- start nginx with conf; -> started, output
  local function start(conf)
    os.execute("rm -rf " .. c.q(dir) .. " && mkdir -p " .. c.q(dir))
    c.write(dir .. "/nginx.conf.in", conf)
    local env = { KONNECT_TOKEN = c.USER_ENV.KONNECT_TOKEN, KONNECT_SERVER_URL = c.USER_ENV.KONNECT_SERVER_URL }
    local out, rc = c.bash("cd " .. c.q(c.ROOT) .. " && scripts/nginx.sh start " .. c.q(dir .. "/nginx.conf.in") ..
      " " .. c.q(dir), env)
    if rc ~= 0 then return false, out end
    -- it listens on 8080 (no placeholder: scripts/nginx.sh does not wait for it)
    c.bash("for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done")
    return true, out
  end

  local function stop() c.bash("cd " .. c.q(c.ROOT) .. " && scripts/nginx.sh stop " .. c.q(dir)) end

  local function get_tokens()
    local out = c.bash("curl -s --max-time 25 -w '\\n%{http_code}' http://127.0.0.1:8080/tokens")
    local body, status = out:match("^(.*)\n(%d+)%s*$")
    return tonumber(status), body or out
  end

  local function errors_logged()
    local f = io.open(dir .. "/error.log", "rb")
    if not f then return "" end
    local lines = {}
    for line in f:lines() do
      if line:find("%[error%]") or line:find("%[crit%]") or line:find("%[alert%]") or line:find("%[emerg%]") then
        lines[#lines + 1] = line
      end
    end
    f:close()
    return table.concat(lines, "\n")
  end

  -- the timer's call: the fake saw one more list than before, within 5 s
  local function timer_called(before)
    for _ = 1, 50 do
      if fake.count(LIST) > before then return true end
      c.bash("sleep 0.1")
    end
    return false
  end

  describe("docs: OpenResty, as the README says", function()
    -- a machine where only this section was followed: the journey's installs
    -- into /usr/local (on LuaJIT's default path) are hidden meanwhile
    setup(function() assert.equal(0, select(2, c.bash("mount -t tmpfs -o mode=0755 tmpfs /usr/local"))) end)
    teardown(function() c.bash("umount /usr/local") end)

    it("installs for nginx", function()
      c.fresh_copy()
      for _, b in ipairs(c.of("nginx-install")) do
        local out, rc = c.bash("set -e -o pipefail\ncd " .. c.q(c.SRC) .. "\n" .. b.code, c.USER_ENV)
        assert(rc == 0, c.where(b) .. " failed (exit " .. tostring(rc) .. "):\n" .. out)
      end
    end)

    it("the nginx.conf, with the timer snippet in its http block, works as written", function()
      fake.reset()
      assert(fake.client():create("me", { name = "from-nginx", ttl_seconds = 86400 }))
      local conf, base = assemble()
      local before = fake.count(LIST)
      local started, out = start(conf)
      assert(started, c.where(base) .. ": nginx did not start:\n" .. out)
      local ok, err = pcall(function()
        assert(timer_called(before), "the timer snippet's call never reached Konnect:\n" .. errors_logged())
        local status, body = get_tokens()
        assert.equal(200, status, body .. "\n" .. errors_logged())
        assert.matches("^from%-nginx ACTIVE %d%d%d%d%-%d%d%-%d%dT[%d:.]+Z\n", body)
        assert.equal("", errors_logged())
      end)
      stop()
      assert(ok, err)
    end)

    it("without any one of the lines it needs, it fails", function()
      local conf = assemble()
      for _, needed in ipairs(NEEDED) do
        local kept, n = {}, 0
        for line in (conf .. "\n"):gmatch("([^\n]*)\n") do
          if line:match("^%s*(.-)$"):sub(1, #needed) == needed then n = n + 1 else kept[#kept + 1] = line end
        end
        assert.equal(1, n, "the nginx.conf has no line " .. needed)
        local started = start(table.concat(kept, "\n") .. "\n")
        local worked = false
        if started then
          worked = get_tokens() == 200
          stop()
        end
        assert.is_false(worked, "the nginx.conf still works without: " .. needed)
      end
    end)
  end)
end

return M
