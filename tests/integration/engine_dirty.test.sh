#!/bin/sh
# engine_dirty: dirty-log scanning against xensim's log-dirty model
# (docs/design.md 4b).  Four writing guests; after their first full pass
# the daemon scans them from their dirty logs.  Proves:
#  - a settled host costs what its guests write: a dirty-log pass looks at
#    a few per cent of the pages a full pass does, and the savings stay;
#  - a live save by the toolstack (`xensim save --live --checkpoint`, which
#    takes the log over as xg_sr_save.c does) loses no dirty page (its own
#    oracle) while the daemon runs, and the daemon gives the log up for
#    that domain and scans it in full;
#  - a daemon killed while it holds the logs leaves them to the next one,
#    which takes them back (memshare/held's "logdirty"); a clean stop,
#    even one before the logs were taken back, leaves no domain in
#    log-dirty mode;
#  - verify finds no wrong page, the audit is clean.
set -u
. "$(dirname "$0")/tools/engine_lib.sh"

sim_start --mem 2048 --dom0-mem 64
for i in 1 2 3 4; do
	guest "dl$i" 128 "os=0.5,zero=0.15,dup=0.1,unique=0.25" "$i" \
		sim_write_rate=40 sim_working_set=4096
done
write_conf <<CFG
pass_target = 1
scan_mode = auto
CFG
xsd_start
dirty_all() { [ "$(stat '[.domains[] | select(.logdirty == true)] | length')" = 4 ]; }
wait_for 60 dirty_all || fail "not every domain scanned from its dirty log: $(stats | jq -c '[.domains[] | {domid, logdirty, full_why}]')"
ld_on() { [ "$("$XENSIM" info --json | jq "[.domains[] | select(.logdirty)] | length")" = "$1" ]; }
ld_on 4 || fail "xensim does not show log-dirty on for the four guests"

# a settled host: dirty-log passes against what a full pass would scan
wait_scans 2
s0=$(stat .counters.pages_scanned) p0=$(stat .daemon.full_scans)
wait_scans 5
s1=$(stat .counters.pages_scanned) p1=$(stat .daemon.full_scans)
total=$("$XENSIM" info --json | jq '[.domains[] | select(.domid > 0) | .tot_pages] | add')
per_pass=$(((s1 - s0) / (p1 - p0)))
note "dirty-log passes: $per_pass pages looked at per pass, of $total"
[ "$per_pass" -lt $((total / 20)) ] || fail "a dirty-log pass looked at $per_pass pages, more than 5% of $total"
saved=$(stat .host.sharing_freed_pages)
[ "$saved" -gt $((total / 4)) ] || fail "only $saved pages saved"

# the toolstack's live save of dl1 while the daemon holds its log
id1=$(domid_of dl1)
"$XENSIM" save --live --checkpoint dl1 "$T/dl1.save" > "$T/save.out" 2>&1 ||
	fail "xensim save lost dirty pages or failed: $(tail -3 "$T/save.out")"
taken() { [ "$(stat ".domains[] | select(.domid == $id1) | .logdirty")" = false ]; }
wait_for 20 taken || fail "the daemon still scans d$id1 from a log the save took"
note "after the save: d$id1 $(stats | jq -c ".domains[] | select(.domid == $id1) | {logdirty, full_why}"); logdirty_lost $(stat .counters.logdirty_lost)"
[ "$(stat .counters.logdirty_lost)" -ge 1 ] || fail "logdirty_lost did not count the takeover"
verify_clean

# kill -9 while the logs are held: the next daemon takes them back
ld_on 3 || fail "log-dirty not on for the other three guests"
kill -9 "$XSD_PID"; wait "$XSD_PID" 2>/dev/null; XSD_PID=
ld_on 3 || fail "log-dirty gone with the killed daemon?"
xsd_start
all_back() { [ "$(stat '[.domains[] | select(.logdirty == true)] | length')" = 4 ] 2>/dev/null; }
wait_for 60 all_back || fail "the restarted daemon did not take its dirty logs back: $(stats | jq -c '[.domains[] | {domid, logdirty, full_why}]')"
ctl_audit=$(LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C audit)
echo "$ctl_audit" | jq -e '.ok == true' >/dev/null || fail "audit: $ctl_audit"
xsd_stop
ld_on 0 || fail "a clean stop left log-dirty on: $("$XENSIM" info --json | jq -c '[.domains[] | {domid, logdirty}]')"

# killed again, and the next daemon stopped as soon as it is up (before
# its first pass took the logs back): it still turns them off
xsd_start
wait_for 60 all_back || fail "log-dirty not taken again"
kill -9 "$XSD_PID"; wait "$XSD_PID" 2>/dev/null; XSD_PID=
xsd_start
xsd_stop
ld_on 0 || fail "a daemon stopped before taking the logs back left log-dirty on: $("$XENSIM" info --json | jq -c '[.domains[] | {domid, logdirty}]')"
verify_clean
echo "PASS: engine_dirty ($per_pass of $total pages per settled pass)"
