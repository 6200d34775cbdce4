-- fake_konnect.paging: the query of the paged lists (users, system accounts,
-- system-account tokens): page[size], page[number] and filter[...], and the
-- answer's meta.page.{number,size,total}.
--
-- The contract (spec/konnect-tokens-openapi.yaml, PageSize / PageNumber /
-- PageMeta / LegacyStringFieldFilter / BooleanFieldFilter) gives the names and
-- types; everything below marked CHOICE is where it does not say, and can be
-- changed per test with POST /__fake/paging:
--   default_size  10 (CHOICE: the PageSize parameter's `example`)
--   max_size      100 (CHOICE)
--   over_max      "clamp": a larger page[size] is served at max_size and
--                 meta.page.size says so (CHOICE; "reject" answers 400 rule
--                 `max`).  A client that stops at "fewer items than I asked
--                 for" stops early here.
--   total         "objects": meta.page.total counts the matching objects, as
--                 PageMeta's description says ("the total number of objects");
--                 the same contract's x-speakeasy-pagination reads it as the
--                 number of pages (numPages: $.meta.page.total).  "pages" makes
--                 it count pages.  Either way a client that trusts total one way
--                 is wrong in the other mode: stop at a short or empty page.
-- page[number] past the last page: 200 with an empty data array.
-- Filters: `filter[f][eq]=v` (exact, case-sensitive) and
-- `filter[f][contains]=v` (substring, case-sensitive; CHOICE), one operator
-- per field (LegacyStringFieldFilter: "**one** of the following operators");
-- booleans `filter[f]=true|false`.  `filter[f]=v` without an operator means eq,
-- as Kong documents for every Konnect API
-- (https://docs.konghq.com/konnect/api/filtering/) although the contract's
-- schema (an object) does not admit it: the contract spec's request check
-- flags it.  Any other page[...]/filter[...] key, a repeated key, or a bad
-- value is a 400 with invalid_parameters (source "query").  Other query
-- parameters are ignored.

local json = require "fake_konnect.json"
local reply = require "fake_konnect.reply"
local state = require "fake_konnect.state"

local param = reply.param
local floor, ceil = math.floor, math.ceil

local _M = {}

_M.DEFAULTS = { default_size = 10, max_size = 100, over_max = "clamp", total = "objects" }

function _M.config()
  return state.paging or _M.DEFAULTS
end

--- configure(obj) -> config | nil, message   (POST /__fake/paging)
function _M.configure(obj)
  local c = {}
  for k, v in pairs(_M.DEFAULTS) do c[k] = v end
  for k, v in pairs(obj) do
    if k == "default_size" or k == "max_size" then
      if type(v) ~= "number" or v < 1 or v ~= floor(v) then return nil, k .. " must be an integer >= 1" end
    elseif k == "over_max" then
      if v ~= "clamp" and v ~= "reject" then return nil, 'over_max must be "clamp" or "reject"' end
    elseif k == "total" then
      if v ~= "objects" and v ~= "pages" then return nil, 'total must be "objects" or "pages"' end
    else
      return nil, "unknown property: " .. tostring(k)
    end
    c[k] = v
  end
  if c.default_size > c.max_size then return nil, "default_size must not exceed max_size" end
  state.paging = c
  return c
end

local function positive_int(args, key, out, cfg)
  local v = args[key]
  if v == nil or v == true or v == "" then return nil end -- allowEmptyValue: the default
  if type(v) == "table" then
    out[#out + 1] = param(key, "invalid", "must be given once", "query")
    return nil
  end
  if not v:match("^%-?%d+$") then
    out[#out + 1] = param(key, "is_integer", "must be an integer", "query")
    return nil
  end
  local n = tonumber(v)
  if n < 1 then
    out[#out + 1] = param(key, "min", "must be greater than or equal to 1", "query", { minimum = 1 })
    return nil
  end
  if cfg and n > cfg.max_size then
    if cfg.over_max == "reject" then
      out[#out + 1] = param(key, "max", "must be less than or equal to " .. cfg.max_size, "query",
        { maximum = cfg.max_size })
      return nil
    end
    return cfg.max_size
  end
  return n
end

--- parse(args, fields) -> { size, number, filters = { {field, op, value} } } | nil, invalid_parameters
-- fields: name -> "string" (eq, contains), "eq" (eq only) or "boolean"
function _M.parse(args, fields)
  local cfg = _M.config()
  local out = {}
  local q = {
    size = positive_int(args, "page[size]", out, cfg) or cfg.default_size,
    number = positive_int(args, "page[number]", out, nil) or 1,
    filters = {},
  }
  local by_field = {}
  local keys = {}
  for k in pairs(args) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, key in ipairs(keys) do
    local v = args[key]
    if key:sub(1, 5) == "page[" then
      if key ~= "page[size]" and key ~= "page[number]" then
        out[#out + 1] = param(key, "unknown_property", "is not a page parameter (page[size], page[number])", "query")
      end
    elseif key:sub(1, 6) == "filter" then
      local field, op = key:match("^filter%[([^%]]+)%]%[([^%]]+)%]$")
      if not field then
        field = key:match("^filter%[([^%]]+)%]$")
      end
      local kind = field and fields[field]
      if not kind then
        out[#out + 1] = param(key, "unknown_property", "is not a filter of this list", "query")
      elseif type(v) == "table" then
        out[#out + 1] = param(key, "invalid", "must be given once", "query")
      elseif kind == "boolean" then
        if op then
          out[#out + 1] = param(key, "unknown_property", "a boolean filter takes no operator: filter[" ..
            field .. "]=true|false", "query")
        elseif v ~= "true" and v ~= "false" then
          out[#out + 1] = param(key, "is_boolean", "must be true or false", "query")
        else
          q.filters[#q.filters + 1] = { field = field, op = "eq", value = v == "true" }
        end
      else
        op = op or "eq"
        if op ~= "eq" and (op ~= "contains" or kind == "eq") then
          out[#out + 1] = param(key, "invalid", "unknown operator [" .. op .. "]; use " ..
            (kind == "eq" and "eq" or "eq or contains"), "query")
        elseif by_field[field] then
          out[#out + 1] = param(key, "invalid", "use only one operator per field", "query")
        else
          by_field[field] = true
          q.filters[#q.filters + 1] = { field = field, op = op, value = v == true and "" or v }
        end
      end
    end
  end
  if #out > 0 then return nil, out end
  return q
end

local function matches(rec, filters)
  for _, f in ipairs(filters) do
    local v = rec[f.field]
    if f.op == "contains" then
      if type(v) ~= "string" or not v:find(f.value, 1, true) then return false end
    elseif v ~= f.value then
      return false
    end
  end
  return true
end

--- page(ids, records, q, view) -> { data = [...], meta = { page = {...} } }
-- ids in list order, records[id] the record, view(record) what is sent.
-- Without filters only the page's slice is touched.
function _M.page(ids, records, q, view)
  local first = (q.number - 1) * q.size + 1
  local data = json.array()
  local count
  if #q.filters == 0 then
    count = #ids
    for i = first, math.min(count, first + q.size - 1) do data[#data + 1] = view(records[ids[i]]) end
  else
    count = 0
    local last = first + q.size - 1
    for _, id in ipairs(ids) do
      local rec = records[id]
      if matches(rec, q.filters) then
        count = count + 1
        if count >= first and count <= last then data[#data + 1] = view(rec) end
      end
    end
  end
  local total = count
  if _M.config().total == "pages" then total = ceil(count / q.size) end
  return { data = data, meta = { page = { number = q.number, size = q.size, total = total } } }
end

return _M
