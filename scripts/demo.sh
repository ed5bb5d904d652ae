#!/bin/sh
# The README's run command: set up a fresh Debian 12 machine, build, and run
# a simulated Xen 4.17 host (xensim) with four 512 MiB guests from the
# shipped xl.cfg examples, their vCPUs writing memory all the time, and the
# dedup daemon xenshared against it -- the same binary as on a real host,
# loaded with xensim's drop-in Xen libraries.  Shows xenshare-stat live as
# the savings grow (redrawn on a terminal, snapshots otherwise), then a
# summary: saved against the ideal (distinct contents per sharing group,
# computed independently by shr-ideal) and `xensim verify`, which checks
# that every guest page holds exactly what its guest wrote.  Cleans up
# (daemon and host) on exit, also on Ctrl-C.
#
#   DEMO_SECONDS=60   how long to run
#   DEMO_EVERY=10     seconds between two views
#   O=build/release   build folder
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${DEMO_SECONDS:-60}
every=${DEMO_EVERY:-10}
case "$seconds$every" in *[!0-9]*) echo "demo: DEMO_SECONDS and DEMO_EVERY are whole seconds" >&2; exit 2 ;; esac

scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
out=${O:-build/release}
make -j"$jobs" O="$out" all

X="$root/$out/bin/xensim"
XSD="$root/$out/bin/xenshared"
STAT="$root/$out/bin/xenshare-stat"
simlib="$root/$out/simlib"
work=$(mktemp -d "${TMPDIR:-/tmp}/xenshare-demo.XXXXXX")
export XENSIM_SOCKET="$work/xensim.sock"
daemon_pid=
cleanup() {
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	[ -z "$daemon_pid" ] || wait "$daemon_pid" 2>/dev/null || true
	"$X" stop >/dev/null 2>&1 || true
	[ -n "$keep" ] || rm -rf "$work"
}
keep=
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a simulated Xen 4.17 host (4 GiB, dom0 512 MiB)"
"$X" start --mem 4096 --dom0-mem 512 --log "$work/xensim.log"
for i in 1 2 3 4; do
	echo "   creating guest$i (512 MiB, OS-image mix, 2 writing vCPUs) ..."
	"$X" create "tools/xensim/examples/guest$i.cfg"
done
"$X" list

echo
echo "== starting xenshared (log: $work/xenshared.log)"
sock="$work/control.sock"
cat >"$work/xenshared.conf" <<CONF
# demo: a short pass target so that a minute shows several passes
control_socket = $sock
pidfile = $work/xenshared.pid
pass_target = 10
cpu_cap = 100
CONF
LD_LIBRARY_PATH="$simlib" "$XSD" -d -f "$work/xenshared.conf" 2>"$work/xenshared.log" &
daemon_pid=$!
i=0
until "$XSD" -f "$work/xenshared.conf" -C ping >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$daemon_pid" 2>/dev/null; then
		echo "demo: xenshared did not come up ($work/xenshared.log):" >&2
		tail -20 "$work/xenshared.log" >&2
		keep=1
		exit 1
	fi
	sleep 0.1
done

stat() { LD_LIBRARY_PATH="$simlib" "$STAT" -s "$sock" "$@"; }
echo "== xenshare-stat for ${seconds} s"
if [ -t 1 ]; then
	timeout --foreground -s INT "$seconds" sh -c \
		'LD_LIBRARY_PATH="$1" "$2" -s "$3" -w "$4"' sh "$simlib" "$STAT" "$sock" "$every" || true
else
	stat -b -d "$every" -n $((seconds / every + 1)) || true
fi

echo
echo "== summary"
stat || true
ids=$("$X" list --json | python3 -c 'import json,sys; print(" ".join(str(d["domid"]) for d in json.load(sys.stdin) if d["domid"]))')
ideal=$(LD_LIBRARY_PATH="$simlib" "$root/$out/bin/shr-ideal" $ids | python3 -c 'import json,sys; print(json.load(sys.stdin)["ideal"])')
saved=$(stat --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["saved_pages"])')
echo "saved $saved pages ($((saved / 256)) MiB); ideal right now $ideal pages: $((saved * 100 / (ideal > 0 ? ideal : 1)))% of it (guests keep writing)"

echo
echo "== verify: every guest page against what its guest wrote"
if "$X" verify; then
	echo "demo: ok -- 4 guests x 512 MiB, xenshared saved $((saved / 256)) MiB in ${seconds} s, 0 mismatches"
else
	echo "demo: FAILED -- see the mismatches above, $work/xensim.log and $work/xenshared.log" >&2
	keep=1
	exit 1
fi
