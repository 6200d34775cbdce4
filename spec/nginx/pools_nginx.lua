-- What the cosocket transport keeps apart and refuses, found missing by `make mutate`:
-- a keepalive pool per proxy (a connection made for one setting is never handed to
-- another), and a request method that is not an HTTP token never reaches the wire.
local nginx = require "nginx.client"
local fake = require "support.fake"

local FAKE_HOSTPORT = fake.http:match("^http://([^/]+)")

describe("cosocket transport pools and methods", function()
  before_each(function() fake.reset() end)

  it("a client through a proxy never reuses a direct connection, nor one made with other credentials", function()
    local stamp = tostring(os.time()) .. tostring(math.random(1e6))
    -- direct calls first: their connections go back to the worker's pool
    local direct = nginx.call { op = "list", args = { fake.ALICE }, client = { retries = "off" },
                                cache = "trust-direct-" .. stamp }
    assert.is_true(direct.ok, direct.err and direct.err.text)
    assert.is_true(direct.stats.pooled >= 1)
    -- the fake answers absolute-form requests as a forwarding proxy would; credentials
    -- of this test's own make its pool one no other test shares
    local proxy = "http://u" .. stamp .. ":pw@" .. FAKE_HOSTPORT
    local via = nginx.call { op = "list", args = { fake.ALICE }, client = { retries = "off", proxy = proxy },
                             cache = "trust-proxy-" .. stamp }
    assert.is_true(via.ok, via.err and via.err.text)
    assert.equal(0, via.stats.reused, "a pooled direct connection was handed to the proxied client")
    assert.equal(1, via.stats.connects)
    -- the same proxy with other credentials: a pool of its own too (an https tunnel
    -- made with the first credentials would otherwise serve the second client)
    local other = "http://v" .. stamp .. ":pw2@" .. FAKE_HOSTPORT
    local via2 = nginx.call { op = "list", args = { fake.ALICE }, client = { retries = "off", proxy = other },
                              cache = "trust-proxy2-" .. stamp }
    assert.is_true(via2.ok, via2.err and via2.err.text)
    assert.equal(0, via2.stats.reused, "a connection made with other proxy credentials was reused")
  end)

  it("the origins a transport remembers stay bounded (limits.ORIGINS_KEPT), whatever a caller calls", function()
    -- a long-lived worker client whose calls name ever new servers (per-call server_url):
    -- each request below names another origin, and its header name is refused before
    -- any I/O, after the origin was looked up
    local cap = require("konnect.limits").ORIGINS_KEPT
    local name, most = "origins-" .. os.time() .. "-" .. math.random(1e6), 0
    for i = 1, cap + 10 do
      local status, out = nginx.request("POST", "/raw", { cache = name, headers = { ["Bad Name"] = "x" },
        url = ("http://origin-%d.localhost:%d/x"):format(i, 1000 + i) })
      assert.equal(200, status)
      assert.equal("invalid_argument", out.terr.kind)
      if i <= cap then assert.equal(i, out.origins, "every new origin is kept, up to the cap") end
      if out.origins > most then most = out.origins end
    end
    assert.is_true(most <= cap, most .. " origins kept")
  end)

  it("a method that is not an HTTP token is refused before any I/O", function()
    for _, method in ipairs { "GET /x HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", "GE T", "" } do
      local status, out = nginx.request("POST", "/raw", { url = fake.http .. "/v3/users/me", method = method })
      assert.equal(200, status)
      assert.is_nil(out.res, ("%q was sent"):format(method))
      assert.equal("invalid_argument", out.terr and out.terr.kind, ("%q"):format(method))
    end
    assert.equal(0, fake.requests().total)
  end)
end)
