#!/bin/sh
# hypervisor-patch/build.sh - rebuild Debian's Xen 4.17 hypervisor with the
# xenshare patch series (memory sharing on, batched compare-and-share,
# no crash on unshare ENOMEM, AMD SVM opt-in, xl.cfg keys).
#
# Mechanism:
#   1. make sure apt has a deb-src entry (adds a deb822 .sources file copied
#      from the machine's own Debian entries when there is none);
#   2. download Debian's xen source with `apt-get source --download-only`,
#      trying the 4.17 versions `apt-cache showsrc xen` lists, newest first
#      (the newest security upload's source is sometimes missing from the
#      archive: 404), and unpack it once with dpkg-source (Debian's own
#      patches applied) into a pristine tree;
#   3. copy the pristine tree to a build tree and apply the series with
#      `patch -p1` in `series` order (a stamp holding the hash of the
#      series and of every patch makes this idempotent: unchanged series ->
#      tree reused, changed series -> fresh copy);
#   4. hypervisor config = the config Debian's current hypervisor package
#      was built with (boot/xen-4.17-amd64.config of xen-hypervisor-4.17-amd64,
#      fetched with apt-get download + dpkg-deb -x, cached per version) +
#      our config/mem_sharing.config, then `make olddefconfig`, then a check
#      that every fragment line survived (a dropped dependency fails loudly).
#      The package's config, not the source's debian/xen-kconfig: security
#      uploads change the config too (4.17.7 turned shadow paging off for
#      XSA-495), and an older source's debian/xen-kconfig lacks that.
#      debian/xen-kconfig is the fallback when the package can't be fetched;
#   5. `make -C xen` (+ xen.gz); with --tools also ./configure and the
#      libraries and xl.
# Everything lives under the work folder; downloads and trees are cached so
# a second run only re-runs the (incremental) make.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
	cat <<EOF
Usage: $0 [options]

Fetch Debian's Xen 4.17 source, apply the xenshare series and build the
hypervisor (xen/xen, an ELF multiboot image, and xen/xen.gz).

Options:
  -w, --workdir DIR     work/cache folder (default: $repo/build/hvpatch,
                        or \$O/hvpatch when O is set)
  -j, --jobs N          parallel make jobs (default: 2)
      --version V       use this Debian source version only (no fallback)
      --base-config F   base hypervisor config instead of the one of
                        Debian's xen-hypervisor-4.17-amd64 package
      --source-config   base config = the source's debian/xen-kconfig
      --tools           also build the tools (libxenctrl, libxenlight, xl)
      --fetch-only      fetch and unpack Debian's source, print its version,
                        the pristine tree and the package's config (deb.sh)
      --apply-only      fetch and patch, do not configure or build
      --config-only     fetch, patch and configure, do not build
      --fresh           discard the patched tree and start it again
  -h, --help            this text

Prints the source version used and the paths of xen and xen.gz on success.
Needs root only when no deb-src entry exists yet (to add one and run
apt-get update).  Build dependencies: scripts/packages/hvpatch.txt.
EOF
}

die() { echo "hvpatch: error: $*" >&2; exit 1; }
log() { echo "hvpatch: $*" >&2; }

work=
jobs=2
only_version=
base_config=
source_config=0
tools=0
fetch_only=0
apply_only=0
config_only=0
fresh=0
while [ $# -gt 0 ]; do
	case "$1" in
	-w|--workdir) [ $# -ge 2 ] || die "$1 needs an argument"; work=$2; shift 2 ;;
	-j|--jobs) [ $# -ge 2 ] || die "$1 needs an argument"; jobs=$2; shift 2 ;;
	--version) [ $# -ge 2 ] || die "$1 needs an argument"; only_version=$2; shift 2 ;;
	--base-config) [ $# -ge 2 ] || die "$1 needs an argument"; base_config=$2; shift 2 ;;
	--source-config) source_config=1; shift ;;
	--tools) tools=1; shift ;;
	--fetch-only) fetch_only=1; shift ;;
	--apply-only) apply_only=1; shift ;;
	--config-only) config_only=1; shift ;;
	--fresh) fresh=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done
case "$jobs" in ''|*[!0-9]*|0) die "--jobs wants a positive number, got '$jobs'" ;; esac
if [ -z "$work" ]; then
	if [ -n "${O:-}" ]; then work=$O/hvpatch; else work=$repo/build/hvpatch; fi
fi
if [ -n "$base_config" ]; then
	[ -r "$base_config" ] || die "base config '$base_config' is not readable"
	base_config=$(cd "$(dirname "$base_config")" && pwd)/$(basename "$base_config")
fi

series=$here/patches/series
fragment=$here/config/mem_sharing.config
[ -r "$series" ] || die "no series file at $series"
[ -r "$fragment" ] || die "no config fragment at $fragment"
for tool in apt-get apt-cache dpkg-source patch make gcc bison flex python3 sha256sum; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "'$tool' not found; install the packages of scripts/packages/hvpatch.txt (scripts/setup.sh)"
done
mkdir -p "$work/dl" "$work/src" || die "cannot create work folder $work"
work=$(cd "$work" && pwd)

# One run per work folder (fd 8), and one hypervisor/tools make per machine
# (fd 9, taken around the builds only): the machines this runs on have few
# cores, and two Xen builds at once take longer than one after the other.
if command -v flock >/dev/null 2>&1; then
	exec 8>"$work/.lock"
	flock -n 8 || { log "waiting for another build.sh using $work"; flock 8; }
fi
build_lock() {
	command -v flock >/dev/null 2>&1 || return 0
	exec 9>"${TMPDIR:-/tmp}/xenshare-hvpatch-build.lock"
	flock -n 9 || { log "waiting for another hypervisor build on this machine"; flock 9; }
}

# --- 1. deb-src -----------------------------------------------------------
have_debsrc() {
	grep -Eqs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
	grep -Eqs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources && return 0
	return 1
}

add_debsrc() {
	[ "$(id -u)" = 0 ] || die "apt has no deb-src entry; run as root once so one can be added"
	out=/etc/apt/sources.list.d/xenshare-src.sources
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		# Same archives, suites and keys as the machine's binary entries.
		sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$out.new"
	elif grep -Eqs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
		# One-line style: turn every "deb URI SUITE COMPONENTS" into a stanza.
		grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list |
		awk '{ opts = ""; i = 2
		       if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
		       signed = ""
		       if (match(opts, /signed-by=[^] ]*/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
		       printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $i, $(i + 1)
		       for (j = i + 2; j <= NF; j++) printf " %s", $j
		       printf "\n"
		       if (signed != "") printf "Signed-By: %s\n", signed
		       printf "\n" }' >"$out.new"
	else
		die "no Debian entry found in /etc/apt to derive a deb-src entry from"
	fi
	[ -s "$out.new" ] || die "could not derive a deb-src entry (empty $out.new)"
	mv "$out.new" "$out"
	log "added $out"
}

if ! have_debsrc; then
	add_debsrc
	apt-get update -q >&2 || die "apt-get update failed after adding the deb-src entry"
fi
versions=$(apt-cache showsrc xen 2>/dev/null | awk '/^Version:/ { print $2 }')
if [ -z "$versions" ]; then
	[ "$(id -u)" = 0 ] || die "apt-cache showsrc xen lists nothing; run 'apt-get update' as root"
	log "apt-cache showsrc xen lists nothing; running apt-get update"
	apt-get update -q >&2 || die "apt-get update failed"
	versions=$(apt-cache showsrc xen 2>/dev/null | awk '/^Version:/ { print $2 }')
fi
# Only 4.17: the series is written against it.
versions=$(printf '%s\n' $versions | grep -E '^4\.17\.' | sort -u -r -V || true)
if [ -n "$only_version" ]; then
	versions=$only_version
fi
[ -n "$versions" ] || die "apt lists no xen 4.17 source (apt-cache showsrc xen)"

# Print the path of the config Debian's current hypervisor package was
# built with, downloading the package once per version.
package_config() {
	pkg=xen-hypervisor-4.17-amd64
	pver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$pver" ] || return 1
	d=$work/dl/$pkg-$(printf '%s' "$pver" | tr ':' '_')
	if [ ! -r "$d/xen-4.17-amd64.config" ]; then
		rm -rf "$d" "$d.tmp"
		mkdir -p "$d.tmp"
		(cd "$d.tmp" && apt-get download -q "$pkg=$pver" >&2) || { rm -rf "$d.tmp"; return 1; }
		dpkg-deb -x "$d.tmp"/*.deb "$d.tmp/x" >&2 || { rm -rf "$d.tmp"; return 1; }
		mkdir -p "$d"
		cp "$d.tmp/x/boot/xen-4.17-amd64.config" "$d/" || { rm -rf "$d" "$d.tmp"; return 1; }
		rm -rf "$d.tmp"
	fi
	log "base config: $pkg $pver"
	echo "$d/xen-4.17-amd64.config"
}

# --- 2. download + unpack (cached) ---------------------------------------
upstream_of() { printf '%s\n' "$1" | sed -e 's/^[0-9]*://' -e 's/-[^-]*$//'; }

pristine=
used=
# A version unpacked by an earlier run wins: no network needed then.
for v in $versions; do
	if [ -e "$work/src/xen-$v/.xenshare-unpacked" ]; then
		pristine=$work/src/xen-$v/xen-$(upstream_of "$v")
		used=$v
		log "using cached source xen $v"
		break
	fi
done
for v in $versions; do
	[ -z "$used" ] || break
	up=$(upstream_of "$v")
	dir=$work/src/xen-$v
	dsc=$work/dl/xen_$(printf '%s' "$v" | sed 's/^[0-9]*://').dsc
	if [ ! -r "$dsc" ]; then
		log "downloading source xen=$v"
		if ! (cd "$work/dl" && apt-get source -q --download-only "xen=$v" >&2); then
			log "xen=$v could not be downloaded, trying an older version"
			continue
		fi
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! (cd "$dir" && dpkg-source -x "$dsc" "xen-$up" >"$dir.unpack.log" 2>&1); then
		log "xen=$v did not unpack (see $dir.unpack.log), trying an older version"
		rm -rf "$dir"
		continue
	fi
	touch "$dir/.xenshare-unpacked"
	pristine=$dir/xen-$up
	used=$v
	break
done
[ -n "$used" ] || die "no xen 4.17 source version could be fetched (tried: $(echo $versions))"
log "Debian source version: $used"
if [ "$fetch_only" = 1 ]; then
	echo "source: $used"
	echo "pristine: $pristine"
	echo "package-config: $(package_config || true)"
	exit 0
fi

# --- 3. apply the series --------------------------------------------------
patches=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$series")
for p in $patches; do
	[ -r "$here/patches/$p" ] || die "series names $p but patches/$p is missing"
done
# Contents only (not paths): the same series in another checkout reuses the tree.
stamp_now=$( { echo "$used"; for p in $patches; do
	printf "%s " "$p"; sha256sum <"$here/patches/$p"; done; } | sha256sum | cut -d' ' -f1)
tree=$work/tree
if [ "$fresh" = 1 ] || [ ! -e "$tree/.xenshare-series" ] ||
   [ "$(cat "$tree/.xenshare-series")" != "$stamp_now" ]; then
	rm -rf "$tree" "$tree.new"
	cp -a "$pristine" "$tree.new"
	for p in $patches; do
		log "applying $p"
		if ! patch -p1 --forward --batch -s -d "$tree.new" <"$here/patches/$p" >&2; then
			die "patch $p does not apply to Debian's xen $used (tree left at $tree.new)"
		fi
	done
	echo "$stamp_now" >"$tree.new/.xenshare-series"
	mv "$tree.new" "$tree"
else
	log "patched tree up to date ($tree)"
fi
if [ "$apply_only" = 1 ]; then
	echo "source: $used"
	echo "tree: $tree"
	exit 0
fi

# --- 4. config -------------------------------------------------------------
cfg=$tree/xen/.config
if [ -n "$base_config" ]; then
	base=$base_config
elif [ "$source_config" = 0 ] && base=$(package_config); then
	:
else
	[ "$source_config" = 1 ] ||
		log "WARNING: could not fetch xen-hypervisor-4.17-amd64's config; using the source's debian/xen-kconfig"
	base=$tree/debian/xen-kconfig
fi
[ -r "$base" ] || die "no base config at $base"
cat "$base" "$fragment" >"$cfg.want"
if [ ! -e "$cfg" ] || ! cmp -s "$cfg.want" "$cfg.base"; then
	cp "$cfg.want" "$cfg"
	cp "$cfg.want" "$cfg.base"
	make -C "$tree/xen" -s XEN_TARGET_ARCH=x86_64 olddefconfig >&2 ||
		die "make olddefconfig failed"
fi
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$fragment" | while read -r line; do
	grep -qx "$line" "$cfg" ||
		die "config fragment line '$line' did not survive olddefconfig (unmet dependency?)"
done
# Say what differs from the base (the fragment, and symbols the source's
# Kconfig does not know or that EXPERT makes visible).
changed=$(grep -E '^(CONFIG_|# CONFIG_)' "$base" | sort | comm -23 - "$(sort "$cfg" >"$cfg.sorted"; echo "$cfg.sorted")" |
	sed -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set/\1=n/' | tr '\n' ' ')
rm -f "$cfg.sorted"
[ -z "$changed" ] || log "base config lines not kept as they were: $changed"
if [ "$config_only" = 1 ]; then
	echo "source: $used"
	echo "tree: $tree"
	echo "config: $cfg"
	echo "base-config: $base"
	exit 0
fi

# --- 5. build --------------------------------------------------------------
build_lock
start=$(date +%s)
log "building the hypervisor (make -C xen -j$jobs), log: $work/build-xen.log"
if ! make -C "$tree/xen" -j"$jobs" XEN_TARGET_ARCH=x86_64 >"$work/build-xen.log" 2>&1; then
	tail -n 30 "$work/build-xen.log" >&2
	die "hypervisor build failed (full log: $work/build-xen.log)"
fi
# The default goal makes xen$(CONFIG_XEN_INSTALL_SUFFIX), xen.gz on x86;
# asking make for xen.gz again would relink everything (xen is FORCE).
[ -s "$tree/xen/xen" ] || die "the build made no xen/xen (log: $work/build-xen.log)"
if [ ! -s "$tree/xen/xen.gz" ] || [ "$tree/xen/xen" -nt "$tree/xen/xen.gz" ]; then
	gzip -n -9 <"$tree/xen/xen" >"$tree/xen/xen.gz.new" && mv "$tree/xen/xen.gz.new" "$tree/xen/xen.gz" ||
		die "could not write $tree/xen/xen.gz"
fi
log "hypervisor built in $(( $(date +%s) - start )) s"

if [ "$tools" = 1 ]; then
	for tool in autoconf iasl pkg-config; do
		command -v "$tool" >/dev/null 2>&1 ||
			die "--tools needs '$tool'; see the --tools packages in scripts/packages/hvpatch.txt"
	done
	[ -r /usr/share/misc/config.sub ] || die "--tools needs /usr/share/misc/config.sub (autotools-dev)"
	start=$(date +%s)
	log "building the tools (libs + xl), log: $work/build-tools.log"
	(
		cd "$tree"
		if [ ! -e config/Tools.mk ]; then
			# Debian's source ships no generated configure (debian/rules
			# runs dh_autoreconf); generate it as Xen's autogen.sh does.
			if [ ! -x configure ]; then
				cp /usr/share/misc/config.sub /usr/share/misc/config.guess .
				./autogen.sh
			fi
			./configure --disable-docs --disable-stubdom --disable-qemu-traditional \
				--disable-ocamltools --with-system-qemu=/usr/bin/qemu-system-i386 \
				--disable-seabios --disable-ipxe --disable-rombios --disable-pvshim
		fi
		make -j"$jobs" -C tools/include
		make -j"$jobs" -C tools/libs
		make -j"$jobs" -C tools/xl
		make -j"$jobs" -C tools/misc xen-memshare
	) >"$work/build-tools.log" 2>&1 || {
		tail -n 30 "$work/build-tools.log" >&2
		die "tools build failed (full log: $work/build-tools.log)"
	}
	log "tools built in $(( $(date +%s) - start )) s"
	echo "libxenctrl: $tree/tools/libs/ctrl/libxenctrl.so"
	echo "xl: $tree/tools/xl/xl"
fi

echo "source: $used"
echo "xen: $tree/xen/xen"
echo "xen.gz: $tree/xen/xen.gz"
echo "config: $cfg"
echo "base-config: $base"
