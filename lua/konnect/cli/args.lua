-- konnect.cli.args: the CLI's argument vector ("did you mean" for unknown
-- options), durations (TTLs, --older-than), --state lists, and the client
-- options (access token, server, CA file, timeout, proxy) from options and
-- environment.  Failures are returned as nil and the complete stderr line
-- (without "\n").

local limits = require "konnect.limits"
local render = require "konnect.cli.render"

local type, tostring, tonumber, format, ipairs, pairs, select =
  type, tostring, tonumber, string.format, ipairs, pairs, select
local sort, min = table.sort, math.min
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

local VALUE_OPTIONS = { server = true, ["ca-file"] = true, timeout = true, ["token-file"] = true,
                        ["secret-file"] = true, name = true, ttl = true, user = true, state = true,
                        ["older-than"] = true, old = true, ["expiring-within"] = true, sort = true }
local FLAG_OPTIONS = { json = true, force = true, help = true, version = true, ["proxy-from-env"] = true,
                       verbose = true, ["dry-run"] = true }
local SHORT = { ["-h"] = "help", ["-v"] = "verbose" }
_M.VALUE_OPTIONS, _M.FLAG_OPTIONS = VALUE_OPTIONS, FLAG_OPTIONS

-- The commands: min/max positional arguments; legacy: the older form with
-- USER first is accepted (one more positional); usage: the usage line;
-- options: the command's own options.  (Their --help texts: konnect.cli.help.)
local USER = { user = true }
local SECRET = { user = true, name = true, ttl = true, ["secret-file"] = true, force = true }
_M.COMMANDS = {
  whoami = { min = 0, max = 0, usage = "whoami", options = {} },
  list = { min = 0, max = 0, legacy = true,
    usage = "list [--state STATES] [--expiring-within AGE] [--sort expires|name|created] [--user USER]",
    options = { user = true, state = true, ["expiring-within"] = true, sort = true } },
  get = { min = 1, max = 1, legacy = true, usage = "get TOKEN [--user USER]", options = USER },
  create = { min = 0, max = 0, legacy = true,
    usage = "create --name NAME --ttl TTL [--user USER] [--secret-file PATH [--force]]", options = SECRET },
  rename = { min = 2, max = 2, legacy = true, usage = "rename TOKEN NEWNAME [--user USER]", options = USER },
  revoke = { min = 1, max = 1, legacy = true, usage = "revoke TOKEN [--user USER]", options = USER },
  delete = { min = 1, max = 1, legacy = true, usage = "delete TOKEN [--user USER]", options = USER },
  rotate = { min = 1, max = 1, legacy = true,
    usage = "rotate TOKEN [--old delete|revoke|keep] [--ttl TTL] [--name NAME] [--user USER] " ..
      "[--secret-file PATH [--force]]",
    options = { user = true, name = true, ttl = true, old = true, ["secret-file"] = true, force = true } },
  find = { min = 1, max = 1, legacy = true, usage = "find NAME [--user USER]", options = USER },
  prune = { min = 0, max = 0, usage = "prune [--state revoked,expired] [--older-than AGE] [--dry-run] [--user USER]",
    options = { user = true, state = true, ["older-than"] = true, ["dry-run"] = true } },
}

--- distance(a, b) -> the edit distance (insertions, deletions, substitutions,
--- and a swap of two neighbours counted as one)
local function distance(a, b)
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local prev2, prev = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur = { [0] = i }
    local ca = a:sub(i, i)
    for j = 1, lb do
      local cost = ca == b:sub(j, j) and 0 or 1
      local d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if i > 1 and j > 1 and ca == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        d = min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev = prev, cur
  end
  return prev[lb]
end
_M.distance = distance

--- suggest(word, candidates) -> the closest candidate, when it is close
--- enough to be what was meant (or word is the start of exactly one), or nil
function _M.suggest(word, candidates)
  word = word:lower()
  local best, best_d, prefixed, nprefixed = nil, nil, nil, 0
  local names = {}
  for _, c in ipairs(candidates) do names[#names + 1] = c end
  sort(names)
  for _, c in ipairs(names) do
    local d = distance(word, c)
    if best_d == nil or d < best_d then best, best_d = c, d end
    if #word >= 3 and c:sub(1, #word) == word then prefixed, nprefixed = c, nprefixed + 1 end
  end
  if best_d and best_d <= 2 and best_d < #word / 2 then return best end
  if nprefixed == 1 then return prefixed end
  return nil
end

--- names(set) -> the keys of one or more sets, as a list
local function names(...)
  local list = {}
  for i = 1, select("#", ...) do
    for k in pairs((select(i, ...))) do list[#list + 1] = k end
  end
  return list
end
_M.names = names

local function unknown_option(a)
  local word = a:match("^[^=]*")
  local msg = "unknown option " .. clean(word)
  local guess = _M.suggest(word:gsub("^%-+", ""), names(VALUE_OPTIONS, FLAG_OPTIONS))
  if guess then msg = msg .. "; did you mean --" .. guess .. "?" end
  return usage(msg, "")
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

--- parse(argv) -> opts, positional | nil, usage error
function _M.parse(argv)
  local opts, pos = {}, {}
  local i, only_args = 1, false
  while i <= #argv do
    local a = tostring(argv[i])
    if only_args or a == "-" or a:sub(1, 1) ~= "-" then
      pos[#pos + 1] = a
    elseif a == "--" then
      only_args = true
    elseif SHORT[a] then
      opts[SHORT[a]] = true
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:match("^%-%-(.+)$")
      if name == "token" then
        -- the value is deliberately not echoed
        return nil, usage("--token is refused: a secret on the command line is visible to " ..
          "every user (ps, /proc) and kept in shell history; " .. TOKEN_SOURCES)
      elseif name and VALUE_OPTIONS[name] then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then return nil, usage("--" .. name .. " needs a value", "") end
        end
        opts[name] = tostring(value)
      elseif name and FLAG_OPTIONS[name] and value == nil then
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

-- The permission bits of the file at path (links followed), as an octal
-- string like "644", or nil when they cannot be read (core.file_mode: a
-- stat(2), no shell).
local function file_mode(path)
  local ok, core = pcall(require, "konnect.core")
  local m = ok and core.file_mode(path)
  return m and format("%o", m % 512) or nil
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
    if mode and #mode >= 2 and (tonumber(mode:sub(-2, -2)) >= 4 or tonumber(mode:sub(-1)) >= 4) then
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
