# kvgate — hand-written GNU Makefile.
#
# `make run` and `make test` are the whole set-up: both install what is missing
# (scripts/deps.sh), then build in a sub-make so that pkg-config sees the freshly
# installed packages.

PREFIX   ?= /usr/local
DESTDIR  ?=
PORT     ?= 8080
CONFIG   ?=
SERVER   ?= lighttpd
SANITIZE ?=

CC       ?= cc
PKGS     := fcgi libcurl json-c libcrypto

# pkg-config where the .pc files exist, the Debian locations otherwise
# (iniparser ships no .pc file on Debian 12).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lfcgi -lcurl -ljson-c -lcrypto)
INI_CFLAGS := $(shell pkg-config --cflags iniparser 2>/dev/null || echo -I/usr/include/iniparser)
INI_LIBS   := $(shell pkg-config --libs iniparser 2>/dev/null || echo -liniparser)
# The programs load libcurl and libcrypto themselves, on first use, through
# the shims in lib/lazy/ (issue 6: a preflight process, or one answering
# from the cache, never maps them); dlopen() is in glibc's libc since 2.34.
PROG_PKG_LIBS := $(shell pkg-config --libs fcgi json-c 2>/dev/null || echo -lfcgi -ljson-c)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
            -fPIE
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(HARDEN) -MMD -MP \
              -Ilib $(PKG_CFLAGS) $(INI_CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)
LIBS     := $(PKG_LIBS) $(INI_LIBS)
PROG_LIBS := $(PROG_PKG_LIBS) $(INI_LIBS)

# `make test SANITIZE=address,undefined`: everything built with the
# sanitizers, any finding fatal (UBSan included), reports written where
# tests/run.sh looks (tests/sanitize/options.c).
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer \
               -U_FORTIFY_SOURCE
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:lib/%.c=build/lib/%.o)
# Not in build/libkvgate.a: unit tests and fuzzers link the real libraries.
LAZY_SRC := $(sort $(wildcard lib/lazy/*.c))
LAZY_OBJ := $(LAZY_SRC:lib/lazy/%.c=build/lazy/%.o)
PROGS    := cgi-bin/preflight.fcgi cgi-bin/get-secret.fcgi cgi-bin/list-secrets.fcgi \
            cgi-bin/kvgate-check cgi-bin/kvgate-fetch
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)

# Everything is rebuilt when the compiler or its flags change (SANITIZE= in
# particular, since the programs are used in place): build/flags holds those
# of the last build, and every object depends on it.
BUILD_FLAGS := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS) $(PROG_LIBS)
ifneq ($(file <build/flags),$(BUILD_FLAGS))
$(shell mkdir -p build)
$(file >build/flags,$(BUILD_FLAGS))
endif
SAN_OPTS := $(if $(SANITIZE),build/sanitize/options.o)
$(LIB_OBJ) $(LAZY_OBJ) $(patsubst cgi-bin/%,build/cgi-bin/%.o,$(basename $(PROGS))) \
    $(UNIT_BIN:=.o) $(SAN_OPTS) build/bench/fcgi-floor: build/flags
build/flags: ;

# Keep object files between runs (make would delete them as intermediates).
.SECONDARY:

.PHONY: all deps check check-config test run serve bench fuzz soak valgrind clean install uninstall format
all: $(PROGS)

build/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/libkvgate.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

build/lazy/%.o: lib/lazy/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/cgi-bin/%.o: cgi-bin/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The shims come before the archive, which supplies what they call (log.c).
cgi-bin/%.fcgi: build/cgi-bin/%.o $(LAZY_OBJ) build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PROG_LIBS)

cgi-bin/kvgate-check: build/cgi-bin/kvgate-check.o $(LAZY_OBJ) build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PROG_LIBS)

# kvgate-fetch makes the programs' upstream calls (lib/fetch.h): it is the
# one process that links libcurl itself.
cgi-bin/kvgate-fetch: build/cgi-bin/kvgate-fetch.o build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -pthread

# A sanitized program or unit test links in its sanitizers' run-time options.
build/sanitize/options.o: tests/sanitize/options.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DSANITIZER_LOG_DIR='"$(CURDIR)/build/sanitizer"' -c -o $@ $<

$(PROGS) $(UNIT_BIN): $(SAN_OPTS)

build/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

build/tests/test_%: build/tests/test_%.o build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# test_lazy is linked as the programs are: the shims (it includes curl.c and
# crypto.c itself, to reach their statics), no -lcurl, no -lcrypto.
build/tests/test_lazy: build/tests/test_lazy.o build/lazy/lazy.o build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PROG_LIBS)

deps:
	@scripts/deps.sh

# What `make test` runs once the dependencies are there.
check: $(PROGS) $(UNIT_BIN)
	@tests/run.sh $(UNIT_BIN)

test:
	@scripts/deps.sh --test
	@$(MAKE) --no-print-directory check

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(PORT)

serve:
	@scripts/deps.sh $(if $(filter apache,$(SERVER)),--apache)
	@$(MAKE) --no-print-directory all
	@scripts/serve.sh "$(CONFIG)" $(PORT) $(SERVER)

# `make bench`: the real stack on loopback driven by wrk, side by side with
# a static file and a minimal FastCGI responder (the floors); not part of
# `make test`. BENCH_SECONDS= and BENCH_PROCS= to change the run.
build/bench/fcgi-floor: tests/bench/fcgi-floor.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

bench:
	@scripts/deps.sh --bench
	@$(MAKE) --no-print-directory all build/bench/fcgi-floor
	@scripts/bench.sh

# Validate a policy INI, like `nginx -t`: every problem, or the policy in words.
check-config: cgi-bin/kvgate-check
	@cgi-bin/kvgate-check $(CONFIG)

# `make install PREFIX=/usr/local DESTDIR=`: the programs under
# $(PREFIX)/lib/kvgate, kvgate-check under $(PREFIX)/bin, the SPA and the web
# server snippets under $(PREFIX)/share/kvgate, and a sample policy as
# $(SYSCONFDIR)/kvgate/kvgate.ini (mode 0640, group www-data when it exists)
# unless one is there already: an existing policy is never touched. The
# installed Apache snippet's defaults point at these places. The dev vault is
# not installed. `make uninstall` removes exactly these files; it keeps the
# policy unless it is still the unedited sample.
SYSCONFDIR ?= /etc
BINDIR     := $(DESTDIR)$(PREFIX)/bin
LIBEXECDIR := $(DESTDIR)$(PREFIX)/lib/kvgate
SHAREDIR   := $(DESTDIR)$(PREFIX)/share/kvgate
ETCDIR     := $(DESTDIR)$(SYSCONFDIR)/kvgate
WWW_FILES  := $(sort $(wildcard www/*))
FCGI_PROGS := $(filter %.fcgi,$(PROGS))

install: all
	install -d -m 0755 $(BINDIR) $(LIBEXECDIR) $(SHAREDIR)/www $(SHAREDIR)/apache $(SHAREDIR)/lighttpd
	install -m 0755 $(FCGI_PROGS) cgi-bin/kvgate-fetch $(LIBEXECDIR)/
	install -m 0755 cgi-bin/kvgate-check $(BINDIR)/
	install -m 0644 $(WWW_FILES) $(SHAREDIR)/www/
	sed -e 's#/usr/local/lib/kvgate#$(PREFIX)/lib/kvgate#' \
	    -e 's#/usr/local/share/kvgate#$(PREFIX)/share/kvgate#' \
	    -e 's#/etc/kvgate/kvgate.ini#$(SYSCONFDIR)/kvgate/kvgate.ini#' \
	    etc/apache/kvgate.conf >$(SHAREDIR)/apache/kvgate.conf
	chmod 0644 $(SHAREDIR)/apache/kvgate.conf
	install -m 0644 etc/lighttpd/kvgate.conf $(SHAREDIR)/lighttpd/kvgate.conf
	install -m 0644 etc/apache/auth-basic.conf $(SHAREDIR)/apache/auth-basic.conf
	install -m 0644 etc/lighttpd/auth-basic.conf $(SHAREDIR)/lighttpd/auth-basic.conf
	install -m 0644 etc/kvgate.ini $(SHAREDIR)/kvgate.ini.sample
	install -d -m 0755 $(ETCDIR)
	@if [ -e $(ETCDIR)/kvgate.ini ]; then \
		echo "install: keeping the existing $(ETCDIR)/kvgate.ini (the sample is $(PREFIX)/share/kvgate/kvgate.ini.sample)"; \
	else \
		group=; \
		if [ "$$(id -u)" = 0 ] && getent group www-data >/dev/null; then group="-g www-data"; fi; \
		echo "install -m 0640 $$group etc/kvgate.ini $(ETCDIR)/kvgate.ini"; \
		install -m 0640 $$group etc/kvgate.ini $(ETCDIR)/kvgate.ini; \
	fi

uninstall:
	rm -f $(addprefix $(LIBEXECDIR)/,$(notdir $(FCGI_PROGS)) kvgate-fetch) $(BINDIR)/kvgate-check
	rm -f $(addprefix $(SHAREDIR)/www/,$(notdir $(WWW_FILES)))
	rm -f $(SHAREDIR)/apache/kvgate.conf $(SHAREDIR)/lighttpd/kvgate.conf $(SHAREDIR)/kvgate.ini.sample
	rm -f $(SHAREDIR)/apache/auth-basic.conf $(SHAREDIR)/lighttpd/auth-basic.conf
	@if [ -f $(ETCDIR)/kvgate.ini ] && cmp -s etc/kvgate.ini $(ETCDIR)/kvgate.ini; then \
		echo "rm -f $(ETCDIR)/kvgate.ini"; rm -f $(ETCDIR)/kvgate.ini; \
	elif [ -e $(ETCDIR)/kvgate.ini ]; then \
		echo "uninstall: keeping $(ETCDIR)/kvgate.ini (edited since install)"; \
	fi
	@for d in $(SHAREDIR)/www $(SHAREDIR)/apache $(SHAREDIR)/lighttpd $(SHAREDIR) $(LIBEXECDIR) $(ETCDIR); do \
		rmdir $$d 2>/dev/null || true; \
	done

format:
	clang-format -i lib/*.c lib/*.h cgi-bin/*.c tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build $(PROGS)

include tests/fuzz/fuzz.mk
include tests/soak/soak.mk
include tests/valgrind/valgrind.mk
-include $(LIB_OBJ:.o=.d) $(LAZY_OBJ:.o=.d) $(patsubst cgi-bin/%,build/cgi-bin/%.d,$(basename $(PROGS))) $(UNIT_BIN:=.d) \
         build/bench/fcgi-floor.d
