-- konnect.cli.audit: konnect-pats audit, the organisation's token audit
-- (konnect.audit) as a table, --json or --csv.  Loaded only to run it
-- (HACKING.md, the CLI's cold start).
--
--   audit [--expiring-within AGE] [--unused-for AGE] [--csv]
--
-- Output (README.md, "Command line", has it too):
--   table   the tokens with a finding (flags), then two summary lines, on
--           stdout; a token without one is counted, not shown
--   --json  the report, as konnect.audit.run returns it (docs/API.md, "The
--           report"), keys sorted
--   --csv   every token, one row each after a header line (CSV_COLUMNS),
--           RFC 4180: fields with a comma, a double quote, CR or LF quoted,
--           quotes doubled, lines ended by CRLF; other control characters
--           shown as "?", as everywhere in the CLI
-- The owners that could not be audited (report.failures) go to stderr, one
-- line per kind of failure (with --json: inside the report, and a warning
-- object on stderr), and the exit status is 5: the report is incomplete.  When
-- nothing could be listed at all (no owner), the first failure is the error,
-- with its kind's exit status, as for any command.
-- On a terminal (stderr, and neither --json nor --verbose), progress on
-- stderr: users done out of the total and the time left, one line rewritten
-- in place, cleared at the end; never when stderr is not a terminal.

local json = require "konnect.json"
local render = require "konnect.cli.render"

local ipairs, tostring, type, format, concat, floor =
  ipairs, tostring, type, string.format, table.concat, math.floor

local clean = render.clean
local EXIT_INCOMPLETE = 5
local FLAGS = { "expired_listed", "revoked_listed", "expiring", "never_used", "unused", "near_quota" }

local _M = { EXIT_INCOMPLETE = EXIT_INCOMPLETE }
local run = {}
_M.run = run

--- eta_text(seconds) -> "42s", "3m 05s", "1h 02m"
local function eta_text(s)
  s = floor(s + 0.5)
  if s < 60 then return s .. "s" end
  if s < 3600 then return format("%dm %02ds", floor(s / 60), s % 60) end
  return format("%dh %02dm", floor(s / 3600), floor(s % 3600 / 60))
end
_M.eta_text = eta_text

--- age_text(seconds) -> "7 days", "36 hours", "90 seconds"
local function age_text(s)
  if s % 86400 == 0 then return format("%d day%s", s / 86400, s == 86400 and "" or "s") end
  if s % 3600 == 0 then return format("%d hour%s", s / 3600, s == 3600 and "" or "s") end
  return format("%d second%s", s, s == 1 and "" or "s")
end

-- The progress line on stderr: rewritten in place ("\r" and spaces over
-- what is left of the last one; no escape sequences), at most ten times a
-- second but always the first and the last, cleared at the end.
local function progress(st)
  local monotime = require("konnect.core").monotime
  local shown, last = 0, nil
  local p = {}
  function p.update(done, total, eta)
    local now = monotime()
    if done ~= 1 and done ~= total and last and now - last < 0.1 then return end
    last = now
    local line = format("auditing: %d/%d users, about %s left", done, total, eta_text(eta))
    st.err("\r", line, (" "):rep(shown - #line))
    if #line > shown then shown = #line end
  end
  function p.clear()
    if shown > 0 then st.err("\r", (" "):rep(shown), "\r") end
  end
  return p
end

---------------------------------------------------------------------------
-- the outputs

local CSV_COLUMNS = { "kind", "owner_type", "owner_id", "owner_name", "owner_email", "id", "name", "state",
                      "created_at", "expires_at", "last_used_at", "revoked_at", "flags" }
_M.CSV_COLUMNS = CSV_COLUMNS

local function keep_line_ends(c) return (c == "\t" or c == "\n" or c == "\r") and c or "?" end

--- csv_field(v) -> v as one RFC 4180 field
local function csv_field(v)
  if v == nil then return "" end
  local s = tostring(v):gsub("%c", keep_line_ends):gsub("\194[\128-\159]", "?")
  if s:find('[",\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end
_M.csv_field = csv_field

local function csv(st, report)
  st.out(concat(CSV_COLUMNS, ","), "\r\n")
  for _, t in ipairs(report.tokens) do
    local o = t.owner or {}
    local row = { t.kind, o.type, o.id, o.name, o.email, t.id, t.name, t.state, t.created_at, t.expires_at,
                  t.last_used_at, t.revoked_at, concat(t.flags or {}, " ") }
    for i = 1, #CSV_COLUMNS do row[i] = csv_field(row[i]) end
    st.out(concat(row, ","), "\r\n")
  end
end

local function owner_label(o)
  if type(o) ~= "table" then return "?" end
  return clean(o.email or o.name or o.id or "?")
end

local function when(s) return s ~= nil and render.relative(s) or "never" end

local function text(st, report)
  local rows, c, s = {}, report.counts, report.settings
  for _, t in ipairs(report.tokens) do
    if #t.flags > 0 then
      rows[#rows + 1] = { owner_label(t.owner), clean(t.kind), clean(t.name or ""), clean(t.id or ""),
                          t.state ~= nil and clean(t.state) or "-", when(t.expires_at), when(t.last_used_at),
                          clean(concat(t.flags, ",")) }
    end
  end
  if #rows > 0 then
    render.table(st.out, { "OWNER", "KIND", "NAME", "ID", "STATE", "EXPIRES", "LAST USED", "FLAGS" }, rows)
  else
    st.out("(no token has a finding)\n")
  end
  st.out(format("audited %d users and %d system accounts: %d tokens (%d personal, %d of system accounts), " ..
    "%d with findings%s\n", c.users, c.system_accounts, c.tokens, c.pats, c.sats, #rows,
    #rows > 0 and " (above)" or ""))
  local parts = {}
  for _, f in ipairs(FLAGS) do
    local more = f == "expiring" and (" (within " .. age_text(s.expiring_within) .. ")")
      or f == "unused" and (" (for " .. age_text(s.unused_for) .. ")")
      or f == "near_quota" and format(" (%d users at %d or more of 10)", c.near_quota_users, s.near_quota) or ""
    parts[#parts + 1] = format("%s %d%s", f, c[f], more)
  end
  st.out(concat(parts, ", "), "\n")
end

---------------------------------------------------------------------------
-- an incomplete report

-- what a failed list was, by its operation: { one, many, what of them }
local LISTS = {
  ["list-users-personal-access-tokens"] = { "user", "users", "the personal access tokens of " },
  ["get-system-account-id-access-tokens"] = { "system account", "system accounts", "the tokens of " },
  ["list-users"] = { nil, nil, "the list of users" },
  ["get-system-accounts"] = { nil, nil, "the list of system accounts" },
}

-- One stderr line per kind of failure (operation, kind, status): how many
-- owners, what went wrong (the first one's message), and up to three of
-- them by name.
local function failure_lines(st, failures)
  local groups, order = {}, {}
  for _, f in ipairs(failures) do
    local key = concat({ tostring(f.operation), tostring(f.kind), tostring(f.status) }, " ")
    local g = groups[key]
    if not g then
      g = { first = f, owners = {} }
      groups[key], order[#order + 1] = g, key
    end
    if f.owner then g.owners[#g.owners + 1] = owner_label(f.owner) end
  end
  local admin = false
  for _, key in ipairs(order) do
    local g = groups[key]
    local f, list = g.first, LISTS[g.first.operation] or { "owner", "owners", "the lists of " }
    admin = admin or f.kind == "forbidden"
    local what = list[3]
    if #g.owners > 0 then
      local n = #g.owners
      local names = concat(g.owners, ", ", 1, n > 3 and 3 or n) .. (n > 3 and (", and " .. (n - 3) .. " more") or "")
      what = format("%s%d %s (%s)", what, n, n == 1 and list[1] or list[2], names)
    end
    st.err(format("konnect-pats: not audited: %s: %s%s: %s\n", what, clean(f.kind),
      type(f.status) == "number" and (" (" .. f.status .. ")") or "", clean(f.message or "?")))
  end
  return admin
end

local function incomplete(st, report)
  local missing = 0
  for _, o in ipairs(report.owners) do
    if o.failed then missing = missing + 1 end
  end
  local msg = format("the report is incomplete: %d of %d owners could not be audited", missing, #report.owners)
  if missing < #report.failures then msg = msg .. ", and a list of owners failed" end
  if st.json then
    msg = msg .. " (report.failures says which)"
  elseif failure_lines(st, report.failures) then
    msg = msg .. "; another user's tokens and the system accounts need an org admin's token"
  end
  st.warn(msg)
  return EXIT_INCOMPLETE
end

function run.audit(st, client, opts, _, extra)
  local audit = require "konnect.audit"
  -- (not with --verbose's lines, which would land in the middle of it)
  local p = not st.json and not st.verbose and st.is_terminal("stderr") and progress(st) or nil
  local report, err, cost = audit.run(client, { expiring_within = extra.expiring_within,
                                                unused_for = extra.unused_for, progress = p and p.update })
  if p then p.clear() end
  if not report then st.die(err) end
  if #report.owners == 0 and #report.failures > 0 then st.die(report.failures[1]) end
  if st.json then
    st.out(json.encode_sorted(report), "\n")
  elseif opts.csv then
    csv(st, report)
  else
    text(st, report)
  end
  if cost.rate_limited > 0 then
    st.note(format("konnect-pats: the server limited the rate %d time%s; the audit waited %s for it\n",
      cost.rate_limited, cost.rate_limited == 1 and "" or "s", eta_text(cost.waited)))
  end
  if not report.complete then return incomplete(st, report) end
end

return _M
