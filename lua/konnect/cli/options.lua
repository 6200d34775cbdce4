-- konnect.cli.options: what the command line is made of, declared once: every
-- option (whether it takes a value, its short form, whether every command
-- takes it) and every command (arity, usage line, its own options).  The
-- parser (konnect.cli.args), the per-command check (konnect.cli), the help
-- texts (konnect.cli.help) and the specs read these tables; the bash
-- completion (completion/konnect-pats.bash) repeats them, and
-- spec/cli_spec.lua holds it to them.
--
-- A new command is a row of COMMANDS, its run function in
-- konnect.cli.commands (run[name]; or in the module its row names, loaded
-- only to run it), its text in konnect.cli.help (TEXT[name]),
-- its row in README.md's `--json` table (spec/cli_json_spec.lua reads it) and
-- its words in the completion.  A new option is a row of OPTIONS and a key of
-- the `options` set of each command that takes it.

local pairs = pairs

local _M = {}

-- name = { value = "WHAT" (takes a value; nil: a flag), short = "-x",
--          global = true (every command takes it) }
_M.OPTIONS = {
  -- every command's
  json = { global = true },
  verbose = { global = true, short = "-v" },
  help = { global = true, short = "-h" },
  version = { global = true },
  server = { global = true, value = "URL" },
  ["ca-file"] = { global = true, value = "PATH" },
  timeout = { global = true, value = "SECONDS" },
  ["token-file"] = { global = true, value = "PATH" },
  ["proxy-from-env"] = { global = true },
  -- a command's own
  user = { value = "USER" },
  ["system-account"] = { value = "ACCOUNT" },
  name = { value = "NAME" },
  ttl = { value = "TTL" },
  ["expires-at"] = { value = "RFC3339" },
  ["secret-file"] = { value = "PATH" },
  force = {},
  output = { value = "FORMAT", short = "-o" },
  ["force-tty"] = {},
  yes = { short = "-y" },
  state = { value = "STATES" },
  ["older-than"] = { value = "AGE" },
  ["expiring-within"] = { value = "AGE" },
  sort = { value = "KEY" },
  old = { value = "MODE" },
  ["dry-run"] = {},
  email = { value = "EMAIL" },
  ["full-name"] = { value = "TEXT" },
  active = { value = "BOOL" },
  ["name-contains"] = { value = "TEXT" },
  ["unused-for"] = { value = "AGE" },
  csv = {},
}

-- The commands: min/max positional arguments; legacy: the older form with
-- USER first is accepted (one more positional); usage: the usage line;
-- options: the command's own options (keys of OPTIONS); module: where its
-- run function is when not in konnect.cli.commands (loaded only to run it).
-- Their --help texts: konnect.cli.help.
-- whose tokens: a user's (--user) or a system account's (--system-account)
local WHO = "[--user USER | --system-account ACCOUNT]"
local function who(more)
  local o = { user = true, ["system-account"] = true }
  for k in pairs(more or {}) do o[k] = true end
  return o
end
-- the options of a command that prints a new secret
local function secret_options(more)
  local o = who { name = true, ttl = true, ["secret-file"] = true, force = true, output = true, ["force-tty"] = true }
  for k in pairs(more) do o[k] = true end
  return o
end
local SECRET_USAGE = "[--secret-file PATH [--force] | -o env [--force-tty]]"

_M.COMMANDS = {
  whoami = { min = 0, max = 0, usage = "whoami", options = {} },
  list = { min = 0, max = 0, legacy = true,
    usage = "list [--state STATES] [--expiring-within AGE] [--sort expires|name|created] " .. WHO,
    options = who { state = true, ["expiring-within"] = true, sort = true } },
  get = { min = 1, max = 1, legacy = true, usage = "get TOKEN " .. WHO, options = who() },
  create = { min = 0, max = 0, legacy = true,
    usage = "create --name NAME (--ttl TTL | --expires-at RFC3339) " .. WHO .. " " .. SECRET_USAGE,
    options = secret_options { ["expires-at"] = true } },
  rename = { min = 2, max = 2, legacy = true, usage = "rename TOKEN NEWNAME " .. WHO, options = who() },
  revoke = { min = 1, max = 1, legacy = true, usage = "revoke TOKEN [--user USER]", options = { user = true } },
  delete = { min = 1, max = 1, legacy = true, usage = "delete TOKEN [--yes] " .. WHO,
    options = who { yes = true } },
  rotate = { min = 1, max = 1, legacy = true,
    usage = "rotate TOKEN [--old delete|revoke|keep] [--ttl TTL] [--name NAME] " .. WHO .. " " .. SECRET_USAGE,
    options = secret_options { old = true } },
  find = { min = 1, max = 1, legacy = true, usage = "find NAME " .. WHO, options = who() },
  prune = { min = 0, max = 0,
    usage = "prune [--state revoked,expired] [--older-than AGE] [--dry-run] [--yes] " .. WHO,
    options = who { state = true, ["older-than"] = true, ["dry-run"] = true, yes = true } },
  users = { min = 0, max = 0, module = "konnect.cli.org",
    usage = "users [--email EMAIL] [--full-name TEXT] [--active true|false]",
    options = { email = true, ["full-name"] = true, active = true } },
  ["system-accounts"] = { min = 0, max = 0, module = "konnect.cli.org",
    usage = "system-accounts [--name NAME | --name-contains TEXT]",
    options = { name = true, ["name-contains"] = true } },
  audit = { min = 0, max = 0, module = "konnect.cli.audit",
    usage = "audit [--expiring-within AGE] [--unused-for AGE] [--csv]",
    options = { ["expiring-within"] = true, ["unused-for"] = true, csv = true } },
}

--- global() -> the names of the options every command takes, sorted
function _M.global()
  local list = {}
  for name, o in pairs(_M.OPTIONS) do
    if o.global then list[#list + 1] = name end
  end
  table.sort(list)
  return list
end

return _M
