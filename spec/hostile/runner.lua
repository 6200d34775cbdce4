-- spec/hostile/runner.lua: runs one hostile case through konnect.pats and
-- reports its outcome as a plain table (JSON-safe, never the token itself).
-- The same code runs in busted (transport "curl") and inside nginx
-- (transport "cosocket"), so both transports are judged by one yardstick.
--   outcome = { case, transport, raised = msg|nil, ok = bool, kind = err.kind|nil,
--               value_type, elapsed = seconds, leaks = { "where (form)", … }, message }
local pats = require "konnect.pats"
local cases = require "cases"

local M = {}

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64
    local c3, c4 = math.floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end
M.b64 = b64

--- forms(token) -> { {label, needle}, … }: what counts as the token showing up
function M.forms(token)
  local tail = token:match("^[ks]pat_(.+)$") or token
  local u = token:gsub(".", function(c) return string.format("\\u%04x", c:byte()) end)
  return {
    { "raw", token }, { "raw tail", tail }, { "base64", b64(token) },
    { "base64 of Bearer", b64("Bearer " .. token) }, { "\\u-escaped", u },
  }
end

--- leaks_in(strings, token) -> list of "where (form)" for every string holding a form
function M.leaks_in(strings, token)
  local found, forms = {}, M.forms(token)
  for _, item in ipairs(strings) do
    for _, f in ipairs(forms) do
      if item.s:find(f[2], 1, true) then found[#found + 1] = item.where .. " (" .. f[1] .. ")" end
    end
  end
  return found
end

-- every string reachable from v (keys too), with where it was found
local function collect(v, where, out, seen)
  seen = seen or {}
  local t = type(v)
  if t == "string" then
    out[#out + 1] = { where = where, s = v }
  elseif t == "number" or t == "boolean" then
    out[#out + 1] = { where = where, s = tostring(v) }
  elseif t == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      collect(k, where .. "[key]", out, seen)
      collect(x, where .. "." .. tostring(k):gsub("[%c]", "?"):sub(1, 40), out, seen)
    end
  end
  return out
end
M.collect = collect

--- run(c, opts) -> outcome
--   opts: base (http://host:port of the hostile server), transport, clock (-> seconds)
function M.run(c, opts)
  local strings, out = {}, { case = c.name, transport = opts.transport, leaks = {} }
  local function hook(name)
    return function(view) collect(view, "hook " .. name, strings) end
  end
  local client, nerr = pats.new(cases.client_options(opts.base .. "/c/" .. c.name, {
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
    if c.op == "find_by_name" then return client:find_by_name("00000000-0000-4000-8000-0000000a11ce", "ok") end
    return client:list("00000000-0000-4000-8000-0000000a11ce")
  end)
  out.elapsed = opts.clock() - t0
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
  local want = c.expect_any or { c.expect }
  for _, w in ipairs(want) do
    if w == "value" and o.ok and not o.kind then return nil end
    if w ~= "value" and not o.ok and o.kind == w then return nil end
  end
  return ("expected %s, got %s%s"):format(table.concat(want, " or "),
    o.ok and "a value" or ("error kind " .. tostring(o.kind)), o.message and (": " .. o.message) or "")
end

return M
