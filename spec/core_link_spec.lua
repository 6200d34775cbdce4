-- konnect/core.so is one normally linked module (the C core and libcurl),
-- opened by Lua's own require: dlopen(RTLD_NOW) binds every symbol before
-- require returns (loadlib.c), so a core built for another Lua is refused by
-- require with the dynamic loader's reason, and the process goes on.  (With the
-- old loader, csrc/loader.c, the real module was opened RTLD_LAZY: the first
-- missing Lua symbol killed the process, "symbol lookup error", exit 127.)
-- (spec/core_abi_spec.lua requires every build with every interpreter.)

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
end)
