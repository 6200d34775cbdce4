-- Configuration of konnect-pat-rotator.  Attach it to a Service whose host and
-- port are the Konnect API's (server_url) and that verifies TLS (tls_verify =
-- true): in the access phase it sets `Authorization: Bearer <the node's
-- current token>` on the proxied request.  It refuses consumer scope (the token
-- belongs to the node, not to a caller).
--
-- No `require`: Konnect's custom-plugin schema upload (for hybrid data planes)
-- refuses one, so the two typedefs used are written out here, as Kong 3.x
-- defines them (kong/db/schema/typedefs.lua: no_consumer, protocols_http; the
-- http protocols are those of kong/constants.lua PROTOCOLS_WITH_SUBSYSTEM whose
-- subsystem is "http").  `ngx` is a global wherever Kong loads a schema; the
-- `ngx and` guard only keeps the file loadable by a tool without it.
local null = ngx and ngx.null -- luacheck: ignore 113
local HTTP_PROTOCOLS = { "grpc", "grpcs", "http", "https" }

return {
  name = "konnect-pat-rotator",
  fields = {
    { consumer = { type = "foreign", reference = "consumers", eq = null } },
    { protocols = { type = "set", required = true, default = HTTP_PROTOCOLS,
                    elements = { type = "string", one_of = HTTP_PROTOCOLS } } },
    { config = {
        type = "record",
        fields = {
          { server_url = { type = "string", required = true, default = "https://global.api.konghq.com",
                           match = "^https?://[^/?#]+/?$" } },
          -- manages the node's token (list, create, revoke, delete); never sent to a service.
          -- A personal access token of user_id.  Keep it in a vault:
          -- {vault://env/konnect-admin-token} reads KONNECT_ADMIN_TOKEN.
          { admin_token = { type = "string", required = true, encrypted = true, referenceable = true } },
          { user_id = { type = "string", required = true, default = "me" } },
          -- tokens are named "<token_name>.konnect-pat-rotator.<node name>"; the plugin owns
          -- every token of user_id whose name starts with "<token_name>.konnect-pat-rotator."
          { token_name = { type = "string", required = true, default = "kong", len_min = 1, len_max = 160,
                           match = "^[%w][%w _%-%.']*$" } },
          -- this node's name in its token's name; unset: the host name (kong.node.get_hostname()).
          -- Must differ between the nodes of one user; a vault reference ({vault://env/…})
          -- gives each node its own value.
          { node_name = { type = "string", required = false, referenceable = true, len_max = 64 } },
          { ttl_seconds = { type = "integer", required = true, default = 172800, between = { 86400, 31536000 } } },
          -- rotate when the token has less than this left (must be < ttl_seconds)
          { rotate_before = { type = "integer", required = true, default = 86400, gt = 0 } },
          -- how often (seconds) the node checks its token with Konnect and uses it once (its heartbeat)
          { check_interval = { type = "number", required = true, default = 600, between = { 1, 86400 } } },
          -- a token of this plugin (same user and token_name) whose last use (or creation) is
          -- older than this many seconds belongs to a node that is gone: it is revoked and deleted.
          -- At least 3 x check_interval (a live node uses its token at every check).
          { sweep_after = { type = "number", required = true, default = 3600, gt = 0 } },
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
    { custom_entity_check = {
        field_sources = { "config.sweep_after", "config.check_interval" },
        fn = function(entity)
          local c = entity.config or {}
          local sweep, every = c.sweep_after, c.check_interval
          if type(sweep) == "number" and type(every) == "number" and sweep < 3 * every then
            return nil, ("sweep_after (%s) must be at least 3 x check_interval (%s): a live node proves "
              .. "it is alive only once per check"):format(sweep, every)
          end
          return true
        end,
    } },
  },
}
