-- konnect.cli.check: a command's own options, checked against the command
-- table (konnect.cli.options) and each other, and converted (konnect.cli.args)
-- before anything is sent.  Every refusal is a usage error (exit 2), through
-- the run's st.usage_error.

local args_ = require "konnect.cli.args"
local render = require "konnect.cli.render"
local options = require "konnect.cli.options"

local pairs, ipairs = pairs, ipairs

local clean = render.clean
local OPTIONS = options.OPTIONS

local _M = {}

-- a converted option value, or its message (konnect.cli.args) as the
-- command's usage error
local function converted(st, v, why)
  if v == nil then st.usage_error(why) end
  return v
end

local OLD_MODES = { "delete", "revoke", "keep" }

-- -o env prints a secret for a shell to eval: on a terminal it would only be
-- shown (and kept in the scrollback), so it is refused there unless asked
local function output_options(st, name, opts)
  if opts["force-tty"] and opts.output ~= "env" then st.usage_error("--force-tty goes with -o env") end
  if not opts.output then return end
  converted(st, args_.output(opts.output))
  if st.json then
    st.usage_error("-o env and --json both print the new token: use one (--json carries the secret in " ..
      "konnect_token; a system account's in token)")
  end
  if opts["secret-file"] then
    st.usage_error("-o env prints the secret and --secret-file writes it to a file: use one")
  end
  if not opts["force-tty"] and st.is_terminal("stdout") then
    st.usage_error("-o env prints the secret as an export line for a shell to eval, and stdout is a " ..
      "terminal, where it would only be shown: run eval \"$(konnect-pats " .. name .. " ... -o env)\", " ..
      "or add --force-tty to print it here; nothing was created")
  end
end

-- --system-account: instead of --user; what a system account's tokens lack
-- (a state, a revoke) refused before anything is sent
local function system_account_options(st, name, opts)
  local sa = opts["system-account"]
  if not sa then return end
  if opts.user then st.usage_error("--user and --system-account both say whose tokens: give one") end
  if sa == "" then st.usage_error("--system-account needs a system account's name or id") end
  if opts.state then
    st.usage_error("a system account's tokens have no state: drop --state" ..
      (name == "prune" and " (prune deletes the expired ones; --older-than AGE counts from the expiry)" or ""))
  end
  if opts.old == "revoke" then
    st.usage_error("a system account's tokens have no revoke: --old delete (the default) or --old keep")
  end
  if opts.old == "keep" and not opts.name then
    st.usage_error("--old keep needs --name NAME: a system account's token names are unique, and the old " ..
      "token keeps its name")
  end
end

-- users' and system-accounts' filters, and audit's two outputs
local function list_options(st, name, opts)
  for _, o in ipairs { "email", "full-name", "name-contains", name == "system-accounts" and "name" or nil } do
    if opts[o] == "" then st.usage_error("--" .. o .. " needs a value") end
  end
  if opts.name and opts["name-contains"] then
    st.usage_error("--name (the exact name) and --name-contains (a part of it): give one")
  end
  if opts.csv and st.json then
    st.usage_error("--csv and --json both choose the output: give one")
  end
end

-- the command's own options, checked and converted
function _M.command(st, name, cmd, opts)
  local given = {}
  for o in pairs(opts) do
    if not OPTIONS[o].global and not cmd.options[o] then given[#given + 1] = o end
  end
  table.sort(given)
  if given[1] == "system-account" and name == "revoke" then
    st.usage_error("a system account's tokens have no revoke: delete the token instead (konnect-pats delete " ..
      "TOKEN --system-account ACCOUNT)")
  end
  if given[1] then
    local short = OPTIONS[given[1]].short
    st.usage_error((short and (short .. "/") or "") .. "--" .. given[1] .. " is not an option of " .. name)
  end
  system_account_options(st, name, opts)
  if opts.force and not opts["secret-file"] then st.usage_error("--force goes with --secret-file") end
  local extra = {}
  if name == "create" then
    if not opts.name then st.usage_error("create needs --name NAME") end
    if opts.ttl and opts["expires-at"] then
      st.usage_error("--ttl and --expires-at both set the lifetime: give one (--ttl TTL is preferred: Konnect " ..
        "deprecates expires_at)")
    end
    if not (opts.ttl or opts["expires-at"]) then
      st.usage_error("create needs --ttl TTL (1d .. 1y) or --expires-at RFC3339")
    end
    if opts["expires-at"] then
      extra.expires_at = converted(st, args_.expires_at(opts["expires-at"], os.time()))
    end
  end
  for _, c in ipairs { { "ttl", "ttl" }, { "older-than", "older_than" }, { "state", "states" },
                       { "expiring-within", "expiring_within" }, { "sort", "sort" }, { "unused-for", "unused_for" },
                       { "active", "active" } } do
    if opts[c[1]] then
      local convert = args_[(name == "list" and c[1] == "state") and "list_states" or c[2]]
      extra[c[2]] = converted(st, convert(opts[c[1]]))
    end
  end
  if opts.old then
    local ok = false
    for _, m in ipairs(OLD_MODES) do ok = ok or opts.old == m end
    if not ok then
      local guess = args_.suggest(opts.old, OLD_MODES)
      st.usage_error("--old must be delete, revoke or keep, got " .. clean(opts.old) ..
        (guess and ("; did you mean " .. guess .. "?") or ""))
    end
  end
  output_options(st, name, opts)
  list_options(st, name, opts)
  return extra
end

return _M
