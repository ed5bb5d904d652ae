# libshare: the engine (scan, fingerprint, index, verify+share, reserve).
LIBSHARE_SRCS := libshare/log.c libshare/clock.c libshare/fingerprint.c libshare/fingerprint_avx2.c \
	libshare/index.c libshare/page_state.c libshare/rate.c libshare/xen.c libshare/dom.c \
	libshare/reserve.c libshare/merge.c libshare/scan.c libshare/audit.c libshare/engine.c
LIBSHARE_LDLIBS := -lxenctrl -lxenforeignmemory -lxenevtchn -lxendevicemodel -ldl
$(eval $(call add_lib,share,$(LIBSHARE_SRCS)))
# Debian's xenctrl.h needs GNU C (anonymous unions, asm barriers): only the
# Xen boundary and the test tools that map guest pages include it.
$(call objs_of,libshare/xen.c tests/integration/tools/ideal.c tests/integration/tools/engine_merge.c \
	tests/unit/xen_ut.c): CFLAGS_ALL += -std=gnu11
# xxHash picks its vector kernel at compile time: this one file is built for
# AVX2 and only called after a run-time CPU check (fingerprint.c).
$(call objs_of,libshare/fingerprint_avx2.c): CFLAGS_ALL += -mavx2

# unit tests of the pure modules (in-process, no Xen)
$(eval $(call add_unit_test,fingerprint_ut,tests/unit/fingerprint_ut.c,share,))
$(eval $(call add_unit_test,index_ut,tests/unit/index_ut.c,share,))
$(eval $(call add_unit_test,rate_ut,tests/unit/rate_ut.c,share,))
$(eval $(call add_unit_test,page_state_ut,tests/unit/page_state_ut.c,share,))
# unit tests of the core, one per module, against tests/unit/fake_xen.c: an
# in-process Xen that takes xen.c's place at link time (libshare's objects
# but xen.o; core_fixture.c puts the parts together as engine.c does)
LIBSHARE_FAKE_SRCS := $(filter-out libshare/xen.c,$(LIBSHARE_SRCS)) \
	tests/unit/fake_xen.c tests/unit/core_fixture.c tests/unit/log_capture.c
SHR_COMMA := ,
add_core_test = $(eval $(call add_unit_test,$(1),tests/unit/$(1).c $(LIBSHARE_FAKE_SRCS),,$(2)))
$(call add_core_test,scan_ut)
$(call add_core_test,merge_ut,-Wl$(SHR_COMMA)--wrap=malloc)
$(call add_core_test,reserve_ut)
$(call add_core_test,dom_ut)
$(call add_core_test,audit_ut)
$(call add_core_test,engine_ut)
# xen.c itself, where it needs no Xen: the test defines the libxc calls it
# makes (-rdynamic: xen.c finds the batched op with dlsym)
$(eval $(call add_unit_test,xen_ut,tests/unit/xen_ut.c tests/unit/log_capture.c libshare/xen.c \
	libshare/log.c,,-rdynamic $(LIBSHARE_LDLIBS)))

# small test programs of the engine's integration tests (linked against the
# Xen libraries; run with LD_LIBRARY_PATH=$(O)/simlib against xensim)
$(eval $(call add_prog,shr-ideal,tests/integration/tools/ideal.c,,-lxenctrl -lxenforeignmemory))
$(eval $(call add_prog,shr-engine-run,tests/integration/tools/engine_run.c,share,$(LIBSHARE_LDLIBS) -lxenstore))
# scan + verify/share through the engine API against xensim hosts the
# program starts itself (CUnit; run by engine_merge.test.sh)
$(eval $(call add_prog,shr-engine-merge,tests/integration/tools/engine_merge.c tests/unit/ut_common.c,share,$(LIBSHARE_LDLIBS) -lcunit))

.PHONY: libshare
libshare: $(O)/lib/libshare.a $(O)/tests/fingerprint_ut $(O)/tests/index_ut \
	$(O)/tests/rate_ut $(O)/tests/page_state_ut $(O)/tests/scan_ut $(O)/tests/merge_ut \
	$(O)/tests/reserve_ut $(O)/tests/dom_ut $(O)/tests/audit_ut $(O)/tests/engine_ut \
	$(O)/tests/xen_ut $(O)/bin/shr-ideal $(O)/bin/shr-engine-run $(O)/bin/shr-engine-merge

# libshare's module graph has no cycle and docs/design.md shows it as it is
# (a script run by `make check-unit` like a unit test).
$(O)/tests/module_graph_check: tests/unit/module_graph_check.sh
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s\n' "$(abspath $<)" > $@
	chmod +x $@
UNIT_TESTS += $(O)/tests/module_graph_check
