-- POST /admin/tokens/<id>/revoke: revoke one of the caller's tokens now
-- (a leaked one).  Answers the revoked token as JSON, or a problem.
local cjson = require "cjson.safe"
local konnect_client = require "konnect_client"

-- luacheck: globals ngx

local _M = {}

local STATUS = { invalid_argument = 400, not_found = 404, unauthorized = 502, forbidden = 403 }

local function answer(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(value))
  return ngx.exit(status)
end

function _M.revoke(token_id)
  if ngx.req.get_method() ~= "POST" then
    ngx.header["Allow"] = "POST"
    return answer(405, { error = "method_not_allowed" })
  end
  local client, err = konnect_client.get()
  if not client then return answer(500, { error = err.kind, message = err.message }) end
  local tok
  tok, err = client:revoke("me", token_id)
  if not tok then
    ngx.log(err.kind == "invalid_argument" and ngx.WARN or ngx.ERR, "konnect-admin: revoke ", token_id, ": ", err)
    return answer(STATUS[err.kind] or 502, { error = err.kind, message = err.message, trace_id = err.trace_id })
  end
  ngx.log(ngx.WARN, "konnect-admin: revoked ", tok.id, " (", tok.name, ") on request from ", ngx.var.remote_addr)
  return answer(200, { id = tok.id, name = tok.name, state = tok.state })
end

return _M
