#!/bin/sh
# engine_osmix: 4 guests with a generated OS-image mix (half OS pages shared
# across guests, zero pages, in-guest duplicates, unique pages) on an
# unpatched host (upstream protocol: nominate, compare, share).  Proves the
# real daemon reaches >= 99% of the ideal savings, computed independently by
# shr-ideal from the distinct page contents, that most of it comes in the
# first full pass, that xensim's oracle finds no page different from what
# its guest wrote, and that the engine's own audit is clean.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB" "$IDEAL"

sim_start --mem 1024 --dom0-mem 64
for i in 1 2 3 4; do
	guest "mix$i" "$i" type=hvm memory=64 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 sim_write_rate=0 mem_sharing=on
done
doms=$(for i in 1 2 3 4; do printf '%s ' "$(domid_of "mix$i")"; done)
ideal_json=$(ideal $doms) || fail "shr-ideal"
want=$(echo "$ideal_json" | jq -r .ideal)
note "ideal savings: $want pages of $(echo "$ideal_json" | jq -r .pages)"
[ "$want" -gt 10000 ] || fail "the mix has too few duplicates to prove anything ($want)"

write_conf "pass_target = 1" "log_level = notice"
xsd_start || fail "daemon did not start"
wait_scans 1
first=$(stat_value .host.sharing_freed_pages)
note "after the first full pass: $first pages saved ($(ratio "$first" "$want") of ideal)"
wait_scans 2
got=$(stat_value .host.sharing_freed_pages)
r=$(ratio "$got" "$want")
note "after three passes: $got pages saved ($r of ideal), protocol $(stat_value .daemon.protocol)"
[ "$(stat_value .daemon.protocol)" = upstream ] || fail "unpatched host but protocol $(stat_value .daemon.protocol)"
at_least "$r" 0.99 || fail "savings $got < 99% of the ideal $want"
at_least "$(ratio "$first" "$want")" 0.90 || fail "first pass reached only $first of $want"
[ "$got" -le "$want" ] || fail "saved $got pages, more than the ideal $want: pages of different content merged"
verify_clean
LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C audit | jq -e '.engine_violations == 0' >/dev/null ||
	fail "engine audit: $(LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C audit)"
alive "$XSD_PID" || fail "daemon died"
xsd_stop
echo "PASS: engine_osmix ($got of $want pages, $r)"
