#!/bin/sh
# xensim --faults through the drop-in libraries (simlibs_probe), the host's
# side of what fault_ut proves on the model: the same seed and requests give
# the same faults on two hosts, whatever the command line asks meanwhile;
# `xensim info --json` and the log count every fault; a whole map and single
# pages fail as privcmd reports them; a commit meets EAGAIN; VIRQ_ENOMEM is
# lost or delivered twice; and --faults refuses a bad spec.  Exit 0 pass,
# 77 skip, else fail.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XENSIM" "$SIMLIB" "$O/tests/simlibs_probe"
faults() { "$XENSIM" info --json | jq -c ".faults$1"; }
guest_cfg() {   # NAME [key = value lines...]
	name=$1
	shift
	{ printf 'name = "%s"\ntype = "pvh"\nmemory = 16\n' "$name"; for l in "$@"; do echo "$l"; done; } >"$T/$name.cfg"
}

# bad specs: exit 2 with the reason
for bad in 7 7:2 x:0.1 7:0.1:bogus; do
	"$XENSIM" start --faults "$bad" >/dev/null 2>"$T/err" && fail "--faults $bad accepted"
	grep -q -- "--faults" "$T/err" || fail "--faults $bad: $(cat "$T/err")"
done

# Determinism: the same 60 nominations on two hosts with the same seed fail
# alike; on the second one the command line polls in between (it draws nothing).
for run in 1 2; do
	"$XENSIM" start --mem 256 --dom0-mem 32 --faults 11:0.3:hypercall --log "$T/log$run" >/dev/null ||
		fail "start $run"
	guest_cfg g
	"$XENSIM" create "$T/g.cfg" >/dev/null 2>&1 || fail "create"
	: >"$T/run$run"
	for gfn in $(seq 0 59); do
		sim_probe nominate 1 "$gfn" >>"$T/run$run" 2>&1
		[ "$run" = 2 ] && { "$XENSIM" list >/dev/null; "$XENSIM" info --json >/dev/null; }
	done
	n=$(grep -c FAIL "$T/run$run")
	[ "$(faults .injected.hypercall)" = "$n" ] || fail "run $run: $n failures, info says $(faults .injected)"
	[ "$(faults .hypercalls.nominate)" = "$n" ] || fail "run $run: by op: $(faults .hypercalls)"
	[ "$(grep -c 'xensim fault: hypercall #.*nominate d1' "$T/log$run")" = "$n" ] ||
		fail "run $run: the log does not name each fault"
	"$XENSIM" verify >/dev/null || fail "verify after faults"
	"$XENSIM" stop || fail "stop"
done
sed 's/handle [0-9]*//' "$T/run1" >"$T/r1"
sed 's/handle [0-9]*//' "$T/run2" >"$T/r2"
cmp -s "$T/r1" "$T/r2" || { diff "$T/r1" "$T/r2"; fail "the same seed gave other faults"; }
n=$(grep -c FAIL "$T/run1")
[ "$n" -ge 5 ] && [ "$n" -le 35 ] || fail "$n of 60 nominations failed at rate 0.3"
grep FAIL "$T/run1" | grep -qv -e 'Cannot allocate memory' -e 'Argument list too long' -e 'Invalid argument' &&
	fail "an error nominate cannot give: $(grep FAIL "$T/run1")"

# maps: the whole call, then single pages; the CLI itself is never faulted
"$XENSIM" start --mem 256 --dom0-mem 32 --faults 3:1:map-call,xenstore >/dev/null || fail "start map-call"
"$XENSIM" create "$T/g.cfg" >/dev/null 2>&1 || fail "create (CLI faulted?)"
sim_probe map-nominate 1 0 >"$T/m" 2>&1 && fail "a map at rate 1 succeeded"
grep -q 'map of 256 pages.*Cannot allocate memory' "$T/m" || fail "whole map: $(cat "$T/m")"
[ "$(faults .injected.\"map-call\")" = 1 ] || fail "map-call count: $(faults .injected)"
# a commit answers EAGAIN; the command line's writes are not faulted
[ "$(sim_probe xs-commit /local/domain/0/probe 1)" = EAGAIN ] || fail "commit at rate 1 did not meet EAGAIN"
[ "$(faults .injected.xenstore)" = 1 ] || fail "xenstore count: $(faults .injected)"
"$XENSIM" xenstore-write /local/domain/0/probe 2 || fail "the CLI's write was faulted"
"$XENSIM" stop
"$XENSIM" start --mem 256 --dom0-mem 32 --faults 3:0.5:map-page >/dev/null || fail "start map-page"
"$XENSIM" create "$T/g.cfg" >/dev/null 2>&1 || fail "create"
sim_probe map-nominate 1 0 >"$T/m" 2>&1
bad=$(grep -c '^FAIL.*page [0-9]*: err' "$T/m")
[ "$bad" -ge 80 ] && [ "$bad" -le 176 ] || fail "$bad of 256 pages failed at rate 0.5: $(head -3 "$T/m")"
grep '^FAIL.*page [0-9]*: err' "$T/m" | grep -qv -e 'err -12$' -e 'err -2$' && fail "a page error privcmd does not give"
[ "$(faults .injected.\"map-page\")" = "$bad" ] || fail "map-page count $(faults .injected), probe saw $bad"
[ "$("$XENSIM" info --json | jq .foreign_mappings)" = 0 ] || fail "mappings left"
"$XENSIM" stop

# VIRQ_ENOMEM lost, then doubled: b's pages are all shared into a's, a hog
# takes the free memory, b's vCPU unshares until no frame is left and waits
# (patched Xen, no ring): one VIRQ_ENOMEM, which the probe counts.
for kind in event-drop event-double; do
	"$XENSIM" start --mem 128 --dom0-mem 32 --patched --faults "5:1:$kind" >/dev/null || fail "start $kind"
	guest_cfg a
	guest_cfg b "vcpus = 1" "sim_write_rate = 400" "sim_working_set = 4096"
	"$XENSIM" create "$T/a.cfg" >/dev/null 2>&1 && "$XENSIM" create "$T/b.cfg" >/dev/null 2>&1 || fail "create a, b"
	"$XENSIM" pause b
	sim_probe share-range "$(domid_of a)" "$(domid_of b)" 0 4095 | grep -q '^shared 4096 failed 0$' || fail "share-range"
	free=$("$XENSIM" info --json | jq .free_mib)
	guest_cfg hog "memory = $((free - 1))"
	"$XENSIM" create "$T/hog.cfg" >/dev/null 2>&1 || fail "hog"
	sim_probe watch-virq 6 >"$T/virq" &
	pp=$!
	wait_for 5 grep -q ready "$T/virq" || fail "the probe did not bind VIRQ_ENOMEM"
	"$XENSIM" unpause b
	paused() { [ "$("$XENSIM" list --json | jq '.[] | select(.name == "b") | .paused_vcpus')" = 1 ]; }
	wait_for 10 paused || fail "$kind: b never waited on ENOMEM"
	wait "$pp"
	events=$(awk '/^events/ { print $2 }' "$T/virq")
	if [ "$kind" = event-drop ]; then
		[ "$events" = 0 ] || fail "dropped VIRQ_ENOMEM still arrived ($events)"
		[ "$(faults .injected.\"event-drop\")" -ge 1 ] || fail "drop count: $(faults .injected)"
	else
		[ "$events" = 2 ] || fail "doubled VIRQ_ENOMEM arrived $events times"
		[ "$(faults .injected.\"event-double\")" = 1 ] || fail "double count: $(faults .injected)"
	fi
	"$XENSIM" stop
done
echo "PASS: xensim_faults"
