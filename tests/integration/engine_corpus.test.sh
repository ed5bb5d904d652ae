#!/bin/sh
# engine_corpus: the two real guest RAM images of ../shared/corpus (Debian 12
# guests, 256 MiB each: idle, and page cache full of shared libraries) as
# two guests of one group.  Proves the real daemon reaches >= 99% of their
# ideal savings (computed by shr-ideal from the loaded pages) with zero
# mismatches.  Skipped (77) when the corpus is not there.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
CORPUS="$top/../shared/corpus"
[ -f "$CORPUS/idle.raw.zst" ] && [ -f "$CORPUS/pagecache.raw.zst" ] ||
	{ echo "SKIP: corpus not found in $CORPUS"; exit 77; }
. "$here/tools/engine_lib.sh"

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

write_conf </dev/null
xsd_start
wait_scans 2
got=$(stat .host.sharing_freed_pages)
r=$(ratio "$got" "$want")
note "$got pages saved ($r of ideal)"
at_least "$r" 0.99 || fail "savings $got < 99% of the ideal $want"
[ "$got" -le "$want" ] || fail "saved more than the ideal"
verify_clean
xsd_stop
echo "PASS: engine_corpus ($got of $want pages, $r)"
