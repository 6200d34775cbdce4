-- Configuration of konnect-pat-rotator.  Attach it to a Service whose host is
-- the Konnect API (or to a Route of that Service): in the access phase it sets
-- `Authorization: Bearer <the node's current token>` on the proxied request.
-- It refuses consumer scope (the token belongs to the node, not to a caller).
local typedefs = require "kong.db.schema.typedefs"

return {
  name = "konnect-pat-rotator",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { server_url = { type = "string", required = true, default = "https://global.api.konghq.com",
                           match = "^https?://[^/?#]+/?$" } },
          -- manages the node's token (list, create, rotate, delete); never sent to a service.
          -- Keep it in a vault: {vault://env/konnect-admin-token} reads KONNECT_ADMIN_TOKEN.
          { admin_token = { type = "string", required = true, encrypted = true, referenceable = true } },
          { user_id = { type = "string", required = true, default = "me" } },
          -- the token is named "<token_name>-<kong node id>": one token per node
          { token_name = { type = "string", required = true, default = "kong", len_min = 1, len_max = 200,
                           match = "^[%w][%w _%-%.']*$" } },
          { ttl_seconds = { type = "integer", required = true, default = 172800, between = { 86400, 31536000 } } },
          -- rotate when the token has less than this left (must be < ttl_seconds)
          { rotate_before = { type = "integer", required = true, default = 86400, gt = 0 } },
          -- how often (seconds) the node checks with Konnect that its token is still there and ACTIVE
          { check_interval = { type = "number", required = true, default = 600, gt = 0 } },
          { timeout = { type = "number", required = true, default = 10, between = { 1, 300 } } },
          { shm = { type = "string", required = true, default = "konnect_pats" } },
        },
    } },
  },
  entity_checks = {
    { custom_entity_check = {
        field_sources = { "config.ttl_seconds", "config.rotate_before" },
        fn = function(entity)
          local c = entity.config or {}
          local ttl, before = c.ttl_seconds, c.rotate_before
          if type(ttl) == "number" and type(before) == "number" and before >= ttl then
            return nil, ("rotate_before (%d) must be less than ttl_seconds (%d): otherwise every new token is "
              .. "already due and the node would rotate on every check"):format(before, ttl)
          end
          return true
        end,
    } },
  },
}
