#!/bin/sh
# Runs every tests/integration/*.test.sh with O (the build output folder)
# and VARIANT exported.  Each script exits 0 on pass, 77 on skip, other on
# fail.  Prints the plain closing line "N passed, N failed".
#
# A script carrying the line "# xenshare-test: release-only" runs only in
# the release variant: it builds or boots things (the hypervisor, QEMU)
# where a sanitizer build of our code adds nothing but time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${O:?O must name the build folder}"
export O
pass=0 fail=0 skip=0 failed=
for t in "$here"/*.test.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .test.sh)
	if [ "${VARIANT:-release}" != release ] && grep -q '^# xenshare-test: release-only' "$t"; then
		echo "== integration: $name (release variant only, skipped)"
		skip=$((skip + 1))
		continue
	fi
	echo "== integration: $name"
	t0=$(date +%s)
	if "$t"; then pass=$((pass + 1)); echo "   ok: $name ($(($(date +%s) - t0)) s)"; else
		rc=$?
		if [ "$rc" = 77 ]; then skip=$((skip + 1)); echo "   skipped: $name"
		else fail=$((fail + 1)); failed="$failed $name"; echo "   FAILED: $name (exit $rc, $(($(date +%s) - t0)) s)"; fi
	fi
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ -z "$failed" ] || { echo "failed:$failed"; exit 1; }
