#!/usr/bin/env lua
-- A tour of all six Personal Access Token operations.
--
--   KONNECT_TOKEN=kpat_… lua examples/tour.lua          # real Konnect
--   make demo                                           # the fake Konnect
--
-- Environment: KONNECT_TOKEN (required), KONNECT_SERVER_URL (default: the
-- global Konnect API), KONNECT_CA_FILE (a CA bundle, for the fake server's TLS).
-- It creates one short-lived token, renames, revokes and deletes it.
-- It uses the checkout's lua/ and build/<v>/ when there is a `make` build for the
-- interpreter running it, else the installed lua-konnect (examples/checkout.lua).
pcall(dofile, ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/checkout.lua")
local USAGE = "usage: KONNECT_TOKEN=kpat_… lua examples/tour.lua  (KONNECT_SERVER_URL, KONNECT_CA_FILE optional)"
local function usage()
  io.stderr:write(USAGE, "\n")
  os.exit(2)
end
if (os.getenv("KONNECT_TOKEN") or "") == "" then usage() end
local pats = require "konnect.pats"
io.stdout:setvbuf("line")

local function step(title) io.write(("\n== %s\n"):format(title)) end

local function show(tok)
  print(("  %-22s %s"):format("id", tok.id))
  print(("  %-22s %s"):format("name", tok.name))
  print(("  %-22s %s"):format("state", tok.state))
  print(("  %-22s %s"):format("expires_at", tok.expires_at or "never"))
  print(("  %-22s %s"):format("last_used_at", tok.last_used_at or "never used"))
end

-- Stop with the error's one-line description (never contains the token).
local function check(v, err)
  if v == nil then
    io.stderr:write("tour failed: ", tostring(err), "\n")
    os.exit(1)
  end
  return v
end

local client = check(pats.from_env()) -- KONNECT_TOKEN, KONNECT_SERVER_URL, KONNECT_CA_FILE
print("client: " .. tostring(client))

step("who am I (GET /v3/users/me)")
local me = check(client:me())
print(("  %s <%s>, user id %s"):format(me.full_name or "?", me.email or "?", me.id))

step("list my tokens")
local list = check(client:list(me.id))
print(("  %d token(s)"):format(#list.data))
for _, t in ipairs(list.data) do print(("  - %-30s %s %s"):format(t.name, t.id, t.state)) end

step("create a token that lives one day")
local tok = check(client:create(me.id, { name = "lua-konnect tour", ttl_seconds = 86400 }))
show(tok)
-- The secret comes back exactly once; a real job would store it now.
print(("  %-22s %s… (%d characters; shown once — store it now)"):format(
  "konnect_token", tok.konnect_token:sub(1, 5), #tok.konnect_token))

step("get it back")
show(check(client:get(me.id, tok.id)))

step("rename it")
show(check(client:update(me.id, tok.id, { name = "lua-konnect tour renamed" })))

step("revoke it")
show(check(client:revoke(me.id, tok.id)))

step("delete it")
print("  deleted: " .. tostring(check(client:delete(me.id, tok.id))))

step("errors are values, not exceptions")
local _, err = client:get(me.id, tok.id)
print("  get after delete -> " .. tostring(err))
print(("  err.kind = %s, err.status = %s, err:is('not_found') = %s"):format(err.kind, tostring(err.status),
  tostring(err:is("not_found"))))
local _, verr = client:create(me.id, { name = "ci", ttl_seconds = 60 })
print("  bad ttl -> " .. tostring(verr))

print("\ntour complete")
