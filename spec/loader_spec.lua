-- konnect/core.so is a loader (csrc/loader.c): it opens konnect/core_impl.so,
-- the real module, from its own directory with lazy binding, and hands over.
local h = require "support.cli"
local q, slurp, sh = h.q, h.slurp, h.sh

local BUILD = { ["lua5.4"] = "5.4", ["lua5.3"] = "5.3", ["lua5.1"] = "5.1", luajit = "jit" }

describe("konnect.core's loader", function()
  local core = require "konnect.core"

  it("hands over to konnect/core_impl.so from its own directory: the module is the real one", function()
    assert.matches("^konnect.core libcurl/%d", core.version())
    local loader, impl
    for line in io.lines("/proc/self/maps") do
      local path = line:match("%s(/%S+)$")
      if path and path:match("/konnect/core%.so$") then loader = path end
      if path and path:match("/konnect/core_impl%.so$") then impl = path end
    end
    assert.is_string(loader, "konnect/core.so is not mapped")
    assert.is_string(impl, "konnect/core_impl.so is not mapped")
    assert.equal(loader:match("^(.*)/"), impl:match("^(.*)/"))
    -- and it works: a handle, a bad option refused the usual way
    local conn = assert(core.new {})
    conn:close()
    local none, msg, kind = core.new { timeout = -1 }
    assert.is_nil(none)
    assert.equal("invalid_argument", kind)
    assert.is_string(msg)
  end)

  it("without its core_impl.so, require fails naming the file (not a crash, not a half-loaded module)", function()
    local dir = os.tmpname()
    os.remove(dir)
    local lib = dir .. "/konnect"
    local built = h.ROOT .. "/build/" .. (BUILD[h.LUA] or "5.4") .. "/konnect/core.so"
    assert.equal(0, sh("mkdir -p " .. q(lib) .. " && cp " .. q(built) .. " " .. q(lib) .. "/"))
    local errf = dir .. "/err"
    local code = sh(h.LUA .. " -e " .. q("package.cpath = " .. ("%q"):format(dir .. "/?.so") ..
      " local ok, e = pcall(require, 'konnect.core') io.stderr:write(tostring(e)) os.exit(ok and 0 or 3)") ..
      " 2>" .. q(errf))
    local err = slurp(errf) or ""
    sh("rm -rf " .. q(dir))
    assert.equal(3, code, err)
    assert.matches("konnect.core: cannot load " .. lib .. "/core_impl.so", err, 1, true)
  end)
end)
