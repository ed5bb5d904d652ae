# hypervisor-patch/hvpatch.mk - the user-space test of the hypervisor logic
# that the patch series adds, and a shortcut to build the hypervisor.
#
#   make O=... cmpshr_ut     the harness test ($(O)/tests/cmpshr_ut, run by
#                            `make check-unit` / `make check`)
#   make O=... hvpatch       hypervisor-patch/build.sh into $(O)/hvpatch
#                            (downloads Debian's xen source, ~2 min; not
#                            part of `all`)
#   make O=... hv-deb        hypervisor-patch/deb.sh: Debian's xen packages
#                            with the series, into $(O)/hvpatch/deb (a full
#                            dpkg-buildpackage; not part of `all` nor CI)
#
# The harness compiles hypervisor-patch/harness/mem_sharing_batch.c, the
# file patch 0002 adds to xen/arch/x86/mm/, unchanged: its Xen includes
# resolve to the stand-ins of harness/include/ (emul.h), as Xen's
# tools/tests/vpci does for vpci.c.

HVP_HARNESS_SRCS := hypervisor-patch/harness/mem_sharing_batch.c

$(call objs_of,$(HVP_HARNESS_SRCS) tests/unit/cmpshr_ut.c): CFLAGS_ALL += -Ihypervisor-patch/harness/include

$(eval $(call add_unit_test,cmpshr_ut,tests/unit/cmpshr_ut.c $(HVP_HARNESS_SRCS),,))

.PHONY: cmpshr_ut hvpatch hv-deb
cmpshr_ut: $(O)/tests/cmpshr_ut

hvpatch:
	hypervisor-patch/build.sh -w $(abspath $(O))/hvpatch

hv-deb:
	hypervisor-patch/deb.sh -w $(abspath $(O))/hvpatch -j 2
