#!/bin/sh
# man-check.sh GOLDEN_DIR STAT_POD "POD..." - the man page checks of `make check-unit`:
#  1. podchecker reports neither an error nor a warning on any page;
#  2. xenshare-stat(1) explains every number xenshare-stat prints: each
#     column of the golden table, each summary line, each JSON key and each
#     Prometheus metric of the golden outputs appears in it.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -u
golden=$1 statpod=$2 pods=$3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

for p in $pods; do
	out=$(podchecker -warnings -warnings "$p" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || echo "$out" | grep -q 'WARNING\|ERROR'; then
		bad "podchecker $p: $out"
	else
		ok
	fi
done

table=$golden/stat-full.table
[ -r "$table" ] || { echo "FAIL: $table missing"; exit 1; }
# column headers of the domain table
for col in $(grep '^NAME ' "$table"); do
	if grep -qF "B<$col>" "$statpod"; then ok; else bad "column $col not explained in $statpod"; fi
done
# summary lines ("Saved:", "Frames:", ...)
for label in $(sed -n '2,5s/^\([A-Za-z]*:\).*/\1/p' "$table"); do
	if grep -qF "B<$label>" "$statpod"; then ok; else bad "line '$label' not explained"; fi
done
# every JSON key and Prometheus metric name
keys=$(grep -o '"[a-z_]*":' "$golden/stat-full.json" "$golden/stat-daemon-down.json" |
	sed 's/.*"\([a-z_]*\)":/\1/' | sort -u)
for k in $keys; do
	if grep -qF "B<$k>" "$statpod"; then ok; else bad "JSON key $k not explained"; fi
done
metrics=$(grep -h '^# TYPE' "$golden"/stat-*.prom | awk '{print $3}' | sort -u)
for m in $metrics; do
	if grep -qF "B<$m>" "$statpod"; then ok; else bad "metric $m not explained"; fi
done
# the formula for what is saved
if grep -q 'sum over all domains of shr_pages - xc_sharing_used_frames' "$statpod"; then ok
else bad "saved formula missing"; fi
echo "man: $pass passed, $fail failed"
[ $fail -eq 0 ]
