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

--- cli(args, { env = { NAME = value | false }, tty = { stdin = bool, stdout = bool }, input = "...",
--- on_read = function(n) }) -> { code =, out =, err =, reads = n }, in-process.
-- KONNECT_TOKEN (alice) and KONNECT_SERVER_URL (the fake, plain HTTP) are set
-- unless env overrides them (false unsets); no other variable is visible.
-- tty: which streams konnect.cli is told are terminals (none by default);
-- input: the lines its stdin holds (reads: how many lines it asked for;
-- on_read(n) runs before the n-th is handed over).
-- For the real thing, a pseudo-terminal: pty() below.
local function cli(args, o)
  local env = environment(o)
  local outb, errb = {}, {}
  local stdout = { write = function(self, ...) for _, s in ipairs { ... } do outb[#outb + 1] = s end return self end }
  local stderr = { write = function(self, ...) for _, s in ipairs { ... } do errb[#errb + 1] = s end return self end }
  local lines, reads = {}, 0
  for l in ((o and o.input) or ""):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local stdin = { read = function()
    reads = reads + 1
    if o and o.on_read then o.on_read(reads) end
    return table.remove(lines, 1)
  end }
  local tty = o and o.tty or {}
  local argv = {}
  for i, a in ipairs(args) do argv[i] = a end
  local code = cli_module.main(argv, {
    stdout = stdout, stderr = stderr, stdin = stdin,
    getenv = function(k) return env[k] or nil end,
    isatty = function(which) return tty[which] == true end,
  })
  return { code = code, out = table.concat(outb), err = table.concat(errb), reads = reads }
end

-- the shell command that runs bin/konnect-pats with args in environment(o);
-- exec: the shell becomes the program, so its status is the program's own (a
-- shell waiting in the terminal's process group would otherwise die of the
-- same Ctrl-C after the program exits, and report 130 whatever it returned:
-- Debian's dash does: a test that read 130 passed with the CLI returning 129)
local function command_line(args, o, exec)
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
  return "cd " .. q(o and o.cwd or ROOT) .. " && " .. (exec and "exec " or "") .. table.concat(parts, " ")
end

--- process(args, { env =, cwd =, input = }) -> { code =, out =, err = }: bin/konnect-pats as a
--- process; stdin: a pipe carrying input, or /dev/null.
local function process(args, o)
  o = o or {}
  local outf, errf, inf = os.tmpname(), os.tmpname(), os.tmpname()
  spit(inf, o.input or "")
  local code = sh(command_line(args, o) .. " > " .. outf .. " 2> " .. errf ..
    (o.input and (" < " .. inf) or " < /dev/null"))
  local r = { code = code, out = slurp(outf), err = slurp(errf) }
  for _, f in ipairs { outf, errf, inf } do os.remove(f) end
  return r
end

--- pty(args, { env =, input =, after_prompt =, stderr_tty = }) -> { code =, out =, err = }:
--- bin/konnect-pats as a process whose stdin and stdout are a pseudo-terminal, its
--- stderr a file (stderr_tty: its stdin and stderr the terminal, its stdout a file;
--- then err is what the terminal showed, out the file).  The terminal is util-linux's script(1) (bsdutils, Essential in
--- Debian: on every Debian 12), which runs the command in a new session on a new pty,
--- copies its own stdin to the terminal and the terminal's output to its stdout.
--- What is typed: input at once, or after_prompt once stderr shows a "[y/N]" question
--- (waited for up to 20 s), then the end of input.  out is what the terminal showed:
--- stdout, and the input as the terminal echoed it, with "\r\n" line ends (the
--- terminal's onlcr) made "\n".
local function pty(args, o)
  o = o or {}
  local outf, errf, inf = os.tmpname(), os.tmpname(), os.tmpname()
  spit(inf, o.input or o.after_prompt or "")
  local feed = "cat " .. q(inf)
  if o.after_prompt then
    feed = "i=0; while ! grep -qF '[y/N]' " .. q(errf) .. " && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; " ..
      feed
  end
  if o.stderr_tty then
    local inner = command_line(args, o, true) .. " > " .. q(outf)
    local code = sh("(" .. feed .. ") | SHELL=/bin/sh script -qec " .. q(inner) .. " /dev/null > " .. q(errf))
    local r = { code = code, out = slurp(outf), err = (slurp(errf) or ""):gsub("\r\n", "\n") }
    for _, f in ipairs { outf, errf, inf } do os.remove(f) end
    return r
  end
  local inner = command_line(args, o, true) .. " 2> " .. q(errf)
  local code = sh("(" .. feed .. ") | SHELL=/bin/sh script -qec " .. q(inner) .. " /dev/null > " .. q(outf))
  local r = { code = code, out = (slurp(outf) or ""):gsub("\r\n", "\n"), err = slurp(errf) }
  for _, f in ipairs { outf, errf, inf } do os.remove(f) end
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
  pty = pty,
  file_mode = file_mode, file_type = file_type, tmpdir = tmpdir, per_test = per_test,
}
