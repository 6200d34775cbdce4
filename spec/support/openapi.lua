-- The contract validator lives with the fake server (fake_konnect/spec/openapi.lua);
-- this keeps `require "support.openapi"` working for the library's specs.
local root = debug.getinfo(1, "S").source:match("^@(.-)spec/support/[^/]*$") or ""
return dofile(root .. "fake_konnect/spec/openapi.lua")
