-- konnect.transport.curl: the transport over the C core (libcurl).
-- One connection (one reused easy handle) per client: keep-alive and TLS
-- sessions survive between calls.  Created lazily, in the process that uses it.

local core = require "konnect.core"

local pairs, concat = pairs, table.concat

local _M = { _VERSION = "0.1.0", name = "curl" }
local mt = { __index = _M, __name = "konnect.transport.curl" }

--- new(opts) -> transport.  opts: timeout, connect_timeout, ca_file, ca_path,
--- proxy, user_agent, max_body, http_version.
function _M.new(opts)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  return setmetatable({ opts = o, conn = false, multi = false }, mt)
end

local function connection(self)
  local conn = self.conn
  if not conn then
    local err
    conn, err = core.new(self.opts)
    if not conn then return nil, err end
    self.conn = conn
  end
  return conn
end

-- { Name = value } -> a header list built once in C (core.headers), handed
-- to libcurl request after request
local function header_lines(headers)
  local lines, n = {}, 0
  for k, v in pairs(headers) do
    n = n + 1
    lines[n] = concat { k, ": ", v }
  end
  return assert(core.headers(lines))
end
_M.header_lines = header_lines

--- request(req) -> res | nil, terr  (see HACKING.md, "Transport contract")
function _M:request(req)
  local conn, err = connection(self)
  if not conn then
    return nil, { kind = "invalid_argument", message = err, sent = false }
  end
  return conn:request(req.method, req.url, req.header_lines or header_lines(req.headers), req.body, req.once)
end

--- request_many(reqs, concurrency) -> array of res | terr, in input order.
function _M:request_many(reqs, concurrency)
  local m = self.multi
  if not m then
    local err
    m, err = core.multi(self.opts)
    if not m then
      local out = {}
      for i = 1, #reqs do out[i] = { kind = "invalid_argument", message = err, sent = false } end
      return out
    end
    self.multi = m
  end
  local items = {}
  for i = 1, #reqs do
    local r = reqs[i]
    items[i] = { r.method, r.url, r.header_lines or header_lines(r.headers), r.body, r.once }
  end
  return m:request_many(items, concurrency)
end

_M.sleep = core.sleep
_M.now = core.monotime

function _M:close()
  if self.conn then self.conn:close(); self.conn = false end
  if self.multi then self.multi:close(); self.multi = false end
  return true
end

function _M.user_agent_suffix()
  return core.curl_version()
end

return _M
