-- Test support: every request a client sends and every answer it gets,
-- checked against the whole-surface contract (spec/konnect-tokens-openapi.yaml)
-- from the client's own hooks: the request as it goes on the wire (method,
-- path, query, JSON body) and the response as it came (status, content type,
-- decoded body).  The hook views are redacted copies; a redacted secret is
-- still a string, so the schemas hold.
--
--   local check = require("support.contract_check").new()
--   local client = fake.client { hooks = check.hooks, token = fake.ADMIN_TOKEN }
--   … calls …
--   assert.same({}, check.violations)   -- check.seen[operation_id] counts, check.urls every URL
local openapi = require("support.openapi").tokens
local json = require "konnect.json"

local M = {}

-- "/v3/system-accounts/{accountId}/access-tokens" -> a Lua pattern of the path
local function path_pattern(template)
  return "^" .. template:gsub("[%-%.]", "%%%0"):gsub("{[^}]+}", "[^/]+") .. "$"
end

function M.new()
  local self = { violations = {}, seen = {}, requests = 0, urls = {} }
  local function violation(what)
    self.violations[#self.violations + 1] = what
  end
  self.hooks = {
    before_request = function(v)
      self.requests = self.requests + 1
      self.urls[self.requests] = v.url
      local id = v.operation
      self.seen[id] = (self.seen[id] or 0) + 1
      local op = openapi.operation(id)
      if not op then return violation("unknown operation " .. tostring(id)) end
      if op.method ~= v.method then violation(id .. ": method " .. v.method .. ", the contract says " .. op.method) end
      local path, query = v.url:match("^%a+://[^/]+([^?]*)%??(.*)$")
      if not path or not path:find(path_pattern(op.path)) then
        violation(id .. ": path " .. tostring(path) .. " is not " .. op.path)
      end
      local ok, why = openapi.validate_query(id, query or "")
      if not ok then violation(why) end
      local body = v.body and json.decode(v.body) or nil
      ok, why = openapi.validate_request(id, body)
      if not ok then violation(id .. " request body: " .. tostring(why)) end
    end,
    after_response = function(v)
      if not v.status then return end
      local ctype = v.headers and v.headers["content-type"]
      local body = v.body
      if body and body ~= "" then body = json.decode(body) end
      local ok, why = openapi.validate_response(v.operation, v.status, ctype, body)
      -- the fake's statuses outside the contract (fake_konnect/README.md) are
      -- the server's business, not the client's: only the client's requests
      -- and the answers the contract lists are held to it here
      if not ok and not why:find("is not listed in the contract", 1, true) then violation(why) end
    end,
  }
  return self
end

return M
