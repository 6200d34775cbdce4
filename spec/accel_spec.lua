-- konnect.accel: the optional C help of the pipeline (the null/integer walk
-- of a decoded body, the secret search in front of redaction) and its Lua
-- twins.  Every case runs twice with the same assertions: first with the C
-- core (as outside nginx), then with konnect.accel loaded while konnect.core
-- cannot be required (as inside nginx with only the cosocket transport).
-- Only accel is denied the core: the calls still go over real sockets to the
-- fake Konnect through the curl transport, so what differs between the two
-- runs is exactly what accel gives.
local fake = require "support.fake"
local cjson = require "cjson"

local assert_clean = require("support.proc").assert_clean
local ALICE = fake.ALICE
local UUID = "00000000-0000-4000-8000-00000000beef"
local tointeger = math.tointeger -- nil before 5.3
local mtype = math.type or function(n) return type(n) == "number" and "float" or nil end

-- Load konnect.accel, konnect.json, konnect.redact and konnect.pats afresh;
-- `without_core`: while konnect.core cannot be required.  The C core itself
-- stays what it was for everything loaded afterwards (the curl transport).
local function load_modules(without_core)
  for name in pairs(package.loaded) do
    if name:match("^konnect%.") and name ~= "konnect.core" then package.loaded[name] = nil end
  end
  local core, preload = package.loaded["konnect.core"], package.preload["konnect.core"]
  if without_core then
    package.loaded["konnect.core"] = nil
    package.preload["konnect.core"] = function() error("no konnect.core here (as inside nginx without it)", 0) end
  end
  local m = { accel = require "konnect.accel" }
  m.json, m.redact, m.pats = require "konnect.json", require "konnect.redact", require "konnect.pats"
  package.loaded["konnect.core"], package.preload["konnect.core"] = core, preload
  return m
end

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

-- What the walk must give, written apart from both walks: a copy without
-- the nulls, integral numbers made integers (5.3+).
local function reference(v, null)
  if type(v) ~= "table" then return v end
  local o = {}
  for k, x in pairs(v) do
    if x ~= null then
      if type(x) == "number" and tointeger and tointeger(x) then x = tointeger(x) end
      o[k] = reference(x, null)
    end
  end
  return o
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
  if r == 3 or r == 6 then return NUMBERS[rnd(#NUMBERS)] end
  if r == 4 then return rnd(2) == 1 and "true" or "false" end
  if r == 5 then return '"s' .. rnd(100) .. ' null 1.0"' end
  if r <= 8 then return gen_array(depth) end
  return gen_object(depth)
end

local TOKEN = fake.ALICE_TOKEN
local TAIL = TOKEN:match("^kpat_(.*)$")
local function pct(s) return (s:gsub(".", function(c) return ("%%%02X"):format(c:byte()) end)) end
local function json_u(s, fmt) return (s:gsub(".", function(c) return (fmt or "\\u%04x"):format(c:byte()) end)) end
local function urlsafe(s) return (s:gsub("[+/]", { ["+"] = "-", ["/"] = "_" })) end

for _, mode in ipairs { { name = "with the C core", without = false, want = "c" },
                        { name = "without the C core (its Lua twins)", without = true, want = "lua" } } do
  describe("konnect.accel " .. mode.name, function()
    local m
    setup(function() m = load_modules(mode.without) end)

    it("says which it got, and offers the same functions", function()
      assert.equal(mode.want, m.accel.mode)
      assert.equal(mode.without, m.accel.core == nil)
      for _, f in ipairs { "json_clean", "clean_lua", "needles", "find_any" } do
        assert.is_function(m.accel[f], f)
      end
    end)

    it("json_clean gives what the reference walk gives on 3,000 generated documents (nulls in arrays too)",
      function()
        local codec = cjson.new()
        for i = 1, 3000 do
          local text = rnd(2) == 1 and gen_object(0) or gen_array(0)
          local v = codec.decode(text)
          local want = reference(codec.decode(text), cjson.null)
          assert.is_true(m.accel.json_clean(v, cjson.null), text)
          local ok, why = same(want, v)
          assert(ok, ("document %d %s: %s"):format(i, text, tostring(why)))
        end
        -- not a table: nothing to do
        assert.is_true(m.accel.json_clean("x", cjson.null))
      end)

    it("json_clean finishes a table nested 200 levels deep; deeper, the C walk says false and clean_lua "
      .. "finishes it", function()
      -- a chain of `levels` tables below the top, the innermost with a null and an integral float
      local function chain(levels)
        local top = { a = cjson.null }
        local t = top
        for _ = 1, levels do
          t.next = { a = cjson.null, n = 2.0 }
          t = t.next
        end
        return top, t
      end
      for _, levels in ipairs { 1, 99, 100, 101, 199, 200, 201, 250 } do
        local top, inner = chain(levels)
        local finished = m.accel.json_clean(top, cjson.null)
        -- the C walk stops below 200 levels (KC_CLEAN_MAX_DEPTH); the Lua walk has no limit
        assert.equal(mode.want == "lua" or levels <= 200, finished, levels .. " levels")
        if not finished then m.accel.clean_lua(top, cjson.null) end
        assert.is_nil(top.a, levels .. " levels")
        assert.is_nil(inner.a, levels .. " levels")
        assert.equal(2, inner.n)
        if tointeger then assert.equal("integer", math.type(inner.n)) end
      end
    end)

    it("json.decode removes null at every depth and makes integral floats integers (5.3+)", function()
      local v = assert(m.json.decode(
        '{"a":null,"b":[1,null,3.0],"c":{"d":null,"e":[null,{"f":null,"g":2.0,"h":2.5}]},"i":1e2}'))
      assert.is_nil(v.a)
      assert.equal(1, v.b[1])
      assert.is_nil(v.b[2])
      assert.equal(3, v.b[3])
      assert.is_nil(v.c.d)
      assert.is_nil(v.c.e[1])
      assert.is_nil(v.c.e[2].f)
      assert.equal(2.5, v.c.e[2].h)
      if tointeger then
        for _, x in ipairs { v.b[3], v.c.e[2].g, v.i } do assert.equal("integer", math.type(x)) end
        assert.equal("float", math.type(v.c.e[2].h))
      end
      local _, err = m.json.decode("{bad")
      assert.matches("^invalid JSON: ", err)
      assert.same({ nil, "JSON null" }, { m.json.decode("null") })
    end)

    it("find_any tells whether any string of a set occurs, as string.find would, on 20,000 cases", function()
      local needles, find_any = m.accel.needles, m.accel.find_any
      local s = '{"id":"abc","path":"/a%2Fb","esc":"x\\u0041"}'
      assert.is_true(find_any(s, needles { "zzz", "%" }))
      assert.is_true(find_any(s, needles { "\\" }))
      assert.is_true(find_any(s, needles { "nope", "abc" }))
      assert.is_false(find_any(s, needles { "nope", "#", "abcd" }))
      assert.is_false(find_any(s, needles {}))
      assert.is_false(find_any("ab", needles { "abc" }))
      assert.is_false(find_any("", needles { "a" }))
      assert.is_true(find_any("a\0b", needles { "\0b" }))
      -- anything it cannot judge says "look closer"
      assert.is_true(find_any(nil, needles { "a" }))
      assert.is_true(find_any("abc", needles { "x", 42 }))
      assert.is_true(find_any("abc", needles { "" }))
      assert.is_true(find_any("abc", needles(nil)))
      -- small alphabets make near misses and overlapping candidates common
      local alphabets = { "ab", "abc", "abcdefghijklmnopqrstuvwxyz0123456789", "\0\1\255a" }
      for i = 1, 20000 do
        local a = alphabets[rnd(#alphabets)]
        local function str(len)
          local t = {}
          for k = 1, len do
            local c = rnd(#a)
            t[k] = a:sub(c, c)
          end
          return table.concat(t)
        end
        local hs = str(rnd(300) - 1)
        local list = {}
        for k = 1, rnd(4) do
          local len = rnd(12)
          if rnd(3) == 1 and #hs > 0 then
            local at = rnd(#hs)
            list[k] = hs:sub(at, at + len - 1)
          else
            list[k] = str(len)
          end
        end
        local want = false
        for _, n in ipairs(list) do
          if hs:find(n, 1, true) then want = true end
        end
        assert(find_any(hs, needles(list)) == want, ("case %d: %q in %q"):format(i, table.concat(list, "|"), hs))
      end
    end)

    it("find_any stays linear on a hostile body (a needle that almost matches everywhere)", function()
      local set = m.accel.needles { ("a"):rep(2000) .. "b" }
      local body = ("a"):rep(1000000)
      local t0 = os.clock()
      assert.is_false(m.accel.find_any(body, set))
      assert.is_true(m.accel.find_any(body .. "b", set))
      -- (a budget no linear search can miss on any machine: quadratic is 10^9 steps)
      assert.is_true(os.clock() - t0 < 5, "the search took " .. (os.clock() - t0) .. " s")
    end)

    it("the needle set of a client's secrets is made once and catches every form of each", function()
      local secrets = { TOKEN, TAIL }
      local set = m.redact.needles_of(secrets)
      assert.equal(set, m.redact.needles_of(secrets))
      local b64 = m.redact.base64
      for _, secret in ipairs(secrets) do
        for _, pre in ipairs { "", "x", "xy", "Bearer ", "user:" } do
          local e = b64(pre .. secret)
          assert.is_true(m.accel.find_any("{" .. e .. "}", set), "base64 after " .. #pre .. " bytes")
          assert.is_true(m.accel.find_any("{" .. urlsafe(e) .. "}", set), "url-safe base64 after " .. #pre .. " bytes")
        end
        assert.is_true(m.accel.find_any("{" .. secret .. "}", set))
      end
      assert.is_false(m.accel.find_any('{"id":"' .. UUID .. '","name":"plain"}', set))
    end)

    it("a token echoed into a success value is masked in every form, call after call (sets and caches warm)",
      function()
        local b64 = m.redact.base64
        local forms = {
          TOKEN, TAIL, pct(TOKEN), pct(TOKEN):lower(), json_u(TOKEN), json_u(TAIL), json_u(TOKEN, "\\u%04X"),
          (pct(TOKEN):gsub("%%", "\\u0025")), -- %XX with each % JSON-escaped: found after decoding only
          b64(TOKEN), b64("x" .. TOKEN), b64("xy" .. TOKEN), b64("Bearer " .. TOKEN), b64("user:" .. TOKEN),
          urlsafe(b64("x" .. TOKEN)), urlsafe(b64("xy" .. TAIL)), b64(TAIL), b64("z" .. TAIL),
        }
        local c = assert(m.pats.new { token = TOKEN, server_url = fake.http, retries = false })
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

    it("a body with no form of a secret comes back untouched, and no value carries a null", function()
      local c = assert(m.pats.new { token = TOKEN, server_url = fake.http, retries = false })
      local name = "plain name with % and \\ kept: 100%"
      fake.fault { method = "GET", status = 200, count = 1,
                   body = m.json.encode { id = UUID, name = name, tags = { "a", "b" } } }
      local v = assert(c:get(ALICE, UUID))
      assert.equal(name, v.name)
      assert.same({ "a", "b" }, v.tags)
      fake.fault { method = "GET", status = 200, count = 1, body = '{"id":"' .. UUID .. '","name":"kpat_"}' }
      v = assert(c:get(ALICE, UUID))
      assert.equal("kpat_", v.name)
      fake.reset()
      local tok = assert(c:create(ALICE, { name = "accel-" .. mode.want, ttl_seconds = 86400 }))
      local list = assert(c:list(ALICE))
      local function no_null(x)
        for _, y in pairs(x) do
          assert.is_not.equal(cjson.null, y)
          if type(y) == "table" then no_null(y) end
        end
      end
      no_null(list)
      assert.is_nil(list.data[1].last_used_at)
      if tointeger then assert.equal("integer", math.type(list.meta.total)) end
      assert(c:delete(ALICE, tok.id))
    end)
  end)
end
