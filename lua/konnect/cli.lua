-- konnect.cli: the konnect-pats command line as a module.
--
--   cli.main(argv, env) -> exit status
--
-- argv is the argument vector (without the program name).  env, optional:
--   stdout, stderr  objects with :write(...) (default io.stdout, io.stderr)
--   stdin           an object with :read("*l"), for the answer to a question
--                   (default io.stdin)
--   getenv          function(name) -> string|nil (default os.getenv)
--   isatty          function("stdin"|"stdout"|"stderr") -> boolean: whether
--                   that stream is a terminal (default: the process's own
--                   streams are asked, konnect.cli.terminal; a stream passed
--                   in env is none)
-- main never raises and never exits: an unexpected Lua error becomes one line
-- on stderr and status 1 (Ctrl-C, the interpreter's "interrupted!": 130).
-- bin/konnect-pats is the stub that calls it.
--
-- Every string printed goes through konnect.redact with the access token in
-- use; only the new secret a user asked for is written unredacted
-- (konnect.cli.secret: stdout, alone or as -o env's export line, or the
-- --secret-file made by konnect.core's secret_file before the API call).
-- With --json, stdout carries one JSON document (README.md, "Command line",
-- lists each command's shape: an array for a command that lists tokens,
-- users or system accounts, the object for one that shows, makes or deletes
-- one, audit's report) and stderr JSON objects
-- only, one a line: an error is one object (kind, always one of
-- errors.KINDS; status, message, trace_id, request_id); a warning
-- {"warning": ...}; a --verbose line {"log": ...}; delete's and prune's
-- question on a terminal {"prompt": ..., "tokens": [...]}.

local pats = require "konnect.pats"
local json = require "konnect.json"
local limits = require "konnect.limits"
local render = require "konnect.cli.render"
local args_ = require "konnect.cli.args"
local options = require "konnect.cli.options"
local commands = require "konnect.cli.commands"
local check = require "konnect.cli.check"

local type, ipairs, tostring, pcall, xpcall, error =
  type, ipairs, tostring, pcall, xpcall, error
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local format, concat = string.format, table.concat

local clean = render.clean
local PROG, COMMANDS = "konnect-pats", options.COMMANDS

-- help texts only when printed
local function help() return require "konnect.cli.help" end

local _M = { _VERSION = limits.VERSION }

-- Exit statuses (documented in --help); audit's 5, the report is incomplete,
-- is konnect.cli.audit's.
local EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_NET, EXIT_AUTH = 0, 1, 2, 3, 4
local EXIT_INTERRUPTED = 130 -- 128 + SIGINT, as a shell reports a process Ctrl-C killed
local EXIT_FOR_KIND = {
  invalid_argument = EXIT_USAGE,
  unauthorized = EXIT_AUTH, forbidden = EXIT_AUTH,
  timeout = EXIT_NET, connect = EXIT_NET, tls = EXIT_NET, network = EXIT_NET,
  too_large = EXIT_NET, decode = EXIT_NET, system = EXIT_NET,
}
_M.EXIT_FOR_KIND = EXIT_FOR_KIND

-- Every printed string goes through the library's one redaction function.
local redact_string = require("konnect.redact").string

-- A controlled early exit (usage errors and the like): raised as this table's
-- instances inside main, caught there, never seen by a caller.
local EXIT = {}

---------------------------------------------------------------------------
-- one run's state and output

local function writer(st, w)
  return function(...)
    local s = concat({ ... })
    local ok, r = pcall(redact_string, s, st.token)
    w:write(ok and type(r) == "string" and r or "[output withheld: redaction failed]")
  end
end

local function exit_code(err)
  return type(err) == "table" and (err.exit or EXIT_FOR_KIND[err.kind]) or EXIT_API
end

-- Report an error without leaving: the text line (render.error_line), or with
-- --json one object (render.error_object: kind, status, message, trace_id,
-- request_id and extra's fields).  err: a library error, or one the CLI made
-- (konnect.cli.args.err: a kind of errors.KINDS, a message, usage = true for a
-- usage error).
local function report(st, err, extra)
  if st.json then
    st.err(json.encode_sorted(render.error_object(err, extra, json.null)), "\n")
    return
  end
  st.err(render.error_line(err), "\n")
end

local function die(st, err, extra)
  report(st, err, extra)
  error(setmetatable({ code = exit_code(err) }, EXIT), 0)
end

-- a CLI-made error: fail(st, exit status, kind, message[, extra])
local function fail(st, code, kind, message, extra)
  die(st, args_.err(kind, message, { exit = code }), extra)
end

local function usage_error(st, msg, cmd)
  die(st, args_.usage(msg, cmd or st.command or ""))
end

-- v, or its usage error (from konnect.cli.args) reported, exit 2
local function or_usage(st, v, err)
  if v == nil then die(st, err) end
  return v
end

-- isatty(which) for env: env.isatty, or the process's own stdin and stdout
-- asked (a stream passed in env is not a terminal)
local function terminal_test(env, stdin, stdout, stderr)
  if type(env.isatty) == "function" then
    return function(which) return env.isatty(which) == true end
  end
  local fds = { stdin = stdin == io.stdin and 0 or nil, stdout = stdout == io.stdout and 1 or nil,
                stderr = stderr == io.stderr and 2 or nil }
  return function(which)
    return fds[which] ~= nil and require("konnect.cli.terminal").is_terminal(fds[which])
  end
end

local function new_state(env)
  local st = { getenv = env.getenv or os.getenv }
  local stdout, stderr, stdin = env.stdout or io.stdout, env.stderr or io.stderr, env.stdin or io.stdin
  st.out, st.err = writer(st, stdout), writer(st, stderr)
  st.is_terminal, st.stdin = terminal_test(env, stdin, stdout, stderr), stdin
  st.raw = function(...) stdout:write(...) end
  st.note = function(...) if not st.json then st.err(...) end end
  st.warn = function(msg)
    if st.json then return st.err(json.encode_sorted({ warning = msg }), "\n") end
    st.err(PROG, ": warning: ", msg, "\n")
  end
  st.log = function(line)
    if st.json then return st.err(json.encode_sorted({ log = tostring(line) }), "\n") end
    st.err(tostring(line), "\n")
  end
  st.redact = function(s) return redact_string(s, st.token) end
  st.fail = function(code, kind, message, extra) fail(st, code, kind, message, extra) end
  st.die = function(err, extra) die(st, err, extra) end
  st.usage_error = function(msg) usage_error(st, msg) end
  st.report = function(code, kind, message, extra) report(st, args_.err(kind, message), extra) return code end
  st.report_error = function(code, err, extra) report(st, err, extra) return code end
  return st
end

---------------------------------------------------------------------------
-- --verbose: the library's per-attempt log lines, and the wait before each retry

local function verbose_options(st, o)
  local core = require "konnect.core"
  local ended = nil
  o.log = st.log
  o.hooks = {
    after_response = function(v)
      ended = core.monotime()
      if v.status == 429 or (v.status and v.status >= 500) then
        local after = v.headers and v.headers["retry-after"]
        if after then st.log(format("konnect: %s: the server asks to retry after %s", v.operation, clean(after))) end
      end
    end,
    before_request = function(v)
      if v.attempt > 1 and ended then
        st.log(format("konnect: %s: waited %.2fs before attempt %d", v.operation, core.monotime() - ended, v.attempt))
      end
    end,
  }
end

---------------------------------------------------------------------------
-- main

local function version_line()
  local jit = rawget(_G, "jit")
  return PROG .. " (" .. limits.NAME .. " " .. limits.VERSION .. ", " ..
    (type(jit) == "table" and jit.version or _VERSION) .. ")\n"
end

local function command(st, argv)
  local pasted = args_.pasted_secret(argv)
  if pasted then die(st, pasted) end
  local opts, pos = args_.parse(argv)
  or_usage(st, opts, pos)
  local name = pos[1]
  if name == "help" then
    name = pos[2]
    st.out(name and COMMANDS[name] and help().command(name) or help().GLOBAL)
    return EXIT_OK
  end
  if opts.version then st.out(version_line()) return EXIT_OK end
  if name == nil then
    if opts.help then st.out(help().GLOBAL) return EXIT_OK end
    if st.json then usage_error(st, "no command") end
    st.err(help().GLOBAL)
    return EXIT_USAGE
  end
  local cmd = COMMANDS[name]
  if not cmd then
    local guess = args_.suggest(name, args_.names(COMMANDS))
    usage_error(st, "unknown command " .. clean(name) .. (guess and ("; did you mean " .. guess .. "?") or ""))
  end
  st.command = name
  if opts.help then st.out(help().command(name)) return EXIT_OK end
  local args = {}
  for i = 2, #pos do args[#args + 1] = pos[i] end
  local user = opts.user
  if cmd.legacy and #args == cmd.max + 1 and not opts["system-account"] then -- the older form: USER first
    if user then usage_error(st, "the user is given twice (--user and the first argument)", name) end
    user = args[1]
    table.remove(args, 1)
  end
  if #args < cmd.min then usage_error(st, "too few arguments: " .. cmd.usage, name) end
  if #args > cmd.max then usage_error(st, "too many arguments: " .. cmd.usage, name) end
  local extra = check.command(st, name, cmd, opts)
  st.user = user or "me"
  if st.user == "" then usage_error(st, "--user needs a user id or \"me\"", name) end
  local token, warning = args_.token(opts, st.getenv)
  st.token = or_usage(st, token, warning)
  if warning then st.warn(warning) end
  local o = or_usage(st, args_.client_options(opts, st.getenv, st.token))
  local debug = st.getenv("KONNECT_DEBUG")
  if opts.verbose or (debug and debug ~= "" and debug ~= "0") then
    st.verbose = true
    verbose_options(st, o)
  end
  local client, err = pats.new(o)
  if not client then die(st, err) end
  st.client = client
  if opts["secret-file"] then
    st.sink = require("konnect.cli.secret").sink(st, opts["secret-file"], opts.force)
  end
  -- whose tokens: a system account's (its name resolved here, as TOKEN is), or the user's
  if opts["system-account"] then
    commands.system_account(st, client, opts["system-account"])
  else
    commands.user(st)
  end
  return require(cmd.module or "konnect.cli.commands").run[name](st, client, opts, args, extra) or EXIT_OK
end

-- --json anywhere before "--" (known before the arguments are parsed, so even
-- a usage error is reported as JSON)
local function wants_json(argv)
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "--json" then return true end
  end
  return false
end

--- main(argv, env) -> exit status (never raises, never exits)
function _M.main(argv, env)
  env = type(env) == "table" and env or {}
  local st = new_state(env)
  if type(argv) ~= "table" then argv = {} end
  st.json = wants_json(argv)

  local ok, code = xpcall(function() return command(st, argv) end, function(e) return e end)
  if not ok then
    if getmetatable(code) == EXIT then
      code = code.code
    else
      local okm, msg = pcall(tostring, code)
      msg = okm and type(msg) == "string" and msg or "?"
      msg = msg:gsub("[%c]+", " ")
      if msg:find("interrupted!$") then -- Ctrl-C: the interpreter's (lua.c's) SIGINT error
        if not st.json then pcall(st.err, "\n") end -- after the terminal's ^C
        pcall(report, st, args_.err("system", "interrupted", { plain = true }))
        code = EXIT_INTERRUPTED
      else
        pcall(report, st, args_.err("system", "internal error: " .. clean(msg)))
        code = EXIT_API
      end
    end
  end
  if st.sink then -- created, never committed: remove it
    pcall(st.sink.abort, st.sink)
    st.sink = nil
  end
  if st.client then pcall(st.client.close, st.client) end
  return code
end

return _M
