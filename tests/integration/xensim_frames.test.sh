#!/bin/sh
# `xensim frames`: the list of shared frames, built by hand through the
# drop-in libxenctrl (simlibs_probe nominate/share, as a daemon would), is
# exactly what was built -- a frame shared by three domains, one shared by
# two gfns of one domain, one nominated and never merged -- in both output
# forms, agrees with `xensim info`'s counters, and lets frames_across_groups
# (common.sh) find the one frame whose sharers are in two sharing groups,
# and none once that tenant is gone.  Exit 0 pass, 77 skip, else fail.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XENSIM" "$SIMLIB" "$O/tests/simlibs_probe"

"$XENSIM" start --mem 512 --dom0-mem 64 >/dev/null || fail "start"
for g in a:blue b:blue c:red; do
	name=${g%%:*}
	printf 'name = "%s"\ntype = "pvh"\nmemory = 16\nmem_sharing = "on"\nmem_sharing_group = "%s"\n' \
		"$name" "${g#*:}" >"$T/$name.cfg"
	"$XENSIM" create "$T/$name.cfg" >/dev/null 2>&1 || fail "create $name"
done
a=$(domid_of a) b=$(domid_of b) c=$(domid_of c)

[ "$("$XENSIM" frames --json | jq '.nr_frames')" = 0 ] || fail "frames before any sharing: $("$XENSIM" frames --json)"
# (all pages are zero: sharing any two is correct, and verify agrees below)
sim_probe share "$c" 9 "$a" 3 >/dev/null || fail "share c:9 a:3"
h3=$(sim_probe share "$c" 9 "$b" 12 | awk '/^handle/ { print $2 }')
[ -n "$h3" ] || fail "share c:9 b:12"
sim_probe share "$b" 4 "$b" 5 >/dev/null || fail "share b:4 b:5"
hn=$(sim_probe nominate "$a" 7 | awk '/^handle/ { print $2 }')
[ -n "$hn" ] || fail "nominate a:7"

"$XENSIM" frames --json >"$T/f.json" || fail "frames --json"
jq -e . "$T/f.json" >/dev/null || fail "frames --json is not JSON: $(cat "$T/f.json")"
jq -e '.nr_frames == 3 and .nr_sharers == 6 and (.frames | length) == 3' "$T/f.json" >/dev/null ||
	fail "expected 3 frames, 6 sharers: $(cat "$T/f.json")"
jq -e '[.frames[].mfn] == ([.frames[].mfn] | sort)' "$T/f.json" >/dev/null || fail "frames not by mfn"
jq -e --argjson a "$a" --argjson b "$b" --argjson c "$c" --argjson h "$h3" \
	'[.frames[] | select(.sharers == 3)] | length == 1 and .[0].handle == $h and
	 .[0].gfns == [{"domid": $a, "gfn": 3}, {"domid": $b, "gfn": 12}, {"domid": $c, "gfn": 9}]' \
	"$T/f.json" >/dev/null || fail "the three-domain frame: $(cat "$T/f.json")"
jq -e --argjson b "$b" '[.frames[] | select(.sharers == 2)] | length == 1 and
	.[0].gfns == [{"domid": $b, "gfn": 4}, {"domid": $b, "gfn": 5}]' "$T/f.json" >/dev/null ||
	fail "the one-domain frame: $(cat "$T/f.json")"
jq -e --argjson a "$a" --argjson h "$hn" '[.frames[] | select(.sharers == 1)] | length == 1 and
	.[0].handle == $h and .[0].gfns == [{"domid": $a, "gfn": 7}]' "$T/f.json" >/dev/null ||
	fail "the nominated frame: $(cat "$T/f.json")"

# the text form: a header, then one line per frame with the same facts
"$XENSIM" frames >"$T/f.txt" || fail "frames"
head -1 "$T/f.txt" | grep -q '^MFN *Handle *Sharers *Domain:gfn' || fail "header: $(head -1 "$T/f.txt")"
[ "$(wc -l <"$T/f.txt")" = 4 ] || fail "expected 4 lines: $(cat "$T/f.txt")"
grep -Eq "^0x[0-9a-f]+ +$h3 +3  $a:0x3 $b:0xc $c:0x9\$" "$T/f.txt" || fail "three-way line: $(cat "$T/f.txt")"
grep -Eq "^0x[0-9a-f]+ +$hn +1  $a:0x7\$" "$T/f.txt" || fail "nominated line: $(cat "$T/f.txt")"

# the same facts as the counters: sharers = sum(shr_pages), one-sharer frames = nominated_unshared
"$XENSIM" info --json >"$T/i.json" || fail "info"
[ "$(jq '.sum_shr_pages' "$T/i.json")" = 6 ] || fail "sum_shr_pages: $(cat "$T/i.json")"
[ "$(jq '.nominated_unshared' "$T/i.json")" = 1 ] || fail "nominated_unshared: $(cat "$T/i.json")"
[ "$(jq '.sharing_used_frames' "$T/i.json")" = 3 ] || fail "used frames: $(cat "$T/i.json")"

# isolation: the three-way frame spans blue and red, nothing else does
frames_across_groups >"$T/cross" || fail "frames_across_groups: host unreachable"
[ "$(wc -l <"$T/cross")" = 1 ] || fail "expected one cross-group frame: $(cat "$T/cross")"
jq -e --argjson h "$h3" '.handle == $h and .groups == ["blue", "red"]' "$T/cross" >/dev/null ||
	fail "cross-group frame: $(cat "$T/cross")"
"$XENSIM" destroy c || fail "destroy c"
frames_across_groups >"$T/cross" || fail "frames_across_groups after destroy"
[ ! -s "$T/cross" ] || fail "c is gone, yet: $(cat "$T/cross")"
"$XENSIM" frames --json >"$T/f2.json" || fail "frames after destroy"
jq -e --argjson h "$h3" '[.frames[] | select(.handle == $h)][0].sharers == 2' "$T/f2.json" >/dev/null ||
	fail "c's reference was not dropped: $(cat "$T/f2.json")"
"$XENSIM" verify >/dev/null || fail "verify"
echo "PASS: xensim_frames"
