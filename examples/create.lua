#!/usr/bin/env lua
-- Mint a short-lived token for a CI job and print its secret (once) on stdout:
--   KONNECT_TOKEN=kpat_… lua examples/create.lua NAME [TTL_SECONDS]
local pats = require "konnect.pats"

local client = assert(pats.new { token = os.getenv("KONNECT_TOKEN"), server_url = os.getenv("KONNECT_SERVER_URL"),
                                 ca_file = os.getenv("KONNECT_CA_FILE") })
local tok, err = client:create("me", { name = arg[1] or "ci", ttl_seconds = tonumber(arg[2]) or 86400 })
if not tok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
io.stderr:write(("created %s (%s), expires %s\n"):format(tok.id, tok.name, tok.expires_at))
io.stdout:write(tok.konnect_token, "\n")
