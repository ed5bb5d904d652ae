#!/bin/sh
# engine_enomem: host memory exhausted by unshares.  Four guests share their
# OS pages, then a memory hog takes almost all free memory, and the guests'
# writers keep unsharing: the unshares run out of free frames.  Xen 4.17
# then pauses the faulting vCPU and puts a request on the domain's sharing
# ring (the engine takes every ring), and the engine must pause sharing,
# ask for memory (the daemon balloons dom0 down) and resume the domain.
# Proves: ENOMEM requests happened, no domain crashed, every vCPU runs
# again, the guests read back what they wrote (verify), and the daemon
# survives.  (A domain without a ring is crashed by an unpatched Xen; the
# engine's reserve guards, unit-level in docs/design.md, keep that from
# happening; the daemon always takes the rings, so it is not reachable
# through the daemon here.)
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 1280 --dom0-mem 512
for i in 1 2 3 4; do
	guest "oom$i" "$((i + 30))" type=hvm memory=128 sim_profile=os=0.6,zero=0.2,dup=0.1,unique=0.1 mem_sharing=on \
		sim_write_rate=1500 sim_working_set=32768
done
write_conf <<CFG
pass_target = 1
log_level = notice
reserve = 0
dom0_balloon = on
dom0_min_memory = 64M
CFG
xsd_start || fail "daemon did not start"
wait_scans 1
saved=$(stat_value .host.sharing_freed_pages)
note "shared: $saved pages saved"
[ "$saved" -gt 20000 ] || fail "too little sharing ($saved) to exhaust anything"

# the hog: all but 8 MiB of what is free now (not opted in)
free=$(free_mib)
hog $((free - 8)) || fail "hog: $(tail -1 "$T/create.log")"
note "hog of $((free - 8)) MiB created; free now $("$XENSIM" info --json | jq -r .free_mib) MiB"

requested() { [ "$(stat_value .host.memory_requests)" -gt 0 ] 2>/dev/null; }
wait_for 60 requested || fail "no unshare ENOMEM request within 60 s (free $("$XENSIM" info --json | jq -r .free_mib) MiB)"
note "ENOMEM requests: $(stat_value .host.memory_requests); dom0 target now $("$XENSIM" xenstore-read /local/domain/0/memory/target) KiB"
sleep 5
running() { [ "$("$XENSIM" list --json | jq '[.[] | .paused_vcpus] | add')" = 0 ]; }
wait_for 30 running || fail "vCPUs still paused: $("$XENSIM" list --json | jq -c '[.[] | {name, paused_vcpus}]')"
crashed=$("$XENSIM" list --json | jq -r '[.[] | select(.crashed) | .name] | join(" ")')
[ -z "$crashed" ] || fail "crashed: $crashed"
for i in 1 2 3 4; do [ -n "$(domid_of "oom$i")" ] || fail "oom$i is gone"; done
verify_clean
alive "$XSD_PID" || fail "daemon died"
n=$(stat_value .host.memory_requests)
xsd_stop
echo "PASS: engine_enomem ($n ENOMEM requests answered, no crash)"
