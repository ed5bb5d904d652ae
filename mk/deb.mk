# make deb: a Debian package of the installed files (scripts/mkdeb.sh),
# versioned by the file VERSION (XENSHARE_VERSION, top Makefile).
.PHONY: deb
deb: all
	rm -rf $(O)/deb/root
	$(MAKE) --no-print-directory O=$(O) install DESTDIR=$(abspath $(O))/deb/root PREFIX=/usr
	scripts/mkdeb.sh $(O)/deb/root $(O)/deb $(XENSHARE_VERSION)
