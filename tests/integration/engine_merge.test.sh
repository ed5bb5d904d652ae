#!/bin/sh
# engine_merge: the engine's scan and verify+share steps through its API
# (shr-engine-merge, linked with libshare) against real xensim hosts:
# identical pages only, the sharer cap, a page another tool maps (E2BIG),
# a share lost to a same-bytes rewrite, a client frame spanning a third
# domain on both protocols (no host panic), groups kept apart, modes zero
# and off, a domain removed mid-pass, the pass schedule after an idle
# engine.  Each case checks the hypervisor's counters, the engine's audit
# and xensim's oracle (verify).  The unit tests prove the same reactions
# against an in-process fake; this proves them against xensim's model.
set -u
. "$(dirname "$0")/common.sh"
PROG="$O/bin/shr-engine-merge"
need_built "$XENSIM" "$SIMLIB" "$PROG"
out="$T/merge.out"
if "$PROG" >"$out" 2>&1; then
	grep -E '^ +(tests|asserts) ' "$out"
	echo "PASS: engine_merge"
else
	rc=$?
	grep -v 'passed$' "$out" | tail -40
	echo "FAIL: engine_merge (shr-engine-merge exit $rc)"
	exit 1
fi
