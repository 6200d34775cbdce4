-- konnect.cli.args: the CLI's argument vector, TTLs and the client options
-- (access token, server, CA file, timeout, proxy) from options and environment.
-- Failures are returned as nil and the complete stderr line (without "\n").

local limits = require "konnect.limits"
local render = require "konnect.cli.render"

local type, tostring, tonumber, format = type, tostring, tonumber, string.format
local clean = render.clean

local PROG = "konnect-pats"

local _M = {}

--- usage(msg, cmd) -> the usage error line
local function usage(msg, cmd)
  return PROG .. ": usage: " .. msg .. " (see '" .. PROG .. (cmd and (" " .. cmd) or "") .. " --help')"
end
_M.usage = usage

local VALUE_OPTIONS = { server = true, ["ca-file"] = true, timeout = true, ["token-file"] = true,
                        ["secret-file"] = true, name = true, ttl = true }
local FLAG_OPTIONS = { json = true, force = true, help = true, version = true, ["proxy-from-env"] = true }

--- parse(argv) -> opts, positional | nil, line
function _M.parse(argv)
  local opts, pos = {}, {}
  local i, only_args = 1, false
  while i <= #argv do
    local a = tostring(argv[i])
    if only_args or a == "-" or a:sub(1, 1) ~= "-" then
      pos[#pos + 1] = a
    elseif a == "--" then
      only_args = true
    elseif a == "-h" then
      opts.help = true
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:match("^%-%-(.+)$")
      if name == "token" then
        -- the value is deliberately not echoed
        return nil, PROG .. ": usage: --token is refused: a secret on the command line is visible to " ..
          "every user (ps, /proc) and kept in shell history; set KONNECT_TOKEN or use --token-file PATH"
      elseif name and VALUE_OPTIONS[name] then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then return nil, usage("--" .. name .. " needs a value") end
        end
        opts[name] = tostring(value)
      elseif name and FLAG_OPTIONS[name] and value == nil then
        opts[name] = true
      else
        return nil, usage("unknown option " .. clean(a:match("^[^=]*")))
      end
    end
    i = i + 1
  end
  return opts, pos
end

local TTL_UNITS = { s = 1, h = 3600, d = 86400, w = 7 * 86400, y = 365 * 86400 }

--- ttl("86400" | "36h" | "30d" | "2w" | "1y") -> seconds | nil, message
function _M.ttl(s)
  local n, unit = s:lower():match("^%s*(%d+)%s*(%a*)%s*$")
  if not n then
    return nil, "--ttl must be seconds or a number with a unit h, d, w or y (36h, 30d, 2w, 1y), got " .. clean(s)
  end
  local mult = unit == "" and 1 or TTL_UNITS[unit]
  if not mult then
    return nil, "--ttl: unknown unit '" .. clean(unit) .. "' (use s, h, d, w or y; m would be ambiguous)"
  end
  local v = tonumber(n) * mult
  if not limits.is_integer(v) or v < limits.TTL_MIN or v > limits.TTL_MAX then
    return nil, format("--ttl must be between 1 day and 365 days (%d..%d seconds), got %s",
      limits.TTL_MIN, limits.TTL_MAX, clean(s))
  end
  return v
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- token(opts, getenv) -> access token | nil, line
function _M.token(opts, getenv)
  if opts["token-file"] then
    local path = opts["token-file"]
    local f, err = io.open(path, "rb")
    if not f then return nil, usage("cannot read --token-file: " .. clean(err)) end
    local s = f:read("*a") or ""
    f:close()
    s = trim(s)
    if s == "" then return nil, usage("--token-file " .. clean(path) .. " is empty") end
    return s
  end
  local env = getenv("KONNECT_TOKEN")
  if type(env) == "string" and trim(env) ~= "" then return trim(env) end
  return nil, PROG .. ": usage: no access token: set KONNECT_TOKEN or use --token-file PATH " ..
    "(never --token: see '" .. PROG .. " --help')"
end

--- client_options(opts, getenv, token) -> options for pats.new | nil, line
function _M.client_options(opts, getenv, token)
  local o = { token = token }
  local server = opts.server or getenv("KONNECT_SERVER_URL")
  if server and server ~= "" then o.server_url = server end
  local ca = opts["ca-file"] or getenv("KONNECT_CA_FILE")
  if ca and ca ~= "" then
    local f = io.open(ca, "rb")
    if not f then return nil, usage("cannot read the CA file " .. clean(ca)) end
    f:close()
    o.ca_file = ca
  end
  if opts.timeout then
    local t = limits.seconds(tonumber(opts.timeout), "--timeout")
    if not t then
      return nil, usage(format("--timeout must be a number of seconds above 0 and at most %d, got %s",
        limits.MAX_TIMEOUT, clean(opts.timeout)))
    end
    o.timeout = t
    o.connect_timeout = t < limits.CONNECT_TIMEOUT and t or limits.CONNECT_TIMEOUT
  end
  -- the environment's proxy variables only when asked for; no proxy otherwise
  if opts["proxy-from-env"] then o.proxy = "env" end
  return o
end

return _M
