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

local pats = require "konnect.pats"
local json = require "konnect.json"
local limits = require "konnect.limits"
local help = require "konnect.cli.help"
local render = require "konnect.cli.render"
local args_ = require "konnect.cli.args"

local type, pairs, ipairs, tostring, pcall, xpcall, error =
  type, pairs, ipairs, tostring, pcall, xpcall, error
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local format, concat = string.format, table.concat

local clean = render.clean
local PROG, COMMANDS = help.PROG, help.COMMANDS

local _M = { _VERSION = limits.VERSION }

-- Exit statuses (documented in --help).
local EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_NET, EXIT_AUTH = 0, 1, 2, 3, 4
local EXIT_FOR_KIND = {
  invalid_argument = EXIT_USAGE,
  unauthorized = EXIT_AUTH, forbidden = EXIT_AUTH,
  timeout = EXIT_NET, connect = EXIT_NET, tls = EXIT_NET, network = EXIT_NET,
  too_large = EXIT_NET, decode = EXIT_NET, system = EXIT_NET,
}
_M.EXIT_FOR_KIND = EXIT_FOR_KIND

-- Every printed string goes through the library's one redaction function.
local redact_string = require("konnect.redact").string

-- Stands for the secret in --json output until the rest is redacted.
local SECRET_PLACEHOLDER = "@konnect-cli-secret-placeholder@"
local SECRET_KEY = "konnect_token\1"

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

local function fail(st, code, line)
  st.note(line, "\n")
  error(setmetatable({ code = code }, EXIT), 0)
end

local function usage_error(st, msg, cmd)
  fail(st, EXIT_USAGE, args_.usage(msg, cmd))
end

-- v, or the usage line in `line` printed and exit 2
local function or_usage(st, v, line)
  if v == nil then fail(st, EXIT_USAGE, line) end
  return v
end

local function exit_code(err)
  return type(err) == "table" and EXIT_FOR_KIND[err.kind] or EXIT_API
end

local function die(st, err)
  fail(st, exit_code(err), render.error_line(err))
end

local function decode_error(st, what)
  fail(st, EXIT_NET, PROG .. ": decode: " .. what)
end

local function print_json(st, v) st.out(json.encode_sorted(v), "\n") end

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
-- shapes of answers: never trust the server's

local function want_object(st, v, what)
  if type(v) ~= "table" or v[1] ~= nil then
    decode_error(st, "the server's answer is not " .. what)
  end
  return v
end

local function want_tokens(st, list, what)
  if type(list) ~= "table" then decode_error(st, "the server's answer is not " .. what) end
  local n = 0
  for _ in pairs(list) do n = n + 1 end
  if n ~= #list then decode_error(st, "the server's answer is not " .. what) end
  for i = 1, n do
    if type(list[i]) ~= "table" then decode_error(st, "the server's answer is not " .. what) end
  end
  return list
end

---------------------------------------------------------------------------
-- commands

local run = {}

function run.whoami(st, client, opts)
  local me, err = client:me()
  if not me then die(st, err) end
  want_object(st, me, "a user object")
  if opts.json then return print_json(st, me) end
  render.user_fields(st.out, me)
end

function run.list(st, client, opts, args)
  local list, err = client:list(args[1] or "me")
  if not list then die(st, err) end
  want_object(st, list, "a list object")
  local data = want_tokens(st, list.data, "a list of tokens")
  for i, t in ipairs(data) do data[i] = render.without_secret(t) end
  if opts.json then return print_json(st, list) end
  if #data == 0 then return st.out("(no tokens)\n") end
  render.token_table(st.out, data)
end

function run.get(st, client, opts, args)
  local tok, err = client:get(args[1], args[2])
  if not tok then die(st, err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if opts.json then return print_json(st, tok) end
  render.token_fields(st.out, tok)
end

function run.rename(st, client, opts, args)
  local tok, err = client:update(args[1], args[2], { name = args[3] })
  if not tok then die(st, err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if opts.json then return print_json(st, tok) end
  st.out(format("renamed token %s to \"%s\"\n", clean(tok.id or args[2]), clean(tok.name or args[3])))
end

function run.revoke(st, client, opts, args)
  local tok, err = client:revoke(args[1], args[2])
  if not tok then die(st, err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if opts.json then return print_json(st, tok) end
  st.out(format("revoked token \"%s\" (%s)\n", clean(tok.name or ""), clean(tok.id or args[2])))
end

function run.delete(st, client, opts, args)
  local ok, err = client:delete(args[1], args[2])
  if not ok then die(st, err) end
  if opts.json then return print_json(st, { deleted = true, id = args[2] }) end
  st.out(format("deleted token %s\n", clean(args[2])))
end

function run.find(st, client, opts, args)
  -- client:list, not client:find_by_name: the answer's shape is checked as by `list`
  local list, err = client:list(args[1])
  if not list then die(st, err) end
  want_object(st, list, "a list object")
  local found = {}
  for _, t in ipairs(want_tokens(st, list.data, "a list of tokens")) do
    if t.name == args[2] then found[#found + 1] = render.without_secret(t) end
  end
  if opts.json then return print_json(st, found) end
  if #found == 0 then return st.out(format("(no tokens named \"%s\")\n", clean(args[2]))) end
  render.token_table(st.out, found)
end

-- Hand over a new token's secret: once, to stdout or to the secret file.
-- Returns true, or false when the secret could not be delivered (reported).
local function deliver(st, tok, opts, verb)
  local sink = st.sink
  local secret = type(tok) == "table" and tok.konnect_token
  if type(secret) ~= "string" or secret == "" or secret:find("[%s%c]") then
    st.note(PROG, ": decode: the response carried no usable secret (konnect_token) for token ",
      clean(type(tok) == "table" and tok.id or "?"), "\n")
    return false
  end
  local id = clean(tok.id or "?")
  local expires = tok.expires_at ~= nil and
    ("expires " .. render.relative(tok.expires_at) .. ", " .. clean(tok.expires_at)) or "never expires"
  local summary = format("%s token \"%s\" (%s), %s", verb, clean(tok.name or ""), id, expires)
  local public = render.without_secret(tok)
  if sink then
    local ok, err, errno = sink:commit(secret .. "\n")
    if not ok then
      st.note(PROG, ": io: the token ", id, " was created but its secret could not be written to ",
        clean(opts["secret-file"]), ": ", clean(err or "?"), " (", clean(errno or "?"), "); revoke that token\n")
      return false
    end
    st.sink = nil
    if opts.json then print_json(st, public) end
    st.note(summary, "; secret written to ", clean(opts["secret-file"]), " (mode 0600)\n")
  else
    if opts.json then
      -- the object's other strings redacted as always; the secret asked for, raw
      -- (a stand-in key that sorts where konnect_token does, and that the
      -- redaction of konnect_token values leaves alone, is swapped back after)
      public.konnect_token = nil
      public[SECRET_KEY] = SECRET_PLACEHOLDER
      local enc = redact_string(json.encode_sorted(public), st.token)
      local stand_in = json.encode_sorted(SECRET_KEY) .. ":" .. json.encode_sorted(SECRET_PLACEHOLDER)
      local a, b = enc:find(stand_in, 1, true)
      if not a then
        st.note(PROG, ": system: could not render the token object; its secret is not shown\n")
        return false
      end
      st.raw(enc:sub(1, a - 1), '"konnect_token":', json.encode_sorted(secret), enc:sub(b + 1), "\n")
    else
      st.raw(secret, "\n")
    end
    st.note(summary, "; the secret is shown only this once\n")
  end
  return true
end

function run.create(st, client, opts, args, extra)
  local tok, err = client:create(args[1] or "me", { name = opts.name, ttl_seconds = extra.ttl })
  if not tok then die(st, err) end
  if not deliver(st, tok, opts, "created") then return EXIT_API end
end

function run.rotate(st, client, opts, args, extra)
  local tok, err = client:rotate(args[1], args[2], { name = opts.name, ttl_seconds = extra.ttl })
  if not tok then die(st, err) end
  local delivered = deliver(st, tok, opts, "new")
  if err then
    st.note(render.error_line(err), "\n")
    return EXIT_API
  end
  if not delivered then return EXIT_API end
  st.note("old token ", clean(args[2]), " revoked\n")
end

---------------------------------------------------------------------------
-- main

local function version_line()
  local jit = rawget(_G, "jit")
  return PROG .. " (" .. limits.NAME .. " " .. limits.VERSION .. ", " ..
    (type(jit) == "table" and jit.version or _VERSION) .. ")\n"
end

local function command(st, argv)
  local opts, pos = args_.parse(argv)
  or_usage(st, opts, pos)
  local name = pos[1]
  if name == "help" then
    name = pos[2]
    st.out(name and COMMANDS[name] and help.command(name) or help.GLOBAL)
    return EXIT_OK
  end
  if opts.version then st.out(version_line()) return EXIT_OK end
  if name == nil then
    if opts.help then st.out(help.GLOBAL) return EXIT_OK end
    st.note(help.GLOBAL)
    return EXIT_USAGE
  end
  local cmd = COMMANDS[name]
  if not cmd then usage_error(st, "unknown command " .. clean(name)) end
  if opts.help then st.out(help.command(name)) return EXIT_OK end
  local args = {}
  for i = 2, #pos do args[#args + 1] = pos[i] end
  if #args < cmd.min then usage_error(st, "too few arguments: " .. cmd.usage, name) end
  if #args > cmd.max then usage_error(st, "too many arguments: " .. cmd.usage, name) end
  for _, o in ipairs { "name", "ttl", "secret-file", "force" } do
    local allowed = (o == "name" and cmd.name) or (o == "ttl" and cmd.ttl) or cmd.secret
    if opts[o] and not allowed then usage_error(st, "--" .. o .. " is not an option of " .. name, name) end
  end
  if opts.force and not opts["secret-file"] then usage_error(st, "--force goes with --secret-file", name) end
  local extra = {}
  if name == "create" then
    if not opts.name then usage_error(st, "create needs --name NAME", name) end
    if not opts.ttl then usage_error(st, "create needs --ttl TTL (1d .. 1y)", name) end
  end
  if opts.ttl then
    local ttl, why = args_.ttl(opts.ttl)
    if not ttl then usage_error(st, why, name) end
    extra.ttl = ttl
  end
  st.token = or_usage(st, args_.token(opts, st.getenv))
  local client, err = pats.new(or_usage(st, args_.client_options(opts, st.getenv, st.token)))
  if not client then die(st, err) end
  st.client = client
  if opts["secret-file"] then
    st.sink = secret_sink(st, opts["secret-file"], opts.force, name)
  end
  return run[name](st, client, opts, args, extra) or EXIT_OK
end

--- main(argv, env) -> exit status (never raises, never exits)
function _M.main(argv, env)
  env = type(env) == "table" and env or {}
  local st = { getenv = env.getenv or os.getenv }
  local stdout, stderr = env.stdout or io.stdout, env.stderr or io.stderr
  st.out, st.note = writer(st, stdout), writer(st, stderr)
  st.raw = function(...) stdout:write(...) end
  if type(argv) ~= "table" then argv = {} end

  local ok, code = xpcall(function() return command(st, argv) end, function(e) return e end)
  if not ok then
    if getmetatable(code) == EXIT then
      code = code.code
    else
      local okm, msg = pcall(tostring, code)
      msg = okm and type(msg) == "string" and msg or "?"
      msg = msg:gsub("[%c]+", " ")
      pcall(st.note, PROG, ": internal error: ", clean(msg), "\n")
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
