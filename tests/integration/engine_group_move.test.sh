#!/bin/sh
# engine_group_move: dom0 moves a sharing domain to another group, in both
# directions, while the guests write.  Proves tenant isolation at frame
# level, from the hypervisor's own view of frames and their sharers
# (`xensim frames`): a domain that moves is fully unshared from its old
# group's frames before it shares anything in its new group, so no frame
# ever holds gfns of two groups, and no page is lost (verify), and the
# daemon's audit (which checks every shared frame's sharers) stays clean.
#
# Three guests of identical contents: A in group a, B and E in group b.
# E moves to a, then back to b; then A moves to b (a domain that was a
# source of its group's frames).
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 1024 --dom0-mem 64
profile="os=0.5,zero=0.15,dup=0.1,unique=0.25"
guest A 11 type=hvm memory=64 "sim_profile=$profile" mem_sharing=on mem_sharing_group=a sim_write_rate=50 sim_working_set=512
guest B 11 type=hvm memory=64 "sim_profile=$profile" mem_sharing=on mem_sharing_group=b sim_write_rate=50 sim_working_set=512
guest E 11 type=hvm memory=64 "sim_profile=$profile" mem_sharing=on mem_sharing_group=b sim_write_rate=50 sim_working_set=512
a=$(domid_of A) b=$(domid_of B) e=$(domid_of E)

write_conf <<CFG
log_level = notice
pass_target = 1
CFG
xsd_start || fail "daemon did not start"
wait_scans 2

group_of() { "$XENSIM" xenstore-read "/local/domain/$1/memshare/group"; }
move() {
	"$XENSIM" xenstore-write "/local/domain/$1/memshare/group" "$2" || fail "xenstore-write group of d$1"
	note "d$1 moved to group $2"
}

# frames_check: one look at every shared frame.  Fails on a frame whose
# sharers are in two groups, where a domain that is still leaving a group
# (it holds a frame with a domain of its old group) counts in its old
# group until it holds none.  Prints "<d>:<held group>" for moving domains.
# MOVING is the domain that moved last and OLD its old group.
frames_check() {
	"$XENSIM" frames --json > "$T/frames.json" || fail "xensim frames"
	jq -e --argjson ga "{\"$a\":\"$(group_of "$a")\",\"$b\":\"$(group_of "$b")\",\"$e\":\"$(group_of "$e")\"}" \
		--arg mv "$MOVING" --arg old "$OLD" '
		# the groups each frame spans, with the moving domain in its old
		# group while it still holds a frame with an old-group domain
		def grp(d): $ga[d | tostring];
		[.frames[] | [.gfns[].domid | tostring] | unique] as $fs
		| ($fs | map(select(index($mv) and (map(select(. != $mv and grp(.) == $old)) | length > 0))) | length > 0) as $leaving
		| [$fs[] | map(if . == $mv and $leaving then $old else grp(.) end) | unique | select(length > 1)]
		| length == 0' "$T/frames.json" >/dev/null
}

# watch_isolation SECONDS: frames_check every 0.5 s for SECONDS.
watch_isolation() {
	n=0
	while [ $n -lt $(($1 * 2)) ]; do
		frames_check || { jq -c '[.frames[] | select((.gfns | map(.domid) | unique | length) > 1)] | .[0:3]' "$T/frames.json"; fail "a frame spans two groups (after: d$MOVING left $OLD)"; }
		sleep 0.5
		n=$((n + 1))
	done
}

MOVING=$e OLD=b
frames_check || fail "frames span two groups before any move"
shr_e0=$(shr_pages_of E)
note "before the moves: E shares $shr_e0 pages"
[ "$shr_e0" -gt 1000 ] || fail "E shares almost nothing before the move: the test proves nothing"

# E: b -> a.  It must drop every frame it holds with B before it joins A.
move "$e" a
watch_isolation 10
wait_for 30 sh -c "[ \"\$('$XENSIM' frames --json | jq '[.frames[] | select(any(.gfns[]; .domid == $e) and any(.gfns[]; .domid == $a))] | length')\" -gt 100 ]" ||
	fail "E did not join group a's frames within 30 s"
watch_isolation 2
ctl_audit=$(stats >/dev/null; LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C audit)
echo "$ctl_audit" | jq -e '.ok == true' >/dev/null || fail "audit after E moved to a: $ctl_audit"

# E: a -> b, and A: a -> b at once (A held group a's frames with E).
OLD=a
move "$e" b
watch_isolation 6
MOVING=$a
move "$a" b
watch_isolation 10
wait_for 30 sh -c "[ \"\$('$XENSIM' frames --json | jq '[.frames[] | select(any(.gfns[]; .domid == $a) and any(.gfns[]; .domid == $b))] | length')\" -gt 100 ]" ||
	fail "A did not join group b's frames within 30 s"
watch_isolation 2
ctl_audit=$(LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C audit)
echo "$ctl_audit" | jq -e '.ok == true' >/dev/null || fail "audit after the moves: $ctl_audit"
verify_clean
xsd_stop
verify_clean
echo "PASS: engine_group_move"
