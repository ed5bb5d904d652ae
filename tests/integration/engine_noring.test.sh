#!/bin/sh
# engine_noring: an unpatched Xen 4.17 and no sharing ring: there, an
# unshare that finds no free frame CRASHES the domain, so the only defence
# is to keep enough memory free before it happens.  After the guests
# shared, a memory hog takes almost all free memory; the guests keep
# unsharing.  Proves the engine counts the unprotected pages at risk, asks
# for that much memory (shr-engine-run --balloon lowers dom0's
# memory/target, as the daemon does) before the host runs dry, and that no
# domain crashes, no vCPU waits, and verify is clean.  (The engine is
# driven directly: the daemon always takes the rings.)
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
RUN="$O/bin/shr-engine-run"
need_built "$XENSIM" "$SIMLIB" "$RUN"

sim_start --mem 1280 --dom0-mem 512
for i in 1 2 3 4; do
	guest "nr$i" "$((i + 70))" type=hvm memory=96 sim_profile=os=0.6,zero=0.2,dup=0.1,unique=0.1 mem_sharing=on \
		sim_write_rate=1000 sim_working_set=24576
done
ids=$("$XENSIM" list --json | jq -r '.[] | select(.domid > 0) | .domid' | tr '\n' ' ')
target0=$("$XENSIM" xenstore-read /local/domain/0/memory/target)
LD_LIBRARY_PATH="$SIMLIB" "$RUN" --no-ring --balloon --reserve 2048 --passes 0 --seconds 120 \
	$ids > "$T/run.json" 2> "$T/daemon.err" &
RUN_PID=$!
shared() { [ "$("$XENSIM" info --json | jq -r .sharing_freed_pages)" -gt 20000 ]; }
wait_for 60 shared || fail "no sharing ($("$XENSIM" info --json | jq -r .sharing_freed_pages) pages)"
free=$(free_mib)
hog $((free - 4)) || fail "hog: $(tail -1 "$T/create.log")"
note "hog of $((free - 4)) MiB created after $("$XENSIM" info --json | jq -r .sharing_freed_pages) pages were saved"
lowered() { [ "$("$XENSIM" xenstore-read /local/domain/0/memory/target)" -lt "$target0" ]; }
wait_for 20 lowered || fail "the engine never asked for memory (dom0 target still $target0 KiB)"
note "dom0 target $target0 -> $("$XENSIM" xenstore-read /local/domain/0/memory/target) KiB"
sleep 20     # the writers keep unsharing into the room made for them
crashed=$("$XENSIM" list --json | jq -r '[.[] | select(.crashed) | .name] | join(" ")')
[ -z "$crashed" ] || fail "crashed: $crashed"
for i in 1 2 3 4; do [ -n "$(domid_of "nr$i")" ] || fail "nr$i is gone"; done
[ "$("$XENSIM" list --json | jq '[.[] | .paused_vcpus] | add')" = 0 ] || fail "vCPUs waiting"
alive "$RUN_PID" || fail "shr-engine-run died"
kill -TERM "$RUN_PID" 2>/dev/null
wait "$RUN_PID" 2>/dev/null
verify_clean
echo "PASS: engine_noring (memory made available before the unshares needed it, no crash)"
