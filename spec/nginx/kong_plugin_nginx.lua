-- examples/kong-plugin (konnect-pat-rotator) inside a Kong node of the kong shim,
-- against the fake Konnect.  Kong is not installed here; spec/nginx/kong_nodes_nginx.lua
-- has the tests across nodes (restarts, workers, reload, impostor, control plane).
--
-- What the shim (spec/nginx/app/konnect_test/kong*.lua, spec/nginx/kong_node.conf.in)
-- models, each from the Kong 3.x file named:
--   node id: a new v4 id per start, kept by a reload; kong.conf node_id; a data
--     plane's <prefix>/kong.id                      kong/pdk/node.lua, pdk/private/node.lua
--   host name                                      kong/pdk/node.lua get_hostname
--   init_worker in every worker (control plane too), then configure(all configs);
--     configure again after each rebuild; never on a control plane
--                                                  kong/init.lua, runloop/plugins_iterator.lua,
--                                                  runloop/handler.lua
--   worker_processes auto (2 here; 4 in one test)  kong/templates/kong_defaults.lua
--   nginx -s reload: old workers finish their running timers while new ones start
--                                                  (real nginx + ngx_lua)
--   no proxy_ssl_verify unless the Service (tls_verify, ca_certificates,
--     tls_verify_depth) or the PDK (kong.service.set_tls_verify*) turns it on; on
--     without a store verifies against nothing      templates/nginx_kong.lua, runloop/upstream_ssl.lua,
--                                                  pdk/service.lua, lua-kong-nginx-module
--   lua_ssl_verify_depth 1, lua_ssl_trusted_certificate   templates/kong_defaults.lua,
--                                                  templates/nginx_kong_inject.lua
--   shared dicts kong, kong_locks and the injected nginx_http_lua_shared_dict  templates/nginx_kong.lua
--   plugin schema: metaschema (types, attributes, booleans such as encrypted and
--     referenceable), defaults, validators, entity checks with their field_sources,
--     references skip validation; protocols_http incl. grpc/grpcs
--                                                  db/schema/metaschema.lua, db/schema/init.lua,
--                                                  db/schema/typedefs.lua, constants.lua
--   {vault://env/NAME}: environ read at init, NAME upper-cased, "-" -> "_";
--     an unresolvable reference becomes ""          vaults/env/init.lua, db/schema/init.lua
--   kong.configuration read-only; the PDK calls the plugin makes, with their
--     argument and phase checks                    pdk/init.lua, pdk/*.lua
-- Guesses and what it cannot model:
--   * one listener, one subsystem (http); routes match by path prefix only; no
--     consumers, no workspaces, no Admin API, no database: the configuration is
--     a declarative file re-read on POST /kong/reconfigure (DB-less-like);
--   * the upstream trust store is a file (stand-in resty.openssl.x509.store):
--     nginx cannot switch proxy_ssl_* per request, so each combination is a fixed
--     location and only depth 1 is modeled; Kong's upstream keepalive pools
--     (whose name carries the Service's tls_verify) are not modeled;
--   * the Service host resolves through KONG_SHIM_HOSTS (Kong's DNS client) for
--     the proxy only: in Kong the plugin's own cosocket calls use the same DNS;
--   * KONG_SHIM_HOSTNAME stands for each node's machine (the nodes share this one);
--   * vault references are resolved at each build, not rotated (kong.vault.update);
--   * kong.response.exit ends the request at once (Kong delays it to the end of
--     the access phase: the same for a plugin that returns right after it);
--   * worker_state_update_frequency: the shim rebuilds 0.5 s after a change.
local kn = require "nginx.kong_node"
local fake = require "support.fake"
local socket = require "socket"
local kschema

local UUID = "^%x+%-%x+%-%x+%-%x+%-%x+$"

local function no_token_shape(text, where)
  -- created tokens, the fixtures (kpat_fake_bob_bootstrap is the admin token): none may appear
  assert.is_nil(text:find("[ks]pat_[%w_]+"), "a token-shaped string in " .. where)
end

local function load_schema()
  -- as Konnect's custom-plugin upload needs: no `require` (a require here raises)
  local env = setmetatable({ require = function(m) error("schema.lua requires " .. m) end }, { __index = _G })
  local chunk = assert(loadfile(kn.PLUGIN_ROOT .. "/kong/plugins/" .. kn.NAME .. "/schema.lua", "t", env))
  return chunk()
end

describe("kong plugin konnect-pat-rotator", function()
  local node, decl

  setup(function()
    package.path = kn.ROOT .. "/spec/nginx/app/?.lua;" .. package.path
    kschema = require "konnect_test.kong_schema"
    fake.reset()
    decl = kn.config()
    local svc = decl.services[1]
    local base = decl.plugins[1].config
    local function add(name, service, config)
      decl.services[#decl.services + 1] = service
      decl.routes[#decl.routes + 1] = { name = name, service = service.name, paths = { "/" .. name } }
      local c = {}
      for k, v in pairs(base) do c[k] = v end
      for k, v in pairs(config or {}) do c[k] = v end
      decl.plugins[#decl.plugins + 1] = { name = kn.NAME, service = service.name, config = c }
    end
    -- 2: its admin token's vault reference resolves to nothing
    add("unset", { name = "unset", protocol = "https", host = "localhost", port = svc.port, tls_verify = true },
        { admin_token = "{vault://env/kong-test-unset-admin}", token_name = "kong-unset" })
    -- 3, 4: Services that are not the Konnect API (another host; another port)
    add("elsewhere", { name = "elsewhere", protocol = "http", host = "127.0.0.1",
                       port = tonumber(fake.http:match(":(%d+)$")) })
    add("otherport", { name = "otherport", protocol = "https", host = "localhost", port = svc.port + 1,
                       tls_verify = true })
    -- 5: the Konnect API, without tls_verify
    add("noverify", { name = "noverify", protocol = "https", host = "localhost", port = svc.port })
    node = kn.new { name = "plugin", decl = decl, env = { KONG_SHIM_HOSTNAME = "node-a", KONG_SHIM_GRACE = "2" } }
    node:start()
  end)

  teardown(function()
    if node then
      node:stop()
      node:finish()
    end
  end)

  local function run(body)
    local s, status = node:run(body)
    assert.equal(200, status)
    return s
  end

  local function mine() return kn.tokens("kong-test.konnect-pat-rotator.node-a") end

  it("schema: no require, passes Kong's metaschema, defaults, entity checks, references", function()
    local schema = load_schema()
    assert.is_true(kschema.metacheck(schema))
    local e = assert(kschema.validate(schema, { config = { admin_token = "{vault://env/x}" } }))
    assert.same({ "grpc", "grpcs", "http", "https" }, e.protocols) -- typedefs.protocols_http
    assert.equal(10, e.config.timeout)
    assert.equal(3600, e.config.sweep_after)
    assert.equal("konnect_pats", e.config.shm)
    local function refused(config, protocols)
      local ok, errs = kschema.validate(schema, { config = config, protocols = protocols })
      assert.is_nil(ok)
      return errs
    end
    local errs = refused { admin_token = "x", ttl_seconds = 86400, rotate_before = 86400 }
    assert.matches("rotate_before (86400) must be less than ttl_seconds (86400)", errs["@entity"][1], 1, true)
    errs = refused { admin_token = "x", check_interval = 600, sweep_after = 1000 }
    assert.matches("sweep_after (1000) must be at least 3 x check_interval (600)", errs["@entity"][1], 1, true)
    assert.is_not_nil(refused({ admin_token = "x" }, { "tcp" }).protocols)
    assert.is_not_nil(refused { admin_token = "x", node_name = "" }["config.node_name"])
    assert.is_not_nil(refused { admin_token = "x", bogus = 1 }["config.bogus"])
    assert.is_not_nil(refused {}["config.admin_token"])
    -- a reference in a referenceable field skips the field's rules until it resolves
    assert.is_not_nil(kschema.validate(schema, { config = { admin_token = "x", node_name = "{vault://env/n}" } }))
    -- and the metaschema refuses what Kong's refuses
    local function bad(field)
      local s = { name = "x", fields = { { config = { type = "record", fields = { { f = field } } } } } }
      local ok, errs2 = kschema.metacheck(s)
      assert.is_nil(ok)
      return errs2.f
    end
    assert.matches("must be a boolean", bad { type = "string", referenceable = "yes" })
    assert.matches("must be a boolean", bad { type = "string", encrypted = 1 })
    assert.matches("cannot have attribute 'between'", bad { type = "string", between = { 1, 2 } })
    assert.matches("unknown field attribute", bad { type = "string", secret = true })
    assert.matches("default", bad { type = "integer", default = "x" })
  end)

  it("follows Kong's conventions: PRIORITY, VERSION, a token named after the node (not its id)", function()
    local s = node:ready()
    assert.is_number(s.handler.PRIORITY)
    assert.matches("^%d+%.%d+%.%d+$", s.handler.VERSION)
    assert.matches(UUID, s.node_id)
    assert.equal("kong-test.konnect-pat-rotator.node-a", s.token_name)
    assert.equal(fake.BOB, s.config.user_id)
    assert.equal(10, s.config.timeout) -- a default
    local k = 0
    for pid, w in pairs(s.workers) do -- init_worker, then configure, in each of the 2 workers
      k = k + 1
      assert.is_true(w.init_worker.ok, "init_worker of " .. pid)
      assert.equal("init_worker configure", w.phases)
    end
    assert.equal(2, k)
  end)

  it("the first tick made the node's token; requests through Kong carry it, replacing the caller's", function()
    local s = node:ready()
    assert.equal("created", s.status.action)
    assert.matches("created token " .. s.record.id:gsub("%-", "%%-"), table.concat(s.log, "\n"))
    local status, me = node:get("/konnect/v3/users/me", { "Authorization: Bearer " .. fake.ALICE_TOKEN })
    assert.equal(200, status)
    assert.equal(fake.BOB, me.id) -- bob's token arrived: the plugin's, not alice's
    local log = fake.requests().log
    assert.equal("Bearer <redacted>", log[#log].headers.authorization)
    local t = mine()
    assert.equal(1, #t)
    assert.equal(s.record.id, t[1].id)
  end)

  it("takes the admin token from a vault reference; an unresolved one ends in a clear error and a 503", function()
    local s = node:state(1)
    assert.same({ admin_token = "{vault://env/kong-test-konnect-admin}" }, s.refs)
    assert.is_true(s.admin_token_resolved)
    assert.is_nil(s.config.admin_token)
    local u = kn.wait(function() local x = node:state(2) return x.status and x end, 10, "the unset instance")
    assert.is_false(u.admin_token_resolved)
    assert.equal("error", u.status.state)
    assert.matches("admin_token is not set", u.status.error, 1, true)
    local status, body, headers = node:get("/unset/v3/users/me")
    assert.equal(503, status)
    assert.matches("no Konnect access token is available yet", body.message, 1, true)
    assert.equal("10", headers["retry-after"])
    assert.matches("unable to resolve reference {vault://env/kong-test-unset-admin}", table.concat(u.log, "\n"),
      1, true)
  end)

  it("never sends the token to another host or port, nor over a Service that does not verify TLS", function()
    local before = fake.requests().total
    for _, route in ipairs { "elsewhere", "otherport", "noverify" } do
      local status, body = node:get("/" .. route .. "/v3/users/me")
      assert.equal(500, status, route)
      assert.matches("no token is sent", body.message, 1, true)
    end
    assert.equal(before, fake.requests().total)
    local log = table.concat(node:state().log, "\n")
    assert.matches("is not https://localhost:" .. kn.FAKE_PORT, log, 1, true)
    assert.matches("set tls_verify=true on it", log, 1, true)
  end)

  it("uses its token at every check (the heartbeat other nodes see), even without traffic", function()
    local s = node:ready()
    local c = fake.client { token = fake.BOB_TOKEN }
    local before = assert(c:get(fake.BOB, s.record.id)).last_used_at
    socket.sleep(1.05)
    local r = run { overrides = { check_interval = 1 } } -- a check is due
    assert.is_true(r.result == "checked" or r.result == "adopted", tostring(r.result))
    local after = assert(c:get(fake.BOB, s.record.id)).last_used_at
    assert.is_string(after)
    assert.are_not.equal(before, after)
  end)

  it("a rotation keeps the old token for its grace, then retires it; 30 in a row never hit 409", function()
    local s = node:ready()
    local r = run { force = true }
    assert.equal("rotated", r.result, r.err)
    assert.are_not.equal(s.secret_md5, r.secret_md5)
    local t = mine()
    assert.equal(2, #t) -- the old one lives on for its grace (2 s here, 60 by default)
    for _, tok in ipairs(t) do assert.equal("ACTIVE", tok.state) end
    assert.equal(200, (node:get("/konnect/v3/users/me")))
    kn.wait(function() return #mine() == 1 end, 15, "the old token to be retired")
    assert.equal(r.record.id, mine()[1].id)
    for i = 1, 30 do
      local x = run { force = true }
      assert.equal("rotated", x.result, "rotation " .. i .. ": " .. tostring(x.err))
      assert.is_true(#mine() <= 2, "after rotation " .. i)
    end
    assert.equal(200, (node:get("/konnect/v3/users/me")))
  end)

  it("rotates by itself when less than rotate_before is left", function()
    local s = node:ready()
    socket.sleep(1.1)
    local r = run { overrides = { rotate_before = 86399 } } -- due a second after it was stored
    assert.equal("rotated", r.result, r.err)
    assert.are_not.equal(s.record.id, r.record.id)
  end)

  it("a failed retire is tried again at the next check; a token revoked behind its back is replaced", function()
    kn.wait(function() return #mine() == 1 end, 15, "one token")
    fake.fault { method = "DELETE", path = "/access%-tokens/", status = 400, count = 1 }
    local r = run { force = true }
    assert.equal("rotated", r.result, r.err)
    -- after the grace the timer retires the old token: its delete fails (the revoke worked), then is retried
    kn.wait(function() return table.concat(node:state().log, "\n"):find("could not retire token", 1, true) end,
      15, "the failed retire")
    kn.wait(function() return #mine() == 1 end, 15, "the retry of the retire")
    assert.equal(r.record.id, mine()[1].id)

    assert(fake.client { token = fake.BOB_TOKEN }:revoke(fake.BOB, r.record.id))
    assert.equal(401, (node:get("/konnect/v3/users/me")))
    socket.sleep(1.05) -- a check is due (check_interval 1)
    local x = run { overrides = { check_interval = 1 } }
    assert.equal("replaced", x.result, x.err)
    assert.equal(200, (node:get("/konnect/v3/users/me")))
  end)

  it("a rebuild calls configure again in every worker; no secret in any log", function()
    node:reconfigure()
    kn.wait(function()
      for _, w in pairs(node:state().workers) do
        if w.phases ~= "init_worker configure configure" then return false end
      end
      return true
    end, 10, "configure after the rebuild")
    local s = node:state()
    assert.is_true(#s.log > 5)
    no_token_shape(table.concat(s.log, "\n"), "the kong.log lines")
    no_token_shape(node:read_log(), "the node's error.log")
  end)
end)
