-- konnect-pats --secret-file against a hostile file system: names planted
-- (symlinks to a readable file or to a named pipe with a reader attached,
-- pipes, directories) or swapped during the API call never receive the
-- secret; the CLI fails cleanly (exit 2, no token minted) when the file cannot
-- be made safely, and --force replaces a link instead of following it.
-- The same cases with a second, unprivileged user: spec/cli/two_users.sh.
local fake = require "support.fake"
local h = require "support.cli"
local core = require "konnect.core"

local q, slurp, spit, cli = h.q, h.slurp, h.spit, h.cli
local ALICE = fake.ALICE

local function posts() return fake.count("POST /v3/users/" .. ALICE .. "/access-tokens") end

local function listing(dir)
  local p = io.popen("ls -A " .. q(dir))
  local s = p:read("*a")
  p:close()
  return s
end

-- A reader attached to the FIFO at path: everything it reads lands in out.
-- Returns a function that stops it.
local function reader(fifo, out)
  local p = io.popen("timeout 20 cat 0<>" .. q(fifo) .. " > " .. q(out) .. " 2>/dev/null & echo $!")
  local pid = p:read("*l")
  p:close()
  os.execute("sleep 0.1") -- let it open the pipe
  return function()
    os.execute("kill " .. pid .. " 2>/dev/null; sleep 0.1")
  end
end

local function create(path, ...)
  return cli({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", path, ... })
end

-- every stray secret: nothing token-shaped anywhere in `s`
local function no_secret(s, what)
  assert.is_nil((s or ""):match("kpat_%w+"), (what or "output") .. " must not carry a token")
end

describe("konnect-pats --secret-file, hostile names", function()
  local dir
  h.per_test(before_each, after_each, function(_, d) dir = d end)

  it("a planted symlink to a readable file: refused (exit 2), the file untouched, no token minted", function()
    local target, path = dir .. "/readable", dir .. "/secret"
    spit(target, "precious\n")
    os.execute("chmod 644 " .. q(target) .. "; ln -s " .. q(target) .. " " .. q(path))
    local r = create(path)
    assert.equal(2, r.code)
    assert.equal("", r.out)
    assert.matches("already exists", r.err, 1, true)
    assert.equal("precious\n", slurp(target))
    assert.equal("symbolic link", h.file_type(path))
    assert.equal(0, posts())
  end)

  it("a planted symlink to a named pipe with a reader attached: the reader gets nothing, no token minted", function()
    local fifo, path, got = dir .. "/pipe", dir .. "/secret", dir .. "/stolen"
    os.execute("mkfifo " .. q(fifo) .. "; ln -s " .. q(fifo) .. " " .. q(path))
    local stop = reader(fifo, got)
    local r = create(path)
    stop()
    assert.equal(2, r.code)
    no_secret(slurp(got), "the pipe")
    assert.equal(0, posts())
  end)

  it("a planted FIFO (with and without --force): refused, exit 2, no token minted", function()
    local path, got = dir .. "/secret", dir .. "/stolen"
    os.execute("mkfifo " .. q(path))
    local stop = reader(path, got)
    local r1 = create(path)
    local r2 = create(path, "--force")
    stop()
    assert.equal(2, r1.code)
    assert.equal(2, r2.code, r2.err)
    assert.matches("special file", r2.err, 1, true)
    no_secret(slurp(got), "the pipe")
    assert.equal("fifo", h.file_type(path))
    assert.equal(0, posts())
  end)

  it("a directory at PATH (with and without --force): exit 2, no token minted", function()
    local path = dir .. "/secret"
    os.execute("mkdir " .. q(path))
    assert.equal(2, create(path).code)
    local r = create(path, "--force")
    assert.equal(2, r.code)
    assert.matches("EISDIR", r.err, 1, true)
    assert.equal("", listing(path))
    assert.equal(0, posts())
  end)

  it("--force replaces a symlink instead of following it; the new file is 0600", function()
    local target, path = dir .. "/readable", dir .. "/secret"
    spit(target, "precious\n")
    os.execute("ln -s " .. q(target) .. " " .. q(path))
    local r = create(path, "--force")
    assert.equal(0, r.code, r.err)
    assert.equal("precious\n", slurp(target))
    assert.equal("regular file", h.file_type(path))
    assert.equal("600", h.file_mode(path))
    assert.matches("^kpat_%w+\n$", slurp(path))
    assert.equal("readable\nsecret\n", listing(dir), "no temporary left behind")
  end)

  it("--force over a symlink to a pipe with a reader: the link is replaced, the reader gets nothing", function()
    local fifo, path, got = dir .. "/pipe", dir .. "/secret", dir .. "/stolen"
    os.execute("mkfifo " .. q(fifo) .. "; ln -s " .. q(fifo) .. " " .. q(path))
    local stop = reader(fifo, got)
    local r = create(path, "--force")
    stop()
    assert.equal(0, r.code, r.err)
    no_secret(slurp(got), "the pipe")
    assert.equal("regular file", h.file_type(path))
    assert.equal("600", h.file_mode(path))
  end)

  it("the name swapped for a link during the API call: the secret never reaches the link's target", function()
    local target, path = dir .. "/readable", dir .. "/secret"
    spit(target, "precious\n")
    fake.fault { method = "POST", path = "/access%-tokens$", delay = 1 }
    -- another process swaps the name while the call is in flight
    os.execute("(sleep 0.3; rm -f " .. q(path) .. "; ln -s " .. q(target) .. " " .. q(path) .. ") >/dev/null 2>&1 &")
    local r = create(path)
    os.execute("sleep 0.2")
    assert.equal("precious\n", slurp(target))
    assert.equal("symbolic link", h.file_type(path))
    assert.equal(1, r.code, "a secret that did not reach PATH is not a success")
    assert.matches("revoke that token", r.err, 1, true)
    no_secret(r.err, "stderr")
    assert.equal("", r.out)
  end)

  it("the secret file is created before the API call: a failed call leaves nothing behind", function()
    local path = dir .. "/secret"
    fake.fault { method = "POST", path = "/access%-tokens$", status = 400 }
    local r = create(path)
    assert.equal(1, r.code)
    assert.equal("", listing(dir))
    -- and the file existed, empty and 0600, while the call was in flight
    fake.fault { method = "POST", path = "/access%-tokens$", delay = 0.8 }
    os.execute("(sleep 0.3; stat -c '%a %s %F' " .. q(path) .. " > " .. q(dir .. "/seen") .. ") 2>/dev/null &")
    r = create(path)
    assert.equal(0, r.code, r.err)
    os.execute("sleep 0.1")
    assert.equal("600 0 regular empty file\n", slurp(dir .. "/seen"))
  end)

  it("a bare file name (no directory part) is made in the working directory, 0600", function()
    local r = h.process({ "create", "--name", "filed", "--ttl", "1d", "--secret-file", "secret" }, { cwd = dir })
    assert.equal(0, r.code, r.err)
    assert.equal("regular file", h.file_type(dir .. "/secret"))
    assert.equal("600", h.file_mode(dir .. "/secret"))
    assert.matches("^kpat_%w+\n$", slurp(dir .. "/secret"))
    assert.equal("secret\n", listing(dir), "no temporary left behind")
    assert.equal(1, posts())
  end)

  it("a parent that is not a directory, or no permission: exit 2, no token minted", function()
    spit(dir .. "/file", "x")
    assert.equal(2, create(dir .. "/file/secret").code)
    assert.equal(2, create(dir .. "/file/secret", "--force").code)
    assert.equal(0, posts())
  end)

  describe("core.secret_file", function()
    it("refuses an existing name with EEXIST, a missing directory with ENOENT; abort removes what it made", function()
      local path = dir .. "/f"
      local sf = assert(core.secret_file(path, false))
      local again, msg, errno = core.secret_file(path, false)
      assert.is_nil(again)
      assert.is_string(msg)
      assert.equal("EEXIST", errno)
      assert.equal("ENOENT", select(3, core.secret_file(dir .. "/no/such", true)))
      assert.is_true(sf:abort())
      assert.is_nil(slurp(path))
      assert.is_true(sf:abort(), "idempotent")
      assert.is_true(sf:close())
    end)

    it("one dropped uncommitted is removed when collected (or, on Lua 5.4, when its <close> scope ends); " ..
      "a committed one stays", function()
      for _, replace in ipairs { false, true } do
        do
          assert(core.secret_file(dir .. "/gone", replace))
          assert.is_true(#listing(dir) > 0)
        end
        collectgarbage()
        collectgarbage()
        assert.equal("", listing(dir), tostring(replace))
        do
          local sf = assert(core.secret_file(dir .. "/kept", replace))
          assert.is_true(sf:commit("data\n"))
        end
        collectgarbage()
        collectgarbage()
        assert.equal("kept\n", listing(dir))
        os.remove(dir .. "/kept")
      end
      if _VERSION == "Lua 5.4" then
        local run = assert(load([[
          local core, path = ...
          local ok = pcall(function()
            local sf <close> = assert(core.secret_file(path, false))
            error("the API call failed")
          end)
          return ok
        ]]))
        assert.is_false(run(core, dir .. "/scoped"))
        assert.equal("", listing(dir))
      end
    end)

    it("commit writes, syncs and closes; abort after commit removes nothing; a closed file refuses", function()
      local path = dir .. "/f"
      local sf = assert(core.secret_file(path, true))
      assert.equal("", listing(dir):gsub("^%.f%.[%w_-]+\n$", ""), "one dot-temporary: " .. listing(dir))
      assert.is_true(sf:commit("data\n"))
      assert.equal("data\n", slurp(path))
      assert.is_true(sf:abort())
      assert.equal("data\n", slurp(path))
      local ok, _, errno = sf:commit("more")
      assert.is_nil(ok)
      assert.equal("EBADF", errno)
      assert.equal("f\n", listing(dir))
    end)

    it("looks a name right under / up in /, and a name under a one-letter directory in that directory", function()
      -- (names that exist already, so a wrong directory creates nothing anywhere)
      local sf, msg, errno = core.secret_file("/tmp", false)
      assert.is_nil(sf)
      assert.equal("cannot create the file: File exists", msg)
      assert.equal("EEXIST", errno)
      assert.equal("EISDIR", select(3, core.secret_file("/tmp", true)))
      -- relative to the working directory of a process of its own
      assert(os.execute("mkdir " .. q(dir .. "/d")))
      local script = dir .. "/one.lua"
      spit(script, [[
local core = require "konnect.core"
local sf = assert(core.secret_file("d/tmp", false))
assert(sf:commit("x\n"))
assert(sf:close())
io.write("done")
]])
      local p = io.popen("cd " .. q(dir) .. " && LUA_CPATH=" .. q(package.cpath) .. " " .. h.LUA .. " "
        .. q(script) .. " 2>&1")
      local out = p:read("*a")
      p:close()
      assert.equal("done", out)
      assert.equal("x\n", slurp(dir .. "/d/tmp"))
    end)

    it("a write the system refuses (file size limit: EFBIG) fails the commit; abort leaves nothing", function()
      -- a process of its own under `ulimit -f 0` with SIGXFSZ ignored, so write(2) fails with EFBIG
      -- (setrlimit(2): RLIMIT_FSIZE), as a full disk (ENOSPC) or a quota (EDQUOT) would fail it
      local script = dir .. "/big.lua"
      spit(script, [[
local core = require "konnect.core"
for _, replace in ipairs { true, false } do
  local sf = assert(core.secret_file(arg[1], replace))
  local ok, msg, errno = sf:commit("data\n")
  io.write(tostring(ok), " ", tostring(msg), " ", tostring(errno), "\n")
  assert(sf:abort())
end
]])
      local p = io.popen("cd " .. q(dir) .. " && trap '' XFSZ && ulimit -f 0 && LUA_CPATH=" .. q(package.cpath)
        .. " " .. h.LUA .. " " .. q(script) .. " " .. q(dir .. "/secret") .. " 2>&1")
      local out = p:read("*a")
      p:close()
      assert.equal(("nil cannot write the file: File too large EFBIG\n"):rep(2), out)
      assert.equal("big.lua\n", listing(dir), "no file, no temporary left behind")
    end)

    it("a program started while secret files are open inherits none of their descriptors", function()
      local held = { assert(core.secret_file(dir .. "/r", true)), assert(core.secret_file(dir .. "/n", false)) }
      local rp = io.popen("readlink -f " .. q(dir))
      local real = rp:read("*l")
      rp:close()
      local p = io.popen("ls -l /proc/self/fd/ 2>&1")   -- the descriptors `ls` itself was started with
      local fds = p:read("*a")
      p:close()
      assert.matches("/proc/%d+/fd", fds, 1, false) -- (ls -l shows a link's target; the listing is real)
      assert.is_nil(fds:find(real, 1, true), fds)
      for _, sf in ipairs(held) do assert(sf:abort()) end
    end)

    it("refuses an empty path and a path with a NUL byte (EINVAL) and creates nothing", function()
      for _, path in ipairs { "", dir .. "/f\0", dir .. "/f\0x", "\0" .. dir .. "/f" } do
        local sf, msg, errno = core.secret_file(path, true)
        assert.is_nil(sf, path)
        assert.equal("secret_file: empty path or NUL byte in path: Invalid argument", msg, path)
        assert.equal("EINVAL", errno, path)
      end
      assert.equal("", listing(dir), "no temporary left behind")
    end)

    it("a secret file dropped without close is closed by the garbage collector (no descriptor kept)", function()
      -- this process's descriptors on the test's directory or a file in it (the shell's parent is
      -- this interpreter); others (a connection an earlier spec left to the collector) do not count
      local function open_fds()
        local p = io.popen("find /proc/$PPID/fd -lname " .. q(dir) .. " -o -lname " .. q(dir .. "/*") ..
          " 2>/dev/null | wc -l")
        local n = tonumber(p:read("*a"))
        p:close()
        return n
      end
      collectgarbage()
      collectgarbage()
      local before = open_fds()
      -- opened and counted in a function of their own: held until all are counted (a collection
      -- in the loop must not close one early), and after it returns no register of this
      -- function still refers to one (Lua 5.1 marks a running function's dead registers too)
      local function open_and_count()
        local held = {}
        for i = 1, 8 do held[i] = assert(core.secret_file(dir .. "/dropped" .. i, i % 2 == 0)) end
        return open_fds() - before, #held
      end
      local opened, n = open_and_count()
      assert.is_true(opened >= 2 * n, "each holds the file and its directory open")
      collectgarbage()
      collectgarbage()
      local after = open_fds()
      assert.equal(0, before, "none on the directory before")
      assert.equal(0, after, "descriptors on the directory or its files still open")
    end)

    it("made with standard input closed (a daemon), its directory on descriptor 0 is closed with it", function()
      -- in a process of its own: fd 0 closed, so open() hands the directory descriptor 0
      local script = dir .. "/fd0.lua"
      spit(script, [[
local core = require "konnect.core"
local function fd0() -- what descriptor 0 of this process is now
  local p = io.popen("readlink /proc/$PPID/fd/0")
  local s = p:read("*l")
  p:close()
  return s
end
local sf = assert(core.secret_file(arg[1], true))
local during = fd0()
assert(sf:abort())
assert(sf:close())
io.write(during, "\n", tostring(fd0()), "\n")
]])
      local p = io.popen("cd " .. q(dir) .. " && LUA_CPATH=" .. q(package.cpath) .. " " .. h.LUA .. " " ..
        q(script) .. " " .. q(dir .. "/f") .. " <&- 2>&1")
      local during, after = p:read("*l"), p:read("*l")
      p:close()
      local rp = io.popen("readlink -f " .. q(dir))
      local real = rp:read("*l")
      rp:close()
      assert.equal(real, during, "the directory is descriptor 0 while the file is open")
      assert.is_truthy(after)
      assert.are_not.equal(real, after, "descriptor 0 is closed with the file")
    end)

    it("two temporaries for the same path get different, unpredictable names", function()
      local a = assert(core.secret_file(dir .. "/f", true))
      local b = assert(core.secret_file(dir .. "/f", true))
      local names = {}
      for n in listing(dir):gmatch("[^\n]+") do names[#names + 1] = n end
      assert.equal(2, #names)
      assert.are_not.equal(names[1], names[2])
      for _, n in ipairs(names) do assert.matches("^%.f%.[%w_-]+$", n) assert.is_true(#n >= 3 + 16) end
      a:abort()
      b:abort()
      assert.equal("", listing(dir))
    end)
  end)

  describe("--token-file permissions", function()
    local function token_file(name, mode)
      local path = dir .. "/" .. name
      spit(path, fake.ALICE_TOKEN .. "\n")
      os.execute("chmod " .. mode .. " " .. q(path))
      return path
    end

    it("readable by others or by the group: one warning line with the chmod that fixes it; the command runs", function()
      for _, c in ipairs { { "644", "others" }, { "604", "others" }, { "640", "its group" }, { "664", "others" },
                         { "643", "its group" } } do -- others may write, not read
        local path = token_file("token" .. c[1], c[1])
        local r = cli({ "whoami", "--json", "--token-file", path }, { env = { KONNECT_TOKEN = false } })
        assert.equal(0, r.code, r.err)
        assert.equal(ALICE, require("cjson").decode(r.out).id)
        -- with --json the warning is a JSON object of its own
        local w = require("cjson").decode(r.err)
        assert.matches("can be read by " .. c[2] .. " (mode 0" .. c[1] .. "); chmod 600 " .. path .. " fixes it",
          w.warning, 1, true)
        r = cli({ "whoami", "--token-file", path }, { env = { KONNECT_TOKEN = false } })
        assert.equal(0, r.code)
        assert.equal(1, select(2, r.err:gsub("\n", "")), "one line: " .. r.err)
        assert.matches("^konnect%-pats: warning: the token file ", r.err)
        assert.matches("chmod 600 " .. path, r.err, 1, true)
        no_secret(r.err, "the warning")
      end
    end)

    it("the mode is read as all three digits: a file only others may read (0004) is readable by others", function()
      local file_mode = require("konnect.cli.args").file_mode
      for _, mode in ipairs { "004", "040", "000", "600", "644", "750" } do
        local path = token_file("m" .. mode, mode)
        assert.equal(mode, file_mode(path))
      end
      local path = token_file("only-others", "004")
      if h.sh("test -r " .. q(path)) == 0 then -- as root: the file reads, so the warning shows
        local r = cli({ "whoami", "--token-file", path }, { env = { KONNECT_TOKEN = false } })
        assert.equal(0, r.code, r.err)
        assert.matches("can be read by others (mode 0004); chmod 600 " .. path .. " fixes it", r.err, 1, true)
      end
    end)

    it("a private file (0600, 0400, or group/others with write or execute but no read): no warning", function()
      for _, mode in ipairs { "600", "400", "630", "603", "620", "622" } do
        local path = token_file("private" .. mode, mode)
        local r = cli({ "whoami", "--token-file", path }, { env = { KONNECT_TOKEN = false } })
        assert.equal(0, r.code)
        assert.equal("", r.err)
      end
    end)

    it("the chmod line is quoted for the shell, and a link is judged by its target", function()
      local path = token_file("my token's file", "644")
      local r = cli({ "whoami", "--token-file", path }, { env = { KONNECT_TOKEN = false } })
      assert.equal(0, r.code)
      local cmd = r.err:match("; (chmod 600 .-) fixes it\n$")
      assert.equal("chmod 600 '" .. dir .. "/my token'\\''s file'", cmd)
      assert.equal(0, h.sh(cmd))
      assert.equal("600", h.file_mode(path))
      -- a name of the shell's plain characters (letters, digits, . / _ - + = : , @) stays as it is
      local plain = token_file("ci-token_v2.1+a=b:c,d@e", "644")
      r = cli({ "whoami", "--token-file", plain }, { env = { KONNECT_TOKEN = false } })
      assert.equal("chmod 600 " .. plain, r.err:match("; (chmod 600 .-) fixes it\n$"))
      os.execute("ln -s " .. q(path) .. " " .. q(dir .. "/link"))
      assert.equal("", cli({ "whoami", "--token-file", dir .. "/link" }, { env = { KONNECT_TOKEN = false } }).err)
    end)
  end)

  describe("two users", function()
    it("root and nobody in shared sticky (1777) and non-sticky (0777) directories: spec/cli/two_users.sh", function()
      local p = io.popen("id -u")
      local uid = p:read("*l")
      p:close()
      if uid ~= "0" then
        pending("needs root (to act as a second user with su/setpriv): run spec/cli/two_users.sh as root")
        return
      end
      local log = dir .. "/two_users.log"
      -- the slow case (10000 links planted at the old predictable names) once per run, under lua5.4
      local predictable = h.LUA == "lua5.4" and "1" or "0"
      local code = h.sh("KONNECT_TWO_USERS_PREDICTABLE=" .. predictable .. " KONNECT_TEST_LUA=" .. h.LUA ..
        " bash " .. q(h.ROOT .. "/spec/cli/two_users.sh") .. " > " .. q(log) .. " 2>&1")
      local out = slurp(log) or ""
      no_secret(out, "the script's output")
      assert.equal(0, code, out)
      assert.matches("two users: %d+ passed, 0 failed", out)
    end)
  end)
end)

describe("core.file_mode (the --token-file permission check, no shell)", function()
  it("gives the permission bits, following links; nil, message, errno name when there is no file", function()
    local dir = h.tmpdir()
    local path = dir .. "/token"
    spit(path, "x\n")
    os.execute("chmod 640 " .. q(path) .. " && ln -s token " .. q(dir .. "/link"))
    assert.equal(tonumber("640", 8), core.file_mode(path))
    assert.equal(tonumber("640", 8), core.file_mode(dir .. "/link"))
    local m, msg, errno = core.file_mode(dir .. "/missing")
    assert.is_nil(m)
    assert.is_string(msg)
    assert.equal("ENOENT", errno)
    os.execute("rm -rf " .. q(dir))
  end)

  it("refuses an empty path and one with a NUL byte (the file before the NUL is not the one asked for)", function()
    local dir = h.tmpdir()
    spit(dir .. "/token", "x\n")
    for _, path in ipairs { "", dir .. "/token\0.bak", "\0" } do
      local m, msg, errno = core.file_mode(path)
      assert.is_nil(m, ("%q"):format(path))
      assert.is_string(msg)
      assert.equal("EINVAL", errno, ("%q"):format(path))
    end
    os.execute("rm -rf " .. q(dir))
  end)
end)
