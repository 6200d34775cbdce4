-- bench/baselines/luacurl_cjson.lua: the independent floor of a `get` on LuaJIT
-- (bench/floors.sh).  The same GET as client:get(user, id) written with
-- Debian's lua-curl (Enrico Tassi's `curl` binding 0.3.0 on libcurl: easy_init,
-- setopt, perform; built for Lua 5.1/5.2, so LuaJIT) and lua-cjson: one easy
-- handle reused for every call (libcurl keeps the connection open), the
-- headers the library sends (Authorization, Accept, User-Agent), no proxy from
-- the environment (OPT_PROXY "": libcurl's CURLOPT_PROXY(3), as the library),
-- the status and Content-Type checked, every body decoded into a Lua table.
--
--   luajit bench/baselines/luacurl_cjson.lua URL TOKEN WARMUP N  ->  "n=N wall_s=… cpu_s=…"
-- (benchclock, bench/lib/benchclock.c, on LUA_CPATH: the same clock for every Lua loop)

local curl = require "curl"
local cjson = require "cjson"
local clock = require "benchclock"

local url, token, warmup, n = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
local decode, concat = cjson.decode, table.concat

local easy = curl.easy_init()
local chunks, nchunks, status, json = {}, 0, nil, false
easy:setopt(curl.OPT_URL, url)
easy:setopt(curl.OPT_HTTPHEADER, { "Authorization: Bearer " .. token, "Accept: application/json" })
-- the library's shape and length ("NAME/VERSION (libcurl/X.Y.Z; LuaJIT …)"): libcurl
-- formats the User-Agent line byte by byte, ~100 instructions a byte
easy:setopt(curl.OPT_USERAGENT, "konnect-floor/0.2 (" .. curl.version():match("^%S+") .. "; " .. jit.version .. ")")
easy:setopt(curl.OPT_PROXY, "")
easy:setopt(curl.OPT_NOSIGNAL, 1)
easy:setopt(curl.OPT_WRITEFUNCTION, function(s, len)
  nchunks = nchunks + 1
  chunks[nchunks] = s
  return len
end)
-- this binding has no getinfo: the status and Content-Type come from the header lines
easy:setopt(curl.OPT_HEADERFUNCTION, function(s, len)
  if not status then
    status = tonumber(s:match("^HTTP/[%d.]+ (%d%d%d)"))
  elseif not json then
    json = s:find("^[Cc]ontent%-[Tt]ype:%s*application/json") ~= nil
  end
  return len
end)

local function get(i)
  nchunks, status, json = 0, nil, false
  local code, err = easy:perform() -- the CURLcode (0: done) and libcurl's message
  if code ~= 0 or status ~= 200 or not json then
    error(("luacurl_cjson: call %d: %s, status %s"):format(i, tostring(err or code), tostring(status)))
  end
  if type(decode(concat(chunks, "", 1, nchunks))) ~= "table" then
    error(("luacurl_cjson: call %d: the body is not a JSON object"):format(i))
  end
end

for i = 1, warmup do get(i) end
local t0, c0 = clock.monotime(), clock.cpu()
for i = 1, n do get(i) end
print(("n=%d wall_s=%.6f cpu_s=%.6f"):format(n, clock.monotime() - t0, clock.cpu() - c0))
