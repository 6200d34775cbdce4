#!/usr/bin/env lua
-- List a user's tokens:  KONNECT_TOKEN=kpat_… lua examples/list.lua [USER_ID|me]
local pats = require "konnect.pats"
local time = require "konnect.time" -- the library's one RFC 3339 parser

local client = assert(pats.new { token = os.getenv("KONNECT_TOKEN"), server_url = os.getenv("KONNECT_SERVER_URL"),
                                 ca_file = os.getenv("KONNECT_CA_FILE") })
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
