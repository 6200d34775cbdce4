-- Stand-in for Kong's kong.db.schema.typedefs, only for plugin schemas that
-- `require` it (Kong itself allows that; Konnect's custom-plugin upload does
-- not, and konnect-pat-rotator no longer does).  The two typedefs a plugin
-- schema usually takes, as kong/db/schema/typedefs.lua defines them:
-- no_consumer (a foreign key that must be null) and protocols_http (every
-- protocol of kong/constants.lua PROTOCOLS_WITH_SUBSYSTEM whose subsystem is
-- "http": grpc, grpcs, http, https; required, defaulting to all four).
local HTTP_PROTOCOLS = { "grpc", "grpcs", "http", "https" }
local function foreign_null(name) return { type = "foreign", reference = name, eq = ngx.null } end
return {
  no_consumer = foreign_null("consumers"),
  no_route = foreign_null("routes"),
  no_service = foreign_null("services"),
  protocols_http = { type = "set", required = true, default = HTTP_PROTOCOLS,
                     elements = { type = "string", one_of = HTTP_PROTOCOLS } },
}
