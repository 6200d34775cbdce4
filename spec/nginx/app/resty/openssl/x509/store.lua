-- Stand-in for lua-resty-openssl's resty.openssl.x509.store (shipped with Kong,
-- not with Debian's nginx): new() and load_file(path), with the same returns
-- (fffonion/lua-resty-openssl lib/resty/openssl/x509/store.lua: new() -> store
-- | nil, err; store:load_file(path) -> true | false, err from
-- X509_STORE_load_locations).  It keeps the file names instead of an OpenSSL
-- X509_STORE: the kong shim (konnect_test/kong.lua) turns a store into an nginx
-- location whose proxy_ssl_trusted_certificate is that file, so nginx's own TLS
-- code does the verification.  A file must exist and hold a PEM certificate
-- (a guess at the least OpenSSL would accept).

local _M = {}
local mt = { __index = _M }

function _M.new()
  return setmetatable({ files = {} }, mt)
end

function _M:load_file(path)
  if type(path) ~= "string" then return false, "expect a string at #1" end
  local f = io.open(path)
  local pem = f and f:read("*a")
  if f then f:close() end
  if not pem or not pem:find("-----BEGIN CERTIFICATE-----", 1, true) then
    return false, "store:load_file: X509_STORE_load_locations() failed: " .. path
  end
  self.files[#self.files + 1] = path
  return true
end

return _M
