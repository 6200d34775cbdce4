-- konnect.pages: the paged lists (users, system accounts, a system
-- account's tokens), two ways:
--
--   local all, err, meta = client:list_users(query)   -- { data = { … }, pages = n }, capped
--   for user, err in client:each_user(query) do        -- page by page
--     if not user then error(tostring(err)) end         -- (a failure comes once: false, err)
--   end
--
-- Each page is one call of the operation table's one-page row
-- (konnect.operations: users_page, system_accounts_page, sa_tokens_page)
-- through the one pipeline.  When to stop: at an empty page, or at a page
-- shorter than the page size the server says it used (meta.page.size, else
-- the size asked: a server that serves fewer than asked says so there).
-- meta.page.total is never trusted: the contract's PageMeta calls it the
-- number of objects, its x-speakeasy-pagination reads it as the number of
-- pages.

local errors   = require "konnect.errors"
local limits   = require "konnect.limits"
local ops      = require "konnect.ops"
local validate = require "konnect.validate"
local http     = require "konnect.http"

local type, format = type, string.format

local _M = {}

local OPS = ops.OPERATIONS
local LIST_KEYS = { max_pages = true }

-- The list behind each pair of methods: its one-page row and the names.
_M.LISTS = {
  users = { op = OPS.users_page, all = "list_users", each = "each_user" },
  system_accounts = { op = OPS.system_accounts_page, all = "list_system_accounts", each = "each_system_account" },
  sa_tokens = { op = OPS.sa_tokens_page, all = "list_sa_tokens", each = "each_sa_token" },
}

-- start(c, list, what, p1, query, copts, max_default) -> state | nil, err:
-- every argument checked before any I/O.
local function start(c, list, what, p1, query, copts, max_default)
  local op = list.op
  local q, err = validate.query(query, op.query, what, LIST_KEYS)
  if not q then return nil, errors.invalid_argument(err, op.id) end
  local st = {
    c = c, op = op, p1 = p1, copts = copts, page = 0, size = q.page_size or limits.PAGE_SIZE,
    max_pages = q.max_pages or max_default, what = what, list = list,
    -- the query handed to the one-page row, its page_number set per page
    raw = { filter = type(query) == "table" and query.filter or nil, page_size = q.page_size or limits.PAGE_SIZE },
  }
  -- the path parameter, the options: checked by building page 1's URL (no I/O)
  local url
  url, err = _M.url(st, 1)
  if not url then return nil, err end
  return st
end

--- url(st, n) -> the URL of page n, its options | nil, err
function _M.url(st, n)
  local raw = st.raw
  raw.page_number = n
  if st.op.nparams == 1 then
    return ops.build(st.c, st.op, st.p1, raw, st.copts)
  end
  return ops.build(st.c, st.op, raw, st.copts)
end

local function id_of(item) return type(item) == "table" and item.id or nil end

--- judge(v, n, asked, prev_first) -> last, first | nil, message: page n's
--- answer v (its data an array of objects, the row's check) is the last
--- one when it is empty or shorter than the page size the server says it
--- used (meta.page.size), else the size asked; first is its first item's id,
--- which page n + 1 must not repeat (a server ignoring page[number]).
function _M.judge(v, n, asked, prev_first)
  local data = v.data
  local meta_page = type(v.meta) == "table" and type(v.meta.page) == "table" and v.meta.page or nil
  local size = meta_page and meta_page.size
  if not (limits.is_integer(size) and size >= 1) then size = asked end
  local first = id_of(data[1])
  if n > 1 and first ~= nil and first == prev_first then
    return nil, format("page %d starts with the same item as page %d: the server seems to ignore page[number]",
      n, n - 1)
  end
  return #data < size, first
end

-- next_page(st) -> data, meta, last | nil, err: the next page, and whether
-- it is the last one
local function next_page(st)
  local n = st.page + 1
  if n > st.max_pages then
    return nil, errors.new("too_large", { operation = st.op.id, message = format(
      "more than %d pages of %d: use %s to walk the list page by page, or a filter (query.max_pages goes up to %d)",
      st.max_pages, st.size, st.list.each, limits.MAX_PAGES_CEILING) })
  end
  local url, uerr, copts = _M.url(st, n)
  if not url then return nil, uerr end
  local v, err, m = http.request(st.c, st.op, url, nil, copts)
  if not v then return nil, err end
  st.page = n
  local last, first = _M.judge(v, n, st.size, st.first)
  if last == nil then return nil, errors.new("decode", { operation = st.op.id, status = m.status, message = first }) end
  st.first = first
  return v.data, m, last
end

--- all(c, list, p1, query, copts) -> { data = items, pages = n }, nil, meta | nil, err
-- Every page, at most query.max_pages (default limits.MAX_PAGES) of them:
-- when the last page it may fetch is still full, too_large.  meta is the
-- last page's.
function _M.all(c, list, p1, query, copts)
  local st, err = start(c, list, list.all, p1, query, copts, limits.MAX_PAGES)
  if not st then return nil, err end
  local out, n = {}, 0
  while true do
    local data, m, last = next_page(st)
    if not data then return nil, m end
    for i = 1, #data do out[n + i] = data[i] end
    n = n + #data
    if #data == 0 or last then return { data = out, pages = st.page }, nil, m end
  end
end

--- each(c, list, p1, query, copts) -> iterator: item | false, err (once, then
-- the end) | nil (the end).  At most query.max_pages pages (default
-- limits.MAX_PAGES_CEILING, a bound against a server that never ends).
function _M.each(c, list, p1, query, copts)
  local st, err = start(c, list, list.each, p1, query, copts, limits.MAX_PAGES_CEILING)
  local data, i, last, done = nil, 0, false, false
  return function()
    if done then return nil end
    if not st then
      done = true
      return false, err
    end
    while true do
      if data and i < #data then
        i = i + 1
        return data[i]
      end
      if last or (data and #data == 0) then
        done = true
        return nil
      end
      local m
      data, m, last = next_page(st)
      i = 0
      if not data then
        done = true
        return false, m
      end
    end
  end
end

return _M
