# xenshare-stat and xenshare-estimate (tools/xenshare-stat/).
#
# xenshare-stat reads the daemon's reply by its tables of statistics
# (dom0-daemon/schema.c).  xenshare-estimate links libshare (fingerprint.h:
# the daemon's own fingerprint and compare) and libzstd (.zst images).
#
# json-c parses the daemon's reply and writes --json; libxenctrl (on test
# machines xensim's drop-in via LD_LIBRARY_PATH) and libxenstore are read
# directly so the numbers are the hypervisor's own.  Only collect.c includes
# xenctrl.h, whose public headers need GNU C (anonymous unions, __align8__).

XST_DIR := tools/xenshare-stat
# the daemon's statistics tables (dom0-daemon/schema.c, with the JSON
# writer and the protocol names it uses): what the reply holds and how
# each value is shown
XST_SCHEMA_SRCS := dom0-daemon/schema.c dom0-daemon/json.c dom0-daemon/settings.c
XST_FMT_SRCS := $(XST_DIR)/statfmt.c $(XST_DIR)/statparse.c $(XST_DIR)/headroom.c $(XST_SCHEMA_SRCS)
XST_SRCS := $(XST_DIR)/xenshare-stat.c $(XST_DIR)/collect.c $(XST_FMT_SRCS)

$(call objs_of,$(XST_DIR)/collect.c): CFLAGS_ALL += -std=gnu11

$(eval $(call add_prog,xenshare-stat,$(XST_SRCS),,-ljson-c -lxenctrl -lxenstore -lm))
$(eval $(call add_unit_test,statfmt_ut,tests/unit/statfmt_ut.c $(XST_FMT_SRCS),,-ljson-c -lm))

.PHONY: xenshare-stat install-xenshare-stat
xenshare-stat: $(O)/bin/xenshare-stat

install-xenshare-stat: $(O)/bin/xenshare-stat
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(O)/bin/xenshare-stat $(DESTDIR)$(PREFIX)/bin/xenshare-stat
INSTALL_RULES += install-xenshare-stat
$(call objs_of,tests/unit/statfmt_ut.c): CFLAGS_ALL += -DXST_GOLDEN_DIR='"$(abspath tests/golden)"'
$(eval $(call add_unit_test,headroom_ut,tests/unit/headroom_ut.c $(XST_DIR)/headroom.c,,-lm))
$(eval $(call add_unit_test,statparse_ut,tests/unit/statparse_ut.c $(XST_FMT_SRCS),,-ljson-c -lm))

XSE_SRCS := $(XST_DIR)/image.c $(XST_DIR)/estimate.c $(XST_DIR)/estfmt.c $(XST_DIR)/headroom.c
$(eval $(call add_unit_test,image_ut,tests/unit/image_ut.c $(XST_DIR)/image.c,,-lzstd))
$(eval $(call add_unit_test,estimate_ut,tests/unit/estimate_ut.c $(XSE_SRCS),,-ljson-c -lzstd -lm))

# dom0-daemon/settings.c: the daemon's group name validator, so an estimate
# never takes a group the daemon would refuse
$(eval $(call add_prog,xenshare-estimate,$(XST_DIR)/xenshare-estimate.c $(XSE_SRCS) dom0-daemon/settings.c,share,-ljson-c -lzstd -lm))

.PHONY: xenshare-estimate install-xenshare-estimate
xenshare-estimate: $(O)/bin/xenshare-estimate
xenshare-stat: $(O)/bin/xenshare-estimate

install-xenshare-estimate: $(O)/bin/xenshare-estimate
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(O)/bin/xenshare-estimate $(DESTDIR)$(PREFIX)/bin/xenshare-estimate
INSTALL_RULES += install-xenshare-estimate

xenshare-stat: $(O)/tests/statfmt_ut $(O)/tests/headroom_ut $(O)/tests/statparse_ut $(O)/tests/image_ut $(O)/tests/estimate_ut
