-- examples/openresty/run.sh, end to end (its own nginx, this run's fake Konnect).
describe("examples/openresty", function()
  it("run.sh audits (revokes the 1-day token) and revokes by id through the admin endpoint", function()
    -- as a user runs it: without this suite's LUA_PATH and LUA_CPATH (the
    -- example's nginx.conf sets no lua_package_cpath, so LuaJIT's default,
    -- which LUA_CPATH changes, is where konnect.accel looks for the C core;
    -- this suite's names the Lua 5.4 build, made for another interpreter)
    local p = io.popen("env -u LUA_PATH -u LUA_CPATH bash examples/openresty/run.sh 2>&1")
    local out = p:read("a")
    local ok = p:close()
    assert.is_true(ok, out)
    local short = out:match("ci%-short (%x+%-[%x-]+) %(1 day%)")
    local leaked = out:match("leaked (%x+%-[%x-]+) %(30 days%)")
    assert.is_string(short, out)
    assert.matches("konnect-audit: revoked " .. short .. " (ci-short)", out, 1, true)
    local answer = out:match("/admin/tokens/" .. leaked:gsub("%-", "%%-") .. "/revoke\n(%b{})")
    assert.is_string(answer, out)
    assert.matches('"state":"REVOKED"', answer, 1, true)
    assert.matches('"id":"' .. leaked .. '"', answer, 1, true)
    assert.matches("konnect-audit: done: 3 tokens, 1 revoked, 0 rotated, 0 failed", out, 1, true)
    assert.matches('"error":"invalid_argument"', out, 1, true)
    assert.is_nil(out:find("kpat_", 1, true), "a secret in the output")
  end)
end)
