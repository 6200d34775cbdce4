local errors = require "konnect.errors"

-- (utf8.len is Lua 5.3's: this runs on 5.1 and LuaJIT too)
local function valid_utf8(s)
  local i = 1
  while i <= #s do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or c >= 0xF5 and 0 or c >= 0xF0 and 4 or c >= 0xE0 and 3 or c >= 0xC2 and 2 or 0
    if len == 0 then return false end
    for k = i + 1, i + len - 1 do
      local b = s:byte(k)
      if not b or b < 0x80 or b > 0xBF then return false end
    end
    i = i + len
  end
  return true
end

describe("konnect.errors", function()
  local ctx = { operation = "create-personal-access-token", method = "POST",
                url = "http://127.0.0.1:1/v3/users/x/access-tokens", attempts = 1 }

  it("maps problem+json into fields and one readable line", function()
    local e = errors.from_http(409, { ["x-kong-request-id"] = "abc123" }, "{}", {
      status = 409, title = "Conflict", type = "https://httpstatuses.com/409",
      instance = "kong:trace:1234567890", detail = "Maximum number of tokens reached",
    }, ctx)
    assert.equal("conflict", e.kind)
    assert.equal(409, e.status)
    assert.equal("Conflict", e.title)
    assert.equal("kong:trace:1234567890", e.trace_id)
    assert.equal("abc123", e.request_id)
    assert.is_nil(e.body)
    assert.equal("konnect: create-personal-access-token: conflict (409): Maximum number of tokens reached " ..
                 "[kong:trace:1234567890]", tostring(e))
    assert.equal("failed: " .. tostring(e), "failed: " .. e)
    assert.equal(tostring(e) .. "!", e .. "!")
    assert.is_true(e:is("conflict"))
    assert.is_false(e:is("not_found"))
    assert.is_true(errors.is(e, "conflict"))
    assert.is_false(errors.is({ kind = "conflict" }, "conflict"))
  end)

  it("takes a trace id only from an instance that is a kong:trace: URN, not one that merely holds the words", function()
    local cases = {
      ["kong:trace:42"] = "kong:trace:42",
      ["https://errors.example/kong:trace:42"] = false,
      ["urn:x:kong:trace:42"] = false,
      ["/v3/users/x/access-tokens"] = false,
      [" kong:trace:42"] = false,
      ["KONG:trace:42"] = false,
    }
    for instance, want in pairs(cases) do
      local e = errors.from_http(409, {}, "{}", { status = 409, title = "Conflict", instance = instance,
        detail = "Maximum number of tokens reached" }, ctx)
      assert.equal(want or nil, e.trace_id, instance)
      if not want then assert.not_matches("[kong:trace", tostring(e), 1, true, instance) end
    end
  end)

  it("lists invalid parameters in the message", function()
    local e = errors.from_http(400, {}, "{}", {
      status = 400, title = "Bad Request", instance = "kong:trace:1", detail = "Invalid request",
      invalid_parameters = { { field = "name", rule = "required", reason = "is a required field", source = "body" } },
    }, ctx)
    assert.equal("bad_request", e.kind)
    assert.equal("Invalid request: name is a required field", e.message)
    assert.equal("name", e.invalid_parameters[1].field)
  end)

  it("handles plain JSON, HTML and empty bodies", function()
    local e = errors.from_http(429, { ["content-type"] = "application/json" }, '{"message":"API rate limit exceeded"}',
      { message = "API rate limit exceeded" }, ctx)
    assert.equal("rate_limited", e.kind)
    assert.equal("API rate limit exceeded", e.message)
    e = errors.from_http(502, { ["content-type"] = "text/html; charset=utf-8" }, "<html>bad gateway</html>", nil, ctx)
    assert.equal("server", e.kind)
    assert.equal("HTTP 502 (text/html body)", e.message)
    assert.equal("<html>bad gateway</html>", e.body)
    -- a content type with no media type before its parameters is no content type
    e = errors.from_http(502, { ["content-type"] = "; charset=utf-8" }, "oops", nil, ctx)
    assert.equal("HTTP 502 (no content type body)", e.message)
    -- a JSON message that is not a string is not a message (and raises nothing)
    for _, m in ipairs { 42, true, { "x" } } do
      e = errors.from_http(500, { ["content-type"] = "application/json" }, '{"message":42}', { message = m }, ctx)
      assert.equal("HTTP 500 (application/json body)", e.message)
    end
    e = errors.from_http(418, {}, "", nil, ctx)
    assert.equal("http", e.kind)
    assert.equal("HTTP 418 with an empty body", e.message)
    e = errors.from_http(302, { location = "https://elsewhere.example/" }, "", nil, ctx)
    assert.equal("http", e.kind)
    assert.equal("redirect not followed (to https://elsewhere.example/)", e.message)
    for _, status in ipairs { 300, 301, 307, 308, 399 } do -- every 3xx, the first and last too
      e = errors.from_http(status, {}, "", nil, ctx)
      assert.equal("redirect not followed", e.message, status)
    end
  end)

  it("caps a huge body", function()
    local e = errors.from_http(500, {}, ("x"):rep(100000), nil, ctx)
    assert.is_true(#e.body < 2100)
  end)

  it("quotes a server's detail in the message up to limits.MESSAGE_CAP bytes, then an ellipsis", function()
    local cap = require("konnect.limits").MESSAGE_CAP
    local long = ("0123456789"):rep(100)
    local e = errors.from_http(400, {}, "{}", { detail = long }, ctx)
    assert.equal(long:sub(1, cap) .. "…", e.message)
    assert.equal(long, e.detail, "the field keeps the whole detail")
    e = errors.from_http(400, {}, "{}", { detail = long:sub(1, cap) }, ctx)
    assert.equal(long:sub(1, cap), e.message, "exactly the cap: whole, no ellipsis")
    e = errors.from_http(429, {}, "{}", { message = long:sub(1, cap + 1) }, ctx)
    assert.equal(long:sub(1, cap) .. "…", e.message, "one byte more: cut")
  end)

  it("never cuts a quoted detail inside a UTF-8 character", function()
    local cap = require("konnect.limits").MESSAGE_CAP
    -- one ASCII byte, then two-byte characters: byte `cap` is the first half of one
    local detail = "a" .. ("é"):rep(cap)
    local e = errors.from_http(400, {}, "{}", { detail = detail }, ctx)
    local kept = assert(e.message:match("^(.*)…$"), "an ellipsis ends the cut message")
    assert.is_true(#kept <= cap)
    assert.equal(detail:sub(1, #kept), kept)
    assert.is_true(valid_utf8(e.message), "the message is valid UTF-8")
    assert.is_true(valid_utf8(tostring(e)), "so is tostring(err)")
  end)

  it("maps every documented status", function()
    local want = { [400] = "bad_request", [401] = "unauthorized", [403] = "forbidden", [404] = "not_found",
                   [409] = "conflict", [429] = "rate_limited", [500] = "server", [503] = "server", [422] = "http" }
    for status, kind in pairs(want) do
      assert.equal(kind, errors.kind_for_status(status))
    end
  end)

  it("a transport failure without a usable message is told by its kind (an unknown kind is network)", function()
    for _, case in ipairs {
      { { kind = "timeout" }, "timeout", "timeout" },
      { { kind = "connect", message = 42 }, "connect", "connect" },
      { { kind = "tls", message = " \n " }, "tls", "tls" },
      { { kind = "tls", message = "bad\ncert " }, "tls", "bad cert" },
      { { kind = "bogus", message = "x" }, "network", "x" },
      { "boom", "network", "network" },
      { nil, "network", "network" },
    } do
      local e = errors.from_transport(case[1], ctx)
      assert.equal(case[2], e.kind)
      assert.equal(case[3], e.message)
      assert.equal(ctx.operation, e.operation)
    end
  end)

  it("passes an existing error through new()", function()
    local e = errors.new("timeout", { message = "took too long" })
    assert.equal(e, errors.new(e))
    assert.equal("konnect: timeout: took too long", tostring(e))
  end)

  it("new() without a usable message says the kind in words", function()
    for _, fields in ipairs { {}, { message = "" }, { message = 42 }, { message = false } } do
      local e = errors.new("too_large", fields)
      assert.equal("too large", e.message)
      assert.equal("konnect: too_large: too large", tostring(e))
    end
    assert.equal("not found", errors.new("not_found").message)
  end)
  it("a misspelt kind gets the nearest real one as a hint (up to two edits), or none", function()
    local e = errors.new("timeout", { message = "slow" })
    for typo, want in pairs {
      timout = "timeout", conflcit = "conflict", forbiden = "forbidden", htts = "http", -- http 1 edit, tls 2
      ["Not-Fuond"] = "not_found", tl = "tls", NotFound = "not_found", ["NOT FOUND"] = "not_found",
      Connected = "connect", unauthoriz = "unauthorized", ratelimit = "rate_limited", Timeouted = "timeout",
      ["conflict!"] = "conflict",
    } do
      local yes, why = errors.is(e, typo)
      assert.is_false(yes, typo)
      assert.equal("unknown error kind '" .. typo .. "' (did you mean " .. want .. "?)", why)
    end
    local yes, why = errors.is(e, "zzzzzz")
    assert.is_false(yes)
    assert.equal("unknown error kind 'zzzzzz'", why)
    -- a status number names the kind that stands for it; one that stands for none gets no hint
    yes, why = errors.is(e, 404)
    assert.is_false(yes)
    assert.equal("unknown error kind 404 (did you mean not_found?)", why)
    assert.same({ false, "unknown error kind 429 (did you mean rate_limited?)" }, { errors.is(e, 429) })
    assert.same({ false, "unknown error kind 500" }, { errors.is(e, 500) })
  end)

  it("cap_body cuts before a character whose last byte is 0xBF (U+00BF, U+FFFF's kin), never inside it", function()
    local cap = require("konnect.limits").ERROR_BODY_CAP
    for _, ch in ipairs { "\194\191", "\239\191\191", "\224\191\128" } do -- U+00BF, U+FFFF, U+0FC0
      local body = ("a"):rep(cap - 1) .. ch .. "tail"
      local got = errors.cap_body(body)
      assert.equal(("a"):rep(cap - 1) .. "\226\128\166", got)
      assert.is_true(valid_utf8(got))
    end
  end)

  it("a request id that is only white space or controls is dropped, not kept empty", function()
    for _, id in ipairs { "", "   ", "\r\n", "\t \0" } do
      assert.is_nil(errors.scrub({ request_id = id }).request_id, ("%q"):format(id))
    end
    assert.equal("abc def", errors.scrub({ request_id = " abc\r\ndef " }).request_id)
  end)
end)
