#!/usr/bin/env lua
-- List a user's tokens:  KONNECT_TOKEN=kpat_… lua examples/list.lua [USER_ID|me]
-- It uses the checkout's lua/ and build/<v>/ when there is a `make` build for the
-- interpreter running it, else the installed lua-konnect (examples/checkout.lua).
pcall(dofile, ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/checkout.lua")
local USAGE = "usage: KONNECT_TOKEN=kpat_… lua examples/list.lua [USER_ID|me]"
local function usage()
  io.stderr:write(USAGE, "\n")
  os.exit(2)
end
if (os.getenv("KONNECT_TOKEN") or "") == "" then usage() end
local pats = require "konnect.pats"
local time = require "konnect.time" -- the library's dates (docs/API.md: require "konnect.time")

-- KONNECT_TOKEN, KONNECT_SERVER_URL (default: the global Konnect API), KONNECT_CA_FILE
local client, cerr = pats.from_env()
if not client then -- not assert(): Lua 5.1's assert takes only a string message
  io.stderr:write(tostring(cerr), "\n")
  os.exit(2)
end
local list, err = client:list(arg[1] or "me")
if not list then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

-- "in 29 days", "3 days ago", "never": konnect.time.relative, the phrase the CLI
-- prints too (rounded to the nearest day; hours under two days).  expires_at is
-- absent (JSON null) for a token that never expires.
local function expiry(t)
  if t.expires_at == nil then return "never" end
  return time.relative(t.expires_at) or t.expires_at
end

for _, t in ipairs(list.data) do
  print(("%-36s  %-8s  %-14s  %s"):format(t.id, t.state, expiry(t), t.name))
end
