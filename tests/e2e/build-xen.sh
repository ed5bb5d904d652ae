#!/bin/sh
# Provide the hypervisor image the e2e boots; prints its path on stdout.
#
# The hypervisor is built by the project's own hypervisor-patch/build.sh
# (Debian's Xen 4.17 source + the xenshare series + CONFIG_MEM_SHARING),
# into $E2E_CACHE/hvpatch so the download, the unpacked source and the
# object files are reused between runs.  When the series adds the batched
# compare-and-share op (its libxenctrl wrapper is named in
# hypervisor-patch/include/xenshare_cmpshr.h), the tools are built too and
# the patched libxenctrl's path is written to $E2E_WORK/xen.libxenctrl
# (mkinitrd.sh gives it to the daemon only), and the patched xl's path
# (patch 0006's mem_sharing keys) to $E2E_WORK/xen.xl; otherwise both
# files are empty.
# E2E_XEN=/path/to/xen skips the build and uses that image as it is
# (E2E_LIBXENCTRL=/path/to/libxenctrl.so with it: its patched libxenctrl).
# E2E_HV_DEBS=/folder/of/.debs takes both from the packages `make hv-deb`
# built (xen-hypervisor-4.17-amd64: its /boot/xen-*.gz unpacked;
# libxenmisc4.17: its libxenctrl), unpacked with dpkg-deb, and the patched
# xl of xen-utils-4.17 with the packages' libraries; when the changelog's
# series hash is this checkout's (hypervisor-patch/series-hash.sh),
# $E2E_WORK/xen.from-series says so (the steps that would panic an
# unpatched hypervisor run then, as with build.sh's).
# A lock file serialises concurrent harness runs (one Xen build at a time).
set -eu
. "$(dirname "$0")/common.sh"

mkdir -p "$E2E_CACHE" "$E2E_WORK"
: >"$E2E_WORK/xen.from-series"
: >"$E2E_WORK/xen.xl-libs"
if [ -n "${E2E_HV_DEBS:-}" ]; then
	x=$E2E_WORK/hv-debs
	rm -rf "$x"
	for pkg in xen-hypervisor-4.17-amd64 libxenmisc4.17 xen-utils-4.17 libxencall1 libxendevicemodel1 \
		libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenstore4 libxentoolcore1 \
		libxentoollog1; do
		deb=$(ls "$E2E_HV_DEBS/${pkg}_"*.deb 2>/dev/null | head -n1)
		[ -n "$deb" ] || e2e_die "E2E_HV_DEBS=$E2E_HV_DEBS has no $pkg package (make hv-deb)"
		dpkg-deb -x "$deb" "$x" || e2e_die "dpkg-deb -x $deb failed"
	done
	gz=$x/boot/xen-4.17-amd64.gz
	[ -r "$gz" ] || e2e_die "xen-hypervisor-4.17-amd64 has no /boot/xen-4.17-amd64.gz"
	gzip -dc "$gz" >"$E2E_WORK/xen.from-deb" || e2e_die "cannot unpack $gz"
	E2E_XEN=$E2E_WORK/xen.from-deb
	E2E_LIBXENCTRL=$(ls "$x"/usr/lib/*/libxenctrl.so.4.17* 2>/dev/null | head -n1)
	[ -n "$E2E_LIBXENCTRL" ] || e2e_die "libxenmisc4.17 has no libxenctrl.so.4.17"
	want=$("$E2E_TOP/hypervisor-patch/series-hash.sh")
	have=$(zcat "$x/usr/share/doc/xen-hypervisor-4.17-amd64/changelog.Debian.gz" 2>/dev/null |
		sed -n '/^  \* xenshare series, sha256:$/{n;s/^ *//;p;q}')
	if [ "$have" = "$want" ]; then
		echo yes >"$E2E_WORK/xen.from-series"
	else
		e2e_log "the packages carry series ${have:-(none)}, this checkout $want: the steps that need this series are skipped"
	fi
	e2e_log "hypervisor, libraries and xl from the packages of $E2E_HV_DEBS (series: ${have:-unknown})"
fi
if [ -n "${E2E_XEN:-}" ]; then
	[ -r "$E2E_XEN" ] || e2e_die "E2E_XEN=$E2E_XEN is not readable"
	# E2E_LIBXENCTRL: the patched libxenctrl that goes with that image.
	if [ -n "${E2E_LIBXENCTRL:-}" ]; then
		[ -r "$E2E_LIBXENCTRL" ] || e2e_die "E2E_LIBXENCTRL=$E2E_LIBXENCTRL is not readable"
		echo "$E2E_LIBXENCTRL" >"$E2E_WORK/xen.libxenctrl"
	else
		: >"$E2E_WORK/xen.libxenctrl"
	fi
	if [ -n "${E2E_HV_DEBS:-}" ]; then
		echo "$x/usr/lib/xen-4.17/bin/xl" >"$E2E_WORK/xen.xl"
		echo "$(dirname "$E2E_LIBXENCTRL")" >"$E2E_WORK/xen.xl-libs"
	else
		: >"$E2E_WORK/xen.xl"
	fi
	echo "$E2E_XEN"
	exit 0
fi
script=$E2E_TOP/hypervisor-patch/build.sh
[ -x "$script" ] || e2e_die "no hypervisor build script at $script"
tools=
# The tools tree of hypervisor-patch/build.sh, whose xl mkinitrd.sh takes.
tree_xl=$E2E_CACHE/hvpatch/tree/tools/xl/xl
# Writes $E2E_WORK/xen.xl: the patched xl when the tools were built.
note_xl() {
	if [ -n "$tools" ] && [ -x "$tree_xl" ]; then
		echo "$tree_xl" >"$E2E_WORK/xen.xl"
		echo yes >"$E2E_WORK/xen.from-series"
	else
		: >"$E2E_WORK/xen.xl"
	fi
}
if grep -qs 'xc_memshr_compare_share' "$E2E_TOP"/hypervisor-patch/patches/*.patch; then
	tools=--tools
fi
# Xen's make relinks on every call (~30 s here): skip it when nothing
# hypervisor-patch/build.sh uses changed since the image was built.
key=$(cd "$E2E_TOP" && find hypervisor-patch/build.sh hypervisor-patch/patches hypervisor-patch/config \
	-type f ! -name '*~' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
key="$key $tools"
if [ -f "$E2E_CACHE/xen.key" ] && [ "$(cat "$E2E_CACHE/xen.key")" = "$key" ] &&
   [ -r "$E2E_CACHE/xen.image" ] && [ -f "$E2E_CACHE/xen.libxenctrl" ]; then
	e2e_log "hypervisor-patch/ unchanged: reusing $E2E_CACHE/xen.image"
	cp "$E2E_CACHE/xen.libxenctrl" "$E2E_WORK/xen.libxenctrl"
	note_xl
	echo "$E2E_CACHE/xen.image"
	exit 0
fi
log=$E2E_CACHE/build-xen.log
e2e_log "building the hypervisor${tools:+ and tools} with $script (log: $log)"
start=$(date +%s)
# shellcheck disable=SC2086
if ! flock "$E2E_CACHE/build-xen.lock" "$script" -w "$E2E_CACHE/hvpatch" -j 2 $tools >"$log.out" 2>"$log"; then
	tail -n 30 "$log" >&2
	e2e_die "hypervisor build failed (log: $log)"
fi
xen=$(sed -n 's/^xen: //p' "$log.out" | tail -n1)
[ -n "$xen" ] && [ -r "$xen" ] || e2e_die "build script printed no readable 'xen:' path (see $log.out)"
lib=
if [ -n "$tools" ]; then
	lib=$(sed -n 's/^libxenctrl: //p' "$log.out" | tail -n1)
	[ -n "$lib" ] && [ -r "$lib" ] || e2e_die "build script printed no readable 'libxenctrl:' path (see $log.out)"
	cp -L "$lib" "$E2E_CACHE/libxenctrl.patched.so"
	lib=$E2E_CACHE/libxenctrl.patched.so
fi
cp "$xen" "$E2E_CACHE/xen.image"
echo "$lib" >"$E2E_CACHE/xen.libxenctrl"
echo "$key" >"$E2E_CACHE/xen.key"
cp "$E2E_CACHE/xen.libxenctrl" "$E2E_WORK/xen.libxenctrl"
note_xl
e2e_log "hypervisor ready in $(( $(date +%s) - start )) s: $xen${lib:+ (patched libxenctrl: $lib)}"
echo "$E2E_CACHE/xen.image"
