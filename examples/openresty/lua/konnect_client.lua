-- One konnect.pats client per worker, configured from the environment
-- (nginx.conf names the variables with `env`; an unset one is nil).  Safe to share between
-- requests and timers: the cosocket transport holds no socket between calls,
-- connections live in nginx's keepalive pool.
local pats = require "konnect.pats"

local _M = {}

local client

function _M.get()
  if client then return client end
  -- KONNECT_TOKEN, KONNECT_SERVER_URL and KONNECT_CA_FILE: the file that
  -- lua_ssl_trusted_certificate names, which lets https connections be kept
  -- alive (a client that names no trust verifies a new connection every call)
  local c, err = pats.from_env { timeout = 10 }
  if not c then return nil, err end
  client = c
  return c
end

return _M
