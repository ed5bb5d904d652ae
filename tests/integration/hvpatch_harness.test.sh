#!/bin/sh
# hvpatch_harness: the user-space harness (tests/unit/cmpshr_ut.c) tests
# the hypervisor code the patch series adds only if its copy of that code
# is the patch's.  Checks that hypervisor-patch/harness/mem_sharing_batch.{c,h}
# are byte-identical to the files patch 0002 adds to xen/arch/x86/mm/, and
# that the public structure block of harness/include/emul.h matches the
# lines the patch adds to xen/include/public/memory.h.  No network, no build.
set -eu
. "$(dirname "$0")/common.sh"
hp=$TOP/hypervisor-patch
tmp=$T
fail=0

patch=$(grep -l '^+++ b/xen/arch/x86/mm/mem_sharing_batch.c$' "$hp"/patches/*.patch || true)
[ -n "$patch" ] || { echo "no patch in $hp/patches adds xen/arch/x86/mm/mem_sharing_batch.c"; exit 1; }
[ "$(printf '%s\n' "$patch" | wc -l)" = 1 ] || { echo "several patches touch mem_sharing_batch.c:" $patch; exit 1; }

# The content of a file the patch adds (a single "@@ -0,0 +1,N @@" hunk).
added_file() {
	awk -v path="$2" '
		$0 == "+++ b/" path { grab = 1; next }
		grab && /^@@ / { inhunk = 1; next }
		grab && inhunk && /^\+/ { print substr($0, 2); next }
		grab && inhunk { exit }
	' "$1"
}

for f in mem_sharing_batch.c mem_sharing_batch.h; do
	added_file "$patch" "xen/arch/x86/mm/$f" >"$tmp/$f"
	if [ ! -s "$tmp/$f" ]; then
		echo "FAIL: $(basename "$patch") does not add xen/arch/x86/mm/$f"; fail=1
	elif ! cmp -s "$tmp/$f" "$hp/harness/$f"; then
		echo "FAIL: harness/$f differs from the file $(basename "$patch") adds:"
		diff -u "$tmp/$f" "$hp/harness/$f" | head -n 20
		fail=1
	else
		echo "ok: harness/$f is the patch's xen/arch/x86/mm/$f"
	fi
done

# Public structures: every line between the markers of emul.h must be an
# added line of the patch, in the same order.
sed -n '/^\/\* BEGIN public\/memory.h \*\//,/^\/\* END public\/memory.h \*\//p' \
	"$hp/harness/include/emul.h" | sed '1d;$d' >"$tmp/emul-block"
[ -s "$tmp/emul-block" ] || { echo "FAIL: no BEGIN/END public/memory.h block in emul.h"; exit 1; }
sed -n 's/^+//p' "$patch" >"$tmp/added"
if awk 'NR == FNR { want[++n] = $0; next }
	i < n && $0 == want[i + 1] { i++ }
	END { exit !(i == n) }' "$tmp/emul-block" "$tmp/added"; then
	echo "ok: emul.h's public/memory.h block matches the patch"
else
	echo "FAIL: emul.h's public/memory.h block is not what $(basename "$patch") adds to memory.h"
	fail=1
fi
exit $fail
