-- scripts/mutate_gen.lua: the Lua half of the sampled `make mutate` (scripts/mutate.sh).
--
--   lua5.4 scripts/mutate_gen.lua plan ROOT SEED N COVDIR RUNDIR
--       every file under ROOT/lua and ROOT/csrc -> its candidate mutants (the rules of
--       scripts/mutate_rules.lua), N slots shared among the files in proportion to their
--       mutable lines (lines with a candidate), each file's candidates in a seeded order,
--       each with the suites that cover its line (from COVDIR, the coverage pass).  Writes RUNDIR/slots.tsv
--       (slot, file) and RUNDIR/cands/<file key>.tsv (cid, file, line, rule, units, from, to).
--   lua5.4 scripts/mutate_gen.lua apply ROOT CANDS CID      apply candidate CID to the copy at ROOT
--   lua5.4 scripts/mutate_gen.lua report RUNDIR SEED N OUT  the score; OUT gets seed, score, survivors
--
-- Known equivalents (never drawn, reported as such): scripts/mutate_equivalents.lua, keyed
-- by file and the mutated line's text, never by line number.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local rules = dofile(here .. "/mutate_rules.lua")
local read = dofile(here .. "/../spec/support/proc.lua").read_file

local function die(msg)
  io.stderr:write("mutate: ", msg, "\n")
  os.exit(2)
end

local function esc(s) return (s:gsub("\\", "\\\\"):gsub("\t", "\\t")) end
local function unesc(s) return (s:gsub("\\(.)", { ["\\"] = "\\", t = "\t" })) end
local function trim(s) return (s:match("^%s*(.-)%s*$")) end
local function key(file) return (file:gsub("[^%w]", "_")) end

local function split(line)
  local t = {}
  for f in (line .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = f end
  return t
end

-- the files to mutate: every *.lua under lua/, every *.c / *.h under csrc/, whatever their names
local function files(root)
  local out = {}
  local p = io.popen("cd '" .. root .. "' && find lua csrc -type f \\( -name '*.lua' -o -name '*.c' -o -name '*.h' \\) | sort")
  for f in p:lines() do out[#out + 1] = f end
  p:close()
  return out
end

local function equivalents()
  local ok, list = pcall(dofile, here .. "/mutate_equivalents.lua")
  if not ok then die("scripts/mutate_equivalents.lua: " .. tostring(list)) end
  local idx = {}
  for _, e in ipairs(list) do
    if type(e.file) ~= "string" or type(e.from) ~= "string" or type(e.to) ~= "string" or type(e.why) ~= "string"
      or e.why == "" then
      die("scripts/mutate_equivalents.lua: every entry needs file, from, to and why")
    end
    if e.prev ~= nil and type(e.prev) ~= "string" then die("scripts/mutate_equivalents.lua: prev must be a string") end
    if e.before ~= nil and (type(e.before) ~= "table" or #e.before < 1 or #e.before > 3) then
      die("scripts/mutate_equivalents.lua: before must be a list of 1 to 3 lines (the nearest first)")
    end
    local k = e.file .. "\0" .. trim(e.from) .. "\0" .. trim(e.to)
    idx[k] = idx[k] or {}
    table.insert(idx[k], e)
  end
  return idx
end

-- is candidate c of file a known equivalent?  (an entry's `prev`, when given, is the
-- text of the code line before, and `before` that of up to 3 code lines before, the
-- nearest first: they tell apart the same text at several places)
local function known(equiv, file, c)
  for _, e in ipairs(equiv[file .. "\0" .. trim(c.from) .. "\0" .. trim(c.to)] or {}) do
    local ok = e.prev == nil or trim(e.prev) == c.prev
    for k, line in ipairs(e.before or {}) do
      if trim(line) ~= (c.before and c.before[k]) then ok = false end
    end
    if ok then return e.why end
  end
end

---------------------------------------------------------------------------
-- coverage: COVDIR/units.tsv (unit, seconds); COVDIR/u/<unit key>/*.cov (Lua lines,
-- scripts/mutate_cov.lua) and c.lines (file, line, count: gcov)

local function coverage(covdir)
  local units, secs = {}, {}
  for l in io.lines(covdir .. "/units.tsv") do
    local f = split(l)
    units[#units + 1] = f[1]
    secs[f[1]] = tonumber(f[2]) or 1e9
  end
  local by_line = {} -- "file:line" -> { unit = true }
  local executable = {} -- C: "file:line" -> true (gcov's executable lines)
  local function mark(k, u)
    local t = by_line[k]
    if not t then t = {}; by_line[k] = t end
    t[u] = true
  end
  local function mark_c(file, u) -- C: every unit that ran a line of the file, and of any C file
    mark(file .. ":*", u)
    mark("csrc:*", u)
  end
  for _, u in ipairs(units) do
    local dir = covdir .. "/u/" .. key(u)
    local p = io.popen("cat '" .. dir .. "'/*.cov 2>/dev/null")
    for l in p:lines() do -- Lua: the functions it called (linedefined; 0 is the main chunk)
      local file, line = l:match("^([^\t]+)\t(%d+)")
      if file then mark(file .. "@" .. line, u) end
    end
    p:close()
    local c = io.open(dir .. "/c.lines")
    if c then
      for l in c:lines() do
        local file, line, count = l:match("^([^\t]+)\t(%d+)%.?%d*\t(%d+)")
        if file then
          executable[file .. ":" .. line] = true
          if tonumber(count) > 0 then mark(file .. ":" .. line, u); mark_c(file, u) end
        end
      end
      c:close()
    end
  end
  return { units = units, secs = secs, by_line = by_line, executable = executable }
end

-- the units that run the line.  Lua: those that called the innermost function around
-- it (spans: rules.functions), or loaded the file for a line outside any function.
-- C: those that ran it (gcov), else (a line gcov does not count, such as the rest of a
-- statement) those that ran one of the 3 lines above; a line outside any code gcov
-- counts (a file-scope table, an enum, a header's line) is the file's: the units that
-- ran any line of it (of any C file, for a header).
local function covering(cov, file, line, spans)
  if spans then
    local at = 0
    for _, sp in ipairs(spans) do
      if sp[1] <= line and line <= sp[2] and sp[1] > at then at = sp[1] end
    end
    return cov.by_line[file .. "@" .. at] or {}
  end
  for back = 0, 3 do
    local t = cov.by_line[file .. ":" .. (line - back)]
    if t then return t end
    if back == 0 and cov.executable[file .. ":" .. line] then return {} end -- C: executable, never run
    if cov.executable[file .. ":" .. (line - back)] then return {} end -- the statement above never ran
  end
  return cov.by_line[(file:match("%.h$") and "csrc" or file) .. ":*"] or {}
end

local function uses_ngx(text)
  return text:find("ngx[%.%[]") ~= nil
end

---------------------------------------------------------------------------

local function plan(root, seed, n, covdir, rundir)
  local cov = coverage(covdir)
  local equiv = equivalents()
  math.randomseed(seed)
  local per_file, sizes, total = {}, {}, 0
  local stats = { candidates = 0, equivalent = 0, unloadable = 0 }
  for _, file in ipairs(files(root)) do
    local text = read(root .. "/" .. file)
    local cands = rules.candidates(file, text)
    -- a file's size: its lines the rules can mutate (not its code lines: a file of help
    -- text or of declarations would draw slots for its few candidates run after run)
    local mutable, size = {}, 0
    for _, c in ipairs(cands) do
      if not mutable[c.line] then mutable[c.line] = true; size = size + 1 end
    end
    local lua = file:match("%.lua$")
    local lines = lua and rules.lines_of(text)
    local keep = {}
    for _, c in ipairs(cands) do
      stats.candidates = stats.candidates + 1
      if known(equiv, file, c) then
        stats.equivalent = stats.equivalent + 1
      else
        local ok = true
        if lua then -- a mutant is a mistake that still loads
          local old = lines[c.line]
          lines[c.line] = c.to
          ok = load(table.concat(lines, "\n"), "=" .. file) ~= nil
          lines[c.line] = old
        end
        if ok then keep[#keep + 1] = c else stats.unloadable = stats.unloadable + 1 end
      end
    end
    if #keep > 0 then
      per_file[#per_file + 1] = { file = file, cands = keep, ngx = lua and uses_ngx(text),
                                  spans = lua and rules.functions(text) or nil }
      sizes[#per_file] = size
      total = total + size
    end
  end
  -- N slots in proportion to mutable lines (largest remainder)
  local quota, rest, given = {}, {}, 0
  for i = 1, #per_file do
    local exact = n * sizes[i] / total
    quota[i] = math.floor(exact)
    given = given + quota[i]
    rest[#rest + 1] = { i = i, r = exact - quota[i] }
  end
  table.sort(rest, function(a, b) return a.r > b.r or (a.r == b.r and a.i < b.i) end)
  for k = 1, n - given do quota[rest[k].i] = quota[rest[k].i] + 1 end

  os.execute("mkdir -p '" .. rundir .. "/cands'")
  local slots = assert(io.open(rundir .. "/slots.tsv", "w"))
  local slot = 0
  for i, pf in ipairs(per_file) do
    -- the file's candidates in a seeded order: a rule drawn at random, then one of its candidates
    local by_rule, names = {}, {}
    for _, c in ipairs(pf.cands) do
      if not by_rule[c.rule] then by_rule[c.rule] = {}; names[#names + 1] = c.rule end
      table.insert(by_rule[c.rule], c)
    end
    table.sort(names)
    local order = {}
    while #names > 0 do
      local r = math.random(#names)
      local list = by_rule[names[r]]
      order[#order + 1] = table.remove(list, math.random(#list))
      if #list == 0 then table.remove(names, r) end
    end
    local out = assert(io.open(rundir .. "/cands/" .. key(pf.file) .. ".tsv", "w"))
    for k, c in ipairs(order) do
      local set = covering(cov, pf.file, c.line, pf.spans)
      local units = {}
      for u in pairs(set) do units[#units + 1] = u end
      table.sort(units, function(a, b) return cov.secs[a] < cov.secs[b] or (cov.secs[a] == cov.secs[b] and a < b) end)
      -- code that uses the nginx API, or that no plain-Lua suite runs: the nginx suites
      if pf.file:match("%.lua$") and (pf.ngx or #units == 0) then
        units[#units + 1] = "hostile:cosocket"
        units[#units + 1] = "nginx"
      end
      -- ("-": no suite; a field is never empty, the driver reads tab-separated fields with read)
      out:write(table.concat({ key(pf.file) .. "." .. k, pf.file, c.line, c.rule,
        #units > 0 and table.concat(units, " ") or "-",
        esc(c.from), esc(c.to) }, "\t"), "\n")
    end
    out:close()
    for _ = 1, quota[i] do
      slot = slot + 1
      slots:write(slot, "\t", pf.file, "\t", key(pf.file), "\n")
    end
  end
  slots:close()
  io.write(("%d files, %d candidate mutants (%d known equivalents left out, %d that do not load); "
    .. "%d slots\n"):format(#per_file, stats.candidates, stats.equivalent, stats.unloadable, slot))
end

local function find_cand(cands, cid)
  for l in io.lines(cands) do
    local f = split(l)
    if f[1] == cid then
      return { cid = f[1], file = f[2], line = tonumber(f[3]), rule = f[4], units = f[5], from = unesc(f[6]),
               to = unesc(f[7]) }
    end
  end
  die("no candidate " .. cid .. " in " .. cands)
end

local function apply(root, cands, cid)
  local c = find_cand(cands, cid)
  local path = root .. "/" .. c.file
  local text = read(path) or die("no file " .. path)
  local lines = rules.lines_of(text)
  if lines[c.line] ~= c.from then die(cid .. ": line " .. c.line .. " of " .. c.file .. " is not the one planned") end
  lines[c.line] = c.to
  local f = assert(io.open(path .. ".mutant", "wb"))
  f:write(table.concat(lines, "\n"), text:sub(-1) == "\n" and "\n" or "")
  f:close()
  assert(os.rename(path .. ".mutant", path))
end

-- RUNDIR/results/<slot>: status<TAB>cid<TAB>seconds<TAB>detail  (status: killed | survived | empty)
-- RUNDIR/discarded/<cid>: a candidate that did not compile
local function report(rundir, seed, n, outpath)
  local rows, killed, survived, empty = {}, 0, 0, 0
  local p = io.popen("ls '" .. rundir .. "/results' | sort -n")
  for slot in p:lines() do
    local f = split(read(rundir .. "/results/" .. slot):gsub("\n$", ""))
    local st, cid = f[1], f[2]
    local row = { slot = tonumber(slot), status = st, secs = f[3], detail = trim(f[4] or "") }
    if cid and cid ~= "" then
      local file = cid:match("^(.*)%.%d+$")
      row.c = find_cand(rundir .. "/cands/" .. file .. ".tsv", cid)
    end
    rows[#rows + 1] = row
    if st == "killed" then killed = killed + 1 elseif st == "survived" then survived = survived + 1 else empty = empty + 1 end
  end
  p:close()
  local discarded, why = 0, {}
  local d = io.popen("cat '" .. rundir .. "'/discarded/* 2>/dev/null")
  for l in d:lines() do
    discarded = discarded + 1
    why[l] = (why[l] or 0) + 1
  end
  d:close()
  local reasons = {}
  for w, k in pairs(why) do reasons[#reasons + 1] = k .. " " .. w end
  table.sort(reasons)
  local scored = killed + survived
  local lines = {}
  local function say(s) lines[#lines + 1] = s end
  say(("make mutate: seed %s, %d slots, %d mutants run (%d discarded and replaced%s%s)")
    :format(seed, n, scored, discarded, #reasons > 0 and (": " .. table.concat(reasons, ", ")) or "",
      empty > 0 and ("; " .. empty .. " slots left empty: no candidate left") or ""))
  local unrun = 0
  for _, r in ipairs(rows) do
    if r.status == "survived" and r.c and r.c.units == "-" then unrun = unrun + 1 end
  end
  say(("score: killed %d of %d: %.1f%%%s"):format(killed, scored, scored > 0 and 100 * killed / scored or 0,
    unrun > 0 and (" (%d of the %d survivors are on lines no suite runs)"):format(unrun, survived) or ""))
  say("survivors (file:line [rule], the line, the mutant, the suites that ran):")
  for _, r in ipairs(rows) do
    if r.status == "survived" then
      say(("  %s:%d [%s]"):format(r.c.file, r.c.line, r.c.rule))
      say("      was: " .. trim(r.c.from))
      say("      now: " .. trim(r.c.to))
      say("      ran: " .. (r.c.units ~= "-" and r.c.units or "(no suite runs this line)") .. (r.detail ~= "" and
        ("; " .. r.detail) or ""))
    end
  end
  say("all mutants:")
  for _, r in ipairs(rows) do
    if r.c then
      say(("  #%-3d %-8s %6ss  %s:%d [%s] %s"):format(r.slot, r.status, r.secs or "?", r.c.file, r.c.line, r.c.rule,
        r.detail))
    else
      say(("  #%-3d %s"):format(r.slot, r.status))
    end
  end
  local text = table.concat(lines, "\n") .. "\n"
  local f = assert(io.open(outpath, "w"))
  f:write(text)
  f:close()
  io.write(text)
  return survived == 0
end

local cmd = arg[1]
if cmd == "plan" then
  local seed, n = tonumber(arg[3]), tonumber(arg[4])
  if not (arg[2] and seed and n and arg[5] and arg[6]) then die("plan ROOT SEED N COVDIR RUNDIR") end
  plan(arg[2], seed, n, arg[5], arg[6])
elseif cmd == "apply" then
  if not (arg[2] and arg[3] and arg[4]) then die("apply ROOT CANDS CID") end
  apply(arg[2], arg[3], arg[4])
elseif cmd == "cand" then -- cand CANDS CID -> file, rule, units, from, to (one per line)
  local c = find_cand(arg[2], arg[3])
  io.write(c.file, "\n", c.rule, "\n", c.units, "\n", trim(c.from), "\n", trim(c.to), "\n", c.line, "\n")
elseif cmd == "report" then
  os.exit(report(arg[2], arg[3], tonumber(arg[4]), arg[5]) and 0 or 1)
else
  die("usage: mutate_gen.lua plan|apply|cand|report ...")
end
