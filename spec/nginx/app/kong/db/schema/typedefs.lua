-- Test shim for Kong's kong.db.schema.typedefs: just enough for the example
-- plugin's schema.lua to load outside Kong (the real module is far richer).
local function shorthand(name) return { type = "foreign", reference = name, eq = ngx.null } end
return {
  no_consumer = shorthand("consumers"),
  no_route = shorthand("routes"),
  no_service = shorthand("services"),
  protocols_http = { type = "set", elements = { type = "string" }, default = { "http", "https" } },
}
