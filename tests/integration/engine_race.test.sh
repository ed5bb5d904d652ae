#!/bin/sh
# engine_race: guests rewriting their pages at a high rate while the daemon
# scans and shares (upstream protocol, the one with a window between
# nominate and share).  Writes land on pages the engine has just
# fingerprinted, is comparing and is nominating; each such share must fail
# (compare mismatch or handle invalid), never merge stale contents.
# Random writes almost never land between nominate and share (8 handle
# races in 1.6*10^5 attempts when measured), so half of every guest's
# writes are aimed (sim_write_aim) at the 64 gfns xensim saw nominated
# last: those hit the window (about 3000 handle races per run).
# Proves: over >= 10^5 share attempts, with >= 100 of them raced by a guest
# write after nomination (counters.share_raced), xensim's oracle finds zero
# guest pages different from what the guest last wrote, the engine audit
# stays clean and the daemon survives.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 2100 --dom0-mem 64
for i in 1 2 3 4; do
	guest "race$i" "$((i + 20))" type=hvm memory=400 sim_profile=os=0.5,zero=0.15,dup=0.1,unique=0.25 mem_sharing=on \
		vcpus=2 sim_write_rate=3000 sim_working_set=102400 sim_write_aim='"0.5"'
done

# Every broken share is offered again at once (no backoff): the most
# share attempts under the writers, which is what this test is about.
write_conf <<CFG
pass_target = 1
log_level = notice
volatility_backoff = off
CFG
xsd_start || fail "daemon did not start"
# The issue's bar, 10^5 attempts, is proven by the release run.  Under
# ASan+UBSan the same workload levels off near 9*10^4 attempts (the engine
# no longer makes share calls for pairs already on one frame, and the
# sanitized daemon races the writers less often), so that run, which is
# there for memory safety under the same races, asks for 5*10^4.
min=100000
[ "${VARIANT:-release}" = san ] && min=50000
enough() { [ "$(stat_value .counters.share_attempts)" -ge "$min" ] 2>/dev/null; }
wait_for 180 enough || fail "fewer than $min share attempts in 180 s ($(stat_value .counters.share_attempts))"
wait_scans 1 30
s=$(stats)
attempts=$(echo "$s" | jq .counters.share_attempts)
raced=$(echo "$s" | jq .counters.share_raced)
[ "$attempts" -ge "$min" ] || fail "share attempts $attempts < $min"
# > 0 would prove races happened; random writes alone reach ~10, so >= 100
# also proves the aimed writes hit the nominate..share window.
[ "$raced" -ge 100 ] || fail "only $raced shares raced by a guest write: the aimed writes missed the window"
note "share attempts $(echo "$s" | jq .counters.share_attempts), compare mismatches $(echo "$s" | jq .counters.compare_mismatch), handle races $(echo "$s" | jq .counters.share_raced), unshares seen $(echo "$s" | jq .counters.unshares), volatile $(echo "$s" | jq .counters.pages_volatile)"
[ "$(echo "$s" | jq .counters.unshares)" -gt 0 ] || fail "no unshares observed: the writers did not hit shared pages"
verify_clean
LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C audit | jq -e '.engine_violations == 0' >/dev/null ||
	fail "engine audit not clean"
alive "$XSD_PID" || fail "daemon died"
writes=$("$XENSIM" list --json | jq '[.[] | .writes // 0] | add')
note "guest writes during the test: $writes"
xsd_stop
echo "PASS: engine_race (0 mismatches over $attempts share attempts, $raced raced)"
