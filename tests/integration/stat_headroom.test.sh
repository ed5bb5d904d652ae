#!/bin/sh
# xenshare-stat's admission figure against what really fits, on a xensim
# host with the daemon sharing: two guests settle, xenshare-stat says N
# more guests like web1 fit (no burst, no reserve: its least cautious
# answer), then guests of web1's profile (distinct seeds) are created one
# after another, each once the daemon has converged on the one before,
# until a create fails for want of memory.  N must not exceed the guests
# that fit, and sharing must have let more fit than without.  Also: a
# burst of 100% gives the figure without sharing; an unknown --like, dom0
# or a burst out of 0..100 exits 2 with a message; with the daemon gone
# the new guests' sharing counts as nothing (N = the figure without).
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XST" "$XENSIM" "$SIMLIB" "$XSD"
xsd=$XSD xensim=$XENSIM simlib=$SIMLIB work=$T
stat() { xst "$@"; }
# guest_cfg NAME MODE GROUP SEED: a 64 MiB PVH guest of OS-like contents
guest_cfg() {
	cat >"$work/$1.cfg" <<CFG
name = "$1"
type = "pvh"
memory = 64
vcpus = 1
mem_sharing = "$2"
mem_sharing_group = "$3"
sim_profile = "os=0.4,zero=0.3,dup=0.05,unique=0.25"
sim_seed = $4
CFG
	"$xensim" create "$work/$1.cfg" >/dev/null 2>&1 || fail "xensim create $1"
}

"$xensim" start --mem 512 --dom0-mem 256 --pidfile "$work/sim.pid" --log "$work/sim.log" >/dev/null ||
	fail "xensim start"
guest_cfg web1 on tenant-a 1
guest_cfg web2 on tenant-a 2
mkdir -p "$work/run"
sock=$work/run/control.sock
cat >"$work/xenshared.conf" <<CONF
control_socket = $sock
pidfile = $work/run/xenshared.pid
pass_target = 1
cpu_cap = 100
reserve = 0
CONF
LD_LIBRARY_PATH=$simlib "$xsd" -d -f "$work/xenshared.conf" 2>"$work/daemon.err" &
daemon_pid=$!
kill_at_exit "$daemon_pid"

# converged: two more full passes since $1 and the last one settled (90 s at most)
converge() { # full_scans-before
	for _ in $(seq 180); do
		if stat --json -s "$sock" >"$work/c.json" 2>/dev/null &&
		   [ "$(jq ".daemon.settled and .daemon.full_scans >= $1 + 2" "$work/c.json")" = true ]; then
			return 0
		fi
		kill -0 $daemon_pid 2>/dev/null || fail "daemon died: $(tail -5 "$work/daemon.err")"
		sleep 0.5
	done
	fail "daemon did not converge in 90 s: $(jq -c .daemon "$work/c.json" 2>/dev/null)"
}
scans() { jq .daemon.full_scans "$work/c.json"; }

converge 0
stat --json -s "$sock" --burst 0 >"$work/s.json" 2>"$work/err" || fail "exit $?: $(cat "$work/err")"
n=$(jq '.domains[] | select(.name=="web1") | .admit.guests' "$work/s.json")
j=$(jq '.domains[] | select(.name=="web1") | .admit.without_sharing' "$work/s.json")
[ "$(jq .headroom.reserve_pages "$work/s.json")" = 0 ] || fail "reserve: $(jq -c .headroom "$work/s.json")"
[ "$(jq '.headroom.at_risk_pages == .hypervisor.sharing_freed_pages and .headroom.at_risk_pages > 0' \
	"$work/s.json")" = true ] || fail "at risk is not the memory saved: $(jq -c .headroom "$work/s.json")"
[ "$n" -ge "$j" ] || fail "sharing admits fewer ($n) than none ($j) at no burst"
# the table says the same
stat -s "$sock" --burst 0 --like web1 >"$work/table" 2>&1 || fail "table: exit $?"
grep -q "^  $n more like web1 ($j without sharing)\$" "$work/table" ||
	fail "table: $(grep 'more like' "$work/table")"
[ "$(grep -c 'more like' "$work/table")" = 1 ] || fail "--like web1 shows other guests"
# against every shared page written, sharing admits nothing more
stat --json -s "$sock" --burst 100 >"$work/full.json" || fail "--burst 100: exit $?"
[ "$(jq '[.domains[] | select(.admit) | .admit.guests == .admit.without_sharing] | all' "$work/full.json")" = true ] ||
	fail "--burst 100: $(jq -c '[.domains[] | .admit]' "$work/full.json")"

# bad questions: exit 2 and a message naming what is wrong
for bad in "--like nosuch" "--like 0" "--like 99" "--burst 101" "--burst -1" "--burst abc" "--burst="; do
	# shellcheck disable=SC2086
	stat -s "$sock" $bad >/dev/null 2>"$work/err"; rc=$?
	[ $rc = 2 ] || fail "$bad: exit $rc, expected 2"
	grep -q -- "--like\|--burst" "$work/err" || fail "$bad: message $(cat "$work/err")"
done

# guests like web1 until the next create fails for want of memory
fitted=0
while [ $fitted -lt 64 ]; do
	before=$(scans)
	i=$((fitted + 1))
	cat >"$work/like$i.cfg" <<CFG
name = "like$i"
type = "pvh"
memory = 64
vcpus = 1
mem_sharing = "on"
mem_sharing_group = "tenant-a"
sim_profile = "os=0.4,zero=0.3,dup=0.05,unique=0.25"
sim_seed = $((100 + i))
CFG
	if ! "$xensim" create "$work/like$i.cfg" >/dev/null 2>"$work/create.err"; then
		grep -q "Cannot allocate memory" "$work/create.err" ||
			fail "create like$i failed, not for memory: $(cat "$work/create.err")"
		break
	fi
	fitted=$i
	converge "$before"
done
echo "   admission: $n more like web1 ($j without sharing); $fitted fitted one after another"
[ "$n" -le "$fitted" ] || fail "admission said $n guests fit, only $fitted did"
[ "$fitted" -gt "$j" ] || fail "sharing let no more guests fit ($fitted) than without ($j)"
[ "$n" -gt "$j" ] || fail "the figure gives sharing no credit: $n with, $j without"
# full now: nothing more fits, and xenshare-stat says so
stat --json -s "$sock" --burst 0 >"$work/s.json" || fail "exit $?"
[ "$(jq '.domains[] | select(.name=="web1") | .admit.guests' "$work/s.json")" = 0 ] ||
	fail "full host: $(jq -c '.domains[] | select(.name=="web1") | .admit' "$work/s.json")"

# the daemon gone: nobody shares a new guest, so its figure is the one
# without; an unknown guest is still exit 2 (the hypervisor lists them)
kill -9 $daemon_pid
wait $daemon_pid 2>/dev/null
for k in $(seq "$fitted"); do
	"$xensim" destroy "like$k" >/dev/null 2>&1 || fail "xensim destroy like$k"
done
stat --json -s "$sock" --burst 0 >"$work/d.json" 2>/dev/null; rc=$?
[ $rc = 1 ] || fail "daemon down: exit $rc, expected 1"
[ "$(jq '.headroom.reserve_pages' "$work/d.json")" = null ] || fail "daemon down: a reserve is claimed"
[ "$(jq '[.domains[] | select(.admit) | .admit.guests == .admit.without_sharing] | all' "$work/d.json")" = true ] ||
	fail "daemon down: $(jq -c '[.domains[] | .admit]' "$work/d.json")"
[ "$(jq '.domains[] | select(.name=="web1") | .admit.guests' "$work/d.json")" -ge 1 ] ||
	fail "daemon down: a destroyed guest's room is not seen"
stat --like nosuch -s "$sock" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "daemon down: --like nosuch exit $rc, expected 2"
# with neither the hypervisor nor the daemon there is no list to find a
# guest in: the exit status says the hypervisor is unreadable (3), not
# that the guest is missing (2)
XENSIM_SOCKET=$work/none.sock stat --like nosuch -s "$work/none.sock" >/dev/null 2>&1; rc=$?
[ $rc = 3 ] || fail "no sources: --like nosuch exit $rc, expected 3"
"$xensim" verify >/dev/null 2>&1 || fail "xensim verify: a guest page differs from what the guest wrote"
echo "stat_headroom: ok"
