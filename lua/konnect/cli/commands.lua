-- konnect.cli.commands: what each konnect-pats command does, given the run's
-- state `st` (konnect.cli: output writers, st.fail/st.die/..., whose tokens:
-- st.owner) and a client.  Every answer's shape is checked before it is
-- printed.
--
-- st.owner = { kind = "user" | "system_account", id =, label = } says whose
-- tokens a command works on: a user's personal access tokens (--user, default
-- me) or a system account's tokens (--system-account, resolved by
-- system_account below).  Each command calls the client's method for the
-- owner's kind (METHODS); a system account's tokens have no state and no
-- revoke, and their secret is in `token`.

local json = require "konnect.json"
local validate = require "konnect.validate"
local render = require "konnect.cli.render"
local OPERATIONS = require("konnect.pats").OPERATIONS

local type, pairs, ipairs, tostring, format = type, pairs, ipairs, tostring, string.format

local clean = render.clean
local PROG = "konnect-pats"
local EXIT_API, EXIT_USAGE, EXIT_NET = 1, 2, 3

local _M = {}

---------------------------------------------------------------------------
-- shapes of answers: never trust the server's

local function decode_error(st, what)
  st.fail(EXIT_NET, "decode", "the server's answer is not " .. what)
end

local function want_object(st, v, what)
  if type(v) ~= "table" or v[1] ~= nil then decode_error(st, what) end
  return v
end

local function want_tokens(st, list, what)
  if type(list) ~= "table" then decode_error(st, what) end
  local n = 0
  for _ in pairs(list) do n = n + 1 end
  if n ~= #list then decode_error(st, what) end
  for i = 1, n do
    if type(list[i]) ~= "table" then decode_error(st, what) end
  end
  return list
end

-- a 409 on create: the library says how many tokens the user holds; the
-- command line's way to free a slot
local function quota_hint(err)
  if type(err) == "table" and err.kind == "conflict" and type(err.message) == "string" then
    err.message = err.message .. "; from the shell: konnect-pats prune --dry-run, then konnect-pats prune"
  end
  return err
end

local function public_list(list)
  local o = {}
  for i, t in ipairs(list) do o[i] = render.without_secret(t) end
  return o
end

_M.want_object, _M.want_list, _M.public_list = want_object, want_tokens, public_list

---------------------------------------------------------------------------
-- whose tokens

-- the client's methods for a user's tokens and for a system account's, and
-- the field of a new token that carries its secret
local METHODS = {
  user = { list = "list", get = "get", create = "create", update = "update", delete = "delete",
           rotate = "rotate", prune = "prune", secret = OPERATIONS.create.secret, name = validate.name },
  system_account = { list = "list_sa_tokens", get = "get_sa_token", create = "create_sa_token",
                     update = "update_sa_token", delete = "delete_sa_token", rotate = "rotate_sa_token",
                     prune = "prune_sa_tokens", secret = OPERATIONS.create_sa_token.secret, name = validate.sa_name },
}

-- call(st, client, what, ...) -> the client's method `what` for the owner's
-- tokens, called with the owner's id first
local function call(st, client, what, ...)
  local o = st.owner
  return client[METHODS[o.kind][what]](client, o.id, ...)
end

--- user(st): st.owner for --user (st.user: an id or "me")
function _M.user(st)
  st.owner = { kind = "user", id = st.user, label = st.user == "me" and "" or (" of user " .. clean(st.user)) }
end

--- system_account(st, client, ACCOUNT): st.owner for --system-account: an id
--- (a UUID) as it is, a name through client:find_system_account (exactly
--- one account of that name; several: invalid_argument, exit 2, their ids
--- listed; none: not_found, exit 1)
function _M.system_account(st, client, given)
  local id = validate.uuid(given, "account")
  local label = id and (" of system account " .. clean(id))
  if not id then
    local a, err = client:find_system_account(given)
    if not a then st.die(err) end
    want_object(st, a, "a system account object")
    id = validate.uuid(a.id, "account id")
    if not id then decode_error(st, "a system account with an id") end
    label = format(" of system account \"%s\" (%s)", clean(a.name or given), id)
  end
  st.owner, st.stateless = { kind = "system_account", id = id, label = label }, true
end

-- the owner's tokens, without secrets (a list answer's shape checked)
local function tokens_of(st, client)
  local list, err = call(st, client, "list")
  if not list then st.die(err) end
  want_object(st, list, "a list object")
  return public_list(want_tokens(st, list.data, "a list of tokens"))
end

---------------------------------------------------------------------------
-- TOKEN: an id, or the name of exactly one of the user's tokens

-- token_id(st, client, TOKEN) -> the token's id, and its object when it was
-- found by name.  A name several tokens have is a usage error (2) whose
-- message lists them (and, with --json, whose "candidates" are their objects).
local function token_id(st, client, name)
  if validate.uuid(name, "token") then return name end
  local ok, why = METHODS[st.owner.kind].name(name)
  if not ok then
    st.usage_error("TOKEN must be a token id or a token name: " .. why .. ", got \"" .. clean(name) .. "\"")
  end
  local found = {}
  for _, t in ipairs(tokens_of(st, client)) do
    if t.name == name then found[#found + 1] = t end
  end
  local who = st.owner.label
  if #found == 0 then
    st.fail(EXIT_API, "not_found", format("no token%s is named \"%s\"", who, clean(name)))
  end
  if #found == 1 then
    local id = validate.uuid(found[1].id, "token id")
    if not id then decode_error(st, "a token with an id") end
    return id, found[1]
  end
  local briefs = {}
  for i, t in ipairs(found) do briefs[i] = render.token_brief(t, st.stateless) end
  st.fail(EXIT_USAGE, "invalid_argument", format("%d tokens%s are named \"%s\": %s; give the id of the one you mean",
    #found, who, clean(name), table.concat(briefs, ", ")), { candidates = found })
end
_M.token_id = token_id

---------------------------------------------------------------------------
-- commands

local run = {}
_M.run = run

local function print_json(st, v) st.out(json.encode_sorted(v), "\n") end

-- Whether a deletion asks first: only when stdin is a terminal and --yes was
-- not given.  A script or a CI job (stdin a pipe, a file, /dev/null) goes on
-- without a question, as before there was one.
local function asks(st, opts) return not opts.yes and st.is_terminal("stdin") end

-- " of user <id>", " of system account ...", or "" for me
local function of_owner(st) return st.owner.label end

function run.whoami(st, client)
  local me, err = client:me()
  if not me then st.die(err) end
  want_object(st, me, "a user object")
  if st.json then return print_json(st, me) end
  render.user_fields(st.out, me)
end

-- list's --state, --expiring-within and --sort (default: expires), in place
local function select_and_sort(data, extra, now)
  local rfc3339 = require("konnect.time").rfc3339
  local states, within = nil, extra.expiring_within
  if extra.states then
    states = {}
    for _, v in ipairs(extra.states) do states[v] = true end
  end
  local kept, at = {}, {}
  for _, t in ipairs(data) do
    local exp = rfc3339(t.expires_at) -- nil: never expires (or no date we can read)
    if (not states or states[t.state]) and (not within or (exp and exp <= now + within)) then
      kept[#kept + 1], at[t] = t, exp
    end
  end
  local by = extra.sort or "expires"
  local function key(t)
    if by == "name" then return tostring(t.name or "") end
    if by == "created" then return rfc3339(t.created_at) or math.huge end
    return at[t] or math.huge
  end
  local field = by == "created" and "created_at" or "expires_at"
  table.sort(kept, function(a, b)
    local ka, kb = key(a), key(b)
    if ka ~= kb then return ka < kb end
    -- the same second: the stamps' fractions, as strings (same form, same server)
    local fa, fb = tostring(a[field] or ""), tostring(b[field] or "")
    if by ~= "name" and fa ~= fb then return fa < fb end
    local na, nb = tostring(a.name or ""), tostring(b.name or "")
    if na ~= nb then return na < nb end
    return tostring(a.id or "") < tostring(b.id or "")
  end)
  return kept
end
_M.select_and_sort = select_and_sort

function run.list(st, client, _, _, extra)
  local data = select_and_sort(tokens_of(st, client), extra, os.time())
  if st.json then return print_json(st, data) end
  if #data == 0 then return st.out("(no tokens)\n") end
  render.token_table(st.out, data, st.stateless)
end

function run.get(st, client, _, args)
  local tok, err = call(st, client, "get", (token_id(st, client, args[1])))
  if not tok then st.die(err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if st.json then return print_json(st, tok) end
  render.token_fields(st.out, tok, st.stateless)
end

-- a new name checked before TOKEN is looked up (no request for a refused name)
local function check_new_name(st, name)
  if name == nil then return end
  local ok, why = METHODS[st.owner.kind].name(name)
  if not ok then st.fail(EXIT_USAGE, "invalid_argument", why) end
end

function run.rename(st, client, _, args)
  check_new_name(st, args[2])
  local id = token_id(st, client, args[1])
  local tok, err = call(st, client, "update", id, { name = args[2] })
  if not tok then st.die(err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if st.json then return print_json(st, tok) end
  st.out(format("renamed token %s to \"%s\"\n", clean(tok.id or id), clean(tok.name or args[2])))
end

function run.revoke(st, client, _, args) -- a user's tokens only (options: no --system-account)
  local id = token_id(st, client, args[1])
  local tok, err = client:revoke(st.owner.id, id)
  if not tok then st.die(err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if st.json then return print_json(st, tok) end
  st.out(format("revoked token \"%s\" (%s)\n", clean(tok.name or ""), clean(tok.id or id)))
end

-- delete prints the token it deleted, as it was just before (an id given:
-- one get first), as prune prints the tokens it deleted
function run.delete(st, client, opts, args)
  local id, tok = token_id(st, client, args[1])
  if not tok then
    local got, gerr = call(st, client, "get", id)
    if not got then st.die(gerr) end
    tok = render.without_secret(want_object(st, got, "a token object"))
  end
  if asks(st, opts) then
    require("konnect.cli.terminal").confirm(st, format("delete token \"%s\" %s%s?", clean(tok.name or ""),
      render.token_brief(tok, st.stateless), of_owner(st)))
  end
  local ok, err = call(st, client, "delete", id)
  if not ok then st.die(err) end
  if st.json then return print_json(st, tok) end
  st.out(format("deleted token \"%s\" (%s)\n", clean(tok.name or ""), clean(id)))
end

function run.find(st, client, _, args)
  local found = {}
  for _, t in ipairs(tokens_of(st, client)) do
    if t.name == args[1] then found[#found + 1] = t end
  end
  if st.json then return print_json(st, found) end
  if #found == 0 then return st.out(format("(no tokens named \"%s\")\n", clean(args[1]))) end
  render.token_table(st.out, found, st.stateless)
end

-- prune's answer: the token objects (without secrets); a failure half way
-- reported with those deleted before it
local function pruned(st, list, err)
  if list ~= nil then list = public_list(want_tokens(st, list, "a list of tokens")) end
  if err then
    local ids = {}
    for i, t in ipairs(list or {}) do ids[i] = clean(t.id or "?") end
    if #ids > 0 then st.note(PROG, ": deleted before the failure: ", table.concat(ids, ", "), "\n") end
    st.die(err, #ids > 0 and { deleted = list } or nil)
  end
  return list
end

-- A confirmed prune deletes the tokens it showed and no other: the library's
-- prune again, with ids = those shown (one that died while the question
-- waited is left for the next prune; one deleted meanwhile is not counted).
function run.prune(st, client, opts, _, extra)
  local dry = opts["dry-run"] and true or false
  -- on a terminal without --yes: what would go, the question, then those
  local ask = not dry and asks(st, opts)
  local o = { states = extra.states, older_than = extra.older_than, dry_run = dry or ask }
  local list = pruned(st, call(st, client, "prune", o))
  if ask and #list > 0 then
    require("konnect.cli.terminal").confirm(st, #list == 1 and "delete it?" or "delete them?", list,
      format("prune would delete %s%s", #list == 1 and "this token" or ("these " .. #list .. " tokens"), of_owner(st)))
    local ids = {}
    for i, t in ipairs(list) do ids[i] = t.id end
    o.dry_run, o.ids = false, ids
    list = pruned(st, call(st, client, "prune", o))
  end
  if st.json then return print_json(st, list) end
  if #list == 0 then return st.out(dry and "nothing to prune (dry run)\n" or "nothing to prune\n") end
  st.out(format(dry and "would delete %d token%s (dry run: nothing deleted):\n" or "deleted %d token%s:\n",
    #list, #list == 1 and "" or "s"))
  render.token_table(st.out, list, st.stateless)
end

-- a failure to make a token: a 409 of a user's is the ten-token quota
local function make_failed(st, err)
  st.die(st.owner.kind == "user" and quota_hint(err) or err)
end

function run.create(st, client, opts, _, extra)
  -- a system account's token: --ttl is sent as expires_at = now + TTL (the contract requires expires_at)
  local tok, err = call(st, client, "create", { name = opts.name, ttl_seconds = extra.ttl,
                                                expires_at = extra.expires_at })
  if not tok then make_failed(st, err) end
  if not require("konnect.cli.secret").deliver(st, tok, opts, "created", METHODS[st.owner.kind].secret) then
    return EXIT_API
  end
end

local OLD_DONE = {
  delete = "deleted", revoke = "revoked (it stays listed until deleted or pruned)",
  keep = "kept as it was: revoke or delete it once its users have switched",
  keep_sa = "kept as it was: delete it once its users have switched",
}


function run.rotate(st, client, opts, args, extra)
  check_new_name(st, opts.name)
  local id = token_id(st, client, args[1])
  local tok, err = call(st, client, "rotate", id, { name = opts.name, ttl_seconds = extra.ttl, old = opts.old })
  if not tok then make_failed(st, err) end
  local delivered = require("konnect.cli.secret").deliver(st, tok, opts, "new", METHODS[st.owner.kind].secret)
  if err then
    st.report_error(EXIT_API, err) -- with its new_token_id (render.error_object)
    return EXIT_API
  end
  if not delivered then return EXIT_API end
  local old = opts.old or "delete"
  st.note("old token ", clean(id), " ", OLD_DONE[(old == "keep" and st.stateless) and "keep_sa" or old], "\n")
end

return _M
