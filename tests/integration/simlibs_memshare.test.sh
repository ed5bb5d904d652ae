#!/bin/sh
# Debian's own xen-memshare (xen-utils-4.17, unchanged binary) run against a
# xensim host through the drop-in libraries (LD_LIBRARY_PATH=$O/simlib):
# every command behaves as on Xen 4.17 and moves the hypervisor's counters
# as xensim reports them (`xensim info --json`).
#
# The package is fetched with `apt-get download` into $O/debcache and
# unpacked there, never installed.  Skips (77) only when it cannot be had.
#
# Reminder when reading the expectations: xen-memshare prints the freed
# count as "used" and the used count as "freed", and its messages for the
# two handle errors are swapped too (errno 10 = XENMEM_SHARING_OP_S_HANDLE_
# INVALID prints "problem with client handle").  Those are the tool's bugs,
# reproduced faithfully.
set -u
. "$(dirname "$0")/common.sh"
need_built "$XENSIM" "$SIMLIB"
need_tool apt-get apt
need_tool dpkg-deb dpkg

# ---- fetch xen-memshare -----------------------------------------------------
cache="$O/debcache"
MS=$(find "$cache/x" -name xen-memshare -type f 2>/dev/null | head -1)
if [ -z "$MS" ]; then
	mkdir -p "$cache" && rm -rf "$cache/x" "$cache"/xen-utils-4.17_*.deb
	# the version matching the installed libraries first, else the candidate
	ver=$(dpkg-query -W -f='${Version}' libxenmisc4.17 2>/dev/null || true)
	( cd "$cache" && { [ -n "$ver" ] && apt-get download -q "xen-utils-4.17=$ver" ||
			   apt-get download -q xen-utils-4.17; } ) >"$cache/download.log" 2>&1
	deb=$(ls "$cache"/xen-utils-4.17_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || skip "cannot download xen-utils-4.17: $(tail -3 "$cache/download.log")"
	dpkg-deb -x "$deb" "$cache/x" || fail "dpkg-deb -x $deb failed"
	MS=$(find "$cache/x" -name xen-memshare -type f | head -1)
	[ -n "$MS" ] || fail "no xen-memshare in $deb"
fi

# A sanitizer build of the libraries (VARIANT=san) needs its runtimes loaded
# first in a program that was not built with them; xen-memshare never closes
# its interface, so leak reports would be about the tool, not about us.
preload=$(ldd "$O/simlib/libxenctrl.so.4.17" | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')
ms() {
	LD_PRELOAD="$preload" ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
		LD_LIBRARY_PATH="$O/simlib" "$MS" "$@"
}
info_num() { "$XENSIM" info --json | grep -o "\"$1\": [0-9]*" | head -1 | grep -o '[0-9]*$'; }
# shr NAME: shr_pages of domain NAME
shr() { "$XENSIM" info --json | grep -o "\"name\": \"$1\", \"domid\": [0-9]*, \"tot_pages\": [0-9]*, \"shr_pages\": [0-9]*" |
	grep -o '[0-9]*$'; }
counters() { echo "freed=$(info_num sharing_freed_pages) used=$(info_num sharing_used_frames)"; }
expect_counters() {
	got=$(counters)
	[ "$got" = "$1" ] || fail "$2: counters $got, expected $1"
	"$XENSIM" info --json | grep -q '"invariant_ok": true' || fail "$2: sum(shr_pages) != freed + used"
}
handle_of() { sed -n 's/^handle = \(0x[0-9a-f]*\)$/\1/p' "$1"; }

"$XENSIM" start --mem 512 --dom0-mem 64 --debug-build --pidfile "$T/pid" >"$T/start.out" ||
	fail "start: $(cat "$T/start.out")"
printf 'name = "src"\ntype = "pvh"\nmemory = 16\nmaxmem = 32\n' >"$T/g.cfg"
"$XENSIM" create "$T/g.cfg" >/dev/null 2>&1 || fail "create src"
"$XENSIM" create "$T/g.cfg" name=dst >/dev/null 2>&1 || fail "create dst"
"$XENSIM" create "$T/g.cfg" name=pvg type=pv >/dev/null 2>&1 || fail "create pvg"
ids=$("$XENSIM" list --json | grep -o '"name": "[a-z]*", "domid": [0-9]*' | sed 's/.*"name": "\([a-z]*\)", "domid": \([0-9]*\)/\1=\2/')
eval "$ids" 2>/dev/null
src=${src:?no src id}; dst=${dst:?no dst id}; pvg=${pvg:?no pvg id}

# info: both counters zero (printed with the tool's swapped labels)
ms info >"$T/out" 2>&1 || fail "info: $(cat "$T/out")"
[ "$(cat "$T/out")" = "$(printf 'used = 0\nfreed = 0')" ] || fail "info printed: $(cat "$T/out")"

# enable / disable: PVH fine; PV has no HAP, as on Xen
ms enable "$src" >"$T/out" 2>&1 || fail "enable src: $(cat "$T/out")"
ms enable "$dst" >"$T/out" 2>&1 || fail "enable dst: $(cat "$T/out")"
if ms enable "$pvg" >"$T/out" 2>&1; then fail "sharing enabled on a PV guest"; fi
grep -q "error executing xc_memshr_control" "$T/out" || fail "enable pv: $(cat "$T/out")"

# nominate: a handle each; the frames become shared (used), nothing saved yet
ms nominate "$src" 5 >"$T/n1" 2>&1 || fail "nominate src 5: $(cat "$T/n1")"
ms nominate "$dst" 5 >"$T/n2" 2>&1 || fail "nominate dst 5: $(cat "$T/n2")"
h1=$(handle_of "$T/n1"); h2=$(handle_of "$T/n2")
[ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" != "$h2" ] || fail "handles '$h1' '$h2'"
expect_counters "freed=0 used=2" "after two nominates"
# a hole cannot be nominated
if ms nominate "$dst" 100000 >"$T/out" 2>&1; then fail "nominated a hole"; fi
grep -q "Invalid argument" "$T/out" || fail "nominate hole: $(cat "$T/out")"

# share: one frame saved; the same pair again is "already shared": success
ms share "$dst" 5 "$h2" "$src" 5 "$h1" >"$T/out" 2>&1 || fail "share: $(cat "$T/out")"
expect_counters "freed=1 used=1" "after share"
[ "$(shr src)" = 1 ] && [ "$(shr dst)" = 1 ] || fail "shr_pages src $(shr src) dst $(shr dst)"
ms share "$dst" 5 "$h2" "$src" 5 "$h1" >"$T/out" 2>&1 || fail "share again: $(cat "$T/out")"
ms info >"$T/out" 2>&1
[ "$(cat "$T/out")" = "$(printf 'used = 1\nfreed = 1')" ] || fail "info after share: $(cat "$T/out")"

# stale handles: errno 10 (source) and 9 (client), labels swapped by the tool
ms nominate "$src" 6 >"$T/n1" 2>&1 && ms nominate "$dst" 6 >"$T/n2" 2>&1 || fail "nominate gfn 6"
h1=$(handle_of "$T/n1"); h2=$(handle_of "$T/n2")
if ms share "$dst" 6 "$h2" "$src" 6 12345678 >"$T/out" 2>&1; then fail "share with a bad source handle"; fi
grep -q "problem with client handle" "$T/out" || fail "bad source handle: $(cat "$T/out")"
if ms share "$dst" 6 12345678 "$src" 6 "$h1" >"$T/out" 2>&1; then fail "share with a bad client handle"; fi
grep -q "problem with source handle" "$T/out" || fail "bad client handle: $(cat "$T/out")"
expect_counters "freed=1 used=3" "after failed shares"

# unshare (a writable foreign mapping): dst's gfn 5 gets its own frame again
ms unshare "$dst" 5 >"$T/out" 2>&1 || fail "unshare: $(cat "$T/out")"
expect_counters "freed=0 used=3" "after unshare"
[ "$(shr dst)" = 1 ] || fail "dst shr_pages after unshare: $(shr dst)"

# add-to-physmap: a hole of dst (above its memory, below maxmem) gets src's frame
ms nominate "$src" 7 >"$T/n1" 2>&1 || fail "nominate src 7"
h1=$(handle_of "$T/n1")
ms add-to-physmap "$dst" 5000 "$src" 7 "$h1" >"$T/out" 2>&1 || fail "add-to-physmap: $(cat "$T/out")"
expect_counters "freed=1 used=4" "after add-to-physmap"
if ms add-to-physmap "$dst" 3 "$src" 7 "$h1" >"$T/out" 2>&1; then
	fail "add-to-physmap onto a populated gfn"
fi
ms debug-gfn "$src" 7 >"$T/out" 2>&1 || fail "debug-gfn: $(cat "$T/out")"

# range: refused unless both domains are paused; then shares gfns 100..199
if ms range "$src" "$dst" 100 199 >"$T/out" 2>&1; then fail "range on running domains"; fi
"$XENSIM" pause src && "$XENSIM" pause dst || fail "pause"
ms range "$src" "$dst" 100 199 >"$T/out" 2>&1 || fail "range: $(cat "$T/out")"
"$XENSIM" unpause src && "$XENSIM" unpause dst || fail "unpause"
expect_counters "freed=101 used=104" "after range"

# audit (debug build of the hypervisor) and disable
ms audit >"$T/out" 2>&1 || fail "audit: $(cat "$T/out")"
grep -q "Audit returned 0 errors" "$T/out" || fail "audit: $(cat "$T/out")"
ms disable "$src" >"$T/out" 2>&1 || fail "disable: $(cat "$T/out")"

# no guest can read anything but what it wrote
"$XENSIM" verify >"$T/out" 2>&1 || fail "verify: $(cat "$T/out")"
echo "xen-memshare ($MS) behaves as on Xen against xensim"
exit 0
