-- konnect_test.mock: a Konnect stand-in inside the test nginx, for response
-- framings the fake Konnect does not produce: chunked bodies (several
-- flushes, no Content-Length) and, under /mock-close/, bodies that run until
-- the server closes the connection.  X-Mock: huge sends ~100 KB.

local cjson = require "cjson.safe"

-- luacheck: globals ngx
local _M = {}

local TOKEN = {
  id = "00000000-0000-4000-8000-0000000000aa", name = "mocked", state = "ACTIVE",
  created_at = "2024-01-15T09:30:00Z", updated_at = "2024-01-15T09:30:00Z",
  expires_at = "2034-01-15T09:30:00Z",
}

function _M.handle()
  local mode = ngx.var.http_x_mock or "ok"
  ngx.status = 200
  ngx.header["Content-Type"] = "application/json"
  ngx.header["X-Kong-Request-Id"] = "mock-request"
  ngx.header["X-Repeated"] = { "one", "two" }
  local body
  if mode == "huge" then
    body = '{"data":[],"meta":{"page":{"number":1,"size":0,"total":0}},"padding":"' ..
      string.rep("x", 100000) .. '"}'
  else
    body = cjson.encode({ data = { TOKEN }, meta = { page = { number = 1, size = 10, total = 1 } } })
  end
  -- several writes with flushes: nginx frames them as chunks (or, with
  -- chunked_transfer_encoding off, as a body ended by closing the connection)
  local step = math.ceil(#body / 4)
  for i = 1, #body, step do
    ngx.print(body:sub(i, i + step - 1))
    ngx.flush(true)
  end
end

return _M
