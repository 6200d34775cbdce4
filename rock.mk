# rock.mk: the C core's build for LuaRocks (the rockspecs' `make` build type).
# LuaRocks passes LUA_INCDIR, CFLAGS, LIBFLAG, CURL_INCDIR and CURL_LIBDIR; the
# module is written to build/rock/ and nowhere else, and the rockspec's
# build.install tables copy it (and the Lua modules) into the tree.  The
# Makefile's own `make build` (build/<version>/) is for development.
# LUA (LuaRocks' $(LUA): the interpreter of the tree) also compiles the CLI's
# modules into build/rock/konnect/cli_bundle.luac (scripts/bundle.lua) and
# writes build/rock/bin/konnect-pats: bin/konnect-pats with a shebang naming
# that interpreter (installed as is, not wrapped: see the rockspec's deploy).
CC          ?= cc
CFLAGS      ?= -O2 -fPIC
LIBFLAG     ?= -shared
LUA_INCDIR  ?= /usr/include/lua5.1
CURL_INCDIR ?= /usr/include
CURL_LIBDIR ?= /usr/lib
LUA         ?= lua
OUT         := build/rock/konnect/core.so
IMPL        := build/rock/konnect/core_impl.so
include csrc/sources.mk
SRC         := $(KC_SRC)
HDR         := $(KC_HDR)

BUNDLE      := build/rock/konnect/cli_bundle.luac
BIN         := build/rock/bin/konnect-pats

.PHONY: rock
rock: $(OUT) $(IMPL) $(BUNDLE) $(BIN)

# konnect/core.so: the loader (csrc/loader.c), which opens konnect/core_impl.so lazily
$(OUT): csrc/loader.c rock.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wall -I$(LUA_INCDIR) $(LIBFLAG) -o $@ csrc/loader.c -ldl

$(IMPL): $(SRC) $(HDR) rock.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wall -I$(LUA_INCDIR) -I$(CURL_INCDIR) $(LIBFLAG) -o $@ $(SRC) -L$(CURL_LIBDIR) -lcurl

# always remade: cheap, and it must be made by the interpreter of this build
.PHONY: $(BUNDLE)
$(BUNDLE):
	@mkdir -p $(dir $@)
	$(LUA) scripts/bundle.lua $@ lua-konnect-scm-1.rockspec

$(BIN): bin/konnect-pats rock.mk
	@mkdir -p $(dir $@)
	{ echo '#!$(LUA)'; tail -n +2 bin/konnect-pats; } >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@
