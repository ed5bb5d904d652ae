#!/bin/sh
# Runs every tests/integration/*.test.sh with O (the build output folder)
# and VARIANT exported.  Each script exits 0 on pass, 77 on skip, other on
# fail.  tests/skip-list.txt names the only tests that may be skipped:
#  - one listed "release-only" is not run in the other variants (san), and
#    counts as skipped there;
#  - an exit 77 is a skip only from a test listed "may-skip"; from any
#    other test it is a failure (a missing tool must fail, never hide).
#
# Most tests wait on a daemon and a simulated host far more than they
# compute (about half a core each), so they run INTEGRATION_JOBS at a
# time (default 2), each test's output shown whole when it ends.  A test
# whose header carries the line
#	# run-all: alone: <why>
# runs first, one at a time, with nothing beside it and its output shown
# as it grows: one that loads every core (the QEMU boot, the hypervisor
# build), runs make in the tree, or reads what another alone test built.
#
# At the end: every skip of this run with its reason, then the plain
# closing line "N passed, N failed, N skipped".  With SKIP_REPORT set, the
# skips are also appended to that file (`make check` collects the skips of
# every variant there and prints them with --report).
#
#   run-all.sh                 run the tests
#   run-all.sh --report FILE   print the skips collected in FILE
#   run-all.sh --one NAME      (internal) one test of the pool
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

# run_one NAME [stream]: runs one test with its output in $out/NAME.log
# (shown as it grows with "stream", else whole at the end, under a lock so
# that two tests' outputs never mix) and writes its verdict, one line
# "pass|skip|fail NAME", to $out/NAME.verdict.  The output goes to a file
# rather than a pipe: a process the test leaves behind cannot hold this
# script's output open.
run_one() {
	name=$1 log=$out/$1.log rep=$out/$1.report
	t0=$(date +%s)
	: >"$log"
	"$here/$name.test.sh" >>"$log" 2>&1 &
	tpid=$!
	echo "$tpid" >"$out/$name.pid"
	if [ "${2:-}" = stream ]; then
		echo "== integration: $name"
		tail -n +1 -s 0.2 -f --pid="$tpid" "$log"
	fi
	wait "$tpid"
	rc=$?
	rm -f "$out/$name.pid"
	secs=$(($(date +%s) - t0))
	if [ "${2:-}" = stream ]; then
		: >"$rep"
	else
		{ echo "== integration: $name"; cat "$log"; } >"$rep"
	fi
	if [ "$rc" = 0 ]; then
		verdict=pass
		echo "   ok: $name ($secs s)" >>"$rep"
	elif [ "$rc" = 77 ] && why=$(reason "$name" may-skip) && [ -n "$why" ]; then
		verdict=skip
		said=$(grep -i '^skip' "$log" | tail -n 1)
		echo "   skipped: $name ($said)" >>"$rep"
		echo "$variant $name: $why [${said:-no SKIP line}]" >"$out/$name.skip"
	else
		verdict=fail
		if [ "$rc" = 77 ]; then
			echo "   FAILED: $name skipped (exit 77), but tests/skip-list.txt does not let it skip" >>"$rep"
		else
			echo "   FAILED: $name (exit $rc, $secs s)" >>"$rep"
		fi
	fi
	flock "$out/print.lock" cat "$rep"
	echo "$verdict $name" >"$out/$name.verdict"
}

if [ "${1:-}" = --one ]; then
	out=${RUNALL_OUT:?--one runs inside run-all.sh only}
	trap '[ ! -s "$out/$2.pid" ] || kill -TERM "$(cat "$out/$2.pid")" 2>/dev/null; exit 130' INT TERM
	run_one "$2"
	exit 0
fi

jobs=${INTEGRATION_JOBS:-2}
case $jobs in ''|*[!0-9]*|0) echo "run-all: INTEGRATION_JOBS must be a count >= 1, not '$jobs'" >&2; exit 1 ;; esac
out=$(mktemp -d "${TMPDIR:-/tmp}/run-all.XXXXXX") || exit 1
export RUNALL_OUT="$out"
xpid=
# on a signal: stop the pool, then every test still running
stop() {
	[ -z "$xpid" ] || kill -TERM "$xpid" 2>/dev/null
	for p in "$out"/*.pid; do
		[ -s "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null
	done
	exit 130
}
trap 'rm -rf "$out"' EXIT
trap stop INT TERM

alone= pool= names=
for t in "$here"/*.test.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .test.sh)
	names="$names $name"
	why=$(reason "$name" release-only)
	if [ "$variant" != release ] && [ -n "$why" ]; then
		echo "== integration: $name (release variant only, not run)"
		echo "$variant $name: release-only: $why" >"$out/$name.skip"
		echo "skip $name" >"$out/$name.verdict"
	elif grep -q '^# run-all: alone: ' "$t"; then
		alone="$alone $name"
	else
		pool="$pool $name"
	fi
done
for name in $alone; do
	run_one "$name" stream
done
if [ -n "$pool" ]; then
	echo "== integration: $(echo $pool | wc -w) tests, $jobs at a time"
	printf '%s\n' $pool | xargs -P "$jobs" -I '{}' "$here/run-all.sh" --one '{}' &
	xpid=$!
	wait "$xpid"
	xpid=
fi

pass=0 fail=0 skip=0 failed=
: >"$out/skips"
for name in $names; do
	v=$(cat "$out/$name.verdict" 2>/dev/null) || v="fail $name"
	case $v in
	pass\ *) pass=$((pass + 1)) ;;
	skip\ *) skip=$((skip + 1)); cat "$out/$name.skip" >>"$out/skips" ;;
	*) fail=$((fail + 1)); failed="$failed $name"
	   [ -e "$out/$name.verdict" ] || echo "   FAILED: $name left no verdict (its runner died)" ;;
	esac
done
[ -z "${SKIP_REPORT:-}" ] || cat "$out/skips" >>"$SKIP_REPORT"
report "$out/skips"
[ -z "$failed" ] || echo "failed:$failed"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ -z "$failed" ]
