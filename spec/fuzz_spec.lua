-- Property test of the response-decoding path: 10,000 generated answers
-- (random statuses, headers, JSON of random shapes, truncations, echoes of
-- the secret in every form) handed to the pipeline by a transport function.
-- The properties: nothing raises; every call returns a value or an error
-- object of a known kind; the secret appears nowhere in the error, in
-- tostring(err), in hook views or log lines.  The seed is fixed and printed
-- on failure (KONNECT_FUZZ_SEED=n to replay another).
-- The real-socket tests of the same promises are in hardening_spec.lua.
local pats   = require "konnect.pats"
local errors = require "konnect.errors"
local redact = require "konnect.redact"
local json   = require "konnect.json"

local N = 10000
local SEED = tonumber(os.getenv("KONNECT_FUZZ_SEED") or "") or 20261128
local SECRET = "Fz7/secret.Token-42abc"
local USER = "00000000-0000-4000-8000-0000000a11ce"
local TOKEN_ID = "00000000-0000-4000-8000-00000000beef"

-- A private Park-Miller generator: the same sequence on every interpreter.
local state
local function rnd(n) -- integer in [1, n]
  state = state * 16807 % 2147483647
  return state % n + 1
end
local function pick(t) return t[rnd(#t)] end

local function pct(s) return (s:gsub(".", function(c) return ("%%%02x"):format(c:byte()) end)) end
local ECHOES = {
  function() return SECRET end,
  function() return pct(SECRET) end,
  function() return (SECRET:gsub(".", function(c) return ("\\u%04X"):format(c:byte()) end)) end,
  function() return (SECRET:gsub("/", "\\/")) end,
  function() return redact.base64("Bearer " .. SECRET) end,
  function() return redact.base64("x:" .. SECRET) end,
  function() return "kpat_" .. ("A"):rep(rnd(40)) end,
}

local function rstring()
  local kinds = {
    function() return "" end,
    function() return "plain text " .. rnd(1000) end,
    function() return pick(ECHOES)() end,
    function() local t = {} for i = 1, rnd(20) do t[i] = string.char(rnd(256) - 1) end return table.concat(t) end,
    function() return ("x"):rep(rnd(3000)) end,
    function() return "line\r\nInjected: " .. pick(ECHOES)() end,
  }
  return pick(kinds)()
end

local rvalue
local function rtable(depth)
  local t = {}
  if rnd(2) == 1 then
    for i = 1, rnd(4) - 1 do t[i] = rvalue(depth + 1) end
  else
    for _ = 1, rnd(4) - 1 do t[pick { "id", "name", "data", "title", "detail", "x", rstring() }] = rvalue(depth + 1) end
  end
  return t
end
function rvalue(depth)
  local kinds = {
    function() return rnd(1e6) end, function() return -rnd(100) / 7 end, function() return 1e300 end,
    function() return true end, function() return rstring() end,
  }
  if depth < 4 then kinds[#kinds + 1] = function() return rtable(depth) end end
  return pick(kinds)()
end

local function rbody()
  local shapes = {
    function() return json.encode(rtable(0)) end,
    function() return json.encode { data = rvalue(1), meta = rvalue(1) } end,
    function() return json.encode { data = { rtable(1), rtable(1) } } end,
    function()
      return json.encode { title = rvalue(2), detail = rvalue(2), instance = rvalue(2), type = rvalue(2),
                           invalid_parameters = rvalue(1) }
    end,
    function() return json.encode { message = rvalue(2) } end,
    function() return json.encode { id = pick { USER, rstring() }, name = rvalue(2), konnect_token = SECRET } end,
    function() return rstring() end,
    function() return "[1,2" end,
    function() return "null" end,
  }
  local b = pick(shapes)()
  if type(b) ~= "string" then b = "" end
  if rnd(5) == 1 and #b > 1 then b = b:sub(1, rnd(#b)) end -- truncation
  return b
end

local function rheaders()
  local h = {}
  if rnd(4) > 1 then
    h["content-type"] = pick { "application/json", "application/problem+json", "text/html", "application/json; x",
                               "application/vnd.x+json", rstring() }
  end
  if rnd(3) == 1 then
    h["retry-after"] = pick { "1", "0", "-5", "1e999", "99999999999999999999", "Wed, 31 Dec 1969 23:59:59 GMT",
                              "Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                              "Sun, 30 Feb 2026 00:00:00 GMT", rstring() }
  end
  if rnd(2) == 1 then h["x-kong-request-id"] = rstring() end
  if rnd(3) == 1 then h["location"] = "https://x/?t=" .. rstring() end
  if rnd(3) == 1 then h["x-echo"] = rstring() end
  return h
end

local STATUSES = { 200, 201, 204, 206, 299, 300, 302, 304, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503, 599, 600,
                   100, 0, -1, 1e9 }
local TERR_KINDS = { "timeout", "connect", "tls", "network", "too_large", "system", "invalid_argument", "weird", 42 }

local NEEDLES = { SECRET, pct(SECRET), redact.base64("Bearer " .. SECRET) }
local function scan(v, what, seen)
  seen = seen or {}
  if type(v) == "table" then
    if seen[v] then return nil end
    seen[v] = true
    for k, x in pairs(v) do
      local bad = scan(k, what, seen) or scan(x, what .. "." .. tostring(k), seen)
      if bad then return bad end
    end
  elseif type(v) == "string" then
    for _, needle in ipairs(NEEDLES) do
      if v:find(needle, 1, true) then return what .. ": " .. v:sub(1, 200) end
    end
  end
  return nil
end

describe("fuzz: the response-decoding path", function()
  it(("never raises and never leaks over %d generated answers"):format(N), function()
    state = SEED
    local res, terr
    local views, lines = {}, {}
    local client = assert(pats.new {
      token = SECRET, server_url = "http://127.0.0.1:9", retries = false,
      transport = function() return res, terr end,
      hooks = { before_request = function(v) views[#views + 1] = v end,
                after_response = function(v) views[#views + 1] = v end },
      log = function(l) lines[#lines + 1] = l end,
    })
    client.me_id = USER -- "me" would ask the server first: keep one answer per call
    local OPS = {
      function(c) return c:list(USER) end,
      function(c) return c:get(USER, TOKEN_ID) end,
      function(c) return c:create(USER, { name = "fz", ttl_seconds = 86400 }) end,
      function(c) return c:delete(USER, TOKEN_ID) end,
      function(c) return c:revoke(USER, TOKEN_ID) end,
      function(c) return c:update(USER, TOKEN_ID, { name = "fz2" }) end,
      function(c) return c:me() end,
      function(c) return c:find_by_name(USER, "fz") end,
    }
    local kinds, metas = {}, 0
    for i = 1, N do
      local case_seed = state
      if rnd(8) == 1 then
        res = nil
        terr = { kind = pick(TERR_KINDS), message = "failed: " .. rstring(), sent = rnd(2) == 1,
                 code = pick { 7, "x", nil } }
      else
        terr = nil
        local status = pick(STATUSES)
        res = { status = status, headers = rheaders(), body = rbody(), resent = rnd(10) == 1 or nil }
      end
      views, lines = {}, {}
      local op = rnd(#OPS)
      local ok, v, err, meta = pcall(OPS[op], client)
      local where = ("case %d (seed %d, case seed %d, op %d)"):format(i, SEED, case_seed, op)
      assert(ok, where .. " raised: " .. tostring(v))
      if v == nil then
        assert(errors.is(err), where .. ": no error object")
        kinds[err.kind] = (kinds[err.kind] or 0) + 1
        local ok2, s = pcall(tostring, err)
        assert(ok2 and type(s) == "string", where .. ": tostring(err) failed")
        local leak = scan(err, "err") or scan(s, "tostring(err)")
        assert(not leak, where .. " leaked in " .. tostring(leak))
      end
      if meta ~= nil then -- round two: meta (its headers and request_id are made on first read)
        local m = { headers = meta.headers, request_id = meta.request_id, rate_limit = meta.rate_limit,
                    status = meta.status, http_version = meta.http_version }
        metas = metas + 1
        local mleak = scan(m, "meta")
        assert(not mleak, where .. " leaked in " .. tostring(mleak))
      end
      local leak = scan(views, "views") or scan(lines, "log")
      assert(not leak, where .. " leaked in " .. tostring(leak))
    end
    assert.is_true((kinds.decode or 0) > 0 and (kinds.server or 0) > 0 and (kinds.network or 0) > 0)
    assert.is_true(metas > 0, "no success answer among the cases: meta went unchecked")
  end)
end)
