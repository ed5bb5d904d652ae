# Fleet monitoring (monitoring/): Prometheus recording and alerting rules
# over xenshare-stat --prometheus, their promtool unit tests, and a Grafana
# dashboard; installed under $(PREFIX)/share/xenshare/.
#
#   make check-monitoring   monitoring/check.sh: promtool check rules and
#                           test rules, the dashboard's Grafana fields, every
#                           metric name against tests/golden/*.prom; run by
#                           `make unit` (so by `make check`) like man_check
#   make dashboard-demo     monitoring/render-demo.sh: the dashboard's panels
#                           drawn from a Prometheus that scraped a demo run
#                           ($(O)/dashboard-demo.svg; docs/dashboard-demo.svg
#                           is one such run; about 3 minutes)
#
# promtool (Debian's prometheus package) is required: without it the check
# fails, it does not skip (scripts/packages/monitoring.txt).

MON_DIR := monitoring
MON_RULES := $(MON_DIR)/prometheus/xenshare.rules.yml
MON_DASH := $(MON_DIR)/grafana/xenshare.json

# A generated script, so that `make unit` runs the check like a unit test.
$(O)/tests/monitoring_check: $(MON_DIR)/monitoring.mk
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s\n' "$(abspath $(MON_DIR)/check.sh)" "$(abspath tests/golden)" > $@
	chmod +x $@
UNIT_TESTS += $(O)/tests/monitoring_check

.PHONY: check-monitoring install-monitoring dashboard-demo
check-monitoring: $(O)/tests/monitoring_check
	$<

dashboard-demo:
	O=$(O) $(MON_DIR)/render-demo.sh $(abspath $(O))/dashboard-demo.svg

install-monitoring:
	install -d $(DESTDIR)$(PREFIX)/share/xenshare/prometheus $(DESTDIR)$(PREFIX)/share/xenshare/grafana
	install -m 0644 $(MON_RULES) $(DESTDIR)$(PREFIX)/share/xenshare/prometheus/xenshare.rules.yml
	install -m 0644 $(MON_DASH) $(DESTDIR)$(PREFIX)/share/xenshare/grafana/xenshare.json
INSTALL_RULES += install-monitoring
