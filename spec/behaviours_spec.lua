-- Behaviours a user relies on that no test held before (issue 19, items 3-8;
-- item 7, the cosocket connection that must not be pooled, is the hostile
-- suite's case "excess_after_body", spec/hostile/cases.lua).  Black-box: the
-- public API over real sockets, against the fake Konnect server or a small
-- misbehaving server of our own (spec/support/hostile.lua).
local fake    = require "support.fake"
local hostile = require "support.hostile"
local pats    = require "konnect.pats"
local cli     = require("support.cli").cli
local cjson   = require "cjson"

local ALICE = fake.ALICE
local DAY = 86400
local TOKEN_ID = "00000000-0000-4000-8000-00000000c0de"
local MASK = "<redacted>"

-- a list answer (the contract's shape) whose one token is named `name` (raw JSON text)
local function list_json(name_json)
  return '{"data":[{"id":"' .. TOKEN_ID .. '","name":' .. name_json .. ',"created_at":"2024-01-15T09:30:00Z",'
    .. '"updated_at":"2024-01-15T09:30:00Z","expires_at":"2030-01-15T09:30:00Z","state":"ACTIVE"}],'
    .. '"meta":{"page":{"number":1,"size":1,"total":1}}}'
end

-- every string reachable from v (keys too), with where it was found
local function strings_of(v, where, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = { where = where, s = v }
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      strings_of(k, where .. "[key]", out, seen)
      strings_of(x, where .. "." .. tostring(k), out, seen)
    end
  end
  return out
end

-- s with every JSON \uXXXX escape (either hex case) and %XX escape decoded:
-- what a reader of a hook view or a log line can trivially recover
local function unescaped(s)
  s = s:gsub("\\[uU](%x%x%x%x)", function(h)
    local n = tonumber(h, 16)
    return n < 128 and string.char(n) or nil
  end)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- No string reachable from v holds the secret, nor 8 consecutive bytes of it,
-- even after unescaping.  A failure names the place, never the secret.
local function assert_no_part_of(secret, v, what)
  local w = math.min(8, #secret)
  for _, item in ipairs(strings_of(v, what)) do
    local plain = unescaped(item.s)
    for i = 1, #secret - w + 1 do
      if plain:find(secret:sub(i, i + w - 1), 1, true) then
        error(item.where .. " holds (part of) the secret, escaped or not", 2)
      end
    end
  end
end

describe("behaviours (issue 19)", function()
  before_each(function() fake.reset() end)

  -----------------------------------------------------------------------------
  -- 3. a token echoed in \uXXXX escapes with UPPER-case hex (what Java's and
  --    .NET's JSON escapers emit) is masked as a lower-case one is
  describe("redaction of \\uXXXX escapes with upper-case hex", function()
    -- not token-shaped (the kpat_ catch-all cannot hide it), and most of its bytes
    -- have a letter in their hex (Z = 5A, j = 6A, o = 6F, + = 2B, / = 2F, . = 2E)
    local SECRET = "Zjo+secret/Value.7781xyz"
    local function upper_u(s, only)
      return (s:gsub(only or ".", function(c) return ("\\u%04X"):format(c:byte()) end))
    end
    local FORMS = {
      { "every byte escaped (\\u005A\\u006A...)", upper_u(SECRET) },
      -- .NET's default JavaScriptEncoder escapes + (and / as Java's do): \u002B, \u002F
      { "only + and / escaped", upper_u(SECRET, "[+/]") },
    }
    local function observed(extra)
      local views, lines = {}, {}
      local o = { token = SECRET, server_url = fake.http, retries = false,
                  log = function(l) lines[#lines + 1] = l end,
                  hooks = { after_response = function(x) views[#views + 1] = x end } }
      for k, v in pairs(extra or {}) do o[k] = v end
      return assert(pats.new(o)), views, lines
    end

    for _, form in ipairs(FORMS) do
      it("in an error body, the hook view of the response and the log: " .. form[1], function()
        assert.is_truthy(form[2]:find("\\u00%d[A-F]"), "the form holds upper-case hex")
        fake.fault { method = "GET", status = 502, content_type = "text/plain",
                     body = "upstream said: bad credential " .. form[2] .. " (end)" }
        local c, views, lines = observed()
        local v, err = c:list(ALICE)
        assert.is_nil(v)
        assert.equal("server", err.kind)
        assert.equal(1, #views)
        assert.is_truthy(views[1].body:find(MASK, 1, true), "the hook view's body shows the mask")
        assert.is_truthy(views[1].body:find("(end)", 1, true), "and keeps what follows it")
        assert.is_truthy(err.body:find(MASK, 1, true), "err.body shows the mask")
        assert_no_part_of(SECRET, err, "err")
        assert_no_part_of(SECRET, tostring(err), "tostring(err)")
        assert_no_part_of(SECRET, views, "hook views")
        assert_no_part_of(SECRET, lines, "log lines")
      end)

      it("in a 200 value, with and without hooks: " .. form[1], function()
        fake.fault { method = "GET", count = 2, body = list_json('"' .. form[2] .. '"') }
        for _, watched in ipairs { false, true } do
          local c, views
          if watched then
            c, views = observed()
          else
            c, views = assert(pats.new { token = SECRET, server_url = fake.http, retries = false }), {}
          end
          local v = assert(c:list(ALICE))
          assert.equal(MASK, v.data[1].name, watched and "with hooks" or "without hooks")
          assert_no_part_of(SECRET, v, "the value")
          assert_no_part_of(SECRET, views, "hook views")
        end
      end)
    end
  end)

  -----------------------------------------------------------------------------
  -- 4. a 4-byte secret (the shortest kept: a short token, a proxy password) is
  --    part of the search made before decoding: no value comes back holding it
  describe("a 4-byte secret in the search before decoding", function()
    local SHORT = "Q7zX" -- no %, no backslash anywhere near: only the secret itself can be found

    it("a 4-byte token echoed into a value is masked (with and without hooks)", function()
      fake.fault { method = "GET", count = 2, body = list_json('"' .. SHORT .. '"') }
      local got = {}
      for _, watched in ipairs { "without hooks", "with hooks" } do
        local o = { token = SHORT, server_url = fake.http, retries = false }
        if watched == "with hooks" then o.hooks = { after_response = function() end } end
        got[watched] = assert(assert(pats.new(o)):list(ALICE)).data[1].name
      end
      assert.same({ ["without hooks"] = MASK, ["with hooks"] = MASK }, got)
    end)

    describe("a 4-byte proxy password", function()
      local srv
      setup(function() srv = hostile.start() end)
      teardown(function() srv:stop() end)

      it("echoed into a value by the server behind the proxy is masked (with and without a log)", function()
        srv:respond(hostile.response("200 OK", { "Content-Type: application/json" },
          list_json('"' .. SHORT .. '"')))
        local got = {}
        for _, watched in ipairs { "without a log", "with a log" } do
          local o = { token = fake.ALICE_TOKEN, server_url = "http://konnect.localhost:9", retries = false,
                      proxy = "http://ops:" .. SHORT .. "@" .. srv.url:match("//(.*)$") }
          if watched == "with a log" then o.log = function() end end
          got[watched] = assert(assert(pats.new(o)):list(ALICE)).data[1].name
          -- the proxy was used: the credentials went out
          assert.truthy(srv:last_request():find("Proxy-Authorization: Basic ", 1, true))
        end
        assert.same({ ["without a log"] = MASK, ["with a log"] = MASK }, got)
      end)

      it("a 3-byte one is no secret: a value holding it comes back as it was", function()
        -- (masking every 3-byte run such a password matches would maim ordinary values)
        srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, list_json('"p3x"')))
        local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = "http://konnect.localhost:9",
          retries = false, proxy = "http://ops:p3x@" .. srv.url:match("//(.*)$") })
        assert.equal("p3x", assert(c:list(ALICE)).data[1].name)
        assert.truthy(srv:last_request():find("Proxy-Authorization: Basic ", 1, true))
      end)
    end)
  end)

  -----------------------------------------------------------------------------
  -- 5. the 409 quota message: the user's count, then the limit
  describe("the 409 quota message", function()
    it("says how many the user holds (3) of at most 10, in that order", function()
      local client = fake.client()
      for i = 1, 3 do assert(client:create(ALICE, { name = "q" .. i, ttl_seconds = DAY })) end
      -- the server says 409 for its own reason (a quota counted elsewhere): the list says 3
      fake.fault { method = "POST", status = 409 }
      local tok, err = client:create(ALICE, { name = "fourth", ttl_seconds = DAY })
      assert.is_nil(tok)
      assert.equal("conflict", err.kind)
      assert.matches("the user holds 3 of at most 10 personal access tokens (3 ACTIVE)", err.message, 1, true)
      assert.same({ used = 3, limit = 10, states = { ACTIVE = 3 } }, err.quota)
      -- and the CLI says the same
      fake.fault { method = "POST", status = 409 }
      local r = cli({ "create", "--name", "fifth", "--ttl", "1d", "--json" })
      assert.equal(1, r.code)
      local e = cjson.decode(r.err)
      assert.matches("holds 3 of at most 10 ", e.message, 1, true)
      assert.same({ used = 3, limit = 10 }, e.quota)
    end)
  end)

  -----------------------------------------------------------------------------
  -- 6. RateLimit-Remaining: 0 with a reset: a batch waits for the reset; it
  --    never sends into the closed window.  The fake's window is a fixed
  --    clock second (as Kong's rate-limiting plugin's "second" limit), and its
  --    RateLimit-Reset rounds up: a client that waits out the reset it heard
  --    always lands in a later window, one that nothing of this batch has used
  --    yet, so the exact count of 429s is zero (see the reasoning below).
  describe("a batch after RateLimit-Remaining: 0", function()
    local function count429()
      local n, gets = 0, 0
      for _, e in ipairs(fake.requests().log) do
        if e.method == "GET" then gets = gets + 1 end
        if e.status == 429 then n = n + 1 end
      end
      return n, gets
    end

    it("waits for each reset instead of probing the closed window: not one 429", function()
      -- Why zero, whatever the timing: a round holds at most what the last responses
      -- said remains, which is never more than truly remains (one client); a round
      -- that straddles two windows leaves the first one short of 0, so a 0 comes
      -- only from a window this round filled; the hold then ends past that window.
      local tok = assert(fake.client():create(ALICE, { name = "rl", ttl_seconds = DAY }))
      fake.ratelimit(4)
      local c = fake.client { retries = { max_attempts = 3, initial = 0.05, max = 2, max_elapsed = 30 } }
      local calls = {}
      for i = 1, 8 do calls[i] = { "get", ALICE, tok.id } end
      local results, failed = c:batch(calls, { concurrency = 4 })
      assert.equal(0, failed)
      for i = 1, 8 do assert.equal(tok.id, results[i].value.id) end
      local n, gets = count429()
      assert.equal(0, n, "answers that were 429")
      assert.equal(8, gets, "requests sent (two windows)")
    end)

    for _, watched in ipairs { false, true } do
    it("a client that heard Remaining: 0 starts its batch only after the reset: not one 429"
      .. (watched and " (a client with a log)" or ""), function()
      local tok = assert(fake.client():create(ALICE, { name = "rl", ttl_seconds = DAY }))
      fake.ratelimit(4)
      local c = fake.client { retries = { max_attempts = 3, initial = 0.05, max = 2, max_elapsed = 30 },
                              log = watched and function() end or nil }
      -- single calls until one says nothing remains in this window
      local heard
      for _ = 1, 12 do
        local _, err, m = c:get(ALICE, tok.id)
        assert.is_nil(err)
        if m.rate_limit and m.rate_limit.remaining == 0 then heard = m.rate_limit; break end
      end
      assert.is_table(heard, "a response said RateLimit-Remaining: 0")
      assert.is_number(heard.reset)
      local calls = {}
      for i = 1, 4 do calls[i] = { "get", ALICE, tok.id } end
      local _, failed = c:batch(calls, { concurrency = 4 })
      assert.equal(0, failed)
      assert.equal(0, (count429()), "answers that were 429")
    end)
    end
  end)

  -----------------------------------------------------------------------------
  -- found by the sampled `make mutate` (its survivors that were missing tests)
  describe("found by make mutate", function()
    it("a refused connection's message says where: the host and the port", function()
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = "http://127.0.0.1:1", retries = false })
      local v, err = c:list(ALICE)
      assert.is_nil(v)
      assert.equal("connect", err.kind)
      assert.matches("127.0.0.1", err.message, 1, true)
      assert.matches("port 1", err.message, 1, true)
    end)

    it("JSON with a member separator missing is a decode error, not a value", function()
      fake.fault { method = "GET", body = '{"data":[] "meta":{"page":{"total":0}}}' }
      local v, err = fake.client { retries = false }:list(ALICE)
      assert.is_nil(v)
      assert.equal("decode", err.kind)
    end)

    it("a vendor JSON media type (application/vnd.<x>.<y>+json) is JSON", function()
      fake.fault { method = "GET", content_type = "application/vnd.konnect.v3+json", body = list_json('"ok"') }
      local v = assert(fake.client { retries = false }:list(ALICE))
      assert.equal("ok", v.data[1].name)
    end)

    it("JSON media types are told by type and subtype (any case, parameters allowed), not by a +json anywhere",
      function()
        for _, ct in ipairs { "Application/VND.Konnect.V3+JSON; charset=utf-8", " application/x+json",
                              "APPLICATION/JSON" } do
          fake.fault { method = "GET", content_type = ct, body = list_json('"ok"') }
          local v, err = fake.client { retries = false }:list(ALICE)
          assert.is_table(v, ct .. ": " .. tostring(err))
          assert.equal("ok", v.data[1].name)
        end
        for _, ct in ipairs { "text/application/x+json", "application/x+jsonp", "text/x+json", "application/+json" } do
          fake.fault { method = "GET", content_type = ct, body = list_json('"ok"') }
          local v, err = fake.client { retries = false }:list(ALICE)
          assert.is_nil(v, ct)
          assert.matches("expected a JSON response, got '" .. ct .. "'", err.message, 1, true)
        end
      end)

    it("a caller's transport may hand the content type with white space before it (as a raw header line has)",
      function()
        for _, ct in ipairs { " application/json", "\tapplication/vnd.x+json ; charset=utf-8" } do
          local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false,
            transport = function()
              return { status = 200, headers = { ["Content-Type"] = ct }, body = list_json('"ok"') }
            end })
          local v, err = c:list(ALICE)
          assert.is_table(v, ct .. ": " .. tostring(err))
          assert.equal("ok", v.data[1].name)
        end
      end)

    it("a 4-byte proxy password, once percent-decoded, is a secret too", function()
      local srv = hostile.start()
      srv:respond(hostile.response("200 OK", { "Content-Type: application/json" }, list_json('"p@s!"')))
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = "http://konnect.localhost:9",
        retries = false, proxy = "http://ops:p%40s%21@" .. srv.url:match("//(.*)$") })
      local v = c:list(ALICE)
      srv:stop()
      assert.equal(MASK, v.data[1].name)
    end)

    it("a caller's transport answering status 600 is refused (200-599 are final statuses)", function()
      local function client(status)
        return assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false,
          transport = function()
            return { status = status, headers = { ["Content-Type"] = "application/json" }, body = "{}" }
          end })
      end
      local _, err = client(600):me()
      assert.equal("network", err.kind)
      assert.matches("200-599", err.message, 1, true)
      _, err = client(599):me()
      assert.equal("server", err.kind)
      assert.equal(599, err.status)
    end)

    it("a caller's transport outside nginx: the wait before a retry really passes (the C core's sleep)", function()
      local clock = require("konnect.core").monotime
      local at = {}
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http,
        retries = { max_attempts = 2, initial = 0.01, max = 2, max_elapsed = 10 },
        transport = function()
          at[#at + 1] = clock()
          if #at == 1 then return { status = 429, headers = { ["Retry-After"] = "1" }, body = "" } end
          local json = { ["Content-Type"] = "application/json" }
          return { status = 200, headers = json, body = '{"id":"' .. ALICE .. '"}' }
        end })
      assert(c:me())
      assert.equal(2, #at)
      -- Retry-After: 1 (a lower bound only: a sleep is never shorter than asked)
      assert.is_true(at[2] - at[1] >= 0.9, "retried after " .. (at[2] - at[1]) .. " s")
    end)

    it("a caller's transport answering an interim status (1xx) is refused: no final answer came", function()
      -- RFC 9110 15.2: a 1xx is interim, never the answer to a request
      for _, status in ipairs { 100, 103, 199 } do
        local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false,
          transport = function() return { status = status, headers = {}, body = "" } end })
        local v, err = c:me()
        assert.is_nil(v)
        assert.equal("network", err.kind, status)
        assert.is_nil(err.status)
        assert.matches("without a valid status (200-599)", err.message, 1, true)
      end
    end)

    it("a caller's transport failing: a transport error of a known kind keeps its kind, message and code; "
      .. "anything else is a network error that says the function failed", function()
      local function fail_with(terr)
        local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false,
          transport = function() return nil, terr end })
        local v, err = c:me()
        assert.is_nil(v)
        return err
      end
      local err = fail_with { kind = "timeout", message = "took too long", code = 28, sent = false }
      assert.equal("timeout", err.kind)
      assert.matches("took too long", err.message, 1, true)
      assert.equal(28, err.code)
      err = fail_with { kind = "connect", code = "7" }
      assert.equal("connect", err.kind)
      assert.is_nil(err.code, "a code that is no number is dropped")
      for _, bad in ipairs { 42, "refused", true, { kind = "bogus" }, { message = "no kind" } } do
        err = fail_with(bad)
        assert.equal("network", err.kind, tostring(bad))
        assert.matches("the transport function failed: ", err.message, 1, true)
      end
    end)

    it("CLI: --older-than takes up to 10 years, 10y included", function()
      local r = cli({ "prune", "--older-than", "10y", "--dry-run", "--json" })
      assert.equal(0, r.code, r.err)
      r = cli({ "prune", "--older-than", "11y", "--dry-run", "--json" })
      assert.equal(2, r.code)
    end)

    it("a problem's detail ends the message without the server's trailing white space", function()
      fake.fault { method = "GET", status = 404, content_type = "application/problem+json",
                   body = '{"status":404,"title":"Not Found \\n","detail":"no such token \\r\\n"}' }
      local _, err = fake.client { retries = false }:list(ALICE)
      assert.equal("not_found", err.kind)
      assert.matches("no such token$", err.message)
      assert.matches("no such token$", tostring(err))
    end)

    it("the secret file is opened close-on-exec (a child the host process starts never inherits it)", function()
      local core = require "konnect.core"
      -- new (O_EXCL on the name) and --force (a temporary renamed over it): both descriptors
      for _, replace in ipairs { false, true } do
        local dir = require("support.proc").read_cmd("mktemp -d")
        local path = dir .. "/secret"
        local sf = assert(core.secret_file(path, replace))
        -- this process's descriptors (the shell's parent is this busted process) on a file in dir
        local flags = require("support.proc").read_cmd("for f in /proc/$PPID/fd/*; do "
          .. "case \"$(readlink $f)\" in '" .. dir .. "'/*) grep '^flags' /proc/$PPID/fdinfo/${f##*/};; esac; done")
        sf:abort()
        os.execute("rm -rf '" .. dir .. "'")
        local octal = flags:match("flags:%s*(%d+)")
        assert.is_string(octal, "the secret file's descriptor was found")
        assert.equal(1, math.floor(tonumber(octal, 8) / 2 ^ 19) % 2,
          "O_CLOEXEC (02000000 = 2^19) in " .. flags .. (replace and " (the temporary)" or ""))
      end
    end)

    it("CLI --json: an error object holds the documented fields and no other", function()
      local r = cli({ "get", "00000000-0000-4000-8000-00000000dead", "--json" })
      assert.equal(1, r.code)
      local keys = {}
      for k in pairs(cjson.decode(r.err)) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.same({ "kind", "message", "request_id", "status", "trace_id" }, keys)
    end)
  end)

  -----------------------------------------------------------------------------
  -- 8. --json usage errors: kind invalid_argument (the closed set of errors.KINDS),
  -- and a message that is the reason alone
  describe("the CLI's --json usage errors", function()
    local CASES = {
      { { "frobnicate", "--json" }, "unknown command frobnicate" },
      { { "list", "--frob", "--json" }, "unknown option --frob" },
      { { "--json" }, "no command", "(without --json: the help text)" },
      { { "create", "--name", "x", "--json" }, "create needs --ttl TTL (1d .. 1y) or --expires-at RFC3339" },
      { { "get", "--json" }, "too few arguments: get TOKEN [--user USER | --system-account ACCOUNT]" },
      { { "list", "a", "b", "--json" },
        "too many arguments: list [--state STATES] [--expiring-within AGE] [--sort expires|name|created] " ..
        "[--user USER | --system-account ACCOUNT]" },
      { { "rotate", "x", "--old", "nope", "--json" }, "--old must be delete, revoke or keep, got nope" },
    }
    for _, case in ipairs(CASES) do
      local what = table.concat(case[1], " ")
      it(what, function()
        local r = cli(case[1])
        assert.equal(2, r.code, r.err)
        assert.equal("", r.out)
        local e = cjson.decode(r.err)
        assert.equal("invalid_argument", e.kind)
        assert.equal(case[2], e.message)
        if case[3] then return end
        -- without --json, the one line keeps its wrapper: the reason and where help is
        local args = {}
        for _, a in ipairs(case[1]) do if a ~= "--json" then args[#args + 1] = a end end
        local t = cli(args)
        assert.equal(2, t.code)
        assert.equal("konnect-pats: usage: " .. case[2], t.err:match("^(.-) %(see '[^']*%-%-help'%)\n$"), t.err)
      end)
    end
  end)

  -----------------------------------------------------------------------------
  -- what pats.new adds to a client's secret set beside the token itself
  describe("a client's secrets beyond the token", function()
    it("the part after kpat_ or spat_ is masked when a server echoes it alone", function()
      for _, prefix in ipairs { "kpat_", "spat_" } do
        local tail = "fake_Tail" .. prefix:sub(1, 1) .. "9x3Q7w"
        fake.fault { method = "GET", status = 502, content_type = "text/plain",
                     body = "upstream said: unknown credential " .. tail .. " (end)" }
        local c = assert(pats.new { token = prefix .. tail, server_url = fake.http, retries = false })
        local v, err = c:list(ALICE)
        assert.is_nil(v)
        assert.equal("upstream said: unknown credential " .. MASK .. " (end)", err.body, prefix)
        assert_no_part_of(tail, err, "err")
        -- and the whole token, echoed, is masked whole
        fake.fault { method = "GET", status = 502, content_type = "text/plain",
                     body = "upstream said: unknown credential " .. prefix .. tail .. " (end)" }
        v, err = c:list(ALICE)
        assert.is_nil(v)
        assert.equal("upstream said: unknown credential " .. MASK .. " (end)", err.body, prefix)
      end
      -- the shortest tail kept apart: 8 bytes (kpat_fake_abc)
      fake.fault { method = "GET", status = 502, content_type = "text/plain", body = "saw fake_abc (end)" }
      local c = assert(pats.new { token = "kpat_fake_abc", server_url = fake.http, retries = false })
      local v, err = c:list(ALICE)
      assert.is_nil(v)
      assert.equal("saw " .. MASK .. " (end)", err.body)
    end)

    it("a proxy's password is masked in its %XX form and decoded (it travels decoded)", function()
      -- the proxy is never reached: the hook's failure, logged, is what is looked at
      local lines = {}
      local c = assert(pats.new { token = fake.ALICE_TOKEN, server_url = fake.http, retries = false, timeout = 2,
        proxy = "http://proxyuser:pr%4Fxy%2Fpa55@127.0.0.1:1",
        log = function(l) lines[#lines + 1] = l end,
        hooks = { before_request = function() error("saw pr%4Fxy%2Fpa55 and prOxy/pa55", 0) end } })
      c:list(ALICE)
      assert.equal("konnect: hook failed: saw " .. MASK .. " and " .. MASK, lines[1])
      for _, l in ipairs(lines) do
        assert.is_nil(l:find("pa55", 1, true), "no log line holds the password")
      end
    end)
  end)
end)
