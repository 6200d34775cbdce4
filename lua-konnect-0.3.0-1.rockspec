rockspec_format = "3.0"
package = "lua-konnect"
version = "0.3.0-1"
source = {
  url = "git+https://github.com/lua-konnect/lua-konnect.git",
  tag = "v0.3.0",
}
description = {
  summary = "Kong Konnect Personal Access Tokens API client: a libcurl C core and an idiomatic Lua API",
  detailed = [[
    require "konnect.pats": list, create, get, update, delete and revoke Konnect
    personal access tokens from Lua scripts, OpenResty and Kong plugins, with
    structured error objects, safe retries and secret redaction.
  ]],
  homepage = "https://github.com/lua-konnect/lua-konnect",
  license = "Apache-2.0",
  labels = { "konnect", "kong", "api", "openresty", "curl" },
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson",
}
-- Checking for the library, not the header: on Debian/Ubuntu curl/curl.h sits in
-- a multiarch include directory LuaRocks 3.8 does not search (the compiler does).
external_dependencies = {
  CURL = { library = "curl" },
}
build = {
  -- A make build (rock.mk): each run starts build/rock/ afresh and writes the C
  -- core and the command for this tree's interpreter there, and nothing elsewhere
  -- in the source tree (a builtin build leaves konnect/core.so and csrc/*.o in the
  -- checkout).
  type = "make",
  makefile = "rock.mk",
  build_target = "rock",
  build_variables = {
    CC = "$(CC)", CFLAGS = "$(CFLAGS)", LIBFLAG = "$(LIBFLAG)", LUA_INCDIR = "$(LUA_INCDIR)",
    CURL_INCDIR = "$(CURL_INCDIR)", CURL_LIBDIR = "$(CURL_LIBDIR)", LUA = "$(LUA)",
  },
  install_pass = false,
  install = {
    lib = {
      ["konnect.core"] = "build/rock/konnect/core.so",
      -- the CLI's modules precompiled by the tree's interpreter (scripts/bundle.lua,
      -- loaded by konnect.cli.bundle)
      ["konnect.cli_bundle"] = "build/rock/konnect/cli_bundle.luac",
    },
    lua = {
      ["konnect"] = "lua/konnect/init.lua",
      ["konnect.pats"] = "lua/konnect/pats.lua",
      ["konnect.http"] = "lua/konnect/http.lua",
      ["konnect.errors"] = "lua/konnect/errors.lua",
      ["konnect.json"] = "lua/konnect/json.lua",
      ["konnect.accel"] = "lua/konnect/accel.lua",
      ["konnect.validate"] = "lua/konnect/validate.lua",
      ["konnect.limits"] = "lua/konnect/limits.lua",
      ["konnect.retry"] = "lua/konnect/retry.lua",
      ["konnect.batch"] = "lua/konnect/batch.lua",
      ["konnect.lifecycle"] = "lua/konnect/lifecycle.lua",
      ["konnect.accounts"] = "lua/konnect/accounts.lua",
      ["konnect.audit"] = "lua/konnect/audit.lua",
      ["konnect.operations"] = "lua/konnect/operations.lua",
      ["konnect.pages"] = "lua/konnect/pages.lua",
      ["konnect.meta"] = "lua/konnect/meta.lua",
      ["konnect.ops"] = "lua/konnect/ops.lua",
      ["konnect.redact"] = "lua/konnect/redact.lua",
      ["konnect.time"] = "lua/konnect/time.lua",
      ["konnect.transport"] = "lua/konnect/transport/init.lua",
      ["konnect.cli"] = "lua/konnect/cli.lua",
      ["konnect.cli.args"] = "lua/konnect/cli/args.lua",
      ["konnect.cli.audit"] = "lua/konnect/cli/audit.lua",
      ["konnect.cli.bundle"] = "lua/konnect/cli/bundle.lua",
      ["konnect.cli.check"] = "lua/konnect/cli/check.lua",
      ["konnect.cli.commands"] = "lua/konnect/cli/commands.lua",
      ["konnect.cli.help"] = "lua/konnect/cli/help.lua",
      ["konnect.cli.org"] = "lua/konnect/cli/org.lua",
      ["konnect.cli.options"] = "lua/konnect/cli/options.lua",
      ["konnect.cli.render"] = "lua/konnect/cli/render.lua",
      ["konnect.cli.secret"] = "lua/konnect/cli/secret.lua",
      ["konnect.cli.suggest"] = "lua/konnect/cli/suggest.lua",
      ["konnect.cli.terminal"] = "lua/konnect/cli/terminal.lua",
      ["konnect.transport.curl"] = "lua/konnect/transport/curl.lua",
      ["konnect.transport.cosocket"] = "lua/konnect/transport/cosocket.lua",
      ["konnect.transport.http1"] = "lua/konnect/transport/http1.lua",
      ["konnect.transport.http1_read"] = "lua/konnect/transport/http1_read.lua",
    },
    -- bin/konnect-pats with the tree's interpreter in its shebang (rock.mk)
    bin = { ["konnect-pats"] = "build/rock/bin/konnect-pats" },
  },
  -- bash completion: $(luarocks show --rock-dir lua-konnect)/completion/konnect-pats.bash
  -- (LuaRocks copies it there and nowhere else: README, Install)
  copy_directories = { "completion" },
}
-- konnect-pats runs as it is installed, not through LuaRocks' shell wrapper:
-- the wrapper's `sh` and require "luarocks.loader" cost ~5 ms, as much as the
-- whole request; the stub finds the tree's modules from its own path.
deploy = { wrap_bin_scripts = false }
