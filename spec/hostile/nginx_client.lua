-- spec/hostile/nginx_client.lua: the cosocket side of the hostile suite, inside
-- nginx.  GET /run?case=<name>[&rst=<port of rst_server.lua>] runs the case through konnect.pats with
-- transport = "cosocket" (spec/hostile/runner.lua) and answers its outcome as JSON.
local ngx = ngx
local json = require "konnect.json"
local cases = require "cases"
local runner = require "runner"

local M = {}

local function clock()
  ngx.update_time()
  return ngx.now()
end

function M.run()
  local c = cases.by_name[ngx.var.arg_case or ""]
  if not c then return ngx.exit(404) end
  local ok, out = pcall(runner.run, c, {
    base = "http://127.0.0.1:" .. ngx.var.server_port, transport = "cosocket", clock = clock,
    rst_base = tonumber(ngx.var.arg_rst) and ("http://127.0.0.1:" .. ngx.var.arg_rst) or nil,
  })
  if not ok then out = { case = c.name, transport = "cosocket", raised = "runner: " .. tostring(out), leaks = {} } end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(out))
end

-- GET /sample?seed=&n=: the fuzz sample through the cosocket transport -> { failures, count }
function M.sample()
  local server = require "server"
  local sample = require "sample"
  local ok, failures, count = pcall(sample.run, {
    seed = tonumber(ngx.var.arg_seed) or 1, n = tonumber(ngx.var.arg_n) or 100, token = ngx.var.arg_token,
    base = "http://127.0.0.1:" .. ngx.var.server_port, transport = "cosocket", stash = server.put,
  })
  if not ok then failures, count = { "sample raised: " .. tostring(failures) }, 0 end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode({ failures = failures, count = count }))
end

function M.rss()
  local f = io.open("/proc/self/status")
  local s = f and f:read("*a") or ""
  if f then f:close() end
  ngx.say(s:match("VmRSS:%s*(%d+)") or "-1")
end

return M
