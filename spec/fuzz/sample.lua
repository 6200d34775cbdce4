-- spec/fuzz/sample.lua: a sample of the fuzz's generated responses sent over
-- real sockets: each is stashed on the hostile server (spec/hostile/server.lua)
-- and served raw at /raw/<id>/…, and the call goes through a real transport,
-- every other one with hooks and a log function watching, the rest with
-- nothing (the path almost every real call takes).
--   sample.run{ seed =, n =, token =, base =, transport =, stash = function(id, raw) }
--     -> failures (list of one-line problems), count
local pats = require "konnect.pats"
local gen = require "gen"
local check = require "check"

local M = {}

function M.run(o)
  local g = gen.new(o.seed, o.token)
  local failures, done = {}, 0
  local strings = {}
  local hooks = {
    before_request = function(view) check.collect(view, "hook before_request", strings) end,
    after_response = function(view) check.collect(view, "hook after_response", strings) end,
  }
  local log = function(line) check.collect(line, "log line", strings) end
  while done < o.n do
    local res = g:response()
    local call = g:pick(gen.CALLS)
    if res then
      done = done + 1
      local id = ("s%d_%d"):format(o.seed, done)
      o.stash(id, gen.raw(res))
      local watched = done % 2 == 1
      local client = assert(pats.new {
        token = o.token, server_url = o.base .. "/raw/" .. id, transport = o.transport, retries = false,
        timeout = 5, connect_timeout = 5, hooks = watched and hooks or nil, log = watched and log or nil,
      })
      for k in pairs(strings) do strings[k] = nil end
      local ok, v, err = pcall(call, client)
      pcall(client.close, client)
      local problem = check.judge(ok, v, err, strings, o.token)
      if problem then
        failures[#failures + 1] = ("#%d (status %d): %s"):format(done, res.status, problem)
        if #failures >= 10 then break end
      end
    end
  end
  return failures, done
end

return M
