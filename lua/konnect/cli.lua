-- konnect.cli: the konnect-pats command line as a module.
--
--   cli.main(argv, env) -> exit status
--
-- argv is the argument vector (without the program name).  env, optional:
--   stdout, stderr  objects with :write(...) (default io.stdout, io.stderr)
--   getenv          function(name) -> string|nil (default os.getenv)
-- main never raises and never exits: an unexpected Lua error becomes one line
-- on stderr and status 1.  bin/konnect-pats is the stub that calls it.
--
-- Every string printed goes through konnect.redact with the access token in
-- use; only the new secret a user asked for is written unredacted (stdout, or
-- the --secret-file made by konnect.core's secret_file before the API call).
-- With --json, stderr carries JSON objects only, one a line: an error is one
-- object (kind, status, message, trace_id, request_id); a warning
-- {"warning": ...}; a --verbose line {"log": ...}.

local pats = require "konnect.pats"
local json = require "konnect.json"
local limits = require "konnect.limits"
local render = require "konnect.cli.render"
local args_ = require "konnect.cli.args"
local commands = require "konnect.cli.commands"

local type, ipairs, tostring, pcall, xpcall, error =
  type, ipairs, tostring, pcall, xpcall, error
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local format, concat = string.format, table.concat

local clean = render.clean
local PROG, COMMANDS = "konnect-pats", args_.COMMANDS

-- help texts only when printed
local function help() return require "konnect.cli.help" end

local _M = { _VERSION = limits.VERSION }

-- Exit statuses (documented in --help).
local EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_NET, EXIT_AUTH = 0, 1, 2, 3, 4
local EXIT_FOR_KIND = {
  invalid_argument = EXIT_USAGE, usage = EXIT_USAGE, ambiguous = EXIT_USAGE,
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
  return type(err) == "table" and EXIT_FOR_KIND[err.kind] or EXIT_API
end

-- Report an error without leaving: the text line ("konnect-pats: KIND ...:
-- message"), or with --json one object.  err: a library error, or nil and the
-- error is read back from `line`.  more(out): further text lines (not --json).
local function report(st, line, err, extra, more)
  if st.json then
    if err == nil then
      local kind, msg = (line or ""):match("^konnect%-pats: ([%w_]+)[^:]*: (.*)$")
      -- a usage line's "(see '... --help')" is for the text line; the message is the reason alone
      if kind == "usage" then msg = msg:match("^(.-) %(see '[^']*%-%-help'%)$") or msg end
      err = { kind = kind or "error", message = msg or line }
    end
    st.err(json.encode_sorted(render.error_object(err, extra, json.null)), "\n")
    return
  end
  st.err(line or render.error_line(err), "\n")
  if more then more(st.err) end
end

local function fail(st, code, line, extra, more)
  report(st, line, nil, extra, more)
  error(setmetatable({ code = code }, EXIT), 0)
end

local function die(st, err, extra)
  report(st, nil, err, extra)
  error(setmetatable({ code = exit_code(err) }, EXIT), 0)
end

local function usage_error(st, msg, cmd)
  fail(st, EXIT_USAGE, args_.usage(msg, cmd or st.command))
end

-- v, or the usage line in `line` printed and exit 2
local function or_usage(st, v, line)
  if v == nil then fail(st, EXIT_USAGE, line) end
  return v
end

local function new_state(env)
  local st = { getenv = env.getenv or os.getenv }
  local stdout, stderr = env.stdout or io.stdout, env.stderr or io.stderr
  st.out, st.err = writer(st, stdout), writer(st, stderr)
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
  st.fail = function(code, line, extra, more) fail(st, code, line, extra, more) end
  st.die = function(err, extra) die(st, err, extra) end
  st.usage_error = function(msg) usage_error(st, msg) end
  st.report = function(code, line, err, extra) report(st, line, err, extra) return code end
  return st
end

---------------------------------------------------------------------------
-- the secret file

-- Before any API call: the file that will take the secret, made by
-- core.secret_file (interfaces.md §3).  A failure is a usage error (2).
local function secret_sink(st, path, force, cmd)
  if path == "" then usage_error(st, "--secret-file needs a path", cmd) end
  local core = require "konnect.core"
  local sink, msg, errno = core.secret_file(path, force and true or false)
  if sink then return sink end
  local what = "--secret-file " .. clean(path)
  if errno == "EEXIST" and not force then
    usage_error(st, what .. " already exists (or is a link); use --force to replace a regular file", cmd)
  end
  usage_error(st, "cannot create " .. what .. " safely: " .. clean(msg or "?") .. " (" .. clean(errno or "?") ..
    "; does its directory exist, and may you write to it?)", cmd)
end

---------------------------------------------------------------------------
-- --verbose: the library's per-attempt log lines, and the wait before each retry

local function verbose_options(st, o)
  local core = require "konnect.core"
  local ended, told = nil, false
  o.log = function(line)
    if line:find(" retry in ", 1, true) then told = true end -- the library says it itself
    st.log(line)
  end
  o.hooks = {
    after_response = function(v)
      ended, told = core.monotime(), false
      if v.status == 429 or (v.status and v.status >= 500) then
        local after = v.headers and v.headers["retry-after"]
        if after then st.log(format("konnect: %s: the server asks to retry after %s", v.operation, clean(after))) end
      end
    end,
    before_request = function(v)
      if v.attempt > 1 and ended and not told then
        st.log(format("konnect: %s: waited %.2fs before attempt %d", v.operation, core.monotime() - ended, v.attempt))
      end
    end,
  }
  return o
end

---------------------------------------------------------------------------
-- main

local function version_line()
  local jit = rawget(_G, "jit")
  return PROG .. " (" .. limits.NAME .. " " .. limits.VERSION .. ", " ..
    (type(jit) == "table" and jit.version or _VERSION) .. ")\n"
end

local OLD_MODES = { "delete", "revoke", "keep" }
local COMMAND_OPTIONS = { "user", "name", "ttl", "secret-file", "force", "state", "older-than", "dry-run", "old" }

-- the command's own options, checked and converted
local function command_options(st, name, cmd, opts)
  for _, o in ipairs(COMMAND_OPTIONS) do
    if opts[o] and not cmd.options[o] then
      usage_error(st, "--" .. o .. " is not an option of " .. name, name)
    end
  end
  if opts.force and not opts["secret-file"] then usage_error(st, "--force goes with --secret-file", name) end
  local extra = {}
  if name == "create" then
    if not opts.name then usage_error(st, "create needs --name NAME", name) end
    if not opts.ttl then usage_error(st, "create needs --ttl TTL (1d .. 1y)", name) end
  end
  for _, c in ipairs { { "ttl", "ttl" }, { "older-than", "older_than" }, { "state", "states" } } do
    if opts[c[1]] then
      local v, why = args_[c[2]](opts[c[1]])
      if v == nil then usage_error(st, why, name) end
      extra[c[2]] = v
    end
  end
  if opts.old then
    local ok = false
    for _, m in ipairs(OLD_MODES) do ok = ok or opts.old == m end
    if not ok then
      local guess = args_.suggest(opts.old, OLD_MODES)
      usage_error(st, "--old must be delete, revoke or keep, got " .. clean(opts.old) ..
        (guess and ("; did you mean " .. guess .. "?") or ""), name)
    end
  end
  return extra
end

local function command(st, argv)
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
  if cmd.legacy and #args == cmd.max + 1 then -- the older form: USER first
    if user then usage_error(st, "the user is given twice (--user and the first argument)", name) end
    user = args[1]
    table.remove(args, 1)
  end
  if #args < cmd.min then usage_error(st, "too few arguments: " .. cmd.usage, name) end
  if #args > cmd.max then usage_error(st, "too many arguments: " .. cmd.usage, name) end
  local extra = command_options(st, name, cmd, opts)
  st.user = user or "me"
  if st.user == "" then usage_error(st, "--user needs a user id or \"me\"", name) end
  local token, warning = args_.token(opts, st.getenv)
  st.token = or_usage(st, token, warning)
  if warning then st.warn(warning) end
  local o = or_usage(st, args_.client_options(opts, st.getenv, st.token))
  local debug = st.getenv("KONNECT_DEBUG")
  if opts.verbose or (debug and debug ~= "" and debug ~= "0") then verbose_options(st, o) end
  local client, err = pats.new(o)
  if not client then die(st, err) end
  st.client = client
  if opts["secret-file"] then
    st.sink = secret_sink(st, opts["secret-file"], opts.force, name)
  end
  return commands.run[name](st, client, opts, args, extra) or EXIT_OK
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
      pcall(report, st, PROG .. ": internal error: " .. clean(msg))
      code = EXIT_API
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
