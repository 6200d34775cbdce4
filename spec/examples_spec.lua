-- The examples after an install: they run against an installed tree (as
-- `luarocks path` puts it on LUA_PATH/LUA_CPATH) as well as from a checkout
-- with a `make` build, never mixing the two; with no C core anywhere the call
-- fails with kind system and a message that says how to build or install it.
local fake = require "support.fake"
local h = require "support.cli"

local LUA = h.LUA
local V = LUA == "luajit" and "5.1" or LUA:match("%d+%.%d+$")
local BUILD = h.ROOT .. "/build/" .. (LUA == "luajit" and "jit" or V)
local q = h.q

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out:gsub("rc=%d+%s*$", ""), rc
end

describe("the examples, installed or from a checkout (" .. LUA .. ")", function()
  local dir, tree
  before_each(function()
    fake.reset()
    dir = h.tmpdir()
    -- an installed tree, laid out as LuaRocks and make install lay it out
    tree = dir .. "/tree"
    assert.equal(0, h.sh("mkdir -p " .. q(tree .. "/share/lua/" .. V) .. " " .. q(tree .. "/lib/lua/" .. V) ..
      " && cp -r " .. q(h.ROOT .. "/lua/konnect") .. " " .. q(tree .. "/share/lua/" .. V .. "/") ..
      " && mkdir -p " .. q(tree .. "/lib/lua/" .. V .. "/konnect") ..
      " && cp " .. q(BUILD) .. "/konnect/*.so " .. q(tree .. "/lib/lua/" .. V .. "/konnect/")))
  end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  local function env(cpath)
    local cjson = package.searchpath("cjson", package.cpath):gsub("cjson%.so$", "?.so")
    return "env KONNECT_TOKEN=" .. q(fake.ALICE_TOKEN) .. " KONNECT_SERVER_URL=" .. q(fake.http) ..
      " LUA_PATH=" .. q(tree .. "/share/lua/" .. V .. "/?.lua;" .. tree .. "/share/lua/" .. V .. "/?/init.lua") ..
      " LUA_CPATH=" .. q((cpath or (tree .. "/lib/lua/" .. V .. "/?.so")) .. ";" .. cjson) .. " "
  end

  it("a checkout without a build for this interpreter: the installed tree, not the checkout's lua/", function()
    local co = dir .. "/checkout"
    assert.equal(0, h.sh("mkdir -p " .. q(co .. "/lua/konnect") .. " && cp -r " .. q(h.ROOT .. "/examples") .. " " ..
      q(co .. "/")))
    h.spit(co .. "/lua/konnect/pats.lua", 'error("the checkout\'s lua/ was used without its build")\n')
    assert(fake.client():create("me", { name = "from-tree", ttl_seconds = 86400 }))
    local out, rc = run("cd " .. q(dir) .. " && " .. env() .. LUA .. " " .. q(co .. "/examples/list.lua"))
    assert.equal(0, rc, out)
    assert.matches("ACTIVE +in 24 hours +from%-tree", out)
  end)

  it("an example copied away from any checkout: the installed tree", function()
    assert.equal(0, h.sh("cp " .. q(h.ROOT .. "/examples/create.lua") .. " " .. q(dir .. "/create.lua")))
    local out, rc = run("cd / && " .. env() .. LUA .. " " .. q(dir .. "/create.lua") .. " copied 86400")
    assert.equal(0, rc, out)
    assert.matches("^kpat_", out:match("[^\n]*\n?$"))
  end)

  it("no C core anywhere: kind system, a complete message naming make and luarocks make", function()
    assert.equal(0, h.sh("cp " .. q(h.ROOT .. "/examples/list.lua") .. " " .. q(dir .. "/list.lua")))
    local out, rc = run("cd / && " .. env(dir .. "/nowhere/?.so") .. LUA .. " " .. q(dir .. "/list.lua"))
    assert.equal(1, rc, out)
    assert.matches("^konnect: list%-users%-personal%-access%-tokens: system: the C core %(konnect%.core%) is not " ..
      "installed for ", out)
    assert.matches("make LUA=" .. LUA, out, 1, true)
    assert.matches("luarocks --lua-version=" .. V .. " make", out, 1, true)
    assert.not_matches(":%s*$", out)
    assert.equal(0, fake.requests().total)
  end)
end)
