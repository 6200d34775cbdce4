-- konnect.transport: which transport a call goes through, and the header sets
-- it sends.
--
--   local t, sets = transport.select(state)   -- | nil, err
--
-- `state` is the client's transport state, made by transport.state(opts) at
-- pats.new(): the choice ("auto", "curl", "cosocket" or a function), the
-- transport options, the base headers and the user agent, and a cache of the
-- transports loaded so far.  `sets` = { headers, headers_body, header_lines,
-- header_lines_body }: the request headers without and with a JSON body (the
-- User-Agent names the transport), plus each transport's prebuilt form.
-- Selection never touches the client: it only fills the state's cache.
--
-- Inside nginx the phase decides, per call: cosockets where they work, an
-- invalid_context error elsewhere (unless curl was asked for by name).

local errors = require "konnect.errors"
local limits = require "konnect.limits"
local accel  = require "konnect.accel"

local type, pairs, pcall, require, rawget, tostring, format, lower =
  type, pairs, pcall, require, rawget, tostring, string.format, string.lower

local _M = {}

-- nginx phases in which cosockets work
local COSOCKET_PHASES = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}
_M.COSOCKET_PHASES = COSOCKET_PHASES

local function in_nginx()
  local ngx = rawget(_G, "ngx")
  return type(ngx) == "table" and type(ngx.get_phase) == "function" and ngx or nil
end
_M.in_nginx = in_nginx

local function lua_version()
  local jit = rawget(_G, "jit")
  return type(jit) == "table" and jit.version or _VERSION
end

local function copy(t, extra)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  if extra then for k, v in pairs(extra) do o[k] = v end end
  return o
end

--- state(fields) -> the per-client transport state.  fields: choice, opts
--- (timeouts, ca_file, ca_path, proxy, max_body, http_version), headers (the
--- base set, Authorization included), user_agent (nil: the library's own).
function _M.state(fields)
  return { choice = fields.choice or "auto", opts = fields.opts, headers = fields.headers,
           user_agent = fields.user_agent, cache = {}, sets = {} }
end

local TERR_KINDS = { timeout = true, connect = true, tls = true, network = true, too_large = true,
                     system = true, invalid_argument = true }

local function bad_answer(why)
  return nil, { kind = "network", message = "the transport function " .. why, sent = true }
end

-- Call a caller's transport function: whatever it does (raise, return a
-- number, a table without a status, headers that are not strings), the
-- pipeline gets a response it can read or a transport error; nothing raises.
local function call_function(fn, req)
  local ok, res, terr = pcall(fn, req)
  if not ok then return bad_answer("raised: " .. (tostring(res):match("^[^\n]*") or "?")) end
  if res == nil then
    if type(terr) == "table" and TERR_KINDS[terr.kind] then
      return nil, { kind = terr.kind, message = type(terr.message) == "string" and terr.message or terr.kind,
                    code = type(terr.code) == "number" and terr.code or nil, sent = terr.sent ~= false }
    end
    return bad_answer("failed: " .. (tostring(terr):match("^[^\n]*") or "?"))
  end
  if type(res) ~= "table" then return bad_answer("returned a " .. type(res) .. ", not a response table") end
  local status = res.status
  -- (a 1xx is interim, never an answer: RFC 9110 15.2)
  if not limits.is_integer(status) or status < 200 or status > 599 then
    return bad_answer("returned a response without a valid status (200-599)")
  end
  if res.body ~= nil and type(res.body) ~= "string" then
    return bad_answer("returned a body that is a " .. type(res.body) .. ", not a string")
  end
  local headers = {}
  if type(res.headers) == "table" then
    for k, v in pairs(res.headers) do
      if type(k) == "string" and (type(v) == "string" or type(v) == "number") then headers[lower(k)] = tostring(v) end
    end
  end
  return { status = status, headers = headers, body = res.body or "", resent = res.resent == true or nil,
           http_version = type(res.http_version) == "string" and res.http_version or nil }
end

-- The adapter that makes a caller's function(req) a transport.  The
-- function gets the request alone (the transport contract's fields), never
-- the call state it travels in.
local function function_transport(fn)
  local ngx = in_nginx()
  local core = accel.core -- (its clock and sleep, when it loaded)
  return {
    request = function(_, req)
      return call_function(fn, { method = req.method, url = req.url, headers = req.headers, body = req.body,
                                 once = req.once, timeout = req.timeout, connect_timeout = req.connect_timeout })
    end,
    now = ngx and function() ngx.update_time(); return ngx.now() end or (core and core.monotime) or os.time,
    -- ngx.sleep only where it may yield; elsewhere the C core blocks, as asked
    sleep = function(seconds)
      if ngx and COSOCKET_PHASES[ngx.get_phase()] then return ngx.sleep(seconds) end
      if core then return core.sleep(seconds) end
    end,
    user_agent_suffix = function() return "custom transport" end,
  }
end

-- The header sets for transport `t` (the User-Agent names the transport).
local function header_sets(st, t)
  local ua = st.user_agent or format("%s/%s (%s; %s)", limits.NAME, limits.VERSION, t.user_agent_suffix(),
    lua_version())
  local h = copy(st.headers, { ["User-Agent"] = ua })
  local hb = copy(h, { ["Content-Type"] = "application/json" })
  local sets = { headers = h, headers_body = hb }
  local lines = t.header_lines -- a transport's own prebuilt form, if it has one
  if lines then
    local err
    sets.header_lines, err = lines(h)
    if sets.header_lines then sets.header_lines_body, err = lines(hb) end
    if not sets.header_lines_body then
      return nil, errors.invalid_argument("cannot use the request headers: " .. tostring(err))
    end
  end
  return sets
end

-- A transport that cannot be loaded.  curl: the C core is missing or was built
-- for another interpreter, a failure of the local installation (system),
-- with how to build or install it; cosocket outside nginx: invalid_context.
-- The loader's message is kept whole, on one line (its first line alone ends
-- with a colon: the paths searched follow).
local function unavailable(name, why)
  why = tostring(why):gsub("[\r\n\t]+", " ")
  if name ~= "curl" then
    return errors.new("invalid_context", { message = "transport " .. name .. " is unavailable: " .. why })
  end
  local jit = rawget(_G, "jit")
  local v = jit and "5.1" or _VERSION:match("%d+%.%d+")
  local interp, dir = jit and "luajit" or ("lua" .. v), jit and "jit" or v
  local what
  if why:find("module 'konnect.core' not found", 1, true) then
    what = "the C core (konnect.core) is not installed for " .. lua_version() .. ": not found on package.cpath"
  else
    what = "the C core (konnect.core) could not be loaded: " .. why
  end
  return errors.new("system", { message = format("%s. Build it in the lua-konnect checkout with `make LUA=%s` " ..
    "(it goes to build/%s/: put build/%s/?.so on LUA_CPATH), or install the rock with `luarocks " ..
    "--lua-version=%s make --deps-mode=none lua-konnect-scm-1.rockspec` (a --tree of your own must be on the " ..
    "paths: eval \"$(luarocks --lua-version=%s path --tree DIR)\"); inside nginx, transport \"cosocket\" needs " ..
    "no C core", what, interp, dir, dir, v, v) })
end

local function load(st, name)
  local cached = st.cache[name]
  if cached then return cached, st.sets[name] end
  local t
  if name == "function" then
    t = function_transport(st.choice)
  else
    local ok, mod = pcall(require, "konnect.transport." .. name)
    if not ok then return nil, unavailable(name, mod) end
    t = mod.new(st.opts)
  end
  local sets, err = header_sets(st, t)
  if not sets then return nil, err end
  st.cache[name], st.sets[name] = t, sets
  return t, sets
end

local function phase_error(phase, by_name)
  if by_name then
    return nil, errors.new("invalid_context", { message = format(
      "cannot use cosockets in the nginx %s phase; run the call from ngx.timer.at(0, fn)", phase) })
  end
  return nil, errors.new("invalid_context", { message = format(
    "cannot call Konnect from the nginx %s phase: cosockets are unavailable there; " ..
    "run the call from ngx.timer.at(0, fn), or pass transport = \"curl\" to block the worker knowingly",
    phase) })
end

--- select(state) -> transport, sets | nil, err.  Per call: inside nginx the
--- phase decides; outside, the answer never changes and is remembered.
function _M.select(st)
  local fixed = st.fixed
  if fixed then return fixed.t, fixed.sets end
  local choice = st.choice
  local name
  local ngx = in_nginx()
  if type(choice) == "function" then
    name = "function"
  elseif choice == "auto" then
    if ngx then
      local phase = ngx.get_phase()
      if not COSOCKET_PHASES[phase] then return phase_error(phase, false) end
      name = "cosocket"
    else
      name = "curl"
    end
  else
    if ngx and choice == "cosocket" and not COSOCKET_PHASES[ngx.get_phase()] then
      return phase_error(ngx.get_phase(), true)
    end
    name = choice
  end
  local t, sets = load(st, name)
  if not t then return nil, sets end
  if not (choice == "auto" and ngx) then st.fixed = { t = t, sets = sets } end
  return t, sets
end

--- close(state): drop every loaded transport's connections.
function _M.close(st)
  for name, t in pairs(st.cache) do
    if t.close then t:close() end
    st.cache[name], st.sets[name] = nil, nil
  end
  st.fixed = nil
  return true
end

return _M
