# tests/fuzz/fuzz.mk - libFuzzer targets for every parser of untrusted input.
#
#   make O=... fuzz              build every fuzzer into $(O)/fuzz/
#   make O=... fuzz-wire-storm   the wire.h robustness client (also in `all`)
#
# Each fuzzer links the project's REAL sources, recompiled here with clang
# and -fsanitize=fuzzer-no-link,address,undefined into $(O)/fuzz/obj/: the
# normal build's objects ($(O)/obj/) carry the VARIANT's flags (gcc, -O2 or
# ASan without coverage), which libFuzzer cannot steer, so the fuzz build is
# a separate tree that never touches them.  Nothing here is in `all`, so a
# machine without clang's fuzzer runtime still builds and tests the rest;
# tests/integration/fuzz_smoke.test.sh builds and runs the fuzzers and
# skips (77) when the runtime is missing.  docs/fuzzing.md: targets and how
# to run them longer.

FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -pthread \
	$(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(INCLUDES)
FUZZ_LDFLAGS := -pthread $(FUZZ_SAN) -fsanitize=fuzzer

fuzz_objs_of = $(patsubst %.c,$(O)/fuzz/obj/%.o,$(1))

$(O)/fuzz/obj/%.o: %.c | $(O)/include/xenshare_version.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_STD) -MMD -MP -c -o $@ $<

-include $(shell find $(O)/fuzz/obj -name '*.d' 2>/dev/null)

FUZZERS :=

# $(call add_fuzzer,NAME,PROJECT SOURCES,LDLIBS): $(O)/fuzz/fuzz_NAME from
# tests/fuzz/fuzz_NAME.c and the real module sources it exercises.
define add_fuzzer
$(O)/fuzz/fuzz_$(1): $(call fuzz_objs_of,tests/fuzz/fuzz_$(1).c $(2))
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_LDFLAGS) -o $$@ $$^ $(3)
FUZZERS += $(O)/fuzz/fuzz_$(1)
endef

XSD_FUZZ_CFG := dom0-daemon/config.c dom0-daemon/settings.c

$(eval $(call add_fuzzer,config,$(XSD_FUZZ_CFG),))
$(eval $(call add_fuzzer,policy,dom0-daemon/policy.c $(XSD_FUZZ_CFG),))
$(eval $(call add_fuzzer,control,dom0-daemon/control.c dom0-daemon/json.c dom0-daemon/logsink.c,-ljson-c))
$(eval $(call add_fuzzer,cli,dom0-daemon/cli.c dom0-daemon/schema.c dom0-daemon/json.c $(XSD_FUZZ_CFG),))
$(eval $(call add_fuzzer,statparse,tools/xenshare-stat/statparse.c tools/xenshare-stat/statfmt.c \
	tools/xenshare-stat/headroom.c \
	dom0-daemon/schema.c dom0-daemon/json.c dom0-daemon/settings.c,-ljson-c -lm))
$(eval $(call add_fuzzer,image,tools/xenshare-stat/image.c,-lzstd))
$(eval $(call add_fuzzer,guest,tools/xensim/guest.c,-lzstd))
$(eval $(call add_fuzzer,xlcfg,tools/xensim/xlcfg.c tools/xensim/guest.c,-lxlutil -lzstd))

.PHONY: fuzz fuzz-wire-storm
fuzz: $(FUZZERS)

# A plain client (normal toolchain and VARIANT flags) that throws random and
# malformed wire.h messages at a running xensim: xensim's dispatch is static
# in server.c, so its robustness is tested through the socket
# (tests/integration/fuzz_wire.test.sh).
$(O)/tests/fuzz_wire_storm: $(call objs_of,tests/fuzz/wire_storm.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^
ALL_TARGETS += $(O)/tests/fuzz_wire_storm
fuzz-wire-storm: $(O)/tests/fuzz_wire_storm
