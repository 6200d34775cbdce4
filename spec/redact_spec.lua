-- konnect.redact: the forms of a secret a server may echo, masked wherever the
-- library lets a string out.  The unit cases call the module; the last one goes
-- through a client against the fake Konnect (an error body, the hook view, the log).
local redact = require "konnect.redact"
local fake   = require "support.fake"
local pats   = require "konnect.pats"

local MASK = redact.MASK

-- a secret holding each byte JSON escapes with a backslash of its own: " \ /
-- (a proxy password may hold anything; a token anything but white space and controls)
local SECRET = [[Pw"9q\Zx/7mK]]
-- how a JSON encoder writes it inside a string: \" \\ and (PHP's, Java's) \/
local ESCAPED = [[Pw\"9q\\Zx\/7mK]]

describe("konnect.redact", function()
  describe("JSON backslash escapes of a secret", function()
    it("masks the secret written with \\\" \\\\ and \\/", function()
      assert.equal(MASK, redact.string(ESCAPED, SECRET))
      assert.equal('{"echo":"' .. MASK .. '","n":1}', redact.string('{"echo":"' .. ESCAPED .. '","n":1}', SECRET))
    end)

    it("masks each escape alone, and mixed with \\u escapes", function()
      for _, form in ipairs {
        [[Pw\"9q\Zx/7mK]],               -- only the quote escaped
        [[Pw"9q\\Zx/7mK]],               -- only the backslash
        [[Pw"9q\Zx\/7mK]],               -- only the slash
        [[Pw\u00229q\\Zx\u002F7mK]],     -- \u for two of them
      } do
        assert.equal("<" .. MASK .. ">", redact.string("<" .. form .. ">", SECRET), form)
      end
    end)

    it("masks a secret's own backslash or percent sign written escaped: \\\\, \\u005C, %5c, %25", function()
      local back, pct = [[ab\cd1234]], "ab%cd1234"
      for _, form in ipairs { [[ab\\cd1234]], [[ab\u005Ccd1234]], [[ab\u005ccd1234]], "ab%5Ccd1234", [[ab\cd1234]] } do
        assert.equal("x " .. MASK .. " y", redact.string("x " .. form .. " y", back), form)
      end
      for _, form in ipairs { "ab%25cd1234", "ab%cd1234", [[ab\u0025cd1234]], "%61b%25cd1234" } do
        assert.equal("x " .. MASK .. " y", redact.string("x " .. form .. " y", pct), form)
      end
    end)

    it("masks a secret whose first byte is a pattern character, in every form", function()
      for _, first in ipairs { "^", "%", "]", "[", "-", ".", "(" } do
        local secret = first .. "abcd1234"
        local hex = ("%02X"):format(first:byte())
        for _, form in ipairs { secret, "%" .. hex .. "abcd1234", "%" .. hex:lower() .. "abcd1234",
                                "\\u00" .. hex .. "abcd1234" } do
          assert.equal("x " .. MASK .. " y", redact.string("x " .. form .. " y", secret), first .. " as " .. form)
        end
      end
    end)

    it("takes a backslash escape only for the byte it stands for", function()
      -- \" is a quote, \\ a backslash, \/ a slash: none stands for a letter, and a
      -- letter after a backslash (\n, \t: JSON's own escapes) is another string
      local near = [[Pw"9q\Zx/7m\K]]
      assert.equal(near, redact.string(near, SECRET))
      local other = "ab\\ncd\\tef"
      assert.equal(other, redact.string(other, "abncdtef"))
    end)
  end)

  it("string() masks a secret field's value whatever the secret: JSON or form-encoded, to the value's end", function()
    local cases = {
      ['{"konnect_token":"abc","name":"x"}'] = '{"konnect_token":"' .. MASK .. '","name":"x"}',
      ['{"konnect_token" :  "abc"}'] = '{"konnect_token" :  "' .. MASK .. '"}',
      ['{"konnect_token":""}'] = '{"konnect_token":"' .. MASK .. '"}',
      ["/cb?konnect_token=abc&next=1"] = "/cb?konnect_token=" .. MASK .. "&next=1",
      ["konnect_token=abc def"] = "konnect_token=" .. MASK .. " def",
      ["konnect_token=abc\tdef"] = "konnect_token=" .. MASK .. "\tdef",
      ["konnect_token=abc\nnext line"] = "konnect_token=" .. MASK .. "\nnext line",
      ["konnect_token=&x"] = "konnect_token=&x",
      ['{"token": "abc", "id": "1"}'] = '{"token": "' .. MASK .. '", "id": "1"}',
      ['"token" : "abc"'] = '"token" : "' .. MASK .. '"',
      ["said kpat_Ab1_x and spat_9 then"] = "said kpat_" .. MASK .. " and spat_" .. MASK .. " then",
      ["konnect_token"] = "konnect_token",
      ["no secret here"] = "no secret here",
    }
    for s, want in pairs(cases) do
      assert.equal(want, redact.string(s, nil), s)
      assert.equal(want, redact.string(s, { "zzzzz" }), s)
    end
    -- what is not a string comes back as it was, never made one
    local t = {}
    for _, v in ipairs { 42, true, t } do assert.equal(v, redact.string(v, "kpat_fake_secret")) end
    assert.is_nil(redact.string(nil, "kpat_fake_secret"))
  end)

  it("body() masks every secret of a client's set, plain or escaped, and leaves a body without one alone", function()
    local tok = "kpat_fake_abcdefghijklmnopqrstuvwxyz012345"
    local secrets = { tok, SECRET, "kpat_fake_second_0123456789abcdefghijk" }
    for _, case in ipairs {
      { '{"echo":"' .. tok .. '"}', '{"echo":"' .. MASK .. '"}' },
      { "x=" .. tok:gsub("_", "%%5F"), "x=" .. MASK },          -- percent-encoded
      { '{"e":"\\u006bpat' .. tok:sub(5) .. '"}', '{"e":"' .. MASK .. '"}' }, -- a \u escape
      { '{"p":"' .. ESCAPED .. '"}', '{"p":"' .. MASK .. '"}' }, -- the second secret, JSON-escaped
      { "id=kpat_fake_second_0123456789abcdefghijk;", "id=" .. MASK .. ";" }, -- the last one
    } do
      local out, maybe = redact.body(case[1], secrets)
      assert.equal(case[2], out, case[1])
      assert.is_true(maybe, case[1])
      out, maybe = redact.body(case[1], { secrets[1], secrets[2], secrets[3] }) -- a fresh set (no cache)
      assert.equal(case[2], out, case[1])
      assert.is_true(maybe, case[1])
    end
    local out, maybe = redact.body('{"data":[],"meta":{"page":{"total":0}}}', secrets)
    assert.equal('{"data":[],"meta":{"page":{"total":0}}}', out)
    assert.is_false(maybe)
    -- a secret under 4 bytes is never looked for (it would mask ordinary text): nothing masked, maybe false,
    -- also in a body that holds a % or a backslash (the forms an escaped secret would need)
    for _, body in ipairs { "abc", "100% abc", "a\\b abc" } do
      out, maybe = redact.body(body, { "abc" })
      assert.equal(body, out)
      assert.is_false(maybe, body)
    end
  end)

  describe("base64 forms", function()
    -- RFC 4648, section 10
    local VECTORS = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
                      foobar = "Zm9vYmFy" }

    it("redact.base64 is RFC 4648 base64", function()
      for plain, enc in pairs(VECTORS) do assert.equal(enc, redact.base64(plain), plain) end
      assert.equal("AP8A/w==", redact.base64("\0\255\0\255"))
    end)

    -- the 4-character groups of base64(pre .. secret .. post) made of the secret's bytes alone
    local function secret_groups(enc, npre, nsecret)
      local g = {}
      for j = 0, #enc / 4 - 1 do
        if 3 * j >= npre and 3 * j + 3 <= npre + nsecret then g[#g + 1] = enc:sub(4 * j + 1, 4 * j + 4) end
      end
      return g
    end
    local function urlsafe(s) return (s:gsub("[+/]", { ["+"] = "-", ["/"] = "_" })) end

    it("masks every group made of the secret's bytes alone, at each alignment, in both alphabets, " ..
      "whatever bytes surround it, and keeps the text around the mask", function()
      -- bytes chosen so that both alphabets' own digits (+ / - _) occur in the encodings; 8 bytes or more,
      -- so that at every alignment two whole groups or more are the secret's (one alone is too common a
      -- string to mask)
      local secrets = { "\251\239\190ab\251\239\190", "kpat_fake_0123456789", "s3cr\255\254t>?~x",
                        "0123456789abcdefgh" }
      local checked = 0
      for _, secret in ipairs(secrets) do
        for npre = 0, 5 do
          for _, post in ipairs { "", "Z", "\255\255" } do
            local pre = ("\187\17\204"):rep(2):sub(1, npre) -- neither zeros nor the secret's bytes
            local std = redact.base64(pre .. secret .. post)
            for _, enc in ipairs { std, urlsafe(std) } do
              local groups = secret_groups(enc, npre, #secret)
              assert.is_true(#groups >= 2, enc)
              local text = "<" .. enc .. ">"
              local out = redact.string(text, secret)
              for _, g in ipairs(groups) do
                assert.is_nil(out:find(g, 1, true), ("%q at %d: %s left in %s"):format(secret, npre, g, out))
              end
              assert.truthy(out:find(MASK, 1, true), out)
              assert.equal("<", out:sub(1, 1))
              assert.equal(">", out:sub(-1))
              -- what comes before the first secret group is the encoding's own, unmasked
              local keep = enc:sub(1, enc:find(groups[1], 1, true) - 1)
              assert.equal("<" .. keep, out:sub(1, #keep + 1), out)
              checked = checked + 1
            end
          end
        end
      end
      assert.equal(#secrets * 6 * 3 * 2, checked)
    end)

    it("leaves a lone group of four characters alone: too common a string to be the secret's", function()
      -- "kpatX": at the first alignment one whole group ("a3Bh", of "kpa") is its bytes' alone
      assert.equal("a3BhdFg=", redact.base64("kpatX"))
      assert.equal("id a3Bh, a3BhdF", redact.string("id a3Bh, a3BhdF", "kpatX"))
    end)

    it("masks each occurrence when the secret's base64 form appears twice", function()
      local secret = "kpat_fake_0123456789"
      local b = redact.base64(secret)
      local out = redact.string(b .. "|" .. b, secret)
      assert.equal(MASK .. b:sub(#redact.base64(secret:sub(1, 18)) + 1) .. "|" .. MASK ..
        b:sub(#redact.base64(secret:sub(1, 18)) + 1), out)
    end)
  end)

  describe("headers()", function()
    it("keeps a credential's scheme, letters, digits and dashes, and masks the rest", function()
      local h = redact.headers({ Authorization = "Bearer kpat_fake_abc", ["Proxy-Authorization"] = "Basic dXNlcjpwYXNz",
                                 authorization = "AWS4-HMAC-SHA256 Credential=x/y, Signature=z" }, nil)
      assert.same({ Authorization = "Bearer " .. MASK, ["Proxy-Authorization"] = "Basic " .. MASK,
                    authorization = "AWS4-HMAC-SHA256 " .. MASK }, h)
    end)

    it("masks a credential whole when it does not start with a scheme and a space", function()
      -- a scheme is looked for at the start only: "0123abcd " inside the cookie is no scheme
      local h = redact.headers({ Cookie = "sid=0123abcd rest", ["Set-Cookie"] = " x y", Authorization = "opaque" }, nil)
      assert.same({ Cookie = MASK, ["Set-Cookie"] = MASK, Authorization = MASK }, h)
    end)

    it("gives other values back as strings, redacted", function()
      local h = redact.headers({ ["Content-Length"] = 123, ["X-Echo"] = "kpat_fake_abc", ["X-Ok"] = "1" },
        "kpat_fake_abc")
      assert.same({ ["Content-Length"] = "123", ["X-Echo"] = MASK, ["X-Ok"] = "1" }, h)
      assert.same({}, redact.headers(nil, "kpat_fake_abc"))
    end)
  end)

  it("value() copies REDACT_MAX_DEPTH levels of tables and masks what is nested deeper", function()
    local max = 64 -- the literal, not read from konnect.limits: a change of the cap must show here
    assert.equal(max, require("konnect.limits").REDACT_MAX_DEPTH)
    local function nest(n) -- n tables, the innermost holding a string
      local t = { leaf = "x" }
      for _ = 2, n do t = { t } end
      return t
    end
    local function depth_of(v) -- the tables copied, and what sits below the last one
      local n = 0
      while type(v) == "table" and v[1] do n, v = n + 1, v[1] end
      if type(v) == "table" then return n + 1, v.leaf end
      return n, v
    end
    assert.same({ max + 1, "x" }, { depth_of(redact.value(nest(max + 1), nil)) })
    assert.same({ max + 1, MASK }, { depth_of(redact.value(nest(max + 2), nil)) })
  end)

  it("body() gives back what is not a non-empty string as it was, with nothing to look at", function()
    for _, v in ipairs { "", 42, false } do
      local out, maybe = redact.body(v, { "kpat_fake_secret" })
      assert.equal(v, out)
      assert.is_false(maybe)
    end
    local out, maybe = redact.body(nil, "kpat_fake_secret")
    assert.is_nil(out)
    assert.is_false(maybe)
  end)

  it("a client's error body, hook view and log line never hold the escaped secret", function()
    fake.reset()
    fake.fault { method = "GET", status = 502, content_type = "application/json",
                 body = '{"message":"upstream rejected ' .. ESCAPED .. '"}' }
    local views, lines = {}, {}
    local c = assert(pats.new { token = SECRET, server_url = fake.http, retries = false,
                                log = function(l) lines[#lines + 1] = l end,
                                hooks = { after_response = function(v) views[#views + 1] = v end } })
    local v, err = c:list(fake.ALICE)
    assert.is_nil(v)
    assert.equal("server", err.kind)
    assert.equal('{"message":"upstream rejected ' .. MASK .. '"}', err.body)
    assert.equal("upstream rejected " .. MASK, err.message)
    assert.equal(err.body, views[1].body)
    for _, s in ipairs { err.body, tostring(err), views[1].body, table.concat(lines, "\n") } do
      assert.is_nil(s:find("9q", 1, true), s)
    end
  end)

  it("a value decoded from a body holding the secret escaped twice carries the mask, not its escaped form", function()
    fake.reset()
    -- escaped twice (a server that JSON-encodes an already encoded string): decodes once to ESCAPED
    local twice = ESCAPED:gsub("[\\\"/]", "\\%0")
    fake.fault { method = "GET", status = 200, content_type = "application/json",
                 body = '{"data":[{"id":"00000000-0000-4000-8000-00000000000f","name":"' .. twice .. '",' ..
                        '"created_at":"2026-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z"}],' ..
                        '"meta":{"page":{"number":1,"size":1,"total":1}}}' }
    local c = assert(pats.new { token = SECRET, server_url = fake.http, retries = false })
    local v, err = c:list(fake.ALICE)
    assert.is_nil(err)
    assert.equal(MASK, v.data[1].name)
  end)

  it("a request's hook view masks the client's token also in a header of the caller's own", function()
    fake.reset()
    local views = {}
    local c = assert(pats.new { token = SECRET, server_url = fake.http, retries = false,
                                hooks = { before_request = function(v) views[#views + 1] = v end } })
    -- a gateway that wants the credential twice: the caller's own header holds it
    local _, err = c:list(fake.ALICE, { headers = { ["X-Upstream-Auth"] = "Bearer " .. SECRET } })
    assert.equal("unauthorized", err.kind) -- (the fake knows no such token)
    assert.equal(1, #views)
    assert.equal("Bearer " .. MASK, views[1].headers["X-Upstream-Auth"])
    assert.equal("Bearer " .. MASK, views[1].headers.Authorization)
  end)
end)
