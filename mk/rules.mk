# Macros used by the per-directory fragments (*.mk).
#
#   $(eval $(call add_lib,NAME,SRCS))                  -> $(O)/lib/libNAME.a
#   $(eval $(call add_prog,NAME,SRCS,LIBS,LDLIBS))     -> $(O)/bin/NAME
#   $(eval $(call add_unit_test,NAME,SRCS,LIBS,LDLIBS))-> $(O)/tests/NAME, run by `make check-unit`
#                                                         (linked with CUnit and the shared
#                                                         runner tests/unit/ut_common.c)
#   $(eval $(call add_shlib,SONAME,SRCS,MAPFILE,LIBS,LDLIBS)) -> $(O)/simlib/SONAME
#
# LIBS are our own static libraries by NAME (listed dependents first);
# LDLIBS are passed to the linker as they are (-lxenctrl ...).
# Objects go to $(O)/obj/<path of the source>.o with dependency files.

# Every object may include the generated version header: it exists before
# the first compile (order-only); the .d files track who really includes it.
$(O)/obj/%.o: %.c | $(O)/include/xenshare_version.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(O)/include/xenshare_version.h: VERSION
	@mkdir -p $(@D)
	printf '/* generated from VERSION by mk/rules.mk */\n#define XENSHARE_VERSION "%s"\n' \
		'$(XENSHARE_VERSION)' > $@.tmp && mv $@.tmp $@

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)

objs_of = $(patsubst %.c,$(O)/obj/%.o,$(1))
libs_of = $(foreach l,$(1),$(O)/lib/lib$(l).a)

define add_lib
$(O)/lib/lib$(1).a: $(call objs_of,$(2))
	@mkdir -p $$(@D)
	rm -f $$@ && $(AR) rcs $$@ $$^
ALL_TARGETS += $(O)/lib/lib$(1).a
endef

define add_prog
$(O)/bin/$(1): $(call objs_of,$(2)) $(call libs_of,$(3))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $(call objs_of,$(2)) $(call libs_of,$(3)) $(4)
ALL_TARGETS += $(O)/bin/$(1)
endef

UT_COMMON_SRCS := tests/unit/ut_common.c

define add_unit_test
$(O)/tests/$(1): $(call objs_of,$(2) $(UT_COMMON_SRCS)) $(call libs_of,$(3))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $(call objs_of,$(2) $(UT_COMMON_SRCS)) $(call libs_of,$(3)) $(4) -lcunit
UNIT_TESTS += $(O)/tests/$(1)
endef

define add_shlib
$(O)/simlib/$(1): $(call objs_of,$(2)) $(call libs_of,$(4)) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -shared -Wl,-soname,$(1) -Wl,--version-script,$(3) \
		-o $$@ $(call objs_of,$(2)) $(call libs_of,$(4)) $(5)
ALL_TARGETS += $(O)/simlib/$(1)
endef
