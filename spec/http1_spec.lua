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
        { "http://@example.test/", "user info in URLs is not supported" },
        { "http:///x", "no host in the URL" },
        { "http://example.test:0/", "bad port in the URL" },
        { "http://example.test:65536/", "bad port in the URL" },
        { "ftp://example.test/", "unsupported URL scheme ftp" },
        -- RFC 3986 3.1: a scheme is a letter, then letters, digits, "+", "-" or "."
        { "git+ssh://example.test/", "unsupported URL scheme git+ssh" },
        { "web-cal://example.test/", "unsupported URL scheme web-cal" },
        { "x.y://example.test/", "unsupported URL scheme x.y" },
        -- a long scheme is named by its first 20 characters only
        { string.rep("s", 30) .. "://example.test/", "unsupported URL scheme " .. string.rep("s", 20) },
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

    local function req(t) return http1.request_head(t, "/p", t.prefix or "", TAIL) end

    it("writes the method, the prefix (absolute form through a proxy) and the caller's headers", function()
      assert.equal("DELETE http://h:8/p HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n",
        req { method = "DELETE", prefix = "http://h:8", headers = { ["X-A"] = "1" } })
      assert.equal("PROPFIND /p HTTP/1.1\r\nHost: h\r\n\r\n", req { method = "PROPFIND" }, "any token method")
      -- every RFC 9110 tchar: ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~
      local tchars = "!#$%&'*+-.^_`|~09azAZ"
      assert.equal(tchars .. " /p HTTP/1.1\r\nHost: h\r\n\r\n", req { method = tchars }, "every token character")
      for i = 1, #tchars do
        local m = "M" .. tchars:sub(i, i)
        assert.equal(m .. " /p HTTP/1.1\r\nHost: h\r\n\r\n", req { method = m }, m)
      end
      for _, bad in ipairs { "GE T", "GET\r\nX: 1", "", false, "M(", "M,", "M/", "M:", "M@", "M\"", "M{", "M\127" } do
        local v, why = req { method = bad }
        assert.is_nil(v, tostring(bad))
        assert.equal("invalid request method", why)
      end
    end)

    it("a body gets its Content-Length; POST, PUT and PATCH without one get 0; others none", function()
      assert.equal("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}", req { method = "POST", body = "{}" })
      assert.equal("PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        req { method = "PATCH", body = "hello" })
      for _, m in ipairs { "POST", "PUT", "PATCH" } do
        assert.equal(m .. " /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", req { method = m }, m)
      end
      for _, m in ipairs { "GET", "DELETE", "HEAD", "OPTIONS" } do
        assert.equal(m .. " /p HTTP/1.1\r\nHost: h\r\n\r\n", req { method = m }, m)
      end
      local v, why = req { method = "POST", body = 42 }
      assert.is_nil(v)
      assert.equal("the request body must be a string", why)
    end)

    it("drops the headers that are the transport's own, in any case, and refuses bad names and values", function()
      assert.equal("GET /p HTTP/1.1\r\nHost: h\r\nX-Keep: k\r\n\r\n", req { method = "GET", headers = {
        HOST = "evil", ["content-length"] = "9", Connection = "close", ["Transfer-Encoding"] = "chunked",
        ["X-Keep"] = "k" } })
      for _, c in ipairs {
        { { ["Bad Name"] = "x" }, 'invalid header name "Bad Name"' },
        { { ["X-A"] = "a\r\nInjected: 1" }, "the X-A header must not contain control characters (CR, LF, NUL, …)" },
        { { ["X-A"] = 7 }, "the X-A header must be a string, got number" },
        { { ["X-A"] = ("v"):rep(8193) }, "the X-A header is longer than 8192 bytes" },
      } do
        local v, why = req { method = "GET", headers = c[1] }
        assert.is_nil(v)
        assert.equal(c[2], why)
      end
      local v, why = req { method = "GET", headers = "X-A: 1" }
      assert.is_nil(v)
      assert.equal("headers must be a table", why)
      assert.equal("GET /p HTTP/1.1\r\nHost: h\r\n\r\n", req { method = "GET" }, "no headers at all")
    end)

    it("takes a block made once by header_lines, and checks a block given as a string each time", function()
      local sealed = assert(http1.header_lines { ["X-Once"] = "1", Host = "dropped" })
      assert.equal("GET /p HTTP/1.1\r\nHost: h\r\nX-Once: 1\r\n\r\n",
        req { method = "GET", header_lines = sealed, headers = { ["X-Ignored"] = "y" } })
      local v, why = http1.header_lines { ["Bad Name"] = "x" }
      assert.is_nil(v)
      assert.equal('invalid header name "Bad Name"', why)
      assert.equal("GET /p HTTP/1.1\r\nHost: h\r\nX-S: 1\r\nX-T: 2\r\n\r\n",
        req { method = "GET", header_lines = "X-S: 1\r\nX-T: 2\r\n" })
      for _, c in ipairs {
        { "X-S 1\r\n", "malformed header block" },
        { "X-S: 1\n", "malformed header block" },
        { "X-S: 1\r\nX-T: 2", "malformed header block" },
        { "X-S: 1\nX-T: 2\r\n", "malformed header block" },
        { "X-S: 1\nHost: evil\r\n", "malformed header block" },
        { "Bad Name: 1\r\n", 'invalid header name "Bad Name"' },
        { "X-S: a\0b\r\n", "the X-S header must not contain control characters (CR, LF, NUL, …)" },
        { "Content-Length: 5\r\n", "the Content-Length header is the transport's own" },
        { "host: x\r\n", "the host header is the transport's own" },
      } do
        v, why = req { method = "GET", header_lines = c[1] }
        assert.is_nil(v, c[1])
        assert.equal(c[2], why, c[1])
      end
    end)
  end)

  describe("the response head", function()
    it("head_end: after the first blank line, CRLF or bare LF", function()
      assert.equal(19, http1.head_end("HTTP/1.1 200 OK\r\n\r\nbody"))
      assert.equal(17, http1.head_end("HTTP/1.1 200 OK\n\nbody\n\n"))
      assert.equal(18, http1.head_end("HTTP/1.1 200 OK\n\r\nbody"))
      assert.equal(6, http1.head_end("A: 1\n\nB\r\n\r\n"), "the earlier of the two forms")
      assert.equal(8, http1.head_end("A: 1\r\n\r\nB\n\n"), "the earlier of the two forms")
      assert.is_nil(http1.head_end("HTTP/1.1 200 OK\r\nA: 1\r\n"))
    end)

    it("parse_head: status, minor version, lower-cased names, trimmed values, repeats joined", function()
      local status, h, minor = http1.parse_head("HTTP/1.0 404 Not Found\r\nContent-Type :  text/plain \t\r\n"
        .. "X-Multi: a\r\nx-multi: b\r\nX-Empty:\r\nX-Htab:\t\tv\t\r\nX-Tab-Name\t \t: t\r\n"
        .. "  folded  continuation \r\nno colon here\r\n\tand: another\r\n \t \r\nX-Last: z\n\r\n")
      assert.equal(404, status)
      assert.equal(0, minor)
      -- an obsolete folded line continues the field before it, after one space (RFC 9112 5.2), as in the
      -- C core; a line of white space adds nothing; a line without a colon is skipped
      assert.same({ ["content-type"] = "text/plain", ["x-multi"] = "a, b", ["x-empty"] = "",
                    ["x-htab"] = "v", ["x-tab-name"] = "t folded  continuation and: another", ["x-last"] = "z" }, h)
      assert.is_nil(http1.parse_head("HTTP/1.1 200 OK\r\n folded: before any field\r\nX-A: 1\r\n\r\n"))
      assert.equal(204, (http1.parse_head("HTTP/1.1 204 No Content\r\n\r\n")))
      assert.equal(599, (http1.parse_head("HTTP/1.1 599\r\n\r\n")))
      for _, bad in ipairs { "HTTP/1.1 099 Odd\r\n\r\n", "HTTP/1.1 600 Odd\r\n\r\n", "HTTP/1.1 2000 Odd\r\n\r\n",
                             "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", " HTTP/1.1 200 OK\r\n\r\n",
                             "SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/1.1 200X OK\r\n\r\n", "HTTP/1.1 200\tOK\r\n\r\n",
                             "HTTP/1.1 200.5\r\n\r\n" } do
        assert.is_nil(http1.parse_head(bad), bad)
      end
    end)

    it("content_length: one number, or the same number repeated; anything else is nil", function()
      for _, c in ipairs { { "42", 42 }, { " 42\t", 42 }, { "0", 0 }, { "42, 42", 42 }, { "7,7,7", 7 } } do
        assert.equal(c[2], http1.content_length(c[1]), c[1])
      end
      for _, bad in ipairs { "", "abc", "4 2", "-1", "42, 43", "42,", "1.5", "0x10", ", 42" } do
        assert.is_nil(http1.content_length(bad), bad)
      end
    end)

    it("server_closes: Connection: close, or HTTP/1.0 without keep-alive", function()
      assert.is_false(http1.server_closes({}, 1))
      assert.is_true(http1.server_closes({}, 0))
      assert.is_true(http1.server_closes({ connection = "Close" }, 1))
      assert.is_true(http1.server_closes({ connection = "upgrade, close" }, 1))
      assert.is_false(http1.server_closes({ connection = "keep-alive" }, 1))
      assert.is_false(http1.server_closes({ connection = "Keep-Alive" }, 0))
      assert.is_true(http1.server_closes({ connection = "upgrade" }, 0))
      assert.is_false(http1.server_closes({ connection = "upgrade" }, 1))
    end)
  end)
end)
