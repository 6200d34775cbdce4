-- konnect: entry point.  `require "konnect.pats"` is the API; this module
-- only gathers the public pieces.
local pats = require "konnect.pats"

return {
  _VERSION = pats._VERSION,
  pats = pats,
  errors = pats.errors,
  new = pats.new,
}
