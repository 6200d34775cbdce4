-- konnect-pat-rotator across Kong nodes: restarts with fresh node ids, 2 and 4
-- workers, a reload in the middle of a rotation, an impostor upstream, a control
-- plane.  Every node is a real nginx running the kong shim
-- (spec/nginx/app/konnect_test/kong.lua; what it models and where it guesses:
-- spec/nginx/kong_plugin_nginx.lua), started and stopped for real.
-- KONG_PLUGIN_ROOT=<dir> runs these against another copy of the plugin.
local kn = require "nginx.kong_node"
local fake = require "support.fake"
local socket = require "socket"

local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local POST = "POST /v3/users/" .. fake.BOB .. "/access-tokens"

local function count(list, pred)
  local n = 0
  for _, v in ipairs(list) do if pred(v) then n = n + 1 end end
  return n
end

local function tally(statuses)
  local t = {}
  for _, s in ipairs(statuses) do t[#t + 1] = tostring(s) end
  return table.concat(t, " ")
end

local function no_token_shape(text, where)
  assert.is_nil(text:find("[ks]pat_[%w_]+"), "a token-shaped string in " .. where)
end

describe("kong plugin across nodes", function()
  local nodes = {}
  local function node(o)
    local n = kn.new(o)
    nodes[#nodes + 1] = n
    return n
  end
  teardown(function()
    for _, n in ipairs(nodes) do
      pcall(n.finish, n)
      no_token_shape(n:read_log(), n.dir .. "/error.log")
    end
  end)

  it("models Kong's node id: a fresh v4 id per start, kept by a reload; node_id in kong.conf; a data plane's kong.id",
    function()
    fake.reset()
    local n = node { name = "ids", decl = kn.config() }
    local first = n:start():ready()
    assert.matches(UUID4, first.node_id)
    assert.equal("generated", first.node_id_source)
    n:reload()
    -- the new workers' init ran again in the master: the id is found in the kong shm
    local again = kn.wait(function()
      local s = n:state()
      return s and s.node_id_source == "kept in the kong shm" and s
    end, 20, "a new worker")
    assert.equal(first.node_id, again.node_id)
    assert.equal("kept in the kong shm", again.node_id_source)
    n:stop()
    local second = n:start():state()
    assert.matches(UUID4, second.node_id)
    assert.are_not.equal(first.node_id, second.node_id)
    n:stop()

    local fixed = node { name = "fixed", decl = kn.config(),
                         env = { KONG_NODE_ID = "00000000-0000-4000-8000-0000000f1xed" } }
    assert.equal("00000000-0000-4000-8000-0000000f1xed", fixed:start():state().node_id)
    fixed:stop()

    local dp = node { name = "dp", decl = kn.config(),
                      env = { KONG_ROLE = "data_plane", KONG_SHIM_HOSTNAME = "node-dp" } }
    local d1 = dp:start():ready() -- and the plugin works on a data plane
    assert.equal(200, (dp:get("/konnect/v3/users/me")))
    dp:stop()
    local d2 = dp:start():ready()
    dp:stop()
    assert.equal(1, #kn.tokens(d2.token_name))
    assert.matches(UUID4, d1.node_id)
    assert.equal(d1.node_id, d2.node_id)
    assert.matches("restored from .*/kong%.id", d2.node_id_source)
  end)

  -- Defect 1 of issue 17: the token was named after kong.node.get_id(), new at every start.
  it("30 stop/start cycles with fresh node ids leave at most 2 plugin tokens; no proxied request gets a 5xx", function()
    fake.reset()
    -- the Service verifies with its own CA entity: no help from the plugin needed (as with its first release)
    local n = node { name = "restarts", decl = kn.config(nil, { ca_certificates = true }),
                     env = { KONG_SHIM_HOSTNAME = "node-r" } }
    local ids, statuses, counts, max = {}, {}, {}, 0
    for i = 1, 30 do
      n:start()
      -- at once, while the node is still making its first token
      statuses[i] = n:get("/konnect/v3/users/me")
      local s = kn.wait(function() local st = n:state() return st and st.status and st.node_id and st end, 20,
        "cycle " .. i .. "'s first check")
      ids[s.node_id] = (ids[s.node_id] or 0) + 1
      counts[i] = #kn.tokens()
      if counts[i] > max then max = counts[i] end
      n:stop()
    end
    local distinct = 0
    for _ in pairs(ids) do distinct = distinct + 1 end
    print(("\n  [30 restarts] distinct node ids %d; tokens after each start: %s; proxied statuses: %s")
      :format(distinct, tally(counts), tally(statuses)))
    assert.equal(30, distinct)
    assert.is_true(max <= 2, "tokens after each start: " .. tally(counts))
    assert.equal(0, count(statuses, function(s) return type(s) ~= "number" or s >= 500 end),
      "proxied statuses: " .. tally(statuses))
    assert.equal(30, count(statuses, function(s) return s == 200 end))
  end)

  it("2 and 4 workers: one token per node; a live node's token is never swept, a gone node's is", function()
    fake.reset()
    local cfg = { check_interval = 1, sweep_after = 6 }
    local plain = kn.config(cfg)
    plain.plugins[1].config.admin_token = kn.ADMIN  -- in plain text: a warning, once per node
    local two = node { name = "w2", workers = 2, decl = kn.config(cfg), env = { KONG_SHIM_HOSTNAME = "node-2w" } }
    local four = node { name = "w4", workers = 4, decl = plain, env = { KONG_SHIM_HOSTNAME = "node-4w" } }
    local gone = node { name = "gone", workers = 2, decl = kn.config(cfg), env = { KONG_SHIM_HOSTNAME = "node-gone" } }
    for _, n in ipairs { two, four, gone } do n:start():ready() end
    local gone_name = gone:state().token_name
    gone:stop()
    local names = { two:state().token_name, four:state().token_name }
    for _, n in ipairs { two, four } do
      for _ = 1, 12 do assert.equal(200, (n:get("/konnect/v3/users/me"))) end -- several connections, any worker
    end
    local live = {}
    for _, name in ipairs(names) do
      local mine = kn.tokens(name)
      assert.equal(1, #mine, name)
      live[name] = mine[1].id
    end
    -- the gone node's token is retired once unused for sweep_after; the live ones stay
    local t0 = socket.gettime()
    kn.wait(function()
      for _, name in ipairs(names) do
        local mine = kn.tokens(name)
        assert.equal(1, #mine, name)
        assert.equal(live[name], mine[1].id, "a live node's token was replaced")
      end
      return #kn.tokens(gone_name) == 0
    end, 30, "the gone node's token to be swept")
    print(("\n  [workers] node-2w and node-4w: one token each, unchanged; node-gone's swept %.1f s after it stopped")
      :format(socket.gettime() - t0))
    assert.equal(2, #kn.tokens())
    for _, n in ipairs { two, four } do
      local s = n:state()
      local created = count(s.log, function(l) return l:find("created token", 1, true) ~= nil end)
      assert.equal(1, created, "creates on " .. n.dir)
      for pid, w in pairs(s.workers) do
        assert.is_true(w.init_worker.ok, "init_worker of " .. pid)
        assert.equal("init_worker configure", w.phases, "the phases of worker " .. pid)
      end
    end
    local k = 0
    for _ in pairs(four:state().workers) do k = k + 1 end
    assert.equal(4, k)
    -- a rebuild: configure again in every worker, the plain-text warning still once per node
    four:reconfigure()
    kn.wait(function()
      for _, w in pairs(four:state().workers) do
        if w.phases ~= "init_worker configure configure" then return false end
      end
      return true
    end, 10, "configure after the rebuild in all 4 workers")
    local warnings = count(four:state().log, function(l) return l:find("plain text", 1, true) ~= nil end)
    assert.equal(1, warnings)
    two:stop()
    four:stop()
  end)

  -- Defect 2 of issue 17: a per-process `busy` flag; the new worker 0 retired the token the old one was creating.
  it("a reload during a slow rotation keeps every proxied request authorised, with at most one extra token", function()
    fake.reset()
    -- due 3 s after each new token; the rotation's create is processed at once, its answer takes 3 s
    local n = node { name = "reload", decl = kn.config({ rotate_before = 86400 - 3 }, { ca_certificates = true }),
                     env = { KONG_SHIM_HOSTNAME = "node-l" } }
    local s0 = n:start():ready()
    local creates = fake.count(POST)
    fake.fault { method = "POST", path = "/access%-tokens$", drip = { chunks = 4, interval = 1 } }
    kn.wait(function() return fake.count(POST) > creates end, 20, "the rotation's create")
    n:reload()
    local statuses, most = {}, 0
    local deadline = socket.gettime() + 5
    while socket.gettime() < deadline do
      statuses[#statuses + 1] = n:get("/konnect/v3/users/me")
      if #statuses % 10 == 0 then
        local k = #kn.tokens(s0.token_name)
        if k > most then most = k end
      end
      socket.sleep(0.05)
    end
    local k = #kn.tokens(s0.token_name)
    if k > most then most = k end
    local s = n:state()
    print(("\n  [reload] %d proxied requests: %d answered 200, %s; most tokens at once %d; node id kept: %s")
      :format(#statuses, count(statuses, function(x) return x == 200 end),
              count(statuses, function(x) return x ~= 200 end) .. " not", most, tostring(s.node_id == s0.node_id)))
    assert.equal(#statuses, count(statuses, function(x) return x == 200 end), "statuses: " .. tally(statuses))
    assert.is_true(most <= 2, "tokens at once: " .. most)
    assert.equal(s0.node_id, s.node_id)
    assert.equal(200, (n:get("/konnect/v3/users/me")))
    n:stop()
  end)

  -- Defect 3 of issue 17: Kong's proxy does not verify the upstream unless the Service says tls_verify.
  it("an impostor on the Service's host and port with an untrusted certificate receives no token", function()
    fake.reset()
    local c = kn.certs()
    -- the impostor: 127.0.0.2 on the fake's port; the node's DNS sends the Service host there
    local extra = ([[
server {
    listen 127.0.0.2:%d ssl;
    ssl_certificate %s;
    ssl_certificate_key %s;
    ssl_certificate_by_lua_block { ngx.shared.konnect_test:incr("impostor_handshakes", 1, 0) }
    location / { content_by_lua_block { require("konnect_test.kong").impostor() } }
}
]]):format(kn.FAKE_PORT, c.impostor, c.impostor_key)
    local decl = kn.config()
    -- the Service as the plugin's first README made it: no tls_verify
    decl.services[2] = { name = "readme", protocol = "https", host = "localhost", port = kn.FAKE_PORT }
    decl.routes[2] = { name = "readme", service = "readme", paths = { "/readme" } }
    decl.plugins[2] = { name = kn.NAME, service = "readme", config = decl.plugins[1].config }
    local n = node { name = "impostor", decl = decl, extra = extra,
                     env = { KONG_SHIM_HOSTNAME = "node-i", KONG_SHIM_HOSTS = "localhost=127.0.0.2" } }
    n:start():ready() -- the token is made over the plugin's own (verified) connection to Konnect
    local readme_status, readme_body = n:get("/readme/v3/users/me")
    local verified_status = n:get("/konnect/v3/users/me")
    local got = n:state().impostor
    print(("\n  [impostor] unverified Service: %s; verifying Service: %s; the impostor saw %d TLS handshake(s), " ..
      "%d request(s), Authorization: %s"):format(tostring(readme_status), tostring(verified_status),
      got.handshakes or 0, got.requests or 0, tostring(got.auth)))
    assert.is_nil(got.auth)
    assert.is_nil(got.requests)
    assert.is_true((got.handshakes or 0) >= 1, "the verifying Service never reached the impostor")
    assert.equal(500, readme_status)
    assert.matches("tls_verify", readme_body.message, 1, true)
    assert.equal(502, verified_status) -- Kong's answer when the upstream handshake fails
    local log = table.concat(n:state().log, "\n")
    assert.matches("set tls_verify=true", log, 1, true)
    n:stop()
  end)

  it("is inert on a control plane: init_worker runs, configure never, no timer, no call to Konnect", function()
    fake.reset()
    local n = node { name = "cp", decl = kn.config { check_interval = 1 }, env = { KONG_ROLE = "control_plane" } }
    n:start()
    socket.sleep(1.5)
    local s = n:state()
    local k = 0
    for pid, w in pairs(s.workers) do
      k = k + 1
      assert.is_true(w.init_worker.ok, "init_worker of " .. pid)
      assert.equal(0, w.init_worker.timers, "timers left by init_worker in " .. pid)
      assert.equal("init_worker", w.phases) -- never configure on a control plane
    end
    assert.equal(2, k)
    assert.is_nil(s.status)
    assert.equal(0, fake.requests().total)
    assert.equal(0, #kn.tokens())
    n:stop()
  end)
end)
