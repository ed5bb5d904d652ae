#!/bin/sh
# engine_virq: the patched hypervisor (hypervisor-patch/) without sharing
# rings.  An unshare that finds no free frame then pauses the vCPU and
# raises VIRQ_ENOMEM instead of crashing the domain.  Proves the engine
# (driven by shr-engine-run with --no-ring, since the daemon always takes
# the rings) binds VIRQ_ENOMEM, pauses sharing, asks for memory, and resumes
# the waiting domains once memory is back (here: the test destroys the
# memory hog, standing in for dom0's balloon driver): no crash, every vCPU
# runs again, verify clean.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
RUN="$O/bin/shr-engine-run"
need_built "$XENSIM" "$SIMLIB" "$RUN"

sim_start --mem 768 --dom0-mem 64 --patched
for i in 1 2 3 4; do
	guest "vq$i" "$((i + 60))" type=hvm memory=96 sim_profile=os=0.6,zero=0.2,dup=0.1,unique=0.1 mem_sharing=on \
		sim_write_rate=1500 sim_working_set=24576
done
ids=$("$XENSIM" list --json | jq -r '.[] | select(.domid > 0) | .domid' | tr '\n' ' ')
LD_LIBRARY_PATH="$SIMLIB" "$RUN" --no-ring --protocol batched --passes 0 --seconds 90 \
	$ids > "$T/run.json" 2> "$T/daemon.err" &
RUN_PID=$!
shared() { [ "$("$XENSIM" info --json | jq -r .sharing_freed_pages)" -gt 20000 ]; }
wait_for 60 shared || fail "no sharing ($("$XENSIM" info --json | jq -r .sharing_freed_pages) pages)"
free=$(free_mib)
hog $((free - 4)) || fail "hog: $(tail -1 "$T/create.log")"
note "hog of $((free - 4)) MiB created after $("$XENSIM" info --json | jq -r .sharing_freed_pages) pages were saved"
waiting() { [ "$("$XENSIM" list --json | jq '[.[] | .paused_vcpus] | add')" -gt 0 ]; }
wait_for 60 waiting || fail "no vCPU paused on ENOMEM within 60 s"
note "paused on ENOMEM: $("$XENSIM" list --json | jq -c '[.[] | select(.paused_vcpus > 0) | .name]')"
sleep 2
"$XENSIM" destroy hog >/dev/null 2>&1 || fail "destroy hog"
running() { [ "$("$XENSIM" list --json | jq '[.[] | .paused_vcpus] | add')" = 0 ]; }
wait_for 30 running || fail "vCPUs still paused after memory came back: $("$XENSIM" list --json | jq -c '[.[] | {name, paused_vcpus}]')"
crashed=$("$XENSIM" list --json | jq -r '[.[] | select(.crashed) | .name] | join(" ")')
[ -z "$crashed" ] || fail "crashed: $crashed"
alive "$RUN_PID" || fail "shr-engine-run died"
kill -TERM "$RUN_PID" 2>/dev/null
wait "$RUN_PID" 2>/dev/null
grep -q "VIRQ_ENOMEM" "$T/daemon.err" || fail "the engine never saw VIRQ_ENOMEM"
grep -q "resumed after unshare ENOMEM" "$T/daemon.err" || fail "the engine resumed no domain"
! grep -q -e "runtime error" -e "AddressSanitizer" "$T/daemon.err" || fail "sanitizer report"
verify_clean
echo "PASS: engine_virq (VIRQ_ENOMEM answered, waiting domains resumed, no crash)"
