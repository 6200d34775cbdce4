-- konnect.cli.help: the text of `konnect-pats --help` and of each command's
-- --help, and the command table (arity, which options each command takes).

local _M = {}

_M.PROG = "konnect-pats"

_M.GLOBAL = [[
usage: konnect-pats [options] COMMAND [ARGS]

Manage Kong Konnect personal access tokens.

commands:
  whoami                                 show the user the access token belongs to
  list   [USER]                          list USER's tokens
  get    USER TOKEN                      show one token
  create [USER] --name NAME --ttl TTL    create a token and print its secret, once
  rename USER TOKEN NAME                 rename a token
  revoke USER TOKEN                      revoke a token (it stays listed, REVOKED)
  delete USER TOKEN                      delete a token
  rotate USER TOKEN [--ttl TTL] [--name NAME]
                                         create a replacement, then revoke TOKEN
  find   USER NAME                       list USER's tokens called NAME

USER is a user id or "me" (the default where USER is optional); TOKEN is a
token id.  TTL is seconds or a number with a unit: 36h, 30d, 2w, 1y (from 1 day
to 365 days).

options:
  --json              print the API objects as one JSON document instead of text
  --server URL        API server (env KONNECT_SERVER_URL,
                      default https://global.api.konghq.com)
  --ca-file PATH      trust the CA certificates in PATH (env KONNECT_CA_FILE)
  --timeout SECONDS   time limit for each attempt of a call (default 30)
  --token-file PATH   read the access token from PATH (default: env KONNECT_TOKEN)
  --proxy-from-env    use the proxy named by the environment (https_proxy,
                      http_proxy, ALL_PROXY, NO_PROXY); without this flag those
                      variables are ignored and no proxy is used
  -h, --help          this help; `konnect-pats COMMAND --help` for one command
  --version           print the version

The access token is never read from the command line (--token is refused):
arguments are visible to every user of the machine (ps, /proc) and are kept in
shell history.  A new token's secret is printed once, by create and rotate, or
written to a 0600 file with --secret-file; no other output ever contains one.

exit status:
  0  success
  1  the API refused or failed (400, 404, 409, 429, 5xx); rotate when the new
     token was created but revoking the old one failed; an internal error
  2  usage error, including arguments the library rejects (invalid_argument)
     and a --secret-file that cannot be created safely
  3  network, timeout or TLS failure, a response that could not be read, or a
     failure of the local system (timeout, connect, tls, network, too_large,
     decode, system)
  4  authentication or permission refused (401, 403)
]]

local SECRET_OPTIONS = [[
  --secret-file PATH  write the secret to PATH instead of stdout: the file is
                      created before the token, with mode 0600, and never
                      through an existing name (a link or pipe is refused);
                      refuses an existing PATH unless --force
  --force             replace an existing PATH (a regular file or a symlink,
                      which is replaced, not followed) atomically, by renaming
                      a new private file over it
]]

_M.COMMANDS = {
  whoami = { min = 0, max = 0, usage = "whoami", help = [[
Show the user the access token belongs to (GET /v3/users/me).
]] },
  list = { min = 0, max = 1, usage = "list [USER]", help = [[
List USER's tokens (default: me) as a table: NAME, ID, STATE, EXPIRES, LAST USED.
With --json, the API's list object ({"data": [...], "meta": {...}}).
]] },
  get = { min = 2, max = 2, usage = "get USER TOKEN", help = [[
Show one token.  With --json, the API's token object.
]] },
  create = { min = 0, max = 1, usage = "create [USER] --name NAME --ttl TTL [--secret-file PATH [--force]]",
    secret = true, name = true, ttl = true, help = [[
Create a token for USER (default: me).  Its secret is shown only now: alone on
stdout (so TOKEN=$(konnect-pats create --name ci --ttl 1d) works), with a summary
on stderr; or, with --secret-file, only in that file.  With --json, the API's
token object, which carries the secret in konnect_token (left out with
--secret-file).

  --name NAME         the token's name (names need not be unique)
  --ttl TTL           its lifetime: seconds, or 36h, 30d, 2w, 1y (1 day .. 365 days)
]] .. SECRET_OPTIONS },
  rename = { min = 3, max = 3, usage = "rename USER TOKEN NAME", help = [[
Rename a token.  With --json, the updated token object.
]] },
  revoke = { min = 2, max = 2, usage = "revoke USER TOKEN", help = [[
Revoke a token: it stops working at once and stays listed as REVOKED.
With --json, the revoked token object.
]] },
  delete = { min = 2, max = 2, usage = "delete USER TOKEN", help = [[
Delete a token.  With --json, {"deleted": true, "id": TOKEN}.
]] },
  rotate = { min = 2, max = 2, usage = "rotate USER TOKEN [--ttl TTL] [--name NAME] [--secret-file PATH [--force]]",
    secret = true, name = true, ttl = true, help = [[
Create a replacement for TOKEN (same name and lifetime unless given), then
revoke TOKEN.  The new secret is shown as by create.  If the revoke fails, the
new secret is still printed (or written), the error goes to stderr, and the
exit status is 1: revoke the old token yourself.

  --name NAME         name the replacement NAME
  --ttl TTL           the replacement's lifetime (default: the old one's)
]] .. SECRET_OPTIONS },
  find = { min = 2, max = 2, usage = "find USER NAME", help = [[
List USER's tokens called NAME (all of them: names need not be unique).
With --json, an array of token objects ([] when there is none).
]] },
}

local COMMON_OPTIONS = [[

options of every command: --json, --server URL, --ca-file PATH, --timeout SECONDS,
--token-file PATH, --proxy-from-env (see konnect-pats --help for these and the exit statuses)
]]

--- command(name) -> the --help text of one command
function _M.command(name)
  local c = _M.COMMANDS[name]
  return "usage: konnect-pats " .. c.usage .. "\n\n" .. c.help .. COMMON_OPTIONS
end

return _M
