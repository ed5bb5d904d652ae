# dom0-daemon/daemon.mk - xenshared, the dom0 service, and its unit tests.
#
#   make O=... xenshared          the daemon ($(O)/bin/xenshared)
#   make O=... xenshared-tests    its unit tests ($(O)/tests/{settings,config,policy,control,cli,hostlock,balloon,xen,schema}_ut)
#
# The modules that do not touch Xen (settings, config, policy, json,
# control, schema) are unit-tested on their own; the program links the engine
# (libshare, $(O)/lib/libshare.a) and the Xen libraries.

XSD_CORE := dom0-daemon/settings.c dom0-daemon/config.c dom0-daemon/policy.c \
            dom0-daemon/json.c dom0-daemon/control.c dom0-daemon/logsink.c dom0-daemon/schema.c
XSD_SRCS := $(XSD_CORE) dom0-daemon/cli.c dom0-daemon/pidfile.c dom0-daemon/hostlock.c \
            dom0-daemon/xen.c dom0-daemon/domains.c dom0-daemon/report.c dom0-daemon/balloon.c \
            dom0-daemon/main.c
XSD_LDLIBS := -lxenctrl -lxenforeignmemory -lxenevtchn -lxendevicemodel -lxenstore -lsystemd -ldl -lm

.PHONY: xenshared xenshared-tests install-xenshared

# Debian's xenctrl.h needs GNU C (anonymous unions, asm barriers): only
# xen.c, the daemon's Xen boundary, includes it (and dxen_ut, which stands
# in for libxenctrl).  Everything else is C11.
$(call objs_of,dom0-daemon/xen.c tests/unit/dxen_ut.c): CFLAGS_ALL += -std=gnu11

$(eval $(call add_prog,xenshared,$(XSD_SRCS),share,$(XSD_LDLIBS)))
xenshared: $(O)/bin/xenshared
INSTALL_RULES += install-xenshared

$(eval $(call add_unit_test,settings_ut,tests/unit/settings_ut.c dom0-daemon/settings.c,,))
$(eval $(call add_unit_test,config_ut,tests/unit/config_ut.c dom0-daemon/config.c dom0-daemon/settings.c,,))
$(eval $(call add_unit_test,policy_ut,tests/unit/policy_ut.c dom0-daemon/policy.c dom0-daemon/config.c dom0-daemon/settings.c,,))
$(eval $(call add_unit_test,hostlock_ut,tests/unit/hostlock_ut.c dom0-daemon/hostlock.c dom0-daemon/settings.c dom0-daemon/logsink.c,,-lxenstore))
$(eval $(call add_unit_test,cli_ut,tests/unit/cli_ut.c dom0-daemon/cli.c dom0-daemon/settings.c \
	dom0-daemon/schema.c dom0-daemon/json.c,,))
# schema_ut also checks docs/control-protocol.md's copy of the generated table
$(eval $(call add_unit_test,schema_ut,tests/unit/schema_ut.c dom0-daemon/schema.c dom0-daemon/json.c \
	dom0-daemon/settings.c,,-ljson-c))
$(call objs_of,tests/unit/schema_ut.c): CFLAGS_ALL += -DXSD_DOCS_DIR='"$(abspath docs)"'
$(eval $(call add_unit_test,control_ut,tests/unit/control_ut.c dom0-daemon/control.c dom0-daemon/json.c dom0-daemon/logsink.c,,))
# balloon_ut links balloon.c, which calls Xen (xen.c) and libxenstore only
# in xsd_balloon_need(): the test exercises the pure target computation.
$(eval $(call add_unit_test,balloon_ut,tests/unit/balloon_ut.c dom0-daemon/balloon.c dom0-daemon/xen.c dom0-daemon/logsink.c,,-lxenctrl -lxenstore))
# dxen_ut links xen.c with its own libxenctrl (a scripted domain list and
# errors) instead of -lxenctrl: the conversions at the boundary, no Xen.
$(eval $(call add_unit_test,dxen_ut,tests/unit/dxen_ut.c dom0-daemon/xen.c,,))
# the stand-in notify socket of tests/integration/daemon_notify.test.sh
$(O)/tests/daemon_notify_listen: $(call objs_of,tests/integration/daemon_notify_listen.c)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^
ALL_TARGETS += $(O)/tests/daemon_notify_listen

xenshared-tests: $(O)/tests/daemon_notify_listen $(O)/tests/settings_ut $(O)/tests/config_ut $(O)/tests/policy_ut $(O)/tests/control_ut \
	$(O)/tests/cli_ut $(O)/tests/hostlock_ut \
	$(O)/tests/balloon_ut $(O)/tests/dxen_ut $(O)/tests/schema_ut

# Installs the daemon, its unit beside Xen's, and the default config (an
# existing /etc/xen/xenshared.conf is the operator's: never overwritten).
install-xenshared: $(O)/bin/xenshared
	install -D -m 0755 $(O)/bin/xenshared $(DESTDIR)$(PREFIX)/sbin/xenshared
	mkdir -p $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|/usr/sbin/xenshared|$(PREFIX)/sbin/xenshared|g' dom0-daemon/xenshared.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/xenshared.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/xenshared.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/xen/xenshared.conf ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/xen/xenshared.conf"; \
	else \
		install -D -m 0644 dom0-daemon/xenshared.conf $(DESTDIR)$(SYSCONFDIR)/xen/xenshared.conf; \
	fi
