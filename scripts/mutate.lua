-- scripts/mutate.lua: the Lua half of the hand-picked regression set (`MUTANTS=list make mutate`;
-- scripts/mutate_list.sh is the driver).
--
--   lua5.4 scripts/mutate.lua list [SEL]          id<TAB>file<TAB>suites<TAB>what, one line per mutant
--   lua5.4 scripts/mutate.lua check ROOT [SEL]    does every selected mutant apply to ROOT exactly once?
--   lua5.4 scripts/mutate.lua apply ROOT ID       apply mutant ID to the copy of the tree at ROOT
--   lua5.4 scripts/mutate.lua parse LOG           a busted log -> "SUMMARY s f e" (or "NOSUMMARY"),
--                                                 then one failing test name per line
--
-- SEL: "3,7,10-12" (ids) or empty for all.  The list is scripts/mutants.lua; a
-- mutant is one plain-text edit (`from` -> `to`) that must match exactly once.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local MUTANTS = dofile(here .. "/mutants.lua")

local function die(msg)
  io.stderr:write("mutate: ", msg, "\n")
  os.exit(2)
end

local function selected(sel)
  local want
  if sel and sel ~= "" and sel ~= "all" then
    want = {}
    for part in sel:gmatch("[^,%s]+") do
      local a, b = part:match("^(%d+)%-(%d+)$")
      if a then
        for i = tonumber(a), tonumber(b) do want[i] = true end
      elseif part:match("^%d+$") then
        want[tonumber(part)] = true
      else
        die("bad selection " .. part .. " (use ids such as 3,7,10-12)")
      end
    end
  end
  local out, seen = {}, {}
  for _, m in ipairs(MUTANTS) do
    if seen[m.id] then die("mutant id " .. m.id .. " is used twice in scripts/mutants.lua") end
    seen[m.id] = true
    if not want or want[m.id] then out[#out + 1] = m end
  end
  if want then
    for id in pairs(want) do
      if not seen[id] then die("no mutant " .. id) end
    end
  end
  return out
end

local function by_id(id)
  for _, m in ipairs(MUTANTS) do
    if m.id == id then return m end
  end
  die("no mutant " .. tostring(id))
end

-- the specs' file helper (spec/support/proc.lua), not a copy of it
local read = dofile(here .. "/../spec/support/proc.lua").read_file

-- occurrences of the plain string `from` in s -> count, first position
local function count(s, from)
  local n, first, i = 0, nil, 1
  while true do
    local a, b = s:find(from, i, true)
    if not a then break end
    n = n + 1
    first = first or a
    i = b + 1
  end
  return n, first
end

-- the edits of a mutant: { {from, to}, ... } (usually one; `from`/`to` at the top level)
local function edits(m)
  if m.edits then return m.edits end
  return { { m.from, m.to } }
end

-- -> the mutated text | nil, why
local function mutated(root, m)
  local s = read(root .. "/" .. m.file)
  if not s then return nil, "no file " .. m.file end
  for k, e in ipairs(edits(m)) do
    local from, to = e[1], e[2]
    local where = #edits(m) > 1 and (" (edit " .. k .. ")") or ""
    if type(from) ~= "string" or type(to) ~= "string" or from == to then
      return nil, "a malformed edit" .. where
    end
    local n, at = count(s, from)
    if n == 0 then return nil, "its text no longer occurs in " .. m.file .. where end
    if n > 1 then return nil, "its text occurs " .. n .. " times in " .. m.file .. where .. " (must be once)" end
    s = s:sub(1, at - 1) .. to .. s:sub(at + #from)
  end
  if m.file:match("%.lua$") then -- a mutant is a mistake that still loads
    local ok, err = load(s, "=" .. m.file)
    if not ok then return nil, "the mutated file does not load: " .. tostring(err) end
  end
  return s
end

local cmd = arg[1]
if cmd == "list" then
  for _, m in ipairs(selected(arg[2])) do
    io.write(m.id, "\t", m.file, "\t", table.concat(m.suites, " "), "\t", m.what, "\n")
  end
elseif cmd == "check" then
  local root = arg[2] or die("check needs ROOT")
  local bad = 0
  for _, m in ipairs(selected(arg[3])) do
    local ok, why = mutated(root, m)
    if not ok then
      bad = bad + 1
      io.write(("STALE #%d %s: %s -- update scripts/mutants.lua\n"):format(m.id, m.what, why))
    end
  end
  os.exit(bad == 0 and 0 or 1)
elseif cmd == "apply" then
  local root, id = arg[2], tonumber(arg[3])
  if not root or not id then die("apply needs ROOT ID") end
  local m = by_id(id)
  local text, why = mutated(root, m)
  if not text then die("#" .. id .. ": " .. why) end
  -- a new file renamed over the old one: never an in-place write
  local path = root .. "/" .. m.file
  local f = assert(io.open(path .. ".mutant", "wb"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".mutant", path))
elseif cmd == "parse" then
  local log = read(arg[2] or die("parse needs LOG")) or ""
  local summary
  for s, f, e in log:gmatch("\n?(%d+) successe?s? / (%d+) failures? / (%d+) errors? / %d+ pending") do
    summary = ("SUMMARY %s %s %s"):format(s, f, e) -- the last one
  end
  io.write(summary or "NOSUMMARY", "\n")
  local prev
  for line in (log .. "\n"):gmatch("([^\n]*)\n") do
    if prev then
      -- a test's name may show a table's address: not part of its identity
      io.write((line:gsub("0x%x+", "0x?")), "\n")
      prev = nil
    elseif line:match("^Failure %-> ") or line:match("^Error %-> ") then
      prev = true
    end
  end
else
  die("usage: mutate.lua list|check|apply|parse ...")
end
