-- konnect/core.so is one normally linked module (the C core and libcurl),
-- opened by Lua's own require: dlopen(RTLD_NOW) binds every symbol before
-- require returns (loadlib.c), so a core built for another Lua is refused by
-- require with the dynamic loader's reason, and the process goes on.  (With the
-- old loader, csrc/loader.c, the real module was opened RTLD_LAZY: the first
-- missing Lua symbol killed the process, "symbol lookup error", exit 127.)
local h = require "support.cli"
local q, slurp, sh = h.q, h.slurp, h.sh

-- a build each interpreter must refuse: another ABI (5.1 and LuaJIT share one)
local FOREIGN = { ["lua5.4"] = "5.1", ["lua5.3"] = "5.4", ["lua5.1"] = "5.4", luajit = "5.4" }

describe("konnect.core linking", function()
  it("is one file: konnect/core.so, with libcurl bound at require", function()
    require "konnect.core"
    local core, curl
    for line in io.lines("/proc/self/maps") do
      local path = line:match("%s(/%S+)$") or line:match("%s(/%S+) %(deleted%)$") -- rebuilt since
      if path and path:match("/konnect/[^/]*%.so$") then
        assert.matches("/konnect/core%.so$", path)
        core = true
      end
      if path and path:match("/libcurl[^/]*%.so") then curl = true end
    end
    assert.is_true(core, "konnect/core.so is not mapped")
    assert.is_true(curl, "libcurl is not mapped")
  end)

  it("built for another Lua, fails at require with the loader's reason; the process goes on", function()
    local other = FOREIGN[h.LUA]
    local built = h.ROOT .. "/build/" .. tostring(other) .. "/konnect"
    if not other or not slurp(built .. "/core.so") then
      return pending("no build/" .. tostring(other) .. " to load (make build LUA=lua" .. tostring(other) .. ")")
    end
    local dir = h.tmpdir()
    -- every .so of that build's konnect/, so an older layout (a loader and its module) is tried whole
    assert.equal(0, sh("mkdir -p " .. q(dir .. "/konnect") .. " && cp " .. q(built) .. "/*.so " ..
      q(dir .. "/konnect/")))
    local script = ("package.cpath = %q\n"):format(dir .. "/?.so") .. [[
      local ok, err = pcall(require, "konnect.core")
      io.stdout:write(tostring(ok), "\n", tostring(err), "\n")
      local again = pcall(require, "konnect.core")
      io.stdout:write("after: ", tostring(again), "\n")
      os.exit(3)]]
    local outf = dir .. "/out"
    local code = sh(h.LUA .. " -e " .. q(script) .. " > " .. q(outf) .. " 2>&1")
    local out = slurp(outf) or ""
    sh("rm -rf " .. q(dir))
    assert.equal(3, code, out)
    assert.matches("^false\nerror loading module 'konnect.core' from file '" .. dir:gsub("%p", "%%%0") ..
      "/konnect/core%.so':\n", out)
    assert.matches("undefined symbol: lua", out, 1, true)
    assert.matches("after: false\n", out, 1, true)
  end)
end)
