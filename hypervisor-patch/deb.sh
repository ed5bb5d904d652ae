#!/bin/sh
# hypervisor-patch/deb.sh - Debian's Xen 4.17 packages with the xenshare
# series, built the Debian way (`make hv-deb`).
#
# Mechanism:
#   1. build.sh --fetch-only finds, downloads and unpacks Debian's xen
#      source (its deb-src handling, version choice and cache); the
#      pristine tree it prints (Debian's own patches applied by dpkg-source,
#      their quilt state in .pc) is copied to a packaging tree;
#   2. the series is added to Debian's quilt series after Debian's own
#      patches, as debian/patches/xenshare/<patch>, and pushed with quilt
#      one patch at a time: one that does not apply stops the run naming
#      the patch, the file and the hunk that failed, and the packaging tree
#      is removed: nothing is built, nothing installed;
#   3. debian/xen-kconfig, the config Debian's rules copy to xen/.config
#      before `make olddefconfig`, becomes the config Debian's current
#      hypervisor package was built with (as build.sh's: security uploads
#      change the config too) followed by config/mem_sharing.config;
#   4. a changelog entry: version <Debian's>+xenshare<REV>, which sorts just
#      above the version it patches and below Debian's next upload of that
#      version; same distribution as Debian's entry; it names the patches
#      and the series' hash (series-hash.sh);
#   5. dpkg-buildpackage -B -uc -us: the architecture-dependent packages
#      (xen-hypervisor-4.17-amd64, xen-utils-4.17, libxenmisc4.17 with the
#      patched libxenctrl, xenstore-utils, libxen-dev and the stable
#      libraries), DEB_BUILD_OPTIONS nocheck; then every fragment line must
#      be in the hypervisor package's /boot/xen-*.config (olddefconfig drops
#      a line whose dependency is unmet, silently);
#   6. lintian on the .debs: no error, and no warning that is not
#      overridden with its reason: Debian's own overrides, and ours of
#      hypervisor-patch/debian/ (appended in step 3 to the file of the same
#      name in Debian's debian/, a *.vsn-in one being Debian's template for
#      a versioned package name).
# The packages land in <work>/deb/; installing them is the operator's
# (docs/operations.md, "Patched Xen packages").
#
# --pristine DIR (with --base-config FILE) and --patches DIR skip the
# fetch and take another series
# (the failure report's test, tests/integration/hvdeb_apply.test.sh);
# --apply-only stops after step 3.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
REV=1   # the +xenshare<REV> of the package version; raised with the series

usage() {
	cat <<EOF
Usage: $0 [options]

Build Debian's Xen 4.17 packages with the xenshare series as quilt patches
(version <Debian's>+xenshare$REV) into <workdir>/deb/.  Installs nothing.

Options:
  -w, --workdir DIR     work/cache folder, shared with build.sh (default:
                        $repo/build/hvpatch, or \$O/hvpatch when O is set)
  -j, --jobs N          parallel jobs (default: 2)
      --version V       use this Debian source version only
      --pristine DIR    an unpacked Debian xen source to package (no fetch)
      --base-config F   with --pristine: the hypervisor config to start from
                        (default: the source's debian/xen-kconfig)
      --patches DIR     the series to add (default: $here/patches)
      --apply-only      stop once the series is pushed and the config added
  -h, --help            this text

Build dependencies: apt-get build-dep on the source (the error says the
command), plus quilt and lintian.
EOF
}

die() { echo "hv-deb: error: $*" >&2; exit 1; }
log() { echo "hv-deb: $*" >&2; }

work= jobs=2 version= pristine= base= patchdir=$here/patches apply_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	-w|--workdir) [ $# -ge 2 ] || die "$1 needs an argument"; work=$2; shift 2 ;;
	-j|--jobs) [ $# -ge 2 ] || die "$1 needs an argument"; jobs=$2; shift 2 ;;
	--version) [ $# -ge 2 ] || die "$1 needs an argument"; version=$2; shift 2 ;;
	--pristine) [ $# -ge 2 ] || die "$1 needs an argument"; pristine=$2; shift 2 ;;
	--base-config) [ $# -ge 2 ] || die "$1 needs an argument"; base=$2; shift 2 ;;
	--patches) [ $# -ge 2 ] || die "$1 needs an argument"; patchdir=$2; shift 2 ;;
	--apply-only) apply_only=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done
case "$jobs" in ''|*[!0-9]*|0) die "--jobs wants a positive number, got '$jobs'" ;; esac
if [ -z "$work" ]; then
	if [ -n "${O:-}" ]; then work=$O/hvpatch; else work=$repo/build/hvpatch; fi
fi
for tool in quilt dpkg-parsechangelog; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (packages quilt, dpkg-dev)"
done
[ -r "$patchdir/series" ] || die "no series file at $patchdir/series"
fragment=$here/config/mem_sharing.config
[ -r "$fragment" ] || die "no config fragment at $fragment"
mkdir -p "$work" || die "cannot create work folder $work"
work=$(cd "$work" && pwd)

# --- 1. the pristine source ------------------------------------------------
if [ -z "$pristine" ]; then
	fetched=$("$here/build.sh" -w "$work" ${version:+--version "$version"} --fetch-only) ||
		die "could not fetch Debian's xen source (build.sh --fetch-only)"
	pristine=$(printf '%s\n' "$fetched" | sed -n 's/^pristine: //p')
	base=$(printf '%s\n' "$fetched" | sed -n 's/^package-config: //p')
fi
[ -r "$pristine/debian/changelog" ] || die "$pristine is not an unpacked Debian source (no debian/changelog)"
pristine=$(cd "$pristine" && pwd)
debver=$(dpkg-parsechangelog -l "$pristine/debian/changelog" -S Version)
dist=$(dpkg-parsechangelog -l "$pristine/debian/changelog" -S Distribution)
newver=$debver+xenshare$REV
out=$work/deb
tree=$out/$(basename "$pristine")
rm -rf "$out"
mkdir -p "$out"
cp -a "$pristine" "$tree" || die "cannot copy $pristine to $tree"
# from here on, a failure leaves no half-made tree and no package
trap 'rm -rf "$tree"' EXIT

# --- 2. the series, after Debian's ---------------------------------------
export QUILT_PATCHES=debian/patches QUILT_PC=.pc
touch "$tree/debian/patches/series"
# Debian's own patches are applied already (dpkg-source -x); a tree
# without quilt state gets them pushed first (2: nothing left to push)
rc=0
(cd "$tree" && quilt push -a -q) >"$out/quilt.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 2 ] || die "Debian's own patches do not apply: $(tail -n 3 "$out/quilt.log" | tr '\n' ' ')"
patches=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$patchdir/series")
[ -n "$patches" ] || die "$patchdir/series names no patch"
mkdir -p "$tree/debian/patches/xenshare"
for p in $patches; do
	[ -r "$patchdir/$p" ] || die "series names $p but $patchdir/$p is missing"
	cp "$patchdir/$p" "$tree/debian/patches/xenshare/$p"
	echo "xenshare/$p" >>"$tree/debian/patches/series"
done
for p in $patches; do
	if ! (cd "$tree" && quilt push) >"$out/quilt.log" 2>&1; then
		failed=$(awk '/^patching file /{ f = $3 }
			/^Hunk #[0-9]+ FAILED at /{ h = $2; sub(/^#/, "", h); l = $5; sub(/\.$/, "", l)
				printf "%s%s: hunk %s failed (at line %s)", sep, f, h, l; sep = "; " }
			/can.t find file to patch/{ printf "%sa file it patches does not exist", sep; sep = "; " }' \
			"$out/quilt.log")
		die "patch xenshare/$p does not apply to Debian's xen $debver: ${failed:-$(tail -n 3 "$out/quilt.log" | tr '\n' ' ')} (quilt's words: $out/quilt.log)"
	fi
	log "applied xenshare/$p"
done

# --- 3. the config fragment through Debian's kconfig ---------------------
[ -r "$tree/debian/xen-kconfig" ] || die "Debian's source has no debian/xen-kconfig"
if [ -n "$base" ]; then
	[ -r "$base" ] || die "the package's config $base is not readable"
	cp "$base" "$tree/debian/xen-kconfig"
	log "base config: $base"
else
	log "no config of Debian's hypervisor package: the source's debian/xen-kconfig"
fi
{ echo "# xenshare: hypervisor-patch/config/mem_sharing.config"; cat "$fragment"; } >>"$tree/debian/xen-kconfig"
for f in "$here"/debian/*; do
	[ -f "$f" ] || continue
	cat "$f" >>"$tree/debian/$(basename "$f")"
done

# --- 4. the changelog entry ------------------------------------------------
# (the series' hash names what the packages carry: the e2e compares it)
series_hash=$("$here/series-hash.sh" "$patchdir") || die "cannot hash the series of $patchdir"
maint=${DEB_MAINTAINER:-xenshare maintainers <maintainers@users.noreply.h-seed-f25d2494.example>}
{
	echo "xen ($newver) $dist; urgency=medium"
	echo
	echo "  * Memory sharing for xenshare: the series of hypervisor-patch/ added"
	echo "    as debian/patches/xenshare/, after Debian's patches:"
	for p in $patches; do echo "    - $p"; done
	echo "  * debian/xen-kconfig: hypervisor-patch/config/mem_sharing.config."
	echo "  * xenshare series, sha256:"
	echo "    $series_hash"
	echo
	echo " -- $maint  $(LC_ALL=C date -R)"
	echo
	cat "$pristine/debian/changelog"
} >"$tree/debian/changelog"
if [ "$apply_only" = 1 ]; then
	trap - EXIT
	echo "version: $newver"
	echo "tree: $tree"
	exit 0
fi

# --- 5. build --------------------------------------------------------------
if ! (cd "$tree" && dpkg-checkbuilddeps) >"$out/builddeps.log" 2>&1; then
	die "build dependencies missing: $(sed -n 's/.*Unmet build dependencies: //p' "$out/builddeps.log"); as root: apt-get build-dep '$tree'"
fi
command -v lintian >/dev/null 2>&1 || die "'lintian' not found (package lintian)"
start=$(date +%s)
log "dpkg-buildpackage -B of xen $newver (log: $out/build.log)"
# the distribution's tools only: a python3 or compiler earlier in an
# operator's PATH (pyenv, /usr/local) must not end up in the packages
if ! (cd "$tree" && PATH=/usr/sbin:/usr/bin:/sbin:/bin DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
	dpkg-buildpackage -B -uc -us) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	rm -f "$out"/*.deb
	die "dpkg-buildpackage failed (full log: $out/build.log)"
fi
log "packages built in $(( $(date +%s) - start )) s"
hyp=$(ls "$out"/xen-hypervisor-4.17-amd64_"$newver"_*.deb 2>/dev/null | head -n1)
[ -n "$hyp" ] || die "no xen-hypervisor-4.17-amd64 $newver package in $out"
rm -rf "$out/check"
dpkg-deb -x "$hyp" "$out/check"
cfg=$(ls "$out"/check/boot/xen-*.config | head -n1)
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$fragment" | while read -r line; do
	grep -qx "$line" "$cfg" || die "config fragment line '$line' is not in the package's $(basename "$cfg")"
done
rm -rf "$out/check"

# --- 6. lintian ------------------------------------------------------------
if ! lintian --fail-on error,warning "$out"/*.deb >"$out/lintian.log" 2>&1; then
	grep -E '^(E|W):' "$out/lintian.log" >&2 || cat "$out/lintian.log" >&2
	die "lintian reports errors or warnings not overridden (log: $out/lintian.log)"
fi
trap - EXIT
echo "version: $newver"
ls "$out"/*.deb
