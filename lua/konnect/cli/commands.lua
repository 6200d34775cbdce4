-- konnect.cli.commands: what each konnect-pats command does, given the run's
-- state `st` (konnect.cli: output writers, st.fail/st.die/..., the user) and a
-- client.  Every answer's shape is checked before it is printed.

local json = require "konnect.json"
local validate = require "konnect.validate"
local render = require "konnect.cli.render"

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

---------------------------------------------------------------------------
-- TOKEN: an id, or the name of exactly one of the user's tokens

-- token_id(st, client, TOKEN) -> the token's id, and its object when it was
-- found by name.  A name several tokens have is a usage error (2) whose
-- message lists them (and, with --json, whose "candidates" are their objects).
local function token_id(st, client, name)
  if validate.uuid(name, "token") then return name end
  local ok, why = validate.name(name)
  if not ok then
    st.usage_error("TOKEN must be a token id or a token name: " .. why .. ", got \"" .. clean(name) .. "\"")
  end
  local found, err = client:find_by_name(st.user, name)
  if not found then st.die(err) end
  found = want_tokens(st, found, "a list of tokens")
  local who = st.user == "me" and "" or (" of user " .. clean(st.user))
  if #found == 0 then
    st.fail(EXIT_API, "not_found", format("no token%s is named \"%s\"", who, clean(name)))
  end
  if #found == 1 then
    local id = validate.uuid(found[1].id, "token id")
    if not id then decode_error(st, "a token with an id") end
    return id, render.without_secret(found[1])
  end
  local candidates, briefs = public_list(found), {}
  for i, t in ipairs(candidates) do briefs[i] = render.token_brief(t) end
  st.fail(EXIT_USAGE, "invalid_argument", format("%d tokens%s are named \"%s\": %s; give the id of the one you mean",
    #found, who, clean(name), table.concat(briefs, ", ")), { candidates = candidates })
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

-- " of user <id>", or "" for me
local function of_user(st) return st.user == "me" and "" or (" of user " .. clean(st.user)) end

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
  local list, err = client:list(st.user)
  if not list then st.die(err) end
  want_object(st, list, "a list object")
  local data = select_and_sort(public_list(want_tokens(st, list.data, "a list of tokens")), extra, os.time())
  if st.json then return print_json(st, data) end
  if #data == 0 then return st.out("(no tokens)\n") end
  render.token_table(st.out, data)
end

function run.get(st, client, _, args)
  local tok, err = client:get(st.user, (token_id(st, client, args[1])))
  if not tok then st.die(err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if st.json then return print_json(st, tok) end
  render.token_fields(st.out, tok)
end

-- a new name checked before TOKEN is looked up (no request for a refused name)
local function check_new_name(st, name)
  if name == nil then return end
  local ok, why = validate.name(name)
  if not ok then st.fail(EXIT_USAGE, "invalid_argument", why) end
end

function run.rename(st, client, _, args)
  check_new_name(st, args[2])
  local id = token_id(st, client, args[1])
  local tok, err = client:update(st.user, id, { name = args[2] })
  if not tok then st.die(err) end
  tok = render.without_secret(want_object(st, tok, "a token object"))
  if st.json then return print_json(st, tok) end
  st.out(format("renamed token %s to \"%s\"\n", clean(tok.id or id), clean(tok.name or args[2])))
end

function run.revoke(st, client, _, args)
  local id = token_id(st, client, args[1])
  local tok, err = client:revoke(st.user, id)
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
    local got, gerr = client:get(st.user, id)
    if not got then st.die(gerr) end
    tok = render.without_secret(want_object(st, got, "a token object"))
  end
  if asks(st, opts) then
    require("konnect.cli.terminal").confirm(st, format("delete token \"%s\" %s%s?", clean(tok.name or ""),
      render.token_brief(tok), of_user(st)))
  end
  local ok, err = client:delete(st.user, id)
  if not ok then st.die(err) end
  if st.json then return print_json(st, tok) end
  st.out(format("deleted token \"%s\" (%s)\n", clean(tok.name or ""), clean(id)))
end

function run.find(st, client, _, args)
  -- client:list, not client:find_by_name: the answer's shape is checked as by `list`
  local list, err = client:list(st.user)
  if not list then st.die(err) end
  want_object(st, list, "a list object")
  local found = {}
  for _, t in ipairs(want_tokens(st, list.data, "a list of tokens")) do
    if t.name == args[1] then found[#found + 1] = render.without_secret(t) end
  end
  if st.json then return print_json(st, found) end
  if #found == 0 then return st.out(format("(no tokens named \"%s\")\n", clean(args[1]))) end
  render.token_table(st.out, found)
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

-- A confirmed prune deletes the tokens shown, and no other (one that died
-- while the question waited is left for the next prune), as client:prune
-- deletes: one after another, a 404 counted as deleted (already gone), the
-- first other failure ends it -> deleted | deleted so far, err
local function delete_each(st, client, doomed)
  local deleted = {}
  for _, tok in ipairs(doomed) do
    local ok, err = client:delete(st.user, tok.id)
    if not ok and not (type(err) == "table" and err.kind == "not_found") then
      if type(err) == "table" then
        err.message = format("pruned %d of %d tokens, then deleting %s failed: %s", #deleted, #doomed,
          clean(tok.id), tostring(err.message))
      end
      return deleted, err
    end
    deleted[#deleted + 1] = tok
  end
  return deleted
end

function run.prune(st, client, opts, _, extra)
  if type(client.prune) ~= "function" then
    st.fail(EXIT_API, "system", "this konnect library has no client:prune; install lua-konnect 0.2 or later")
  end
  local dry = opts["dry-run"] and true or false
  -- on a terminal without --yes: what would go, the question, then those
  local ask = not dry and asks(st, opts)
  local list = pruned(st, client:prune(st.user, { states = extra.states, older_than = extra.older_than,
                                                   dry_run = dry or ask }))
  if ask and #list > 0 then
    require("konnect.cli.terminal").confirm(st, #list == 1 and "delete it?" or "delete them?", list,
      format("prune would delete %s%s", #list == 1 and "this token" or ("these " .. #list .. " tokens"), of_user(st)))
    list = pruned(st, delete_each(st, client, list))
  end
  if st.json then return print_json(st, list) end
  if #list == 0 then return st.out(dry and "nothing to prune (dry run)\n" or "nothing to prune\n") end
  st.out(format(dry and "would delete %d token%s (dry run: nothing deleted):\n" or "deleted %d token%s:\n",
    #list, #list == 1 and "" or "s"))
  render.token_table(st.out, list)
end

function run.create(st, client, opts, _, extra)
  local tok, err = client:create(st.user, { name = opts.name, ttl_seconds = extra.ttl, expires_at = extra.expires_at })
  if not tok then st.die(quota_hint(err)) end
  if not require("konnect.cli.secret").deliver(st, tok, opts, "created") then return EXIT_API end
end

local OLD_DONE = {
  delete = "deleted", revoke = "revoked (it stays listed until deleted or pruned)",
  keep = "kept as it was: revoke or delete it once its users have switched",
}


function run.rotate(st, client, opts, args, extra)
  check_new_name(st, opts.name)
  local id = token_id(st, client, args[1])
  local tok, err = client:rotate(st.user, id, { name = opts.name, ttl_seconds = extra.ttl, old = opts.old })
  if not tok then st.die(quota_hint(err)) end
  local delivered = require("konnect.cli.secret").deliver(st, tok, opts, "new")
  if err then
    st.report_error(EXIT_API, err, { new_token_id = type(tok) == "table" and tok.id or nil })
    return EXIT_API
  end
  if not delivered then return EXIT_API end
  st.note("old token ", clean(id), " ", OLD_DONE[opts.old or "delete"], "\n")
end

return _M
