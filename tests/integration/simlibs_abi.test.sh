#!/bin/sh
# The drop-in libraries of tools/xensim/client/ (libxenctrl,
# libxenforeignmemory, libxenevtchn, libxenstore, libxendevicemodel) export
# exactly what Debian's Xen 4.17 client libraries export -- same sonames,
# same symbol names in the same version nodes -- so any program linked
# against libxen-dev resolves every symbol against them.  The only addition allowed is the patched
# hypervisor's xc_memshr_compare_share in libxenctrl.  Also checks that the
# committed generated stubs still match the installed libxen-dev.
set -u
: "${O:?O must name the build folder}"
root=$(cd "$(dirname "$0")/../.." && pwd)
sys=/usr/lib/x86_64-linux-gnu

# Build the libraries if the top-level build did not (client.mk is one
# directory deeper than the Makefile's */*/*.mk include).
if [ ! -e "$O/simlib/libxenstore.so.4" ] || [ ! -e "$O/simlib/libxendevicemodel.so.1" ]; then
	if make -C "$root" -n O="$O" VARIANT="${VARIANT:-release}" simlibs >/dev/null 2>&1; then
		make -C "$root" -s O="$O" VARIANT="${VARIANT:-release}" simlibs >&2 || exit 1
	else
		make -C "$root" -s -f Makefile -f tools/xensim/client/client.mk \
			O="$O" VARIANT="${VARIANT:-release}" simlibs >&2 || exit 1
	fi
fi

command -v objdump >/dev/null || { echo "objdump missing"; exit 77; }
[ -e "$sys/libxenctrl.so.4.17" ] || { echo "Debian's libxenctrl not installed"; exit 77; }

exports() {
	objdump -T "$1" | awk '$0 !~ /\*UND\*/ && NF >= 6 { print $(NF-1), $NF }' | sort
}

fail=0
for pair in libxenctrl.so.4.17 libxenforeignmemory.so.1 libxenevtchn.so.1 libxenstore.so.4 \
	libxendevicemodel.so.1; do
	ours=$O/simlib/$pair
	[ -e "$ours" ] || { echo "missing $ours"; fail=1; continue; }
	soname=$(objdump -p "$ours" | awk '$1 == "SONAME" { print $2 }')
	if [ "$soname" != "$pair" ]; then
		echo "$pair: SONAME is '$soname'"
		fail=1
	fi
	exports "$sys/$pair" > "$O/simlibs_abi.want"
	exports "$ours" > "$O/simlibs_abi.got"
	diff=$(diff "$O/simlibs_abi.want" "$O/simlibs_abi.got" | grep '^[<>]' |
		grep -v '^> VERS_4.17.0 xc_memshr_\(compare_share\|enomem_waiters\|enomem_resume\)$')
	if [ -n "$diff" ]; then
		echo "$pair: exports differ from Debian's (< Debian only, > ours only):"
		echo "$diff"
		fail=1
	else
		echo "$pair: $(wc -l < "$O/simlibs_abi.got") exports match Debian's"
	fi
done
rm -f "$O/simlibs_abi.want" "$O/simlibs_abi.got"

# The committed stubs and version scripts must match the installed libxen-dev.
if command -v python3 >/dev/null; then
	"$root/tools/xensim/client/gen-stubs.py" --check >/dev/null || {
		echo "generated stubs out of date: run make simlibs-regen"; fail=1; }
fi
exit $fail
