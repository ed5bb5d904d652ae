#!/bin/sh
# `make deb` builds a package that holds the daemon, the tools, the unit,
# the default config as a conffile, the man pages, the copyright, a
# changelog and the monitoring rules and dashboard, and depends on the
# Debian packages of the libraries the binaries link (libxenmisc4.17 for
# libxenctrl among them), so `apt install ./xenshare_*.deb` pulls in the
# runtime the build used.  Its version is the file VERSION.  Beyond that:
# `lintian` reports no error on it (its warnings are overridden, each with
# a reason, in scripts/deb/lintian-overrides); `man` finds every page where
# the package puts it; the maintainer scripts enable the unit on a first
# installation, keep an operator's `systemctl disable` on upgrade, stop it
# on removal and purge its state, in dh_installsystemd's manner.
# run-all: alone: runs make in this tree
set -u
. "$(dirname "$0")/common.sh"
need_tool dpkg-deb dpkg
cd "$TOP" || fail "cd $TOP"
out=$(make --no-print-directory O="$O" deb 2>"$O/deb.err" | grep '\.deb$' | tail -n 1) || fail "make deb: $(tail -5 "$O/deb.err")"
[ -f "$out" ] || fail "make deb printed '$out', not a package"
list=$(dpkg-deb -c "$out") || fail "dpkg-deb -c"
for f in ./usr/sbin/xenshared ./usr/bin/xenshare-stat ./usr/bin/xenshare-estimate \
	 ./lib/systemd/system/xenshared.service ./etc/xen/xenshared.conf \
	 ./usr/share/man/man8/xenshared.8.gz ./usr/share/man/man1/xenshare-stat.1.gz \
	 ./usr/share/man/man5/xenshared.conf.5.gz \
	 ./usr/share/xenshare/prometheus/xenshare.rules.yml ./usr/share/xenshare/grafana/xenshare.json \
	 ./usr/share/doc/xenshare/copyright ./usr/share/doc/xenshare/changelog.gz \
	 ./usr/share/lintian/overrides/xenshare; do
	echo "$list" | grep -q " $f\$" || fail "package lacks $f"
done
dpkg-deb --ctrl-tarfile "$out" | tar -xO ./conffiles | grep -qx /etc/xen/xenshared.conf ||
	fail "xenshared.conf is not a conffile"
version=$(cat VERSION)
[ "$(dpkg-deb -f "$out" Version)" = "$version" ] || fail "package version $(dpkg-deb -f "$out" Version), VERSION says $version"
deps=$(dpkg-deb -f "$out" Depends)
for p in libc6 libxenmisc4.17 libxenforeignmemory1 libxenstore4 libsystemd0; do
	echo "$deps" | grep -q "\\(^\\|, \\)$p\\(,\\|$\\)" || fail "Depends lacks $p: $deps"
done
# only the native ABI's libraries (not libc6-x32, libc6-i386, ...)
echo "$deps" | grep -q "x32\\|i386" && fail "Depends names another ABI's library: $deps"

# lintian: errors fail; the warnings it still has must be overridden
command -v lintian >/dev/null || fail "lintian not installed (scripts/packages/deb.txt)"
lintian --fail-on error,warning "$out" >"$O/deb.lintian" 2>&1 ||
	fail "lintian: $(grep -E '^[EW]:' "$O/deb.lintian" | head -20)"
grep -E '^[EW]:' "$O/deb.lintian" && fail "lintian reported the above"
# and the hardening Debian's build flags give (reported as infos only)
lintian -I "$out" 2>/dev/null | grep -E '^I: .*hardening-' && fail "lintian: binaries not hardened (above)"

work=$(mktemp -d) || fail "mktemp"
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$out" "$work/root" || fail "dpkg-deb -x"
dpkg-deb -e "$out" "$work/ctrl" || fail "dpkg-deb -e"

# man finds each page in the man hierarchy the package installs
for p in 8:xenshared 5:xenshared.conf 5:xl-mem-sharing 1:xenshare-stat 1:xenshare-estimate; do
	page=$(man -M "$work/root/usr/share/man" -w "${p%%:*}" "${p#*:}" 2>&1) ||
		fail "man does not find ${p#*:}(${p%%:*}): $page"
	case $page in "$work/root/usr/share/man/"*) ;; *) fail "man found ${p#*:} at $page, not in the package" ;; esac
done

# maintainer scripts against recording stand-ins for deb-systemd-helper,
# deb-systemd-invoke and systemctl; was-enabled answers from $work/enabled
mkdir "$work/bin"
for c in deb-systemd-helper deb-systemd-invoke systemctl; do
	cat >"$work/bin/$c" <<STUB
#!/bin/sh
echo "$c \$*" >>"$work/calls"
[ "$c \$*" != "deb-systemd-helper --quiet was-enabled xenshared.service" ] || [ -e "$work/enabled" ]
STUB
	chmod +x "$work/bin/$c"
done
run_script() {
	rm -f "$work/calls"
	PATH="$work/bin:$PATH" sh -e "$work/ctrl/$1" "$2" "$3" || fail "$1 $2 $3: exit $?"
	cat "$work/calls" 2>/dev/null
}
touch "$work/enabled"
calls=$(run_script postinst configure "")
echo "$calls" | grep -qx 'deb-systemd-helper enable xenshared.service' ||
	fail "postinst configure (first installation) does not enable the unit: $calls"
rm "$work/enabled"
calls=$(run_script postinst configure "$version")
echo "$calls" | grep -q 'enable xenshared.service' &&
	fail "postinst configure (upgrade of a disabled unit) enables it again: $calls"
echo "$calls" | grep -qx 'deb-systemd-helper update-state xenshared.service' ||
	fail "postinst configure (upgrade) does not update the unit's state: $calls"
calls=$(run_script postrm purge "")
echo "$calls" | grep -qx 'deb-systemd-helper purge xenshared.service' ||
	fail "postrm purge does not purge the unit's state: $calls"
calls=$(run_script postrm remove "")
echo "$calls" | grep -qx 'deb-systemd-helper mask xenshared.service' ||
	fail "postrm remove does not mask the unit: $calls"
echo "deb: ok ($(basename "$out"), Depends: $deps; lintian: no error or warning not overridden)"
