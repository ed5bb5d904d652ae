#!/bin/sh
# The drop-in libraries of tools/xensim/client/ (libxenctrl,
# libxenforeignmemory, libxenevtchn, libxenstore, libxendevicemodel) export
# exactly what Debian's Xen 4.17 client libraries export -- same sonames,
# same symbol names in the same version nodes -- so any program linked
# against libxen-dev resolves every symbol against them.  The only addition allowed is the patched
# hypervisor's xc_memshr_compare_share in libxenctrl.  Also checks that the
# committed generated stubs still match the installed libxen-dev.
set -u
. "$(dirname "$0")/common.sh"
need_built "$SIMLIB"
need_tool objdump binutils
need_tool python3
sys=/usr/lib/x86_64-linux-gnu
[ -e "$sys/libxenctrl.so.4.17" ] || fail "Debian's libxenctrl ($sys/libxenctrl.so.4.17) is not installed: Debian package libxen-dev (scripts/packages/client.txt)"

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
"$TOP/tools/xensim/client/gen-stubs.py" --check >/dev/null || {
	echo "generated stubs out of date: run make simlibs-regen"; fail=1; }
exit $fail
