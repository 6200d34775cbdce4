-- spec/nginx/client.lua: the specs' side of the OpenResty integration.
-- Talks to the test nginx started by spec/nginx/run.sh over HTTP (with
-- konnect.core, Lua 5.4 build) and decodes its JSON outcomes.
local core = require "konnect.core"
local json = require "konnect.json"
local socket = require "socket"

local M = {}

M.url = os.getenv("KONNECT_NGINX_URL") or error("KONNECT_NGINX_URL is not set: run bash spec/nginx/run.sh", 0)
M.dir = os.getenv("KONNECT_NGINX_DIR")
M.clock = socket.gettime

local conn = assert(core.new { timeout = 30, connect_timeout = 5 })

--- request(method, path, body_table|nil) -> status, decoded body (or raw), seconds
function M.request(method, path, body)
  local headers = { "Accept: application/json" }
  if body then headers[#headers + 1] = "Content-Type: application/json" end
  local t0 = M.clock()
  local res, err = conn:request(method, M.url .. path, headers, body and json.encode(body) or nil)
  local dt = M.clock() - t0
  if not res then error("test nginx " .. path .. ": " .. tostring(err.message), 2) end
  local v = res.body
  if (res.headers["content-type"] or ""):find("json", 1, true) then v = json.decode(res.body) end
  return res.status, v, dt
end

--- call{ op =, args = {…}, client = {…}, cache = name } in the content phase
function M.call(spec, where)
  local status, out = M.request("POST", where or "/call", spec)
  assert(status == 200, "test nginx answered " .. tostring(status) .. ": " .. tostring(out))
  return out
end

--- The shell-quoted curl command line that POSTs `spec` to `path`.
function M.curl_post(path, spec)
  local body = json.encode(spec):gsub("'", "'\\''")
  return string.format("curl -sS -X POST -H 'Content-Type: application/json' -d '%s' '%s%s'",
    body, M.url, path)
end

return M
