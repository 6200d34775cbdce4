-- Test support for the CLI specs: run konnect.cli in-process or
-- bin/konnect-pats as a process against the fake Konnect server, and a few
-- file helpers.
local fake = require "support.fake"
local cli_module = require "konnect.cli"

local LUA = os.getenv("KONNECT_TEST_LUA") or "lua5.4"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local slurp = require("support.proc").read_file

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local ROOT
do
  local src = debug.getinfo(1, "S").source:sub(2)
  local dir = (src:match("^(.*)/[^/]*$") or ".") .. "/.."
  if dir:sub(1, 1) ~= "/" then
    local p = io.popen("pwd")
    dir = p:read("*l") .. "/" .. dir
    p:close()
  end
  ROOT = dir .. "/.."
end
-- KONNECT_TEST_CLI=/path/to/konnect-pats runs every test through that program
-- as a process instead (to check that the tests fail on an older CLI).
local CLI = os.getenv("KONNECT_TEST_CLI") or ROOT .. "/bin/konnect-pats"

local function sh(cmd)
  local codef = os.tmpname()
  os.execute(cmd .. "; echo $? > " .. codef)
  local code = tonumber(slurp(codef))
  os.remove(codef)
  return code
end

local function environment(o)
  local env = { KONNECT_TOKEN = fake.ALICE_TOKEN, KONNECT_SERVER_URL = fake.http }
  for k, v in pairs(o and o.env or {}) do env[k] = v end
  return env
end

--- cli(args, { env = { NAME = value | false } }) -> { code =, out =, err = }, in-process.
-- KONNECT_TOKEN (alice) and KONNECT_SERVER_URL (the fake, plain HTTP) are set
-- unless env overrides them (false unsets); no other variable is visible.
local function cli(args, o)
  local env = environment(o)
  local outb, errb = {}, {}
  local stdout = { write = function(self, ...) for _, s in ipairs { ... } do outb[#outb + 1] = s end return self end }
  local stderr = { write = function(self, ...) for _, s in ipairs { ... } do errb[#errb + 1] = s end return self end }
  local argv = {}
  for i, a in ipairs(args) do argv[i] = a end
  local code = cli_module.main(argv, {
    stdout = stdout, stderr = stderr,
    getenv = function(k) return env[k] or nil end,
  })
  return { code = code, out = table.concat(outb), err = table.concat(errb) }
end

--- process(args, { env =, cwd = }) -> { code =, out =, err = }: bin/konnect-pats as a process.
local function process(args, o)
  o = o or {}
  local env = environment(o)
  local parts = { "env -u KONNECT_TOKEN -u KONNECT_SERVER_URL -u KONNECT_CA_FILE" }
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    if env[k] then parts[#parts + 1] = k .. "=" .. q(env[k]) else parts[1] = parts[1] .. " -u " .. k end
  end
  parts[#parts + 1] = LUA .. " " .. q(CLI)
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local outf, errf = os.tmpname(), os.tmpname()
  local code = sh("cd " .. q(o.cwd or ROOT) .. " && " .. table.concat(parts, " ") ..
    " > " .. outf .. " 2> " .. errf .. " < /dev/null")
  local r = { code = code, out = slurp(outf), err = slurp(errf) }
  os.remove(outf)
  os.remove(errf)
  return r
end

-- stat -c FORMAT of path (no lstat follows), or nil
local function stat(format, path)
  local p = io.popen("stat -c " .. format .. " " .. q(path) .. " 2>/dev/null")
  local m = p:read("*l")
  p:close()
  return m
end

--- file_mode(path) -> "600", … or nil
local function file_mode(path) return stat("%a", path) end

--- file_type(path) -> "regular file", "symbolic link", "fifo", "directory", … or nil (no lstat follows)
local function file_type(path) return stat("%F", path) end

local function tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("*l")
  p:close()
  return d
end

if os.getenv("KONNECT_TEST_CLI") then cli = process end

-- per_test(before_each, after_each, set): every test starts from a reset fake
-- server, with a fresh client for alice and a temporary directory (removed
-- after it): set(client, dir).  busted's hooks are passed in: a support module
-- does not see the spec's environment.
local function per_test(before_each, after_each, set)
  local dir
  before_each(function()
    fake.reset()
    local client = fake.client()
    dir = tmpdir()
    set(client, dir)
  end)
  after_each(function()
    os.execute("rm -rf " .. q(dir))
  end)
end

return {
  LUA = LUA, ROOT = ROOT, CLI = CLI, q = q, slurp = slurp, spit = spit, sh = sh, cli = cli, process = process,
  file_mode = file_mode, file_type = file_type, tmpdir = tmpdir, per_test = per_test,
}
