-- konnect.cli.terminal: whether this process's stdin, stdout or stderr is a
-- terminal, and the question asked there before a deletion.  Loaded only by
-- what may ask (delete, prune), refuse a terminal (-o env) or show progress
-- there (audit), never by a `get`.

local json = require "konnect.json"
local render = require "konnect.cli.render"

local type, pcall, tostring, error, require = type, pcall, tostring, error, require

local EXIT_USAGE = 2

local _M = {}

--- is_terminal(fd) -> boolean: whether file descriptor fd of this process
--- (0: stdin, 1: stdout, 2: stderr) is a terminal: isatty(3), through the C
--- core (Lua has none; the CLI loads the core anyway), never a shell.
function _M.is_terminal(fd)
  return require("konnect.core").isatty(fd) == true
end

--- yes(answer) -> boolean: y or yes, in any case, spaces around allowed
function _M.yes(answer)
  if type(answer) ~= "string" then return false end
  local a = answer:lower():match("^%s*(.-)%s*$")
  return a == "y" or a == "yes"
end

--- read_line(stdin) -> the line without its end, or nil (end of input, or
--- a read that failed).  Ctrl-C while it waits (the interpreter's
--- "interrupted!" error) goes on up to konnect.cli.main.
function _M.read_line(stdin)
  local ok, line = pcall(stdin.read, stdin, "*l")
  if ok and type(line) == "string" then return line end
  if not ok and tostring(line):find("interrupted!$") then error(line, 0) end
  return nil
end

--- confirm(st, question, tokens, heading): the question of a deletion, on
--- stderr (with --json one object {"prompt": ..., "tokens": [...]}), the
--- answer one line of st.stdin.  tokens (with their heading): the token
--- objects to be deleted, shown as a table before the question.  Returns for
--- y or yes; anything else, or no answer, ends the run (st.die): exit 2,
--- nothing deleted, kind invalid_argument, "declined": true.
function _M.confirm(st, question, tokens, heading)
  if st.json then
    local prompt = tokens and (heading .. "; " .. question) or question
    st.err(json.encode_sorted({ prompt = prompt .. " [y/N]", tokens = tokens }), "\n")
  else
    if tokens then
      st.err(heading, ":\n")
      render.token_table(st.err, tokens, st.stateless)
    end
    st.err(question, " [y/N] ")
  end
  local answer = _M.read_line(st.stdin)
  if _M.yes(answer) then return end
  if answer == nil and not st.json then st.err("\n") end -- the line the terminal did not end
  st.die(require("konnect.cli.args").err("invalid_argument",
    "not confirmed: nothing was deleted (answer y or yes to go on; --yes skips the question)",
    { exit = EXIT_USAGE, plain = true }), { declined = true })
end

return _M
