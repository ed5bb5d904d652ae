#!/bin/sh
# engine_batched: the same OS-image mix on a patched host (hypervisor-patch/:
# the batched compare-and-share op).  Proves the daemon picks the batched
# protocol by itself, reaches >= 99% of the ideal savings with zero
# mismatches, and needs at most 0.05 hypercalls per merged page.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB" "$IDEAL"

sim_start --mem 1024 --dom0-mem 64 --patched
for i in 1 2 3 4; do
	guest "mix$i" "$((i + 10))" type=hvm memory=64 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 sim_write_rate=0 mem_sharing=on
done
doms=$(for i in 1 2 3 4; do printf '%s ' "$(domid_of "mix$i")"; done)
want=$(ideal $doms | jq -r .ideal) || fail "shr-ideal"
note "ideal savings: $want pages"

write_conf "pass_target = 1" "log_level = notice"
xsd_start || fail "daemon did not start"
wait_scans 2
got=$(stat_value .host.sharing_freed_pages)
calls=$(stat_value .counters.hypercalls)
r=$(ratio "$got" "$want")
per=$(ratio "$calls" "$got")
note "$got pages saved ($r of ideal), protocol $(stat_value .daemon.protocol), $calls hypercalls ($per per merged page)"
[ "$(stat_value .daemon.protocol)" = batched ] || fail "patched host but protocol $(stat_value .daemon.protocol)"
! grep -q "no xenshare series" "$T/daemon.err" || fail "patched host, yet the stock-hypervisor warning"
at_least "$r" 0.99 || fail "savings $got < 99% of the ideal $want"
[ "$got" -le "$want" ] || fail "saved more than the ideal"
at_least 0.05 "$per" || fail "$per hypercalls per merged page (target <= 0.05)"
verify_clean
alive "$XSD_PID" || fail "daemon died"
xsd_stop
echo "PASS: engine_batched ($got of $want pages, $per hypercalls/page)"
