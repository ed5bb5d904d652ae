#!/bin/sh
# engine_enomem_stop: the daemon stopped or killed while guests wait for
# memory after an unshare ENOMEM.  On each hypervisor kind (unpatched with
# sharing rings; patched with rings; patched without rings, VIRQ_ENOMEM):
#  - a clean stop (SIGTERM) while vCPUs wait with no memory to give crashes
#    no guest; the waiting vCPUs stay paused, and once memory is back a
#    restarted daemon resumes them;
#  - ROUNDS times (ROUNDS/4+1 without rings): vCPUs wait, the daemon is killed with SIGKILL at a random
#    moment of the wait, memory comes back while no daemon runs, and the
#    restarted daemon resumes every waiting vCPU (it takes over the
#    requests the killed one left unanswered, or lists the VIRQ waiters);
#  - no guest crashes, every page reads back what was written (verify),
#    and nominated, never merged frames (a failed merge, or a killed
#    daemon, leaves pages alone on a shared frame) are released: once the
#    guests stop writing, at most a few remain.
# dom0 ballooning is off: the daemon cannot make memory itself, so the
# guests really wait until the hog goes.
set -u
. "$(dirname "$0")/tools/engine_lib.sh"

ROUNDS=${ROUNDS:-20}
RUN="$O/bin/shr-engine-run"
[ -x "$RUN" ] || skip "$RUN not built"

# no_crash WHEN: the three guests exist and none has crashed (a crashed
# domain may also be gone from the list already)
no_crash() {
	"$XENSIM" list --json > "$T/list.json" || fail "$1: xensim list"
	crashed=$(jq -r '[.[] | select(.crashed) | .name] | join(" ")' "$T/list.json")
	[ -z "$crashed" ] || fail "$1: crashed: $crashed"
	[ "$(jq '[.[] | select(.name | test("^w[123]$"))] | length' "$T/list.json")" = 3 ] ||
		fail "$1: guests lost: $(jq -c '[.[].name]' "$T/list.json")"
}
paused_vcpus() { "$XENSIM" list --json | jq '[.[] | select(.name != "hog") | .paused_vcpus] | add'; }
some_waiting() { [ "$(paused_vcpus)" -gt 0 ] 2>/dev/null; }
none_waiting() { [ "$(paused_vcpus)" = 0 ]; }
# hog_create: a domain of all but 2 MiB of the free memory (the guests'
# writers move free memory meanwhile: tried again, smaller, on ENOMEM)
hog_create() {
	for try in 1 2 3 4 5; do
		free_mib=$("$XENSIM" info --json | jq -r .free_mib)
		cat > "$T/hog.cfg" <<CFG
name = "hog"
type = "hvm"
memory = $((free_mib - 1 - try * try * 2))
vcpus = 1
CFG
		"$XENSIM" create "$T/hog.cfg" >>"$T/create.log" 2>&1 && return 0
	done
	fail "hog: $(tail -1 "$T/create.log")"
}
hog_destroy() { "$XENSIM" destroy hog >/dev/null 2>&1 || fail "destroy hog"; }
# consumer_start / kill9: the daemon, or shr-engine-run without rings
consumer_start() {
	if [ "$CONSUMER" = daemon ]; then
		xsd_start
		return
	fi
	ids=$("$XENSIM" list --json | jq -r '.[] | select(.domid > 0 and .name != "hog") | .domid' | tr '\n' ' ')
	# shellcheck disable=SC2086
	LD_LIBRARY_PATH="$SIMLIB" "$RUN" --no-ring --protocol batched --passes 0 --seconds 600 \
		$ids > "$T/run.json" 2>> "$T/daemon.err" &
	XSD_PID=$!
}
kill9() { kill -9 "$XSD_PID" 2>/dev/null; wait "$XSD_PID" 2>/dev/null; XSD_PID=; }
saved() { [ "$("$XENSIM" info --json | jq -r .sharing_freed_pages)" -gt 10000 ]; }
# rand_sleep SEED: 0 .. 1 s
rand_sleep() { sleep "$(awk -v s="$1" 'BEGIN { srand(s); printf "%.2f", rand() }')"; }

phase() {
	kind=$1 CONSUMER=$2 rounds=$3
	shift 3
	sim_start --mem 768 --dom0-mem 64 "$@"
	# each write unshares for good (fresh contents): slow writers over
	# part of the guest keep shared pages to run out of memory with for
	# every round
	for i in 1 2 3; do
		guest "w$i" 96 "os=0.6,zero=0.2,dup=0.1,unique=0.1" "$((i + 40))" \
			sim_write_rate=400 sim_working_set=20000
	done
	consumer_start
	wait_for 60 saved || fail "$kind: too little shared to run out of memory"
	# settled: from now on sharing frees no more memory than writes take
	if [ "$CONSUMER" = daemon ]; then wait_scans 2; else sleep 3; fi

	if [ "$CONSUMER" = daemon ]; then
		# a clean stop while vCPUs wait and no memory can be had
		hog_create
		wait_for 30 some_waiting || fail "$kind: no vCPU waits for memory (free $("$XENSIM" info --json | jq -r .free_mib) MiB)"
		xsd_stop
		sleep 1
		no_crash "$kind, after SIGTERM with vCPUs waiting"
		hog_destroy
		sleep 1
		no_crash "$kind, memory back with no daemon"
		consumer_start
		wait_for 15 none_waiting || fail "$kind: the restarted daemon left $(paused_vcpus) vCPUs paused after a clean stop"
		no_crash "$kind, after the restart"
	fi
	r=0
	while [ $r -lt "$rounds" ]; do
		r=$((r + 1))
		hog_create
		wait_for 30 some_waiting || fail "$kind round $r: no vCPU waits for memory"
		rand_sleep "$r$$"
		kill9
		no_crash "$kind round $r, after kill -9"
		hog_destroy
		consumer_start
		wait_for 15 none_waiting || fail "$kind round $r: $(paused_vcpus) vCPUs stay paused with free memory after kill -9 and restart"
		no_crash "$kind round $r"
	done
	# Nominated but never merged frames (a failed merge or a killed
	# daemon leaves a page alone on a frame of its own): with the guests
	# paused (nothing written, so no merge fails any more), a few passes
	# must release them.  Frames a merge made and writes left with one
	# sharer (nominated_unshared) are the engine's stable side: kept.
	nu1=$("$XENSIM" info --json | jq -r .nominated_unmerged)
	for i in 1 2 3; do "$XENSIM" pause "w$i" >/dev/null || fail "pause w$i"; done
	low() { [ "$("$XENSIM" info --json | jq -r .nominated_unmerged)" -le 8 ]; }
	wait_for 30 low || fail "$kind: $("$XENSIM" info --json | jq -r .nominated_unmerged) frames stay nominated and never merged after $rounds kills (running: $nu1)"
	note "$kind: $rounds kills; nominated, never merged frames: $nu1 while the guests wrote, $("$XENSIM" info --json | jq -r .nominated_unmerged) once paused ($("$XENSIM" info --json | jq -r .nominated_unshared) frames with one sharer)"
	for i in 1 2 3; do "$XENSIM" unpause "w$i" >/dev/null || fail "unpause w$i"; done
	verify_clean
	kill9
	"$XENSIM" stop >/dev/null 2>&1
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=
	rm -f "$XENSIM_SOCKET"
}

write_conf <<CFG
reserve = 0
dom0_balloon = off
CFG
phase unpatched daemon "$ROUNDS"
phase patched daemon "$ROUNDS" --patched
phase "patched, no rings" engine-run $((ROUNDS / 4 + 1)) --patched
echo "PASS: engine_enomem_stop ($ROUNDS kills on each hypervisor kind, $((ROUNDS / 4 + 1)) without rings)"
