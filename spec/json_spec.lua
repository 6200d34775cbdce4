-- konnect.json: the codec every body goes through, and encode_sorted, the
-- CLI's --json rendering (stable for people and diffs).
local json = require "konnect.json"
local limits = require "konnect.limits"

describe("konnect.json", function()
  describe("encode_sorted", function()
    it("writes integral numbers without a fraction, others with 17 significant digits, non-finite ones as null",
      function()
      for _, c in ipairs {
        { 0, "0" }, { 10, "10" }, { -3, "-3" }, { 1.5, "1.5" }, { -0.25, "-0.25" }, { 0.1, "0.10000000000000001" },
        { 2 ^ 53 - 1, "9007199254740991" }, { -(2 ^ 53 - 1), "-9007199254740991" },
        { 2 ^ 53, "9007199254740992" }, { -(2 ^ 53), "-9007199254740992" }, { 1e300, "1.0000000000000001e+300" },
        { 0 / 0, "null" }, { 1 / 0, "null" }, { -1 / 0, "null" },
      } do
        assert.equal(c[2], json.encode_sorted(c[1]), tostring(c[1]))
      end
    end)

    it("sorts object keys, writes an empty table and an array as arrays, escapes what JSON must", function()
      assert.equal('{"a":1,"b":[true,false,null],"c":{"k":"v"},"d":[]}',
        json.encode_sorted({ d = {}, b = { true, false, json.null }, a = 1, c = { k = "v" } }))
      assert.equal('{"10":"ten","2":"two"}', json.encode_sorted({ ["2"] = "two", ["10"] = "ten" }))
      assert.equal('"q\\"b\\\\n\\nt\\tc\\u0001\\u007f"', json.encode_sorted('q"b\\n\nt\tc\1\127'))
      assert.equal('"é/<"', json.encode_sorted("é/<"))
      assert.equal("null", json.encode_sorted(print))
    end)

    it("stops at JSON_MAX_DEPTH: deeper tables are written as null, never a stack overflow", function()
      local t = {}
      local inner = t
      for _ = 1, limits.JSON_MAX_DEPTH + 5 do inner[1] = {}; inner = inner[1] end
      local s = json.encode_sorted(t)
      assert.equal(64, limits.JSON_MAX_DEPTH) -- the literal: a change of the cap must show here
      assert.equal(limits.JSON_MAX_DEPTH, select(2, s:gsub("%[", "")))
      assert.matches("%[null%]+$", s)
    end)

    it("decodes a document nested 64 deep, and refuses one nested 65 deep with nil, err", function()
      local ok64 = json.decode(("["):rep(64) .. ("]"):rep(64))
      assert.is_table(ok64)
      local v, err = json.decode(("["):rep(65) .. ("]"):rep(65))
      assert.is_nil(v)
      assert.is_string(err)
    end)
    it("says why it decodes nothing: no body, or invalid JSON in the parser's words (no Lua location)", function()
      assert.same({ nil, "no body" }, { json.decode(nil) })
      assert.same({ nil, "no body" }, { json.decode(5) })
      assert.same({ nil, "no body" }, { json.decode(false) })
      for _, s in ipairs { "{", "[1,]", "nul", "" } do
        local v, err = json.decode(s)
        assert.is_nil(v, s)
        assert.matches("^invalid JSON: %a", err)
        assert.is_nil(err:find("%", 1, true), err)
        assert.is_nil(err:find("^invalid JSON: [^ ]*:%d+: "), err)
      end
      assert.same({ nil, "JSON null" }, { json.decode("null") })
    end)
  end)
end)
