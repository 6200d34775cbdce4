-- konnect.cli.args: the CLI's argument vector ("did you mean" for unknown
-- options; the options themselves: konnect.cli.options), durations (TTLs,
-- --older-than), dates (--expires-at), --state lists, and the client options
-- (access token, server, CA file, timeout, proxy) from options and
-- environment.  Failures are returned as nil and the complete stderr line
-- (without "\n").

local limits = require "konnect.limits"
local render = require "konnect.cli.render"

local type, tostring, tonumber, format, ipairs, pairs =
  type, tostring, tonumber, string.format, ipairs, pairs
local clean = render.clean

local _M = {}

--- err(kind, message[, fields]) -> an error the CLI makes itself: a table
--- like the library's errors, whose kind is one of errors.KINDS.  fields:
--- usage = true (a usage error: the text line reads "usage:"), help = the
--- command whose --help the text line points at ("" the global one), exit =
--- the exit status when it is not the kind's.
local function cli_error(kind, message, fields)
  local e = { kind = kind, message = message }
  for k, v in pairs(fields or {}) do e[k] = v end
  return e
end
_M.err = cli_error

--- usage(msg, cmd) -> a usage error (kind invalid_argument, exit 2) whose
--- text line points at cmd's --help ("": the global one; nil: none)
local function usage(msg, cmd)
  return cli_error("invalid_argument", msg, { usage = true, help = cmd })
end
_M.usage = usage

local options = require "konnect.cli.options"
local OPTIONS = options.OPTIONS

-- the command table (konnect.cli.options), kept here for the callers that read it
_M.COMMANDS = options.COMMANDS

-- "did you mean": konnect.cli.suggest, loaded only when a word is unknown

--- suggest(word, candidates) -> the candidate word was probably meant, or nil
function _M.suggest(word, candidates) return require("konnect.cli.suggest").suggest(word, candidates) end

--- names(set, ...) -> the keys of one or more sets, as a list
function _M.names(...) return require("konnect.cli.suggest").names(...) end
local names = _M.names

local function unknown_option(a)
  local word = a:match("^[^=]*")
  local msg = "unknown option " .. clean(word)
  local guess = _M.suggest(word:gsub("^%-+", ""), names(OPTIONS))
  if guess then msg = msg .. "; did you mean --" .. guess .. "?" end
  return usage(msg, "")
end

-- the option a short form (-v, -o) stands for, or nil
local function short(a)
  for name, o in pairs(OPTIONS) do
    if o.short == a then return name end
  end
end

-- An access token pasted on the command line: kpat_ (personal) or spat_
-- (system account) and at least 20 more letters, digits or underscores (a
-- real token has over 40; the fixtures' fake ones have 20).  The redaction
-- function (konnect.redact) masks any [ks]pat_ word in output; this shorter
-- list spares names and paths such as kpat_ci.
local SECRET_SHAPE = "[ks]pat_" .. ("[%w_]"):rep(20)
local TOKEN_SOURCES = "set KONNECT_TOKEN or KONNECT_TOKEN_FILE, or use --token-file PATH"

local function secret_refused(what)
  return usage(what .. ": a secret on the command line is visible to every user (ps, /proc) and is now " ..
    "in your shell history: rotate that token (konnect-pats rotate, or in Konnect) and remove it from " ..
    "the history; " .. TOKEN_SOURCES)
end

--- pasted_secret(argv) -> a usage error when an argument, anywhere (an
--- option's value, after "--", inside --name=...), looks like an access
--- token; nil otherwise.  The argument is never echoed, not even redacted.
function _M.pasted_secret(argv)
  for i = 1, #argv do
    local a = tostring(argv[i])
    local opt = a:match("^%-%-([^=]+)")
    if opt == "token" then
      local value = a:match("^%-%-token=(.*)$") or argv[i + 1]
      if value ~= nil and tostring(value):find(SECRET_SHAPE) then return secret_refused("--token is refused") end
    elseif a:find(SECRET_SHAPE) then
      return secret_refused("argument " .. i .. " looks like an access token (kpat_..., spat_...) and is refused")
    end
  end
end

--- parse(argv) -> opts, positional | nil, usage error.  opts: option name
--- (konnect.cli.options) -> its value (a string), or true for a flag.
function _M.parse(argv)
  local opts, pos = {}, {}
  local i, only_args = 1, false
  while i <= #argv do
    local a = tostring(argv[i])
    local name, value
    if only_args or a == "-" or a:sub(1, 1) ~= "-" then
      pos[#pos + 1] = a
    elseif a == "--" then
      only_args = true
    else
      if a:sub(2, 2) ~= "-" then
        name = short(a)
        if not name then return nil, unknown_option(a) end
      else
        name, value = a:match("^%-%-([^=]+)=(.*)$")
        name = name or a:match("^%-%-(.+)$")
      end
      local o = OPTIONS[name]
      if name == "token" then
        -- the value is deliberately not echoed
        return nil, usage("--token is refused: a secret on the command line is visible to " ..
          "every user (ps, /proc) and kept in shell history; " .. TOKEN_SOURCES)
      elseif o and o.value then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then return nil, usage(a .. " needs a value", "") end
        end
        opts[name] = tostring(value)
      elseif o and value == nil then
        opts[name] = true
      else
        return nil, unknown_option(a)
      end
    end
    i = i + 1
  end
  return opts, pos
end

local UNITS = { s = 1, h = 3600, d = 86400, w = 7 * 86400, y = 365 * 86400 }

--- duration(s, what) -> seconds | nil, message: "86400", "36h", "30d", "2w", "1y"
local function duration(s, what)
  local n, unit = s:lower():match("^%s*(%d+)%s*(%a*)%s*$")
  if not n then
    return nil, what .. " must be seconds or a number with a unit h, d, w or y (36h, 30d, 2w, 1y), got " .. clean(s)
  end
  local mult = unit == "" and 1 or UNITS[unit]
  if not mult then
    return nil, what .. ": unknown unit '" .. clean(unit) .. "' (use s, h, d, w or y; m would be ambiguous)"
  end
  return tonumber(n) * mult
end

--- ttl(s) -> seconds | nil, message (1 day .. 365 days)
function _M.ttl(s)
  local v, err = duration(s, "--ttl")
  if not v then return nil, err end
  if not limits.is_integer(v) or v < limits.TTL_MIN or v > limits.TTL_MAX then
    return nil, format("--ttl must be between 1 day and 365 days (%d..%d seconds), got %s",
      limits.TTL_MIN, limits.TTL_MAX, clean(s))
  end
  return v
end

--- expires_at(s, now) -> s | nil, message: an RFC 3339 date-time (as
--- konnect.time reads it: a full date, a time and an offset) after now
--- (epoch seconds).  The contract's deprecated expires_at; the server's clock
--- decides in the end, so a date just ahead of this machine's may still be
--- refused there.
function _M.expires_at(s, now)
  local time = require "konnect.time"
  local at, why = time.rfc3339(s)
  if not at then
    return nil, "--expires-at " .. clean(s) .. ": " .. why ..
      (why:find("such as", 1, true) and "" or "; give an RFC 3339 date-time such as 2030-01-31T00:00:00Z")
  end
  if at <= now then
    return nil, "--expires-at " .. clean(s) .. " is " .. (time.relative(at, now) or "past") ..
      ": a token must expire in the future (or use --ttl TTL)"
  end
  return s
end

--- output(s) -> "env" | nil, message (-o, --output)
function _M.output(s)
  if s == "env" then return s end
  local guess = _M.suggest(s, { "env" })
  return nil, "-o takes env (an export line for a shell to eval), got " .. clean(s) ..
    (guess and "; did you mean env?" or "") .. "; for JSON use --json"
end

-- an age, 0 .. 10 years
local function age(s, what)
  local v, err = duration(s, what)
  if not v then return nil, err end
  if not limits.is_integer(v) or v > 10 * UNITS.y then
    return nil, what .. " must be at most 10 years, got " .. clean(s)
  end
  return v
end

--- older_than(s) -> seconds | nil, message (0 .. 10 years)
function _M.older_than(s) return age(s, "--older-than") end

--- expiring_within(s) -> seconds | nil, message (0 .. 10 years)
function _M.expiring_within(s) return age(s, "--expiring-within") end

--- unused_for(s) -> seconds | nil, message (0 .. 10 years)
function _M.unused_for(s) return age(s, "--unused-for") end

--- active("true" | "false") -> true | false | nil, message (users --active)
function _M.active(s)
  if s == "true" then return true end
  if s == "false" then return false end
  local guess = _M.suggest(s, { "true", "false" })
  return nil, "--active takes true or false, got " .. clean(s) .. (guess and ("; did you mean " .. guess .. "?") or "")
end

local PRUNABLE = { revoked = "REVOKED", expired = "EXPIRED" }
local LISTED = { active = "ACTIVE", revoked = "REVOKED", expired = "EXPIRED" }

-- "a,b" -> { "A", "B" } | nil, message; `known`: word -> state
local function state_list(s, known, says, why)
  local list, seen = {}, {}
  for word in (s .. ","):gmatch("([^,]*),") do
    word = word:match("^%s*(.-)%s*$"):lower()
    local st = known[word]
    if not st then
      local guess = word ~= "" and _M.suggest(word, names(known))
      return nil, "--state takes " .. says .. ", got " .. clean(word) .. (why and why(word) or "") ..
        (guess and ("; did you mean " .. guess .. "?") or "")
    end
    if not seen[st] then list[#list + 1], seen[st] = st, true end
  end
  return list
end

--- states("revoked,expired") -> { "REVOKED", "EXPIRED" } | nil, message (prune)
function _M.states(s)
  return state_list(s, PRUNABLE, "revoked, expired or both (revoked,expired)", function(word)
    return word == "active" and " (prune never deletes an active token; use delete)" or ""
  end)
end

--- list_states("active,revoked") -> { "ACTIVE", "REVOKED" } | nil, message (list)
function _M.list_states(s)
  return state_list(s, LISTED, "active, revoked, expired or a list of them (active,expired)")
end

local SORTS = { "expires", "name", "created" }
_M.SORTS = SORTS

--- sort(s) -> "expires" | "name" | "created" | nil, message
function _M.sort(s)
  for _, k in ipairs(SORTS) do
    if s == k then return k end
  end
  local guess = _M.suggest(s, SORTS)
  return nil, "--sort takes expires, name or created, got " .. clean(s) ..
    (guess and ("; did you mean " .. guess .. "?") or "")
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function shell_quote(s)
  if s:find("^[%w%./_%-+=:,@]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The permission bits of the file at path (links followed), as three octal
-- digits like "644" or "004", or nil when they cannot be read
-- (core.file_mode: a stat(2), no shell).
local function file_mode(path)
  local ok, core = pcall(require, "konnect.core")
  local m = ok and core.file_mode(path)
  return m and format("%03o", m % 512) or nil
end
_M.file_mode = file_mode

--- token(opts, getenv) -> access token, warning | nil, usage error
--- From --token-file PATH, else the file KONNECT_TOKEN_FILE names, else
--- KONNECT_TOKEN.  KONNECT_TOKEN_FILE and KONNECT_TOKEN both set is a usage
--- error, as the _FILE convention of the Docker official images has it
--- (docker-library's file_env: "both are set (but are exclusive)"): which
--- one was meant cannot be known.  The command line wins over both.
--- The warning: a token file that group or others may read (kept, not
--- refused: mounted secrets are often 0644), with the chmod that fixes it.
function _M.token(opts, getenv)
  local path, what = opts["token-file"], "--token-file"
  local env = getenv("KONNECT_TOKEN")
  env = type(env) == "string" and trim(env) or ""
  if not path then
    local envf = getenv("KONNECT_TOKEN_FILE")
    if type(envf) == "string" and envf ~= "" then
      if env ~= "" then
        return nil, usage("both KONNECT_TOKEN and KONNECT_TOKEN_FILE are set: unset one of them " ..
          "(--token-file PATH overrides both)", "")
      end
      path, what = envf, "KONNECT_TOKEN_FILE"
    end
  end
  if path then
    local f, ferr = io.open(path, "rb")
    if not f then return nil, usage("cannot read " .. what .. ": " .. clean(ferr), "") end
    local s = f:read("*a") or ""
    f:close()
    s = trim(s)
    if s == "" then return nil, usage(what .. " " .. clean(path) .. " is empty", "") end
    local mode, warning = file_mode(path), nil
    if mode and (tonumber(mode:sub(-2, -2)) >= 4 or tonumber(mode:sub(-1)) >= 4) then
      warning = format("the token file %s (%s) can be read by %s (mode %04d); chmod 600 %s fixes it",
        clean(path), what, tonumber(mode:sub(-1)) >= 4 and "others" or "its group", tonumber(mode),
        clean(shell_quote(path)))
    end
    return s, warning
  end
  if env ~= "" then return env end
  return nil, usage("no access token: set KONNECT_TOKEN or KONNECT_TOKEN_FILE, or use --token-file PATH " ..
    "(never --token)", "")
end

--- client_options(opts, getenv, token) -> options for pats.new | nil, usage error
function _M.client_options(opts, getenv, token)
  local o = { token = token }
  local server = opts.server or getenv("KONNECT_SERVER_URL")
  if server and server ~= "" then o.server_url = server end
  local ca = opts["ca-file"] or getenv("KONNECT_CA_FILE")
  if ca and ca ~= "" then
    local f = io.open(ca, "rb")
    if not f then return nil, usage("cannot read the CA file " .. clean(ca), "") end
    f:close()
    o.ca_file = ca
  end
  if opts.timeout then
    local t = limits.seconds(tonumber(opts.timeout), "--timeout")
    if not t then
      return nil, usage(format("--timeout must be a number of seconds above 0 and at most %d, got %s",
        limits.MAX_TIMEOUT, clean(opts.timeout)), "")
    end
    o.timeout = t
    o.connect_timeout = t < limits.CONNECT_TIMEOUT and t or limits.CONNECT_TIMEOUT
  end
  -- the environment's proxy variables only when asked for; no proxy otherwise
  if opts["proxy-from-env"] then o.proxy = "env" end
  return o
end

return _M
