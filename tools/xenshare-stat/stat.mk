# xenshare-stat and xenshare-estimate (tools/xenshare-stat/).
#
# json-c parses the daemon's reply and writes --json; libxenctrl (on test
# machines xensim's drop-in via LD_LIBRARY_PATH) and libxenstore are read
# directly so the numbers are the hypervisor's own.  Only collect.c includes
# xenctrl.h, whose public headers need GNU C (anonymous unions, __align8__).

XST_DIR := tools/xenshare-stat
XST_FMT_SRCS := $(XST_DIR)/statfmt.c $(XST_DIR)/statparse.c
XST_SRCS := $(XST_DIR)/xenshare-stat.c $(XST_DIR)/collect.c $(XST_FMT_SRCS)

$(call objs_of,$(XST_DIR)/collect.c): CFLAGS_ALL += -std=gnu11

$(eval $(call add_prog,xenshare-stat,$(XST_SRCS),,-ljson-c -lxenctrl -lxenstore -lm))
$(eval $(call add_unit_test,statfmt_ut,tests/unit/statfmt_ut.c $(XST_FMT_SRCS),,-ljson-c))

.PHONY: xenshare-stat install-xenshare-stat
xenshare-stat: $(O)/bin/xenshare-stat

install-xenshare-stat: $(O)/bin/xenshare-stat
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(O)/bin/xenshare-stat $(DESTDIR)$(PREFIX)/bin/xenshare-stat
INSTALL_RULES += install-xenshare-stat
$(call objs_of,tests/unit/statfmt_ut.c): CFLAGS_ALL += -DXST_GOLDEN_DIR='"$(abspath tests/golden)"'
$(eval $(call add_unit_test,statparse_ut,tests/unit/statparse_ut.c $(XST_FMT_SRCS),,-ljson-c))
