-- konnect_test.kong_schema: what Kong 3.x does with a plugin's schema.lua, in
-- plain Lua (no nginx needed; spec/nginx/kong_plugin_nginx.lua also loads it in
-- busted).  Each rule names the Kong file it mirrors; it is a SUBSET of Kong's
-- schema library, and where it guesses it says so.
--
--   metacheck(schema)              kong/db/schema/metaschema.lua (MetaSubSchema):
--     field types, required attributes per type, known attributes only,
--     attribute/type pairs (attribute_types), booleans (encrypted,
--     referenceable, required, …), description 10–500 characters, defaults that
--     validate against their own field, known entity checkers.
--   validate(schema, entity, null) kong/db/schema/init.lua: defaults, types,
--     the validators used here (between, gt, len_min/len_max, match, one_of,
--     eq), "empty strings are not accepted by default", a reference in a
--     referenceable string skips validation, unknown fields refused, entity
--     checks with only their field_sources (run_entity_check).
--   resolve(schema, conf, env, log) kong/db/schema/init.lua resolve_reference +
--     kong/vaults/env/init.lua: {vault://env/NAME} -> ENV[upper(NAME, - -> _)],
--     an unresolvable reference becomes "" (with a warning), conf["$refs"]
--     keeps the references.

local _M = {}

local type, pairs, ipairs, next, tostring, floor = type, pairs, ipairs, next, tostring, math.floor

-- kong/db/schema/init.lua Schema.valid_types
local VALID_TYPES = { array = true, set = true, string = true, number = true, boolean = true, integer = true,
                      foreign = true, map = true, record = true, ["function"] = true, json = true }

-- kong/db/schema/metaschema.lua: field_schema + validators + nested attributes
local KNOWN = {}
for _, a in ipairs { "type", "required", "reference", "description", "examples", "auto", "unique",
  "unique_across_ws", "on_delete", "default", "abstract", "generate_admin_api", "immutable", "err", "encrypted",
  "referenceable", "json_schema", "transient", "deprecation", "between", "eq", "ne", "gt", "len_eq", "len_min",
  "len_max", "match", "not_match", "match_all", "match_none", "match_any", "starts_with", "one_of", "not_one_of",
  "contains", "is_regex", "timestamp", "uuid", "custom_validator", "mutually_exclusive_subsets", "elements", "keys",
  "values", "fields", "entity_checks", "shorthand_fields" } do KNOWN[a] = true end

local BOOLEAN = {}
for _, a in ipairs { "required", "auto", "unique", "unique_across_ws", "abstract", "generate_admin_api",
  "immutable", "encrypted", "referenceable", "transient", "is_regex", "timestamp", "uuid" } do BOOLEAN[a] = true end

-- metaschema.lua attribute_types: an attribute allowed only on these types
local function set(...) local s = {} for _, v in ipairs { ... } do s[v] = true end return s end
local ATTRIBUTE_TYPES = {
  between = set("integer", "number"), len_eq = set("array", "set", "string", "map"), match = set("string"),
  one_of = set("string", "number", "integer"), contains = set("array", "set"), is_regex = set("string"),
  timestamp = set("number", "integer"), uuid = set("string"), unique = set("string", "number", "integer", "foreign"),
  unique_across_ws = set("string", "number", "integer", "foreign"), json_schema = set("json"),
  abstract = set("string", "number", "integer", "record", "array", "set", "map"),
  transient = set("string", "number", "integer", "array", "set", "boolean"),
}
local REQUIRED_ATTRIBUTES = { array = { "elements" }, set = { "elements" }, map = { "keys", "values" },
                              record = { "fields" }, json = { "json_schema" } }
-- metaschema.lua entity_checkers
local CHECKERS = set("at_least_one_of", "conditional_at_least_one_of", "only_one_of", "distinct", "conditional",
  "custom_entity_check", "mutually_required", "mutually_exclusive", "mutually_exclusive_sets")

local check_fields

local function check_field(name, f, errs)
  if type(f) ~= "table" then errs[name] = "'" .. name .. "' must be a table" return end
  if not VALID_TYPES[f.type] then errs[name] = "missing type declaration" return end
  for _, req in ipairs(REQUIRED_ATTRIBUTES[f.type] or {}) do
    if f[req] == nil and not (f.abstract and f.type == "record") then
      errs[name] = ("field of type '%s' must declare '%s'"):format(f.type, req)
    end
  end
  for attr, v in pairs(f) do
    if not KNOWN[attr] then
      errs[name] = "unknown field attribute '" .. tostring(attr) .. "'"
    elseif ATTRIBUTE_TYPES[attr] and not ATTRIBUTE_TYPES[attr][f.type] then
      errs[name] = ("field of type '%s' cannot have attribute '%s'"):format(f.type, attr)
    elseif BOOLEAN[attr] and type(v) ~= "boolean" then
      errs[name] = "'" .. attr .. "' must be a boolean"
    elseif attr == "description" and (type(v) ~= "string" or #v < 10 or #v > 500) then
      errs[name] = "description must be a string of 10 to 500 characters"
    end
  end
  for _, nested in ipairs { "elements", "keys", "values" } do
    if f[nested] ~= nil then check_field(name, f[nested], errs) end
  end
  if f.fields then check_fields(f, errs) end
  if f.default ~= nil and not errs[name] then -- metaschema: default = { type = "self" }
    local ok, err = _M.check_value(f, f.default, {})
    if not ok then errs[name] = "default: " .. tostring(err) end
  end
end

function check_fields(schema, errs)
  if type(schema.fields) ~= "table" then errs.fields = "'fields' must be a table" return end
  for _, item in ipairs(schema.fields) do
    if type(item) ~= "table" then errs.fields = "each entry in fields must be a sub-table" return end
    local k, f = next(item)
    if not k then errs.fields = "field entry table is empty" return end
    if type(k) ~= "string" then errs.fields = "each key in fields must be a string" return end
    if next(item, k) ~= nil then errs.fields = "each entry in fields must have exactly one key" return end
    check_field(k, f, errs)
  end
end

--- metacheck(schema) -> true | nil, errors  (kong/db/schema/plugin_loader.lua runs it at load)
function _M.metacheck(schema)
  local errs = {}
  if type(schema) ~= "table" then return nil, { schema = "a plugin schema must be a table" } end
  if type(schema.name) ~= "string" then errs.name = "required field missing" end
  check_fields(schema, errs)
  local has_config
  for _, item in ipairs(type(schema.fields) == "table" and schema.fields or {}) do
    local k, f = next(type(item) == "table" and item or {})
    if k == "config" and type(f) == "table" and f.type == "record" then has_config = true end
  end
  -- kong/db/schema/entities/plugins.lua: `config` is an abstract record a plugin's subschema fills in
  if not has_config then errs.config = "a plugin schema must define config as a record" end
  for i, check in ipairs(schema.entity_checks or {}) do
    local name = type(check) == "table" and next(check)
    if not name or not CHECKERS[name] or next(check, name) ~= nil then
      errs["entity_checks." .. i] = "each entity check must be exactly one of the known checkers"
    elseif name == "custom_entity_check" and type(check[name].fn) ~= "function" then
      errs["entity_checks." .. i] = "custom_entity_check needs fn"
    end
  end
  if next(errs) then return nil, errs end
  return true
end

--- is_reference(v): kong/pdk/vault.lua is_reference ("{vault://" … "}")
function _M.is_reference(v)
  return type(v) == "string" and v:sub(1, 9) == "{vault://" and v:sub(-1) == "}"
end

--- check_value(field, value, ctx) -> true | nil, message   (kong/db/schema/init.lua validate_field)
function _M.check_value(f, v, ctx)
  local t = f.type
  if t == "string" then
    if type(v) ~= "string" then return nil, "expected a string" end
    if f.referenceable and _M.is_reference(v) then return true end -- init.lua: references skip validation
    if #v < (f.len_min or 1) then return nil, "length must be at least " .. (f.len_min or 1) end
    if f.len_max and #v > f.len_max then return nil, "length must be at most " .. f.len_max end
    if f.match and not v:find(f.match) then return nil, "invalid value: " .. v end
  elseif t == "integer" or t == "number" then
    if type(v) ~= "number" then return nil, "expected a number" end
    if t == "integer" and floor(v) ~= v then return nil, "expected an integer" end
    if f.between and (v < f.between[1] or v > f.between[2]) then
      return nil, ("value should be between %s and %s"):format(f.between[1], f.between[2])
    end
    if f.gt and v <= f.gt then return nil, "value must be greater than " .. f.gt end
  elseif t == "boolean" then
    if type(v) ~= "boolean" then return nil, "expected a boolean" end
  elseif t == "set" or t == "array" then
    if type(v) ~= "table" then return nil, "expected a " .. t end
    local seen = {}
    for i, e in ipairs(v) do
      local ok, err = _M.check_value(f.elements, e, ctx)
      if not ok then return nil, "[" .. i .. "] " .. err end
      if t == "set" and seen[e] then return nil, "duplicate value in a set: " .. tostring(e) end
      seen[e] = true
    end
  elseif t == "foreign" then
    if f.eq == ctx.null and v ~= nil and v ~= ctx.null then return nil, "value must be null" end
  end
  if f.one_of and v ~= nil then
    local found = false
    for _, o in ipairs(f.one_of) do if o == v then found = true end end
    if not found then return nil, "expected one of: " .. table.concat(f.one_of, ", ") end
  end
  return true
end

local function record(f, values, ctx, errs, prefix)
  local out, known = {}, {}
  for _, item in ipairs(f.fields) do
    local name, def = next(item)
    known[name] = true
    local v = values[name]
    if v == nil and def.default ~= nil then v = def.default end
    if v == ctx.null and ctx.null ~= nil then v = nil end
    if v == nil then
      if def.required then errs[prefix .. name] = "required field missing" end
    elseif def.type == "record" then
      if type(v) == "table" then out[name] = record(def, v, ctx, errs, prefix .. name .. ".")
      else errs[prefix .. name] = "expected a record" end
    else
      local ok, err = _M.check_value(def, v, ctx)
      if not ok then errs[prefix .. name] = err end
      out[name] = v
    end
  end
  for k in pairs(values) do
    if not known[k] then errs[prefix .. tostring(k)] = "unknown field" end
  end
  return out
end

local function get(t, path)
  for part in path:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    t = t[part]
  end
  return t
end

local function put(t, path, v)
  local parts = {}
  for part in path:gmatch("[^.]+") do parts[#parts + 1] = part end
  for i = 1, #parts - 1 do
    t[parts[i]] = t[parts[i]] or {}
    t = t[parts[i]]
  end
  t[parts[#parts]] = v
end

local function field_def(schema, path)
  local fields, def = schema.fields, nil
  for part in path:gmatch("[^.]+") do
    def = nil
    for _, item in ipairs(fields or {}) do
      local name, d = next(item)
      if name == part then def = d end
    end
    fields = def and def.fields
  end
  return def
end

--- validate(schema, entity[, null]) -> entity with defaults | nil, errors
-- entity = { config = {…}, protocols = …, consumer = … } as the Admin API gets it
function _M.validate(schema, entity, null)
  local ctx = { null = null }
  local errs = {}
  local top = { type = "record", fields = {} }
  for _, item in ipairs(schema.fields) do top.fields[#top.fields + 1] = item end
  local out = record(top, entity or {}, ctx, errs, "")
  if next(errs) then return nil, errs end
  -- init.lua run_entity_check: fn sees only its field_sources; skipped when one is a reference
  for _, check in ipairs(schema.entity_checks or {}) do
    local c = check.custom_entity_check
    if c then
      local input, skip = {}, false
      for _, src in ipairs(c.field_sources or {}) do
        local v = get(out, src)
        local def = field_def(schema, src)
        if def and def.referenceable and _M.is_reference(v) then skip = true end
        if v ~= nil then put(input, src, v) end
      end
      if not skip then
        local ok, msg = c.fn(input)
        if not ok then return nil, { ["@entity"] = { msg } } end
      end
    end
  end
  return out
end

--- resolve(schema, conf, env, warn) -> conf: Kong resolves referenceable string fields
--- of a plugin's config when it loads it (init.lua process_auto_fields with resolve_references)
function _M.resolve(schema, conf, env, warn)
  local cfg = field_def(schema, "config")
  for _, item in ipairs(cfg.fields) do
    local name, def = next(item)
    local v = conf[name]
    if def.type == "string" and def.referenceable and _M.is_reference(v) then
      conf["$refs"] = conf["$refs"] or {}
      conf["$refs"][name] = v
      local vault, resource = v:match("^{vault://([%w_%-]+)/([%w_%-]+)}$")
      local value = vault == "env" and env[resource:gsub("-", "_"):upper()] or nil
      if value == nil and warn then warn("unable to resolve reference " .. v) end
      conf[name] = value or "" -- init.lua resolve_reference: `return deref or ""`
    end
  end
  return conf
end

return _M
