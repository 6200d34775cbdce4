-- scripts/bundle.lua: the installed CLI's precompiled modules.
--
--   LUA scripts/bundle.lua OUT ROCKSPEC [ROOT]
--
-- Run by the interpreter the bundle is for (rock.mk and `make install` run the
-- tree's own), it compiles every Lua module the rockspec installs that the
-- CLI may need (all but the cosocket transport's, which need nginx, and the
-- bundle's own loader) into ONE chunk of bytecode: a function returning
-- { [module name] = loader }.  No luac needed: load() then string.dump(), on
-- Lua 5.1, 5.3, 5.4 and LuaJIT alike.
-- ROOT: where the rockspec's paths are relative to (default: the current directory).
--
-- OUT is
--   line 1  KONNECT-CLI-BUNDLE 1
--   line 2  the tag: the interpreter (jit.version, or _VERSION) and
--           limits.VERSION, e.g. "Lua 5.4 lua-konnect 0.3.0"
--   line 3  the length of the bytecode in bytes
--   then    the bytecode
-- konnect.cli.bundle loads it for an installed bin/konnect-pats (never in a
-- checkout) when line 2 names the interpreter running it and the VERSION of the
-- konnect.limits it would otherwise load, and the length matches; anything else:
-- the sources.

local out, rockspec, root = ...
if not (out and rockspec) then
  io.stderr:write("usage: lua scripts/bundle.lua OUT ROCKSPEC [ROOT]\n")
  os.exit(2)
end
root = root and (root .. "/") or ""

local NOT_CLI = { ["konnect.transport.cosocket"] = true, ["konnect.transport.http1"] = true,
                  ["konnect.transport.http1_read"] = true, ["konnect.cli.bundle"] = true }
-- What most commands never require (help texts, rotate/prune, batches, dates
-- in text output, "did you mean", a new secret's delivery, the terminal
-- checks, the paged lists and system accounts, users/system-accounts and the
-- audit): kept as strings of bytecode, undumped only when required, so a
-- `get` does not pay for them.
local RARE = { ["konnect"] = true, ["konnect.cli.help"] = true, ["konnect.lifecycle"] = true,
               ["konnect.batch"] = true, ["konnect.time"] = true, ["konnect.cli.suggest"] = true,
               ["konnect.cli.secret"] = true, ["konnect.cli.terminal"] = true, ["konnect.pages"] = true,
               ["konnect.accounts"] = true, ["konnect.audit"] = true, ["konnect.cli.org"] = true,
               ["konnect.cli.audit"] = true }

local function die(msg)
  io.stderr:write("bundle.lua: ", msg, "\n")
  os.exit(1)
end

local function slurp(path)
  local f, err = io.open(path, "rb")
  if not f then die(err) end
  local s = f:read("*a")
  f:close()
  return s
end

-- the rockspec is plain assignments: run it in an empty environment
local load_text = rawget(_G, "loadstring") or load
local spec = {}
local chunk = assert(load_text(slurp(root .. rockspec), "=" .. rockspec))
if rawget(_G, "setfenv") then rawget(_G, "setfenv")(chunk, spec) else chunk = load(slurp(root .. rockspec),
  "=" .. rockspec, "t", spec) end
chunk()
local modules = spec.build and spec.build.install and spec.build.install.lua
if type(modules) ~= "table" then die(rockspec .. " has no build.install.lua") end

local names = {}
for name in pairs(modules) do
  if not NOT_CLI[name] then names[#names + 1] = name end
end
table.sort(names)

-- one chunk: each module's source as the body of a function (a chunk is a
-- vararg function, so `...` and `return` mean what they mean in a file); a
-- RARE module's loader undumps its own bytecode, kept as a string constant.
-- (The chunk's two locals are in scope in every module: names no module uses.)
local parts = { "local konnect_bundle_, konnect_bundle_load_ = {}, loadstring or load\n" }
local version
for _, name in ipairs(names) do
  local src = slurp(root .. modules[name])
  -- compiled alone first, so a syntax error names its file
  local ok, err = load_text(src, "@" .. modules[name])
  if not ok then die(err) end
  if name == "konnect.limits" then version = src:match('\n_M%.VERSION = "([^"]+)"') end
  if RARE[name] then
    parts[#parts + 1] = ("konnect_bundle_[%q] = function(...) return konnect_bundle_load_(%q, %q)(...) end\n")
      :format(name, string.dump(ok, true), "=" .. name)
  else
    src = src:gsub("^#[^\n]*", "") -- a shebang line, were there one
    parts[#parts + 1] = ("konnect_bundle_[%q] = function(...)\n%s\nend\n"):format(name, src)
  end
end
if not version then die("no _M.VERSION in konnect.limits") end
parts[#parts + 1] = "return konnect_bundle_\n"
local fn, err = load_text(table.concat(parts), "=konnect-cli-bundle")
if not fn then die(err) end
local code = string.dump(fn, true) -- stripped (Lua 5.1 keeps its debug information)

local jit = rawget(_G, "jit")
local tag = (type(jit) == "table" and jit.version or _VERSION) .. " lua-konnect " .. version
local tmp = out .. ".tmp"
local f = io.open(tmp, "wb") or die("cannot write " .. tmp)
f:write("KONNECT-CLI-BUNDLE 1\n", tag, "\n", #code, "\n", code)
if not f:close() then die("cannot write " .. tmp) end
local renamed, rerr = os.rename(tmp, out)
if not renamed then die(rerr) end
io.stdout:write(("bundle.lua: %s: %d modules, %d bytes, %s\n"):format(out, #names, #code, tag))
