# rock.mk: the C core's build for LuaRocks (the rockspecs' `make` build type).
# LuaRocks passes LUA_INCDIR, CFLAGS, LIBFLAG, CURL_INCDIR and CURL_LIBDIR; the
# module is written to build/rock/ and nowhere else, and the rockspec's
# build.install tables copy it (and the Lua modules) into the tree.  The
# Makefile's own `make build` (build/<version>/) is for development.
CC          ?= cc
CFLAGS      ?= -O2 -fPIC
LIBFLAG     ?= -shared
LUA_INCDIR  ?= /usr/include/lua5.1
CURL_INCDIR ?= /usr/include
CURL_LIBDIR ?= /usr/lib
OUT         := build/rock/konnect/core.so
SRC         := csrc/core.c csrc/fs.c
HDR         := csrc/compat.h csrc/fs.h

.PHONY: rock
rock: $(OUT)

$(OUT): $(SRC) $(HDR) rock.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wall -I$(LUA_INCDIR) -I$(CURL_INCDIR) $(LIBFLAG) -o $@ $(SRC) -L$(CURL_LIBDIR) -lcurl
