-- konnect.cli.secret: a new token's secret, handed over once, by create
-- and rotate: alone on stdout, as an export line (-o env), inside the --json
-- object, or into the 0600 file --secret-file names (made by
-- konnect.core's secret_file before the API call).  Nothing else prints a
-- secret: every other writer of konnect.cli redacts.  Loaded only by the
-- commands that make a secret.

local json = require "konnect.json"
local render = require "konnect.cli.render"

local format = string.format

local clean = render.clean
local EXIT_API = 1

-- Stands for the secret in --json output until the rest is redacted.
local SECRET_PLACEHOLDER = "@konnect-cli-secret-placeholder@"

local _M = {}

-- Before any API call: the file that will take the secret, made by
-- core.secret_file (interfaces.md §3).  A failure is a usage error (2).
function _M.sink(st, path, force)
  if path == "" then st.usage_error("--secret-file needs a path") end
  local core = require "konnect.core"
  local sink, msg, errno = core.secret_file(path, force and true or false)
  if sink then return sink end
  local what = "--secret-file " .. clean(path)
  if errno == "EEXIST" and not force then
    st.usage_error(what .. " already exists (or is a link); use --force to replace a regular file")
  end
  st.usage_error("cannot create " .. what .. " safely: " .. clean(msg or "?") .. " (" .. clean(errno or "?") ..
    "; does its directory exist, and may you write to it?)")
end

-- -o env's line: `export KONNECT_TOKEN='<secret>'`, the secret in single
-- quotes (a ' inside as '\'') so that eval sees one word whatever it holds;
-- the secret is the line's only variable part.
local function export_line(secret)
  return "export KONNECT_TOKEN='" .. secret:gsub("'", "'\\''") .. "'\n"
end

-- Hand over a new token's secret: once, to stdout (alone, or with -o env as
-- an export line), or to the secret file.  field: the token object's field
-- that carries it (konnect.operations' `secret`: konnect_token, or token for
-- a system account's).  Returns true, or false when the secret could not be
-- delivered (reported).
function _M.deliver(st, tok, opts, verb, field)
  field = field or "konnect_token"
  local sink = st.sink
  -- (a created token's answer always holds a usable secret: konnect.operations refuses one that
  -- does not, kind decode, before it gets here)
  local secret = tok[field]
  local id = clean(tok.id or "?")
  local expires = tok.expires_at ~= nil and
    ("expires " .. render.relative(tok.expires_at) .. ", " .. clean(tok.expires_at)) or "never expires"
  local summary = format("%s token \"%s\" (%s), %s", verb, clean(tok.name or ""), id, expires)
  local public = render.without_secret(tok)
  if sink then
    local ok, err, errno = sink:commit(secret .. "\n")
    if not ok then
      st.report(EXIT_API, "system", "the token " .. id ..
        " was created but its secret could not be written to " .. clean(opts["secret-file"]) .. ": " ..
        clean(err or "?") .. " (" .. clean(errno or "?") .. "); revoke that token")
      return false
    end
    st.sink = nil
    if st.json then st.out(json.encode_sorted(public), "\n") end
    st.note(summary, "; secret written to ", clean(opts["secret-file"]), " (mode 0600)\n")
  else
    if st.json then
      -- the object's other strings redacted as always; the secret asked for, raw
      -- (a stand-in key that sorts where the secret's field does, and that the
      -- redaction of that field's values leaves alone, is swapped back after)
      local key = field .. "\1"
      public[field] = nil
      public[key] = SECRET_PLACEHOLDER
      local enc = st.redact(json.encode_sorted(public))
      local stand_in = json.encode_sorted(key) .. ":" .. json.encode_sorted(SECRET_PLACEHOLDER)
      local a, b = enc:find(stand_in, 1, true)
      if not a then
        st.report(EXIT_API, "system", "could not render the token object; its secret is not shown")
        return false
      end
      st.raw(enc:sub(1, a - 1), json.encode_sorted(field), ":", json.encode_sorted(secret), enc:sub(b + 1), "\n")
    elseif opts.output == "env" then
      st.raw(export_line(secret))
    else
      st.raw(secret, "\n")
    end
    st.note(summary, opts.output == "env" and "; the secret is in the export line on stdout, shown only this once\n"
      or "; the secret is shown only this once\n")
  end
  return true
end

return _M
