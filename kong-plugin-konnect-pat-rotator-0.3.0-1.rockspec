rockspec_format = "3.0"
package = "kong-plugin-konnect-pat-rotator"
version = "0.3.0-1"
-- The plugin lives in the lua-konnect repository (examples/kong-plugin); its
-- releases are tagged kong-plugin-konnect-pat-rotator-<version>.  Its version is
-- the handler's VERSION (scripts/release-check.sh checks both agree).
source = {
  url = "git+https://github.com/lua-konnect/lua-konnect.git",
  tag = "kong-plugin-konnect-pat-rotator-0.3.0",
}
description = {
  summary = "Kong plugin: keeps a short-lived Konnect personal access token per node and adds it to requests proxied to Konnect",
  detailed = [[
    konnect-pat-rotator creates one Konnect personal access token per Kong node,
    rotates it before it expires, retires the tokens of nodes that are gone, and
    sets Authorization: Bearer <token> on the requests Kong proxies to the Konnect
    API (over verified TLS only).  Kong 3.x; traditional nodes and hybrid data
    planes.  Enable with plugins = bundled,konnect-pat-rotator.
  ]],
  homepage = "https://github.com/lua-konnect/lua-konnect",
  license = "Apache-2.0",
  labels = { "kong", "konnect", "plugin", "openresty" },
}
dependencies = {
  "lua >= 5.1",
  "lua-konnect >= 0.3.0",
}
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.konnect-pat-rotator.handler"] = "examples/kong-plugin/kong/plugins/konnect-pat-rotator/handler.lua",
    ["kong.plugins.konnect-pat-rotator.manager"] = "examples/kong-plugin/kong/plugins/konnect-pat-rotator/manager.lua",
    ["kong.plugins.konnect-pat-rotator.schema"] = "examples/kong-plugin/kong/plugins/konnect-pat-rotator/schema.lua",
  },
}
