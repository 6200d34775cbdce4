#!/usr/bin/env lua
-- Revoke a leaked token at 3 a.m.:
--   KONNECT_TOKEN=kpat_… lua examples/revoke.lua TOKEN_ID [USER_ID|me]
local pats = require "konnect.pats"

local client = assert(pats.new { token = os.getenv("KONNECT_TOKEN"), server_url = os.getenv("KONNECT_SERVER_URL"),
                                 ca_file = os.getenv("KONNECT_CA_FILE") })
local tok, err = client:revoke(arg[2] or "me", arg[1])
if not tok then
  io.stderr:write(tostring(err), "\n")
  os.exit(err.kind == "invalid_argument" and 2 or 1)
end
print(("revoked %s (%s) at %s"):format(tok.id, tok.name, tok.revoked_at or "?"))
