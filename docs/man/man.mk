# Man pages (docs/man/*.pod, POD like Xen's own man pages) built with
# pod2man into $(O)/man/man<section>/, checked with podchecker, installed
# under $(DESTDIR)$(PREFIX)/share/man.
#
#   make O=... man         build them
#   $(O)/tests/man_check   podchecker on every page (warnings fail) and a
#                          check that every number xenshare-stat prints is
#                          explained in xenshare-stat(1); run by `make check-unit`
#
# Pages from a .pod.in get sections generated from the daemon's tables,
# so they cannot drift from the code: at a line @XENSHARE_SETTINGS@ the
# settings (`xenshared --print-settings=pod`, xenshared.conf(5)), at a line
# @XENSHARE_STATS@ the statistics (`xenshared --print-stats=pod`,
# xenshared(8) and xenshare-stat(1)).

MAN_SRC := docs/man
MAN_PLAIN := xenshare-estimate.1 xl-mem-sharing.5
MAN_GEN := xenshare-stat.1 xenshared.8 xenshared.conf.5
MAN_ALL := $(MAN_PLAIN) $(MAN_GEN)
man_out = $(O)/man/man$(subst .,,$(suffix $(1)))/$(1)
MAN_PAGES := $(foreach p,$(MAN_ALL),$(call man_out,$(p)))
MAN_PODS := $(foreach p,$(MAN_PLAIN),$(MAN_SRC)/$(p).pod) $(foreach p,$(MAN_GEN),$(O)/man/$(p).pod)
MAN_INCLUDES := $(O)/man/xenshared-settings.pod $(O)/man/xenshared-stats.pod

POD2MAN = pod2man --errors=die --utf8 --center="xenshare" --release="xenshare $(XENSHARE_VERSION)"

define man_rule
$(call man_out,$(1)): $(2) VERSION
	@mkdir -p $$(@D)
	$$(POD2MAN) --section=$(subst .,,$(suffix $(1))) --name=$(shell echo $(basename $(1)) | tr a-z A-Z) $$< $$@
endef
$(foreach p,$(MAN_PLAIN),$(eval $(call man_rule,$(p),$(MAN_SRC)/$(p).pod)))
$(foreach p,$(MAN_GEN),$(eval $(call man_rule,$(p),$(O)/man/$(p).pod)))

$(O)/man/xenshared-settings.pod: $(O)/bin/xenshared
	@mkdir -p $(@D)
	$(O)/bin/xenshared --print-settings=pod > $@.tmp && mv $@.tmp $@
$(O)/man/xenshared-stats.pod: $(O)/bin/xenshared
	@mkdir -p $(@D)
	$(O)/bin/xenshared --print-stats=pod > $@.tmp && mv $@.tmp $@

# @XENSHARE_<NAME>@ on a line of its own is replaced by
# $(O)/man/xenshared-<name>.pod; an include point of another name is an error.
$(O)/man/%.pod: $(MAN_SRC)/%.pod.in $(MAN_INCLUDES)
	@mkdir -p $(@D)
	awk -v dir=$(O)/man \
	    '/^@XENSHARE_[A-Z]+@$$/ { inc = dir "/xenshared-" tolower(substr($$0, 11, length($$0) - 11)) ".pod"; \
	       if ((getline l < inc) <= 0) { print FILENAME ": no " inc " for " $$0 > "/dev/stderr"; exit 1 } \
	       print l; while ((getline l < inc) > 0) print l; next } { print }' \
	    $< > $@.tmp && mv $@.tmp $@

# The check is a generated script so that `make check-unit` runs it like a unit test.
$(O)/tests/man_check: $(MAN_SRC)/man.mk $(MAN_SRC)/man-check.sh $(MAN_PODS) $(MAN_PAGES)
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec sh %s %s %s %s\n' "$(abspath $(MAN_SRC)/man-check.sh)" \
		"$(abspath tests/golden)" "$(abspath $(O)/man/xenshare-stat.1.pod)" \
		"$(foreach p,$(MAN_PODS),$(abspath $(p)))" > $@
	chmod +x $@
UNIT_TESTS += $(O)/tests/man_check
ALL_TARGETS += $(MAN_PAGES)

.PHONY: man install-man
man: $(MAN_PAGES)

install-man: $(MAN_PAGES)
	for s in 1 5 8; do install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; done
	for p in $(MAN_ALL); do \
		s=$${p##*.}; install -m 0644 $(O)/man/man$$s/$$p $(DESTDIR)$(PREFIX)/share/man/man$$s/$$p; \
	done
INSTALL_RULES += install-man
