-- konnect.cli.help: the text of `konnect-pats --help` and of each command's
-- --help.  Loaded only for help and usage output (not by a command's run).

local _M = {}

_M.PROG = "konnect-pats"

_M.GLOBAL = [[
usage: konnect-pats [options] COMMAND [ARGS]

Manage Kong Konnect personal access tokens and system accounts' tokens.

commands:
  whoami                          show the user the access token belongs to
  list   [--state STATES] [--expiring-within AGE] [--sort expires|name|created]
                                  list the tokens, soonest to expire first
  get    TOKEN                    show one token
  create --name NAME --ttl TTL    create a token and print its secret, once
         (or --expires-at RFC3339)
  rename TOKEN NEWNAME            rename a token
  revoke TOKEN                    revoke a token (it stays listed, REVOKED)
  delete TOKEN [--yes]            delete a token
  rotate TOKEN [--old delete|revoke|keep] [--ttl TTL] [--name NAME]
                                  create a replacement, then delete (default),
                                  revoke or keep TOKEN
  find   NAME                     list the tokens called NAME
  prune  [--state revoked,expired] [--older-than AGE] [--dry-run] [--yes]
                                  delete revoked and expired tokens
  users  [--email EMAIL] [--full-name TEXT] [--active true|false]
                                  list the organisation's users
  system-accounts [--name NAME | --name-contains TEXT]
                                  list the system accounts
  audit  [--expiring-within AGE] [--unused-for AGE] [--csv]
                                  every token of the organisation, who holds
                                  it and what needs a look (an org admin's
                                  token)

The token commands work on the tokens of --user USER: a user id, or "me"
(the default), the user the access token belongs to; or, with
--system-account ACCOUNT (its name or id), on a system account's tokens
(an org admin's token needed), for all of them but revoke: those tokens have
no state and no revoke.  TOKEN is a token id or a token name; a name must
match exactly one token (several: exit 2, with their ids; none: exit 1), as
must a system account's name.  TTL and AGE are seconds or a number with a
unit: 36h, 30d, 2w, 1y (a TTL from 1 day to 365 days).  The older form with
the user first (get USER TOKEN, list USER, ...) still works.

delete and prune ask first (on stderr, answered on stdin: y or yes) when stdin
is a terminal, unless --yes; when stdin is not a terminal (a script, a pipe,
CI) they never ask and go on.

options:
  --user USER         whose tokens: a user id or "me" (default)
  --system-account ACCOUNT
                      a system account's tokens instead (its name or id)
  --json              print one JSON document instead of text: an array for
                      list, find, prune, users and system-accounts, the
                      object for the others (audit: its report); an error is
                      one JSON object on stderr (kind, status, message,
                      trace_id, request_id) and stdout stays empty
  -v, --verbose       print each attempt (redacted) and each retry's wait on
                      stderr (also env KONNECT_DEBUG=1)
  --server URL        API server (env KONNECT_SERVER_URL,
                      default https://global.api.konghq.com)
  --ca-file PATH      trust the CA certificates in PATH (env KONNECT_CA_FILE)
  --timeout SECONDS   time limit for each attempt of a call (default 30)
  --token-file PATH   read the access token from PATH; without it, from the
                      file env KONNECT_TOKEN_FILE names, or else from env
                      KONNECT_TOKEN (both set: usage error); a file group or
                      others may read gets a warning with the chmod that
                      fixes it
  --proxy-from-env    use the proxy named by the environment (https_proxy,
                      http_proxy, ALL_PROXY, NO_PROXY); without this flag those
                      variables are ignored and no proxy is used
  -h, --help          this help; `konnect-pats COMMAND --help` for one command
  --version           print the version

The access token is never read from the command line (--token is refused, as
is any argument that looks like a token): arguments are visible to every user
of the machine (ps, /proc) and are kept in shell history, so a token pasted
there should be rotated.  A new token's secret is printed once, by create and
rotate, or written to a 0600 file with --secret-file; no other output ever
contains one.  With -o env, create and rotate print it as one line,
export KONNECT_TOKEN='...', for eval "$(konnect-pats create ... -o env)";
refused when stdout is a terminal unless --force-tty.

exit status:
  0  success
  1  the API refused or failed (400, 404, 409, 429, 5xx), or no token has the
     name given; rotate when the new token was created but the old one could
     not be revoked or deleted; an internal error
  2  usage error (kind invalid_argument), including arguments the library
     rejects, a token name that matches several tokens, a --secret-file
     that cannot be created safely, -o env to a terminal, and a question of
     delete or prune not answered y or yes (nothing deleted)
  3  network, timeout or TLS failure, a response that could not be read, or a
     failure of the local system (timeout, connect, tls, network, too_large,
     decode, system)
  4  authentication or permission refused (401, 403)
  5  audit: the report is incomplete (the owners it could not audit are on
     stderr, or in the report's failures with --json)
  130  interrupted (Ctrl-C)
]]

local SECRET_OPTIONS = [[
  --secret-file PATH  write the secret to PATH instead of stdout: the file is
                      created before the token, with mode 0600, and never
                      through an existing name (a link or pipe is refused);
                      refuses an existing PATH unless --force
  --force             replace an existing PATH (a regular file or a symlink,
                      which is replaced, not followed) atomically, by renaming
                      a new private file over it
  -o env, --output env
                      print the secret as one line for a shell to eval:
                      export KONNECT_TOKEN='<secret>'
                      (eval "$(konnect-pats ... -o env)"); refused, before
                      any token is made, when stdout is a terminal; not with
                      --json or --secret-file
  --force-tty         with -o env: print the line to a terminal anyway
]]

local WHO = [[
  --user USER         a user's tokens: a user id or "me" (the default)
  --system-account ACCOUNT
                      a system account's tokens instead: its name (matched
                      exactly: several accounts of that name, exit 2; none,
                      exit 1) or its id; needs an org admin's token
]]

local CONFIRM = [[
  -y, --yes           do not ask.  Without it, when stdin is a terminal, the
                      tokens are named (name, id, state; never a secret) on
                      stderr and the answer is read from stdin: y or yes goes
                      on, anything else (or none) deletes nothing, exit 2.
                      When stdin is not a terminal nothing is asked.
]]

-- each command's own text (its usage line, arity and options: konnect.cli.args.COMMANDS)
local TEXT = {
  whoami = [[
Show the user the access token belongs to (GET /v3/users/me).
]],
  list = [[
List the tokens (of --user USER, default me) as a table: NAME, ID, STATE,
EXPIRES, LAST USED (a system account's tokens have no state: -).  With
--json, an array of token objects, in the same order.

  --state STATES      only the tokens in these states: active, revoked,
                      expired, or a list of them (active,expired)
  --expiring-within AGE
                      only the tokens that expire within AGE from now, or
                      have expired already (seconds, or 12h, 7d, 2w, 1y); a
                      token that never expires is never listed by it
  --sort expires      soonest to expire first, tokens that never expire last
                      (the default)
  --sort name         by name
  --sort created      oldest first
Ties are broken by name, then id.  "in 7 days" is rounded to the nearest day
(hours under two days, minutes under an hour).
]] .. WHO,
  get = [[
Show one token (TOKEN: its id or its name).  With --json, the API's token
object.

]] .. WHO,
  create = [[
Create a token.  Its secret is shown only now: alone on stdout (so
TOKEN=$(konnect-pats create --name ci --ttl 1d) works), with a summary on
stderr; or, with --secret-file, only in that file; or, with -o env, as an
export line.  With --json, the API's token object, which carries the secret
in konnect_token (a system account's token: in token; left out with
--secret-file).

  --name NAME         the token's name (a user's need not be unique; a system
                      account's must be)
  --ttl TTL           its lifetime: seconds, or 36h, 30d, 2w, 1y
                      (1 day .. 365 days); for a system account's token it
                      is sent as expires_at = now + TTL, by this machine's
                      clock (the API takes only expires_at there)
  --expires-at RFC3339
                      instead of --ttl: when it expires, a date-time with an
                      offset (2030-01-31T00:00:00Z, 2030-01-31T09:00:00+09:00)
                      in the future; Konnect deprecates this form for
                      personal access tokens (--ttl avoids clock skew) but
                      accepts it
]] .. WHO .. SECRET_OPTIONS,
  rename = [[
Rename a token (TOKEN: its id or its current name).  With --json, the updated
token object.

]] .. WHO,
  revoke = [[
Revoke a token: it stays listed as REVOKED.  Konnect may keep accepting a
revoked token for up to 15 minutes.  With --json, the revoked token object.
A system account's tokens have no revoke: delete them.

  --user USER         a user's tokens: a user id or "me" (the default)
]],
  delete = [[
Delete a token, and show it as it was.  With --json, that token object.

]] .. WHO .. CONFIRM,
  rotate = [[
Create a replacement for TOKEN (same name and lifetime unless given), then deal
with TOKEN as --old says.  The new secret is shown as by create.  If anything
fails after the replacement exists, the new secret is still printed (or
written), the error goes to stderr, and the exit status is 1.  Konnect may keep
accepting a revoked (or deleted) token for up to 15 minutes.

  --old delete        revoke TOKEN (when active), then delete it: its slot (of
                      the 10 a user may hold) frees at once (the default)
  --old revoke        revoke TOKEN; it stays listed (and counted) as REVOKED
  --old keep          leave TOKEN alone, for two-phase rotations where its users
                      switch first; revoke or delete it afterwards
  --name NAME         name the replacement NAME
  --ttl TTL           the replacement's lifetime (default: the old one's)

A system account's token (--system-account) has no revoke: --old delete (the
default) deletes it, --old keep needs --name (names are unique there); the
replacement is made under a temporary name and renamed once TOKEN is gone.
]] .. WHO .. SECRET_OPTIONS,
  find = [[
List the tokens called NAME (all of them: names need not be unique).
With --json, an array of token objects ([] when there is none).

]] .. WHO,
  prune = [[
Delete the tokens that no longer work, and list them.  Revoked and expired
tokens still count against the 10 a user may hold.  With --json, an array
of the token objects deleted (with --dry-run, of those that would be).

  --state LIST        which: revoked, expired, or both (revoked,expired, the
                      default); prune never deletes an active token
  --older-than AGE    only those revoked or expired at least AGE ago
                      (seconds, or 12h, 7d, 2w, 1y)
  --dry-run           list what would be deleted, and delete nothing (never
                      asks)
]] .. WHO .. CONFIRM .. [[

After the question, prune deletes the tokens it showed and no other (one that
died while it waited is left for the next prune).  A system account's tokens
have no state: prune deletes the expired ones (--older-than AGE counts from
their expiry; no --state).
]],
  users = [[
List the organisation's users as a table: EMAIL, NAME, ID, ACTIVE.  With
--json, an array of the API's user objects ([] for none).  Every page is
fetched.

  --email EMAIL       only the user with this email (matched exactly)
  --full-name TEXT    only the users whose full name contains TEXT
  --active true|false only the active (or the inactive) users
]],
  ["system-accounts"] = [[
List the organisation's system accounts as a table: NAME, ID, MANAGED
(konnect_managed), CREATED.  With --json, an array of the API's system
account objects ([] for none).  Needs an org admin's token (else exit 4).

  --name NAME         only the account named NAME (matched exactly)
  --name-contains TEXT
                      only the accounts whose name contains TEXT
]],
  audit = [[
Audit every token of the organisation: every user's personal access tokens
and every system account's tokens (an org admin's token: other users' tokens
and the system accounts are refused to anyone else).  Each token is flagged:
expired_listed, revoked_listed (dead, still counted), expiring, never_used,
unused, near_quota (its user holds 8 or more of 10).  The requests wait as
the server's rate limit asks (at most one refused request per window).

The table lists the tokens with a flag, then the counts.  With --json, the
whole report (docs/API.md, "The report"); with --csv, every token as a CSV
row (RFC 4180, a header line first, flags separated by spaces).  On a
terminal, progress on stderr: users done, of how many, and the time left.

An owner whose tokens could not be listed (a 403, say) is named on stderr
(with --json: in the report's failures) and the audit goes on; the exit
status is then 5: the report is incomplete.

  --expiring-within AGE
                      "expiring": a live token that expires within AGE
                      (default 7d)
  --unused-for AGE    "unused": last used at least AGE ago (default 90d)
  --csv               CSV instead of the table (not with --json)
]],
}

-- the command table (arity, usage line, options)
_M.COMMANDS = require("konnect.cli.options").COMMANDS


local COMMON_OPTIONS = [[

options of every command: --json, -v/--verbose, --server URL, --ca-file PATH,
--timeout SECONDS, --token-file PATH, --proxy-from-env (see konnect-pats --help
for these and the exit statuses)
]]

--- command(name) -> the --help text of one command
function _M.command(name)
  return "usage: konnect-pats " .. _M.COMMANDS[name].usage .. "\n\n" .. TEXT[name] .. COMMON_OPTIONS
end

return _M
