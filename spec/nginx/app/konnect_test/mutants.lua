-- konnect_test.mutants: the nginx side of spec/nginx/mutants_nginx.lua (tests
-- added for mutants of scripts/mutants.lua that survived the other suites).

local cjson = require "cjson.safe"
local pats = require "konnect.pats"

-- luacheck: globals ngx
local _M = {}

local ALICE = "00000000-0000-4000-8000-0000000a11ce"

-- one client for the worker (as a module-level client in an application):
-- first used in the content phase, then in the log phase
local client
local function shared_client()
  if not client then
    client = assert(pats.new { token = "kpat_fake_alice_bootstrap", server_url = os.getenv("FAKE_KONNECT_HTTP"),
                               retries = false })
  end
  return client
end

local function view(ok, v, err)
  if not ok then return { raised = tostring(v) } end
  return { ok = v ~= nil, kind = err and err.kind, message = err and err.message, phase = ngx.get_phase() }
end

function _M.content()
  local c = shared_client()
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(view(pcall(c.list, c, ALICE))))
end

function _M.log()
  local c = shared_client()
  ngx.shared.konnect_test:set("mutants_log", cjson.encode(view(pcall(c.list, c, ALICE))))
end

-- A response whose bytes keep coming until late in the caller's attempt, then
-- stop (the connection stays open): Content-Length 1000, one byte every 0.05 s
-- for ?secs= seconds (default 0.8), then ?silence= seconds (default 4) of nothing.
function _M.late_silence()
  local sock = assert(ngx.req.socket(true))
  sock:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
  ngx.update_time()
  local t0, secs = ngx.now(), tonumber(ngx.var.arg_secs) or 0.8
  while ngx.now() - t0 < secs do
    if not sock:send("a") then return end
    ngx.sleep(0.05)
    ngx.update_time()
  end
  ngx.sleep(tonumber(ngx.var.arg_silence) or 4)
end

-- A chunked body whose second chunk-size line is empty (no digits at all),
-- followed by what would pass for the end of the body; then the connection closes.
function _M.empty_chunk_line()
  local sock = assert(ngx.req.socket(true))
  sock:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    .. "2\r\n{}\r\n\r\n\r\n")
end

-- A response after which the client must not reuse the connection; the
-- connection stays open anyway, and a client that sends another request on it
-- gets {"reused":true}.
local function reuse_trap(response)
  local sock = assert(ngx.req.socket(true))
  sock:send(response)
  sock:settimeout(3000)
  local head = sock:receiveuntil("\r\n\r\n")
  if head(8192) then
    local body = '{"reused":true}'
    sock:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body)
  end
end

-- Transfer-Encoding: chunked and Content-Length together (RFC 9112 6.3: the
-- client must close the connection after such a response)
function _M.te_and_cl()
  reuse_trap("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    .. "Content-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
end

-- Connection: close on a response framed by Content-Length (the server said it closes)
function _M.says_close()
  reuse_trap("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
end

return _M
