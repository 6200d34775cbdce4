-- The one rulebook (lua/konnect/limits.lua) and the C core (csrc/, its numbers
-- in csrc/core.h) accept and refuse exactly the same inputs: every case below
-- is fed to the Lua rule and to the C entry point that enforces the same cap,
-- and both must agree with the expected verdict; and every number of
-- core.h's caps block is held to limits (or, for the C-only ones, to the rule
-- written next to it).  No server is needed: a value C accepts is used
-- against a closed port (kind "connect"), a refused one never leaves the
-- process.
--
--   LUA_CPATH='build/5.4/?.so;;' LUA_PATH='lua/?.lua;spec/?.lua;;' lua5.4 /usr/bin/busted spec/limits_spec.lua

local core = require "konnect.core"
local limits = require "konnect.limits"
local socket = require "socket"

local INF, NAN = 1 / 0, 0 / 0

local ROOT = (debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/.."

local function closed_url()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return "http://127.0.0.1:" .. port .. "/"
end

local function show(v)
  if type(v) == "string" then
    local s = v:gsub("[%c\128-\255]", function(c) return ("\\%d"):format(c:byte()) end)
    return #s > 40 and ("%q.. (%d bytes)"):format(s:sub(1, 40), #v) or ("%q"):format(s)
  end
  return tostring(v)
end

-- check(cases, rules): each case is { value, ok }; each rule is { name, fn }
-- with fn(value) -> truthy when accepted.
local function check(cases, rules)
  for _, case in ipairs(cases) do
    local v, want = case[1], case[2]
    for _, rule in ipairs(rules) do
      local got = not not rule[2](v)
      assert(got == want, ("%s(%s): expected %s, got %s"):format(
        rule[1], show(v), want and "accept" or "refuse", got and "accept" or "refuse"))
    end
  end
end

-- every single byte, with the verdict of RFC 9110 field values minus CTLs
local function byte_cases(prefix, suffix)
  local cases = {}
  for b = 0, 255 do
    local ok = not ((b < 32 and b ~= 9) or b == 127)
    cases[#cases + 1] = { prefix .. string.char(b) .. suffix, ok }
  end
  return cases
end

local VALUE_CASES = {
  { "", true }, { "a", true }, { "a b", true }, { "\t", true }, { "a\tb", true },
  { " leading", true }, { "trailing ", true }, { "Bearer kpat_fake_x_bootstrap", true },
  { "\r", false }, { "\n", false }, { "a\r\nX-Injected: 1", false }, { "a\nb", false },
  { "\0", false }, { "a\0b", false }, { "\127", false }, { "\1", false }, { "\31", false },
  { "\11", false }, { "\12", false }, { "\27[0m", false },
  { "\128", true }, { "\255", true }, { "caf\195\169", true }, { "\226\128\168", true },
  { ("x"):rep(limits.MAX_HEADER_VALUE), true }, { ("x"):rep(limits.MAX_HEADER_VALUE + 1), false },
  { ("\t"):rep(limits.MAX_HEADER_VALUE), true },
}

describe("limits.lua and konnect.core agree", function()
  it("on header values (limits.header_value / core.headers { 'X-Test: ' .. v })", function()
    local rules = {
      { "limits.header_value", function(v) return limits.header_value(v) end },
      { "core.headers", function(v) return core.headers { "X-Test: " .. v } end },
    }
    check(VALUE_CASES, rules)
    check(byte_cases("a", "b"), rules)
    check(byte_cases("", ""), rules)
  end)

  it("on user agents (limits.user_agent / core.new { user_agent = v })", function()
    local rules = {
      { "limits.user_agent", function(v) return limits.user_agent(v) end },
      { "core.new", function(v)
          local c = core.new { user_agent = v }
          if c then c:close() end
          return c
        end },
    }
    local cases = {}
    for i, case in ipairs(VALUE_CASES) do cases[i] = case end
    cases[1] = { "", false }                        -- an empty user agent is refused
    check(cases, rules)
    check(byte_cases("ua/", "1"), rules)
    check({ { 1, false }, { true, false } }, rules)
  end)

  it("on header names (limits.header_name / core.headers { k .. ': v' })", function()
    -- (a name containing ':' cannot be told apart in the "Name: value" line form:
    -- C splits at the first colon by definition; the Lua rule refuses it)
    local cases = {
      { "X-Test", true }, { "a", true }, { "Authorization", true }, { "x_y.z~1", true },
      { "!#$%&'*+-.^_`|~", true }, { ("x"):rep(256), true }, { ("x"):rep(257), false },
      { "", false }, { "X Test", false }, { "X\tTest", false }, { "X\rTest", false }, { "X\nTest", false },
      { "X\0T", false }, { "X\127", false }, { "caf\195\169", false }, { "X(T)", false }, { "X@T", false },
      { "X/T", false }, { "X;T", false }, { "X=T", false }, { "X\"", false }, { "{X}", false },
      { "X[1]", false }, { "X,Y", false }, { "X?", false }, { "X\\", false },
    }
    local rules = {
      { "limits.header_name", function(k) return limits.header_name(k) end },
      { "core.headers", function(k) return core.headers { k .. ": v" } end },
    }
    check(cases, rules)
    local bytes = {}
    for b = 0, 255 do
      if b ~= 58 then   -- ':'
        local ch = string.char(b)
        bytes[#bytes + 1] = { "X" .. ch, ch:find("^[%w!#$%%&'*+.^_`|~-]$") ~= nil }
      end
    end
    check(bytes, rules)
  end)

  it("on timeouts (limits.seconds / core.new timeout, connect_timeout / request's 6th argument / an item's 6th)",
    function()
      local url = closed_url()
      local c = assert(core.new())
      local m = assert(core.multi())
      local function accepted_by_call(terr)
        -- accepted: the request went to the closed port ("connect", or "timeout" for
        -- the tiniest values); refused: the argument was ("invalid_argument")
        return terr and terr.kind ~= "invalid_argument"
      end
      local rules = {
        { "limits.seconds", function(v) return limits.seconds(v, "timeout") end },
        { "core.new{timeout}", function(v) return core.new { timeout = v } end },
        { "core.new{connect_timeout}", function(v) return core.new { connect_timeout = v } end },
        { "core.multi{timeout}", function(v) return core.multi { timeout = v } end },
        { "conn:request", function(v)
            return accepted_by_call(select(2, c:request("GET", url, nil, nil, false, v)))
          end },
        { "m:request_many", function(v)
            return accepted_by_call(m:request_many({ { "GET", url, nil, nil, false, v } }, 1)[1])
          end },
      }
      check({
        { 0, false }, { -1, false }, { -0.001, false }, { 1e-9, true }, { 0.001, true }, { 0.5, true }, { 1, true },
        { 30, true }, { 86400, true }, { 86400.5, false }, { 86401, false }, { 1e300, false },
        { INF, false }, { -INF, false }, { NAN, false }, { "1", false }, { true, false }, { {}, false },
      }, rules)
      c:close()
      m:close()
    end)

  it("on max_body (limits.max_body / core.new { max_body = v })", function()
    local rules = {
      { "limits.max_body", function(v) return limits.max_body(v) end },
      { "core.new", function(v) return core.new { max_body = v } end },
      { "core.multi", function(v) return core.multi { max_body = v } end },
    }
    check({
      { 0, false }, { 1, false }, { 1023, false }, { 1024, true }, { 1024.5, false }, { 1025, true },
      { 4 * 1024 * 1024, true }, { 2 ^ 30, true }, { 2 ^ 30 + 1, false }, { 2 ^ 53, false }, { -1024, false },
      { INF, false }, { -INF, false }, { NAN, false }, { "1024", false }, { true, false },
    }, rules)
    assert.equal(1024, limits.MAX_BODY_MIN)
    assert.equal(2 ^ 30, limits.MAX_BODY_MAX)
  end)

  it("on batch concurrency (limits.concurrency / m:request_many(items, n))", function()
    local m = assert(core.multi())
    local rules = {
      { "limits.concurrency", function(v) return limits.concurrency(v) end },
      { "m:request_many", function(v) return m:request_many({}, v) end },
    }
    check({
      { 0, false }, { 1, true }, { 1.5, false }, { 2, true }, { 8, true }, { 255, true }, { 256, true },
      { 257, false }, { 1000, false }, { -1, false }, { INF, false }, { -INF, false }, { NAN, false },
      { "2", false }, { true, false },
    }, rules)
    m:close()
    assert.equal(256, limits.BATCH_MAX_CONCURRENCY)
  end)

  it("on every number of csrc/core.h's caps block: limits' own, or a C-only one within its rule", function()
    local ops = require("konnect.ops").OPERATIONS
    local longest_method = 0
    for _, op in pairs(ops) do
      if #op.method > longest_method then longest_method = #op.method end
    end
    -- the C-only rules, as core.h writes them
    local RULES = {
      [">= every op.method"] = function(v) return v >= longest_method end,
      [">= limits.MAX_HEADER_BYTES"] = function(v) return v >= limits.MAX_HEADER_BYTES end,
      ["> limits.JSON_MAX_DEPTH"] = function(v) return v > limits.JSON_MAX_DEPTH end,
    }
    local f = assert(io.open(ROOT .. "/csrc/core.h"))
    local text = f:read("*a")
    f:close()
    local block = assert(text:match("/%* Caps and defaults%..-\n(.-)\n/%* %-%-%-"), "no caps block in core.h")
    local seen, tied, c_only = {}, 0, 0
    for name, expr, note in block:gmatch("#define (KC_[%w_]+)%s+(.-)%s*/%*%s*(.-)%s*%*/") do
      -- the C expression as a Lua one: casts and the L suffix dropped
      local lua_expr = expr:gsub("%(size_t%)", ""):gsub("(%d)L", "%1")
      local value = assert((loadstring or load)("return " .. lua_expr))() -- luacheck: ignore 113
      seen[name] = true
      local lname, scale = note:match("^= limits%.([%w_]+)%s*%*?%s*(%d*)$")
      if lname then
        tied = tied + 1
        assert.is_number(limits[lname], name .. ": limits." .. lname .. " does not exist")
        assert.equal(limits[lname] * (tonumber(scale) or 1), value, name .. " = limits." .. lname)
      else
        local rule = note:match("^C only: (.+)$")
        assert.is_string(rule, name .. ": neither = limits.NAME nor C only: (" .. note .. ")")
        assert.is_function(RULES[rule], name .. ": no check for the rule '" .. rule .. "'")
        assert.is_true(RULES[rule](value), name .. " = " .. value .. " breaks its rule: " .. rule)
        c_only = c_only + 1
      end
    end
    assert.is_true(tied >= 11 and c_only == 3, ("read %d tied and %d C-only caps"):format(tied, c_only))
    for _, must in ipairs { "KC_MAX_HEADER_BYTES", "KC_MAX_CONCURRENCY", "KC_CLEAN_MAX_DEPTH" } do
      assert.is_true(seen[must], must)
    end
  end)
end)

describe("limits' own rules, exact verdicts", function()
  it("host: IPv4 octets up to 255, IPv6 only when bracketed whole, RFC 1123 labels, no all-digit name", function()
    for _, good in ipairs { "255.255.255.255", "0.0.0.0", "[::1]", "a-b.example", "x1.example.", "A.Example" } do
      assert.equal(good:lower(), (limits.host(good)), good)
    end
    local cases = {
      { nil, "no host" }, { "", "no host" }, { 42, "no host" },
      { "256.1.1.1", "invalid IPv4 address 256.1.1.1" }, { "1.256.1.1", "invalid IPv4 address 1.256.1.1" },
      { "1.1.256.1", "invalid IPv4 address 1.1.256.1" }, { "1.1.1.256", "invalid IPv4 address 1.1.1.256" },
      { "[::1]x", 'invalid host name "[::1]x"' },
      { "-a.example", 'invalid host name "-a.example"' }, { "a-.example", 'invalid host name "a-.example"' },
      { "a_b.example", 'invalid host name "a_b.example"' }, { "a..example", 'invalid host name "a..example"' },
      { "1.2.3", "invalid host name 1.2.3" }, { "1.2.3.4.5", "invalid host name 1.2.3.4.5" },
    }
    for _, c in ipairs(cases) do
      local v, err = limits.host(c[1])
      assert.is_nil(v, tostring(c[1]))
      assert.equal(c[2], err, tostring(c[1]))
    end
  end)

  it("loopback: localhost and its subdomains, 127.0.0.0/8, [::1]; nothing that merely contains them", function()
    for _, h in ipairs { "localhost", "a.localhost", "127.0.0.1", "127.9.8.7", "[::1]" } do
      assert.is_true(limits.loopback(h), h)
    end
    for _, h in ipairs { "localhost.example.com", "a.localhost.example.com", "xlocalhost", "128.0.0.1", "1.127.0.0.1",
                        "[::2]" } do
      assert.is_false(limits.loopback(h), h)
    end
  end)

  it("path: up to PATH_MAX bytes", function()
    local max = limits.PATH_MAX
    assert.equal(max, #limits.path(("p"):rep(max), "ca_file"))
    local v, err = limits.path(("p"):rep(max + 1), "ca_file")
    assert.is_nil(v)
    assert.equal("ca_file is longer than " .. max .. " bytes", err)
  end)

  it("ttl: says the number it got when out of range, or that it was out of any range", function()
    local v, err = limits.ttl(5)
    assert.is_nil(v)
    assert.equal("ttl_seconds must be between 86400 (1 day) and 31536000 (365 days), got 5", err)
    v, err = limits.ttl(-2 ^ 60)
    assert.is_nil(v)
    assert.equal("ttl_seconds must be between 86400 (1 day) and 31536000 (365 days), got a number out of range", err)
  end)

  it("token: a Bearer prefix in any case is named as such", function()
    for _, t in ipairs { "Bearer kpat_fake_x", "BEARER kpat_fake_x", "bearer\tkpat_fake_x", "bEaReR kpat_fake_x" } do
      local v, err = limits.token(t)
      assert.is_nil(v)
      assert.equal("token must be the bare secret: drop the \"Bearer \" prefix (the library adds it)", err)
    end
  end)

  it("is_number: finite numbers only, negative ones too", function()
    for _, n in ipairs { 0, -1, 1, -1e300, 1e300 } do assert.is_true(limits.is_number(n), tostring(n)) end
    for _, n in ipairs { 1 / 0, -1 / 0, 0 / 0, "1" } do assert.is_false(limits.is_number(n), tostring(n)) end
  end)

  it("proxy: the URL must start with its scheme; NO_PROXY entries match in any case", function()
    for _, bad in ipairs { " http://proxy.example:3128", "xhttp://proxy.example:3128", "proxy.example:3128" } do
      local v, err = limits.proxy(bad)
      assert.is_nil(v, bad)
      assert.matches("^proxy must be an http:// or https:// URL", err)
    end
    -- another scheme is named, lower-cased, by its first 16 characters
    for scheme, shown in pairs { SOCKS5 = "socks5", ["Socks5h-Over-Something"] = "socks5h-over-som" } do
      local v, err = limits.proxy(scheme .. "://proxy.example:1080")
      assert.is_nil(v)
      assert.equal("proxy must be an http:// or https:// URL (got scheme " .. shown .. ")", err)
    end
    assert.is_true(limits.no_proxy("API.Example.COM", "api.example.com"))
    assert.is_true(limits.no_proxy("EXAMPLE.com", "Api.Example.com"))
    assert.is_true(limits.no_proxy("a.example,b.example", "b.example"), "a comma without spaces separates too")
  end)

  it("request_header: a bad name is refused with the option's name in front", function()
    local k, err = limits.request_header("bad name", "v", "headers")
    assert.is_nil(k)
    assert.matches("^headers: ", err)
  end)

  it("request_header: a bad value is refused too, and a good pair comes back as given", function()
    local k, err = limits.request_header("X-Ok", "a\r\nInjected: 1", "headers")
    assert.is_nil(k)
    assert.is_string(err)
    assert.same({ "X-Ok", "fine" }, { limits.request_header("X-Ok", "fine", "headers") })
  end)

  it("path: nothing, an empty string or a non-string is no path; token: at most TOKEN_MAX bytes", function()
    for _, bad in ipairs { false, "", 5 } do
      assert.same({ nil, "ca_file must be a non-empty path" }, { limits.path(bad, "ca_file") })
    end
    local max = "kpat_fake_" .. string.rep("x", limits.TOKEN_MAX - 10)
    assert.equal(max, limits.token(max))
    assert.same({ nil, "token is longer than " .. limits.TOKEN_MAX .. " bytes" }, { limits.token(max .. "x") })
  end)

  it("proxy: an IPv6 literal may hold an IPv4 tail; a bracketed NO_PROXY entry matches that IPv6 host", function()
    local p = assert(limits.proxy("http://[::ffff:127.0.0.1]:3128"))
    assert.equal("[::ffff:127.0.0.1]", p.host)
    assert.equal(3128, p.port)
    assert.is_true(limits.no_proxy("[::1]", "[::1]"))
    assert.is_true(limits.no_proxy("example.com, [fe80::1]", "[FE80::1]"))
    assert.is_false(limits.no_proxy("[::2]", "[::1]"))
  end)

  it("proxy_from_env: a value without a scheme is http://, one with a scheme is kept as it is", function()
    local function env(t) return function(name) return t[name] end end
    local function from(t, scheme) return limits.proxy_from_env(env(t), scheme, "k.example") end
    assert.equal("http://127.0.0.1:3128", from({ HTTPS_PROXY = "127.0.0.1:3128" }, "https"))
    assert.equal("https://p.example:8443", from({ https_proxy = "https://p.example:8443" }, "https"))
    assert.equal("socks5://p.example:1080", from({ ALL_PROXY = "socks5://p.example:1080" }, "http"))
  end)
end)
