#!/bin/sh
# Runs every tests/integration/*.test.sh with O (the build output folder)
# exported.  Each script exits 0 on pass, 77 on skip, other on fail.
# Prints the plain closing line "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${O:?O must name the build folder}"
export O
pass=0 fail=0 skip=0 failed=
for t in "$here"/*.test.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .test.sh)
	echo "== integration: $name"
	if "$t"; then pass=$((pass + 1)); else
		rc=$?
		if [ "$rc" = 77 ]; then skip=$((skip + 1)); echo "   skipped: $name"
		else fail=$((fail + 1)); failed="$failed $name"; echo "   FAILED: $name (exit $rc)"; fi
	fi
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ -z "$failed" ] || { echo "failed:$failed"; exit 1; }
