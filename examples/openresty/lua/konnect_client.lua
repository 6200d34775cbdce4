-- One konnect.pats client per worker, configured from the environment
-- (nginx.conf names the variables with `env`).  Safe to share between
-- requests and timers: the cosocket transport holds no socket between calls,
-- connections live in nginx's keepalive pool.
local pats = require "konnect.pats"

local _M = {}

local client

function _M.get()
  if client then return client end
  local c, err = pats.new {
    token = os.getenv("KONNECT_TOKEN"),
    server_url = os.getenv("KONNECT_SERVER_URL"),
    timeout = 10,
  }
  if not c then return nil, err end
  client = c
  return c
end

return _M
