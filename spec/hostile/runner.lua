-- spec/hostile/runner.lua: runs one hostile case through konnect.pats and
-- reports its outcome as a plain table (JSON-safe, never the token itself).
-- The same code runs in busted (transport "curl") and inside nginx
-- (transport "cosocket"), so both transports are judged by one yardstick.
--   outcome = { case, transport, raised = msg|nil, ok = bool, kind = err.kind|nil,
--               value_type, elapsed = seconds, leaks = { "where (form)", … }, message }
local pats = require "konnect.pats"
local cases = require "cases"

local M = {}

-- the token's forms, the leak search and the string walk are shared with the fuzz
local check = require "check"
M.forms, M.leaks_in, M.collect = check.forms, check.leaks_in, check.collect
local collect = check.collect

--- run(c, opts) -> outcome
--   opts: base (http://host:port of the hostile server), rst_base (the resetting server,
--         spec/hostile/rst_server.lua), transport, clock (-> seconds)
function M.run(c, opts)
  local strings, out = {}, { case = c.name, transport = opts.transport, leaks = {} }
  local function hook(name)
    return function(view) collect(view, "hook " .. name, strings) end
  end
  local base = c.rst and opts.rst_base or opts.base
  if not base then
    out.raised = "no server for this case (rst_base missing)"
    return out
  end
  local client, nerr = pats.new(cases.client_options(base .. "/c/" .. c.name, {
    transport = opts.transport,
    hooks = { before_request = hook("before_request"), after_response = hook("after_response") },
    log = function(line) collect(line, "log line", strings) end,
  }))
  if not client then
    out.raised = "pats.new failed: " .. tostring(nerr)
    return out
  end
  local t0 = opts.clock()
  local ok, v, err = pcall(function()
    if c.op == "find_by_name" then return client:find_by_name(cases.USER, "ok") end
    return client:list(cases.USER)
  end)
  out.elapsed = opts.clock() - t0
  if c.next_call then -- the same client's next call: what did it get?
    local nok, nv, nv_err = pcall(client.list, client, cases.NEXT_USER)
    collect(nok and (nv or nv_err) or tostring(nv), "next call", strings)
    local first = nok and type(nv) == "table" and type(nv.data) == "table" and nv.data[1]
    out.next = first and type(first.name) == "string" and ("a token named " .. first.name)
      or (not nok and "raised") or ("error kind " .. tostring(type(nv_err) == "table" and nv_err.kind))
  end
  if not ok then
    out.raised = tostring(v):sub(1, 300)
    collect(out.raised, "raised error", strings)
  else
    out.ok = v ~= nil
    out.value_type = type(v)
    if v ~= nil then collect(v, "value", strings) end
    if err ~= nil then
      out.kind = type(err) == "table" and err.kind or ("not an error object: " .. type(err))
      collect(err, "err", strings)
      local sok, s = pcall(tostring, err)
      collect(sok and s or ("tostring raised: " .. tostring(s)), "tostring(err)", strings)
      local cok, cs = pcall(function() return "x" .. err end)
      collect(cok and cs or "concat raised", "'x' .. err", strings)
      out.message = sok and s or nil
    end
  end
  pcall(client.close, client)
  out.leaks = M.leaks_in(strings, cases.TOKEN)
  if #out.leaks > 0 then out.message = "(withheld: it holds the token)" end
  if out.raised and #out.leaks > 0 then out.raised = "(withheld: it holds the token)" end
  return out
end

--- verdict(c, outcome) -> nil | problem (a one-line reason the case failed)
function M.verdict(c, o)
  if o.raised then return "raised: " .. o.raised end
  if #o.leaks > 0 then return "the token leaked: " .. table.concat(o.leaks, ", ") end
  local deadline = cases.TIMEOUT + cases.MARGIN
  if not o.elapsed or o.elapsed > deadline then
    return ("took %.1f s, deadline %.1f s"):format(o.elapsed or -1, deadline)
  end
  if c.next_call and o.next ~= "a token named " .. c.next_call then
    return ("the next call got %s, not the server's answer (a token named %s)"):format(tostring(o.next), c.next_call)
  end
  local want = c.expect_any or { c.expect }
  for _, w in ipairs(want) do
    if w == "value" and o.ok and not o.kind then return nil end
    if w ~= "value" and not o.ok and o.kind == w then return nil end
  end
  return ("expected %s, got %s%s"):format(table.concat(want, " or "),
    o.ok and "a value" or ("error kind " .. tostring(o.kind)), o.message and (": " .. o.message) or "")
end

return M
