#!/bin/sh
# xenshare-test: release-only
# `make deb` builds a package that holds the daemon, the tools, the unit,
# the default config as a conffile and the man pages, and depends on the
# Debian packages of the libraries the binaries link (libxenmisc4.17 for
# libxenctrl among them), so `apt install ./xenshare_*.deb` pulls in the
# runtime the build used.  Its version is the file VERSION.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
cd "$top" || exit 1
out=$(make --no-print-directory O="$O" deb 2>"$O/deb.err" | grep '\.deb$' | tail -n 1) || fail "make deb: $(tail -5 "$O/deb.err")"
[ -f "$out" ] || fail "make deb printed '$out', not a package"
list=$(dpkg-deb -c "$out") || fail "dpkg-deb -c"
for f in ./usr/sbin/xenshared ./usr/bin/xenshare-stat ./usr/bin/xenshare-estimate \
	 ./lib/systemd/system/xenshared.service ./etc/xen/xenshared.conf \
	 ./usr/share/man/man8/xenshared.8.gz ./usr/share/man/man1/xenshare-stat.1.gz \
	 ./usr/share/man/man5/xenshared.conf.5.gz; do
	echo "$list" | grep -q " $f\$" || fail "package lacks $f"
done
dpkg-deb --ctrl-tarfile "$out" | tar -xO ./conffiles | grep -qx /etc/xen/xenshared.conf ||
	fail "xenshared.conf is not a conffile"
version=$(cat VERSION)
[ "$(dpkg-deb -f "$out" Version)" = "$version" ] || fail "package version $(dpkg-deb -f "$out" Version), VERSION says $version"
deps=$(dpkg-deb -f "$out" Depends)
for p in libxenmisc4.17 libxenforeignmemory1 libxenstore4 libsystemd0; do
	echo "$deps" | grep -q "\\b$p\\b" || fail "Depends lacks $p: $deps"
done
echo "deb: ok ($(basename "$out"), Depends: $deps)"
