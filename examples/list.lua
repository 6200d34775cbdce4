#!/usr/bin/env lua
-- List a user's tokens:  KONNECT_TOKEN=kpat_… lua examples/list.lua [USER_ID|me]
local pats = require "konnect.pats"

local client = assert(pats.new { token = os.getenv("KONNECT_TOKEN"), server_url = os.getenv("KONNECT_SERVER_URL"),
                                 ca_file = os.getenv("KONNECT_CA_FILE") })
local list, err = client:list(arg[1] or "me")
if not list then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
for _, t in ipairs(list.data) do
  print(("%-36s  %-8s  %-24s  %s"):format(t.id, t.state, t.expires_at or "-", t.name))
end
