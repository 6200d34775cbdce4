-- konnect.core's secret file (csrc/fs.c): behaviour the mutation run
-- (scripts/mutate.sh) found untested.  Each test kills a mutant of
-- scripts/mutants.lua that survived every other suite (named in the test).
-- Real files and real system calls; where the system must misbehave, an LD_PRELOAD
-- shim in a child interpreter makes fsync(2) fail with EIO, hides getrandom(2)
-- (ENOSYS), ends or fails reads of /dev/urandom, or swaps a file onto a name right
-- after a rename.
local core = require "konnect.core"
local hostile = require "support.hostile"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local proc = require "support.proc"
local read_cmd, slurp = proc.read_cmd, proc.read_file

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local SHIM = [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
/* KC_FAIL_FSYNC=file|dir: fsync of a regular file / a directory fails with EIO */
int fsync(int fd) {
  const char *f = getenv("KC_FAIL_FSYNC");
  struct stat st;
  if (f && fstat(fd, &st) == 0 &&
      ((strstr(f, "file") && S_ISREG(st.st_mode)) || (strstr(f, "dir") && S_ISDIR(st.st_mode)))) {
    errno = EIO;
    return -1;
  }
  return ((int (*)(int))dlsym(RTLD_NEXT, "fsync"))(fd);
}
/* KC_NO_GETRANDOM=1: the getrandom system call is missing (ENOSYS: a kernel before 3.17,
 * or a seccomp filter); the other calls go through (syscall(2) takes at most 6 arguments) */
long syscall(long n, ...) {
  va_list ap;
  long a[6];
  int i;
  va_start(ap, n);
  for (i = 0; i < 6; i++)
    a[i] = va_arg(ap, long);
  va_end(ap);
  if (n == SYS_getrandom && getenv("KC_NO_GETRANDOM")) {
    errno = ENOSYS;
    return -1;
  }
  return ((long (*)(long, ...))dlsym(RTLD_NEXT, "syscall"))(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
/* KC_URANDOM=eof|eio: a read of /dev/urandom gets end of file / fails with EIO */
ssize_t read(int fd, void *buf, size_t n) {
  const char *u = getenv("KC_URANDOM");
  char link[64], target[64];
  ssize_t len;
  if (u) {
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    len = readlink(link, target, sizeof target - 1);
    if (len > 0) {
      target[len] = '\0';
      if (strcmp(target, "/dev/urandom") == 0) {
        if (strcmp(u, "eof") == 0)
          return 0;
        errno = EIO;
        return -1;
      }
    }
  }
  return ((ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read"))(fd, buf, n);
}
/* KC_SWAP_AFTER_RENAME=path: right after a rename succeeds, another process's file (path)
 * takes the new name (what a swap between the rename and the check after it does) */
int renameat(int od, const char *o, int nd, const char *nw) {
  int (*real)(int, const char *, int, const char *) =
    (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
  const char *other = getenv("KC_SWAP_AFTER_RENAME");
  int r = real(od, o, nd, nw);
  if (r == 0 && other)
    real(AT_FDCWD, other, nd, nw);
  return r;
}
]]

local CHILD = [[
local core = require "konnect.core"
local path, replace = arg[1], arg[2] == "replace"
local sf, _, errno = core.secret_file(path, replace)
if not sf then io.write("open failed ", tostring(errno)) return end
local ok, msg, e = sf:commit("data\n")
io.write(ok and "committed" or ("failed " .. tostring(e) .. ": " .. tostring(msg)))
]]

describe("mutants (core.secret_file)", function()
  local dir, shim, child

  setup(function()
    dir = read_cmd("mktemp -d /tmp/konnect-mutants.XXXXXX")
    assert(dir:match("^/tmp/konnect%-mutants"), "mktemp failed")
    spit(dir .. "/shim.c", SHIM)
    shim = dir .. "/shim.so"
    assert(os.execute("cc -shared -fPIC -o " .. q(shim) .. " " .. q(dir .. "/shim.c") .. " -ldl"),
      "cannot compile the LD_PRELOAD shim")
    child = dir .. "/child.lua"
    spit(child, CHILD)
  end)

  teardown(function()
    if dir then os.execute("rm -rf " .. q(dir)) end
  end)

  -- commit in a child whose fsync fails for `what` ("file" or "dir")
  local function commit_failing(what, path, replace)
    return read_cmd(("KC_FAIL_FSYNC=%s LD_PRELOAD=%s LUA_PATH=%s LUA_CPATH=%s %s %s %s %s 2>&1"):format(
      what, q(shim), q(package.path), q(package.cpath), q(hostile.interpreter()), q(child), q(path),
      replace and "replace" or "new"))
  end

  -- run CODE in a child interpreter under the shim with ENV ("NAME=value …"); its output.
  -- `timeout`: a child that loops (the mutant of a retry loop) ends as a failure, not a hang.
  local function shimmed(env, code)
    local script = dir .. "/code.lua"
    spit(script, code)
    return read_cmd(("%s LD_PRELOAD=%s LUA_PATH=%s LUA_CPATH=%s timeout 20 %s %s 2>&1"):format(
      env, q(shim), q(package.path), q(package.cpath), q(hostile.interpreter()), q(script)))
  end

  -- mutant 69: the data's fsync removed
  it("a secret the disk could not store durably is not reported as stored (fsync of the file fails)", function()
    local path = dir .. "/new-secret"
    assert.equal("failed EIO: cannot sync the file: Input/output error", commit_failing("file", path, false))
    path = dir .. "/replaced-secret"
    spit(path, "old\n")
    assert.equal("failed EIO: cannot sync the file: Input/output error", commit_failing("file", path, true))
    assert.equal("old\n", slurp(path), "the target was replaced by data that was never synced")
  end)

  -- mutant 81: the directory's fsync (after the rename) removed
  it("--force: a rename the disk could not store durably is not reported as done (fsync of the directory fails)",
    function()
    local path = dir .. "/forced-secret"
    spit(path, "old\n")
    assert.equal("failed EIO: cannot sync the directory: Input/output error", commit_failing("dir", path, true))
  end)

  it("with a disk that works, the same child commits (the shim changes nothing else)", function()
    local path = dir .. "/fine"
    assert.equal("committed", commit_failing("nothing", path, true))
    assert.equal("data\n", slurp(path))
  end)

  -- make mutate, seed 41002: the temporary's name left without its terminator
  it("a temporary is named '.<name>.' and its random part, nothing more (no bytes of memory before it)", function()
    local lengths = {}
    for i = 1, 24 do
      -- an object for a longer name first, collected: its memory may serve the next one
      local long = assert(core.secret_file(dir .. "/" .. ("L"):rep(2 + i % 6), true))
      long:abort()
      long:close()
      long = nil -- luacheck: ignore 311
      collectgarbage()
      collectgarbage()
      local sf = assert(core.secret_file(dir .. "/f", true))
      local names = {}
      for n in read_cmd("ls -A " .. q(dir)):gmatch("[^\n]+") do
        if n:sub(1, 3) == ".f." then names[#names + 1] = n end
      end
      sf:abort()
      sf:close()
      assert.equal(1, #names)
      assert.matches("^%.f%.[%w_-]+$", names[1])
      lengths[#names[1]] = true
    end
    local n = 0
    for _ in pairs(lengths) do n = n + 1 end
    assert.equal(1, n, "every temporary's name has the same length")
  end)

  -- mutant 72: abort unlinking whatever has the name by then
  it("abort never removes a file it did not create (the name was swapped meanwhile)", function()
    for _, replace in ipairs { false, true } do
      local path = dir .. "/swapped-" .. tostring(replace)
      local sf = assert(core.secret_file(path, replace))
      local name = path
      if replace then -- the temporary it made: .swapped-true.<random>
        for n in read_cmd("ls -A " .. q(dir)):gmatch("[^\n]+") do
          if n:sub(1, 14) == ".swapped-true." then name = dir .. "/" .. n end
        end
        assert.are_not.equal(path, name, "no temporary found")
      end
      assert(os.rename(name, name .. ".moved"))
      spit(name, "someone else's\n")
      assert.is_true(sf:abort())
      assert.equal("someone else's\n", slurp(name), "abort removed a file it did not create")
      os.remove(name)
      os.remove(name .. ".moved")
    end
  end)

  it("without the getrandom system call, temporary names still come from /dev/urandom; "
     .. "with /dev/urandom at its end or failing, no temporary is made (EIO), never a predictable name", function()
    local code = ([[
      local core = require "konnect.core"
      local a, _, e1 = core.secret_file(%q, true)
      local b, msg, e2 = core.secret_file(%q, true)
      local names = {}
      for n in io.popen("ls -A " .. %q):lines() do names[#names + 1] = n end
      io.write(a and "made" or tostring(e1), " ", b and "made" or (tostring(e2) .. ": " .. msg), " ",
        table.concat(names, " "))
      if a then a:abort() end
      if b then b:abort() end
    ]]):format(dir .. "/rnd/f", dir .. "/rnd/f", dir .. "/rnd")
    assert(os.execute("mkdir -p " .. q(dir .. "/rnd")))
    local out = shimmed("KC_NO_GETRANDOM=1", code)
    local n1, n2 = out:match("^made made (%.f%.[%w_-]+) (%.f%.[%w_-]+)$")
    assert.is_truthy(n1, out)
    assert.are_not.equal(n1, n2)
    -- LuaJIT seeds its own PRNG from getrandom or /dev/urandom when it creates a state
    -- (lj_prng_seed_secure, src/lj_prng.c) and cannot start without them: that half runs on
    -- the PUC interpreters only
    if not jit then
      for _, how in ipairs { "eof", "eio" } do
        assert.equal("EIO EIO: no random bytes for a temporary name: Input/output error",
          shimmed("KC_NO_GETRANDOM=1 KC_URANDOM=" .. how, code), how)
      end
    end
    assert.equal("", read_cmd("ls -A " .. q(dir .. "/rnd")), "a temporary was left")
  end)

  it("--force: a name taken by another file right after the rename fails the commit (EEXIST), "
     .. "then the file refuses a second commit (EBADF) and abort leaves the other file", function()
    local path, other = dir .. "/raced", dir .. "/other"
    spit(path, "old\n")
    spit(other, "someone else's\n")
    local out = shimmed("KC_SWAP_AFTER_RENAME=" .. q(other), ([[
      local core = require "konnect.core"
      local sf = assert(core.secret_file(%q, true))
      local ok, msg, e = sf:commit("data\n")
      local ok2, _, e2 = sf:commit("again\n")
      io.write(tostring(ok), " ", tostring(e), ": ", msg, " / ", tostring(ok2), " ", tostring(e2), " / ",
        tostring(sf:abort()))
    ]]):format(path))
    assert.equal("nil EEXIST: the file was replaced by someone else before the secret was written: File exists"
      .. " / nil EBADF / true", out)
    assert.equal("someone else's\n", slurp(path))
  end)
end)

describe("mutants (konnect.core messages)", function()
  -- mutant 63: the proxy's userinfo left in a message libcurl wrote
  it("a proxy's credentials never reach a message, even one where libcurl quotes the proxy string; "
     .. "the rest of the proxy string stays", function()
    for _, proxy in ipairs { "foo://proxyuser:s3cr3t-pw@127.0.0.1:1", "http://proxyuser:s3cr3t-pw@127.0.0.1:99999",
                             "http://proxyuser:s3cr3t-pw@bad host:1" } do
      local c = assert(core.new { proxy = proxy, timeout = 2, connect_timeout = 1 })
      local res, terr = c:request("GET", "http://127.0.0.1:9/x", {})
      c:close()
      assert.is_nil(res)
      assert.is_nil(terr.message:find("s3cr3t", 1, true), "the password is in the message")
      assert.is_nil(terr.message:find("proxyuser", 1, true), "the user name is in the message")
      -- only the userinfo is masked: the scheme, host and port still say which proxy
      local masked = proxy:gsub("//[^@]*@", "//***@")
      assert.truthy(terr.message:find("'" .. masked .. "'", 1, true), terr.message)
    end
  end)
end)
