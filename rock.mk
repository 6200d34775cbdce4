# rock.mk: the build for LuaRocks (the rockspecs' `make` build type).
# LuaRocks passes CC, CFLAGS, LIBFLAG, LUA_INCDIR, CURL_INCDIR, CURL_LIBDIR and LUA
# (the tree's interpreter); the rockspec's build.install tables then copy
# build/rock/ (and the Lua modules) into the tree.  The Makefile's own
# `make build` (build/<version>/) is for development.
#
# Every build starts clean: build/rock/ only ever holds what THIS luarocks run
# made, for THIS interpreter.  (It used to be kept between runs, so building for
# Lua 5.4, then 5.1, then LuaJIT from one checkout installed the 5.4 objects and
# the 5.4 shebang into the other two trees.)  A build is one compile of the core.
#   build/rock/konnect/core.so         the C core ($(KC_SRC) of csrc/sources.mk),
#                                      linked with libcurl
#   build/rock/konnect/cli_bundle.luac the CLI's modules compiled by $(LUA)
#                                      (scripts/bundle.lua; konnect.cli.bundle loads it)
#   build/rock/bin/konnect-pats        bin/konnect-pats with $(LUA) in its shebang
#                                      (installed as is, not wrapped: see the rockspec's deploy)
CC          ?= cc
CFLAGS      ?= -O2 -fPIC
LIBFLAG     ?= -shared
LUA_INCDIR  ?= /usr/include/lua5.1
CURL_INCDIR ?= /usr/include
CURL_LIBDIR ?= /usr/lib
LUA         ?= lua
include csrc/sources.mk

.PHONY: rock
rock:
	rm -rf build/rock
	@mkdir -p build/rock/konnect build/rock/bin
	$(CC) $(CFLAGS) -Wall -I$(LUA_INCDIR) -I$(CURL_INCDIR) $(LIBFLAG) -o build/rock/konnect/core.so \
	  $(KC_SRC) -L$(CURL_LIBDIR) -lcurl
	$(LUA) scripts/bundle.lua build/rock/konnect/cli_bundle.luac lua-konnect-scm-1.rockspec
	{ echo '#!$(LUA)'; tail -n +2 bin/konnect-pats; } > build/rock/bin/konnect-pats
	chmod 755 build/rock/bin/konnect-pats
