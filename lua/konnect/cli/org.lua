-- konnect.cli.org: konnect-pats users and konnect-pats system-accounts, the
-- organisation's paged lists (konnect.pages: every page, never trusting
-- meta.page.total).  Loaded only to run one of them (HACKING.md, the CLI's
-- cold start).
--
-- users [--email EMAIL] [--full-name TEXT] [--active true|false]: EMAIL is
-- matched exactly (filter[email][eq]), TEXT is a part of the full name
-- (filter[full_name][contains]); system-accounts [--name NAME |
-- --name-contains TEXT] likewise (filter[name][eq], filter[name][contains]).
-- A table, or with --json the array of the API's objects ([] for none).

local json = require "konnect.json"
local limits = require "konnect.limits"
local render = require "konnect.cli.render"
local commands = require "konnect.cli.commands"

local ipairs, next, tostring = ipairs, next, tostring

local clean = render.clean

local _M = {}
local run = {}
_M.run = run

-- every page of a list (up to the library's ceiling of pages), its items'
-- shape checked
local function all(st, client, method, filter)
  local list, err = client[method](client, { filter = next(filter) and filter or nil,
                                             max_pages = limits.MAX_PAGES_CEILING })
  if not list then st.die(err) end
  commands.want_object(st, list, "a list object")
  return commands.want_list(st, list.data, "a list of objects")
end

local function print_json(st, v) st.out(json.encode_sorted(v), "\n") end

local function opt(v) return v ~= nil and clean(v) or "" end

function run.users(st, client, opts, _, extra)
  local filter = {}
  if opts.email then filter.email = { eq = opts.email } end
  if opts["full-name"] then filter.full_name = { contains = opts["full-name"] } end
  if extra.active ~= nil then filter.active = extra.active end
  local users = all(st, client, "list_users", filter)
  if st.json then return print_json(st, users) end
  if #users == 0 then return st.out("(no users)\n") end
  local rows = {}
  for i, u in ipairs(users) do
    rows[i] = { opt(u.email), opt(u.full_name), opt(u.id), u.active ~= nil and tostring(u.active) or "?" }
  end
  render.table(st.out, { "EMAIL", "NAME", "ID", "ACTIVE" }, rows)
end

run["system-accounts"] = function(st, client, opts)
  local filter = {}
  if opts.name then filter.name = { eq = opts.name } end
  if opts["name-contains"] then filter.name = { contains = opts["name-contains"] } end
  local accounts = all(st, client, "list_system_accounts", filter)
  if st.json then return print_json(st, accounts) end
  if #accounts == 0 then return st.out("(no system accounts)\n") end
  local rows = {}
  for i, a in ipairs(accounts) do
    rows[i] = { opt(a.name), opt(a.id), a.konnect_managed ~= nil and tostring(a.konnect_managed) or "?",
                a.created_at ~= nil and render.relative(a.created_at) or "" }
  end
  render.table(st.out, { "NAME", "ID", "MANAGED", "CREATED" }, rows)
end

return _M
