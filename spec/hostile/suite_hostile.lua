-- spec/hostile/suite_hostile.lua: the hostile-server cases (spec/hostile/cases.lua)
-- against one transport, chosen by KONNECT_HOSTILE_TRANSPORT (curl | cosocket).
-- curl: the cases run here, in this busted process, over real sockets.
-- cosocket: each case runs inside the suite's nginx (GET /run?case=…).
-- Started by spec/hostile/run.sh, which also starts the nginx.
local cases = require "cases"
local runner = require "runner"
local json = require "konnect.json"
local core = require "konnect.core"
local socket = require "socket"

local BASE = os.getenv("KONNECT_HOSTILE_URL") or error("KONNECT_HOSTILE_URL is not set: run spec/hostile/run.sh", 0)
local TRANSPORT = os.getenv("KONNECT_HOSTILE_TRANSPORT") or "curl"
local RST_PORT = os.getenv("KONNECT_HOSTILE_RST_PORT") -- spec/hostile/rst_server.lua
local ctl = assert(core.new { timeout = 120, connect_timeout = 5 })

local function get(path)
  local res, err = ctl:request("GET", BASE .. path, {}, nil)
  assert(res, "hostile nginx " .. path .. ": " .. tostring(err and err.message))
  assert(res.status == 200, "hostile nginx " .. path .. ": HTTP " .. res.status)
  return res.body
end

local function rss_kb() -- of the process the transport runs in
  if TRANSPORT == "cosocket" then return tonumber(get("/rss")) end
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function run(c, where)
  if TRANSPORT == "cosocket" then
    return json.decode(get((where or "/run") .. "?case=" .. c.name .. "&rst=" .. (RST_PORT or "")))
  end
  return runner.run(c, { base = BASE, transport = "curl", clock = socket.gettime,
                         rst_base = RST_PORT and ("http://127.0.0.1:" .. RST_PORT) })
end

describe("hostile server, transport " .. TRANSPORT .. ":", function()
  local rss = {}

  for _, c in ipairs(cases.cases) do
    it(c.name .. " -> " .. (c.expect or table.concat(c.expect_any, "|")), function()
      if c.big and not rss.before then rss.before = rss_kb() end
      local o = run(c)
      if c.big then rss.after = rss_kb() end
      local problem = runner.verdict(c, o)
      assert(problem == nil, c.name .. " [" .. TRANSPORT .. "]: " .. tostring(problem))
    end)
  end

  if TRANSPORT == "cosocket" then
    -- reads of up to 64 KiB (lua_socket_buffer_size 64k): a head of exactly the cap
    -- arrives in the first read, a byte more is refused from there too
    for _, name in ipairs { "head_64k_one_write", "head_64k_and_1" } do
      local c = cases.by_name[name]
      it(name .. " with 64 KiB reads -> " .. c.expect, function()
        local problem = runner.verdict(c, run(c, "/run_64k"))
        assert(problem == nil, c.name .. " [cosocket, 64 KiB reads]: " .. tostring(problem))
      end)
    end
  end

  it("memory stays bounded across the big cases (RSS)", function()
    assert(rss.before and rss.after, "no RSS figures taken")
    local grew = (rss.after - rss.before) / 1024
    print(("\nRSS (%s, %s): before the big cases %.1f MiB, after %.1f MiB, growth %.1f MiB"):format(
      TRANSPORT, TRANSPORT == "curl" and "busted process" or "nginx worker",
      rss.before / 1024, rss.after / 1024, grew))
    assert(grew < 64, ("RSS grew by %.1f MiB (bound 64 MiB)"):format(grew))
  end)
end)
