-- scripts/mutate_rules.lua: the operator rules of `make mutate` (scripts/mutate.sh).
--
--   local rules = dofile("scripts/mutate_rules.lua")
--   rules.candidates(path, text) -> { {line=, rule=, from=, to=, prev=, before=}, ... }, code_lines
--   (prev: the text of the code line before; before: of the 3 code lines before, nearest first)
--
-- A file is lexed first (Lua for *.lua, C for *.c / *.h): every mutant is made
-- on the code of ONE line, with comments and string contents masked, so no rule
-- ever fires inside a comment or a string (the pattern rule alone looks inside
-- the strings that are Lua patterns).  The rules (rule names as reported):
--   rel      a relational operator flipped: < <=, > >=, == ~= (C: == !=)
--   const    an integer literal plus or minus one
--   negate   a whole if/elseif/while condition negated (`not (...)`, C `!(...)`)
--   nocond   an if/elseif condition replaced by false (C: 0): the check deleted
--   notdrop  a `not` (C: `!`) dropped
--   andor    and <-> or (C: && <-> ||)
--   delete   a one-line statement deleted: a call, an assignment, a return
--            (also the return of a one-line `if ... then return ... end`), break
--   swap     two adjacent arguments of a one-line call swapped
--   pattern  a Lua pattern loses its ^ or $ anchor, an item of a [set], or a %class
--   flag     C: one flag dropped from an A|B|C chain of constants (open(2) flags,
--            CURLPROTO_*, ...), or a curl_*_setopt call deleted
-- What never becomes a mutant (it cannot be killed meaningfully):
--   comments, blank lines, string and message text (string contents other than
--   Lua patterns), C preprocessor lines; `local` declarations and C declarations
--   (deleting one fails to load or compile, or only turns a local into a global);
--   log or print calls, every line of them (log, warn, note, print, ngx.log,
--   io.stderr, fprintf(stderr, ...)); argument swaps inside message formatting
--   (format, error, luaL_error, lua_pushfstring, *printf); C array sizes in
--   declarations; deleting a call that only frees memory (free, *_free,
--   *_cleanup, *_release, close: only valgrind sees that, and `make check` runs valgrind);
--   C argument swaps with lua_State *L or a string literal (they never compile); argument
--   swaps of min and max (commutative: equivalent by construction).
-- Refined after the first runs on the split C core (each: what it made, and why it goes):
--   - C statements at file scope (depth 0 of braces) are never deleted: there a
--     "statement" is a prototype or a type declaration, and `{}` in its place never
--     compiles (core.h: 25 of its 31 candidates, each a wasted build).
--   - C array sizes: every number inside the brackets of a declaration, not only one
--     right after "[" (`char m[KC_MAX_METHOD_LEN + 1]` -> +2 is the same program with a
--     larger buffer, +0 an overflow only a sanitizer sees: the documented exclusion).
--   - an `if` whose only statement is a free (free, *_free, close, ...): `if (0)` is
--     that free deleted, already excluded above; when the condition only tests that the
--     freed pointer is not NULL (`p != NULL`, `p`), negating or flipping it frees NULL (a
--     no-op) and never p: the same leak (xfer.c headers_gc, seed 31001).
--   - the numbers given to lua_createtable (narr, nrec: space to preallocate, "a hint"
--     in the Lua manual; no behaviour) take no ±1 and no swap (response.c, seed 41002);
--     lua_pushboolean's argument takes only the mutants that cross zero (any non-zero
--     value pushes true: 1 -> 2 is the same call; fs.c sf_close, seed 41002).
--   - a Lua pattern's $ right after a greedy `.*` (`":(.*)$"`): `.*` already runs to the
--     end of the subject, so the pattern without $ matches the same span for every
--     subject (pats.lua proxy password, seed 31001).
local M = {}

local sub, find, match, gsub, rep, byte = string.sub, string.find, string.match, string.gsub, string.rep, string.byte

---------------------------------------------------------------------------
-- lexing: -> masked text of the same length: code as is, string contents
-- replaced by \1 (delimiters kept), comments and C preprocessor lines by
-- spaces (newlines kept); and the short strings' spans { [line] = { {a, b}, ... } }
-- (columns of the delimiters, one line only)

local function lex_lua(src)
  local out, n, i = {}, #src, 1
  local line, col0 = 1, 0 -- col0: index of the char before this line's first
  local spans = {}
  local function emit(s)
    out[#out + 1] = s
  end
  local function blank(s, keep)
    return (gsub(s, "[^\n]", keep or " "))
  end
  local function advance(s) -- count the newlines of text consumed
    for p in s:gmatch("()\n") do line = line + 1; col0 = i + p - 1 end
  end
  while i <= n do
    local c = sub(src, i, i)
    if c == "-" and sub(src, i + 1, i + 1) == "-" then
      local lvl = match(src, "^%[(=*)%[", i + 2)
      local j
      if lvl then
        local _, e = find(src, "]" .. lvl .. "]", i + 2, true)
        j = e or n
      else
        j = (find(src, "\n", i, true) or n + 1) - 1
      end
      local s = sub(src, i, j)
      emit(blank(s)); advance(s); i = j + 1
    elseif c == "[" and match(src, "^%[=*%[", i) then
      local lvl = match(src, "^%[(=*)%[", i)
      local _, e = find(src, "]" .. lvl .. "]", i, true)
      e = e or n
      local s = sub(src, i, e)
      emit(sub(s, 1, #lvl + 2) .. blank(sub(s, #lvl + 3, -#lvl - 3), "\1") .. sub(s, -#lvl - 2))
      advance(s); i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = sub(src, j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      local s = sub(src, i, j)
      emit(c .. blank(sub(s, 2, -2), "\1") .. sub(s, -1))
      if not find(s, "\n", 1, true) then
        spans[line] = spans[line] or {}
        local t = spans[line]
        t[#t + 1] = { i - col0, j - col0 }
      end
      advance(s); i = j + 1
    else
      emit(c)
      if c == "\n" then line = line + 1; col0 = i end
      i = i + 1
    end
  end
  return table.concat(out), spans
end

local function lex_c(src)
  local out, n, i = {}, #src, 1
  local at_line_start = true
  while i <= n do
    local c = sub(src, i, i)
    if at_line_start and match(src, "^[ \t]*#", i) then -- a preprocessor line (and its continuations)
      local j = i
      repeat
        local e = find(src, "\n", j, true) or n + 1
        local continued = sub(src, e - 1, e - 1) == "\\"
        j = e + 1
      until not continued or j > n
      local s = sub(src, i, j - 2)
      out[#out + 1] = gsub(s, "[^\n]", " ")
      i = j - 1
    elseif c == "/" and sub(src, i + 1, i + 1) == "/" then
      local j = (find(src, "\n", i, true) or n + 1) - 1
      out[#out + 1] = rep(" ", j - i + 1); i = j + 1
    elseif c == "/" and sub(src, i + 1, i + 1) == "*" then
      local _, e = find(src, "*/", i + 2, true)
      e = e or n
      out[#out + 1] = gsub(sub(src, i, e), "[^\n]", " "); i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = sub(src, j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      local s = sub(src, i, j)
      out[#out + 1] = c .. gsub(sub(s, 2, -2), "[^\n]", "\1") .. sub(s, -1); i = j + 1
    else
      out[#out + 1] = c; i = i + 1
    end
    at_line_start = sub(out[#out], -1) == "\n"
  end
  return table.concat(out), {}
end

local function lines_of(s)
  local t = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  if s:sub(-1) == "\n" then t[#t] = nil end
  return t
end

---------------------------------------------------------------------------
-- helpers on a masked line m (same columns as the original line o)

-- the index of the bracket closing the one opened at a (same line), or nil
local function closing(m, a)
  local depth = 0
  for k = a, #m do
    local ch = sub(m, k, k)
    if ch == "(" or ch == "[" or ch == "{" then depth = depth + 1
    elseif ch == ")" or ch == "]" or ch == "}" then
      depth = depth - 1
      if depth == 0 then return k end
    end
  end
end

local function balanced(m)
  local d = 0
  for k = 1, #m do
    local ch = sub(m, k, k)
    if ch == "(" or ch == "[" or ch == "{" then d = d + 1
    elseif ch == ")" or ch == "]" or ch == "}" then d = d - 1; if d < 0 then return false end end
  end
  return d == 0
end

-- top-level argument spans of the call whose "(" is at a and ")" at b -> { {s, e}, ... }
local function args_of(m, a, b)
  local t, depth, s = {}, 0, a + 1
  for k = a + 1, b - 1 do
    local ch = sub(m, k, k)
    if ch == "(" or ch == "[" or ch == "{" then depth = depth + 1
    elseif ch == ")" or ch == "]" or ch == "}" then depth = depth - 1
    elseif ch == "," and depth == 0 then t[#t + 1] = { s, k - 1 }; s = k + 1 end
  end
  t[#t + 1] = { s, b - 1 }
  for _, sp in ipairs(t) do -- trimmed
    while sp[1] <= sp[2] and find(sub(m, sp[1], sp[1]), "%s") do sp[1] = sp[1] + 1 end
    while sp[2] >= sp[1] and find(sub(m, sp[2], sp[2]), "%s") do sp[2] = sp[2] - 1 end
  end
  return t
end

local LUA_LOG = { "%f[%w_]log%s*%(", "[.:]log%s*%(", "ngx%.log", "%f[%w_]warn%s*%(", "[.:]warn%s*%(",
                  "%f[%w_]note%s*%(", "[.:]note%s*%(", "%f[%w_]print%s*%(", "io%.stderr", "c%.log%f[^%w_]" }
local C_LOG = { "printf%s*%(%s*stderr", "fputs%s*%(.*stderr" }
local LUA_MSG = { "format", "error", "concat" } -- swaps inside these build message text
local C_MSG = { "printf", "snprintf", "fprintf", "luaL_error", "lua_pushfstring", "pushfstring" }

local function any(s, pats)
  for _, p in ipairs(pats) do if find(s, p) then return true end end
  return false
end

local LUA_KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true "
  .. "until while"):gmatch("%S+") do LUA_KEYWORDS[w] = true end

---------------------------------------------------------------------------
-- the rules: each gets (o, m, add, ctx) and calls add(rule, a, b, replacement)

local function rel(o, m, add, c)
  local k = 1
  while k <= #m do
    local two = sub(m, k, k + 1)
    local prev, nxt = sub(m, k - 1, k - 1), sub(m, k + 1, k + 1)
    if two == "<=" then add("rel", k, k + 1, "<"); k = k + 2
    elseif two == ">=" then add("rel", k, k + 1, ">"); k = k + 2
    elseif two == "==" then add("rel", k, k + 1, c and "!=" or "~="); k = k + 2
    elseif two == (c and "!=" or "~=") then add("rel", k, k + 1, "=="); k = k + 2
    elseif two == "<<" or two == ">>" or two == "->" then k = k + 2
    else
      local ch = sub(m, k, k)
      if (ch == "<" or ch == ">") and prev ~= "-" and not (not c and find(m, "^<%a+>", k)) and nxt ~= "=" then
        add("rel", k, k, ch == "<" and "<=" or ">=")
      end
      k = k + 1
    end
  end
end

-- is column a of m inside [ ] (an array size, in a declaration)?
local function in_brackets(m, a)
  local d = 0
  for k = 1, a - 1 do
    local ch = sub(m, k, k)
    if ch == "[" then d = d + 1 elseif ch == "]" and d > 0 then d = d - 1 end
  end
  return d > 0
end

-- the name of the innermost call whose parentheses hold column a of m, or nil
local function enclosing_call(m, a)
  local depth = 0
  for k = a - 1, 1, -1 do
    local ch = sub(m, k, k)
    if ch == ")" then depth = depth + 1
    elseif ch == "(" then
      if depth == 0 then return match(sub(m, 1, k - 1), "([%w_]+)%s*$") end
      depth = depth - 1
    end
  end
end

-- C calls whose numeric arguments are no behaviour: lua_createtable's are sizes to
-- preallocate ("a hint", Lua manual), lua_pushboolean's any non-zero is true
local HINT_ONLY = { lua_createtable = true }

local function const(o, m, add, c, decl)
  for a, num, b in m:gmatch("()%f[%w_.]([%d]+[xX]?[%x]*[uUlL]*)()") do
    local prevc, nextc = sub(m, a - 1, a - 1), sub(m, b, b)
    local call = c and enclosing_call(m, a)
    if nextc ~= "." and prevc ~= "." and not (decl and in_brackets(m, a)) and not HINT_ONLY[call] then
      local digits, suffix = match(num, "^(0[xX]%x+)([uUlL]*)$")
      local v
      if digits then v = tonumber(digits) else digits, suffix = match(num, "^(%d+)([uUlL]*)$"); v = tonumber(digits) end
      if v and (c or suffix == "") then
        local fmt = find(digits, "^0[xX]") and "0x%X" or "%d"
        local truth = call == "lua_pushboolean" -- (only zero against non-zero tells)
        if not (truth and v > 0) then add("const", a, b - 1, fmt:format(v + 1) .. suffix) end
        if v > 0 and not (truth and v > 1) then add("const", a, b - 1, fmt:format(v - 1) .. suffix) end
      end
    end
  end
end

local function andor(o, m, add, c)
  if c then
    for a in m:gmatch("()&&") do add("andor", a, a + 1, "||") end
    for a in m:gmatch("()||") do add("andor", a, a + 1, "&&") end
    for a in m:gmatch("()!%f[%w_(]") do add("notdrop", a, a, "") end
  else
    for a in m:gmatch("()%f[%w_]and%f[^%w_]") do add("andor", a, a + 2, "or") end
    for a in m:gmatch("()%f[%w_]or%f[^%w_]") do add("andor", a, a + 1, "and") end
    for a, b in m:gmatch("()%f[%w_]not%s+()") do add("notdrop", a, b - 1, "") end
  end
end

local function cond(o, m, add, c)
  if c then
    for a, p in m:gmatch("()%f[%w_]if%s*()%(") do
      local e = closing(m, p)
      if e then
        add("negate", p + 1, e - 1, "!(" .. sub(o, p + 1, e - 1) .. ")")
        add("nocond", p + 1, e - 1, "0")
      end
    end
    for a, p in m:gmatch("()%f[%w_]while%s*()%(") do
      local e = closing(m, p)
      if e and sub(m, e + 1):find("^%s*;") == nil then add("negate", p + 1, e - 1, "!(" .. sub(o, p + 1, e - 1) .. ")") end
    end
  else
    for kw, a, b in m:gmatch("%f[%w_](e?l?s?e?if)%s+()(.-)%s+then%f[^%w_]") do
      if kw == "if" or kw == "elseif" then
        local e = a + #b - 1
        if balanced(sub(m, a, e)) then
          add("negate", a, e, "not (" .. sub(o, a, e) .. ")")
          add("nocond", a, e, "false")
        end
      end
    end
    local a, b = match(m, "%f[%w_]while%s+()(.-)%s+do%f[^%w_]")
    if a and balanced(b) then add("negate", a, a + #b - 1, "not (" .. sub(o, a, a + #b - 1) .. ")") end
  end
end

-- C: does the masked line declare something (a type, then a name)?
local C_NOT_TYPES = { ["return"] = 1, ["goto"] = 1, ["case"] = 1, ["else"] = 1, ["break"] = 1, ["continue"] = 1 }
local function c_decl(m)
  local first = match(m, "^%s*([%a_][%w_]*)")
  if not first or C_NOT_TYPES[first] then return false end
  return find(m, "^%s*[%a_][%w_]*[%s%*]+[%*%s]*[%a_][%w_]*%s*[=;%[,%)]") ~= nil
    or find(m, "^%s*struct%s") ~= nil or find(m, "^%s*const%s") ~= nil or find(m, "^%s*static%s") ~= nil
end

local FREES = { "%f[%w_]free%s*%(", "_free%s*%(", "_free_all%s*%(", "_cleanup%s*%(", "_unref%s*%(",
                "%f[%w_]close%s*%(", "_release%s*%(" }

local function delete(o, m, add, c, ctx)
  local t = match(m, "^%s*(.-)%s*$")
  if t == "" then return end
  local ind = #match(m, "^%s*")
  if c then
    if ctx.depth == 0 then return end -- file scope: prototypes and type declarations, never statements
    -- `if (x) return y;` on one line: the return goes
    local p = match(m, "%f[%w_]if%s*()%(")
    if p then
      local e = closing(m, p)
      local r = e and match(m, "^%s*()return[^;]*;%s*$", e + 1)
      if r then add("delete", r, #m, "{}") end
      return
    end
    if sub(t, -1) ~= ";" or not balanced(t) or c_decl(m) or any(t, FREES) then return end
    local first = match(t, "^([%a_][%w_]*)")
    if first == "for" or first == "while" or first == "do" or first == "switch" or first == "case"
      or first == "typedef" or first == "else" or first == "if" then return end
    if not first and not match(t, "^[%*%(]") then return end
    -- the previous code line must end a statement (not a one-statement if/else/for body)
    local prev = ctx.prev or ""
    if not (find(prev, "[;{}:]%s*$") or prev == "") then return end
    local rule = find(t, "setopt%s*%(") and "flag" or "delete"
    add(rule, ind + 1, #m, "{}")
  else
    local r = match(m, "%f[%w_]then%s+()return%f[^%w_].-%s+end%s*$")
    if r then
      local e = #m - #match(m, "(%s+end%s*)$")
      add("delete", r, e, "")
      return
    end
    local first = match(t, "^([%a_][%w_]*)")
    if not first then return end
    if LUA_KEYWORDS[first] and first ~= "return" and first ~= "break" then return end
    if not balanced(t) or find(t, "[,%(%[{=]%s*$") or find(t, "%.%.$") or find(t, "%f[%w_]and$")
      or find(t, "%f[%w_]or$") or find(t, "%f[%w_]function%f[^%w_]") then return end
    if first ~= "return" and first ~= "break" and not find(t, "[=%(:\"'{]") then return end -- not a statement
    local nxt = ctx.next or ""
    if find(nxt, "^%s*[%.%:%[%(]") or find(nxt, "^%s*%.%.") or find(nxt, "^%s*and%f[^%w_]")
      or find(nxt, "^%s*or%f[^%w_]") or find(nxt, "^%s*[%+%-%*/%^%%<>=~]") then return end
    add("delete", ind + 1, #m, "")
  end
end

local function swap(o, m, add, c)
  for a in m:gmatch("()%(") do
    local name = match(sub(m, 1, a - 1), "([%w_.:]+)%s*$")
    local b = closing(m, a)
    if name and b then
      local bare = match(name, "([%w_]+)$")
      -- (a definition's parameters are no call's arguments)
      local skip = find(sub(m, 1, a - 1), "function%s+[%w_.:]*%s*$") or find(sub(m, 1, a - 1), "function%s*$")
        or (c and (c_decl(m) or find(m, "^[%a_]"))) or LUA_KEYWORDS[bare] or bare == "if" or bare == "while" or bare == "for" or bare == "switch"
        or bare == "return" or bare == "sizeof"
        or bare == "min" or bare == "max" or bare == "MIN" or bare == "MAX" -- commutative: equivalent by construction
        or HINT_ONLY[bare] -- (sizes to preallocate: see const)
      for _, w in ipairs(c and C_MSG or LUA_MSG) do if find(name, w, 1, true) then skip = true end end
      if not skip then
        local args = args_of(m, a, b)
        for k = 1, #args - 1 do
          local x, y = args[k], args[k + 1]
          local xs, ys = sub(o, x[1], x[2]), sub(o, y[1], y[2])
          -- (C: lua_State *L and a string literal never trade places with anything that compiles)
          if xs ~= "" and ys ~= "" and xs ~= ys and not (c and (xs == "L" or ys == "L" or find(xs .. ys, '"'))) then
            add("swap", x[1], y[2], ys .. sub(o, x[2] + 1, y[1] - 1) .. xs)
          end
        end
      end
    end
  end
end

-- C: A|B|C chains of constants lose one
local function flags(o, m, add)
  for a, chain, b in m:gmatch("()(%u[%u%d_]+%s*|[%s%u%d_|]*%u[%u%d_]+)()") do
    local items = {}
    for s, w, e in chain:gmatch("()(%u[%u%d_]+)()") do items[#items + 1] = { a + s - 1, a + e - 2, w } end
    if #items >= 2 then
      for k, it in ipairs(items) do
        local from, to = it[1], it[2]
        if k < #items then to = items[k + 1][1] - 1 else from = items[k - 1][2] + 1 end
        add("flag", from, to, "")
      end
    end
    local _ = b
  end
end

-- a Lua string that is a pattern (an argument of find/match/gmatch/gsub that is not a
-- plain find, or a pattern constant): loses an anchor, a [set] item or a %class
local function patterns(o, m, add, spans)
  for _, sp in ipairs(spans or {}) do
    local a, b = sp[1], sp[2]
    local before, after = sub(m, 1, a - 1), sub(m, b + 1)
    local called = find(before, "find%s*%(") or find(before, "match%s*%(") or find(before, "gsub%s*%(")
    local const_pat = find(before, "^%s*local%s+%u[%u%d_]*%s*=%s*$") or find(before, "^%s*%u[%u%d_]*%s*=%s*$")
    local plain = find(after, "^%s*,%s*%d+%s*,%s*true") or find(after, "^%s*,%s*true")
    local s = sub(o, a + 1, b - 1)
    local magic = find(s, "^%^") or find(s, "[^%%]%$$") or find(s, "%%[%a]") or find(s, "%[")
    if (called or const_pat) and not plain and magic then
      if sub(s, 1, 1) == "^" then add("pattern", a + 1, a + 1, "") end
      -- (a greedy `.*` right before the $ already runs to the end: dropping it changes nothing)
      local dot = match(s, "()%.%*%)*%$$")
      local greedy_tail = dot and #match(sub(s, 1, dot - 1), "%%*$") % 2 == 0
      if find(s, "[^%%]%$$") and not greedy_tail then add("pattern", b - 1, b - 1, "") end
      -- items of [sets]
      for sa, set, sb in s:gmatch("()%[%^?([^%]]+)%]()") do
        local items, k = {}, 1
        while k <= #set do
          -- an item: %x, a range a-z, a string escape (\r, \n, \ddd: one byte), or one character
          local it = sub(set, k, k) == "%" and sub(set, k, k + 1)
            or sub(set, k, k) == "\\" and (match(set, "^\\%d%d?%d?", k) or sub(set, k, k + 1))
            or (sub(set, k + 1, k + 1) == "-" and k + 2 <= #set) and sub(set, k, k + 2) or sub(set, k, k)
          items[#items + 1] = { k, k + #it - 1 }
          k = k + #it
        end
        if #items >= 2 then
          local base = a + sa + 1 + (sub(s, sa + 1, sa + 1) == "^" and 1 or 0) -- column of the set's first item
          for _, it in ipairs(items) do add("pattern", base + it[1] - 1, base + it[2] - 1, "") end
        end
        local _ = sb
      end
      -- a %class outside any set, with its quantifier
      local depth = 0
      for k = 1, #s do
        local ch = sub(s, k, k)
        if ch == "[" then depth = depth + 1 elseif ch == "]" then depth = 0 end
        if depth == 0 and ch == "%" and find(sub(s, k + 1, k + 1), "%a") and sub(s, k - 1, k - 1) ~= "%" then
          local q = find(sub(s, k + 2, k + 2), "[%*%+%-%?]") and 1 or 0
          add("pattern", a + k, a + k + 1 + q, "")
        end
      end
    end
  end
end

-- C: is the masked line m an `if (cond)` whose whole body is one call that only
-- frees (on the same line, or the next code line nxt without braces)?
-- -> "guard" | "null_guard" (cond only tests that the freed pointer is not NULL) | nil
local function free_guard(m, nxt)
  local p = match(m, "^%s*if%s*()%(")
  if not p then return nil end
  local e = closing(m, p)
  if not e then return nil end
  local body = match(sub(m, e + 1), "^%s*(.-)%s*$")
  if body == "" then body = nxt and match(nxt, "^%s*(.-)%s*$") or "" end
  if not (find(body, "^[%w_]+%s*%(.*%)%s*;$") and any(body, FREES)) then return nil end
  local arg = match(body, "^[%w_]+%s*%((.*)%)%s*;$")
  local cond = match(sub(m, p + 1, e - 1), "^%s*(.-)%s*$")
  local x = match(cond, "^(.-)%s*!=%s*NULL$") or match(cond, "^NULL%s*!=%s*(.-)$") or cond
  if arg and match(arg, "^%s*(.-)%s*$") == x then return "null_guard" end
  return "guard"
end

---------------------------------------------------------------------------

--- candidates(path, text) -> list of { line, rule, from, to }, code line count
function M.candidates(path, text)
  local c = find(path, "%.[ch]$") ~= nil
  local masked, spans = (c and lex_c or lex_lua)(text)
  local ol, ml = lines_of(text), lines_of(masked)
  local out, seen, code_lines = {}, {}, 0
  local prev_code, prev_text
  local before = {}
  local log_open = 0 -- brackets a log call left open: its next lines are the log call too
  local depth = 0 -- C: brace depth at the line's start (0: file scope)
  for i = 1, #ol do
    local o, m = ol[i], ml[i] or ""
    local depth_here = depth
    if c then
      local _, opens = gsub(m, "{", "")
      local _, closes = gsub(m, "}", "")
      depth = math.max(0, depth + opens - closes)
    end
    if find(m, "%S") then
      code_lines = code_lines + 1
      local logline = log_open > 0 or any(m, c and C_LOG or LUA_LOG)
      if logline then
        local _, opens = gsub(m, "[%(%[{]", "")
        local _, closes = gsub(m, "[%)%]}]", "")
        log_open = math.max(0, log_open + opens - closes)
      end
      local local_decl = not c and find(m, "^%s*local%f[^%w_]") and not find(m, "^%s*local%s+function")
      if not logline then
        local nxt
        for j = i + 1, #ml do if find(ml[j], "%S") then nxt = ml[j]; break end end
        local guard = c and free_guard(m, nxt)
        local function add(rule, a, b, to)
          -- an if whose only statement frees: `if (0)` is the deleted free; a NULL test
          -- negated or flipped frees NULL (a no-op) and never the pointer: the same leak
          if guard and (rule == "nocond" or (guard == "null_guard" and (rule == "negate" or rule == "rel"))) then
            return
          end
          local mutated = sub(o, 1, a - 1) .. to .. sub(o, b + 1)
          if mutated ~= o and not seen[i .. "\0" .. mutated] then
            seen[i .. "\0" .. mutated] = true
            out[#out + 1] = { line = i, rule = rule, from = o, to = mutated, prev = prev_text, before = before }
          end
        end
        local ctx = { prev = prev_code, next = nxt, depth = depth_here }
        rel(o, m, add, c)
        const(o, m, add, c, c and c_decl(m))
        andor(o, m, add, c)
        cond(o, m, add, c)
        if not local_decl then delete(o, m, add, c, ctx) end
        swap(o, m, add, c)
        if c then flags(o, m, add) else patterns(o, m, add, spans[i]) end
      end
      prev_code, prev_text = m, match(o, "^%s*(.-)%s*$")
      before = { prev_text, before[1], before[2] } -- the texts of the 3 code lines before the next one
    end
  end
  return out, code_lines
end

--- functions(text) -> { {first, last}, ... }: the line spans of a Lua file's functions
-- (the `function` keyword's line to its `end`'s), found by matching block keywords
-- on the masked text: function/if/do/repeat open, end/until close (for/while open with do)
function M.functions(text)
  local masked = lex_lua(text)
  local spans, stack, line = {}, {}, 1
  local pos = 1
  while true do
    local a, word, b = masked:match("()([%a_][%w_]*)()", pos)
    if not a then break end
    local _, nl = masked:sub(pos, a - 1):gsub("\n", "")
    line = line + nl
    if masked:sub(a - 1, a - 1):match("[%w_%.:]") == nil then
      if word == "function" then stack[#stack + 1] = line
      elseif word == "if" or word == "do" or word == "repeat" then stack[#stack + 1] = false
      elseif word == "end" or word == "until" then
        local open = table.remove(stack)
        if open then spans[#spans + 1] = { open, line } end
      end
    end
    local _, nl2 = masked:sub(a, b - 1):gsub("\n", "")
    line = line + nl2
    pos = b
  end
  return spans
end

M.lines_of = lines_of
return M
