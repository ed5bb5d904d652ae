#!/bin/sh
# daemon_lifecycle: domains are created, paused, destroyed (also while the
# daemon is mid-pass over them) and the daemon carries on: it keeps
# answering, its domain table ends equal to the host's domain list, its
# audit is clean, nothing leaks into the xenstore mirror, and every guest
# page still reads back what the guest wrote.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 768 --dom0-mem 64
guest a1 1 mem_sharing=on
guest a2 2 mem_sharing=on
guest a3 3 mem_sharing=on
write_conf <<CFG
pass_target = 1
CFG
xsd_start || fail "daemon did not start"
pid=$(xsd_pid)

i=0
while [ $i -lt 8 ]; do
	i=$((i + 1))
	guest "b$i" $((10 + i)) mem_sharing=on
	# mid-pass: the scan of this pass has started on the existing guests
	sleep 0.3
	victim=$("$XENSIM" list --json | jq -r '[.[] | select(.domid != 0)] | .[0].name')
	"$XENSIM" destroy "$victim" >/dev/null 2>&1 || fail "xensim destroy $victim"
	live=$("$XENSIM" list --json | jq -r '[.[] | select(.domid != 0)] | .[-1].name')
	"$XENSIM" pause "$live" >/dev/null 2>&1 || fail "xensim pause $live"
	ctl ping | jtrue '.ok == true' || fail "daemon stopped answering after destroying $victim"
	"$XENSIM" unpause "$live" >/dev/null 2>&1 || fail "xensim unpause $live"
done
alive "$pid" || fail "daemon died"

want=$("$XENSIM" list --json | jq -c '[.[] | select(.domid != 0) | .domid] | sort')
same_table() { stats | jtrue "[.domains[].domid] | sort == $want"; }
wait_for 15 same_table || fail "domain table $(stats | jq -c '[.domains[].domid]') != host $want"
wait_scans 1
ctl audit | jtrue '.ok == true' || fail "audit after churn: $(ctl audit)"
"$XENSIM" verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "xensim verify found mismatches"; }
"$XENSIM" info --json | jtrue '.invariant_ok == true and .sharing_freed_pages > 0' || fail "no savings or broken invariant"

# the xenstore mirror follows the table: destroyed domains leave it
mirror_ok() {
	got=$("$XENSIM" xenstore-ls /local/domain/0/xenshared/domain 2>/dev/null | sed -n 's/^\([0-9][0-9]*\) = .*/\1/p' | sort -n | tr '\n' ' ')
	exp=$(echo "$want" | jq -r '.[]' | sort -n | tr '\n' ' ')
	[ "$got" = "$exp" ]
}
wait_for 10 mirror_ok || fail "xenstore mirror lists other domains than the host"

# turning the mirror off by reload removes it rather than leaving stale numbers
echo "xenstore_stats = off" >> "$CONF"
ctl reload | jtrue '.ok == true' || fail "reload with xenstore_stats = off"
no_mirror() { ! "$XENSIM" xenstore-read /local/domain/0/xenshared/pid >/dev/null 2>&1; }
wait_for 10 no_mirror || fail "xenstore_stats = off left the mirror in place"
sed -i '/^xenstore_stats = off/d' "$CONF"
ctl reload | jtrue '.ok == true' || fail "reload with xenstore_stats back on"
wait_for 10 mirror_ok || fail "mirror not rebuilt after turning it back on"
pass daemon_lifecycle
