-- The six operations through the cosocket transport, over HTTP and HTTPS.
local nginx = require "nginx.client"
local fake = require "support.fake"

for _, server in ipairs { "http", "https" } do
  describe("the six operations over " .. server, function()
    before_each(function() fake.reset() end)

    it("create, list, get, update, revoke, delete", function()
      local client = { server = server }
      local function call(op, ...)
        local out = nginx.call { op = op, args = { ... }, client = client }
        assert.equal("content", out.phase)
        assert.same({ "cosocket" }, out.transports)
        return out
      end
      local out = call("create", "me", { name = "from-nginx", ttl_seconds = 86400 })
      assert.is_true(out.ok, out.err and out.err.text)
      local tok = out.value
      assert.matches("^kpat_", tok.konnect_token)
      assert.equal("from-nginx", tok.name)

      out = call("list", fake.ALICE)
      assert.is_true(out.ok, out.err and out.err.text)
      assert.equal(1, #out.value.data)
      assert.equal(tok.id, out.value.data[1].id)

      out = call("get", fake.ALICE, tok.id)
      assert.is_true(out.ok)
      assert.equal("from-nginx", out.value.name)
      assert.is_nil(out.value.konnect_token)

      out = call("update", fake.ALICE, tok.id, { name = "renamed in nginx" })
      assert.is_true(out.ok, out.err and out.err.text)
      assert.equal("renamed in nginx", out.value.name)

      out = call("revoke", fake.ALICE, tok.id)
      assert.is_true(out.ok, out.err and out.err.text)
      assert.equal("REVOKED", out.value.state)

      out = call("delete", fake.ALICE, tok.id)
      assert.is_true(out.ok, out.err and out.err.text)
      assert.is_true(out.value)

      out = call("get", fake.ALICE, tok.id)
      assert.is_false(out.ok)
      assert.equal("not_found", out.err.kind)
      assert.equal(404, out.err.status)
      assert.matches("^kong:trace:", out.err.trace_id)
    end)
  end)
end
