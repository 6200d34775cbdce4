-- konnect.transport.curl: the transport over the C core (libcurl).
-- One connection (one reused easy handle) per client: keep-alive and TLS
-- sessions survive between calls.  Created lazily, in the process that uses it.

local core = require "konnect.core"

local pairs, tostring, concat = pairs, tostring, table.concat

local _M = { name = "curl" }
local mt = { __index = _M, __name = "konnect.transport.curl" }

--- new(opts) -> transport.  opts: timeout, connect_timeout, ca_file, ca_path,
--- proxy (a URL, or nil: no proxy at all), user_agent, max_body, http_version.
function _M.new(opts)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  return setmetatable({ opts = o, conn = false, multi = false }, mt)
end

local function connection(self)
  local conn = self.conn
  if not conn then
    local err, kind
    conn, err, kind = core.new(self.opts)
    if not conn then return nil, err, kind end
    self.conn = conn
  end
  return conn
end

-- A failure of core.new / core.multi (nil, message, kind): system for the
-- environment, invalid_argument for a caller's mistake.
local function setup_error(err, kind)
  return { kind = kind, message = err, sent = false }
end

-- { Name = value } -> a header list built once in C (core.headers), handed
-- to libcurl request after request.  nil, message when C refuses it.
local function header_lines(headers)
  local lines, n = {}, 0
  for k, v in pairs(headers) do
    n = n + 1
    lines[n] = concat { k, ": ", v }
  end
  return core.headers(lines)
end
_M.header_lines = header_lines

local function lines_of(req)
  if req.header_lines then return req.header_lines end
  local h, err = header_lines(req.headers)
  if not h then return nil, { kind = "invalid_argument", message = tostring(err), sent = false } end
  return h
end

--- request(req) -> res | nil, terr  (see HACKING.md, "Transport contract")
function _M:request(req)
  local conn = self.conn
  if not conn then
    local err, kind
    conn, err, kind = connection(self)
    if not conn then return nil, setup_error(err, kind) end
  end
  local h = req.header_lines
  if not h then
    local herr
    h, herr = lines_of(req)
    if not h then return nil, herr end
  end
  return conn:request(req.method, req.url, h, req.body, req.once, req.timeout)
end

--- request_many(reqs, concurrency) -> array of res | terr, in input order.
function _M:request_many(reqs, concurrency)
  local m = self.multi
  if not m then
    local err, kind
    m, err, kind = core.multi(self.opts)
    if not m then
      local out = {}
      for i = 1, #reqs do out[i] = setup_error(err, kind) end
      return out
    end
    self.multi = m
  end
  local items, failed = {}, nil
  for i = 1, #reqs do
    local r = reqs[i]
    local h, herr = lines_of(r)
    if not h then
      failed = failed or {}
      failed[i] = herr
      h = false
    end
    items[i] = { r.method, r.url, h, r.body, r.once, r.timeout }
  end
  if not failed then return m:request_many(items, concurrency) end
  -- run the others; the refused ones keep their error, in place
  local run, map = {}, {}
  for i = 1, #items do
    if not failed[i] then run[#run + 1] = items[i]; map[#run] = i end
  end
  local out = {}
  for i in pairs(failed) do out[i] = failed[i] end
  if #run > 0 then
    local results = m:request_many(run, concurrency)
    for k = 1, #run do out[map[k]] = results[k] end
  end
  return out
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
