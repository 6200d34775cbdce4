-- konnect.cli.options: what the command line is made of, declared once: every
-- option (whether it takes a value, its short form, whether every command
-- takes it) and every command (arity, usage line, its own options).  The
-- parser (konnect.cli.args), the per-command check (konnect.cli), the help
-- texts (konnect.cli.help) and the specs read these tables; the bash
-- completion (completion/konnect-pats.bash) repeats them, and
-- spec/cli_spec.lua holds it to them.
--
-- A new command is a row of COMMANDS, its run function in
-- konnect.cli.commands (run[name]), its text in konnect.cli.help (TEXT[name]),
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
}

-- The commands: min/max positional arguments; legacy: the older form with
-- USER first is accepted (one more positional); usage: the usage line;
-- options: the command's own options (keys of OPTIONS).  Their --help texts:
-- konnect.cli.help.
local USER = { user = true }
-- the options of a command that prints a new secret
local function secret_options(more)
  local o = { user = true, name = true, ttl = true, ["secret-file"] = true, force = true, output = true,
              ["force-tty"] = true }
  for k in pairs(more) do o[k] = true end
  return o
end
local SECRET_USAGE = "[--secret-file PATH [--force] | -o env [--force-tty]]"

_M.COMMANDS = {
  whoami = { min = 0, max = 0, usage = "whoami", options = {} },
  list = { min = 0, max = 0, legacy = true,
    usage = "list [--state STATES] [--expiring-within AGE] [--sort expires|name|created] [--user USER]",
    options = { user = true, state = true, ["expiring-within"] = true, sort = true } },
  get = { min = 1, max = 1, legacy = true, usage = "get TOKEN [--user USER]", options = USER },
  create = { min = 0, max = 0, legacy = true,
    usage = "create --name NAME (--ttl TTL | --expires-at RFC3339) [--user USER] " .. SECRET_USAGE,
    options = secret_options { ["expires-at"] = true } },
  rename = { min = 2, max = 2, legacy = true, usage = "rename TOKEN NEWNAME [--user USER]", options = USER },
  revoke = { min = 1, max = 1, legacy = true, usage = "revoke TOKEN [--user USER]", options = USER },
  delete = { min = 1, max = 1, legacy = true, usage = "delete TOKEN [--yes] [--user USER]",
    options = { user = true, yes = true } },
  rotate = { min = 1, max = 1, legacy = true,
    usage = "rotate TOKEN [--old delete|revoke|keep] [--ttl TTL] [--name NAME] [--user USER] " .. SECRET_USAGE,
    options = secret_options { old = true } },
  find = { min = 1, max = 1, legacy = true, usage = "find NAME [--user USER]", options = USER },
  prune = { min = 0, max = 0,
    usage = "prune [--state revoked,expired] [--older-than AGE] [--dry-run] [--yes] [--user USER]",
    options = { user = true, state = true, ["older-than"] = true, ["dry-run"] = true, yes = true } },
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
