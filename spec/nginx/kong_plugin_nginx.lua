-- examples/kong-plugin (konnect-pat-rotator) inside nginx, through the kong
-- shim (spec/nginx/app/konnect_test/kong.lua), against the fake Konnect.
-- Kong itself is not installed here: see examples/kong-plugin/README.md.
--
-- Two nodes: the test nginx of spec/nginx/run.sh (node A, the shim's default
-- node id) and, for the restart tests, a throwaway nginx of this spec (node B,
-- two workers) that is stopped and started for real (its shared dict dies).
local nginx = require "nginx.client"
local fake = require "support.fake"
local proc = require "support.proc"
local core = require "konnect.core"
local json = require "konnect.json"
local socket = require "socket"

local NODE_A = "00000000-0000-4000-8000-0000000a0de1"
local NODE_B = "00000000-0000-4000-8000-0000000b0de2"
local NAME_A = "kong-test-" .. NODE_A
local NAME_B = "kong-test-" .. NODE_B

local secrets_seen = {}  -- every managed secret the tests saw: none may reach a log

local function remember(s)
  if type(s) == "string" and s ~= "" then secrets_seen[s] = true end
  return s
end

local function state(instance)
  local _, s = nginx.request("GET", "/kong/state?instance=" .. (instance or "konnect"))
  remember(s.secret)
  return s
end

local function run(body)
  local status, s = nginx.request("POST", "/kong/run", body or {})
  assert(status == 200, "kong/run answered " .. tostring(status) .. ": " .. json.encode(s))
  remember(s.secret)
  return s
end

local function validate(config)
  local _, s = nginx.request("POST", "/kong/validate", { config = config })
  return s
end

local conn = assert(core.new { timeout = 30, connect_timeout = 5 })

-- a request from a service behind Kong, through the plugin's Route
local function through_kong(instance, path, headers)
  local h = { "Accept: application/json, application/problem+json" }
  for _, line in ipairs(headers or {}) do h[#h + 1] = line end
  local res = assert(conn:request("GET", nginx.url .. "/kong/svc/" .. instance .. path, h))
  local ok, body = pcall(json.decode, res.body)
  return res.status, ok and body or res.body, res.headers
end

local function bob_client() return fake.client { token = fake.BOB_TOKEN } end

local function tokens_named(name)
  local found = {}
  for _, t in ipairs(assert(bob_client():list(fake.BOB)).data) do
    if t.name == name then found[#found + 1] = t end
  end
  return found
end

local function token(id)
  return bob_client():get(fake.BOB, id)
end

local function assert_no_secret_in(text, where)
  -- no token-shaped string at all (the admin token, kpat_fake_bob_bootstrap, included)
  assert.is_nil(text:find("[ks]pat_%w"), "a token-shaped string in " .. where)
  for s in pairs(secrets_seen) do
    assert.is_nil(text:find(s, 1, true), "a managed secret in " .. where)
  end
end

local function read_file(path) return proc.read_file(path) or "" end

describe("kong plugin konnect-pat-rotator", function()
  it("follows Kong's conventions: PRIORITY, VERSION, schema defaults, a per-node token name", function()
    local s = state()
    assert.is_number(s.handler.PRIORITY)
    assert.matches("^%d+%.%d+%.%d+$", s.handler.VERSION)
    assert.equal(fake.BOB, s.config.user_id)  -- set by the test
    assert.equal(10, s.config.timeout)        -- a schema default, not set by the test
    assert.equal("konnect_pats", s.config.shm)
    assert.equal(NODE_A, s.node_id)
    assert.equal(NAME_A, s.token_name)
  end)

  it("takes the admin token from a vault reference ({vault://env/…}), resolved as Kong's env vault does", function()
    local s = state()
    assert.same({ admin_token = "{vault://env/kong-test-konnect-admin}" }, s.refs)
    assert.is_true(s.admin_token_resolved)
    assert.is_nil(s.config.admin_token)
    -- an unresolvable reference: the plugin says what is wrong, and never starts
    local u = state("unset")
    assert.is_false(u.admin_token_resolved)
    assert.equal("error", u.status and u.status.state)
    assert.matches("admin_token is not set", u.status.error, 1, true)
    assert.is_nil(u.secret)
  end)

  it("init_worker started the timer, whose first tick created the node's token (https, cosocket)", function()
    local s = state()
    assert.equal("true", s.init_worker)
    assert.is_true(type(s.secret) == "string" and s.secret:sub(1, 5) == "kpat_", "no token stored")
    assert.is_string(s.id)
    assert.equal(NAME_A, s.name)
    assert.equal("ready", s.status.state)
    assert.matches("created token " .. s.id:gsub("%-", "%%-"), table.concat(s.log, "\n"))
  end)

  it("without a token yet, answers 503 with a JSON message (and Retry-After), no secret in it", function()
    local status, body, headers = through_kong("unset", "/v3/users/me")
    assert.equal(503, status)
    assert.matches("^application/json", headers["content-type"])
    assert.matches("no Konnect access token is available yet", body.message, 1, true)
    assert.equal("10", headers["retry-after"])
    assert_no_secret_in(json.encode(body), "the 503 body")
  end)

  it("adopts or replaces: a token the server forgot is replaced, exactly one token per node", function()
    fake.reset()
    -- the next check with Konnect (check_interval passed) finds the stored token gone
    local s = run { overrides = { check_interval = 0.001 } }
    assert.equal("replaced", s.result, s.err)
    local mine = tokens_named(NAME_A)
    assert.equal(1, #mine)
    assert.equal(s.id, mine[1].id)
    assert.equal("ACTIVE", mine[1].state)

    -- fresh and recently checked: no call to Konnect at all
    local before = fake.requests().total
    assert.equal("fresh", run().result)
    assert.equal(before, fake.requests().total)
  end)

  it("sets Authorization: Bearer <current token> on requests proxied to Konnect, replacing the caller's", function()
    local s = run { force = true }
    assert.equal("rotated", s.result, s.err)
    assert.is_nil(assert(token(s.id)).last_used_at)  -- the plugin manages with the admin token only
    -- a service behind Kong, even one that sends a credential of its own (alice's)
    local status, me = through_kong("konnect", "/v3/users/me", { "Authorization: Bearer " .. fake.ALICE_TOKEN })
    assert.equal(200, status)
    assert.equal(fake.BOB, me.id)              -- the token that arrived is bob's: the plugin's
    assert.is_string(assert(token(s.id)).last_used_at) -- and it is exactly the current one
    local log = fake.requests().log
    assert.equal("Bearer <redacted>", log[#log].headers.authorization)

    -- after a rotation the next request carries the new token; the old one is gone
    local r = run { force = true }
    assert.equal("rotated", r.result, r.err)
    assert.is_true(r.secret ~= s.secret, "the secret did not change")
    assert.equal(200, (through_kong("konnect", "/v3/users/" .. fake.BOB .. "/access-tokens/" .. r.id)))
    assert.is_string(assert(token(r.id)).last_used_at)
    local _, gone = token(s.id)
    assert.equal("not_found", gone and gone.kind)
  end)

  it("never sends the token to a service that does not point at the Konnect API", function()
    local before = fake.requests().total
    local status, body = through_kong("elsewhere", "/v3/users/me")
    assert.equal(500, status)
    assert.matches("does not point at the Konnect API", body.message, 1, true)
    assert.equal(before, fake.requests().total)
  end)

  it("a rotation whose delete failed keeps the new token; the old one is retired (same check, or the next)", function()
    local before = run { force = true }
    assert.equal("rotated", before.result, before.err)
    -- the rotation's delete of the old token fails, and so does the same check's second try
    fake.fault { method = "DELETE", path = "/access%-tokens/", status = 400, count = 2 }
    local r = run { force = true }
    assert.equal("rotated", r.result, r.err)
    assert.is_true(r.secret ~= before.secret, "the secret did not change")
    assert.equal(200, (through_kong("konnect", "/v3/users/me")))
    local mine = tokens_named(NAME_A)
    assert.equal(2, #mine)
    for _, t in ipairs(mine) do
      assert.equal(t.id == r.id and "ACTIVE" or "REVOKED", t.state)  -- the old secret is dead already
    end
    local log = table.concat(r.log, "\n")
    assert.matches("rotated to " .. r.id:gsub("%-", "%%-") .. ", but: ", log)
    assert.matches("could not retire token " .. before.id:gsub("%-", "%%-"), log)
    -- the next check with Konnect retires it
    local c = run { overrides = { check_interval = 0.001 } }
    assert.equal("checked", c.result, c.err)
    mine = tokens_named(NAME_A)
    assert.equal(1, #mine)
    assert.equal(r.id, mine[1].id)
  end)

  it("a token revoked behind its back is replaced at the next check", function()
    local s = state()
    assert(bob_client():revoke(fake.BOB, s.id))
    assert.equal(401, (through_kong("konnect", "/v3/users/me")))
    local r = run { overrides = { check_interval = 0.001 } }
    assert.equal("replaced", r.result, r.err)
    assert.are_not.equal(s.id, r.id)
    assert.equal(200, (through_kong("konnect", "/v3/users/me")))
    local mine = tokens_named(NAME_A)
    assert.equal(1, #mine)
    assert.equal(r.id, mine[1].id)
  end)

  it("30 rotations in a row (old = \"delete\") never hit 409 and leave one token", function()
    fake.reset()
    assert.equal("replaced", run({ overrides = { check_interval = 0.001 } }).result)
    local ids = {}
    for i = 1, 30 do
      local s = run { force = true }
      assert.equal("rotated", s.result, "rotation " .. i .. ": " .. tostring(s.err))
      assert.is_nil(ids[s.id])
      ids[s.id] = true
      local mine = tokens_named(NAME_A)
      assert.equal(1, #mine, "after rotation " .. i)
      assert.equal(s.id, mine[1].id)
    end
    assert.equal(1, #assert(bob_client():list(fake.BOB)).data)
    assert.equal(200, (through_kong("konnect", "/v3/users/me")))
  end)

  it("rotates by itself when less than rotate_before is left", function()
    local s = run()
    assert.equal("fresh", s.result)
    -- ttl 86400, rotate_before 86399: due one second after it was stored
    socket.sleep(1.2)
    local r = run { overrides = { rotate_before = 86399 } }
    assert.equal("rotated", r.result, r.err)
    assert.are_not.equal(s.id, r.id)
  end)

  it("schema: refuses rotate_before >= ttl_seconds (an entity check)", function()
    local v = validate { ttl_seconds = 86400, rotate_before = 86400 }
    assert.is_false(v.ok)
    assert.matches("rotate_before (86400) must be less than ttl_seconds (86400)", v.errors["@entity"][1], 1, true)
    assert.is_false(validate({ ttl_seconds = 86400, rotate_before = 90000 }).ok)
    assert.is_true(validate({ ttl_seconds = 86400, rotate_before = 86399 }).ok)
    assert.is_true(validate({ ttl_seconds = nil, rotate_before = nil }).ok)  -- the defaults agree
    -- and the shim (like Kong) never hands the plugin a configuration the schema refused
    local status = nginx.request("POST", "/kong/run", { overrides = { rotate_before = 86400 } })
    assert.equal(400, status)
  end)

  describe("restarts (a throwaway nginx: node B, two workers)", function()
    local dir, port

    local function sh(cmd)
      local ok = os.execute(cmd)
      return ok == true or ok == 0
    end

    local function get_state()
      local res = conn:request("GET", "http://127.0.0.1:" .. port .. "/kong/state", { "Accept: application/json" })
      if not res or res.status ~= 200 then return nil end
      local s = json.decode(res.body)
      remember(s.secret)
      return s
    end

    local stop
    local function start()
      stop() -- a test that failed half-way may have left the node running
      assert(sh(("nginx -p %s -c %s/nginx.conf >%s/start.log 2>&1"):format(dir, dir, dir)),
        "nginx did not start: " .. read_file(dir .. "/start.log") .. read_file(dir .. "/error.log"))
    end

    function stop()
      if not io.open(dir .. "/nginx.pid") then return end
      sh(("nginx -p %s -c %s/nginx.conf -s stop >/dev/null 2>&1"):format(dir, dir))
      for _ = 1, 200 do
        if not io.open(dir .. "/nginx.pid") then return end
        socket.sleep(0.025)
      end
      error("node B did not stop")
    end

    -- the node's status once its startup tick finished (after `since`, when given)
    local function wait_ready(since)
      local deadline = socket.gettime() + 30
      while socket.gettime() < deadline do
        local s = get_state()
        if s and s.status and (not since or s.status.at >= since) then
          assert.equal("ready", s.status.state, s.status.error)
          return s
        end
        socket.sleep(0.05)
      end
      error("node B never became ready")
    end

    setup(function()
      dir = (io.popen("mktemp -d /tmp/konnect-kong-node.XXXXXX"):read("*l"))
      local root = (io.popen("pwd"):read("*l"))
      local s = assert(socket.bind("127.0.0.1", 0))
      port = select(2, s:getsockname())
      s:close()
      sh("mkdir -p " .. dir .. "/tmp")
      local conf = ([[
${user}
worker_processes 2;
daemon on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
env FAKE_KONNECT_HTTP;
env FAKE_KONNECT_HTTPS;
env KONG_TEST_KONNECT_ADMIN=kpat_fake_bob_bootstrap;
env KONG_SHIM_NODE_ID=${node};
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  lua_package_path "${root}/lua/?.lua;${root}/lua/?/init.lua;${root}/spec/nginx/app/?.lua;${plugin}/?.lua;;";
  lua_package_cpath "${root}/build/jit/?.so;;";
  lua_ssl_trusted_certificate ${ca};
  lua_ssl_verify_depth 2;
  lua_shared_dict konnect_test 1m;
  lua_shared_dict konnect_pats 1m;
  init_worker_by_lua_block { require("konnect_test.kong").init_worker() }
  server {
    listen 127.0.0.1:${port};
    location = /kong/state { content_by_lua_block { require("konnect_test.kong").state() } }
  }
}
]]):gsub("%${(%w+)}", {
        user = (io.popen("id -u"):read("*l")) == "0" and "user root;" or "",
        dir = dir, root = root, plugin = root .. "/examples/kong-plugin", port = tostring(port),
        node = NODE_B, ca = fake.ca,
      })
      local f = assert(io.open(dir .. "/nginx.conf", "w"))
      f:write(conf)
      f:close()
    end)

    teardown(function()
      if dir then
        pcall(stop)
        sh("rm -rf " .. dir)
      end
    end)

    it("a restart loop of 20 leaves exactly one token for the node (and node A's alone)", function()
      fake.reset()
      local a = run { overrides = { check_interval = 0.001 } }
      assert.equal("replaced", a.result, a.err)
      local ids = {}
      for i = 1, 20 do
        start()
        local s = wait_ready()
        assert.equal(i == 1 and "created" or "replaced", s.status.action, "restart " .. i)
        local mine = tokens_named(NAME_B)
        assert.equal(1, #mine, "restart " .. i)
        assert.equal(s.id, mine[1].id)
        assert.is_nil(ids[s.id])
        ids[s.id] = true
        stop()
      end
      assert.equal(1, #tokens_named(NAME_B))
      local still = tokens_named(NAME_A)
      assert.equal(1, #still)
      assert.equal(a.id, still[1].id)
      assert.equal("ACTIVE", still[1].state)
      assert.equal(2, #assert(bob_client():list(fake.BOB)).data)
    end)

    it("a node killed while creating its token leaks nothing: the next start retires the orphan", function()
      local before = tokens_named(NAME_B)
      assert.equal(1, #before)
      local creates = fake.count("POST /v3/users/" .. fake.BOB .. "/access-tokens")
      fake.fault { method = "POST", path = "/access%-tokens$", delay = 1.5 }
      start()
      local deadline = socket.gettime() + 20
      while fake.count("POST /v3/users/" .. fake.BOB .. "/access-tokens") == creates do
        assert(socket.gettime() < deadline, "node B never tried to create its token")
        socket.sleep(0.02)
      end
      stop()            -- mid-create: the fake still creates it, nobody holds its secret
      socket.sleep(2)
      local orphans = tokens_named(NAME_B)
      assert.equal(1, #orphans)
      assert.are_not.equal(before[1].id, orphans[1].id)  -- the old one was retired before the create

      start()
      local s = wait_ready()
      assert.equal("replaced", s.status.action)
      local mine = tokens_named(NAME_B)
      assert.equal(1, #mine)
      assert.equal(s.id, mine[1].id)
      local _, gone = token(orphans[1].id)
      assert.equal("not_found", gone and gone.kind)
    end)

    it("a reload keeps the shared dict: the node adopts its token instead of replacing it", function()
      local s = get_state()
      local t0 = os.time()
      socket.sleep(1.1)  -- status.at has one-second resolution
      assert(sh(("nginx -p %s -c %s/nginx.conf -s reload >/dev/null 2>&1"):format(dir, dir)))
      local r = wait_ready(t0 + 1)
      assert.equal("adopted", r.status.action)
      assert.equal(s.id, r.id)
      assert.equal(1, #tokens_named(NAME_B))
      stop()
    end)

    it("no secret in node B's error.log", function()
      assert.is_true(next(secrets_seen) ~= nil)
      assert_no_secret_in(read_file(dir .. "/error.log"), "node B's error.log")
    end)
  end)

  it("no secret in the kong.log lines nor in nginx's error.log", function()
    local s = state()
    assert.is_true(#s.log > 5, "too few log lines to mean anything")
    assert.is_true(next(secrets_seen) ~= nil)
    assert_no_secret_in(table.concat(s.log, "\n"), "the kong.log lines")
    if nginx.dir then assert_no_secret_in(read_file(nginx.dir .. "/error.log"), "nginx's error.log") end
  end)
end)
