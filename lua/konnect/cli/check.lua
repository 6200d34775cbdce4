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
      "konnect_token)")
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

-- the command's own options, checked and converted
function _M.command(st, name, cmd, opts)
  local given = {}
  for o in pairs(opts) do
    if not OPTIONS[o].global and not cmd.options[o] then given[#given + 1] = o end
  end
  table.sort(given)
  if given[1] then
    local short = OPTIONS[given[1]].short
    st.usage_error((short and (short .. "/") or "") .. "--" .. given[1] .. " is not an option of " .. name)
  end
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
                       { "expiring-within", "expiring_within" }, { "sort", "sort" } } do
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
  return extra
end

return _M
