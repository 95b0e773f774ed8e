# kvgate — libFuzzer targets (included by the top Makefile).
#
# `make fuzz FUZZ_SECONDS=n` installs clang when it is missing
# (scripts/deps.sh --fuzz), builds every target in build/fuzz/ with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, replays the
# regression inputs in tests/fuzz/regress/, then fuzzes each target for
# FUZZ_SECONDS (default 30) from its seed corpus. It fails when any target
# crashes; crash inputs land in build/fuzz/artifacts/. FUZZ_TARGETS= narrows
# the set. tests/fuzz/README.md has the rest.
#
# The library is compiled again for the fuzzers, instrumented
# (-fsanitize=fuzzer-no-link), into build/fuzz/lib/: those objects never mix
# with the normal build's build/lib/.

FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZ_TARGETS ?= policy cors route kvjson token challenge pagetoken

FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
# The project's warnings, as errors, but for one clang reports and gcc does
# not: the va_list forwarders of log.c and policy.c pass their format on.
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -Wno-format-nonliteral -MMD -MP -Ilib \
                $(PKG_CFLAGS) $(INI_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=$(FUZZ_DIR)/lib/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz-build

$(FUZZ_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_DIR)/libkvgate.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# A target that includes a lib/*.c file (to reach its statics) defines that
# module's symbols itself, so the archive never pulls the module's object.
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libkvgate.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/fuzz -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< \
	    $(FUZZ_DIR)/libkvgate.a $(LIBS)

fuzz-build: $(FUZZ_BIN)

# New flags here mean new objects.
$(FUZZ_LIB_OBJ) $(FUZZ_BIN): tests/fuzz/fuzz.mk

fuzz:
	@scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)
