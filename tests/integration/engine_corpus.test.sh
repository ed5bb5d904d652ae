#!/bin/sh
# engine_corpus: the two real guest RAM images of ../shared/corpus (Debian 12
# guests, 256 MiB each: idle, and page cache full of shared libraries) as
# two guests of one group.  Proves the real daemon reaches >= 99% of their
# ideal savings (computed by shr-ideal from the loaded pages) with zero
# mismatches.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB" "$IDEAL"
need_corpus idle pagecache

sim_start --mem 1024 --dom0-mem 64
for img in idle pagecache; do
	cat > "$T/$img.cfg" <<CFG
name = "$img"
type = "hvm"
memory = 256
vcpus = 1
mem_sharing = "on"
sim_image = "$CORPUS/$img.raw.zst"
CFG
	"$XENSIM" create "$T/$img.cfg" >>"$T/create.log" 2>&1 || fail "xensim create $img: $(tail -1 "$T/create.log")"
done
d1=$(domid_of idle) d2=$(domid_of pagecache)
want=$(ideal "$d1" "$d2" | jq -r .ideal) || fail "shr-ideal"
note "ideal savings of the two images: $want pages"
[ "$want" -gt 50000 ] || fail "ideal $want: images not loaded as expected"

write_conf "pass_target = 1" "log_level = notice"
xsd_start || fail "daemon did not start"
wait_scans 2
got=$(stat_value .host.sharing_freed_pages)
r=$(ratio "$got" "$want")
note "$got pages saved ($r of ideal)"
at_least "$r" 0.99 || fail "savings $got < 99% of the ideal $want"
[ "$got" -le "$want" ] || fail "saved more than the ideal"
verify_clean
xsd_stop
echo "PASS: engine_corpus ($got of $want pages, $r)"
