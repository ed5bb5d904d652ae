# make deb: a Debian package of the installed files (scripts/mkdeb.sh).
XENSHARE_VERSION := 0.1
.PHONY: deb
deb: all
	rm -rf $(O)/deb/root
	$(MAKE) --no-print-directory O=$(O) install DESTDIR=$(abspath $(O))/deb/root PREFIX=/usr
	scripts/mkdeb.sh $(O)/deb/root $(O)/deb $(XENSHARE_VERSION)
