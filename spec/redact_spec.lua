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
end)
