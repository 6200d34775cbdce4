-- konnect.cli.render: the CLI's human output (tables, field lists, relative
-- dates) and the cleaning of server-supplied strings for a terminal.  Every
-- function that prints takes the writer `out(...)` it prints through.

local type, tostring, pairs, ipairs, concat = type, tostring, pairs, ipairs, table.concat

local _M = {}

--- clean(s): a server-supplied string made safe for a terminal: no control
--- characters (C0, DEL, and the UTF-8 encoded C1 range).
local function clean(s)
  s = tostring(s)
  s = s:gsub("%c", "?"):gsub("\194[\128-\159]", "?")
  return s
end
_M.clean = clean

-- characters, counting each UTF-8 sequence once
local function width(s)
  return #(s:gsub("[\128-\191]", ""))
end

--- relative(s, now) -> "in 29 days", "in 35 hours", "2 days ago", "just now"
--- (konnect.time.relative, the library's one such phrase); the cleaned
--- string itself when it is not an RFC 3339 date-time
local function relative(s, now)
  local phrase = require("konnect.time").relative(s, now)
  if not phrase then return s ~= nil and clean(s) or "?" end
  return phrase
end
_M.relative = relative

local function when(s, empty)
  if s == nil then return empty end
  return clean(s) .. " (" .. relative(s) .. ")"
end
_M.when = when

local function opt(v) if v ~= nil then return clean(v) end end

local function table_rows(out, header, rows)
  local w = {}
  for i, h in ipairs(header) do w[i] = width(h) end
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do
      if width(c) > w[i] then w[i] = width(c) end
    end
  end
  local function line(r)
    local parts = {}
    for i, c in ipairs(r) do
      parts[i] = i < #r and (c .. (" "):rep(w[i] - width(c))) or c
    end
    out(concat(parts, "  "), "\n")
  end
  line(header)
  for _, r in ipairs(rows) do line(r) end
end
--- table(out, header, rows): columns as wide as their widest cell (rows of
--- cleaned strings)
_M.table = table_rows

-- a token's STATE: a system account's tokens have none ("-")
local function state(t, stateless)
  if stateless then return "-" end
  return clean(t.state or "?")
end

--- token_table(out, tokens[, stateless]): NAME, ID, STATE, EXPIRES, LAST
--- USED; stateless: a system account's tokens (STATE -)
function _M.token_table(out, tokens, stateless)
  local rows = {}
  for _, t in ipairs(tokens) do
    rows[#rows + 1] = {
      clean(t.name or ""), clean(t.id or ""), state(t, stateless),
      t.expires_at ~= nil and relative(t.expires_at) or "never",
      t.last_used_at ~= nil and relative(t.last_used_at) or "never",
    }
  end
  table_rows(out, { "NAME", "ID", "STATE", "EXPIRES", "LAST USED" }, rows)
end

--- token_brief(t[, stateless]) -> "<id> (<STATE>, expires in 30 days)": one
--- token in a line ("<id> (expires in 30 days)" for a system account's)
function _M.token_brief(t, stateless)
  local exp = t.expires_at ~= nil and ("expires " .. relative(t.expires_at)) or "never expires"
  return clean(t.id or "?") .. " (" .. (stateless and "" or (clean(t.state or "?") .. ", ")) .. exp .. ")"
end

-- label/value lines, values aligned; nil values left out
local function fields(out, list)
  local w = 0
  for _, kv in ipairs(list) do
    if kv[2] ~= nil and #kv[1] > w then w = #kv[1] end
  end
  for _, kv in ipairs(list) do
    if kv[2] ~= nil then out(kv[1], (" "):rep(w - #kv[1] + 2), kv[2], "\n") end
  end
end

function _M.token_fields(out, t, stateless)
  fields(out, {
    { "NAME", clean(t.name or "") },
    { "ID", clean(t.id or "") },
    { "USER", opt(t.user_id) },
    { "STATE", not stateless and clean(t.state or "?") or nil },
    { "CREATED", when(t.created_at) },
    { "UPDATED", when(t.updated_at) },
    { "EXPIRES", when(t.expires_at, "never") },
    { "LAST USED", when(t.last_used_at, "never") },
    { "REVOKED", when(t.revoked_at) },
    { "REVOKED BY", opt(t.revoked_by) },
  })
end

function _M.user_fields(out, me)
  fields(out, {
    { "ID", opt(me.id) },
    { "EMAIL", opt(me.email) },
    { "NAME", opt(me.full_name) },
    { "PREFERRED NAME", opt(me.preferred_name) },
    { "ACTIVE", me.active ~= nil and tostring(me.active) or nil },
    { "REGION", opt(me.inferred_region) },
    { "CREATED", when(me.created_at) },
  })
end

--- error_line(err) -> "konnect-pats: <kind> (<status>): <message> [trace id]";
--- a usage error (err.usage): "konnect-pats: usage: <message> (see '... --help')";
--- err.plain (a question answered no): "konnect-pats: <message>"
function _M.error_line(err)
  if type(err) ~= "table" then return "konnect-pats: system: " .. clean(err) end
  if err.plain then return "konnect-pats: " .. clean(err.message) end
  if err.usage then
    local help = err.help and (" (see 'konnect-pats" .. (err.help ~= "" and (" " .. err.help) or "") .. " --help')")
    return "konnect-pats: usage: " .. clean(err.message) .. (help or "")
  end
  local parts = { "konnect-pats: ", clean(err.kind) }
  if err.status then parts[#parts + 1] = " (" .. clean(err.status) .. ")" end
  parts[#parts + 1] = ": " .. clean(err.message or tostring(err))
  if err.trace_id then parts[#parts + 1] = " [" .. clean(err.trace_id) .. "]" end
  return concat(parts)
end

local KINDS = require("konnect.errors").KINDS

--- error_object(err, extra, null) -> the --json form of an error: kind (one
--- of errors.KINDS, always), status, message, trace_id, request_id (null
--- when absent), new_token_id and quota when the error has them, and extra's
--- fields (candidates, deleted)
function _M.error_object(err, extra, null)
  local o = {}
  if type(err) ~= "table" then err = { kind = "system", message = tostring(err) } end
  o.kind = KINDS[err.kind] ~= nil and err.kind or "system"
  o.status = type(err.status) == "number" and err.status or null
  o.message = clean(err.message or tostring(err))
  o.trace_id = err.trace_id ~= nil and clean(err.trace_id) or null
  o.request_id = err.request_id ~= nil and clean(err.request_id) or null
  if type(err.new_token_id) == "string" then o.new_token_id = clean(err.new_token_id) end
  if type(err.quota) == "table" then -- a 409 on create: { used =, limit =, states = { STATE = n } }
    local q = {}
    for _, k in ipairs { "used", "limit" } do
      if type(err.quota[k]) == "number" then q[k] = err.quota[k] end
    end
    o.quota = q
  end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- the fields that carry a new token's secret: a personal access token's,
-- a system account's token's (the operation table's `secret`)
local SECRET_FIELDS = { konnect_token = true, token = true }

--- without_secret(tok) -> a copy of a token object without its secret
--- (konnect_token, or token for a system account's)
function _M.without_secret(tok)
  local o = {}
  for k, v in pairs(tok) do
    if not SECRET_FIELDS[k] then o[k] = v end
  end
  return o
end

return _M
