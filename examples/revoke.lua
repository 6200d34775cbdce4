#!/usr/bin/env lua
-- Revoke a leaked token at 3 a.m.:
--   KONNECT_TOKEN=kpat_… lua examples/revoke.lua TOKEN_ID [USER_ID|me]
-- It uses the checkout's lua/ and build/<v>/ when there is a `make` build for the
-- interpreter running it, else the installed lua-konnect (examples/checkout.lua).
pcall(dofile, ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/checkout.lua")
local USAGE = "usage: KONNECT_TOKEN=kpat_… lua examples/revoke.lua TOKEN_ID [USER_ID|me]"
local function usage()
  io.stderr:write(USAGE, "\n")
  os.exit(2)
end
if (os.getenv("KONNECT_TOKEN") or "") == "" or not arg[1] then usage() end
local pats = require "konnect.pats"

-- KONNECT_TOKEN, KONNECT_SERVER_URL (default: the global Konnect API), KONNECT_CA_FILE
local client, cerr = pats.from_env()
if not client then -- not assert(): Lua 5.1's assert takes only a string message
  io.stderr:write(tostring(cerr), "\n")
  os.exit(2)
end
local tok, err = client:revoke(arg[2] or "me", arg[1])
if not tok then
  io.stderr:write(tostring(err), "\n")
  os.exit(err.kind == "invalid_argument" and 2 or 1)
end
print(("revoked %s (%s) at %s"):format(tok.id, tok.name, tok.revoked_at or "?"))
