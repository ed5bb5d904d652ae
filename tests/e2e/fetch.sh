#!/bin/sh
# Download and unpack the Debian packages the guest-side of the e2e needs.
#
# Xen userland (xl, xenstored, xenconsoled, xen-init-dom0, xenstore-*), its
# runtime libraries, the Debian kernel that `linux-image-amd64` resolves to
# (dom0 and guest kernel, with the xen-* modules) and busybox-static are
# fetched with `apt-get download` into $E2E_CACHE/debs and unpacked with
# `dpkg-deb -x` into $E2E_ROOT -- never into the host's root.  A stamp file
# lists the exact versions unpacked; when it matches, nothing is downloaded
# again (warm cache).  Prints the path of the unpacked root on stdout.
set -eu
. "$(dirname "$0")/common.sh"

# The kernel package is named by ABI (linux-image-6.1.0-NN-amd64): take the
# one Debian's meta package depends on today.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
[ -n "$kpkg" ] || e2e_die "apt-cache cannot resolve linux-image-amd64 (run apt-get update?)"

pkgs="xen-utils-4.17 xen-utils-common xenstore-utils
	libxenmisc4.17 libxenstore4 libxencall1 libxenevtchn1
	libxenforeignmemory1 libxengnttab1 libxendevicemodel1 libxenhypfs1
	libxentoolcore1 libxentoollog1
	libyajl2 $kpkg busybox-static"

# Resolve every name to "name=version" (one apt-cache call) so the stamp
# pins exact versions.
want=$(apt-cache policy $pkgs 2>/dev/null | awk '
	/^[^ ]/ { p = $1; sub(/:$/, "", p); sub(/:amd64$/, "", p) }
	/^  Candidate:/ && $2 != "(none)" { print p "=" $2 }')
for p in $pkgs; do
	printf '%s\n' $want | grep -q "^$p=" || e2e_die "apt knows no package $p (run apt-get update?)"
done
stamp=$E2E_CACHE/root.stamp
want_sorted=$(printf '%s\n' $want | sort)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_sorted" ] && [ -d "$E2E_ROOT" ]; then
	e2e_log "packages cached: $E2E_ROOT"
	echo "$E2E_ROOT"
	exit 0
fi

mkdir -p "$E2E_CACHE/debs"
cd "$E2E_CACHE/debs"
for pv in $want; do
	p=${pv%%=*} v=${pv#*=}
	# .deb file names escape ':' of the epoch as %3a
	vf=$(printf '%s' "$v" | sed 's/:/%3a/')
	if ls "${p}_${vf}_"*.deb >/dev/null 2>&1; then continue; fi
	e2e_log "downloading $p $v"
	apt-get download -q "$pv" >>"$E2E_CACHE/download.log" 2>&1 || e2e_die "apt-get download $pv failed"
done

rm -rf "$E2E_ROOT.new"
mkdir -p "$E2E_ROOT.new"
for pv in $want; do
	p=${pv%%=*} v=${pv#*=}
	vf=$(printf '%s' "$v" | sed 's/:/%3a/')
	for deb in "${p}_${vf}_"*.deb; do
		dpkg-deb -x "$deb" "$E2E_ROOT.new" || e2e_die "dpkg-deb -x $deb failed"
	done
done
rm -rf "$E2E_ROOT"
mv "$E2E_ROOT.new" "$E2E_ROOT"
printf '%s\n' "$want_sorted" >"$stamp"
e2e_log "packages unpacked: $E2E_ROOT"
echo "$E2E_ROOT"
