#!/bin/sh
# Builds a Debian package of xenshare from a `make install` tree.
#
#   scripts/mkdeb.sh ROOT OUTDIR VERSION MAINTAINER
#
# ROOT is a DESTDIR into which `make install PREFIX=/usr` has installed
# xenshared, xenshare-stat, xenshare-estimate, the unit, the default config,
# the man pages and the monitoring rules and dashboard (/usr/share/xenshare).
# Depends is computed from the binaries' direct shared libraries (NEEDED;
# the Debian package owning each), so the package asks for the same
# libxen/libxxhash/libsystemd/libjson-c/libzstd the build used.
#
# What debhelper would do for a package of this shape, done here because
# there is no debian/ source package: binaries stripped (dh_strip), man
# pages compressed (dh_compress), the copyright and a changelog in
# /usr/share/doc/xenshare, the lintian overrides (scripts/deb/, each with its
# reason), the unit enabled and started by maintainer scripts in
# dh_installsystemd's manner (scripts/deb/postinst, prerm, postrm), the
# default config a conffile (dpkg keeps an operator's edits on upgrade) and
# md5sums.  `lintian` finds no error in the result (deb.test.sh).
set -eu
root=$1 out=$2 version=$3 maintainer=$4
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$root/usr/sbin/xenshared" ] || { echo "mkdeb: $root has no usr/sbin/xenshared (make install PREFIX=/usr first)" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# direct dependencies only (NEEDED), resolved where the dynamic linker would
needed=$(for b in "$root"/usr/sbin/* "$root"/usr/bin/*; do objdump -p "$b"; done |
	awk '$1 == "NEEDED" { print $2 }' | sort -u)
# (ldd: ldconfig's cache also lists other ABIs' copies, e.g. libx32's
# libc.so.6 of libc6-x32, and the first match is not the one loaded)
resolved=$(for b in "$root"/usr/sbin/* "$root"/usr/bin/*; do ldd "$b"; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u)
deps=
for n in $needed; do
	l=$(echo "$resolved" | awk -v n="$n" '$1 == n { print $2; exit }')
	[ -n "$l" ] || { echo "mkdeb: cannot resolve $n (ldd)" >&2; exit 1; }
	real=$(readlink -f "$l")
	pkg=$(dpkg -S "$l" 2>/dev/null || dpkg -S "$real" 2>/dev/null || true)
	pkg=${pkg%%:*}
	[ -n "$pkg" ] || { echo "mkdeb: no package owns $l" >&2; exit 1; }
	case " $deps " in *" $pkg "*) ;; *) deps="$deps $pkg" ;; esac
done
depends=$(echo $deps | sed 's/ /, /g')

mkdir -p "$root/DEBIAN" "$out"
for b in "$root"/usr/sbin/* "$root"/usr/bin/*; do
	strip --remove-section=.comment --remove-section=.note --strip-unneeded "$b"
done
find "$root" -path "$root/DEBIAN" -prune -o -name '*.[158]' -type f -print | xargs -r gzip -9nf

doc=$root/usr/share/doc/xenshare
install -d "$doc" "$root/usr/share/lintian/overrides"
install -m 0644 "$here/deb/copyright" "$doc/copyright"
install -m 0644 "$here/deb/lintian-overrides" "$root/usr/share/lintian/overrides/xenshare"
# a native package's changelog: one entry for this VERSION, dated by
# SOURCE_DATE_EPOCH or the last commit, so a rebuild is the same package
when=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
cat >"$doc/changelog" <<CHANGELOG
xenshare ($version) bookworm; urgency=medium

  * xenshare $version, built by make deb from the source tree.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$when")
CHANGELOG
gzip -9nf "$doc/changelog"

for s in postinst prerm postrm; do
	install -m 0755 "$here/deb/$s" "$root/DEBIAN/$s"
done
cat >"$root/DEBIAN/control" <<CONTROL
Package: xenshare
Version: $version
Architecture: $arch
Maintainer: $maintainer
Section: admin
Priority: optional
Depends: $depends
Description: memory deduplication for Xen hosts
 xenshared finds identical pages across guests in dom0 and has the
 hypervisor share them copy-on-write (Xen memory sharing); xenshare-stat
 shows the savings and xenshare-estimate predicts them from memory dumps.
 Needs a hypervisor built with memory sharing (see hypervisor-patch/).
 Prometheus rules and a Grafana dashboard for a fleet of hosts are in
 /usr/share/xenshare.
CONTROL
echo /etc/xen/xenshared.conf >"$root/DEBIAN/conffiles"
# conffiles are left out, as dh_md5sums does: dpkg tracks them itself
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs -r md5sum) >"$root/DEBIAN/md5sums"
deb="$out/xenshare_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
