-- Soak of the whole library (konnect.pats over konnect.core) against the fake
-- Konnect server: N calls mixing successes and every error kind, with clients
-- created and dropped along the way.  Prints RSS and open fds before and after.
-- Run by scripts/check.sh (natively and under valgrind), or by hand:
--
--   eval "$(fake_konnect/ctl start)"
--   LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 spec/soak/pats_soak.lua
--
-- Environment: KONNECT_SOAK_N (calls, default 10000), KONNECT_SOAK_WARMUP (200),
-- KONNECT_SOAK_FD_SLACK (4).  Exit status 0 when every outcome was as expected.

local fake = require "support.fake"

local N = tonumber(os.getenv("KONNECT_SOAK_N")) or 10000
local WARMUP = tonumber(os.getenv("KONNECT_SOAK_WARMUP")) or 200
local FD_SLACK = tonumber(os.getenv("KONNECT_SOAK_FD_SLACK")) or 4

local ALICE = fake.ALICE
local NO_SUCH = "00000000-0000-4000-8000-00000000f00d"

local function rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")), tonumber(s:match("VmHWM:%s*(%d+)"))
end

local function fds()
  local p = assert(io.popen("ls /proc/" .. (io.open("/proc/self/stat"):read("*l"):match("^(%d+)")) .. "/fd | wc -l"))
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

local fast = { max_attempts = 3, initial = 0.001, max = 0.002, max_elapsed = 5 }
local function new_clients()
  return {
    ok = fake.client { retries = fast },
    bad = fake.client { token = "kpat_fake_nobody", retries = false },
    small = fake.client { max_body = 16 * 1024, retries = false },
    closed = fake.client { server_url = "http://127.0.0.1:1", retries = false },
    untrusted = fake.client { server_url = fake.https, retries = false },
    tls = fake.client { server_url = fake.https, ca_file = fake.ca, retries = false },
    slow = fake.client { timeout = 0.05, retries = false },
  }
end

fake.reset()
local c = new_clients()
local target = assert(c.ok:create(ALICE, { name = "soak target", ttl_seconds = 86400 }))

local seen, unexpected = {}, 0
local function expect(kind, v, err)
  local got = v ~= nil and "ok" or (err and err.kind or "?")
  seen[got] = (seen[got] or 0) + 1
  if got ~= kind then
    unexpected = unexpected + 1
    if unexpected <= 10 then io.stderr:write("unexpected: wanted ", kind, ", got ", tostring(err or got), "\n") end
  end
end

local STEPS = {
  function() expect("ok", c.ok:get(ALICE, target.id)) end,
  function() expect("ok", c.ok:list("me")) end,
  function()
    local t, err = c.ok:create(ALICE, { name = "soak", ttl_seconds = 86400 })
    expect("ok", t, err)
    if t then expect("ok", c.ok:delete(ALICE, t.id)) end
  end,
  function() expect("not_found", c.ok:get(ALICE, NO_SUCH)) end,
  function() expect("unauthorized", c.bad:list(ALICE)) end,
  function() fake.fault { method = "GET", status = 503 }; expect("ok", c.ok:get(ALICE, target.id)) end,
  function() fake.fault { method = "GET", malformed = true }; expect("decode", c.ok:list(ALICE)) end,
  function() fake.fault { method = "GET", huge = 64 * 1024 }; expect("too_large", c.small:list(ALICE)) end,
  function() expect("connect", c.closed:list(ALICE)) end,
  function() expect("tls", c.untrusted:list(ALICE)) end,
  function() expect("ok", c.tls:get(ALICE, target.id)) end,
  function() expect("invalid_argument", c.ok:create(ALICE, { name = "x", ttl_seconds = 1 })) end,
  function() fake.fault { method = "GET", redirect = fake.http .. "/" }; expect("http", c.ok:list(ALICE)) end,
  function() fake.fault { method = "GET", status = 409 }; expect("conflict", c.ok:list(ALICE)) end,
  function() fake.fault { method = "GET", drop = "before_body" }; expect("network", c.slow:list(ALICE)) end,
  function()
    local results, failed = c.ok:batch({ { "get", ALICE, target.id }, { "get", ALICE, NO_SUCH }, { "list", ALICE } },
      { concurrency = 3 })
    expect("ok", failed == 1 and results or nil)
  end,
}

local function run(n, offset)
  for i = 1, n do
    local k = (i + offset) % #STEPS + 1
    -- every so often drop every client and its connections, and start over
    if (i + offset) % 1000 == 0 then
      for _, cl in pairs(c) do cl:close() end
      c = new_clients()
      collectgarbage()
    end
    if (i + offset) % 250 == 0 then -- a timeout costs its 50 ms: now and then
      fake.fault { method = "GET", delay = 0.2 }
      expect("timeout", c.slow:list(ALICE))
    else
      STEPS[k]()
    end
  end
end

run(WARMUP, 0)
collectgarbage(); collectgarbage()
local rss0, fd0 = rss_kb(), fds()
local t0 = require("konnect.core").monotime()
run(N, WARMUP)
local dt = require("konnect.core").monotime() - t0
collectgarbage(); collectgarbage()
local rss1, hwm = rss_kb()
local fd1 = fds()

local kinds = {}
for k, v in pairs(seen) do kinds[#kinds + 1] = k .. "=" .. v end
table.sort(kinds)
print(("pats soak: %d calls in %.1f s (%s)"):format(N, dt, _VERSION))
print("  outcomes: " .. table.concat(kinds, " "))
print(("  RSS %d kB -> %d kB (%+d kB), peak %d kB; open fds %d -> %d"):format(rss0, rss1, rss1 - rss0, hwm, fd0, fd1))
if unexpected > 0 then
  print("  FAILED: " .. unexpected .. " unexpected outcomes")
  os.exit(1)
end
if fd1 - fd0 > FD_SLACK then
  print("  FAILED: open fds grew by " .. (fd1 - fd0))
  os.exit(1)
end
print("  ok")
