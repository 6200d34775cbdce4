-- konnect.cli.suggest: "did you mean": the known word closest to an unknown
-- command, option or value.  Loaded only when a word is unknown (an error
-- path), never by a command that runs (HACKING.md, the CLI's cold start).

local ipairs, pairs, select = ipairs, pairs, select
local sort, min = table.sort, math.min

local _M = {}

--- distance(a, b) -> the edit distance (insertions, deletions, substitutions,
--- and a swap of two neighbours counted as one)
local function distance(a, b)
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local prev2, prev = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur = { [0] = i }
    local ca = a:sub(i, i)
    for j = 1, lb do
      local cost = ca == b:sub(j, j) and 0 or 1
      local d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if i > 1 and j > 1 and ca == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        d = min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev = prev, cur
  end
  return prev[lb]
end
_M.distance = distance

--- suggest(word, candidates) -> the closest candidate, when it is close
--- enough to be what was meant (or word is the start of exactly one), or nil
function _M.suggest(word, candidates)
  word = word:lower()
  local best, best_d, prefixed, nprefixed = nil, nil, nil, 0
  local names = {}
  for _, c in ipairs(candidates) do names[#names + 1] = c end
  sort(names)
  for _, c in ipairs(names) do
    local d = distance(word, c)
    if best_d == nil or d < best_d then best, best_d = c, d end
    if #word >= 3 and c:sub(1, #word) == word then prefixed, nprefixed = c, nprefixed + 1 end
  end
  if best_d and best_d <= 2 and best_d < #word / 2 then return best end
  if nprefixed == 1 then return prefixed end
  return nil
end

--- names(set) -> the keys of one or more sets, as a list
local function names(...)
  local list = {}
  for i = 1, select("#", ...) do
    for k in pairs((select(i, ...))) do list[#list + 1] = k end
  end
  return list
end
_M.names = names

return _M
