-- Which nginx phases can call Konnect, and with which transport.
local nginx = require "nginx.client"
local fake = require "support.fake"

describe("inside nginx", function()
  before_each(function() fake.reset() end)

  it("a call from init_worker fails with invalid_context pointing to ngx.timer.at", function()
    local _, out = nginx.request("GET", "/recorded?key=init_worker")
    assert.equal("init_worker", out.phase)
    assert.is_false(out.ok)
    assert.equal("invalid_context", out.err.kind)
    assert.matches("init_worker phase", out.err.message, 1, true)
    assert.matches("ngx.timer.at(0, fn)", out.err.message, 1, true)
    assert.matches('transport = "curl"', out.err.message, 1, true)
    assert.equal("list-users-personal-access-tokens", out.err.operation)
    assert.same({}, out.transports) -- nothing was loaded, nothing was sent
  end)

  it("the same call from ngx.timer.at(0, …) started in init_worker works", function()
    local _, out = nginx.request("GET", "/recorded?key=init_worker_timer")
    assert.equal("timer", out.phase)
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal(fake.ALICE, out.value.id)
    assert.same({ "cosocket" }, out.transports)
  end)

  it("a call from the log phase fails with invalid_context", function()
    nginx.request("GET", "/logphase")
    local out
    for _ = 1, 50 do -- the log phase runs after the response went out
      local _, v = nginx.request("GET", "/recorded?key=log")
      if type(v) == "table" then out = v break end
      os.execute("sleep 0.05")
    end
    assert.is_table(out)
    assert.equal("log", out.phase)
    assert.equal("invalid_context", out.err.kind)
    assert.matches("log phase", out.err.message, 1, true)
    assert.equal(0, fake.count("GET /v3/users/" .. fake.ALICE .. "/access-tokens"))
  end)

  it("transport = \"curl\" in the log phase works (the worker blocks, as asked)", function()
    nginx.request("GET", "/logphase?transport=curl")
    local out
    for _ = 1, 50 do -- the log phase runs after the response went out
      local _, v = nginx.request("GET", "/recorded?key=log_curl")
      if type(v) == "table" then out = v break end
      os.execute("sleep 0.05")
    end
    assert.is_table(out)
    assert.equal("log", out.phase)
    assert.is_true(out.ok, out.err and out.err.text)
    assert.same({ "curl" }, out.transports)
    assert.equal(1, fake.count("GET /v3/users/" .. fake.ALICE .. "/access-tokens"))
  end)

  it("content uses the cosocket transport", function()
    local out = nginx.call { op = "list", args = { fake.ALICE } }
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal("content", out.phase)
    assert.same({ "cosocket" }, out.transports)
    assert.is_table(out.value.data)
  end)

  it("access uses the cosocket transport", function()
    local out = nginx.call({ op = "me" }, "/access")
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal("access", out.phase)
    assert.same({ "cosocket" }, out.transports)
  end)

  it("a timer (ngx.timer.at) uses the cosocket transport", function()
    local out = nginx.call({ op = "list", args = { "me" } }, "/timer")
    assert.is_true(out.ok, out.err and out.err.text)
    assert.equal("timer", out.phase)
    assert.same({ "cosocket" }, out.transports)
  end)

  it("transport = \"curl\" in content uses the C core (blocking, libcurl initialised in the worker)", function()
    local out = nginx.call { op = "list", args = { fake.ALICE }, client = { transport = "curl" } }
    assert.is_true(out.ok, out.err and out.err.text)
    assert.same({ "curl" }, out.transports)
    assert.is_table(out.value.data)
    local log = fake.requests().log
    assert.matches("libcurl/", log[#log].headers["user-agent"], 1, true)
  end)

  it("names ngx_lua and LuaJIT in the User-Agent", function()
    assert.is_true(nginx.call({ op = "me" }).ok)
    local log = fake.requests().log
    local ua = log[#log].headers["user-agent"]
    assert.matches("^lua%-konnect/%d+%.%d+%.%d+ %(ngx_lua/%d+%.%d+%.%d+; LuaJIT 2%.1", ua)
  end)
end)
