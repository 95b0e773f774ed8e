# kvgate — hand-written GNU Makefile.
#
# `make run` and `make test` are the whole set-up: both install what is missing
# (scripts/deps.sh), then build in a sub-make so that pkg-config sees the freshly
# installed packages.

PREFIX   ?= /usr/local
DESTDIR  ?=
PORT     ?= 8080
CONFIG   ?=
SANITIZE ?=

CC       ?= cc
PKGS     := fcgi libcurl json-c libcrypto

# pkg-config where the .pc files exist, the Debian locations otherwise
# (iniparser ships no .pc file on Debian 12).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lfcgi -lcurl -ljson-c -lcrypto)
INI_CFLAGS := $(shell pkg-config --cflags iniparser 2>/dev/null || echo -I/usr/include/iniparser)
INI_LIBS   := $(shell pkg-config --libs iniparser 2>/dev/null || echo -liniparser)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
            -fPIE
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(HARDEN) -MMD -MP \
              -Ilib $(PKG_CFLAGS) $(INI_CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)
LIBS     := $(PKG_LIBS) $(INI_LIBS)

ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -U_FORTIFY_SOURCE
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:lib/%.c=build/lib/%.o)
PROGS    := cgi-bin/preflight.fcgi cgi-bin/get-secret.fcgi cgi-bin/list-secrets.fcgi \
            cgi-bin/kvgate-check
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)

.PHONY: all deps check check-config test run serve clean install uninstall format
all: $(PROGS)

build/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/libkvgate.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

build/cgi-bin/%.o: cgi-bin/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

cgi-bin/%.fcgi: build/cgi-bin/%.o build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

cgi-bin/kvgate-check: build/cgi-bin/kvgate-check.o build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

build/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

build/tests/test_%: build/tests/test_%.o build/libkvgate.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

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
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/serve.sh "$(CONFIG)" $(PORT)

# Validate a policy INI, like `nginx -t`: every problem, or the policy in words.
check-config: cgi-bin/kvgate-check
	@cgi-bin/kvgate-check $(CONFIG)

format:
	clang-format -i lib/*.c lib/*.h cgi-bin/*.c tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build $(PROGS)

-include $(LIB_OBJ:.o=.d) $(patsubst cgi-bin/%,build/cgi-bin/%.d,$(basename $(PROGS))) $(UNIT_BIN:=.d)
