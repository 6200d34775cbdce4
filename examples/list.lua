#!/usr/bin/env lua
-- List a user's tokens:  KONNECT_TOKEN=kpat_… lua examples/list.lua [USER_ID|me]
-- Run from a checkout (lua5.4 examples/list.lua), it uses the checkout's lua/ and
-- build/<version>/ (as bin/konnect-pats does); installed with LuaRocks, the tree's.
pcall(dofile, ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/checkout.lua")
local USAGE = "usage: KONNECT_TOKEN=kpat_… lua examples/list.lua [USER_ID|me]"
local function usage()
  io.stderr:write(USAGE, "\n")
  os.exit(2)
end
if (os.getenv("KONNECT_TOKEN") or "") == "" then usage() end
local pats = require "konnect.pats"
local time = require "konnect.time" -- the library's one RFC 3339 parser

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

-- "in 29 days", "expired", "never"
local function expiry(t)
  local at = time.rfc3339(t.expires_at)
  if not at then return t.expires_at or "never" end
  local days = math.floor((at - os.time()) / 86400)
  if at <= os.time() then return "expired" end
  return ("in %d day%s"):format(days, days >= 2 and "s" or "")
end

for _, t in ipairs(list.data) do
  print(("%-36s  %-8s  %-14s  %s"):format(t.id, t.state, expiry(t), t.name))
end
