# make deb: a Debian package of the installed files (scripts/mkdeb.sh),
# versioned by the file VERSION (XENSHARE_VERSION, top Makefile), with
# the packaging files of scripts/deb/.  DEB_MAINTAINER is its Maintainer
# field (the project's maintainers unless a packager sets their own).
DEB_MAINTAINER ?= xenshare maintainers <maintainers@users.noreply.h-seed-f25d2494.example>

.PHONY: deb
deb: all
	rm -rf $(O)/deb/root
	$(MAKE) --no-print-directory O=$(O) install DESTDIR=$(abspath $(O))/deb/root PREFIX=/usr
	scripts/mkdeb.sh $(O)/deb/root $(O)/deb $(XENSHARE_VERSION) '$(DEB_MAINTAINER)'
