-- konnect_test.app: the nginx side of the OpenResty integration specs.
-- Each location drives konnect.pats in one nginx phase and answers with a
-- JSON outcome the busted specs (spec/nginx/*_nginx.lua) assert over.

local cjson = require "cjson.safe"
local pats = require "konnect.pats"

-- luacheck: globals ngx
local _M = {}

local ALICE_TOKEN = "kpat_fake_alice_bootstrap"
local ALICE = "00000000-0000-4000-8000-0000000a11ce"

local clients = {}   -- cached by name, to show keepalive reuse across requests
local hook_views = {} -- what the hooks of a client made with record_hooks = true saw, per run

local function record(view) hook_views[#hook_views + 1] = view end

local function env(name) return os.getenv(name) or "" end

-- The server URL a spec names: the fake over http or https, the local mock.
local function server_url(which)
  if which == nil or which == "http" then return env("FAKE_KONNECT_HTTP")
  elseif which == "https" then return (env("FAKE_KONNECT_HTTPS"):gsub("127%.0%.0%.1", "localhost"))
  elseif which == "https_ip" then return env("FAKE_KONNECT_HTTPS")
  elseif which == "https_on_http_port" then
    return (env("FAKE_KONNECT_HTTP"):gsub("^http://127%.0%.0%.1", "https://localhost"))
  elseif which == "mock" then return "http://127.0.0.1:" .. ngx.var.server_port .. "/mock"
  elseif which == "mock_close" then return "http://127.0.0.1:" .. ngx.var.server_port .. "/mock-close"
  end
  return which -- a URL
end

local function new_client(spec)
  spec = spec or {}
  local retries = spec.retries
  if retries == nil then retries = { max_attempts = 3, initial = 0.01, max = 0.05, max_elapsed = 5 } end
  if retries == "off" then retries = false end
  return pats.new {
    token = spec.token or ALICE_TOKEN,
    server_url = server_url(spec.server),
    retries = retries,
    timeout = spec.timeout, connect_timeout = spec.connect_timeout,
    max_body = spec.max_body, transport = spec.transport, headers = spec.headers,
    proxy = spec.proxy, allow_insecure_http = spec.allow_insecure_http, user_agent = spec.user_agent,
    ca_file = spec.ca_file, -- inside nginx: names the trust (lua_ssl_trusted_certificate) it pools under
    hooks = spec.record_hooks and { before_request = record, after_response = record } or nil,
  }
end

local function client_for(spec)
  local name = spec.cache
  if name and clients[name] then return clients[name] end
  local c, err = new_client(spec.client)
  if not c then return nil, err end
  if name then clients[name] = c end
  return c
end

local function err_view(err)
  if err == nil then return nil end
  if type(err) ~= "table" then return { kind = "raised", message = tostring(err) } end
  return {
    kind = err.kind, status = err.status, message = err.message, attempts = err.attempts,
    operation = err.operation, retry_after = err.retry_after, trace_id = err.trace_id,
    request_id = err.request_id, text = tostring(err),
  }
end

-- Run one operation (spec: { client = {…}, cache = name, op =, args = […] }) -> outcome table
local function run(spec)
  local phase = ngx.get_phase()
  hook_views = {}
  local c, err = client_for(spec)
  if not c then return { ok = false, phase = phase, err = err_view(err) } end
  local args = spec.args or {}
  local fn = c[spec.op or "list"]
  if type(fn) ~= "function" then return { ok = false, phase = phase, err = { kind = "no such op" } } end
  local t0 = ngx.now()
  local ok, value, verr = pcall(fn, c, args[1], args[2], args[3])
  ngx.update_time()
  local out = { phase = phase, elapsed = ngx.now() - t0, transports = {} }
  if not ok then
    out.ok, out.err = false, err_view(value)
  else
    out.ok, out.value, out.err = value ~= nil, value, err_view(verr)
  end
  for name, t in pairs(c.transports) do
    out.transports[#out.transports + 1] = name
    if t.stats then out.stats = t.stats end
  end
  if spec.cache then out.stats = c.transports.cosocket and c.transports.cosocket.stats or out.stats end
  if next(hook_views) then out.hooks = hook_views end
  return out
end
_M.run = run

local function read_spec()
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or "{}"
  local spec = cjson.decode(body)
  if type(spec) ~= "table" then
    ngx.status = 400
    ngx.say("bad JSON body")
    return ngx.exit(400)
  end
  return spec
end

local function reply(out)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(out))
end

-- content phase
function _M.call()
  return reply(run(read_spec()))
end

-- access phase: the outcome waits in ngx.ctx for the content handler
function _M.call_in_access()
  ngx.ctx.outcome = run(read_spec())
end

function _M.answer_from_ctx()
  return reply(ngx.ctx.outcome or { ok = false, err = { kind = "missing" } })
end

-- timer: ngx.timer.at(0, …) runs the call; this request waits for it
function _M.timer()
  local spec = read_spec()
  local box = {}
  local ok, terr = ngx.timer.at(0, function(premature)
    if premature then box.out = { ok = false, err = { kind = "premature" } }; return end
    local pok, out = pcall(run, spec)
    box.out = pok and out or { ok = false, err = { kind = "raised", message = tostring(out) } }
  end)
  if not ok then return reply({ ok = false, err = { kind = "timer", message = terr } }) end
  for _ = 1, 1000 do
    if box.out then return reply(box.out) end
    ngx.sleep(0.01)
  end
  return reply({ ok = false, err = { kind = "timer_timeout" } })
end

-- The nginx worker's resident memory, in KiB (/proc/self/status VmRSS).
local function rss_kib()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

-- The worker's TCP sockets to a remote port: { [inode] = true } (Linux: the
-- socket inodes among /proc/<pid>/fd whose /proc/net/tcp{,6} line has that port).
local function sockets_to(port)
  local to, out = {}, {}
  for _, f in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local h = io.open(f)
    if h then
      for line in h:lines() do
        local rport, inode = line:match("^%s*%d+:%s+%x+:%x+%s+%x+:(%x+)%s+%x+%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+(%d+)")
        if rport and tonumber(rport, 16) == port then to[inode] = true end
      end
      h:close()
    end
  end
  local p = io.popen("ls -l /proc/" .. ngx.worker.pid() .. "/fd")
  for line in p:lines() do
    local inode = line:match("socket:%[(%d+)%]")
    if inode and to[inode] then out[inode] = true end
  end
  p:close()
  return out
end

-- the cosocket transport on its own: { url =, method =, headers =, body = (or body_bytes = n: n "x"),
-- opts = {…}, cache = name, lines = true (send headers as the transport's
-- prebuilt block), timeout =, connect_timeout =, once = } -> { res = { status, headers, body }, terr,
-- stats, elapsed, rss_before, rss_after (KiB), lines_err, origins, left_open (with watch_port =) }
local raw_transports = {}
function _M.raw()
  local spec = read_spec()
  local cosocket = require "konnect.transport.cosocket"
  local t = spec.cache and raw_transports[spec.cache]
  if not t then
    t = cosocket.new(spec.opts or {})
    if spec.cache then raw_transports[spec.cache] = t end
  end
  local url = spec.url
  if type(url) == "string" and url:sub(1, 1) == "/" then url = "http://127.0.0.1:" .. ngx.var.server_port .. url end
  local body = spec.body or (spec.body_bytes and string.rep("x", spec.body_bytes))
  local req = { method = spec.method or "GET", url = url, headers = spec.headers or {}, body = body,
                timeout = spec.timeout, connect_timeout = spec.connect_timeout, once = spec.once }
  local lines_err
  if spec.lines then req.header_lines, lines_err = cosocket.header_lines(req.headers) end
  if spec.block then req.header_lines = spec.block end
  collectgarbage()
  collectgarbage("stop") -- (a collection would close a socket the transport forgot: left_open tells)
  local before = spec.watch_port and sockets_to(spec.watch_port)
  local rss_before = rss_kib()
  ngx.update_time()
  local t0 = ngx.now()
  local ok, res, terr = pcall(t.request, t, req)
  ngx.update_time()
  local elapsed = ngx.now() - t0
  local rss_after = rss_kib()
  local left_open -- sockets to watch_port made by this call and still open when it returned
  if before then
    left_open = 0
    for inode in pairs(sockets_to(spec.watch_port)) do
      if not before[inode] then left_open = left_open + 1 end
    end
  end
  collectgarbage("restart")
  if not ok then terr, res = { kind = "raised", message = tostring(res) }, nil end
  local origins = 0 -- the scheme://host:port entries the transport keeps (limits.ORIGINS_KEPT)
  for _ in pairs(t.origins or {}) do origins = origins + 1 end
  return reply({ res = res, terr = terr, stats = t.stats, user_agent_suffix = t.user_agent_suffix(),
                 elapsed = elapsed, rss_before = rss_before, rss_after = rss_after, lines_err = lines_err,
                 origins = origins, left_open = left_open })
end

-- log phase: no cosockets there
-- (?transport=curl: the same call with transport = "curl", recorded under "log_curl")
function _M.call_in_log()
  local curl = ngx.var.arg_transport == "curl"
  local out = run({ client = { transport = curl and "curl" or nil }, op = "list", args = { ALICE } })
  ngx.shared.konnect_test:set(curl and "log_curl" or "log", cjson.encode(out))
end

-- the cosocket transport's User-Agent suffix for other ngx_lua versions: { versions = { n, … } }
-- -> { suffixes = { … } }.  ngx.config.ngx_lua_version encodes 0.9.3 as 9003 (lua-nginx-module's
-- README, "ngx.config.ngx_lua_version"); set for the call only, then put back.
function _M.ua_suffix()
  local spec = read_spec()
  local cosocket = require "konnect.transport.cosocket"
  local real, out = ngx.config.ngx_lua_version, {}
  for i, v in ipairs(spec.versions or {}) do
    ngx.config.ngx_lua_version = v
    out[i] = cosocket.user_agent_suffix()
  end
  ngx.config.ngx_lua_version = real
  return reply({ suffixes = out, real = cosocket.user_agent_suffix(), real_version = real })
end

function _M.recorded()
  local key = ngx.var.arg_key or "init_worker"
  local v = ngx.shared.konnect_test:get(key)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(v or "null")
end

-- init_worker: a direct call must fail with invalid_context; the same call
-- from ngx.timer.at(0, …) (what the error advises) works.
function _M.init_worker()
  local dict = ngx.shared.konnect_test
  local out = run({ client = {}, op = "list", args = { ALICE } })
  dict:set("init_worker", cjson.encode(out))
  ngx.timer.at(0, function()
    dict:set("init_worker_timer", cjson.encode(run({ client = {}, op = "me" })))
  end)
end

return _M
