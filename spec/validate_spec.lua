local validate = require "konnect.validate"

describe("konnect.validate", function()
  describe("uuid", function()
    it("accepts a UUID and rejects anything else", function()
      local id = "5f9fd312-a987-4628-b4c5-bb4f4fddd5f7"
      assert.equal(id, validate.uuid(id, "id"))
      for _, bad in ipairs { "", "5f9fd312", "5f9fd312-a987-4628-b4c5-bb4f4fddd5f7/../x",
                             "../../v3/users", "5f9fd312-a987-4628-b4c5-bb4f4fddd5fz",
                             "5f9fd312a98746284b4c5bb4f4fddd5f7" } do
        local v, err = validate.uuid(bad, "token_id")
        assert.is_nil(v, bad)
        assert.matches("token_id must be a UUID", err)
      end
      local v, err = validate.uuid(42, "user_id")
      assert.is_nil(v)
      assert.equal("user_id must be a string UUID, got number", err)
    end)
    it("lets user_id be \"me\"", function()
      assert.equal("me", validate.user_id("me"))
      assert.is_nil(validate.user_id("you"))
    end)
  end)

  it("remembers at most limits.UUIDS_REMEMBERED valid ids (then starts afresh), however many it sees", function()
    local limits = require "konnect.limits"
    for i = 1, limits.UUIDS_REMEMBERED * 3 + 7 do
      local id = ("%08x-0000-4000-8000-000000000000"):format(i)
      assert.equal(id, validate.uuid(id, "id"))
      local n = 0
      for _ in pairs(validate.uuid_seen) do n = n + 1 end
      assert.truthy(n <= limits.UUIDS_REMEMBERED, n)
    end
  end)

  describe("name", function()
    it("follows the contract's PATName pattern", function()
      -- U+E000 and U+D7FF: beside the surrogates
      for _, good in ipairs { "ci", "ci-token", "Bob's token", "a.b_c d", "été 2026", "ключ", "令牌", "x1",
                              "a\238\128\128b", "a\237\159\191b", "0z", "9Z" } do
        assert.equal(good, (validate.name(good)), good)
      end
      local cases = {
        [""] = "must not be empty",
        ["a"] = "at least 2 characters",
        ["-ci"] = "must start with a letter or digit",
        ["ci-"] = "must end with a letter or digit",
        ["ci/token"] = 'may only contain letters, digits, space, _ - . and \' (found "/")',
        ["a\226\128\128b"] = '(found "\226\128\128")', -- U+2000 (en quad), quoted whole
        ["a`b"] = "may only contain", ["a@b"] = "may only contain", ["a[b"] = "may only contain",
        ["a{b"] = "may only contain", ["a:b"] = "may only contain",
        ["a\226\129\175b"] = "may only contain", -- U+206F, its last
        ["a\227\128\128b"] = "may only contain", -- U+3000 (ideographic space)
        ["a\237\160\128b"] = "not valid UTF-8", -- U+D800, a surrogate
        ["a\237\191\191b"] = "not valid UTF-8", -- U+DFFF
        ["ci\ttoken"] = "control characters",
        ["ci\0token"] = "control characters",
        ["ci\194\133x"] = "control characters", -- U+0085 (NEL)
        ["bad\255utf8"] = "not valid UTF-8",
        ["over\192\175long"] = "not valid UTF-8",
        ["ab\195\255cd"] = "not valid UTF-8", -- a lead byte then no continuation byte
        ["ab\226\130"] = "not valid UTF-8", -- cut short at the end
        [("n"):rep(257)] = "at most 256 characters",
      }
      for input, want in pairs(cases) do
        local v, err = validate.name(input)
        assert.is_nil(v, input)
        assert.matches(want, err, 1, true)
      end
      assert.equal(("é"):rep(256), validate.name(("é"):rep(256)), "256 two-byte characters are fine")
      assert.is_nil(validate.name({}))
    end)
  end)

  describe("name's letters and digits (the boundaries of what Lua can tell without Unicode tables)", function()
    it("takes A-Z, a-z, 0-9 and letters from U+00C0 up, and refuses the punctuation blocks inside a name", function()
      -- U+00C0 À, U+00D8 Ø, U+00F8 ø, U+2070 superscript zero, U+3040: the first code points past each refused block
      for _, good in ipairs { "Ab", "AZ", "az", "09", "a\195\128", "a\195\152", "a\195\184", "a\226\129\176",
                              "a\227\129\128" } do
        assert.equal(good, (validate.name(good)), good)
      end
      -- U+00A0 no-break space, U+00BF ¿, U+00D7 ×, U+00F7 ÷, U+2000, U+206F, U+3000, U+303F, U+FEFF
      for _, bad in ipairs { "a\194\160b", "a\194\191b", "a\195\151b", "a\195\183b", "a\226\128\128b",
                             "a\226\129\175b", "a\227\128\128b", "a\227\128\191b", "a\239\187\191b" } do
        local v, err = validate.name(bad)
        assert.is_nil(v, bad)
        assert.equal(("name may only contain letters, digits, space, _ - . and ' (found %q)"):format(bad:sub(2, -2)),
          err, bad)
      end
    end)
  end)

  describe("sa_name", function()
    it("takes 1 to 256 characters (not bytes) of UTF-8 without control characters", function()
      for _, good in ipairs { "x", "-", ("n"):rep(256), ("é"):rep(256), ("令"):rep(256), "a/b c" } do
        assert.equal(good, (validate.sa_name(good)), good)
      end
      local cases = {
        [""] = "must not be empty",
        [("n"):rep(257)] = "at most 256 characters",
        [("é"):rep(257)] = "at most 256 characters",
        ["a\tb"] = "control characters", ["a\194\133b"] = "control characters",
        ["a\255b"] = "not valid UTF-8",
      }
      for input, want in pairs(cases) do
        local v, err = validate.sa_name(input)
        assert.is_nil(v, input)
        assert.matches(want, err, 1, true)
      end
    end)
  end)

  describe("sa_name's control characters", function()
    it("refuses a tab anywhere, and the C1 controls U+0080..U+009F, but takes U+00A0", function()
      for _, bad in ipairs { "\tab", "a\tb", "ab\t", "\194\128", "a\194\159" } do
        local v, err = validate.sa_name(bad)
        assert.is_nil(v, bad)
        assert.equal("name must not contain control characters", err)
      end
      assert.equal("a\194\160b", (validate.sa_name("a\194\160b")))
    end)
  end)

  describe("UTF-8", function()
    -- RFC 3629 4: C0, C1 and F5-FF never appear; E0 needs A0-BF next, F0 90-BF, F4 80-8F;
    -- ED 80-9F (no surrogates); every sequence whole
    local good = {
      "\194\161", -- U+00A1, the first 2-byte character not a control
      "\223\191", -- U+07FF, the last 2-byte
      "\224\160\128", -- U+0800, the first 3-byte
      "\224\184\129", -- U+0E01 (Thai ko kai): a letter under E0
      "\237\159\191", -- U+D7FF, the last before the surrogates
      "\238\128\128", -- U+E000, the first after them
      "\239\191\189", -- U+FFFD
      "\240\144\128\128", -- U+10000, the first 4-byte
      "\244\143\191\191", -- U+10FFFF, the last code point
    }
    local bad = {
      "\128", "\191", -- a continuation byte alone
      "\192\128", "\193\191", -- C0, C1: overlong 2-byte
      "\194", "\223", "\224\160", "\224\128", "\239\191", "\240\144\128", "\244\143\191", -- cut short
      "\194\65", "\194\192", "\224\160\192", "\240\144\128\192", -- a continuation byte out of 80-BF
      "\224\159\191", -- overlong 3-byte (U+07FF)
      "\240\143\191\191", -- overlong 4-byte (U+FFFF)
      "\244\144\128\128", -- U+110000, past the last code point
      "\245\128\128\128", "\248\136\128\128\128", "\255", -- lead bytes that never occur
    }

    it("sa_name takes every well-formed sequence up to U+10FFFF and refuses the rest", function()
      for _, ch in ipairs(good) do
        assert.equal("a" .. ch .. "b", (validate.sa_name("a" .. ch .. "b")), ("%q"):format(ch))
      end
      for _, ch in ipairs(bad) do
        for _, input in ipairs { "a" .. ch .. "b", "ab" .. ch, ch .. "ab" } do
          local v, err = validate.sa_name(input)
          assert.is_nil(v, ("%q"):format(input))
          assert.matches("not valid UTF-8", err, 1, true)
        end
      end
    end)

    it("name takes letters of every sequence length (U+07CA, U+0800, U+0E01, U+10000), " ..
      "refuses ill-formed ones and controls", function()
      for _, ch in ipairs { "\223\138", "\224\160\128", "\224\184\129", "\240\144\128\128" } do
        assert.equal("a" .. ch .. "b", (validate.name("a" .. ch .. "b")), ("%q"):format(ch))
        assert.equal(ch .. ch, (validate.name(ch .. ch)), ("%q"):format(ch))
      end
      -- a byte 7F where a continuation byte should be: DEL, not part of the sequence
      for _, ch in ipairs(bad) do
        for _, input in ipairs { "a" .. ch .. "b", "a\225\128\127b", "a\194\127b" } do
          local v, err = validate.name(input)
          assert.is_nil(v, ("%q"):format(input))
          assert.matches("not valid UTF-8", err, 1, true)
        end
      end
      -- well-formed controls are controls: DEL, U+0080 and U+009F (C1)
      for _, ch in ipairs { "\127", "\194\128", "\194\159" } do
        local v, err = validate.name("a" .. ch .. "b")
        assert.is_nil(v, ("%q"):format(ch))
        assert.equal("name must not contain control characters", err)
        v, err = validate.sa_name("a" .. ch .. "b")
        assert.is_nil(v, ("%q"):format(ch))
        assert.equal("name must not contain control characters", err)
      end
    end)
  end)

  describe("create_body", function()
    it("needs exactly one of ttl_seconds and expires_at", function()
      assert.same({ name = "ci", ttl_seconds = 86400 }, validate.create_body { name = "ci", ttl_seconds = 86400 })
      assert.same({ name = "ci", expires_at = "2030-01-31T00:00:00Z" },
        validate.create_body { name = "ci", expires_at = "2030-01-31T00:00:00Z" })
      local _, err = validate.create_body { name = "ci" }
      assert.equal("create needs exactly one of ttl_seconds and expires_at (deprecated)", err)
      _, err = validate.create_body { name = "ci", ttl_seconds = 86400, expires_at = "2030-01-31T00:00:00Z" }
      assert.equal("create needs exactly one of ttl_seconds and expires_at (deprecated)", err)
    end)
    it("checks the ttl range and type", function()
      assert.is_table(validate.create_body { name = "ci", ttl_seconds = 31536000 })
      for _, bad in ipairs { 86399, 31536001, 86400.5, 0, -1 } do
        local v, err = validate.create_body { name = "ci", ttl_seconds = bad }
        assert.is_nil(v)
        assert.matches("ttl_seconds", err)
      end
      local _, err = validate.create_body { name = "ci", ttl_seconds = "86400" }
      assert.equal("ttl_seconds must be an integer number of seconds, got string", err)
    end)
    it("converts an epoch expires_at and checks ISO strings", function()
      local b = validate.create_body { name = "ci", expires_at = 1900000000 }
      assert.equal("2030-03-17T17:46:40Z", b.expires_at)
      assert.is_table(validate.create_body { name = "ci", expires_at = "2030-01-31T00:00:00.123+02:00" })
      for _, bad in ipairs { "tomorrow", "2030-01-31", "2030-13-01T00:00:00Z", "2030-01-31T00:00:00" } do
        local v, err = validate.create_body { name = "ci", expires_at = bad }
        assert.is_nil(v, bad)
        assert.matches("RFC 3339", err)
      end
    end)
    it("rejects unknown options instead of ignoring a typo", function()
      local v, err = validate.create_body { name = "ci", ttl = 86400 }
      assert.is_nil(v)
      assert.equal("create: unknown option ttl (expected expires_at, name, ttl_seconds)", err)
      assert.is_nil((validate.create_body("ci")))
    end)
  end)

  describe("update_body", function()
    it("needs name and nothing else", function()
      assert.same({ name = "renamed" }, validate.update_body { name = "renamed" })
      assert.equal("update needs name", select(2, validate.update_body {}))
      assert.matches("unknown option", select(2, validate.update_body { name = "ok", state = "REVOKED" }))
    end)
  end)

  describe("token", function()
    it("refuses empty tokens and whitespace", function()
      assert.equal("kpat_x", validate.token("kpat_x"))
      assert.is_nil(validate.token(""))
      assert.is_nil(validate.token(nil))
      assert.is_nil(validate.token("kpat_x\n"))
      assert.is_nil(validate.token("kpat x"))
    end)
  end)

  describe("server_url", function()
    it("keeps a path prefix and strips trailing slashes", function()
      local s = validate.server_url("https://gw.example.com/konnect/")
      assert.equal("https://gw.example.com/konnect", s.base)
      assert.equal(443, s.port)
    end)
    it("refuses an IPv6 literal followed by anything but a port", function()
      for _, url in ipairs { "http://[::1]:80x", "http://[::1]x", "http://[::1]:8080:1" } do
        assert.is_nil(validate.server_url(url), url)
      end
      assert.equal(8080, validate.server_url("http://[::1]:8080").port)
    end)
    it("reads the scheme in any case (RFC 3986 3.1: schemes are case-insensitive)", function()
      for _, url in ipairs { "HTTPS://gw.example.com", "Https://gw.example.com", "HTTP://127.0.0.1:8080" } do
        local s, err = validate.server_url(url)
        assert.is_table(s, err)
        assert.equal(url:sub(1, 5):lower() == "https" and "https" or "http", s.scheme, url)
      end
    end)
    it("refuses plain http except to loopback or when allowed", function()
      assert.is_table(validate.server_url("http://127.0.0.1:8080"))
      assert.is_table(validate.server_url("http://localhost:8080"))
      assert.is_table(validate.server_url("http://[::1]:8080"))
      local v, err = validate.server_url("http://konnect.example.com")
      assert.is_nil(v)
      assert.matches("refusing plain http", err)
      assert.is_table(validate.server_url("http://konnect.example.com", true))
    end)
    it("refuses other schemes, credentials, queries", function()
      for _, bad in ipairs { "ftp://x", "file:///etc/passwd", "https://user:pw@x", "https://x/?a=b",
                             "x.com", "https://" } do
        assert.is_nil(validate.server_url(bad), bad)
      end
    end)
    it("refuses credentials in the URL and says to use the token option", function()
      for _, bad in ipairs { "https://user:pw@gw.example.com", "https://kpat_fake_x@gw.example.com/konnect",
                             "http://u@127.0.0.1:8080" } do
        local v, err = validate.server_url(bad)
        assert.is_nil(v, bad)
        assert.equal("server_url must not carry credentials; use the token option", err)
      end
    end)
    it("refuses a fragment as it refuses a query: the path would be cut at it", function()
      for _, bad in ipairs { "https://gw.example.com/konnect#top", "https://gw.example.com/#",
                             "https://gw.example.com/konnect?x=1" } do
        local v, err = validate.server_url(bad)
        assert.is_nil(v, bad)
        assert.equal("server_url must not have a query or fragment", err)
      end
    end)
    it("takes a bracketed IPv6 address of at most 45 characters, and nothing else in brackets", function()
      local longest = "1234:5678:9abc:def0:1234:5678:255.255.255.255" -- 45: IPv6's longest text form
      assert.equal(45, #longest)
      assert.equal("[" .. longest .. "]", validate.server_url("https://[" .. longest .. "]/").host)
      assert.equal("[::1]", validate.server_url("http://[::1]:8080").host)
      for _, bad in ipairs { "https://[" .. longest .. "0]/", "https://[1.2.3.4]/", "https://[12345]/" } do
        local v, err = validate.server_url(bad)
        assert.is_nil(v, bad)
        assert.matches("^server_url: invalid IPv6 address", err)
      end
    end)
    it("takes ports 1 to 65535 only", function()
      assert.equal(1, validate.server_url("http://127.0.0.1:1").port)
      assert.equal(65535, validate.server_url("http://127.0.0.1:65535").port)
      for _, bad in ipairs { "http://127.0.0.1:0", "http://127.0.0.1:65536", "https://gw.example.com:00" } do
        local v, err = validate.server_url(bad)
        assert.is_nil(v, bad)
        assert.equal("server_url port out of range", err)
      end
    end)
  end)

  describe("server_url's exact refusals", function()
    it("says what is wrong with each malformed URL", function()
      local cases = {
        { 42, "server_url must be a string" },
        { false, "server_url must be a string" },
        { " https://gw.example.com", "server_url must be an absolute http(s) URL" },
        { "1https://gw.example.com", "server_url must be an absolute http(s) URL" },
        { "web+https://gw.example.com", "server_url must use https (or http to a loopback host)" },
        { "a.b://gw.example.com", "server_url must use https (or http to a loopback host)" },
        { "https://@gw.example.com", "server_url must not carry credentials; use the token option" },
        { "https://gw.example.com#frag", "server_url must not have a query or fragment" },
        { "https://gw.example.com:443x", "server_url has no valid host" },
        { "https://x[::1]:443", "server_url has no valid host" },
        { "https://gw.example.com/a b", "server_url must not contain spaces" },
        { "https://gw.example.com/a\127", "server_url must not contain spaces" },
      }
      for _, c in ipairs(cases) do
        local v, err = validate.server_url(c[1])
        assert.is_nil(v, tostring(c[1]))
        assert.equal(c[2], err, tostring(c[1]))
      end
    end)
  end)

  describe("expires_at", function()
    it("takes epoch seconds from 0 to 9999-12-31T23:59:59Z and nothing past", function()
      assert.equal("1970-01-01T00:00:00Z", validate.expires_at(0))
      assert.equal("9999-12-31T23:59:59Z", validate.expires_at(253402300799))
      for _, bad in ipairs { -1, 253402300800, 1 / 0, 0 / 0 } do
        local v, err = validate.expires_at(bad)
        assert.is_nil(v, tostring(bad))
        assert.equal("expires_at is not a valid epoch time", err)
      end
    end)
    it("names the type it got when given neither a string nor a number", function()
      for _, bad in ipairs { true, {} } do
        local v, err = validate.expires_at(bad)
        assert.is_nil(v)
        assert.equal("expires_at must be an ISO-8601 date-time string or epoch seconds, got " .. type(bad), err)
      end
    end)
  end)

  describe("user_id", function()
    it("tells \"ME\" (any case but lower) apart from a malformed UUID", function()
      for _, v in ipairs { "ME", "Me", "mE" } do
        local ok, err = validate.user_id(v)
        assert.is_nil(ok)
        assert.equal('user_id must be a UUID or "me" (lower case), got "' .. v .. '"', err)
      end
      local ok, err = validate.user_id("MEE")
      assert.is_nil(ok)
      assert.equal("user_id must be a UUID (8-4-4-4-12 hex digits)", err)
    end)
  end)

  describe("sa_create_body", function()
    it("needs an options table, and takes ttl_seconds as a whole number from 1 to SA_TTL_MAX", function()
      local limits = require "konnect.limits"
      local v, err = validate.sa_create_body("ci")
      assert.is_nil(v)
      assert.equal("create_sa_token needs an options table { name =, expires_at = }", err)
      for _, ttl in ipairs { 1, limits.SA_TTL_MAX } do
        local before = os.time()
        local b = assert(validate.sa_create_body({ name = "ci", ttl_seconds = ttl }))
        assert.equal("ci", b.name)
        assert.is_string(b.expires_at)
        local at = require("konnect.time").rfc3339(b.expires_at)
        assert.truthy(at and at >= before + ttl and at <= os.time() + ttl, b.expires_at)
      end
      for _, bad in ipairs { 0, limits.SA_TTL_MAX + 1, 1.5, "60" } do
        v, err = validate.sa_create_body({ name = "ci", ttl_seconds = bad })
        assert.is_nil(v, tostring(bad))
        assert.equal("ttl_seconds must be a whole number of seconds from 1 to " .. limits.SA_TTL_MAX, err)
      end
    end)
  end)

  describe("sa_update_body", function()
    it("needs a name, and checks it", function()
      local v, err = validate.sa_update_body({})
      assert.is_nil(v)
      assert.equal("update_sa_token needs name", err)
      v, err = validate.sa_update_body({ name = "" })
      assert.is_nil(v)
      assert.equal("name must not be empty", err)
      assert.same({ name = "ci" }, validate.sa_update_body({ name = "ci" }))
      v, err = validate.sa_update_body({ name = "ci", ttl = 5 })
      assert.is_nil(v)
      assert.matches("unknown option ttl", err, 1, true)
      v, err = validate.update_body({ name = "" })
      assert.is_nil(v)
      assert.equal("name must not be empty", err)
    end)
  end)

  describe("query", function()
    local F = { name = "string" }
    it("names an unknown key, or its type when it is not a string", function()
      local v, err = validate.query({ bogus = 1 }, F, "list_x", { page_number = true })
      assert.is_nil(v)
      assert.equal("list_x: unknown query key bogus (expected filter, page_number, page_size)", err)
      v, err = validate.query({ [1] = 1 }, F, "list_x")
      assert.is_nil(v)
      assert.equal("list_x: unknown query key (a number) (expected filter, page_size)", err)
    end)
    it("takes page_number from 1 to 2^31 and max_pages from 1 to the ceiling", function()
      local limits = require "konnect.limits"
      assert.equal(1, validate.query({ page_number = 1 }, F, "x", { page_number = true }).page_number)
      assert.equal(2 ^ 31, validate.query({ page_number = 2 ^ 31 }, F, "x", { page_number = true }).page_number)
      for _, bad in ipairs { 0, 2 ^ 31 + 1, 1.5, "1" } do
        local v, err = validate.query({ page_number = bad }, F, "x", { page_number = true })
        assert.is_nil(v, tostring(bad))
        assert.equal("x: page_number must be a whole number from 1 to 2147483648", err)
      end
      local top = limits.MAX_PAGES_CEILING
      assert.equal(1, validate.query({ max_pages = 1 }, F, "x", { max_pages = true }).max_pages)
      assert.equal(top, validate.query({ max_pages = top }, F, "x", { max_pages = true }).max_pages)
      for _, bad in ipairs { 0, top + 1 } do
        local v, err = validate.query({ max_pages = bad }, F, "x", { max_pages = true })
        assert.is_nil(v, tostring(bad))
        assert.equal(("x: max_pages must be a whole number from 1 to %d"):format(top), err)
      end
    end)
    it("takes no query, or a table whose page_size is whole, 1 to PAGE_SIZE_MAX, and says why not", function()
      local limits = require "konnect.limits"
      assert.same({ filters = {} }, validate.query(nil, F, "list_x"))
      local v, err = validate.query("page_size=5", F, "list_x")
      assert.is_nil(v)
      assert.equal("list_x: the query must be a table { filter =, page_size = }, got string", err)
      assert.equal(1, validate.query({ page_size = 1 }, F, "list_x").page_size)
      assert.equal(limits.PAGE_SIZE_MAX, validate.query({ page_size = limits.PAGE_SIZE_MAX }, F, "list_x").page_size)
      for _, bad in ipairs { 0, limits.PAGE_SIZE_MAX + 1, 2.5, "10" } do
        v, err = validate.query({ page_size = bad }, F, "list_x")
        assert.is_nil(v, tostring(bad))
        assert.equal("list_x: page_size must be a whole number from 1 to " .. limits.PAGE_SIZE_MAX, err)
      end
    end)
    it("names the fields a list filters on, and the operators an eq-only field takes", function()
      local F2 = { id = "eq", name = "string" }
      local v, err = validate.query({ filter = { nmae = { eq = "x" } } }, F2, "list_x")
      assert.is_nil(v)
      assert.equal("list_x: cannot filter on nmae (this list filters on id, name)", err)
      v, err = validate.query({ filter = { [1] = { eq = "x" } } }, F2, "list_x")
      assert.is_nil(v)
      assert.equal("list_x: cannot filter on (a number) (this list filters on id, name)", err)
      v, err = validate.query({ filter = { id = { contains = "x" } } }, F2, "list_x")
      assert.is_nil(v)
      assert.equal('list_x: filter.id must be { eq = "…" }', err)
      v, err = validate.query({ filter = { name = { like = "x" } } }, F2, "list_x")
      assert.is_nil(v)
      assert.equal('list_x: filter.name must be { eq = "…" } or { contains = "…" }', err)
    end)
    it("takes one filter operator, its value a non-empty string of at most FILTER_MAX bytes, or says why", function()
      local limits = require "konnect.limits"
      local q = validate.query({ filter = { name = { contains = "ci" } } }, F, "list_x")
      assert.same({ { field = "name", op = "contains", value = "ci" } }, q.filters)
      local max = string.rep("a", limits.FILTER_MAX)
      assert.equal(max, validate.query({ filter = { name = { eq = max } } }, F, "list_x").filters[1].value)
      for _, bad in ipairs { "", max .. "a", 5, true } do
        local v, err = validate.query({ filter = { name = { eq = bad } } }, F, "list_x")
        assert.is_nil(v, tostring(bad))
        assert.equal(("list_x: filter.name.eq must be a non-empty string of at most %d bytes")
          :format(limits.FILTER_MAX), err)
      end
    end)
  end)

  describe("proxy (konnect.limits, the same rulebook)", function()
    local limits = require "konnect.limits"
    it("takes ports 1 to 65535; without one, 1080 (http) or 443 (https)", function()
      assert.equal(1, limits.proxy("http://127.0.0.1:1").port)
      assert.equal(65535, limits.proxy("http://127.0.0.1:65535").port)
      assert.equal(1080, limits.proxy("http://proxy.example").port)
      assert.equal(443, limits.proxy("https://proxy.example/").port)
      for _, bad in ipairs { "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://u:p@proxy.example:0" } do
        local v, err = limits.proxy(bad)
        assert.is_nil(v, bad)
        assert.equal("proxy URL port out of range", err)
      end
    end)
    it("takes a bracketed IPv6 host with or without a port", function()
      local v = assert(limits.proxy("http://[::1]:3128"))
      assert.equal(3128, v.port)
      assert.equal("http://[::1]:3128", v.url)
      assert.equal(1080, assert(limits.proxy("http://[::1]")).port)
      assert.equal(443, assert(limits.proxy("https://u:p@[2001:db8::1]/")).port)
    end)
    it("refuses empty credentials, or credentials with a control character, space or slash", function()
      assert.equal("u:p", limits.proxy("http://u:p@proxy.example:8080").userinfo)
      for _, bad in ipairs { "http://@proxy.example:8080", "http://u\1:p@proxy.example", "http://u:p\127@proxy.example",
                             "http://u p:x@proxy.example", "http://u:p\t@proxy.example" } do
        local v, err = limits.proxy(bad)
        assert.is_nil(v, bad)
        assert.equal("proxy URL has malformed credentials", err)
      end
    end)
  end)
end)
