-- The cosocket transport against a server that misbehaves on purpose
-- (spec/nginx/app/konnect_test/mock.lua, /hostile/<case>, raw bytes): one
-- deadline per attempt, every read bounded before it is buffered, nothing
-- raises, and the caller's mistakes are refused before anything is written.
local nginx = require "nginx.client"
local fake = require "support.fake"

local function raw(spec)
  local status, out = nginx.request("POST", "/raw", spec)
  assert.equal(200, status, "the test nginx answered " .. tostring(status) .. " (the transport raised?)")
  return out
end

-- the fake by another name: connections pooled here never reach another spec's pool
local FAKE = fake.http:gsub("127%.0%.0%.1", "localhost")

local function kind(out)
  return out.terr and out.terr.kind or ("no error (status " .. tostring(out.res and out.res.status) .. ")")
end

describe("cosocket transport, hostile server", function()
  it("a head trickled one byte every 0.1 s: timeout at the deadline, not when the server stops", function()
    local out = raw { url = "/hostile/trickle_head", timeout = 1 }
    assert.equal("timeout", kind(out))
    assert.is_true(out.elapsed >= 0.9 and out.elapsed < 2, "took " .. out.elapsed)
  end)

  it("a failed exchange closes its socket at once, whatever failed (nothing left to the collector)", function()
    -- over https without a named trust: a fresh connection each time, never pooled; the
    -- server is the fake Konnect, another process (the test app counts the worker's
    -- sockets to its port that the call made and left open)
    fake.reset()
    local url = fake.https_localhost .. "/v3/users/me"
    local port = tonumber(url:match("^https://[^/]-:(%d+)/"))
    for _, case in ipairs {
      { "the head timing out", { delay = 2 } },
      { "the connection closed before any response", { drop = "before_body" } },
      { "the body cut short", { truncate = true } },
      { "the body timing out", { drip = { chunks = 4, interval = 1 } } },
    } do
      local f = { method = "GET", path = "^/v3/users/me$" }
      for k, v in pairs(case[2]) do f[k] = v end
      fake.fault(f)
      local out = raw { url = url, timeout = 0.8, watch_port = port }
      assert.is_table(out.terr, case[1] .. ": no error")
      assert.equal(0, out.left_open, case[1] .. ": its socket left open")
    end
    -- and a complete exchange over such a connection (never pooled): closed too
    local out = raw { url = url, timeout = 5, watch_port = port }
    assert.is_nil(out.terr, out.terr and out.terr.message)
    assert.equal(0, out.stats.pooled)
    assert.equal(0, out.left_open, "a complete exchange: its socket left open")
    fake.reset()
  end)

  it("a request body the server never reads: timeout while sending (sent), its socket closed at once", function()
    -- a listener that never accepts: the kernel takes the connection, and the body fills the
    -- socket buffers (16 MiB: more than loopback's net.ipv4.tcp_wmem/rmem let through unread)
    local srv = assert(require("socket").bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    port = tonumber(port)
    local out = raw { url = "http://127.0.0.1:" .. port .. "/", method = "POST", body_bytes = 16 * 1024 * 1024,
                      timeout = 0.5, watch_port = port }
    srv:close()
    assert.same({ kind = "timeout", sent = true }, { kind = kind(out), sent = out.terr.sent })
    assert.equal("sending the request timed out", out.terr.message)
    assert.equal(0, out.left_open, "its socket left open")
  end)

  it("a body trickled one byte every 0.1 s: timeout at the deadline", function()
    local out = raw { url = "/hostile/trickle_body", timeout = 1 }
    assert.equal("timeout", kind(out))
    assert.is_true(out.elapsed >= 0.9 and out.elapsed < 2, "took " .. out.elapsed)
  end)

  it("a 256 MiB header line: too_large after 64 KiB, and the worker's memory stays bounded", function()
    local out = raw { url = "/hostile/long_header", timeout = 20 }
    assert.equal("too_large", kind(out))
    assert.is_true(out.terr.sent)
    local grew = out.rss_after - out.rss_before
    print(string.format("\n  [hostile] 256 MiB header line: worker RSS %d KiB before, %d KiB after (%+d KiB), %.3f s",
      out.rss_before, out.rss_after, grew, out.elapsed))
    assert.is_true(grew < 16 * 1024, "the worker grew by " .. grew .. " KiB")
    assert.is_true(out.elapsed < 2, "took " .. out.elapsed)
  end)

  it("more than 64 KiB of short header lines: too_large", function()
    assert.equal("too_large", kind(raw { url = "/hostile/many_headers" }))
  end)

  it("a chunk-size line that is not hex: network, nothing raises", function()
    local out = raw { url = "/hostile/bad_chunk" }
    assert.equal("network", kind(out))
    assert.matches("chunk", out.terr.message)
  end)

  it("an endless chunk-size line: network (bad framing, as the C core says), bounded", function()
    local out = raw { url = "/hostile/long_chunk_line", timeout = 20 }
    assert.equal("network", kind(out))
    assert.is_true(out.rss_after - out.rss_before < 16 * 1024)
  end)

  it("a chunk-size line of 1024 bytes (its extension skipped) is read; of 1025, bad framing", function()
    local out = raw { url = "/hostile/chunk_line_1024" }
    assert.is_nil(out.terr)
    assert.equal("{}", out.res.body)
    out = raw { url = "/hostile/chunk_line_1025" }
    assert.equal("network", kind(out))
    assert.equal("bad chunked framing: a chunk-size line longer than 1024 bytes", out.terr.message)
  end)

  it("a chunk size beyond max_body: too_large before its data is read", function()
    local out = raw { url = "/hostile/huge_chunk", timeout = 20 }
    assert.equal("too_large", kind(out))
    assert.is_true(out.elapsed < 2, "took " .. out.elapsed)
  end)

  it("one-byte chunks as fast as they go: the deadline holds", function()
    local out = raw { url = "/hostile/tiny_chunks", timeout = 1, opts = { max_body = 1024 * 1024 * 1024 } }
    assert.equal("timeout", kind(out))
    assert.is_true(out.elapsed < 2.5, "took " .. out.elapsed)
  end)

  it("4 MiB of one-byte chunks: too_large, and memory about the body's size, not 10x", function()
    local out = raw { url = "/hostile/tiny_chunks", timeout = 20, opts = { max_body = 4 * 1024 * 1024 } }
    assert.equal("too_large", kind(out))
    local grew = out.rss_after - out.rss_before
    print(string.format("\n  [hostile] 4 MiB of one-byte chunks: worker RSS %d KiB before, %d KiB after (%+d KiB), "
      .. "%.3f s", out.rss_before, out.rss_after, grew, out.elapsed))
    assert.is_true(grew < 24 * 1024, "the worker grew by " .. grew .. " KiB")
  end)

  it("chunk extensions and trailer fields are read past", function()
    local out = raw { url = "/hostile/trailers" }
    assert.is_nil(out.terr)
    assert.equal("{}", out.res.body)
  end)

  it("an endless stream of 100 Continue: the deadline still holds", function()
    local out = raw { url = "/hostile/interim_storm", timeout = 1 }
    assert.equal("timeout", kind(out))
    assert.is_true(out.elapsed < 2.5, "took " .. out.elapsed)
  end)

  it("bare LF line ends and odd spacing are read like libcurl reads them", function()
    local out = raw { url = "/hostile/odd_head" }
    assert.is_nil(out.terr, out.terr and out.terr.message)
    assert.equal(200, out.res.status)
    assert.equal("{}", out.res.body)
    assert.equal("v w", out.res.headers["x-sp"])
    assert.equal("a b", out.res.headers["x-folded"]) -- (RFC 9112 5.2: the fold read as one space)
    assert.equal("", out.res.headers["x-empty"])
    assert.equal("2", out.res.headers["content-length"])
  end)

  it("a status code outside 100-599: network (never read as an interim response)", function()
    assert.equal("network", kind(raw { url = "/hostile/bad_status", timeout = 3 }))
  end)

  it("300 randomly damaged responses: never raises, every failure has a transport kind", function()
    local KINDS = { network = true, too_large = true, timeout = true }
    local seed0 = os.time()
    for i = 1, 300 do
      local seed = seed0 * 1000 + i
      local out = raw { url = "/hostile/random?seed=" .. seed, timeout = 2 }
      if out.terr then
        assert.is_true(KINDS[out.terr.kind] == true, "seed " .. seed .. ": " .. tostring(out.terr.kind) .. ": "
          .. tostring(out.terr.message))
      else
        assert.is_number(out.res.status, "seed " .. seed)
        assert.is_string(out.res.body, "seed " .. seed)
      end
    end
  end)

  it("not HTTP at all: network", function()
    assert.equal("network", kind(raw { url = "/hostile/garbage" }))
  end)

  it("two different Content-Lengths: network", function()
    assert.equal("network", kind(raw { url = "/hostile/two_lengths" }))
  end)

  it("Transfer-Encoding with chunked not the final coding: the body runs until the server closes", function()
    -- RFC 9112 6.3: "If a Transfer-Encoding header field is present in a response and the chunked
    -- transfer coding is not the final encoding, the message body length is determined by reading
    -- the connection until it is closed by the server."
    local out = raw { url = "/hostile/te_chunked_not_last" }
    assert.is_nil(out.terr, out.terr and out.terr.message)
    assert.equal("2\r\n{}\r\n0\r\n\r\n", out.res.body)
  end)

  it("a Content-Length that is not a number: network, quoting its first 40 bytes", function()
    local out = raw { url = "/hostile/long_bad_length" }
    assert.equal("network", kind(out))
    assert.equal("bad Content-Length in the response: 12, abcdefghijabcdefghijabcdefghijabcdef", out.terr.message)
  end)
end)

describe("cosocket transport, what it writes", function()
  before_each(function() fake.reset() end)

  local INJECT = "x\r\nX-Injected: 1"

  it("a header value with CR/LF is refused (invalid_argument), nothing is sent", function()
    local out = raw { url = FAKE .. "/v3/users/me", headers = { ["X-Evil"] = INJECT } }
    assert.same({ kind = "invalid_argument", sent = false }, { kind = out.terr.kind, sent = out.terr.sent })
    assert.equal(0, fake.requests().total)
  end)

  it("a User-Agent with CR/LF is refused, also through header_lines", function()
    local out = raw { url = FAKE .. "/v3/users/me", headers = { ["User-Agent"] = INJECT }, lines = true }
    assert.is_string(out.lines_err)
    assert.equal("invalid_argument", out.terr.kind)
    -- a forged block handed in as header_lines
    out = raw { url = FAKE .. "/v3/users/me", block = "User-Agent: x\r\nX-Injected: 1\n\r\n" }
    assert.equal("invalid_argument", out.terr.kind)
    out = raw { url = FAKE .. "/v3/users/me", block = "User-Agent: a\rb\r\n" }
    assert.equal("invalid_argument", out.terr.kind)
    assert.equal(0, fake.requests().total)
  end)

  it("through konnect.pats: user_agent or a header with CR/LF never reaches the wire", function()
    for _, client in ipairs { { user_agent = INJECT }, { headers = { ["X-Evil"] = INJECT } } } do
      client.server, client.retries = "http", "off"
      local out = nginx.call { op = "me", client = client }
      assert.is_false(out.ok)
      assert.equal("invalid_argument", out.err.kind)
    end
    assert.equal(0, fake.requests().total)
  end)

  it("other control characters and bad names are refused too", function()
    for _, h in ipairs { { ["X-A"] = "a\0b" }, { ["X-A"] = "a\127" }, { ["X A"] = "v" }, { ["X:A"] = "v" } } do
      assert.equal("invalid_argument", raw { url = FAKE .. "/", headers = h }.terr.kind)
    end
  end)

  it("the prebuilt block is sent as is: the server sees the headers", function()
    local out = raw { url = FAKE .. "/v3/users/me", lines = true,
                      headers = { Authorization = "Bearer " .. fake.ALICE_TOKEN, ["X-Test"] = "a\tb" } }
    assert.is_nil(out.terr)
    assert.equal(200, out.res.status)
  end)

  it("an unparseable URL is invalid_argument, not connect, and says why", function()
    local PATH = "the URL path contains spaces or control characters"
    for _, c in ipairs {
      { 42, "unparseable URL: the URL must be a string" },
      { "not a url", "unparseable URL: not an absolute URL" },
      { "ftp://example.test/", "unparseable URL: unsupported URL scheme ftp" },
      -- RFC 3986 3.1: a scheme may hold "+", "-" and "."; these are well formed, just not http(s)
      { "git+ssh://example.test/", "unparseable URL: unsupported URL scheme git+ssh" },
      { "web-cal://example.test/", "unparseable URL: unsupported URL scheme web-cal" },
      { "x.y://example.test/", "unparseable URL: unsupported URL scheme x.y" },
      { "http://", "unparseable URL: no host in the URL" },
      { "http://exa mple.test/" },
      { "http://example.test:99999/", "unparseable URL: bad port in the URL" },
      { "http://example.test/a b", PATH },
      { "http://example.test/\r\nX: 1", PATH },
    } do
      local out = raw { url = c[1] }
      assert.equal("invalid_argument", out.terr and out.terr.kind, tostring(c[1]))
      assert.is_false(out.terr.sent)
      if c[2] then assert.equal(c[2], out.terr.message, tostring(c[1])) end
    end
  end)
end)
