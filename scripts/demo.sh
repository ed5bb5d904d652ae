#!/bin/sh
# The README's run command: set up a fresh Debian 12 machine, build, and run
# a simulated Xen 4.17 host (xensim) with four 512 MiB guests from the
# shipped xl.cfg examples, their vCPUs writing memory all the time.  Shows
# `xensim list` and `xensim info` every few seconds for about a minute, then
# checks with `xensim verify` that every guest page holds exactly what its
# guest wrote.  Cleans up (stops the host) on exit, also on Ctrl-C.
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
work=$(mktemp -d "${TMPDIR:-/tmp}/xenshare-demo.XXXXXX")
export XENSIM_SOCKET="$work/xensim.sock"
cleanup() {
	"$X" stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a simulated Xen 4.17 host (4 GiB, dom0 512 MiB)"
"$X" start --mem 4096 --dom0-mem 512 --log "$work/xensim.log"
for i in 1 2 3 4; do
	"$X" create "tools/xensim/examples/guest$i.cfg"
done

elapsed=0
while [ "$elapsed" -lt "$seconds" ]; do
	step=$every
	[ $((elapsed + step)) -le "$seconds" ] || step=$((seconds - elapsed))
	sleep "$step"
	elapsed=$((elapsed + step))
	echo
	echo "== after ${elapsed} s"
	"$X" list
	"$X" info | sed -n '1,6p'
done

echo
echo "== verify: every guest page against what its guest wrote"
if "$X" verify; then
	echo "demo: ok -- 4 guests x 512 MiB ran ${seconds} s with writing vCPUs, 0 mismatches"
else
	echo "demo: FAILED -- see the mismatches above and $work/xensim.log" >&2
	trap - EXIT
	"$X" stop >/dev/null 2>&1 || true
	exit 1
fi
