#!/bin/sh
# daemon_kill9: the daemon killed with SIGKILL at random moments (mid-scan,
# mid-share) restarts at once over its stale pidfile and socket, no guest
# page is ever wrong (xensim verify), the savings come back, and the
# restarted daemon's audit is clean, no frame stays foreign-mapped after a
# kill and nominated-but-unmerged frames do not pile up across kills.
# Then SIGTERM stops it cleanly: socket, pidfile and xenstore mirror
# removed, exit status 0.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 768 --dom0-mem 64
for n in 1 2 3 4; do guest "k$n" "$n" mem_sharing=on; done
write_conf <<CFG
pass_target = 1
CFG
freed() { "$XENSIM" info --json | jq -r '.sharing_freed_pages'; }
residue() { "$XENSIM" info --json | jq -r ".$1"; }
no_mappings() { [ "$(residue foreign_mappings)" = 0 ]; }

# the first start as an init script does it: the command returns 0 once ready
xsd_start_daemonised || fail "daemonised start did not report success"
ctl ping | jtrue '.ok == true' || fail "daemonised daemon does not answer"
wait_scans 2
f0=$(freed)
[ "$f0" -gt 0 ] || fail "nothing shared before the kills"
note "freed pages after 2 passes: $f0"
nu0=$(residue nominated_unshared)
note "nominated but unmerged frames with the first daemon running: $nu0"

round=0
while [ $round -lt 6 ]; do
	round=$((round + 1))
	pid=$(xsd_pid)
	# 0.05 .. 1.55 s into the run: at start-up, mid-scan or mid-merge
	sleep "$(awk -v s="$round$$" 'BEGIN { srand(s); printf "%.2f", 0.05 + rand() * 1.5 }')"
	mapped=$(residue foreign_mappings)
	kill -9 "$pid" 2>/dev/null || fail "round $round: daemon $pid was not running"
	wait_for 5 dead "$pid" || fail "round $round: kill -9 did not kill $pid"
	# xensim drops a client's mappings when it sees the connection close
	wait_for 5 no_mappings || fail "round $round: $(residue foreign_mappings) frames still mapped after kill -9"
	note "round $round: frames mapped just before the kill: $mapped, now 0; nominated but unmerged: $(residue nominated_unshared)"
	[ -S "$T/run/control.sock" ] || note "round $round: no stale socket left (fine)"
	"$XENSIM" verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "round $round: mismatches after kill -9"; }
	"$XENSIM" info --json | jtrue '.invariant_ok == true' || fail "round $round: sharing counters inconsistent"
	xsd_start || fail "round $round: restart over the stale pidfile/socket failed"
	ctl ping | jtrue '.ok == true' || fail "round $round: restarted daemon does not answer"
done

wait_scans 2
f1=$(freed)
note "freed pages after 6 kills and 2 passes: $f1"
[ "$f1" -ge $((f0 * 95 / 100)) ] || fail "savings not recovered: $f1 < 95% of $f0"
# the last daemon found what its predecessors shared (pairs already on one
# frame need no share call) and knows it: its own count is not zero
stats_true '([.domains[].pages_sharing] | add) > 0' || fail "the last daemon learned no share"
ctl audit | jtrue '.ok == true' || fail "audit after restarts: $(ctl audit)"
# No leaked nominations.  A nominated frame nobody merges stays shared
# with one sharer until its guest writes it (Xen behaves the same), so
# each kill may strand at most the chunk being merged (SHR_MERGE_CHUNK =
# 64 pairs, 128 frames), and a restarted daemon that finds such a page
# again re-nominates it (getting its handle back) and merges it.  So after
# 6 kills and 2 clean passes the count must not exceed what the first
# daemon held while running plus one chunk's worth; a leak per kill would
# grow it by up to 128 frames per round.
nu1=$(residue nominated_unshared)
note "nominated but unmerged frames after 6 kills and 2 passes: $nu1 (first run: $nu0)"
[ "$nu1" -le $((nu0 + 128)) ] || fail "nominations leaked: $nu1 frames nominated and unmerged, first run had $nu0"
"$XENSIM" verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "mismatches at the end"; }

# SIGTERM: clean stop
"$XENSIM" xenstore-read /local/domain/0/xenshared/pid >/dev/null 2>&1 || fail "no xenstore mirror while running"
pid=$(xsd_pid)
kill -TERM "$pid"
wait_for 10 dead "$pid" || fail "SIGTERM did not stop the daemon"
wait_for 5 no_mappings || fail "$(residue foreign_mappings) frames still mapped after SIGTERM"
[ ! -e "$T/run/control.sock" ] || fail "SIGTERM left the control socket"
[ ! -e "$T/run/xenshared.pid" ] || fail "SIGTERM left the pidfile"
"$XENSIM" xenstore-read /local/domain/0/xenshared/pid >/dev/null 2>&1 && fail "SIGTERM left the xenstore mirror"
"$XENSIM" verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "mismatches after SIGTERM"; }

# in the foreground (as under systemd) SIGTERM gives exit status 0
LD_LIBRARY_PATH="$SIMLIB" "$XSD" -d -f "$CONF" 2>"$T/fg.err" &
fg=$!
wait_for 10 sh -c "'$XSD' -f '$CONF' -C ping >/dev/null 2>&1" || fail "foreground daemon did not come up"
kill -TERM "$fg"
wait "$fg"
rc=$?
[ $rc -eq 0 ] || { cat "$T/fg.err"; fail "SIGTERM in the foreground: exit status $rc"; }
grep -q "notice: stopped" "$T/fg.err" || fail "foreground daemon did not log its clean stop"
pass daemon_kill9
