-- Configuration of konnect-pat-rotator.  A global plugin (no consumer, route
-- or service scope makes sense for a node-wide background job).
local typedefs = require "kong.db.schema.typedefs"

return {
  name = "konnect-pat-rotator",
  fields = {
    { consumer = typedefs.no_consumer },
    { route = typedefs.no_route },
    { service = typedefs.no_service },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { server_url = { type = "string", required = true, default = "https://global.api.konghq.com" } },
          -- creates the managed token; keep it in a vault: {vault://env/konnect-bootstrap}
          { bootstrap_token = { type = "string", required = true, encrypted = true, referenceable = true } },
          { user_id = { type = "string", required = true, default = "me" } },
          { token_name = { type = "string", required = true, default = "kong-managed" } },
          { ttl_seconds = { type = "integer", required = true, default = 2592000, between = { 86400, 31536000 } } },
          -- rotate when the token has less than this left
          { rotate_before = { type = "integer", required = true, default = 604800, gt = 0 } },
          { check_interval = { type = "number", required = true, default = 3600, gt = 0 } },
          { timeout = { type = "number", required = true, default = 10, gt = 0 } },
          { shm = { type = "string", required = true, default = "konnect_pats" } },
        },
    } },
  },
}
