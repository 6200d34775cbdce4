-- fake_konnect/spec/openapi.lua: a small JSON-Schema-subset validator for the
-- contracts in spec/ (copied from the shared design folder; nothing reads
-- ../shared at run time).  The module itself reads the PAT-only contract,
-- spec/konnect-pats-openapi.yaml; `openapi.tokens` is the same API over the
-- whole token surface, spec/konnect-tokens-openapi.yaml (users, system
-- accounts and their tokens, and the PAT paths unchanged), and
-- `openapi.open(file)` any other document under spec/.
--
--   openapi.validate_response(operation_id, status, content_type, body) -> true | nil, "path: reason"
--   openapi.validate_request(operation_id, body)                        -> true | nil, "path: reason"
--   openapi.validate_query(operation_id, query)                         -> true | nil, "reason"
--   openapi.parse_query("page%5Bsize%5D=10&…")                          -> { ["page[size]"] = "10", … }
--   openapi.operation(operation_id)                                     -> { method, path }
--
-- validate_query checks a request's query parameters against the operation's
-- `in: query` parameters: each key must be a parameter (or, for a
-- `style: deepObject` parameter such as `filter`, `name[a][b]`), given once,
-- and its value must fit the schema once converted from text (integer,
-- boolean; an empty value where `allowEmptyValue`).  `query` is a decoded
-- table (string values; `true` for a key without `=`) or a raw query string.
--
-- `body` is a decoded JSON value. Arrays and objects are told apart by a
-- dkjson-style `__jsontype` metatable field when present; otherwise a
-- non-empty sequence is an array and an empty table may be either.
-- JSON null may be openapi.null, dkjson's json.null, cjson.null or
-- konnect.json's null-like sentinels; `nil` means "absent".
--
-- Supported keywords: $ref (local), allOf, oneOf, anyOf, type (string or
-- array; integer vs number), nullable, required, properties,
-- additionalProperties (false or schema), enum (honouring
-- x-speakeasy-unknown-values: allow), minLength/maxLength (UTF-8 characters),
-- minimum/maximum, minItems/maxItems, uniqueItems, minProperties, items,
-- format uuid / date-time / email, and `pattern` for the two patterns the
-- contracts use. A `$ref` replaces its siblings (the tokens contract has one
-- such schema, whose siblings repeat what the $ref says). Everything else is
-- ignored.

local lyaml = require "lyaml"

local _M = {}

local null = setmetatable({}, { __name = "openapi.null", __tostring = function() return "null" end })
_M.null = null

local extra_nulls = {}
do
  local ok, dk = pcall(require, "dkjson")
  if ok and dk.null then extra_nulls[dk.null] = true end
  local ok2, cj = pcall(require, "cjson")
  if ok2 and cj.null then extra_nulls[cj.null] = true end
end

local function is_null(v)
  return v == null or extra_nulls[v] == true
end
_M.is_null = is_null

---------------------------------------------------------------------------
-- value classification

local function json_kind(v)
  if v == nil then return "absent" end
  if is_null(v) then return "null" end
  local t = type(v)
  if t == "boolean" or t == "string" then return t end
  if t == "number" then
    if v == math.floor(v) and v == v and v ~= math.huge and v ~= -math.huge then return "integer" end
    return "number"
  end
  if t == "table" then
    local mt = getmetatable(v)
    local jt = mt and mt.__jsontype
    if jt == "array" or jt == "object" then return jt end
    local n = #v
    if n == 0 then
      return next(v) == nil and "empty" or "object"
    end
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    return count == n and "array" or "object"
  end
  return t
end

local function type_ok(kind, want)
  if want == "null" then return kind == "null" end
  if want == "integer" then return kind == "integer" end
  if want == "number" then return kind == "integer" or kind == "number" end
  if want == "array" or want == "object" then return kind == want or kind == "empty" end
  return kind == want
end

local function utf8_length(s)
  local n = utf8 and utf8.len(s)
  if n then return n end
  local _, count = s:gsub("[^\128-\191]", "")
  return count
end

local function is_uuid(s)
  return s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

local function is_date_time(s)
  local y, mo, d, h, mi, sec, frac, zone =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$")
  if not y then return false end
  if frac == "." then return false end
  mo, d, h, mi, sec = tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return false end
  if zone == "Z" or zone == "z" then return true end
  local oh, om = zone:match("^[+-](%d%d):(%d%d)$")
  return oh ~= nil and tonumber(oh) <= 23 and tonumber(om) <= 59
end

local formats = {
  uuid = is_uuid,
  ["date-time"] = is_date_time,
  email = function(s) return s:match("^[^@%s]+@[^@%s]+%.[^@%s]+$") ~= nil end,
}

-- \p{L}\p{N} approximated as ASCII letters/digits plus any non-ASCII character
local function pat_name(s)
  local chars = {}
  for ch in s:gmatch("[%z\1-\127\192-\255][\128-\191]*") do chars[#chars + 1] = ch end
  local function ln(ch) return ch:match("^%w$") ~= nil or ch:byte(1) >= 128 end
  local n = #chars
  if n < 2 or not ln(chars[1]) or not ln(chars[n]) then return false end
  for i = 2, n - 1 do
    if not (ln(chars[i]) or chars[i]:match("^[ _%-%.']$")) then return false end
  end
  return true
end

local patterns = {
  [ [[^[\p{L}\p{N}][\p{L}\p{N} _\-\.']*[\p{L}\p{N}]$]] ] = pat_name,
  [ [[^[\w \W]+$]] ] = function(s) return #s > 0 end,
}

-- a canonical string for uniqueItems
local function canon(v)
  local k = json_kind(v)
  if k == "array" then
    local parts = {}
    for i = 1, #v do parts[i] = canon(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  elseif k == "object" or k == "empty" then
    local keys = {}
    for key in pairs(v) do keys[#keys + 1] = tostring(key) end
    table.sort(keys)
    local parts = {}
    for i, key in ipairs(keys) do parts[i] = string.format("%q:%s", key, canon(v[key])) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif k == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

---------------------------------------------------------------------------
-- validation helpers

local function fail(path, fmt, ...)
  return nil, path .. ": " .. string.format(fmt, ...)
end

local function describe(v)
  local k = json_kind(v)
  if k == "string" then
    local s = #v > 40 and v:sub(1, 40) .. "…" or v
    return string.format("string %q", s)
  end
  if k == "integer" or k == "number" or k == "boolean" then return k .. " " .. tostring(v) end
  return k
end

local function media_type(ct)
  if ct == nil then return nil end
  return (ct:match("^%s*([^;%s]+)") or ""):lower()
end

---------------------------------------------------------------------------
-- query strings

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- parse_query(qs) -> { key = value } (value true for a key without `=`, an
-- array of strings for a repeated key)
function _M.parse_query(qs)
  local out = {}
  for pair in tostring(qs or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if k then k, v = unescape(k), unescape(v) else k, v = unescape(pair), true end
    local old = out[k]
    if old == nil then
      out[k] = v
    elseif type(old) == "table" then
      old[#old + 1] = v
    else
      out[k] = { old, v }
    end
  end
  return out
end

---------------------------------------------------------------------------
-- a document

local function spec_dir()
  local src = debug.getinfo(1, "S").source
  -- this file is fake_konnect/spec/openapi.lua; the contracts are in spec/
  local dir = src:match("^@(.*)/fake_konnect/spec/[^/]*$")
  return (dir and dir .. "/" or "") .. "spec/"
end

local function new(file)
  local M = { null = null, is_null = is_null, file = file }

  local doc
  local function load()
    if doc then return doc end
    local path = spec_dir() .. file
    local f = assert(io.open(path, "rb"), "openapi: cannot open " .. path)
    local text = f:read("*a")
    f:close()
    doc = lyaml.load(text)
    assert(type(doc) == "table" and doc.paths, "openapi: " .. path .. " is not an OpenAPI document")
    return doc
  end
  M.document = load

  local function resolve(node)
    local seen = 0
    while type(node) == "table" and node["$ref"] do
      local ref = node["$ref"]
      assert(ref:sub(1, 2) == "#/", "openapi: only local $ref supported: " .. ref)
      local cur = load()
      for part in ref:sub(3):gmatch("[^/]+") do
        part = part:gsub("~1", "/"):gsub("~0", "~")
        cur = cur[part]
        assert(cur ~= nil, "openapi: unresolvable $ref " .. ref)
      end
      node = cur
      seen = seen + 1
      assert(seen < 50, "openapi: $ref loop at " .. ref)
    end
    return node
  end
  M.resolve = resolve

  local METHODS = { "get", "put", "post", "delete", "options", "head", "patch", "trace" }

  local ops
  local function operations()
    if ops then return ops end
    ops = {}
    for path, item in pairs(load().paths) do
      for _, m in ipairs(METHODS) do
        local op = item[m]
        if op and op.operationId then
          ops[op.operationId] = { method = m:upper(), path = path, op = op }
        end
      end
    end
    return ops
  end

  --- operation(id) -> { method = "GET", path = "/v3/…" } | nil, reason
  function M.operation(id)
    local o = operations()[id]
    if not o then return nil, "unknown operation " .. tostring(id) end
    return { method = o.method, path = o.path }
  end

  --- operation_ids() -> sorted array of the contract's operation ids
  function M.operation_ids()
    local out = {}
    for id in pairs(operations()) do out[#out + 1] = id end
    table.sort(out)
    return out
  end

  --- statuses(id) -> sorted array of the status codes (strings) listed for it
  function M.statuses(id)
    local o = assert(operations()[id], "unknown operation " .. tostring(id))
    local out = {}
    for code in pairs(o.op.responses) do out[#out + 1] = tostring(code) end
    table.sort(out)
    return out
  end

  local validate

  validate = function(schema, v, path)
    schema = resolve(schema)
    if type(schema) ~= "table" then return true end

    if schema.allOf then
      for i, sub in ipairs(schema.allOf) do
        local ok, err = validate(sub, v, path)
        if not ok then return nil, err .. " (allOf #" .. i .. ")" end
      end
    end
    if schema.oneOf then
      local matched, errs = 0, {}
      for i, sub in ipairs(schema.oneOf) do
        local ok, err = validate(sub, v, path)
        if ok then matched = matched + 1 else errs[#errs + 1] = "#" .. i .. " " .. err end
      end
      if matched == 0 then
        return fail(path, "matches none of oneOf [%s]", table.concat(errs, "; "))
      elseif matched > 1 then
        return fail(path, "matches %d of oneOf (must match exactly one)", matched)
      end
    end
    if schema.anyOf then
      local any, errs = false, {}
      for i, sub in ipairs(schema.anyOf) do
        local ok, err = validate(sub, v, path)
        if ok then any = true break end
        errs[#errs + 1] = "#" .. i .. " " .. err
      end
      if not any then return fail(path, "matches none of anyOf [%s]", table.concat(errs, "; ")) end
    end

    local kind = json_kind(v)
    if kind == "absent" then return fail(path, "is absent") end

    if kind == "null" then
      local t = schema.type
      local allowed = schema.nullable == true
      if type(t) == "table" then
        for _, x in ipairs(t) do if x == "null" then allowed = true end end
      elseif t == "null" or t == nil and not schema.enum then
        -- a schema with no type (e.g. `items: {}`) accepts null
        allowed = allowed or t == "null" or t == nil
      end
      if schema.enum then
        for _, e in ipairs(schema.enum) do if is_null(e) then allowed = true end end
      end
      if not allowed then return fail(path, "is null but the schema is not nullable") end
      return true
    end

    local t = schema.type
    if t ~= nil then
      local ok = false
      if type(t) == "table" then
        for _, x in ipairs(t) do if type_ok(kind, x) then ok = true end end
        t = table.concat(t, "|")
      else
        ok = type_ok(kind, t)
      end
      if not ok then return fail(path, "expected %s, got %s", t, describe(v)) end
    end

    if schema.enum and kind ~= "empty" then
      local found = false
      for _, e in ipairs(schema.enum) do if e == v then found = true break end end
      if not found and schema["x-speakeasy-unknown-values"] ~= "allow" then
        local list = {}
        for i, e in ipairs(schema.enum) do list[i] = tostring(e) end
        return fail(path, "%s is not one of [%s]", describe(v), table.concat(list, ", "))
      end
    end

    if kind == "string" then
      local len = utf8_length(v)
      if schema.minLength and len < schema.minLength then
        return fail(path, "length %d < minLength %d", len, schema.minLength)
      end
      if schema.maxLength and len > schema.maxLength then
        return fail(path, "length %d > maxLength %d", len, schema.maxLength)
      end
      if schema.format and formats[schema.format] and not formats[schema.format](v) then
        return fail(path, "%s is not a valid %s", describe(v), schema.format)
      end
      if schema.pattern and patterns[schema.pattern] and not patterns[schema.pattern](v) then
        return fail(path, "%s does not match %s", describe(v), schema.pattern)
      end
    end

    if kind == "integer" or kind == "number" then
      if schema.minimum and v < schema.minimum then
        return fail(path, "%s < minimum %s", tostring(v), tostring(schema.minimum))
      end
      if schema.maximum and v > schema.maximum then
        return fail(path, "%s > maximum %s", tostring(v), tostring(schema.maximum))
      end
    end

    local as_array = kind == "array" or (kind == "empty" and (schema.items or schema.type == "array"))
    local as_object = kind == "object" or (kind == "empty" and not as_array)

    if as_array then
      local n = #v
      if schema.minItems and n < schema.minItems then
        return fail(path, "%d items < minItems %d", n, schema.minItems)
      end
      if schema.maxItems and n > schema.maxItems then
        return fail(path, "%d items > maxItems %d", n, schema.maxItems)
      end
      if schema.items then
        for i = 1, n do
          local ok, err = validate(schema.items, v[i], path .. "[" .. i .. "]")
          if not ok then return nil, err end
        end
      end
      if schema.uniqueItems then
        local seen = {}
        for i = 1, n do
          local c = canon(v[i])
          if seen[c] then return fail(path, "items %d and %d are equal (uniqueItems)", seen[c], i) end
          seen[c] = i
        end
      end
    end

    if as_object and (schema.properties or schema.required or schema.additionalProperties ~= nil
                      or schema.minProperties) then
      if schema.minProperties then
        local count = 0
        for _ in pairs(v) do count = count + 1 end
        if count < schema.minProperties then
          return fail(path, "%d properties < minProperties %d", count, schema.minProperties)
        end
      end
      for _, name in ipairs(schema.required or {}) do
        if v[name] == nil then return fail(path, "required property %q is missing", name) end
      end
      local props = schema.properties or {}
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for _, k in ipairs(keys) do
        local sub = props[k]
        local p = path .. "." .. tostring(k)
        if sub ~= nil then
          local ok, err = validate(sub, v[k], p)
          if not ok then return nil, err end
        elseif schema.additionalProperties == false then
          return fail(path, "property %q is not allowed (additionalProperties: false)", tostring(k))
        elseif type(schema.additionalProperties) == "table" then
          local ok, err = validate(schema.additionalProperties, v[k], p)
          if not ok then return nil, err end
        end
      end
    end

    return true
  end

  --- validate(schema, value, path?) -> true | nil, "path: reason"
  function M.validate(schema, value, path)
    return validate(schema, value, path or "$")
  end

  --- schema(name) -> the components/schemas entry
  function M.schema(name)
    local s = load().components.schemas[name]
    assert(s, "openapi: no schema " .. tostring(name))
    return s
  end

  --- validate_response(operation_id, status, content_type, body) -> true | nil, reason
  -- A response without content in the contract (204) requires body == nil or "".
  function M.validate_response(id, status, content_type, body)
    local o = operations()[id]
    if not o then return nil, "unknown operation " .. tostring(id) end
    local responses = o.op.responses
    local resp = responses[tostring(status)] or responses[tonumber(status)] or responses.default
    if not resp then
      return nil, string.format("%s: status %s is not listed in the contract", id, tostring(status))
    end
    resp = resolve(resp)
    if not resp.content then
      if body == nil or body == "" then return true end
      return nil, string.format("%s %s: the contract defines no body, got %s", id, tostring(status), describe(body))
    end
    local mt = media_type(content_type)
    local media = mt and resp.content[mt]
    if not media then
      local list = {}
      for k in pairs(resp.content) do list[#list + 1] = k end
      table.sort(list)
      return nil, string.format("%s %s: content type %s is not one of [%s]",
        id, tostring(status), tostring(content_type), table.concat(list, ", "))
    end
    if not media.schema then return true end
    return validate(media.schema, body, "$")
  end

  --- validate_request(operation_id, body) -> true | nil, reason
  function M.validate_request(id, body)
    local o = operations()[id]
    if not o then return nil, "unknown operation " .. tostring(id) end
    local rb = o.op.requestBody and resolve(o.op.requestBody)
    if not rb then
      if body == nil then return true end
      return nil, id .. ": the contract defines no request body"
    end
    local media = rb.content and rb.content["application/json"]
    if not media or not media.schema then return true end
    return validate(media.schema, body, "$")
  end

  -- query parameters of an operation: name -> resolved parameter
  local function query_params(o)
    local out = {}
    local item = load().paths[o.path]
    for _, list in ipairs { item.parameters or {}, o.op.parameters or {} } do
      for _, p in ipairs(list) do
        p = resolve(p)
        if p["in"] == "query" then out[p.name] = p end
      end
    end
    return out
  end

  -- text -> the value the schema wants (integer, number, boolean), or the text
  local function from_text(schema, text)
    schema = resolve(schema) or {}
    local t = schema.type
    if (t == "integer" or t == "number") and text:match("^%-?%d+%.?%d*$") then return tonumber(text) end
    if t == "boolean" and (text == "true" or text == "false") then return text == "true" end
    return text
  end

  -- converts the leaves of a deepObject value along the schema
  local function convert(schema, v)
    schema = resolve(schema) or {}
    if type(v) ~= "table" then return from_text(schema, v) end
    local out = {}
    for k, x in pairs(v) do
      local sub = schema.properties and schema.properties[k] or
        (type(schema.additionalProperties) == "table" and schema.additionalProperties) or {}
      out[k] = convert(sub, x)
    end
    return out
  end

  --- validate_query(operation_id, query) -> true | nil, reason
  function M.validate_query(id, query)
    local o = operations()[id]
    if not o then return nil, "unknown operation " .. tostring(id) end
    if type(query) ~= "table" then query = _M.parse_query(query) end
    local params = query_params(o)
    local deep = {}
    local keys = {}
    for k in pairs(query) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = query[k]
      if type(v) == "table" then return nil, string.format("%s: query parameter %q is repeated", id, k) end
      local p = params[k]
      if p then
        if v == true or v == "" then
          if not p.allowEmptyValue then return nil, string.format("%s: %s has no value", id, k) end
        else
          local ok, err = validate(p.schema, from_text(p.schema, v), k)
          if not ok then return nil, id .. ": " .. err end
        end
      else
        local name, rest = k:match("^([^%[]+)(%[.*%])$")
        p = name and params[name]
        if not p or p.style ~= "deepObject" then
          return nil, string.format("%s: %q is not a query parameter of this operation", id, k)
        end
        local node = deep[name] or {}
        deep[name] = node
        local parts = {}
        for part in rest:gmatch("%[([^%]]*)%]") do parts[#parts + 1] = part end
        for i = 1, #parts - 1 do
          if type(node[parts[i]]) ~= "table" then
            if node[parts[i]] ~= nil then return nil, string.format("%s: %q conflicts with another key", id, k) end
            node[parts[i]] = {}
          end
          node = node[parts[i]]
        end
        if node[parts[#parts]] ~= nil then return nil, string.format("%s: %q conflicts with another key", id, k) end
        node[parts[#parts]] = v == true and "" or v
      end
    end
    for name, value in pairs(deep) do
      local ok, err = validate(params[name].schema, convert(params[name].schema, value), name)
      if not ok then return nil, id .. ": " .. err end
    end
    return true
  end

  return M
end

local docs = {}

--- open(file) -> the validator for spec/<file> (one per file)
function _M.open(file)
  if not docs[file] then docs[file] = new(file) end
  return docs[file]
end

-- the module is the PAT-only contract; .tokens the whole token surface
for k, v in pairs(_M.open("konnect-pats-openapi.yaml")) do _M[k] = v end
_M.tokens = _M.open("konnect-tokens-openapi.yaml")

return _M
