-- The fenced blocks of a Markdown file, for the specs that run the docs
-- (spec/docs_spec.lua: the Lua blocks; spec/docs/snippets_docs.lua: shell,
-- console and nginx.conf).
--
-- A block the tests cannot run says so where a reader sees it, on the line
-- before its fence (blank lines between allowed):
--   *Not run by the tests: REASON.*
-- (REASON at least 10 characters).

local M = {}

-- what a fence may be tagged: code that runs, and output or illustrations
M.RUN = { lua = true, sh = true, console = true, nginx = true }
M.TEXT = { text = true, [""] = true }

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end
M.read = read

--- blocks(path) -> { { doc =, line =, lang =, code =, section =, subsection =, skip = reason|nil }, … }
--- section: the title of the "## " heading above the block, subsection the "### " one
function M.blocks(path)
  local text = read(path)
  local out, lineno, cur, prev = {}, 0, nil, nil
  local section, subsection = "", ""
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    if cur then
      if line:match("^```%s*$") then
        cur.code = table.concat(cur.lines, "\n") .. "\n"
        cur.lines = nil
        out[#out + 1] = cur
        cur, prev = nil, line
      else
        cur.lines[#cur.lines + 1] = line
      end
    else
      local lang = line:match("^```(%S*)%s*$")
      if lang then
        local skip = prev and (prev:match("^%*Not run by the tests: (.-)%*%s*$") or
                               prev:match("^_Not run by the tests: (.-)_%s*$"))
        cur = { doc = path, line = lineno, lang = lang, lines = {}, section = section, subsection = subsection,
                skip = skip }
      else
        local h2 = line:match("^## (.-)%s*$")
        local h3 = line:match("^### (.-)%s*$")
        if h2 then section, subsection = h2, "" end
        if h3 then subsection = h3 end
        if line:match("%S") then prev = line end
      end
    end
  end
  return out
end

return M
