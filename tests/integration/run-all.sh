#!/bin/sh
# Runs every tests/integration/*.test.sh with O (the build output folder)
# and VARIANT exported.  Each script exits 0 on pass, 77 on skip, other on
# fail.  tests/skip-list.txt names the only tests that may be skipped:
#  - one listed "release-only" is not run in the other variants (san), and
#    counts as skipped there;
#  - an exit 77 is a skip only from a test listed "may-skip"; from any
#    other test it is a failure (a missing tool must fail, never hide).
# At the end: every skip of this run with its reason, then the plain
# closing line "N passed, N failed, N skipped".  With SKIP_REPORT set, the
# skips are also appended to that file (`make check` collects the skips of
# every variant there and prints them with --report).
#
#   run-all.sh                 run the tests
#   run-all.sh --report FILE   print the skips collected in FILE
set -u
here=$(cd "$(dirname "$0")" && pwd)
list=$(cd "$here/.." && pwd)/skip-list.txt

# report FILE: the skips FILE holds, one a line, or "skipped: none".
report() {
	if [ -s "$1" ]; then
		echo "skipped: $(wc -l <"$1") (only as tests/skip-list.txt allows)"
		sed 's/^/  /' "$1"
	else
		echo "skipped: none"
	fi
}
if [ "${1:-}" = --report ]; then
	report "${2:?--report needs a file}"
	exit 0
fi

: "${O:?O must name the build folder}"
export O
variant=${VARIANT:-release}
[ -r "$list" ] || { echo "run-all: no $list" >&2; exit 1; }
# reason NAME KIND: what the list says of NAME for KIND; empty if nothing
reason() {
	awk -v n="$1" -v k="$2" '!/^#/ && $1 == n && $2 == k {
		$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$list"
}

out=$(mktemp -d "${TMPDIR:-/tmp}/run-all.XXXXXX") || exit 1
tpid=
trap 'rm -rf "$out"' EXIT
trap '[ -z "$tpid" ] || kill -TERM "$tpid" 2>/dev/null; exit 130' INT TERM
skips="$out/skips"
: >"$skips"
pass=0 fail=0 skip=0 failed=
for t in "$here"/*.test.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .test.sh)
	why=$(reason "$name" release-only)
	if [ "$variant" != release ] && [ -n "$why" ]; then
		echo "== integration: $name (release variant only, not run)"
		echo "$variant $name: release-only: $why" >>"$skips"
		skip=$((skip + 1))
		continue
	fi
	echo "== integration: $name"
	t0=$(date +%s)
	# the output goes to a file that is shown as it grows: a process the
	# test leaves behind cannot hold this script's output open
	: >"$out/log"
	"$t" >>"$out/log" 2>&1 &
	tpid=$!
	tail -n +1 -s 0.2 -f --pid="$tpid" "$out/log"
	wait "$tpid"
	rc=$?
	tpid=
	secs=$(($(date +%s) - t0))
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		echo "   ok: $name ($secs s)"
	elif [ "$rc" = 77 ] && why=$(reason "$name" may-skip) && [ -n "$why" ]; then
		skip=$((skip + 1))
		said=$(grep -i '^skip' "$out/log" | tail -n 1)
		echo "   skipped: $name ($said)"
		echo "$variant $name: $why [${said:-no SKIP line}]" >>"$skips"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		if [ "$rc" = 77 ]; then
			echo "   FAILED: $name skipped (exit 77), but tests/skip-list.txt does not let it skip"
		else
			echo "   FAILED: $name (exit $rc, $secs s)"
		fi
	fi
done
[ -z "${SKIP_REPORT:-}" ] || cat "$skips" >>"$SKIP_REPORT"
report "$skips"
[ -z "$failed" ] || echo "failed:$failed"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ -z "$failed" ]
