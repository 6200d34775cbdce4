-- konnect.transport.http1: what the cosocket transport writes, as plain functions
-- (no nginx needed): URLs taken apart, and the request head made from a target.
-- The transport's behaviour on the wire is spec/nginx/*'s and the hostile suite's.
local http1 = require "konnect.transport.http1"

local TAIL = " HTTP/1.1\r\nHost: h\r\n"

describe("konnect.transport.http1", function()
  describe("parse_url", function()
    it("takes scheme, host, port and the target; the fragment never goes out", function()
      for _, c in ipairs {
        { "http://example.test", "http", "example.test", 80, "/" },
        { "HTTPS://Example.TEST/v3/x?y=1", "https", "example.test", 443, "/v3/x?y=1" },
        { "http://example.test:8080?x=1#f", "http", "example.test", 8080, "/?x=1" },
        { "http://example.test/a/b#frag ment", "http", "example.test", 80, "/a/b" },
        { "http://[::1]:9/", "http", "[::1]", 9, "/" },
      } do
        local scheme, host, port, target = http1.parse_url(c[1])
        assert.same({ c[2], c[3], c[4], c[5] }, { scheme, host, port, target }, c[1])
      end
    end)

    it("refuses what cannot be written as a request line, with a reason", function()
      for _, c in ipairs {
        { "http://example.test/a b", "the URL path contains spaces or control characters" },
        { "http://example.test/a\r\nX-Injected: 1", "the URL path contains spaces or control characters" },
        { "http://example.test/\0", "the URL path contains spaces or control characters" },
        { "http://user:pw@example.test/", "user info in URLs is not supported" },
        { "http:///x", "no host in the URL" },
        { "http://example.test:0/", "bad port in the URL" },
        { "http://example.test:65536/", "bad port in the URL" },
        { "ftp://example.test/", "unsupported URL scheme ftp" },
        { "example.test/x", "not an absolute URL" },
      } do
        local v, why = http1.parse_url(c[1])
        assert.is_nil(v, c[1])
        assert.equal(c[2], why, c[1])
      end
    end)
  end)

  describe("request_head", function()
    local function head(target)
      return (http1.request_head({ method = "GET", headers = {} }, target, "", TAIL))
    end

    it("writes the target without its fragment, / for an empty one, /?q for a bare query", function()
      assert.equal("GET /x HTTP/1.1\r\nHost: h\r\n\r\n", head("/x#frag"))
      assert.equal("GET / HTTP/1.1\r\nHost: h\r\n\r\n", head("#only"))
      assert.equal("GET / HTTP/1.1\r\nHost: h\r\n\r\n", head(""))
      assert.equal("GET /?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", head("?q=1"))
    end)

    it("refuses a target with a space or a control character, even after a fragment is cut", function()
      for _, t in ipairs { "/a b", "/a\r\nX: 1", "/a\tb#f", "/a\0" } do
        local v, why = http1.request_head({ method = "GET", headers = {} }, t, "", TAIL)
        assert.is_nil(v, t)
        assert.equal("the URL path contains spaces or control characters", why)
      end
    end)
  end)
end)
