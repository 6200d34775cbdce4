-- The per-call fast paths of the C path (issue 12, item 2): each one skips or
-- moves work and must give exactly what the slow path gives.
--   - konnect.core.json_clean: the null/number walk of konnect.json, in C
--   - konnect.core.find_any + redact's per-client needle set: one C call says
--     "no form of any secret can be in this body"; anything else still goes
--     through the full masking (plain, %XX, \uXXXX, \/, base64 at every alignment)
--   - res.no_rate_limit: the C core says when no rate-limit header came
-- Real sockets for the pipeline: the fake Konnect server and a hostile server.
local fake    = require "support.fake"
local hostile = require "support.hostile"
local pats    = require "konnect.pats"
local core    = require "konnect.core"
local json    = require "konnect.json"
local redact  = require "konnect.redact"
local cjson   = require "cjson"

local assert_clean = require("support.proc").assert_clean
local ALICE = fake.ALICE
local UUID = "00000000-0000-4000-8000-00000000beef"
local tointeger = math.tointeger -- nil before 5.3
local mtype = math.type or function(n) return type(n) == "number" and "float" or nil end

-- deep equality that also tells integers from floats (Lua 5.3+)
local function same(a, b, path)
  path = path or "v"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if mtype(a) ~= mtype(b) then return false, path .. ": " .. mtype(a) .. " vs " .. mtype(b) end
    if a ~= b and not (a ~= a and b ~= b) then return false, path .. ": " .. a .. " vs " .. b end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, path .. ": differs" end
    return true
  end
  for k, v in pairs(a) do
    local ok, why = same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": only in the second" end
  end
  return true
end

-- A Park-Miller generator: the same documents on every interpreter.
local state = 20261128
local function rnd(n)
  state = state * 16807 % 2147483647
  return state % n + 1
end

local NUMBERS = { "0", "-0", "1", "-7", "1.0", "2.5", "-0.0", "1e3", "1E-2", "123456789012", "9007199254740993",
                  "1e300", "-1e300", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                  "4.9e-324", "0.1", "3.0e0", "17" }
local gen_value
local function gen_array(depth)
  local out = {}
  for i = 1, rnd(6) - 1 do out[i] = gen_value(depth + 1) end
  return "[" .. table.concat(out, ",") .. "]"
end
local function gen_object(depth)
  local out = {}
  for i = 1, rnd(6) - 1 do out[i] = ('"k%d_%d":%s'):format(i, rnd(9), gen_value(depth + 1)) end
  return "{" .. table.concat(out, ",") .. "}"
end
function gen_value(depth)
  local r = rnd(depth < 6 and 9 or 6)
  if r <= 2 then return "null" end
  if r == 3 then return NUMBERS[rnd(#NUMBERS)] end
  if r == 4 then return rnd(2) == 1 and "true" or "false" end
  if r == 5 then return '"s' .. rnd(100) .. ' null 1.0"' end
  if r == 6 then return NUMBERS[rnd(#NUMBERS)] end
  if r <= 8 then return gen_array(depth) end
  return gen_object(depth)
end

describe("fast paths", function()
  describe("konnect.core.json_clean (the decode walk in C)", function()
    it("agrees with konnect.json's Lua walk on 3,000 generated documents (nulls in arrays too)", function()
      local codec = cjson.new()
      for i = 1, 3000 do
        local text = rnd(2) == 1 and gen_object(0) or gen_array(0)
        local a, b = codec.decode(text), codec.decode(text)
        assert.is_true(core.json_clean(a, cjson.null), text)
        json.clean_lua(b)
        local ok, why = same(a, b)
        assert(ok, ("document %d %s: %s"):format(i, text, tostring(why)))
      end
    end)

    it("removes null at every depth and makes integral floats integers (5.3+), in place", function()
      local v = cjson.decode('{"a":null,"b":[1,null,3.0],"c":{"d":null,"e":[null,{"f":null,"g":2.0,"h":2.5}]}}')
      assert.is_true(core.json_clean(v, cjson.null))
      assert.is_nil(v.a)
      assert.equal(1, v.b[1])
      assert.is_nil(v.b[2])
      assert.equal(3, v.b[3])
      assert.is_nil(v.c.d)
      assert.is_nil(v.c.e[1])
      assert.is_nil(v.c.e[2].f)
      assert.equal(2.5, v.c.e[2].h)
      if tointeger then
        assert.equal("integer", math.type(v.b[3]))
        assert.equal("integer", math.type(v.c.e[2].g))
        assert.equal("float", math.type(v.c.e[2].h))
      end
      -- not a table: nothing to do
      assert.is_true(core.json_clean("x", cjson.null))
      assert.is_true(core.json_clean(nil, cjson.null))
    end)

    it("json.decode gives what the Lua walk gives, and a success value carries no null", function()
      assert(package.loaded["konnect.core"], "the C core is loaded: json.decode takes the C walk")
      local text = '{"id":"x","last_used_at":null,"n":3.0,"list":[null,{"z":null}],"nested":{"deep":[[null,1]]}}'
      local v = assert(json.decode(text))
      local w = json.clean_lua(cjson.new().decode(text))
      assert(same(v, w))
      assert.is_nil(v.last_used_at)
      assert.is_nil(v.list[2].z)
      local tok = assert(fake.client():list(ALICE))
      local function no_null(x)
        for _, y in pairs(x) do
          assert.is_not.equal(cjson.null, y)
          if type(y) == "table" then no_null(y) end
        end
      end
      no_null(tok)
    end)
  end)

  describe("konnect.core.json_decode (the common case decoded in one pass)", function()
    -- the reference: lua-cjson (konnect.json's settings) and the Lua walk
    local codec = cjson.new()
    codec.decode_max_depth(64)
    local function reference(text)
      local ok, v = pcall(codec.decode, text)
      if not ok then return nil, v end
      if type(v) == "table" then json.clean_lua(v) end
      return v
    end
    local function lengths_agree(a, b, path)
      if type(a) ~= "table" then return true end
      if #a ~= #b then return false, path .. ": # " .. #a .. " vs " .. #b end
      for k, v in pairs(a) do
        local ok, why = lengths_agree(v, b[k], path .. "." .. tostring(k))
        if not ok then return false, why end
      end
      return true
    end

    local ODD = { "0x1F", "007", "+1", ".5", "1.", "-", "1e", "inf", "-Infinity", "NaN", "1.5E+3", "-0.0e-0",
                  "123456789012345678901234567890", "1e999", "0.1e1", "1" .. ("0"):rep(70) }
    local STRINGS = { '"plain"', '""', '"with \\"escape\\""', '"\\u00e9t\\u00e9"', '"tab\there"', '"ctl\1x"',
                      '"utf-8 \226\130\172"', '"slash\\/"', '"nul\0in"', '"unterminated' }
    local function mutate(text)
      local r = rnd(12)
      if r == 1 then return " \n\t" .. text .. "\r\n " end
      if r == 2 then return text .. " x" end
      if r == 3 then return text:sub(1, rnd(#text)) end
      if r == 4 then return text .. "\0" end
      if r == 5 then return (text:gsub("%d+", function(d) return rnd(3) == 1 and ODD[rnd(#ODD)] or d end)) end
      if r == 6 then return (text:gsub('"s%d+[^"]*"', function() return STRINGS[rnd(#STRINGS)] end)) end
      if r == 7 then return (text:gsub(",", ", ")) end
      return text
    end

    it("gives what cjson + the null walk give, or nil (then cjson decodes): 6,000 documents", function()
      local taken = 0
      for i = 1, 6000 do
        local text = mutate(rnd(3) == 1 and gen_array(0) or gen_object(0))
        local fast = core.json_decode(text)
        local ref, rerr = reference(text)
        if fast ~= nil then
          taken = taken + 1
          assert(type(ref) == "table", ("document %d decoded by C only (%s): %s"):format(i, tostring(rerr), text))
          local ok, why = same(fast, ref)
          assert(ok, ("document %d %s: %s"):format(i, text, tostring(why)))
          ok, why = lengths_agree(fast, ref, "v")
          assert(ok, ("document %d %s: %s"):format(i, text, tostring(why)))
        end
        -- and konnect.json's answer is the same as before either way
        local v, err = json.decode(text)
        if type(ref) == "table" then
          assert(same(v, ref), ("document %d: json.decode differs: %s"):format(i, text))
        else
          assert.equal(ref == nil and nil or ref, v)
          if ref == nil then assert.is_string(err) end
        end
      end
      assert(taken > 1500, "the C decoder took only " .. taken .. " of 6000 documents")
    end)

    it("objects: a null removes the field, the last repeated key wins, any size", function()
      local v = core.json_decode('{"a":1,"a":null,"b":null,"b":2,"c":3,"c":4,"d":null}')
      assert(same({ b = 2, c = 4 }, v))
      local parts, want = {}, {}
      for i = 1, 100 do
        parts[i] = ('"k%d":%s'):format(i, i % 3 == 0 and "null" or tostring(i))
        if i % 3 ~= 0 then want["k" .. i] = i + 0.0 end
      end
      if tointeger then for k, x in pairs(want) do want[k] = tointeger(x) end end
      assert(same(want, core.json_decode("{" .. table.concat(parts, ",") .. "}")))
      local arr = {}
      for i = 1, 100 do arr[i] = tostring(i) end
      local a = core.json_decode("[" .. table.concat(arr, ",") .. "]")
      assert.equal(100, #a)
      assert.equal(100, a[100])
      -- an array with a null element is cjson's (nil here)
      assert.is_nil(core.json_decode("[1,null,3]"))
      assert.is_nil(core.json_decode('{"a":[null]}'))
      local dec = json.decode("[1,null,3]")
      assert.equal(1, dec[1]); assert.is_nil(dec[2]); assert.equal(3, dec[3])
    end)

    it("is nil for what it does not take: escapes, other number forms, depth, scalars, trailing bytes", function()
      for _, text in ipairs { '{"a":"x\\ny"}', '{"a":0x10}', '{"a":01}', '{"a":1.}', '{"a":inf}', '"str"', "42",
                              "null", "", "   ", '{"a":1} x', '{"a":1}\0', '{"a":"\1"}', ("["):rep(61) .. ("]"):rep(61),
                              '{"a":1,}', "[1,]", '{"a" 1}', "{1:2}" } do
        assert.is_nil(core.json_decode(text), text)
      end
      assert.is_table(core.json_decode(("["):rep(60) .. ("]"):rep(60)))
      -- a backslash or a control byte at every offset of a long string (the scan takes 8 bytes at a time)
      for k = 0, 24 do
        for _, c in ipairs { "\\", "\1", "\31", "\n" } do
          local text = '{"k":"' .. ("a"):rep(k) .. c .. ("b"):rep(24 - k) .. '"}'
          assert.is_nil(core.json_decode(text), ("offset %d byte %d"):format(k, c:byte()))
        end
        local ok = '{"k":"' .. ("a"):rep(k) .. "\127\128 \255" .. ("b"):rep(24 - k) .. '"}'
        assert.equal(("a"):rep(k) .. "\127\128 \255" .. ("b"):rep(24 - k), core.json_decode(ok).k)
      end
      assert.is_nil(core.json_decode(nil))
      assert.is_nil(core.json_decode({}))
    end)
  end)

  describe("konnect.core.find_any", function()
    it("tells whether any of the strings occurs", function()
      local s = '{"id":"abc","path":"/a%2Fb","esc":"x\\u0041"}'
      assert.is_true(core.find_any(s, { "zzz", "%" }))
      assert.is_true(core.find_any(s, { "\\" }))
      assert.is_true(core.find_any(s, { "nope", "abc" }))
      assert.is_true(core.find_any(s, { '"esc"' }))
      assert.is_false(core.find_any(s, { "nope", "#", "abcd" }))
      assert.is_false(core.find_any(s, {}))
      assert.is_false(core.find_any("ab", { "abc" }))
      assert.is_false(core.find_any("", { "a" }))
      assert.is_true(core.find_any("a\0b", { "\0b" }))
    end)

    it("says true (look closer) when its arguments are not a string and an array of non-empty strings", function()
      assert.is_true(core.find_any(nil, { "a" }))
      assert.is_true(core.find_any("abc", nil))
      assert.is_true(core.find_any("abc", { "x", 42 }))
      assert.is_true(core.find_any("abc", { "" }))
    end)
  end)

  describe("redaction behind the one-call gate", function()
    local TOKEN = fake.ALICE_TOKEN
    local TAIL = TOKEN:match("^kpat_(.*)$")
    local function pct(s) return (s:gsub(".", function(c) return ("%%%02X"):format(c:byte()) end)) end
    local function json_u(s) return (s:gsub(".", function(c) return ("\\u%04x"):format(c:byte()) end)) end
    local function urlsafe(s) return (s:gsub("[+/]", { ["+"] = "-", ["/"] = "_" })) end
    local b64 = redact.base64

    it("the needle set is made once per client's secrets and covers every secret", function()
      local secrets = { TOKEN, TAIL }
      local set = redact.needles_of(secrets)
      assert.equal(set, redact.needles_of(secrets))
      -- each form of each secret makes the gate say "look closer"
      for _, secret in ipairs(secrets) do
        for _, pre in ipairs { "", "x", "xy", "Bearer ", "user:" } do
          local e = b64(pre .. secret)
          assert.is_true(core.find_any("{" .. e .. "}", set), "base64 after " .. #pre .. " bytes")
          assert.is_true(core.find_any("{" .. urlsafe(e) .. "}", set), "url-safe base64 after " .. #pre .. " bytes")
        end
        assert.is_true(core.find_any("{" .. secret .. "}", set))
      end
      assert.is_false(core.find_any('{"id":"' .. UUID .. '","name":"plain"}', set))
    end)

    it("a token echoed into a success value is masked in every form, call after call (gate and caches warm)",
      function()
        local forms = {
          TOKEN, TAIL, pct(TOKEN), pct(TOKEN):lower(), json_u(TOKEN), json_u(TAIL),
          (pct(TOKEN):gsub("%%", "\\u0025")), -- %XX with each % JSON-escaped: found after decoding only
          b64(TOKEN), b64("x" .. TOKEN), b64("xy" .. TOKEN), b64("Bearer " .. TOKEN), b64("user:" .. TOKEN),
          urlsafe(b64("x" .. TOKEN)), urlsafe(b64("xy" .. TAIL)), b64(TAIL), b64("z" .. TAIL),
        }
        local c = fake.client { retries = false }
        for round = 1, 2 do
          for i, form in ipairs(forms) do
            fake.fault { method = "GET", status = 200, count = 1,
                         body = '{"id":"' .. UUID .. '","name":"echo ' .. form .. ' end","last_used_at":null}' }
            local v, err = c:get(ALICE, UUID)
            assert.is_table(v, err and tostring(err))
            assert.equal(UUID, v.id)
            local what = ("round %d form %d"):format(round, i)
            assert.matches("<redacted>", v.name, 1, true, what)
            for _, needle in ipairs { TOKEN, TAIL, form, b64(TAIL):sub(5, -5) } do
              assert_clean(v, needle, what)
            end
            assert.is_nil(v.last_used_at)
          end
        end
      end)

    it("a body with no form of a secret comes back untouched (plain value, nothing masked)", function()
      local c = fake.client { retries = false }
      local name = "plain name with % and \\ kept: 100%"
      fake.fault { method = "GET", status = 200, count = 1,
                   body = json.encode { id = UUID, name = name, tags = { "a", "b" } } }
      local v = assert(c:get(ALICE, UUID))
      assert.equal(name, v.name)
      fake.fault { method = "GET", status = 200, count = 1, body = '{"id":"' .. UUID .. '","name":"kpat_"}' }
      v = assert(c:get(ALICE, UUID))
      assert.equal("kpat_", v.name)
    end)
  end)

  describe("res.headers from the C core, built on first access", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    it("holds every header (lower-case names, repeated ones joined) while the success path reads none", function()
      local conn = assert(core.new { timeout = 5 })
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json", "Set-Cookie: a=1",
        "X-Kong-Request-Id: r1", "set-cookie: b=2", "X-Empty:" }, "{}"))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.equal("application/json", res.content_type)
      assert.is_nil(rawget(res, "headers"), "built before anyone asked")
      local h = res.headers
      assert.equal("a=1, b=2", h["set-cookie"])
      assert.equal("r1", h["x-kong-request-id"])
      assert.equal("application/json", h["content-type"])
      assert.equal("", h["x-empty"])
      assert.equal(tostring(#"{}"), h["content-length"])
      assert.equal(h, res.headers, "built once")
      assert.equal(h, rawget(res, "headers"))
      -- two Content-Type headers: no content_type shortcut, the joined value in headers
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json", "Content-Type: text/html" }, "{}"))
      res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.is_nil(res.content_type)
      assert.equal("application/json, text/html", res.headers["content-type"])
      conn:close()
    end)

    it("conn:request_values gives what conn:request gives, without the table (core.response makes it)", function()
      local conn = assert(core.new { timeout = 5 })
      local head_lines = { "Content-Type: application/json", "X-Kong-Request-Id: r2", "RateLimit-Remaining: 4" }
      srv:respond(hostile.response("200 OK", head_lines, '{"a":1}'))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      local secrets = { "s3cret-value" }
      local status, body, ctype, rl, hv, time, head, resent =
        conn:request_values("GET", srv.url .. "/x", {}, nil, false, nil, secrets)
      assert.equal(res.status, status)
      assert.equal(res.body, body)
      assert.equal(res.content_type, ctype)
      assert.is_true(rl)
      assert.equal(res.http_version, hv)
      assert.is_number(time)
      assert.is_false(resent)
      local h, uv = core.head_headers(head)
      assert.same(res.headers, h)
      assert.equal(secrets, uv, "the value kept with the head")
      local res2 = core.response(status, body, ctype, rl, hv, time, head, resent)
      for _, k in ipairs { "status", "body", "content_type", "no_rate_limit", "http_version", "resent" } do
        assert.equal(res[k], res2[k], k)
      end
      assert.equal(time, res2.time)
      assert.same(res.headers, res2.headers)
      -- without a rate-limit header: rate_limit false, res.no_rate_limit true
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, "{}"))
      status, body, ctype, rl = conn:request_values("GET", srv.url .. "/x", {}, nil, false)
      assert.equal(200, status)
      assert.is_false(rl)
      assert.is_true(core.response(status, body, ctype, rl).no_rate_limit)
      -- errors as request's: nil, terr
      local v, terr = conn:request_values("GET", "http://127.0.0.1:1/x", {}, nil, false, 2)
      assert.is_nil(v)
      assert.equal("connect", terr.kind)
      -- anything but a head: no headers, no value
      for _, bad in ipairs { "x", io.stdout, {}, false } do
        local hh, hv2 = core.head_headers(bad)
        assert.same({}, hh)
        assert.is_nil(hv2)
      end
      conn:close()
    end)

    it("a raw_head that is not the core's block never raises: no headers", function()
      local conn = assert(core.new { timeout = 5 })
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, "{}"))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.equal("userdata", type(res.raw_head))
      for _, bad in ipairs { "", "\1\0\0\0\255\255\255\255x", io.stdout, conn, {}, 42, false } do
        res = assert(conn:request("GET", srv.url .. "/x", {}))
        res.raw_head = bad
        assert.same({}, res.headers)
      end
      res = assert(conn:request("GET", srv.url .. "/x", {}))
      res.raw_head = nil
      assert.same({}, res.headers)
      conn:close()
    end)

    it("meta.headers, meta.request_id and the hooks see every header of a curl response", function()
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json", "X-Kong-Request-Id: req-9",
        "X-Other: " .. fake.ALICE_TOKEN }, '{"id":"' .. UUID .. '"}'))
      local seen
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false,
        hooks = { after_response = function(v) seen = v end } })
      local v, err, m = c:get(ALICE, UUID)
      assert.is_table(v, err and tostring(err))
      assert.equal("req-9", m.request_id)
      assert.equal("application/json", m.headers["content-type"])
      assert.equal("req-9", seen.headers["x-kong-request-id"])
      assert.matches("<redacted>", m.headers["x-other"], 1, true)
      assert_clean(m, fake.ALICE_TOKEN, "meta")
      assert_clean(seen, fake.ALICE_TOKEN, "hook view")
    end)
  end)

  describe("a call answered at its first attempt (no call state built)", function()
    before_each(function() fake.reset() end)

    local function token(c)
      return assert(c:create(ALICE, { name = "fast-" .. tostring(os.time()), ttl_seconds = 86400 }))
    end

    it("returns the same value and meta as the general pipeline (a hook forces that one)", function()
      local fast = fake.client { retries = false }
      local general = fake.client { retries = false, hooks = { after_response = function() end } }
      local tok = token(fast)
      local v1, e1, m1 = fast:get(ALICE, tok.id)
      local v2, e2, m2 = general:get(ALICE, tok.id)
      assert.is_nil(e1); assert.is_nil(e2)
      assert.same(v2, v1)
      assert.is_nil(v1.last_used_at, "a null field is absent")
      for _, k in ipairs { "status", "attempts", "http_version", "operation", "rate_limit" } do
        assert.same(m2[k], m1[k], k)
      end
      assert.equal(1, m1.attempts)
      assert.equal("get-personal-access-token-details", m1.operation)
      assert.is_number(m1.elapsed)
      assert.is_true(m1.elapsed >= 0 and m1.elapsed < 5)
      assert.matches("^%x+$", m1.request_id)
      local k1, k2 = {}, {}
      for k in pairs(m1.headers) do k1[#k1 + 1] = k end
      for k in pairs(m2.headers) do k2[#k2 + 1] = k end
      table.sort(k1); table.sort(k2)
      assert.same(k2, k1)
      assert.equal("Bearer <redacted>", m1.headers.authorization or "Bearer <redacted>")
      assert_clean(m1, fake.ALICE_TOKEN, "meta")
      -- list goes the same way (its check passes)
      local l1, _, lm = fast:list(ALICE)
      assert.equal(1, #l1.data)
      assert.equal(1, lm.attempts)
    end)

    it("arguments: ids that passed before skip the checks only when nothing else came with them", function()
      local c = fake.client { retries = false }
      local tok = token(c)
      assert(c:get(ALICE, tok.id)) -- both ids known now
      local _, err = c:get(ALICE, tok.id, nil, "extra")
      assert.equal("invalid_argument", err.kind)
      assert.matches("too many arguments", err.message, 1, true)
      _, err = c:get(ALICE, tok.id, { bogus = 1 })
      assert.equal("invalid_argument", err.kind)
      _, err = c:list(ALICE, nil, "extra")
      assert.equal("invalid_argument", err.kind)
      _, err = c:list(ALICE, { timeout = "soon" })
      assert.equal("invalid_argument", err.kind)
      _, err = c:get(ALICE, "../" .. tok.id)
      assert.equal("invalid_argument", err.kind)
      _, err = c:get("ME", tok.id)
      assert.equal("invalid_argument", err.kind)
      local v, gerr, m = c:get("me", tok.id) -- "me" is never taken for a known id
      assert.is_table(v, gerr and tostring(gerr))
      assert.equal(tok.id, v.id)
      assert.equal(1, m.attempts)
      local list = assert(c:list(ALICE, { timeout = 5 }))
      assert.equal(1, #list.data)
    end)

    it("counts as heard from the server (a batch's first wave is sized by it)", function()
      local c = fake.client { retries = false }
      assert.is_false(c.heard.any)
      assert(c:list(ALICE))
      assert.is_true(c.heard.any)
    end)

    it("a first attempt that fails is retried, and its answer counted, as in the general pipeline", function()
      local c = fake.client()
      local tok = token(c)
      fake.fault { method = "GET", count = 1, status = 503 }
      local v, err, m = c:get(ALICE, tok.id)
      assert.is_table(v, err and tostring(err))
      assert.equal(2, m.attempts)
      fake.fault { method = "GET", count = 1, status = 200, body = '{"data":"x"}' }
      local l, lerr = c:list(ALICE)
      assert.is_nil(l)
      assert.equal("decode", lerr.kind)
      assert.equal(1, lerr.attempts)
      fake.fault { method = "GET", count = 1, status = 200, content_type = "text/plain", body = "hello" }
      l, lerr = c:list(ALICE)
      assert.is_nil(l)
      assert.equal("decode", lerr.kind)
      assert.matches("expected a JSON response", lerr.message, 1, true)
    end)

    it("delete (no content) and revoke take their first attempt the same way", function()
      local c = fake.client { retries = false }
      local tok = token(c)
      local r, rerr, rm = c:revoke(ALICE, tok.id)
      assert.is_table(r, rerr and tostring(rerr))
      assert.equal("REVOKED", r.state)
      assert.equal(1, rm.attempts)
      local ok, derr, dm = c:delete(ALICE, tok.id)
      assert.is_true(ok, derr and tostring(derr))
      assert.equal(204, dm.status)
      assert.equal(1, fake.count("DELETE /v3/users/" .. ALICE .. "/access-tokens/" .. tok.id))
    end)
  end)

  describe("res.no_rate_limit", function()
    local srv
    setup(function() srv = hostile.start() end)
    teardown(function() srv:stop() end)

    it("is set by the C core only when no RateLimit-* / X-RateLimit-* header came", function()
      local conn = assert(core.new { timeout = 5 })
      local plain = { "Content-Type: application/json" }
      srv:respond(hostile.response("200 OK", plain, "{}"))
      local res = assert(conn:request("GET", srv.url .. "/x", {}))
      assert.is_true(res.no_rate_limit)
      for _, h in ipairs { "RateLimit-Remaining: 3", "ratelimit: limit=10, remaining=3", "X-RateLimit-Limit: 10",
                           "X-RATELIMIT-REMAINING-MINUTE: 3" } do
        srv:respond(hostile.response("200 OK", { plain[1], h }, "{}"))
        res = assert(conn:request("GET", srv.url .. "/x", {}))
        assert.is_nil(res.no_rate_limit, h)
      end
      conn:close()
    end)

    it("meta.rate_limit still reads every family through the curl transport", function()
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false })
      local cases = {
        { { "RateLimit-Limit: 100", "RateLimit-Remaining: 99", "RateLimit-Reset: 7" },
          { limit = 100, remaining = 99, reset = 7 } },
        { { 'RateLimit: "default";r=50;t=30', 'RateLimit-Policy: "default";q=100;w=60' },
          { limit = 100, remaining = 50, reset = 30 } },
        { { "X-RateLimit-Limit: 10", "X-RateLimit-Remaining: 4", "X-RateLimit-Reset: 2" },
          { limit = 10, remaining = 4, reset = 2 } },
        { { "X-RateLimit-Limit-Minute: 10", "X-RateLimit-Remaining-Minute: 3",
            "X-RateLimit-Limit-Hour: 100", "X-RateLimit-Remaining-Hour: 90" },
          { limit = 10, remaining = 3, window = "minute" } },
      }
      -- the same answers through the general pipeline (a hook forces it)
      local general = assert(pats.new { token = fake.ALICE_TOKEN, server_url = srv.url, retries = false,
                                        hooks = { after_response = function() end } })
      for i, case in ipairs(cases) do
        local headers = { "Content-Type: application/json" }
        for _, h in ipairs(case[1]) do headers[#headers + 1] = h end
        srv:respond(hostile.response("200 OK", headers, '{"id":"' .. UUID .. '","n":null}'))
        local v, err, m = c:get(ALICE, UUID)
        assert.is_table(v, err and tostring(err))
        assert.same(case[2], m.rate_limit, "case " .. i)
        assert.same({ id = UUID }, v)
        srv:respond(hostile.response("200 OK", headers, '{"id":"' .. UUID .. '","n":null}'))
        local gv, gerr, gm = general:get(ALICE, UUID)
        assert.is_nil(gerr)
        assert.same(gv, v)
        for _, k in ipairs { "status", "attempts", "http_version", "operation", "rate_limit", "request_id" } do
          assert.same(gm[k], m[k], k .. ", case " .. i)
        end
        assert.same(gm.headers, m.headers, "case " .. i)
      end
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, '{"id":"' .. UUID .. '"}'))
      local _, _, m = c:get(ALICE, UUID)
      assert.is_nil(m.rate_limit)
    end)
  end)
end)
