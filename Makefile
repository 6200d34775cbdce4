# lua-konnect — build, test, demo.  `make help` lists the targets.
LUA        ?= lua5.4
PREFIX     ?= /usr/local
CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

# Lua interpreter -> build dir (build/5.4, build/jit, …)
lua_dir = $(if $(filter luajit,$1),jit,$(patsubst lua%,%,$1))

# The Debian 12 packages everything here needs (see README).
DEB_PKGS := build-essential pkg-config libcurl4-openssl-dev ca-certificates openssl \
            lua5.4 liblua5.4-dev lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev \
            luajit2 libluajit2-5.1-dev lua-cjson lua-busted lua-check luarocks lua-socket lua-yaml \
            nginx-light libnginx-mod-http-lua curl valgrind jq iproute2

include csrc/sources.mk
CSRC := $(KC_SRC)
CHDR := $(KC_HDR)

.PHONY: all help deps build build-all test hostile demo install uninstall lint check bench clean fake-start fake-stop \
        release-check

all: build

help:
	@echo "make deps      install the Debian packages (as root) or print the apt-get line"
	@echo "make           build konnect.core for LUA=$(LUA) into build/$(call lua_dir,$(LUA))/konnect/core.so"
	@echo "make demo      build, start the fake Konnect, run examples/tour.lua and the CLI, stop it"
	@echo "               (make demo KONNECT=real: the tour against real Konnect, with KONNECT_TOKEN)"
	@echo "make test      build for Lua 5.4, LuaJIT, 5.1, 5.3; busted on each against the fake Konnect; the fake's"
	@echo "               contract; nginx, hostile-server and fuzz suites; rock check; secret scan; luacheck"
	@echo "make hostile   the hostile-server suite alone (TRANSPORT=curl|cosocket, default both)"
	@echo "make check     soaks of the core and the library, natively and under valgrind memcheck"
	@echo "make bench     benchmarks against the alternatives (bench/results/)"
	@echo "make mutate    mutation testing by rule: MUTATE_N (80) mutants of lua/ and csrc/ drawn with MUTATE_SEED (daily),"
	@echo "               each against the suites that run its line; score and survivors in mutate-report.txt"
	@echo "               (MUTANTS=list: the hand-picked regression set of scripts/mutants.lua instead)"
	@echo "make install   install the modules and konnect-pats (run by LUA) into PREFIX=$(PREFIX) for LUA=$(LUA)"
	@echo "               (make uninstall removes them)"
	@echo "make release-check  lint both rockspecs, one version everywhere, luarocks pack, build the"
	@echo "               source rock in a fresh tree (Lua 5.4, 5.1) and smoke-test it; builds stay in build/"
	@echo "make clean     remove build/ and .run/"

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing:" $$missing; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing) >/tmp/lua-konnect-apt.log 2>&1 \
	  || { tail -20 /tmp/lua-konnect-apt.log; exit 1; }; \
	else echo "deps: missing packages; run:"; echo "  sudo apt-get install -y $$missing"; exit 1; fi

build: build/$(call lua_dir,$(LUA))/konnect/core.so

build-all:
	@for l in lua5.4 luajit lua5.1 lua5.3; do $(MAKE) --no-print-directory build LUA=$$l || exit 1; done

# konnect/core.so: the whole C core, $(KC_SRC) of csrc/sources.mk, linked with libcurl.
# Lua's require opens it with RTLD_NOW: a module built for another Lua (or a missing
# library) is an error at require, never a crash at the first call.
build/%/konnect/core.so: $(CSRC) $(CHDR) csrc/sources.mk Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -I$(if $(filter jit,$*),/usr/include/luajit-2.1,/usr/include/lua$*) $(CURL_CFLAGS) \
	  -o $@ $(CSRC) $(CURL_LIBS)

# KONNECT=real tours real Konnect (KONNECT_TOKEN required); anything else, the fake server.
demo: deps
	@$(MAKE) --no-print-directory build LUA=lua5.4
	@KONNECT_DEMO_TARGET="$(KONNECT)" bash scripts/demo.sh

release-check: deps
	@bash scripts/release-check.sh

test: deps
	@bash scripts/test.sh $(TEST_LUAS)

hostile: deps
	@$(MAKE) --no-print-directory build LUA=lua5.4
	@bash spec/hostile/run.sh $(TRANSPORT)

lint:
	luacheck lua spec bin fake_konnect examples bench

check: deps build
	@bash scripts/check.sh

.PHONY: mutate
mutate: deps
	@bash scripts/mutate.sh

bench: deps
	@$(MAKE) --no-print-directory build LUA=lua5.4
	@$(MAKE) --no-print-directory build LUA=luajit
	@bash bench/run.sh

# konnect-pats gets LUA's path as its shebang (#!/usr/bin/lua5.1 for LUA=lua5.1), so it
# runs with the interpreter its modules were installed for, and LUA compiles the CLI's
# modules into konnect/cli_bundle.luac (scripts/bundle.lua).  core_impl.so was an
# earlier layout's: removed, never loaded.
install: build
	@v=$(call lua_dir,$(LUA)); [ $$v = jit ] && v=5.1; \
	interp=$$(command -v $(LUA)) || { echo "make install: $(LUA) not found (LUA= names the interpreter)"; exit 1; }; \
	lib=$(DESTDIR)$(PREFIX)/lib/lua/$$v/konnect share=$(DESTDIR)$(PREFIX)/share/lua/$$v; \
	install -d $$lib $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/bash-completion/completions && \
	rm -f $$lib/core_impl.so && \
	install -m 0644 build/$(call lua_dir,$(LUA))/konnect/core.so $$lib/core.so && \
	for f in $$(cd lua && find konnect -name '*.lua'); do install -D -m 0644 lua/$$f $$share/$$f || exit 1; done && \
	$$interp scripts/bundle.lua $$lib/cli_bundle.luac lua-konnect-scm-1.rockspec >/dev/null && \
	{ echo "#!$$interp"; tail -n +2 bin/konnect-pats; } > $(DESTDIR)$(PREFIX)/bin/konnect-pats.tmp && \
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/konnect-pats.tmp && \
	mv $(DESTDIR)$(PREFIX)/bin/konnect-pats.tmp $(DESTDIR)$(PREFIX)/bin/konnect-pats && \
	install -m 0644 completion/konnect-pats.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/konnect-pats && \
	echo "installed konnect for Lua $$v under $(DESTDIR)$(PREFIX) (konnect-pats runs $$interp)"

# what `make install` put under PREFIX for LUA, and nothing else
uninstall:
	@v=$(call lua_dir,$(LUA)); [ $$v = jit ] && v=5.1; \
	rm -f $(DESTDIR)$(PREFIX)/bin/konnect-pats $(DESTDIR)$(PREFIX)/share/bash-completion/completions/konnect-pats; \
	rm -rf $(DESTDIR)$(PREFIX)/lib/lua/$$v/konnect $(DESTDIR)$(PREFIX)/share/lua/$$v/konnect; \
	echo "removed konnect for Lua $$v from $(DESTDIR)$(PREFIX)"

fake-start:
	@fake_konnect/ctl start

fake-stop:
	@fake_konnect/ctl stop

# build/ holds every build (make build's build/<v>/, the rock's build/rock/); konnect/ and csrc/*.o
# are what a builtin-type rockspec of an older checkout left behind.
clean:
	rm -rf build .run konnect csrc/*.o *.src.rock
