-- bench/baselines/cosocket_floor.lua: the floor for a GET inside nginx.
--
-- What a careful hand-written OpenResty client does for one Konnect GET, and
-- nothing more: a pooled ngx.socket.tcp, one prebuilt request string, the head
-- read with receiveuntil (size-limited), the body by Content-Length, the
-- connection back to the pool, the JSON decoded with cjson.  No retries, no
-- error objects, no hooks, no chunked bodies, no deadline bookkeeping.
-- bench/nginx/run.sh times konnect.pats (transport = "cosocket") against it:
-- same upstream, same request, same worker.
--
--   local floor = require "cosocket_floor"
--   local get = floor.new("127.0.0.1", port, "/v3/users/…/access-tokens/…", token)
--   local value, err = get()

-- luacheck: globals ngx jit
local cjson = require "cjson.safe"

local tcp = ngx.socket.tcp
local tonumber, match, lower = tonumber, string.match, string.lower

local _M = {}

--- new(host, port, path, token) -> get(): value | nil, err
function _M.new(host, port, path, token)
  local request = "GET " .. path .. " HTTP/1.1\r\nHost: " .. host .. ":" .. port ..
    "\r\nAuthorization: Bearer " .. token .. "\r\nAccept: application/json\r\n" ..
    "User-Agent: konnect-floor/0.2 (ngx_lua; " .. (rawget(_G, "jit") and jit.version or _VERSION) .. ")\r\n\r\n"
  local pool = { pool = "floor|" .. host .. "|" .. port }
  return function()
    local sock = tcp()
    sock:settimeout(30000)
    local ok, err = sock:connect(host, port, pool)
    if not ok then return nil, err end
    ok, err = sock:send(request)
    if not ok then sock:close(); return nil, err end
    local head
    head, err = sock:receiveuntil("\r\n\r\n")(65536)
    if not head then sock:close(); return nil, err end
    local status = tonumber(match(head, "^HTTP/1%.%d (%d%d%d)"))
    local len = tonumber(match(lower(head), "\r\ncontent%-length:%s*(%d+)"))
    if not status or not len then sock:close(); return nil, "unexpected response" end
    local body
    body, err = sock:receive(len)
    if not body then sock:close(); return nil, err end
    sock:setkeepalive(60000, 16)
    if status ~= 200 then return nil, "status " .. status end
    return cjson.decode(body)
  end
end

return _M
