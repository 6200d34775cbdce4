#!/usr/bin/env lua
-- Mint a short-lived token for a CI job and print its secret (once) on stdout:
--   KONNECT_TOKEN=kpat_… lua examples/create.lua NAME [TTL_SECONDS]
-- Run from a checkout (lua5.4 examples/create.lua), it uses the checkout's lua/ and
-- build/<version>/ (as bin/konnect-pats does); installed with LuaRocks, the tree's.
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
