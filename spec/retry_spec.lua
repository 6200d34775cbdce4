local retry = require "konnect.retry"

local read_cmd = require("support.proc").read_cmd

describe("konnect.retry", function()
  it("processes started at the same instant draw different jitter (the seed takes an address too)", function()
    -- Each child reads the very same clocks (os.time and os.clock replaced before
    -- konnect.retry loads), so only the address part of the seed can tell them
    -- apart: without it a fleet started by one cron line retries in step.
    local aslr = read_cmd("cat /proc/sys/kernel/randomize_va_space 2>/dev/null")
    if aslr == "0" then pending("address space randomisation is off on this machine") return end
    local lua = read_cmd("readlink /proc/$PPID/exe")
    local code = "os.time = function() return 1700000000 end; os.clock = function() return 0.25 end; "
      .. "io.write(string.format('%.17g', require('konnect.retry').random()))"
    local seen, distinct = {}, 0
    for _ = 1, 6 do
      local v = read_cmd(("LUA_PATH='%s' %s -e \"%s\""):format(package.path, lua, code))
      assert.truthy(tonumber(v), v)
      if not seen[v] then seen[v], distinct = true, distinct + 1 end
    end
    assert.equal(6, distinct)
  end)

  it("normalises the policy and refuses nonsense", function()
    assert.same({ max_attempts = 3, initial = 0.5, max = 8, max_elapsed = 60 }, retry.policy(nil))
    assert.equal(1, retry.policy(false).max_attempts)
    assert.equal(5, retry.policy({ max_attempts = 5 }).max_attempts)
    assert.matches("unknown option", select(2, retry.policy({ attempts = 5 })))
    assert.matches("non%-negative", select(2, retry.policy({ max = -1 })))
    assert.is_nil(retry.policy("yes"))
  end)

  it("a call's policy starts from its client's (unless the client's is off); every policy is the caller's own table",
    function()
      local client = retry.policy({ max_attempts = 5, max = 2 })
      assert.same({ max_attempts = 5, initial = 1, max = 2, max_elapsed = 60 }, retry.policy({ initial = 1 }, client))
      assert.equal(client, retry.policy(nil, client))
      local off = retry.policy(false)
      assert.same({ max_attempts = 3, initial = 0.5, max = 8, max_elapsed = 60 }, retry.policy({}, off))
      local mine = retry.policy(nil)
      mine.max_attempts = 9
      assert.equal(3, retry.policy(nil).max_attempts)
      assert.equal(3, retry.DEFAULTS.max_attempts)
      assert.equal(1, retry.policy({ max_attempts = 1 }).max_attempts)
      assert.equal(1, retry.policy({ max_attempts = 1.9 }).max_attempts)
      assert.same({ nil, "retries.max_attempts must be at least 1" }, { retry.policy({ max_attempts = 0.5 }) })
      for _, bad in ipairs { "1", 0 / 0, -0.5, 1 / 0, true } do
        assert.same({ nil, "retries.initial must be a non-negative number" }, { retry.policy({ initial = bad }) })
      end
    end)

  it("retries what is safe to retry, and a create only when nothing was sent", function()
    for _, status in ipairs { 429, 500, 502, 503, 504 } do
      assert.is_true(retry.retryable(true, { status = status }))
    end
    for _, status in ipairs { 400, 401, 403, 404, 409, 501 } do
      assert.is_false(retry.retryable(true, { status = status }))
    end
    assert.is_true(retry.retryable(false, { status = 429 }))
    assert.is_false(retry.retryable(false, { status = 503 }))
    assert.is_true(retry.retryable(true, nil, { kind = "network", sent = true }))
    assert.is_false(retry.retryable(true, nil, { kind = "tls", sent = false }))
    assert.is_false(retry.retryable(true, nil, { kind = "too_large", sent = true }))
    assert.is_true(retry.retryable(false, nil, { kind = "connect", sent = false }))
    assert.is_false(retry.retryable(false, nil, { kind = "timeout", sent = true }))
    assert.is_false(retry.retryable(false, nil, { kind = "network", sent = true }))
  end)

  it("reads Retry-After as seconds or an HTTP date", function()
    assert.equal(7, retry.retry_after("7"))
    assert.equal(1.5, retry.retry_after(" 1.5 "))
    local now = os.time()
    local at = os.date("!%a, %d %b %Y %H:%M:%S GMT", now + 120)
    local wait = retry.retry_after(at, now)
    assert.is_true(wait >= 119 and wait <= 121, "wait " .. tostring(wait))
    assert.equal(0, retry.retry_after(os.date("!%a, %d %b %Y %H:%M:%S GMT", now - 60), now))
    assert.is_nil(retry.retry_after("soon"))
    for _, junk in ipairs { "in 5", "x5", "5s", "-5", "5 5" } do -- neither seconds nor a date: no wait is read from it
      assert.is_nil(retry.retry_after(junk), junk)
    end
    assert.is_nil(retry.retry_after(nil))
  end)

  it("waits a full-jitter backoff, or the server's word clamped to max", function()
    local p = retry.policy { initial = 0.5, max = 8 }
    for attempt = 1, 6 do
      local cap = math.min(8, 0.5 * 2 ^ (attempt - 1))
      for _ = 1, 50 do
        local d = retry.delay(p, attempt)
        assert.is_true(d >= 0 and d <= cap, ("attempt %d waited %s"):format(attempt, d))
      end
    end
    assert.equal(3, retry.delay(p, 1, 3))
    assert.equal(8, retry.delay(p, 1, 3600))
  end)

  it("jitters differently in different processes", function()
    local lua = os.getenv("KONNECT_TEST_LUA") or "lua5.4"
    local cmd = lua .. [[ -e 'package.path="lua/?.lua;"..package.path; print(require("konnect.retry").random())']]
    local seen = {}
    for _ = 1, 3 do
      local p = assert(io.popen(cmd))
      seen[p:read("*l")] = true
      p:close()
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.is_true(n >= 2, "three processes drew the same jitter")
  end)
end)
