#!/bin/sh
# Builds a Debian package of xenshare from a `make install` tree.
#
#   scripts/mkdeb.sh ROOT OUTDIR VERSION
#
# ROOT is a DESTDIR into which `make install PREFIX=/usr` has installed
# xenshared, xenshare-stat, xenshare-estimate, the unit, the default config
# and the man pages.  Depends is computed from the binaries' direct
# shared libraries (NEEDED; the Debian package owning each), so the package asks for the
# same libxen/libxxhash/libsystemd/libjson-c/libzstd the build used.  The
# default config is a conffile: dpkg keeps an operator's edits on upgrade.
set -eu
root=$1 out=$2 version=$3
[ -x "$root/usr/sbin/xenshared" ] || { echo "mkdeb: $root has no usr/sbin/xenshared (make install PREFIX=/usr first)" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# direct dependencies only (NEEDED), resolved where the dynamic linker would
needed=$(for b in "$root"/usr/sbin/* "$root"/usr/bin/*; do objdump -p "$b"; done |
	awk '$1 == "NEEDED" { print $2 }' | sort -u)
deps=
for n in $needed; do
	l=$(/sbin/ldconfig -p | awk -v n="$n" '$1 == n && /x86-64|x32|64bit/ { print $NF; exit }')
	[ -n "$l" ] || l=$(/sbin/ldconfig -p | awk -v n="$n" '$1 == n { print $NF; exit }')
	[ -n "$l" ] || { echo "mkdeb: cannot resolve $n" >&2; exit 1; }
	real=$(readlink -f "$l")
	pkg=$(dpkg -S "$l" 2>/dev/null || dpkg -S "$real" 2>/dev/null || true)
	pkg=${pkg%%:*}
	[ -n "$pkg" ] || { echo "mkdeb: no package owns $l" >&2; exit 1; }
	case " $deps " in *" $pkg "*) ;; *) deps="$deps $pkg" ;; esac
done
depends=$(echo $deps | sed 's/ /, /g')

mkdir -p "$root/DEBIAN" "$out"
find "$root" -path "$root/DEBIAN" -prune -o -name '*.[158]' -type f -print | xargs -r gzip -9nf
cat >"$root/DEBIAN/control" <<CONTROL
Package: xenshare
Version: $version
Architecture: $arch
Maintainer: xenshare developers <xenshare@localhost>
Section: admin
Priority: optional
Depends: $depends
Description: memory deduplication for Xen hosts
 xenshared finds identical pages across guests in dom0 and has the
 hypervisor share them copy-on-write (Xen memory sharing); xenshare-stat
 shows the savings and xenshare-estimate predicts them from memory dumps.
 Needs a hypervisor built with memory sharing (see hypervisor-patch/).
CONTROL
echo /etc/xen/xenshared.conf >"$root/DEBIAN/conffiles"
deb="$out/xenshare_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
