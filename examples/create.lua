#!/usr/bin/env lua
-- Mint a short-lived token for a CI job and print its secret (once) on stdout:
--   KONNECT_TOKEN=kpat_… lua examples/create.lua NAME [TTL_SECONDS]
-- It uses the checkout's lua/ and build/<v>/ when there is a `make` build for the
-- interpreter running it, else the installed lua-konnect (examples/checkout.lua).
pcall(dofile, ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/checkout.lua")
local USAGE = "usage: KONNECT_TOKEN=kpat_… lua examples/create.lua NAME [TTL_SECONDS]"
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
local ttl = arg[2] and tonumber(arg[2])
if arg[2] and not ttl then usage() end
local tok, err = client:create("me", { name = arg[1], ttl_seconds = ttl or 86400 })
if not tok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
io.stderr:write(("created %s (%s), expires %s\n"):format(tok.id, tok.name, tok.expires_at))
io.stdout:write(tok.konnect_token, "\n")
