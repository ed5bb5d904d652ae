#!/bin/sh
# hvdeb_apply: `make hv-deb` (hypervisor-patch/deb.sh) on a source its
# series does not apply to stops naming the patch, the file and the hunk,
# and leaves no packaging tree; on one it applies to, the series follows
# Debian's own in debian/patches/series, debian/xen-kconfig is the
# package's config and the fragment, and the changelog's new version is Debian's
# +xenshare<N>.  A small Debian-shaped source stands in for Xen's (the
# real one is checked by hvpatch_build), so this runs in seconds.
set -eu
. "$(dirname "$0")/common.sh"
need_tool quilt quilt
need_tool dpkg-parsechangelog dpkg-dev

src=$T/src/toy-1.0
mkdir -p "$src/debian/patches" "$T/good" "$T/bad"
printf 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n' >"$src/a.c"
printf 'CONFIG_HVM=y\n' >"$src/debian/xen-kconfig"
: >"$src/debian/patches/series"
cat >"$src/debian/changelog" <<'EOF'
xen (1.0-1) bookworm; urgency=medium

  * Toy.

 -- Someone <someone@example.org>  Mon, 07 Dec 2026 10:00:00 +0000
EOF
cat >"$T/good/0001-two.patch" <<'EOF'
--- a/a.c
+++ b/a.c
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
EOF
# hunk 1 applies, hunk 2 does not (no line "sept")
cat >"$T/bad/0002-late.patch" <<'EOF'
--- a/a.c
+++ b/a.c
@@ -3,3 +3,3 @@
 three
-four
+FOUR
 five
@@ -6,3 +6,3 @@
 six
-sept
+SEPT
 eight
EOF
cp "$T/good/0001-two.patch" "$T/bad/"
echo 0001-two.patch >"$T/good/series"
printf '0001-two.patch\n0002-late.patch\n' >"$T/bad/series"

fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

# the series that does not apply
rc=0
"$TOP/hypervisor-patch/deb.sh" -w "$T/w-bad" --pristine "$src" --patches "$T/bad" \
	>"$T/bad.out" 2>"$T/bad.err" || rc=$?
cat "$T/bad.err"
check "a failing patch exits non-zero" '[ "$rc" != 0 ]'
check "the error names the patch" 'grep -q "patch xenshare/0002-late.patch does not apply" "$T/bad.err"'
check "the error names the file and the hunk" 'grep -q "a.c: hunk 2 failed (at line 6)" "$T/bad.err"'
check "the patch before it was applied" 'grep -q "applied xenshare/0001-two.patch" "$T/bad.err"'
check "no packaging tree is left" '[ ! -e "$T/w-bad/deb/toy-1.0" ]'
check "no package is made" '! ls "$T"/w-bad/deb/*.deb >/dev/null 2>&1'
check "the pristine source is untouched" 'grep -qx two "$src/a.c" && [ ! -s "$src/debian/patches/series" ]'

# the series that applies, over the config of Debian's hypervisor package
printf 'CONFIG_HVM=y\nCONFIG_SHADOW_PAGING=n\n' >"$T/package.config"
"$TOP/hypervisor-patch/deb.sh" -w "$T/w-good" --pristine "$src" --patches "$T/good" \
	--base-config "$T/package.config" --apply-only \
	>"$T/good.out" 2>"$T/good.err" || { cat "$T/good.err"; echo "FAIL: deb.sh --apply-only"; exit 1; }
tree=$(sed -n 's/^tree: //p' "$T/good.out")
check "the tree is named" '[ -n "$tree" ] && [ -d "$tree" ]'
check "the patch is applied" 'grep -qx TWO "$tree/a.c"'
check "the series ends with ours" '[ "$(tail -n1 "$tree/debian/patches/series")" = xenshare/0001-two.patch ]'
check "quilt knows it applied" '(cd "$tree" && QUILT_PATCHES=debian/patches quilt applied | grep -q xenshare/0001-two.patch)'
check "debian/xen-kconfig starts with the package's config" \
	'[ "$(head -n2 "$tree/debian/xen-kconfig")" = "$(cat "$T/package.config")" ]'
check "the config fragment ends debian/xen-kconfig" \
	'tail -n1 "$tree/debian/xen-kconfig" | grep -qx "$(grep -v "^#" "$TOP/hypervisor-patch/config/mem_sharing.config" | grep . | tail -n1)"'
ver=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)
check "the version is Debian's +xenshare<N> ($ver)" 'echo "$ver" | grep -Eq "^1\.0-1\+xenshare[0-9]+$"'
check "it sorts above Debian's" 'dpkg --compare-versions "$ver" gt 1.0-1'
check "and below Debian's next upload" 'dpkg --compare-versions "$ver" lt 1.0-2'
check "the version is the one printed" 'grep -qx "version: $ver" "$T/good.out"'
check "the entry names the series' hash" \
	'grep -A1 -x "  \* xenshare series, sha256:" "$tree/debian/changelog" | grep -qx "    $("$TOP/hypervisor-patch/series-hash.sh" "$T/good")"'
check "no changelog entry line over 80 characters (lintian)" '[ "$(head -n 20 "$tree/debian/changelog" | awk "/^  / && length > 80" | wc -l)" = 0 ]'
check "another series has another hash" \
	'[ "$("$TOP/hypervisor-patch/series-hash.sh" "$T/good")" != "$("$TOP/hypervisor-patch/series-hash.sh" "$T/bad")" ]'
exit $fail
