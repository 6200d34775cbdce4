-- spec/docs: the README's console sessions (see snippets_docs.lua).  Each
-- "$ " line runs, in order, in one bash session in the fresh copy of the
-- checkout (so `export` and `TOKEN=$(…)` carry over, as in a terminal), with
-- the konnect-pats the journey installed on PATH; what it prints (stdout and
-- stderr, as a terminal shows them) must be the lines the README shows under
-- it.  Compared after normalising what differs from run to run: token ids
-- (not the fixtures' 00000000-… ones), dates, trace ids, "N years ago", and
-- runs of spaces (the columns are as wide as the ids).
local M = {}

local function normalise(line)
  line = line:gsub("%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x", function(id)
    if id:find("^00000000%-0000%-4000%-8000%-") then return id end
    return "<id>"
  end)
  line = line:gsub("%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[%.%d]*Z", "<time>")
  line = line:gsub("kong:trace:%d+", "kong:trace:<n>")
  line = line:gsub("%(%d+ years ago%)", "(<n> years ago)")
  line = line:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  return line
end

local function lines(s)
  local o = {}
  for l in s:gmatch("([^\n]*)\n") do o[#o + 1] = normalise(l) end
  while o[#o] == "" do o[#o] = nil end
  return o
end

--- session(code) -> { { command =, expected = { line, … } }, … }
local function session(code)
  local steps = {}
  for line in code:gmatch("([^\n]*)\n") do
    local cmd = line:match("^%$ (.*)$")
    if cmd then
      steps[#steps + 1] = { command = cmd, expected = "" }
    else
      assert(#steps > 0, "a console block starts with a \"$ \" command")
      steps[#steps].expected = steps[#steps].expected .. line .. "\n"
    end
  end
  return steps
end

function M.describe(c)
  local describe, it, assert = c.describe, c.it, c.assert -- busted's, from the spec
  describe("docs: the console sessions, run", function()
    for _, b in ipairs(c.of("console")) do
      it(c.where(b) .. ": each command prints what the README shows", function()
        c.fresh_copy()
        local steps = session(b.code)
        local script = { "exec 2>&1", "cd " .. c.q(c.SRC), "export PATH=/usr/local/bin:$PATH" }
        for i, s in ipairs(steps) do
          script[#script + 1] = "echo '@@@step " .. i .. "'"
          script[#script + 1] = s.command
        end
        script[#script + 1] = "echo '@@@end'"
        -- a terminal of a user who set nothing yet: the session exports what it needs
        local out = c.bash(table.concat(script, "\n") .. "\n", { HOME = os.getenv("HOME") })
        for i, s in ipairs(steps) do
          local got = out:match("@@@step " .. i .. "\n(.-)@@@")
          assert(got, "step " .. i .. " (" .. s.command .. ") did not run:\n" .. out)
          local want, have = lines(s.expected), lines(got)
          assert.same(want, have, c.where(b) .. ": $ " .. s.command .. "\n--- printed:\n" .. got)
        end
      end)
    end
  end)
end

return M
