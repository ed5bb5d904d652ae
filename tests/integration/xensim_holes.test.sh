#!/bin/sh
# Guests have holes in their p2m below their highest gfn, where libxl
# leaves them: an HVM guest's VGA window 0xa0000-0xbffff, the MMIO hole
# below 4 GiB of a guest larger than 3840 MiB (HVM) or 4032 MiB (PVH),
# whose RAM goes on from 4 GiB.  Seen through the drop-in libraries (as a
# daemon sees them): a map fails per hole page (-EINVAL in err[]), the rest
# maps, nominating a hole is EINVAL; `xensim info` counts holes apart from
# RAM; a core of `xl dump-core` keeps its holes (the pages it does not
# list are holes of the guest), and a core page in a hole is refused with
# the gfn, while a raw image's data there (pmemsave's VGA RAM) is left out
# and logged; a saved and restored HVM guest saves to the same bytes.  Exit 0 pass, 77 skip, else fail.
set -u
. "$(dirname "$0")/common.sh"
PROBE="$O/tests/simlibs_probe"
[ -x "$PROBE" ] || skip "$PROBE not built"
command -v python3 >/dev/null || skip "python3 (writes the dump-core files) not installed"
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim_holes.XXXXXX")
export XENSIM_SOCKET="$T/host.sock"
trap '"$XENSIM" stop >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; [ -f "$T/host.sock.log" ] && tail -5 "$T/host.sock.log"; exit 1; }
preload=$(ldd "$SIMLIB/libxenctrl.so.4.17" | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')
probe() {
	LD_PRELOAD="$preload" ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
		LD_LIBRARY_PATH="$SIMLIB" "$PROBE" "$@"
}
info_of() { "$XENSIM" info --json | jq -r ".domains[] | select(.name == \"$1\") | .$2"; }
# core FILE PFN...: an ELF core as tools/libs/guest/xg_core.c writes one for
# an HVM guest (.xen_pages, .xen_pfn), page i holding byte 0x41 + i % 64
core() {
	python3 - "$@" <<'EOF'
import struct, sys
PG = 4096
path, pfns = sys.argv[1], [int(x, 0) for x in sys.argv[2:]]
names = b'\0.shstrtab\0.xen_pages\0.xen_pfn\0'
nr, names_off, shoff, pages_off = len(pfns), 64, 256, PG
map_off = pages_off + nr * PG
eh = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
eh += struct.pack('<HHIQQQIHHHHHH', 4, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 4, 1)
def sh(name, typ, off, size):
    return struct.pack('<IIQQQQIIQQ', name, typ, 0, 0, off, size, 0, 0, 1, 0)
m = bytearray(map_off + nr * 8)
m[0:64] = eh
m[names_off:names_off + len(names)] = names
shdrs = sh(0, 0, 0, 0) + sh(1, 3, names_off, len(names)) + sh(11, 1, pages_off, nr * PG) + \
    sh(22, 1, map_off, nr * 8)
m[shoff:shoff + len(shdrs)] = shdrs
for i, pfn in enumerate(pfns):
    m[pages_off + i * PG:pages_off + (i + 1) * PG] = bytes([0x41 + i % 64]) * PG
    m[map_off + i * 8:map_off + i * 8 + 8] = struct.pack('<Q', pfn)
open(path, 'wb').write(m)
EOF
}

"$XENSIM" start --mem 4608 --dom0-mem 64 >/dev/null || fail "start"

# an HVM guest of 1 MiB: RAM 0-0x9f and 0xc0-0xff, the VGA window a hole
printf 'name = "h"\ntype = "hvm"\nmemory = 1\n' >"$T/h.cfg"
"$XENSIM" create "$T/h.cfg" >/dev/null 2>&1 || fail "create h"
h=$(domid_of h)
[ "$(info_of h tot_pages)" = 224 ] && [ "$(info_of h holes)" = 32 ] ||
	fail "h: $("$XENSIM" info --json | jq -c '.domains[] | select(.name == "h")')"
probe holes "$h" 0 256 >"$T/p" || fail "probe holes: $(cat "$T/p")"
jq -e '.holes == [[160, 191]] and .mapped == 224 and .nominate_hole == 22' "$T/p" >/dev/null ||
	fail "h's holes through the drop-in libraries: $(cat "$T/p")"

# a PVH guest of 4100 MiB (generated memory: cheap): RAM beyond 0xFC000000 at 4 GiB
printf 'name = "big"\ntype = "pvh"\nmemory = 4100\nsim_generated = "zero=0.5,unique=0.5"\n' >"$T/big.cfg"
"$XENSIM" create "$T/big.cfg" >/dev/null 2>&1 || fail "create big"
big=$(domid_of big)
[ "$(info_of big tot_pages)" = $((4100 * 256)) ] && [ "$(info_of big holes)" = 16384 ] &&
	[ "$(info_of big nr_gfns)" = $((0x100000 + 68 * 256 + 1)) ] ||
	fail "big: $("$XENSIM" info --json | jq -c '.domains[] | select(.name == "big")')"
probe holes "$big" $((0xfbff0)) $((0x4020)) >"$T/p" || fail "probe holes big: $(cat "$T/p")"
jq -e '.holes == [[1032192, 1048575]] and .mapped == 32 and .nominate_hole == 22' "$T/p" >/dev/null ||
	fail "big's MMIO hole: $(cat "$T/p")"
"$XENSIM" destroy big || fail "destroy big"

# a core keeps its holes: an HVM guest's core without pfns 10, 11 (and the VGA window)
pfns=$(awk 'BEGIN { for (i = 0; i < 256; i++) if ((i < 160 || i >= 192) && i != 10 && i != 11) printf "%d ", i }')
# shellcheck disable=SC2086
core "$T/c.core" $pfns || fail "writing the core"
"$XENSIM" create "$T/h.cfg" name=c sim_core="$T/c.core" >"$T/e" 2>&1 || fail "create c: $(cat "$T/e")"
c=$(domid_of c)
[ "$(info_of c holes)" = 34 ] && [ "$(info_of c tot_pages)" = 222 ] ||
	fail "c: $("$XENSIM" info --json | jq -c '.domains[] | select(.name == "c")')"
probe holes "$c" 0 256 >"$T/p" || fail "probe holes c: $(cat "$T/p")"
jq -e '.holes == [[10, 11], [160, 191]]' "$T/p" >/dev/null || fail "c's holes: $(cat "$T/p")"
"$XENSIM" verify >/dev/null || fail "verify with c"

# a core's page in a hole is refused, with the gfn
core "$T/bad.core" 0 1 165 || fail "writing the core"
"$XENSIM" create "$T/h.cfg" name=bad sim_core="$T/bad.core" >"$T/e" 2>&1 && fail "a core with data in the VGA window was accepted"
grep -q "gfn 0xa5 holds data but is a hole" "$T/e" || fail "core in a hole: $(cat "$T/e")"
head -c $((0xa5 * 4096)) /dev/zero >"$T/bad.raw"
printf 'x' >>"$T/bad.raw"
head -c 4095 /dev/zero >>"$T/bad.raw"
[ -z "$(domid_of bad)" ] || fail "a refused guest exists"
# a raw image reads guest-physical memory, VGA RAM included: not guest RAM, left out
"$XENSIM" create "$T/h.cfg" name=vga sim_image="$T/bad.raw" >"$T/e" 2>&1 || fail "image with VGA RAM: $(cat "$T/e")"
grep -q "vga): 1 image pages with data lie in holes of its layout (the first at gfn 0xa5)" \
	"$T/host.sock.log" || fail "the host's log says nothing of the VGA page: $(tail -3 "$T/host.sock.log")"
[ "$(info_of vga holes)" = 32 ] || fail "vga's holes: $(info_of vga holes)"
"$XENSIM" destroy vga || fail "destroy vga"

# save, restore, save: the same image, the holes where they were
"$XENSIM" save --checkpoint c "$T/c.img" >"$T/e" 2>&1 || fail "save c: $(cat "$T/e")"
"$XENSIM" create "$T/h.cfg" name=r sim_image="$T/c.img" >"$T/e" 2>&1 || fail "restore: $(cat "$T/e")"
[ "$(info_of r holes)" = 32 ] || fail "r's holes: $(info_of r holes)"
"$XENSIM" save --checkpoint r "$T/r.img" >"$T/e" 2>&1 || fail "save r: $(cat "$T/e")"
cmp -s "$T/c.img" "$T/r.img" || fail "the restored guest saves to other bytes"
"$XENSIM" verify >/dev/null || fail "verify at the end"
echo "ok"
