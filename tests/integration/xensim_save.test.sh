#!/bin/sh
# `xensim save`, the toolstack's save (xg_sr_save.c) through the drop-in
# libraries, and its oracle:
#  - a live checkpoint save of a guest writing 1000 pages/s loses no dirty
#    page (the image equals the paused guest), turns log-dirty off and
#    leaves the guest running; the guest paid log-dirty write faults;
#  - a save meeting another holder of log-dirty mode takes it over (OFF,
#    then ENABLE) and still loses nothing;
#  - a second log-dirty user CLEANing while the save runs steals its dirty
#    bits: the oracle reports the lost pages and the save exits 3 (the
#    oracle can fail) -- unless that user hands each CLEAN's bits back with
#    xendevicemodel_modified_memory(), when nothing is lost;
#  - a non-live save destroys the guest; its image restores with `xensim
#    create ... sim_image=` and saves again to the same bytes; a non-live
#    save ends another user's log-dirty mode too (xg_sr_save.c's cleanup);
#  - bad requests fail cleanly and leave the guest running: no such
#    domain, dom0, a FIFO as FILE, a live save of a PV guest (Debian's Xen
#    has no shadow paging: no log-dirty for PV).
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XENSIM" "$SIMLIB" "$O/tests/simlibs_probe" "$O/bin/xensim-save"
info_of() { "$XENSIM" info --json | jq -r ".domains[] | select(.name == \"$1\") | .$2"; }
state_of() { "$XENSIM" list --json | jq -r ".[] | select(.name == \"$1\") | .state"; }
logdirty_on() { [ "$(info_of "$1" logdirty)" = true ]; }
# jqf FILE FILTER: jq -e on a file, failing the test with the file shown
jqf() { jq -e "$2" "$1" >/dev/null || fail "$1: expected $2: $(cat "$1")"; }

"$XENSIM" start --mem 1024 --dom0-mem 64 >/dev/null || fail "start"
# 256 MiB, half of it data: the first round of a live save takes long
# enough for a second log-dirty user to run inside the save's live phase
cat >"$T/w.cfg" <<EOF
name = "w"
type = "pvh"
memory = 256
vcpus = 2
sim_profile = "os=0,zero=0.5,dup=0,unique=0.5"
sim_write_rate = 1000
sim_working_set = 32768
EOF
printf 'name = "p"\ntype = "pv"\nmemory = 16\nsim_write_rate = 200\n' >"$T/p.cfg"
"$XENSIM" create "$T/w.cfg" >/dev/null 2>&1 || fail "create w"
"$XENSIM" create "$T/p.cfg" >/dev/null 2>&1 || fail "create p"
w=$(domid_of w) p=$(domid_of p)
wait_for 10 sh -c "[ \$(\"$XENSIM\" list --json | jq '.[] | select(.name == \"w\") | .writes') -gt 100 ]" ||
	fail "w does not write"

# 1. live checkpoint save of a writing guest: nothing lost, guest runs on
"$XENSIM" save --live --checkpoint --json w "$T/img" >"$T/s1" 2>"$T/s1.err" ||
	fail "live checkpoint save: exit $?: $(cat "$T/s1" "$T/s1.err")"
jqf "$T/s1" '.ok and .lost == 0 and .live and .checkpoint and (.took_over | not) and
	.rounds >= 2 and .first_round == 65536 and .checked > 0 and .image_pages <= 65536'
[ "$(state_of w)" = "r-----" ] || fail "w not running after a checkpoint save: $(state_of w)"
logdirty_on w && fail "log-dirty still on after the save"
[ "$(info_of w logdirty_faults)" -gt 0 ] || fail "no log-dirty fault during a live save"
[ "$(wc -c <"$T/img")" -le $((256 * 1048576)) ] || fail "image larger than the guest's memory"

# 2. someone holds log-dirty mode: the save takes it over
[ "$(sim_probe logdirty-enable "$w")" = ok ] || fail "probe enable"
[ "$(sim_probe logdirty-enable "$w")" = "errno 22" ] || fail "second enable not EINVAL"
rm -f "$T/img"
"$XENSIM" save --live --checkpoint --json w "$T/img" >"$T/s2" 2>"$T/s2.err" ||
	fail "save over another log-dirty user: exit $?: $(cat "$T/s2" "$T/s2.err")"
jqf "$T/s2" '.ok and .took_over and .lost == 0'
logdirty_on w && fail "log-dirty still on after the take-over"

# 3. a second user CLEANs while the save runs.  thief MODE: run a live
# save with the thief inside its live phase (the thief starts once the
# save turned log-dirty on and must end before the save pauses the guest,
# or the run says nothing about give-back: it is repeated).  Without
# give-back, a run also says nothing when the guest wrote every stolen
# page again before the save ended (a page written again is sent again,
# so nothing is lost): on a slow host the live phase is long enough for
# that, and the run is repeated too.
thief() {
	for attempt in 1 2 3 4 5; do
		rm -f "$T/img"   # (ext4 flushes a file truncated by O_TRUNC: slow, and not the test)
		"$XENSIM" save --live --checkpoint --json w "$T/img" >"$T/save" 2>"$T/save.err" &
		spid=$!
		i=0
		until logdirty_on w; do
			i=$((i + 1))
			[ "$i" -lt 1000 ] || fail "the save never turned log-dirty on"
			sleep 0.01
		done
		sim_probe logdirty-thief "$w" 100 "$@" >"$T/thief.out" || fail "thief: $(cat "$T/thief.out")"
		tail -1 "$T/thief.out" >"$T/thief"
		wait "$spid"
		src=$?
		if ! jq -e '.stolen > 0 and (.paused_at_end | not)' <"$T/thief" >/dev/null; then
			echo "  (attempt $attempt: the thief did not run inside the live phase: $(tail -1 "$T/thief"))"
			continue
		fi
		{ [ "$#" -gt 0 ] || [ "$src" != 0 ] || ! jq -e '.lost == 0' "$T/save" >/dev/null; } && return 0
		echo "  (attempt $attempt: the guest wrote every stolen page again before the save ended: $(tail -1 "$T/thief"))"
	done
	fail "no attempt ran the thief inside a save's live phase with a stolen page left to lose"
}
thief
[ "$src" = 3 ] || fail "a save that lost dirty pages exited $src: $(cat "$T/save" "$T/save.err")"
jqf "$T/save" '(.ok | not) and .lost > 0 and (.lost_gfns | length) > 0'
grep -q "lost .* dirty pages" "$T/save.err" || fail "no loud failure: $(cat "$T/save.err")"
[ "$(state_of w)" = "r-----" ] || fail "w not running after a failed save: $(state_of w)"
note "a CLEANing second user: $(jq -c '{stolen}' "$T/thief"), the oracle found $(jq .lost "$T/save") lost pages"
thief giveback
[ "$src" = 0 ] || fail "a save whose bits were given back exited $src: $(cat "$T/save" "$T/save.err")"
jqf "$T/save" '.ok and .lost == 0'
jq -e '.given_back == .stolen' <"$T/thief" >/dev/null || fail "thief: $(cat "$T/thief")"
note "the same user giving its bits back: $(jq -c '{stolen, given_back}' "$T/thief"), nothing lost"
"$XENSIM" verify >/dev/null || fail "verify after the saves"

# 4. non-live save: the guest goes; its image restores and saves again the same
rm -f "$T/img"
"$XENSIM" save w "$T/img" >"$T/s4" 2>&1 || fail "save: $(cat "$T/s4")"
grep -q "oracle: 0 of [0-9]* pages of the image differ" "$T/s4" || fail "save output: $(cat "$T/s4")"
[ -z "$(domid_of w)" ] || fail "w still exists after a save without --checkpoint"
printf 'name = "r"\ntype = "pvh"\nmemory = 256\nsim_image = "%s"\n' "$T/img" >"$T/r.cfg"
"$XENSIM" create "$T/r.cfg" >"$T/e" 2>&1 || fail "restore from the image: $(cat "$T/e")"
r=$(domid_of r)
[ "$(sim_probe logdirty-enable "$r")" = ok ] || fail "probe enable on r"
"$XENSIM" save --checkpoint r "$T/img2" >"$T/s5" 2>&1 || fail "save of the restored guest: $(cat "$T/s5")"
logdirty_on r && fail "a non-live save leaves another user's log-dirty mode on (xg_sr_save.c's cleanup ends it)"
cmp -s "$T/img" "$T/img2" || fail "the restored guest saves to other bytes"
"$XENSIM" verify >/dev/null || fail "verify after the restore"

# 5. bad requests: a clean error, the guest untouched
"$XENSIM" save nosuch "$T/x" >"$T/e" 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q 'no domain named or numbered "nosuch"' "$T/e" || fail "missing domain: exit $rc: $(cat "$T/e")"
"$XENSIM" save 0 "$T/x" >"$T/e" 2>&1; rc=$?
[ "$rc" = 2 ] || fail "save of dom0: exit $rc: $(cat "$T/e")"
"$XENSIM" save r >"$T/e" 2>&1; rc=$?
[ "$rc" = 2 ] || fail "save without FILE: exit $rc"
mkfifo "$T/fifo"
"$XENSIM" save --checkpoint r "$T/fifo" >"$T/e" 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q "not a regular file" "$T/e" || fail "FIFO as FILE: exit $rc: $(cat "$T/e")"
[ "$(state_of r)" = "r-----" ] || fail "r not running after a refused save: $(state_of r)"
"$XENSIM" save --live --checkpoint p "$T/pv" >"$T/e" 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q "log-dirty mode of d$p" "$T/e" || fail "live save of a PV guest: exit $rc: $(cat "$T/e")"
[ "$(state_of p)" = "r-----" ] || fail "p not running after a failed save: $(state_of p)"
"$XENSIM" save --checkpoint p "$T/pv" >"$T/e" 2>&1 || fail "non-live save of a PV guest: $(cat "$T/e")"
[ "$(wc -c <"$T/pv")" = $((16 * 1048576)) ] || fail "PV image: $(wc -c <"$T/pv") bytes"
"$XENSIM" verify >/dev/null || fail "verify at the end"
echo "PASS: xensim_save"
