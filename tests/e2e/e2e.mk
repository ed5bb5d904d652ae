# tests/e2e: helper programs of the end-to-end harness (see docs/e2e.md).
# Dom0-side tools link the host's libxenctrl, whose soname is
# the one of the Debian userland the harness boots; the guest workload is
# static so the guest initramfs needs nothing but busybox and it.
E2E_BIN := $(O)/e2e-bin

# Xen's public headers (xen/foreign/x86_64.h via xenctrl.h) define
# __align8__ only for GNU C; under strict -std=c11 they expand it to FIXME.
$(call objs_of,tests/e2e/probe.c): CFLAGS_ALL += -std=gnu11
$(call objs_of,tests/e2e/enomem-probe.c): CFLAGS_ALL += -std=gnu11
$(call objs_of,tests/e2e/spanning-probe.c): CFLAGS_ALL += -std=gnu11

$(E2E_BIN)/e2e-probe: $(call objs_of,tests/e2e/probe.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lxenctrl -lxenforeignmemory

# The unshare-ENOMEM phase's hog and waiters tool (phase-enomem.sh).
$(E2E_BIN)/e2e-enomem: $(call objs_of,tests/e2e/enomem-probe.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lxenctrl

# hypervisor-patch 0008 on the real host: the share that panics upstream.
$(E2E_BIN)/e2e-spanning: $(call objs_of,tests/e2e/spanning-probe.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lxenctrl -lxenforeignmemory

# Static and never sanitized: it runs as a guest's only program.
$(E2E_BIN)/guest-fill: tests/e2e/guest-fill.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 -static -o $@ $<

E2E_TOOLS := $(E2E_BIN)/e2e-probe $(E2E_BIN)/guest-fill $(E2E_BIN)/e2e-enomem \
	$(E2E_BIN)/e2e-spanning
ALL_TARGETS += $(E2E_TOOLS)

.PHONY: e2e-tools
e2e-tools: $(E2E_TOOLS)
