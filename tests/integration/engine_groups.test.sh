#!/bin/sh
# engine_groups: four guests with byte-identical contents, two in sharing
# group "a" and two in group "b".  Proves no frame is shared across groups:
# for every page the hypervisor's count of gfns on its frame never exceeds
# the number of identical pages inside the page's own group (shr-ideal
# --check-sharers), the savings equal the per-group ideal (not the larger
# cross-group one), and verify finds no mismatch.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB" "$IDEAL"

sim_start --mem 1024 --dom0-mem 64
guest ga1 7 type=hvm memory=48 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=a
guest ga2 7 type=hvm memory=48 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=a
guest gb1 7 type=hvm memory=48 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=b
guest gb2 7 type=hvm memory=48 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=b
a1=$(domid_of ga1) a2=$(domid_of ga2) b1=$(domid_of gb1) b2=$(domid_of gb2)
per_group=$(ideal "$a1:a" "$a2:a" "$b1:b" "$b2:b" | jq -r .ideal) || fail "shr-ideal"
merged=$(ideal "$a1" "$a2" "$b1" "$b2" | jq -r .ideal) || fail "shr-ideal"
note "ideal: $per_group pages within groups, $merged if groups were ignored"
[ "$merged" -gt "$per_group" ] || fail "contents not identical across groups: the test proves nothing"

write_conf "pass_target = 1" "log_level = notice"
xsd_start || fail "daemon did not start"
wait_scans 2
got=$(stat_value .host.sharing_freed_pages)
note "$got pages saved"
[ "$got" -le "$per_group" ] || fail "saved $got > $per_group: pages merged across groups"
at_least "$(ratio "$got" "$per_group")" 0.99 || fail "savings $got < 99% of the per-group ideal $per_group"
out=$(ideal --check-sharers "$a1:a" "$a2:a" "$b1:b" "$b2:b") || fail "frames shared across groups: $out"
[ "$(echo "$out" | jq -r .sharer_violations)" = 0 ] || fail "sharer check: $out"
verify_clean
xsd_stop
echo "PASS: engine_groups ($got pages saved, 0 frames across groups)"
