-- fake_konnect/spec/contract_spec.lua: the fake Konnect server against the
-- contracts (spec/konnect-tokens-openapi.yaml, the whole token surface, and
-- spec/konnect-pats-openapi.yaml, its PAT-only subset), over real HTTP with
-- the curl command.  The users and system-account operations, the seeded
-- organisation, roles, the per-window rate limiter and the state dump are in
-- contract_tokens.lua, run from here.  It loads no library code, so
-- `make test` runs it once (Lua 5.4).
--
--   eval "$(fake_konnect/ctl start)" && lua5.4 /usr/bin/busted fake_konnect/spec/contract_spec.lua
--
-- It starts nothing itself: it needs FAKE_KONNECT_HTTP, FAKE_KONNECT_HTTPS
-- and FAKE_KONNECT_CA from `fake_konnect/ctl start`.

local HTTP = os.getenv("FAKE_KONNECT_HTTP")
local HTTPS = os.getenv("FAKE_KONNECT_HTTPS")
local CA = os.getenv("FAKE_KONNECT_CA")
if not (HTTP and HTTPS and CA) then
  error("fake_konnect/spec/contract_spec.lua needs FAKE_KONNECT_HTTP, FAKE_KONNECT_HTTPS and FAKE_KONNECT_CA; " ..
    "start the fake first:  eval \"$(fake_konnect/ctl start)\"", 0)
end

-- openapi.lua and ../fixtures.lua, whatever the working directory
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "fake_konnect/spec"
local openapi = dofile(here .. "/openapi.lua")
local fixtures = dofile(here .. "/../fixtures.lua")
local dkjson = require "dkjson"

local ALICE, BOB, NOBODY = fixtures.ALICE, fixtures.BOB, fixtures.MISSING
local ALICE_BOOT, BOB_BOOT, SERVICE = fixtures.ALICE_TOKEN, fixtures.BOB_TOKEN, fixtures.SERVICE_TOKEN
local UNKNOWN_TOKEN_ID = fixtures.UNKNOWN_TOKEN_ID

---------------------------------------------------------------------------
-- a tiny HTTP client over the curl command

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local function decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  local ok, v = pcall(dkjson.decode, s, 1, dkjson.null)
  if ok then return v end
  return nil
end

local function encode(v)
  return dkjson.encode(v)
end

-- http(method, url, opts) -> res
--   opts: token, headers = { name = value }, body (string or table -> JSON),
--         http1 (force HTTP/1.1), cacert (default FAKE_KONNECT_CA for https),
--         no_cacert, resolve, timeout
--   res:  status, headers (lower-case names), body (string), json (decoded or nil),
--         exit (curl's exit code), stderr, time (seconds), http_version
local function http(method, url, opts)
  opts = opts or {}
  local hdr_file, body_file, err_file = os.tmpname(), os.tmpname(), os.tmpname()
  local req_file
  local args = {
    "curl", "-sS", "-X", method, "-D", hdr_file, "-o", body_file,
    "-w", "%{http_code} %{http_version} %{time_total}",
    "--max-time", tostring(opts.timeout or 20),
  }
  local function add(...) for _, a in ipairs { ... } do args[#args + 1] = a end end
  if opts.http1 then add("--http1.1") end
  if url:match("^https:") then
    if not opts.no_cacert then add("--cacert", opts.cacert or CA) end
  end
  if opts.resolve then add("--resolve", opts.resolve) end
  if opts.token then add("-H", "Authorization: Bearer " .. opts.token) end
  local has_ct = false
  for k, v in pairs(opts.headers or {}) do
    if k:lower() == "content-type" then has_ct = true end
    add("-H", k .. ": " .. v)
  end
  if opts.body ~= nil then
    local body = type(opts.body) == "table" and encode(opts.body) or opts.body
    req_file = os.tmpname()
    local f = assert(io.open(req_file, "wb"))
    f:write(body)
    f:close()
    add("--data-binary", "@" .. req_file)
    if not has_ct then add("-H", "Content-Type: application/json") end
  end
  add(url)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = q(a) end
  -- the shell reports curl's exit status (io.popen():close() does not on Lua 5.1/LuaJIT)
  local p = assert(io.popen(table.concat(parts, " ") .. " 2>" .. q(err_file) .. '; printf " EXIT=%d" $?', "r"))
  local out = p:read("*a")
  p:close()
  local res = {
    exit = tonumber(out:match(" EXIT=(%d+)$")) or -1,
    stderr = read_file(err_file),
    body = read_file(body_file),
    headers = {},
  }
  local status, version, t = out:match("^(%d+) (%S+) (%S+)")
  res.status = tonumber(status) or 0
  res.http_version = version
  res.time = tonumber(t)
  -- the last header block (skips 100 Continue and the like)
  local raw = read_file(hdr_file)
  local last
  for block in (raw .. "\r\n\r\n"):gmatch("(HTTP/.-)\r\n\r\n") do last = block end
  for line in (last or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:%s]+):%s*(.-)%s*$")
    if k then res.headers[k:lower()] = v end
  end
  res.json = decode(res.body)
  for _, f in ipairs { hdr_file, body_file, err_file, req_file } do os.remove(f) end
  return res
end

local function api(method, path, opts)
  return http(method, HTTP .. path, opts)
end

local function control(method, path, body)
  return http(method, HTTP .. "/__fake/" .. path, { body = body })
end

local function fault(spec)
  local res = control("POST", "faults", spec)
  assert(res.status == 201, "POST /__fake/faults: " .. res.status .. " " .. res.body)
  return res.json
end

local function tokens_path(user, token_id, suffix)
  local p = "/v3/users/" .. user .. "/access-tokens"
  if token_id then p = p .. "/" .. token_id end
  if suffix then p = p .. "/" .. suffix end
  return p
end

---------------------------------------------------------------------------
-- contract checks

local covered = {} -- "operation status" -> true
local tokens_doc = openapi.tokens
local in_pat_doc = {}
for _, id in ipairs(openapi.operation_ids()) do in_pat_doc[id] = true end

-- check(op, res, expected_status) -> res.json
-- validated against the tokens contract, and the PAT-only one for its operations
local function check(op, res, status)
  assert(res.exit == 0, string.format("%s: curl exit %d: %s", op, res.exit, res.stderr))
  if status then
    assert(res.status == status, string.format("%s: expected status %d, got %d: %s",
      op, status, res.status, res.body))
  end
  local body = res.json
  if res.status == 204 then
    body = res.body ~= "" and res.body or nil
  else
    assert(body ~= nil, op .. ": response body is not JSON: " .. res.body)
  end
  local ok, err = tokens_doc.validate_response(op, res.status, res.headers["content-type"], body)
  assert(ok, string.format("%s %d does not match the contract: %s\nbody: %s", op, res.status, tostring(err), res.body))
  if in_pat_doc[op] then
    ok, err = openapi.validate_response(op, res.status, res.headers["content-type"], body)
    assert(ok, string.format("%s %d does not match the PAT contract: %s\nbody: %s", op, res.status,
      tostring(err), res.body))
  end
  assert(res.headers["x-kong-request-id"] and res.headers["x-kong-request-id"]:match("^%x+$"),
    op .. ": no x-kong-request-id header")
  if res.status >= 400 then
    assert.equal(res.status, body.status)
    assert.equal("https://httpstatuses.com/" .. res.status, body.type)
    assert.is_truthy(body.instance:match("^kong:trace:%d+$"), "instance: " .. tostring(body.instance))
    assert.is_string(body.title)
    assert.is_string(body.detail)
  end
  covered[op .. " " .. res.status] = true
  return body
end

-- The statuses the fake sends that an operation does not list (each one a
-- documented choice in fake_konnect/README.md): "operation status" -> the
-- component schema its problem+json body follows.
local EXTENSIONS = {
  ["list-users 401"] = "UnauthorizedError", ["list-users 403"] = "ForbiddenError",
  ["get-user 401"] = "UnauthorizedError", ["get-user 403"] = "ForbiddenError",
  ["post-system-accounts-id-access-tokens 400"] = "BadRequestError",
  ["patch-system-accounts-id-access-tokens-id 400"] = "BadRequestError",
}
local extended = {} -- "operation status" -> true, as seen

-- check_extension(op, res, status) -> res.json: a status outside the
-- operation's list, in the shape of the component schema EXTENSIONS names
local function check_extension(op, res, status)
  assert(res.exit == 0, string.format("%s: curl exit %d: %s", op, res.exit, res.stderr))
  assert(res.status == status, string.format("%s: expected status %d, got %d: %s", op, status, res.status, res.body))
  local key = op .. " " .. status
  local schema = assert(EXTENSIONS[key], key .. " is not a documented extension")
  assert.is_nil(tokens_doc.validate_response(op, status, res.headers["content-type"], res.json),
    key .. " is listed by the contract now: check it with check()")
  assert.equal("application/problem+json", res.headers["content-type"])
  local body = assert(res.json, key .. ": body is not JSON: " .. res.body)
  local ok, err = tokens_doc.validate(tokens_doc.schema(schema), body)
  assert(ok, string.format("%s does not match %s: %s\nbody: %s", key, schema, tostring(err), res.body))
  assert.equal(status, body.status)
  assert.equal("https://httpstatuses.com/" .. status, body.type)
  assert.is_truthy(body.instance:match("^kong:trace:%d+$"))
  assert.is_truthy(res.headers["x-kong-request-id"])
  extended[key] = true
  return body
end

local function find_param(body, field, rule)
  for _, p in ipairs(body.invalid_parameters or {}) do
    if p.field == field and (rule == nil or p.rule == rule) then return p end
  end
  return nil
end

local function assert_param(body, field, rule)
  local p = find_param(body, field, rule)
  assert(p, string.format("no invalid_parameters item {field=%s, rule=%s} in %s", field, rule, encode(body)))
  return p
end

local function is_null(v) return openapi.is_null(v) end

-- RFC 3339 with milliseconds, UTC
local function assert_time(s)
  assert(type(s) == "string" and s:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"),
    "not a UTC timestamp with milliseconds: " .. tostring(s))
end

local function epoch(s)
  local y, mo, d, h, mi, sec, ms = s:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)Z$")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local floor = math.floor
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
  local days = era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
  local frac = tonumber(ms ~= "" and ms or "0") / 1000
  return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60 + tonumber(sec) + frac
end

local function create(token, user, body)
  return api("POST", tokens_path(user or ALICE), { token = token or ALICE_BOOT,
    body = body or { name = "ci token", ttl_seconds = 86400 } })
end

local function create_ok(name, token, user)
  local res = create(token, user, { name = name or "ci token", ttl_seconds = 86400 })
  return check("create-personal-access-token", res, 201)
end

---------------------------------------------------------------------------

describe("fake Konnect contract", function()
  before_each(function()
    local res = control("POST", "reset")
    assert(res.status == 204, "POST /__fake/reset failed (" .. res.status .. "): " .. res.stderr .. res.body)
  end)

  describe("get-users-me", function()
    local op = "get-users-me"

    it("200 for the bootstrap tokens", function()
      local me = check(op, api("GET", "/v3/users/me", { token = ALICE_BOOT }), 200)
      assert.equal(ALICE, me.id)
      assert.equal("alice@example.test", me.email)
      assert.equal("Alice Example", me.full_name)
      local bob = check(op, api("GET", "/v3/users/me", { token = BOB_BOOT }), 200)
      assert.equal(BOB, bob.id)
    end)

    it("200 for a created token", function()
      local t = create_ok()
      local me = check(op, api("GET", "/v3/users/me", { token = t.konnect_token }), 200)
      assert.equal(ALICE, me.id)
    end)

    it("401 without, with an unknown or a malformed credential", function()
      check(op, api("GET", "/v3/users/me"), 401)
      check(op, api("GET", "/v3/users/me", { token = "kpat_fake_nobody" }), 401)
      check(op, api("GET", "/v3/users/me", { headers = { Authorization = "Basic YWxpY2U6cHc=" } }), 401)
      check(op, api("GET", "/v3/users/me", { headers = { Authorization = "Bearer" } }), 401)
    end)

    it("401 for the service token (the contract lists only 401 here)", function()
      check(op, api("GET", "/v3/users/me", { token = SERVICE }), 401)
    end)
  end)

  describe("create-personal-access-token", function()
    local op = "create-personal-access-token"

    it("201 with ttl_seconds", function()
      local req = { name = "ci token", ttl_seconds = 86400 }
      assert(openapi.validate_request(op, req))
      local res = create(ALICE_BOOT, ALICE, req)
      local t = check(op, res, 201)
      assert.equal("ci token", t.name)
      assert.equal(ALICE, t.user_id)
      assert.equal("ACTIVE", t.state)
      assert.is_truthy(t.konnect_token:match("^kpat_%w+$"))
      assert.equal(50, #t.konnect_token)
      assert_time(t.created_at)
      assert_time(t.updated_at)
      assert_time(t.expires_at)
      assert.near(86400, epoch(t.expires_at) - epoch(t.created_at), 0.01)
      -- nullable fields are sent as JSON null
      assert.is_true(is_null(t.last_used_at))
      assert.is_true(is_null(t.revoked_at))
      assert.is_true(is_null(t.revoked_by))
      assert.is_truthy(res.body:find('"last_used_at":null', 1, true))
      assert.is_truthy(res.headers["content-type"]:match("^application/json"))
    end)

    it("201 with the deprecated expires_at (normalised to UTC milliseconds)", function()
      local req = { name = "old style", expires_at = "2099-06-01T12:00:00+02:00" }
      assert(openapi.validate_request(op, req))
      local t = check(op, create(ALICE_BOOT, ALICE, req), 201)
      assert.equal("2099-06-01T10:00:00.000Z", t.expires_at)
    end)

    it("201 for names at the edges of the rules", function()
      for _, name in ipairs { "ab", "Zoë's café-token_1.0", ("x"):rep(256), "名前", "42" } do
        assert(openapi.validate_request(op, { name = name, ttl_seconds = 31536000 }))
        local t = check(op, create(ALICE_BOOT, ALICE, { name = name, ttl_seconds = 31536000 }), 201)
        assert.equal(name, t.name)
        control("POST", "reset")
      end
    end)

    it("the created token authenticates later calls", function()
      local t = create_ok()
      local list = check("list-users-personal-access-tokens",
        api("GET", tokens_path(ALICE), { token = t.konnect_token }), 200)
      assert.equal(1, #list.data)
      assert.equal(t.id, list.data[1].id)
    end)

    -- body, expected field, expected rule, extra check, contract_invalid
    local cases = {
      { "missing name", '{"ttl_seconds":86400}', "name", "required" },
      { "name not matching the pattern", '{"name":"-bad name","ttl_seconds":86400}', "name", "matches_regex" },
      { "one-character name", '{"name":"a","ttl_seconds":86400}', "name", "matches_regex" },
      { "name ending in a space", '{"name":"ab ","ttl_seconds":86400}', "name", "matches_regex" },
      { "empty name", '{"name":"","ttl_seconds":86400}', "name", "min_length",
        function(p) assert.equal(1, p.minimum) end },
      { "257-character name", encode { name = ("y"):rep(257), ttl_seconds = 86400 }, "name", "max_length",
        function(p) assert.equal(256, p.maximum) end },
      { "name not a string", '{"name":5,"ttl_seconds":86400}', "name", "is_string" },
      { "fractional ttl_seconds", '{"name":"ci token","ttl_seconds":86400.5}', "ttl_seconds", "is_integer" },
      { "string ttl_seconds", '{"name":"ci token","ttl_seconds":"86400"}', "ttl_seconds", "is_integer" },
      { "ttl_seconds too small", '{"name":"ci token","ttl_seconds":86399}', "ttl_seconds", "min",
        function(p) assert.equal(86400, p.minimum) end },
      { "ttl_seconds too large", '{"name":"ci token","ttl_seconds":31536001}', "ttl_seconds", "max",
        function(p) assert.equal(31536000, p.maximum) end },
      { "both ttl_seconds and expires_at",
        '{"name":"ci token","ttl_seconds":86400,"expires_at":"2099-01-01T00:00:00Z"}', "ttl_seconds", "invalid" },
      { "neither ttl_seconds nor expires_at", '{"name":"ci token"}', "ttl_seconds", "invalid" },
      { "bad expires_at", '{"name":"ci token","expires_at":"next tuesday"}', "expires_at", "is_date_time" },
      { "expires_at in the past", '{"name":"ci token","expires_at":"2001-01-01T00:00:00Z"}', "expires_at", "invalid",
        nil, "valid" },
      { "unknown property", '{"name":"ci token","ttl_seconds":86400,"scope":"all"}', "scope", "unknown_property" },
      { "invalid JSON", '{"name": "ci token",', "body", "invalid", nil, "not json" },
      { "a JSON array", '[{"name":"ci token","ttl_seconds":86400}]', "body", "is_object" },
      { "an empty body", "", "body", "required", nil, "not json" },
    }
    for _, c in ipairs(cases) do
      local what, body, field, rule, extra, note = c[1], c[2], c[3], c[4], c[5], c[6]
      it("400 for " .. what, function()
        if note == nil then
          -- the request really is outside the contract
          local ok = openapi.validate_request(op, decode(body) or body)
          assert.is_nil(ok)
        end
        local err = check(op, api("POST", tokens_path(ALICE), { token = ALICE_BOOT, body = body }), 400)
        local p = assert_param(err, field, rule)
        assert.is_string(p.reason)
        if extra then extra(p) end
        -- nothing was created
        local list = api("GET", tokens_path(ALICE), { token = ALICE_BOOT }).json
        assert.equal(0, #list.data)
      end)
    end

    it("400 for a userId that is not a UUID", function()
      local err = check(op, create(ALICE_BOOT, "alice"), 400)
      local p = assert_param(err, "userId", "is_uuid")
      assert.equal("path", p.source)
    end)

    it("401 without credentials, with a revoked or an expired token", function()
      check(op, api("POST", tokens_path(ALICE), { body = { name = "ci token", ttl_seconds = 86400 } }), 401)
      local t = create_ok()
      check("revoke-personal-access-token",
        api("PATCH", tokens_path(ALICE, t.id, "revoke"), { token = ALICE_BOOT }), 200)
      check(op, create(t.konnect_token), 401)
      local t2 = create_ok()
      assert.equal(200, control("POST", "expire", { token_id = t2.id }).status)
      check(op, create(t2.konnect_token), 401)
    end)

    it("403 when alice creates a token for bob, and for the service token", function()
      check(op, create(ALICE_BOOT, BOB), 403)
      check(op, create(SERVICE, ALICE), 403)
    end)

    it("404 for a user that does not exist", function()
      check(op, create(ALICE_BOOT, NOBODY), 404)
    end)

    it("409 when the user already holds 10 tokens (revoked and expired count)", function()
      local first = create_ok("token 1")
      for i = 2, 10 do create_ok("token " .. i) end
      check("revoke-personal-access-token",
        api("PATCH", tokens_path(ALICE, first.id, "revoke"), { token = ALICE_BOOT }), 200)
      check(op, create(), 409)
      -- bob is not affected
      create_ok("bob's", BOB_BOOT, BOB)
      -- deleting one frees a slot
      check("delete-personal-access-token",
        api("DELETE", tokens_path(ALICE, first.id), { token = ALICE_BOOT }), 204)
      create_ok("token 11")
    end)
  end)

  describe("list-users-personal-access-tokens", function()
    local op = "list-users-personal-access-tokens"

    it("200 with an empty list, sent as a JSON array", function()
      local res = api("GET", tokens_path(ALICE), { token = ALICE_BOOT })
      local body = check(op, res, 200)
      assert.equal(0, #body.data)
      assert.is_truthy(res.body:find('"data":[]', 1, true))
      assert.equal(1, body.meta.number)
      assert.equal(0, body.meta.size)
      assert.equal(0, body.meta.total)
    end)

    it("200 lists the user's PATs in creation order, not the bootstrap tokens, no secrets", function()
      local a = create_ok("first")
      local b = create_ok("second")
      create_ok("bob's", BOB_BOOT, BOB)
      local body = check(op, api("GET", tokens_path(ALICE), { token = ALICE_BOOT }), 200)
      assert.equal(2, #body.data)
      assert.equal(a.id, body.data[1].id)
      assert.equal(b.id, body.data[2].id)
      assert.is_nil(body.data[1].konnect_token)
      assert.equal(2, body.meta.total)
      assert.equal(2, body.meta.size)
      assert.equal(1, body.meta.number)
      local bobs = check(op, api("GET", tokens_path(BOB), { token = BOB_BOOT }), 200)
      assert.equal(1, #bobs.data)
    end)

    it("200 for the service token acting for alice", function()
      create_ok()
      local body = check(op, api("GET", tokens_path(ALICE), { token = SERVICE }), 200)
      assert.equal(1, #body.data)
    end)

    it("400, 401, 403, 404", function()
      local err = check(op, api("GET", tokens_path("not-a-uuid"), { token = ALICE_BOOT }), 400)
      assert_param(err, "userId", "is_uuid")
      check(op, api("GET", tokens_path(ALICE)), 401)
      check(op, api("GET", tokens_path(ALICE), { token = "kpat_fake_unknown" }), 401)
      check(op, api("GET", tokens_path(BOB), { token = ALICE_BOOT }), 403)
      check(op, api("GET", tokens_path(NOBODY), { token = ALICE_BOOT }), 404)
    end)
  end)

  describe("get-personal-access-token-details", function()
    local op = "get-personal-access-token-details"

    it("200, and last_used_at is set once the token is used", function()
      local t = create_ok()
      local got = check(op, api("GET", tokens_path(ALICE, t.id), { token = ALICE_BOOT }), 200)
      assert.equal(t.id, got.id)
      assert.equal("ci token", got.name)
      assert.is_nil(got.konnect_token)
      assert.is_true(is_null(got.last_used_at))
      check("get-users-me", api("GET", "/v3/users/me", { token = t.konnect_token }), 200)
      got = check(op, api("GET", tokens_path(ALICE, t.id), { token = ALICE_BOOT }), 200)
      assert_time(got.last_used_at)
      assert.is_true(epoch(got.last_used_at) >= epoch(got.created_at))
    end)

    it("200 for the service token", function()
      local t = create_ok()
      check(op, api("GET", tokens_path(ALICE, t.id), { token = SERVICE }), 200)
    end)

    it("400, 401, 403, 404", function()
      local t = create_ok()
      local bobs = create_ok("bob's", BOB_BOOT, BOB)
      local err = check(op, api("GET", tokens_path(ALICE, "nope"), { token = ALICE_BOOT }), 400)
      local p = assert_param(err, "tokenId", "is_uuid")
      assert.equal("path", p.source)
      check(op, api("GET", tokens_path(ALICE, t.id)), 401)
      check(op, api("GET", tokens_path(BOB, bobs.id), { token = ALICE_BOOT }), 403)
      check(op, api("GET", tokens_path(ALICE, UNKNOWN_TOKEN_ID), { token = ALICE_BOOT }), 404)
      check(op, api("GET", tokens_path(ALICE, bobs.id), { token = ALICE_BOOT }), 404)
      check(op, api("GET", tokens_path(NOBODY, t.id), { token = ALICE_BOOT }), 404)
    end)
  end)

  describe("update-personal-access-token-details", function()
    local op = "update-personal-access-token-details"

    it("200 renames the token", function()
      local t = create_ok("before")
      assert(openapi.validate_request(op, { name = "after rename" }))
      local got = check(op, api("PATCH", tokens_path(ALICE, t.id),
        { token = ALICE_BOOT, body = { name = "after rename" } }), 200)
      assert.equal("after rename", got.name)
      assert.equal(t.expires_at, got.expires_at)
      assert.is_true(epoch(got.updated_at) >= epoch(t.updated_at))
      got = check("get-personal-access-token-details",
        api("GET", tokens_path(ALICE, t.id), { token = ALICE_BOOT }), 200)
      assert.equal("after rename", got.name)
    end)

    it("400 for an empty object, an unknown property, a bad name, a bad id", function()
      local t = create_ok()
      assert.is_nil(openapi.validate_request(op, decode("{}")))
      local err = check(op, api("PATCH", tokens_path(ALICE, t.id), { token = ALICE_BOOT, body = "{}" }), 400)
      assert_param(err, "name", "required")
      err = check(op, api("PATCH", tokens_path(ALICE, t.id),
        { token = ALICE_BOOT, body = '{"name":"ok name","ttl_seconds":86400}' }), 400)
      assert_param(err, "ttl_seconds", "unknown_property")
      err = check(op, api("PATCH", tokens_path(ALICE, t.id), { token = ALICE_BOOT, body = '{"name":"!"}' }), 400)
      assert_param(err, "name", "matches_regex")
      err = check(op, api("PATCH", tokens_path(ALICE, t.id), { token = ALICE_BOOT, body = "{oops" }), 400)
      assert_param(err, "body", "invalid")
      err = check(op, api("PATCH", tokens_path(ALICE, "x"), { token = ALICE_BOOT, body = { name = "ok name" } }), 400)
      assert_param(err, "tokenId", "is_uuid")
      local got = api("GET", tokens_path(ALICE, t.id), { token = ALICE_BOOT }).json
      assert.equal("ci token", got.name)
    end)

    it("401, 403, 404", function()
      local t = create_ok()
      local bobs = create_ok("bob's", BOB_BOOT, BOB)
      check(op, api("PATCH", tokens_path(ALICE, t.id), { body = { name = "new name" } }), 401)
      check(op, api("PATCH", tokens_path(BOB, bobs.id), { token = ALICE_BOOT, body = { name = "new name" } }), 403)
      check(op, api("PATCH", tokens_path(ALICE, t.id), { token = SERVICE, body = { name = "new name" } }), 403)
      check(op, api("PATCH", tokens_path(ALICE, UNKNOWN_TOKEN_ID),
        { token = ALICE_BOOT, body = { name = "new name" } }), 404)
    end)
  end)

  describe("delete-personal-access-token", function()
    local op = "delete-personal-access-token"

    it("204 with no body; the token is gone and no longer authenticates", function()
      local t = create_ok()
      local res = api("DELETE", tokens_path(ALICE, t.id), { token = ALICE_BOOT })
      check(op, res, 204)
      assert.equal("", res.body)
      assert.is_nil(res.headers["content-type"])
      check("get-personal-access-token-details", api("GET", tokens_path(ALICE, t.id), { token = ALICE_BOOT }), 404)
      check("get-users-me", api("GET", "/v3/users/me", { token = t.konnect_token }), 401)
      check(op, api("DELETE", tokens_path(ALICE, t.id), { token = ALICE_BOOT }), 404)
    end)

    it("a token can delete itself", function()
      local t = create_ok()
      check(op, api("DELETE", tokens_path(ALICE, t.id), { token = t.konnect_token }), 204)
    end)

    it("400, 401, 403, 404", function()
      local t = create_ok()
      local bobs = create_ok("bob's", BOB_BOOT, BOB)
      check(op, api("DELETE", tokens_path("123", t.id), { token = ALICE_BOOT }), 400)
      check(op, api("DELETE", tokens_path(ALICE, t.id)), 401)
      check(op, api("DELETE", tokens_path(BOB, bobs.id), { token = ALICE_BOOT }), 403)
      check(op, api("DELETE", tokens_path(ALICE, t.id), { token = SERVICE }), 403)
      check(op, api("DELETE", tokens_path(ALICE, UNKNOWN_TOKEN_ID), { token = ALICE_BOOT }), 404)
    end)
  end)

  describe("revoke-personal-access-token", function()
    local op = "revoke-personal-access-token"

    it("200 sets state, revoked_at and revoked_by; the secret then gets 401", function()
      local t = create_ok()
      local got = check(op, api("PATCH", tokens_path(ALICE, t.id, "revoke"), { token = ALICE_BOOT }), 200)
      assert.equal("REVOKED", got.state)
      assert.equal(ALICE, got.revoked_by)
      assert_time(got.revoked_at)
      check("get-users-me", api("GET", "/v3/users/me", { token = t.konnect_token }), 401)
      local list = check("list-users-personal-access-tokens",
        api("GET", tokens_path(ALICE), { token = ALICE_BOOT }), 200)
      assert.equal("REVOKED", list.data[1].state)
      -- revoking again changes nothing
      local again = check(op, api("PATCH", tokens_path(ALICE, t.id, "revoke"), { token = ALICE_BOOT }), 200)
      assert.equal(got.revoked_at, again.revoked_at)
    end)

    it("200 for the service token (revoked_by is the user it acts for)", function()
      local t = create_ok()
      local got = check(op, api("PATCH", tokens_path(ALICE, t.id, "revoke"), { token = SERVICE }), 200)
      assert.equal(ALICE, got.revoked_by)
    end)

    it("400, 401, 403, 404", function()
      local t = create_ok()
      local bobs = create_ok("bob's", BOB_BOOT, BOB)
      check(op, api("PATCH", tokens_path(ALICE, "zzz", "revoke"), { token = ALICE_BOOT }), 400)
      check(op, api("PATCH", tokens_path(ALICE, t.id, "revoke")), 401)
      check(op, api("PATCH", tokens_path(BOB, bobs.id, "revoke"), { token = ALICE_BOOT }), 403)
      check(op, api("PATCH", tokens_path(ALICE, UNKNOWN_TOKEN_ID, "revoke"), { token = ALICE_BOOT }), 404)
    end)
  end)

  describe("POST /__fake/expire", function()
    it("makes a token EXPIRED; its secret gets 401", function()
      local t = create_ok()
      local res = control("POST", "expire", { token_id = t.id })
      assert.equal(200, res.status)
      assert.equal("EXPIRED", res.json.state)
      local got = check("get-personal-access-token-details",
        api("GET", tokens_path(ALICE, t.id), { token = ALICE_BOOT }), 200)
      assert.equal("EXPIRED", got.state)
      assert.is_true(epoch(got.expires_at) < os.time() + 1)
      check("get-users-me", api("GET", "/v3/users/me", { token = t.konnect_token }), 401)
    end)

    it("404 for an unknown token, 400 without token_id", function()
      assert.equal(404, control("POST", "expire", { token_id = UNKNOWN_TOKEN_ID }).status)
      assert.equal(400, control("POST", "expire", {}).status)
    end)
  end)

  describe("fault injection", function()
    local ME = "/v3/users/me"
    local function me(opts)
      opts = opts or {}
      opts.token = opts.token or ALICE_BOOT
      return api("GET", ME, opts)
    end
    local function alice_token_count()
      return #api("GET", tokens_path(ALICE), { token = ALICE_BOOT }).json.data
    end

    it("status 503 with Retry-After (seconds), then back to normal", function()
      local f = fault { status = 503, retry_after = "2" }
      assert.equal(1, f.count)
      local res = me()
      assert.equal(503, res.status)
      assert.equal("2", res.headers["retry-after"])
      assert.equal("application/problem+json", res.headers["content-type"])
      assert.equal(503, res.json.status)
      assert.is_truthy(res.json.instance:match("^kong:trace:%d+$"))
      assert.is_truthy(res.headers["x-kong-request-id"])
      check("get-users-me", me(), 200)
    end)

    it("a status fault replaces the response: the request is not processed", function()
      fault { method = "POST", status = 500 }
      assert.equal(500, create().status)
      assert.equal(0, alice_token_count())
    end)

    it("Retry-After as an HTTP-date, and a custom body and content type", function()
      fault { status = 503, retry_after = "Wed, 21 Oct 2015 07:28:00 GMT", body = "upstream busy",
              content_type = "text/plain" }
      local res = me()
      assert.equal(503, res.status)
      assert.equal("Wed, 21 Oct 2015 07:28:00 GMT", res.headers["retry-after"])
      assert.equal("text/plain", res.headers["content-type"])
      assert.equal("upstream busy", res.body)
    end)

    it("count, method and path select which requests fail", function()
      fault { method = "POST", path = "/access%-tokens$", count = 2, status = 502 }
      check("get-users-me", me(), 200)
      check("list-users-personal-access-tokens", api("GET", tokens_path(ALICE), { token = ALICE_BOOT }), 200)
      assert.equal(502, create().status)
      assert.equal(502, create().status)
      check("create-personal-access-token", create(), 201)
      local pending = control("GET", "faults").json
      assert.equal(0, #pending.faults)
    end)

    it("faults are consumed in order", function()
      fault { status = 500 }
      fault { status = 503 }
      assert.equal(500, me().status)
      assert.equal(503, me().status)
      assert.equal(200, me().status)
    end)

    it("plain_429: Kong's rate-limit body as application/json", function()
      fault { plain_429 = true, retry_after = "1" }
      local res = me()
      assert.equal(429, res.status)
      assert.is_truthy(res.headers["content-type"]:match("^application/json"))
      assert.same({ message = "API rate limit exceeded" }, { message = res.json.message })
      assert.equal("1", res.headers["retry-after"])
    end)

    it("delay: the response comes late but normal", function()
      fault { delay = 0.4 }
      local res = me()
      check("get-users-me", res, 200)
      assert.is_true(res.time >= 0.4, "took " .. res.time)
    end)

    it("drop before_body: no response, and the request was not processed", function()
      fault { method = "POST", drop = "before_body" }
      local res = create(nil, nil, nil)
      assert.equal(52, res.exit) -- curl: empty reply from server
      assert.equal(0, alice_token_count())
    end)

    it("drop after_body: no response, but the token WAS created", function()
      fault { method = "POST", drop = "after_body" }
      local res = create()
      assert.equal(52, res.exit)
      assert.equal(1, alice_token_count())
    end)

    it("drop over HTTP/2 resets the stream", function()
      fault { drop = "before_body" }
      local res = http("GET", HTTPS .. ME, { token = ALICE_BOOT })
      assert.is_true(res.exit ~= 0)
      assert.is_true(res.status == 0)
    end)

    it("malformed: 200 application/json that does not parse", function()
      fault { malformed = true }
      local res = me()
      assert.equal(200, res.status)
      assert.equal("application/json", res.headers["content-type"])
      assert.is_true(#res.body > 0)
      assert.is_nil(res.json)
    end)

    it("truncate: Content-Length promises more than is sent", function()
      fault { truncate = true }
      local res = me({ http1 = true })
      assert.equal(18, res.exit) -- curl: partial file
      assert.is_true(tonumber(res.headers["content-length"]) > #res.body)
    end)

    it("content_type text/html: a proxy's error page", function()
      fault { status = 502, content_type = "text/html" }
      local res = me()
      assert.equal(502, res.status)
      assert.equal("text/html", res.headers["content-type"])
      assert.is_truthy(res.body:find("<html>", 1, true))
      fault { content_type = "text/html" }
      res = me()
      assert.equal(200, res.status)
      assert.equal("text/html", res.headers["content-type"])
      assert.is_nil(res.json)
    end)

    it("huge: a 200 JSON body of the given size", function()
      fault { huge = 3 * 1024 * 1024 }
      local res = me()
      assert.equal(200, res.status)
      assert.equal(3 * 1024 * 1024, #res.body)
      assert.equal(tostring(3 * 1024 * 1024), res.headers["content-length"])
    end)

    it("drip: the normal body, slowly, in chunks", function()
      fault { drip = { chunks = 4, interval = 0.15 } }
      local res = me()
      check("get-users-me", res, 200)
      assert.equal(ALICE, res.json.id)
      assert.is_true(res.time >= 0.45, "took " .. res.time)
    end)

    it("redirect: 302 with Location", function()
      fault { redirect = "http://127.0.0.1:9/elsewhere" }
      local res = me()
      assert.equal(302, res.status)
      assert.equal("http://127.0.0.1:9/elsewhere", res.headers["location"])
    end)

    it("empty: the status with an empty body", function()
      fault { status = 500, empty = true }
      local res = me()
      assert.equal(500, res.status)
      assert.equal("", res.body)
      assert.equal("0", res.headers["content-length"])
      fault { empty = true }
      res = me()
      assert.equal(200, res.status)
      assert.equal("", res.body)
    end)

    it("rejects a fault it does not understand", function()
      assert.equal(400, control("POST", "faults", { sttaus = 503 }).status)
      assert.equal(400, control("POST", "faults", { path = "[" , status = 500 }).status)
      assert.equal(400, control("POST", "faults", { drop = "sometimes" }).status)
      assert.equal(400, control("POST", "faults", {}).status)
    end)

    it("does not touch control requests; reset clears pending faults", function()
      fault { status = 500, count = 5 }
      assert.equal(200, control("GET", "requests").status)
      assert.equal(1, #control("GET", "faults").json.faults)
      control("POST", "reset")
      assert.equal(0, #control("GET", "faults").json.faults)
      check("get-users-me", me(), 200)
    end)
  end)

  describe("GET /__fake/requests", function()
    it("counts API requests per route and keeps a redacted log", function()
      local t = create_ok("counted")
      api("GET", "/v3/users/me", { token = ALICE_BOOT })
      api("GET", "/v3/users/me", { token = t.konnect_token, headers = { ["X-Custom"] = "Yes" } })
      control("GET", "faults")
      local r = control("GET", "requests").json
      assert.equal(3, r.total)
      assert.equal(2, r.routes["GET /v3/users/me"])
      assert.equal(1, r.routes["POST " .. tokens_path(ALICE)])
      assert.equal(3, #r.log)
      local first = r.log[1]
      assert.equal("POST", first.method)
      assert.equal(tokens_path(ALICE), first.path)
      assert.equal(201, first.status)
      assert.same({ name = "counted", ttl_seconds = 86400 }, decode(first.body))
      assert.equal("Bearer <redacted>", first.headers.authorization)
      assert.equal("application/json", first.headers["content-type"])
      local last = r.log[3]
      assert.equal("Yes", last.headers["x-custom"])
      assert.equal("Bearer <redacted>", last.headers.authorization)
      assert.is_nil(control("GET", "requests").body:find(t.konnect_token, 1, true))
    end)

    it("counts faulted requests with the status they got", function()
      fault { status = 503 }
      fault { drop = "before_body" }
      api("GET", "/v3/users/me", { token = ALICE_BOOT })
      api("GET", "/v3/users/me", { token = ALICE_BOOT })
      local r = control("GET", "requests").json
      assert.equal(2, r.total)
      assert.equal(503, r.log[1].status)
      assert.equal(444, r.log[2].status)
    end)

    it("keeps only the last 200 log entries, counts all", function()
      local cmd = string.format("curl -s -H 'Authorization: Bearer %s' '%s/v3/users/me?n=[1-205]' >/dev/null",
        ALICE_BOOT, HTTP)
      assert(os.execute(cmd))
      local r = control("GET", "requests").json
      assert.equal(205, r.total)
      assert.equal(205, r.routes["GET /v3/users/me"])
      assert.equal(200, #r.log)
    end)

    it("reset zeroes the counters", function()
      api("GET", "/v3/users/me")
      control("POST", "reset")
      local r = control("GET", "requests").json
      assert.equal(0, r.total)
      assert.equal(0, #r.log)
      assert.is_nil(next(r.routes))
    end)
  end)

  describe("POST /__fake/latency", function()
    it("delays every API request, not control requests; reset clears it", function()
      assert.equal(200, control("POST", "latency", { ms = 250 }).status)
      local res = api("GET", "/v3/users/me", { token = ALICE_BOOT })
      assert.is_true(res.time >= 0.25, "took " .. res.time)
      local c = control("GET", "requests")
      assert.is_true(c.time < 0.25, "control took " .. c.time)
      control("POST", "reset")
      res = api("GET", "/v3/users/me", { token = ALICE_BOOT })
      assert.is_true(res.time < 0.25, "took " .. res.time)
    end)
  end)

  describe("HTTPS", function()
    it("serves HTTP/2 with a certificate from FAKE_KONNECT_CA", function()
      local res = http("GET", HTTPS .. "/v3/users/me", { token = ALICE_BOOT })
      check("get-users-me", res, 200)
      assert.equal("2", res.http_version)
    end)

    it("serves HTTP/1.1 over TLS too, with the full PAT lifecycle", function()
      local c = http("POST", HTTPS .. tokens_path(ALICE),
        { http1 = true, token = ALICE_BOOT, body = { name = "tls token", ttl_seconds = 86400 } })
      local t = check("create-personal-access-token", c, 201)
      assert.equal("1.1", c.http_version)
      check("list-users-personal-access-tokens",
        http("GET", HTTPS .. tokens_path(ALICE), { token = t.konnect_token }), 200)
      check("delete-personal-access-token",
        http("DELETE", HTTPS .. tokens_path(ALICE, t.id), { token = t.konnect_token }), 204)
    end)

    it("the certificate names localhost", function()
      local port = HTTPS:match(":(%d+)$")
      local res = http("GET", "https://localhost:" .. port .. "/v3/users/me",
        { token = ALICE_BOOT, resolve = "localhost:" .. port .. ":127.0.0.1" })
      check("get-users-me", res, 200)
    end)

    it("is not trusted without the CA", function()
      local res = http("GET", HTTPS .. "/v3/users/me", { token = ALICE_BOOT, no_cacert = true })
      assert.equal(60, res.exit) -- curl: peer certificate cannot be authenticated
    end)
  end)

  local T = {
    describe = describe, it = it, assert = assert,
    http = http, api = api, control = control, check = check, check_extension = check_extension,
    assert_param = assert_param, assert_time = assert_time, epoch = epoch, decode = decode, encode = encode,
    openapi = tokens_doc, fixtures = fixtures, create_ok = create_ok, tokens_path = tokens_path,
  }
  dofile(here .. "/contract_tokens.lua")(T)
  dofile(here .. "/contract_org.lua")(T)

  describe("coverage", function()
    it("every status the contract lists for every operation was checked", function()
      local missing = {}
      for _, id in ipairs(tokens_doc.operation_ids()) do
        for _, status in ipairs(tokens_doc.statuses(id)) do
          if not covered[id .. " " .. status] then missing[#missing + 1] = id .. " " .. status end
        end
      end
      assert(#missing == 0, "not exercised: " .. table.concat(missing, ", "))
    end)

    it("every documented status outside the contract was exercised", function()
      local missing = {}
      for key in pairs(EXTENSIONS) do
        if not extended[key] then missing[#missing + 1] = key end
      end
      table.sort(missing)
      assert(#missing == 0, "not exercised: " .. table.concat(missing, ", "))
    end)
  end)
end)
